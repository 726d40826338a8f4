"""Uploaded PDFs are checked before signing: size, real PDF, no active or embedded content."""

import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import PdfFileWriter

from credshare.core import testing, testing_pdfs
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


# --- active content beyond JavaScript and launch actions (issue 14) ---------------------------

PAGE_WITH = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] %s >>"
URI = b"<< /S /URI /URI (https://attacker.example/track) >>"


def pdf_with_page(page_extra: bytes, *extra_objects: bytes) -> bytes:
    """A one-page PDF whose page holds PAGE_EXTRA; EXTRA_OBJECTS become objects 4, 5, ..."""
    return testing_pdfs.pdf_with_xref_table(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            PAGE_WITH % page_extra,
            *extra_objects,
        ]
    )


def link(action: bytes) -> bytes:
    return b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 50 50] /A %s >>]" % action


@pytest.mark.parametrize(
    "data, code",
    [
        # An address opened by itself: on open, on a page shown, on a field touched.
        (hand_made_pdf(b"/OpenAction " + URI), "automatic_action"),
        (hand_made_pdf(b"/OpenAction 4 0 R", URI), "automatic_action"),
        (pdf_with_page(b"/AA << /O " + URI + b" >>"), "automatic_action"),
        (
            pdf_with_page(
                b"/Annots [<< /Type /Annot /Subtype /Widget /Rect [0 0 9 9] /AA << /E 4 0 R >> >>]",
                URI,
            ),
            "automatic_action",
        ),
        (hand_made_pdf(b"/AA << /WC " + URI + b" >>"), "automatic_action"),
        # Behind a /GoTo that is allowed, its /Next is not; behind escapes, the same.
        (
            hand_made_pdf(b"/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next [" + URI + b"] >>"),
            "automatic_action",
        ),
        (
            hand_made_pdf(b"/Open#41ction << /S /#55RI /URI (https://x.example) >>"),
            "automatic_action",
        ),
        # An allowlist: an automatic action nobody listed is refused too.
        (hand_made_pdf(b"/OpenAction << /S /Hide /T (field) >>"), "automatic_action"),
        (hand_made_pdf(b"/OpenAction << /S /Named /N /Print >>"), "automatic_action"),
        # Refused wherever they are, clicked or not.
        (pdf_with_page(link(b"<< /S /SubmitForm /F (https://x.example) >>")), "submit_form"),
        (pdf_with_page(link(b"<< /S /Submit#46orm /F (https://x.example) >>")), "submit_form"),
        (pdf_with_page(link(b"<< /S /ImportData /F (data.fdf) >>")), "import_data"),
        (pdf_with_page(link(b"<< /S /GoToR /F (other.pdf) /D [0 /Fit] >>")), "remote_go_to"),
        (pdf_with_page(link(b"<< /S /GoToE /T << /R /C /N (a) >> >>")), "remote_go_to"),
        (pdf_with_page(link(b"<< /S /Rendition /OP 0 >>")), "media"),
        (pdf_with_page(b"/Annots [<< /Subtype /Sound /Rect [0 0 9 9] >>]"), "media"),
        (pdf_with_page(b"/Annots [<< /Subtype /Movie /Rect [0 0 9 9] >>]"), "media"),
        (pdf_with_page(b"/Annots [<< /Subtype /RichMedia /Rect [0 0 9 9] >>]"), "media"),
        (hand_made_pdf(b"/AcroForm << /Fields [] /XFA 4 0 R >>", b"<< /Length 0 >>"), "xfa"),
        (hand_made_pdf(b"/AcroForm << /Fields [] /X#46A [(template) 4 0 R] >>", b"[]"), "xfa"),
    ],
)
def test_active_content_is_refused_with_its_own_code(data, code):
    with pytest.raises(PdfRejected) as refused:
        check_uploaded_pdf(data)
    assert refused.value.code == code


@pytest.mark.parametrize(
    "data",
    [
        # A link the reader clicks: ordinary in transcripts.
        pdf_with_page(link(URI)),
        testing_pdfs.ordinary_pdf(),
        # Opening on a page, as many generators do: a destination, or a /GoTo action.
        hand_made_pdf(b"/OpenAction [3 0 R /Fit]"),
        hand_made_pdf(b"/OpenAction << /S /GoTo /D [3 0 R /FitH 200] >>"),
        hand_made_pdf(b"/OpenAction 4 0 R", b"<< /S /GoTo /D [3 0 R /Fit] >>"),
    ],
    ids=["clicked link", "ordinary pdf", "open at a page", "goto on open", "goto by reference"],
)
def test_links_the_reader_clicks_and_opening_at_a_page_are_accepted(data):
    check_uploaded_pdf(data)


def test_an_automatic_action_hidden_in_a_compressed_object_stream_is_refused():
    writer = PdfFileWriter(stream_xrefs=True)
    object_stream = writer.prepare_object_stream()
    action = generic.DictionaryObject(
        {pdf_name("/S"): pdf_name("/URI"), pdf_name("/URI"): generic.pdf_string("https://x.ex")}
    )
    writer.root[pdf_name("/OpenAction")] = writer.add_object(action, obj_stream=object_stream)
    out = io.BytesIO()
    writer.write(out)
    assert b"/URI" not in out.getvalue()  # only inside the compressed stream

    with pytest.raises(PdfRejected) as refused:
        check_uploaded_pdf(out.getvalue())
    assert refused.value.code == "automatic_action"


@pytest.mark.parametrize(
    "code",
    [
        "xfa",
        "submit_form",
        "import_data",
        "remote_go_to",
        "media",
        "automatic_action",
        "certified_no_changes",
    ],
)
def test_each_refusal_has_its_own_message_in_english_and_french(code):
    from django.utils import translation

    from credshare.documents.pdf_checks import refusal_message

    english = refusal_message(code)
    with translation.override("fr"):
        french = refusal_message(code)
    others = {refusal_message(other) for other in ("javascript", "launch", "corrupt")}
    assert english not in others
    assert french != english
