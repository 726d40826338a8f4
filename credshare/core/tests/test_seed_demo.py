from django.core.management import call_command

from credshare.accounts.models import User
from credshare.billing.models import CreditEntry
from credshare.billing.selectors import credit_balances, locked_document_ids
from credshare.documents.models import Document, DocumentVersion
from credshare.network.models import Organization, ShareField


def counts() -> dict[str, int]:
    models = [User, Organization, ShareField, Document, DocumentVersion, CreditEntry]
    return {model.__name__: model.objects.count() for model in models}


def test_the_demo_loads_what_the_readme_promises(db):
    call_command("seed_demo", verbosity=0)

    zoe = User.objects.get(email="zoe@example.org")
    assert zoe.full_name == "Zoé Citoyenne"
    assert zoe.check_password("credshare-demo-2026")
    ecole = Organization.objects.get(slug="ecole-imaginaire", is_receiver=True)
    assert ecole.description_fr == (
        "École Imaginaire est une école de test à des fins de démonstration."
    )
    fields = list(ecole.share_fields.values_list("required", flat=True))
    assert sorted(fields) == [False, True]
    assert zoe.documents.filter(document_type=Document.Type.TRANSCRIPT).exists()
    university = Organization.objects.get(slug="example-university")
    assert credit_balances(learner=zoe, issuer_ids=[university.pk]) == {university.pk: 1}
    staff = User.objects.get(email="admissions@ecole-imaginaire.example")
    assert staff.memberships.filter(organization=ecole).exists()
    assert Organization.objects.filter(is_receiver=True, listed_in_directory=False).exists()
    assert list(university.bundles.values_list("quantity", flat=True)) == [1, 3, 10]
    diploma = zoe.documents.get(issuer__slug="boreal-institute")
    assert locked_document_ids(documents=[diploma]) == {diploma.pk}


def test_loading_the_demo_twice_changes_nothing(db):
    call_command("seed_demo", verbosity=0)
    first = counts()

    call_command("seed_demo", verbosity=0)

    assert counts() == first
