"""Uploaded PDFs are checked before signing: size, real PDF, no active or embedded content."""

import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import PdfFileWriter

from credshare.core import testing
from credshare.documents.pdf_checks import PdfRejected, check_uploaded_pdf


def hand_made_pdf(catalog_extra: bytes = b"", *extra_objects: bytes) -> bytes:
    """A one-page PDF written by hand: CATALOG_EXTRA goes into the catalog, EXTRA_OBJECTS
    become objects 4, 5, ..."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        *extra_objects,
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    trailer = b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
    out.write(trailer % (len(objects) + 1, xref))
    return out.getvalue()


def test_clean_pdfs_are_accepted():
    check_uploaded_pdf(hand_made_pdf())
    check_uploaded_pdf(testing.sample_pdf("clean"))


@pytest.mark.parametrize(
    "catalog_extra, objects, code",
    [
        (b"/OpenAction 4 0 R", [b"<< /S /JavaScript /JS (app.alert(1)) >>"], "javascript"),
        (b"/OpenAction 4 0 R", [b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>"], "javascript"),
        (b"/Names << /JavaScript 4 0 R >>", [b"<< /Names [(a) 5 0 R] >>", b"<< >>"], "javascript"),
        (b"/OpenAction << /S /Launch /F (calc.exe) >>", [], "launch"),
        (b"/OpenAction << /S /L#61#75nch /F (calc.exe) >>", [], "launch"),
        (
            b"/Names << /EmbeddedFiles 4 0 R >>",
            [b"<< /Names [(x.exe) 5 0 R] >>", b"<< >>"],
            "embedded_file",
        ),
        (b"", [b"<< /Type /EmbeddedFile /Length 0 >>\nstream\n\nendstream"], "embedded_file"),
        # The same names behind #xx escapes (either case of hex digit): a PDF reader decodes them.
        (
            b"/Names << /J#61v#61Script 4 0 R >>",
            [b"<< /Names [(a) 5 0 R] >>", b"<< >>"],
            "javascript",
        ),
        (b"/OpenAction 4 0 R", [b"<< /S /Rendition /#4a#53 (app.alert(1)) >>"], "javascript"),
        (
            b"/Names << /Embedded#46iles 4 0 R >>",
            [b"<< /Names [(x.exe) 5 0 R] >>", b"<< >>"],
            "embedded_file",
        ),
        (
            b"",
            [b"<< /Type /#45mbedded#46ile /Length 0 >>\nstream\n\nendstream"],
            "embedded_file",
        ),
    ],
)
def test_active_or_embedded_content_is_refused(catalog_extra, objects, code):
    with pytest.raises(PdfRejected) as refused:
        check_uploaded_pdf(hand_made_pdf(catalog_extra, *objects))
    assert refused.value.code == code
    assert str(refused.value)


def test_javascript_hidden_in_a_compressed_object_stream_is_refused():
    writer = PdfFileWriter(stream_xrefs=True)
    object_stream = writer.prepare_object_stream()
    action = generic.DictionaryObject(
        {pdf_name("/S"): pdf_name("/JavaScript"), pdf_name("/JS"): generic.pdf_string("x")}
    )
    writer.root[pdf_name("/OpenAction")] = writer.add_object(action, obj_stream=object_stream)
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    assert b"/JavaScript" not in data  # only inside the compressed stream
    with pytest.raises(PdfRejected) as refused:
        check_uploaded_pdf(data)
    assert refused.value.code == "javascript"


def test_a_name_that_only_starts_like_a_forbidden_one_is_fine():
    check_uploaded_pdf(hand_made_pdf(b"/JSX 1 /Launcher 2"))


def test_not_a_pdf_is_refused():
    with pytest.raises(PdfRejected) as refused:
        check_uploaded_pdf(b"PK\x03\x04 a zip file")
    assert refused.value.code == "not_pdf"


def test_a_damaged_pdf_is_refused():
    with pytest.raises(PdfRejected) as refused:
        check_uploaded_pdf(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog")
    assert refused.value.code == "corrupt"


def test_an_oversized_file_is_refused(settings):
    data = hand_made_pdf()
    with pytest.raises(PdfRejected) as refused:
        check_uploaded_pdf(data, max_bytes=len(data) - 1)
    assert refused.value.code == "too_large"
    settings.CREDSHARE_MAX_UPLOAD_BYTES = 100
    with pytest.raises(PdfRejected):
        check_uploaded_pdf(data)


def test_messages_are_translated(settings):
    from django.utils import translation

    with translation.override("fr"), pytest.raises(PdfRejected) as refused:
        check_uploaded_pdf(b"not a pdf")
    assert refused.value.message
