"""An issuer's transcript branding on its profile page: its administrators upload a logo (PNG
or JPEG, checked for what it is) and pick two colours; the page shows the current logo,
served by the app. A refused logo or colour says why next to its field and stores nothing.
Its staff get 403, anyone else 404."""

import io
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from credshare.core import testing
from credshare.network.branding import DEFAULT_ACCENT_COLOR, DEFAULT_PRIMARY_COLOR
from credshare.network.demo_branding import demo_logo_png
from credshare.network.models import Organization
from credshare.network.tests.conftest import errors_next_to, text_of

CREST = demo_logo_png(primary_color="#7a1f2b", accent_color="#c9a227")


def url(name, organization):
    return reverse(f"network:{name}", args=[organization.slug])


def picture(format: str, size=(120, 60), color="navy") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=format)
    return buffer.getvalue()


def upload(data: bytes, name="logo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def stored_logos(settings) -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "logos"
    return sorted(folder.iterdir()) if folder.exists() else []


def branding_of(organization) -> dict:
    return Organization.objects.filter(pk=organization.pk).values(
        "logo", "primary_color", "accent_color"
    )[0]


@pytest.fixture
def uni_client(client, uni_admin):
    client.force_login(uni_admin)
    return client


@pytest.fixture
def branded(uni_client, university, settings):
    response = uni_client.post(
        url("branding", university),
        {"logo": upload(CREST), "primary_color": "#7A1F2B", "accent_color": "#c9a227"},
    )
    assert response.status_code == 302
    university.refresh_from_db()
    return university


def test_an_admin_uploads_a_logo_and_picks_colours(uni_client, university, settings):
    page = uni_client.get(url("profile", university)).content.decode()
    assert "No logo yet" in page
    assert 'type="color"' in page and f'value="{DEFAULT_PRIMARY_COLOR}"' in page

    response = uni_client.post(
        url("branding", university),
        {"logo": upload(CREST), "primary_color": "#7A1F2B", "accent_color": "#c9a227"},
    )

    assert response.status_code == 302
    assert response["Location"] == url("profile", university) + "#branding"
    page = uni_client.get(response["Location"])
    assert "The transcript branding is saved." in text_of(page)
    assert f'<img src="{url("logo", university)}"' in page.content.decode()
    assert 'value="#7a1f2b"' in page.content.decode()
    university.refresh_from_db()
    assert university.primary_color == "#7a1f2b"
    assert university.accent_color == "#c9a227"
    # Stored under a name of ours, not the uploader's.
    (stored,) = stored_logos(settings)
    assert university.logo.name == f"logos/{stored.name}"
    assert stored.suffix == ".png" and len(stored.stem) == 32
    served = uni_client.get(url("logo", university))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == CREST


def test_a_jpeg_logo_is_stored_and_served_as_one(uni_client, university, settings):
    jpeg = picture("JPEG")
    response = uni_client.post(
        url("branding", university),
        {"logo": upload(jpeg, "photo.PNG"), "primary_color": "", "accent_color": ""},
    )

    assert response.status_code == 302
    (stored,) = stored_logos(settings)
    assert stored.suffix == ".jpg"
    served = uni_client.get(url("logo", university))
    assert served["Content-Type"] == "image/jpeg"
    assert b"".join(served.streaming_content) == jpeg
    # Empty colours are the defaults.
    assert branding_of(university)["primary_color"] == DEFAULT_PRIMARY_COLOR
    assert branding_of(university)["accent_color"] == DEFAULT_ACCENT_COLOR


def test_a_new_logo_replaces_the_old_one_and_its_file(
    uni_client, branded, settings, django_capture_on_commit_callbacks
):
    old = stored_logos(settings)
    with django_capture_on_commit_callbacks(execute=True):
        response = uni_client.post(
            url("branding", branded),
            {"logo": upload(picture("PNG")), "primary_color": "#000000", "accent_color": ""},
        )

    assert response.status_code == 302
    (stored,) = stored_logos(settings)
    assert stored not in old
    assert branding_of(branded)["logo"] == f"logos/{stored.name}"


def test_colours_change_without_touching_the_logo(uni_client, branded):
    logo = branded.logo.name
    response = uni_client.post(
        url("branding", branded), {"primary_color": "#102030", "accent_color": "#405060"}
    )

    assert response.status_code == 302
    assert branding_of(branded) == {
        "logo": logo,
        "primary_color": "#102030",
        "accent_color": "#405060",
    }


def test_removing_the_logo_deletes_it(
    uni_client, branded, settings, django_capture_on_commit_callbacks
):
    assert 'name="remove_logo"' in uni_client.get(url("profile", branded)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = uni_client.post(
            url("branding", branded),
            {"remove_logo": "on", "primary_color": "#7a1f2b", "accent_color": "#c9a227"},
        )

    assert response.status_code == 302
    assert branding_of(branded)["logo"] == ""
    assert stored_logos(settings) == []
    assert uni_client.get(url("logo", branded)).status_code == 404
    assert "No logo yet" in uni_client.get(url("profile", branded)).content.decode()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
NOT_AN_IMAGE = "The logo must be a PNG or JPEG image."


def noise_png(size) -> bytes:
    """A PNG of random pixels: it does not compress, so it is large on disk."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        pytest.param(SVG, "logo.svg", NOT_AN_IMAGE, id="svg"),
        pytest.param(SVG, "logo.png", NOT_AN_IMAGE, id="svg named png"),
        pytest.param(
            b"\x89PNG\r\n\x1a\n" + b"garbage" * 100, "logo.png", NOT_AN_IMAGE, id="png header"
        ),
        pytest.param(CREST[: len(CREST) // 2], "logo.png", NOT_AN_IMAGE, id="truncated png"),
        pytest.param(picture("GIF"), "logo.gif", NOT_AN_IMAGE, id="gif"),
        pytest.param(
            picture("PNG", size=(2100, 2100)),
            "big.png",
            "The logo has too many pixels: at most 4 million",
            id="too many pixels",
        ),
        pytest.param(
            noise_png((600, 600)), "heavy.png", "The logo is larger than 512 KiB.", id="too large"
        ),
    ],
)
def test_a_bad_logo_is_refused_with_why_and_nothing_is_stored(
    uni_client, university, settings, data, name, message
):
    before = branding_of(university)
    response = uni_client.post(
        url("branding", university),
        {"logo": upload(data, name), "primary_color": "#102030", "accent_color": "#405060"},
    )

    assert response.status_code == 400
    assert message in errors_next_to(response, "logo")
    assert stored_logos(settings) == []
    assert branding_of(university) == before


def test_a_bad_logo_leaves_the_current_one_in_place(uni_client, branded, settings):
    before, files = branding_of(branded), stored_logos(settings)
    response = uni_client.post(
        url("branding", branded),
        {"logo": upload(SVG, "logo.svg"), "primary_color": "#102030", "accent_color": ""},
    )

    assert response.status_code == 400
    assert branding_of(branded) == before
    assert stored_logos(settings) == files
    assert f'<img src="{url("logo", branded)}"' in response.content.decode()


@pytest.mark.parametrize("color", ["red", "#12345", "#GGGGGG", "#1234567", "1f4e8c"])
def test_a_colour_not_written_as_hex_is_refused(uni_client, university, settings, color):
    before = branding_of(university)
    response = uni_client.post(
        url("branding", university),
        {"logo": upload(CREST), "primary_color": "#102030", "accent_color": color},
    )

    assert response.status_code == 400
    assert "Enter a colour as # followed by six hexadecimal digits" in errors_next_to(
        response, "accent_color"
    )
    assert branding_of(university) == before
    assert stored_logos(settings) == []


def test_the_page_and_the_errors_are_in_french(uni_client, university):
    uni_client.cookies["django_language"] = "fr"
    response = uni_client.post(
        url("branding", university),
        {"logo": upload(SVG, "logo.svg"), "primary_color": "", "accent_color": ""},
    )

    assert response.status_code == 400
    assert "Le logo doit être une image PNG ou JPEG." in errors_next_to(response, "logo")
    assert "Image de marque des relevés" in text_of(response)


def test_staff_who_are_not_administrators_get_403(client, university, branded, settings):
    client.force_login(testing.make_issuer_staff(university, "clerk@university.example"))
    before, files = branding_of(branded), stored_logos(settings)

    response = client.post(
        url("branding", branded), {"logo": upload(picture("PNG")), "primary_color": "#000000"}
    )

    assert response.status_code == 403
    assert "Administrators only" in text_of(response)
    assert client.get(url("logo", branded)).status_code == 403
    assert branding_of(branded) == before
    assert stored_logos(settings) == files


@pytest.mark.parametrize("who", ["ecole_admin", "zoe"])
def test_another_organizations_admin_and_a_learner_get_404(client, request, branded, settings, who):
    client.force_login(request.getfixturevalue(who))
    before, files = branding_of(branded), stored_logos(settings)

    response = client.post(
        url("branding", branded), {"logo": upload(picture("PNG")), "primary_color": "#000000"}
    )

    assert response.status_code == 404
    assert client.get(url("logo", branded)).status_code == 404
    assert branding_of(branded) == before
    assert stored_logos(settings) == files


def test_anonymous_visitors_are_sent_to_sign_in(client, branded):
    client.logout()  # the administrator who set the branding
    for response in (
        client.get(url("logo", branded)),
        client.post(url("branding", branded), {"primary_color": "#000000"}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_a_receiving_organization_has_no_branding(admin_client, ecole, settings):
    """Only issuers render transcripts: no form on the page, and the addresses are 404."""
    page = admin_client.get(url("profile", ecole)).content.decode()
    assert url("branding", ecole) not in page
    response = admin_client.post(url("branding", ecole), {"logo": upload(CREST)})
    assert response.status_code == 404
    assert admin_client.get(url("logo", ecole)).status_code == 404
    assert stored_logos(settings) == []


def test_the_branding_address_answers_only_posts(uni_client, university):
    assert uni_client.get(url("branding", university)).status_code == 405
    assert uni_client.post(url("logo", university)).status_code == 405
