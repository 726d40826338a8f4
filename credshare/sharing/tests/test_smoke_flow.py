from django.urls import reverse

from credshare.sharing.models import Share


def test_zoe_shares_her_transcript_with_ecole(client, zoe, zoe_transcript, ecole, camille):
    client.force_login(zoe)
    page = client.get(reverse("sharing:with_organization"), {"documents": zoe_transcript.pk})
    assert page.status_code == 200
    token = page.context["form"].initial["submission_token"]
    response = client.post(
        reverse("sharing:with_organization"),
        {
            "documents": [zoe_transcript.pk],
            "recipient": "ecole-imaginaire",
            "name": "Partage001",
            "purpose": "Demande d'admission",
            "reference": "Réf1234",
            "field_application_number": "A-77",
            "confirm_credit_use": "on",
            "submission_token": str(token),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    share = Share.objects.get()
    client.force_login(camille)
    inbox = client.get(reverse("inbox:list"))
    assert "Réf1234" in inbox.content.decode()
    opened = client.get(reverse("inbox:share", args=[share.pk]))
    assert opened.status_code == 200
    pdf = client.get(reverse("inbox:download", args=[share.pk, zoe_transcript.pk]))
    assert pdf.status_code == 200
