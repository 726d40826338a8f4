"""The issuer's logo and colours on the transcripts it renders, from the portal, the API and
bulk jobs: the logo is an image on page 1 and the colours are in its drawing; without a logo
there is no image; the signature and its stamp still validate; a bulk job reads the logo
once, not once a row."""

import datetime
import io
import re
import subprocess

import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from credshare.accounts.models import User
from credshare.api.models import ApiKey
from credshare.api.tests.conftest import ApiClient, make_key
from credshare.core import testing
from credshare.documents import bulk, pdf, signing
from credshare.documents.models import Document
from credshare.network.branding import DEFAULT_ACCENT_COLOR, DEFAULT_PRIMARY_COLOR
from credshare.network.demo_branding import demo_logo_png
from credshare.network.services import organization_branding_update

PRIMARY, ACCENT = "#7a1f2b", "#c9a227"
RECORD = {
    "program": "Bachelor of Testing",
    "courses": [["TST101", "Testing basics", "3", "A"], ["TST202", "Testing more", "3", "B+"]],
    "gpa": "3.7",
    "credential": "B.Test.",
}


@pytest.fixture
def registrar(university):
    return testing.make_issuer_staff(university, "registrar@university.example")


def brand(issuer, *, primary=PRIMARY, accent=ACCENT, logo: bytes | None = None):
    """ISSUER's branding set as its administrator would, with the demo's crest by default."""
    if logo is None:
        logo = demo_logo_png(primary_color=primary, accent_color=accent)
    email = f"brand-{issuer.slug}@example.org"
    admin = User.objects.filter(email=email).first() or testing.make_issuer_staff(
        issuer, email, role="admin"
    )
    return organization_branding_update(
        organization=issuer,
        by=admin,
        primary_color=primary,
        accent_color=accent,
        logo=SimpleUploadedFile("crest.png", logo),
    )


@pytest.fixture
def branded(university):
    return brand(university)


def first_page(data: bytes):
    return PdfFileReader(io.BytesIO(data), strict=False).root["/Pages"]["/Kids"][0]


def page_one_images(data: bytes) -> list[tuple[int, int]]:
    """(width, height) of each image XObject that page 1 draws."""
    resources = first_page(data)["/Resources"]
    try:
        xobjects = resources["/XObject"]
    except KeyError:
        return []
    images = [xobjects[name] for name in xobjects]
    return [(i["/Width"], i["/Height"]) for i in images if i["/Subtype"] == "/Image"]


def page_one_colors(data: bytes) -> dict[str, set[str]]:
    """The colours page 1 fills ("rg") and strokes ("RG") with, as #rrggbb."""
    contents = first_page(data)["/Contents"]
    streams = contents if isinstance(contents, list) else [contents]
    drawing = b"".join(stream.data for stream in streams).decode("latin-1")
    found: dict[str, set[str]] = {"rg": set(), "RG": set()}
    for red, green, blue, operator in re.findall(r"([\d.]+) ([\d.]+) ([\d.]+) (rg|RG)\b", drawing):
        found[operator].add(
            "#" + "".join(f"{round(float(c) * 255):02x}" for c in (red, green, blue))
        )
    return found


def pdfimages_pages(data: bytes, tmp_path) -> list[str]:
    """The page numbers of the images that poppler's pdfimages finds in the file."""
    program = testing.require_program("pdfimages", package="poppler-utils")
    path = tmp_path / "transcript.pdf"
    path.write_bytes(data)
    result = subprocess.run(  # noqa: S603 -- our own arguments
        [program, "-list", path], capture_output=True, text=True, timeout=30, check=True
    )
    rows = result.stdout.splitlines()[2:]  # after the heading and its rule
    return [row.split()[0] for row in rows]


def issue_from_portal(client, registrar, university, title="Transcript 2026") -> bytes:
    client.force_login(registrar)
    response = client.post(
        reverse("issuer_documents:new", args=[university.slug]),
        {
            "email": "zoe@example.org",
            "document_type": Document.Type.TRANSCRIPT,
            "title": title,
            "issue_date": "2026-05-30",
            "source": "transcript",
            "program": "Computer science",
            "courses": "INF101; Programming; 3; A\nMAT200; Linear algebra; 3; B+\n",
            "gpa": "3.7",
            "credential": "Bachelor of Science",
        },
    )
    assert response.status_code == 302
    return Document.objects.get(title=title).versions.get().file.read()


def signature_status(data: bytes):
    _, _, der = pem.unarmor(signing.ensure_ca().pem)
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)])
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    return validate_pdf_signature(reader.embedded_signatures[0], context)


def test_a_transcript_from_the_portal_shows_the_logo_and_colours_and_stays_signed(
    client, registrar, university, branded, zoe, tmp_path
):
    data = issue_from_portal(client, registrar, university)

    # The crest is 360 pixels square; it is embedded at print size, 240 pixels high, deflated
    # only (reportlab's ASCII85 on top would cost every row of a bulk job milliseconds).
    assert page_one_images(data) == [(240, 240)]
    xobjects = first_page(data)["/Resources"]["/XObject"]
    assert [list(xobjects[name]["/Filter"]) for name in xobjects] == [["/FlateDecode"]]
    assert pdfimages_pages(data, tmp_path) == ["1"]
    colors = page_one_colors(data)
    assert PRIMARY in colors["rg"]  # the band, the headings
    assert ACCENT in colors["rg"]  # the stripe under the band
    assert ACCENT in colors["RG"]  # the rules of the courses table
    status = signature_status(data)
    assert status.intact and status.valid and status.trusted
    (widget,) = [a.get_object() for a in first_page(data)["/Annots"]]
    assert widget["/T"] == signing.FIELD_NAME
    assert b"/QR Do" in widget["/AP"]["/N"].data


def test_without_a_logo_there_is_no_image_and_the_default_colours(
    client, registrar, university, zoe, tmp_path
):
    data = issue_from_portal(client, registrar, university)

    assert page_one_images(data) == []
    assert pdfimages_pages(data, tmp_path) == []
    colors = page_one_colors(data)
    assert DEFAULT_PRIMARY_COLOR in colors["rg"]
    assert DEFAULT_ACCENT_COLOR in colors["RG"]
    assert PRIMARY not in colors["rg"]
    assert signature_status(data).valid


def test_a_transcript_issued_through_the_api_has_the_logo(university, branded, zoe):
    api = ApiClient(make_key(university, list(ApiKey.ISSUING_SCOPES)).text)
    response = api.post(
        "/documents",
        {
            "learner_email": zoe.email,
            "type": "transcript",
            "title": "Official transcript",
            "issue_date": "2026-05-04",
            "external_id": "SIS-0001",
            "record": RECORD,
        },
    )

    assert response.status_code == 201
    document = Document.objects.get(public_id=response.json()["id"])
    data = document.versions.get().file.read()
    assert page_one_images(data) == [(240, 240)]
    assert PRIMARY in page_one_colors(data)["rg"]


class CountingStorage:
    """The default storage, counting the files opened through it."""

    def __init__(self, storage):
        self.storage = storage
        self.opened: list[str] = []

    def open(self, name, mode="rb"):
        self.opened.append(name)
        return self.storage.open(name, mode)


def test_a_bulk_job_reads_the_logo_once_for_all_its_rows(
    university, branded, registrar, monkeypatch
):
    learners = [testing.make_user(f"learner{n}@example.org", f"Learner {n}") for n in range(3)]
    rows = []
    for number, learner in enumerate(learners, start=1):
        row = testing.bulk_row(number, learner.email)
        del row["file"]
        row.update(program="B.Sc.", courses=[["PHY101", "Mechanics", "3", "A"]], gpa="3.7")
        rows.append(row)
    job = bulk.issuance_job_create(
        issuer=university, created_by=registrar, rows_file=testing.bulk_jsonl(rows)
    )
    counting = CountingStorage(default_storage)
    monkeypatch.setattr(pdf, "default_storage", counting)

    bulk.issuance_job_process(job_id=job.pk)

    documents = Document.objects.filter(issuer=university, learner__in=learners)
    assert documents.count() == 3
    for document in documents:
        assert page_one_images(document.versions.get().file.read()) == [(240, 240)]
    assert counting.opened == [branded.logo.name]


def test_a_light_primary_colour_gets_dark_text_for_the_issuers_name(
    client, registrar, university, zoe
):
    brand(university, primary="#ffe066", accent="#333333")

    data = issue_from_portal(client, registrar, university)

    colors = page_one_colors(data)
    assert "#ffe066" in colors["rg"]
    assert "#1a1a1a" in colors["rg"]  # the name in the band, dark on the light yellow
    assert "#ffffff" in colors["rg"]  # the logo's white tile only


def test_a_logo_whose_file_is_gone_renders_without_it(client, registrar, university, zoe):
    issuer = brand(university)
    default_storage.delete(issuer.logo.name)

    data = issue_from_portal(client, registrar, university)

    assert page_one_images(data) == []
    assert PRIMARY in page_one_colors(data)["rg"]


def test_a_long_list_of_courses_stays_clear_of_the_signature_stamp(university, branded):
    """Rows stop above the stamp's box in page 1's lower-right corner and go on the next
    page, under the table's headings again."""
    record = dict(RECORD, courses=[[f"C{n:03}", f"Course {n}", "3", "A"] for n in range(40)])
    data = pdf.transcript_from_record(
        issuer=university,
        learner_name="Zoé Citoyenne",
        title="Transcript",
        issue_date=datetime.date(2026, 6, 1),
        record=record,
    )
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    pages = reader.root["/Pages"]["/Kids"]
    assert len(pages) == 2
    stamp_top = signing.STAMP_MARGINS[1] + signing.STAMP_SIZE[1]
    lowest_row = min(
        float(y) for y in re.findall(rb"1 0 0 1 [\d.]+ ([\d.]+) Tm", pages[0]["/Contents"].data)
    )
    assert lowest_row > stamp_top
    assert b"(Cours / Course)" in pages[1]["/Contents"].data
