"""Checks on a PDF an issuer uploads, before it is signed and put into a learner's account.
Every entry point calls `check_uploaded_pdf`: the issue form, a new version, a bulk ZIP's
rows, the API's documents and versions.

Refused, each with its own code and translated message:

- a file over the size limit (`too_large`), anything that is not a PDF (`not_pdf`), a file
  pyHanko cannot read (`corrupt`), an encrypted PDF (`encrypted`);
- a file too complex to check (`too_complex`): see "Bounds" below;
- active or hidden content, wherever it appears in the file: JavaScript (`/JS`,
  `/JavaScript`), launch actions (`/Launch`), embedded files (`/EmbeddedFiles`,
  `/EmbeddedFile`), XFA forms (`/XFA`), form submission and data import (`/SubmitForm`,
  `/ImportData`), links into other files (`/GoToR`, `/GoToE`), and media that plays
  (`/Rendition`, `/Sound`, `/Movie`, `/RichMedia`);
- an automatic action (`automatic_action`): an `/OpenAction` or additional actions (`/AA`, of
  the document, a page, an annotation or a field) that do anything but show a page of the
  document (a destination, or `/GoTo` actions). An allowlist, not a list of what is refused,
  so that an action type nobody listed (a `/URI` opened on open, a `/Hide`, a future one) is
  refused too.

Already signed PDFs (an institution's own signature, or one of our documents uploaded
again) are accepted: `signing.sign_pdf` adds our signature as an incremental update, so the
earlier signatures still validate. Only a file certified with "no changes allowed" (DocMDP,
/P 1) is refused (`certified_no_changes`): any signature added to it breaks its certification.

Accepted on purpose: a link annotation the reader clicks (`/Link` with a `/URI` action),
ordinary in transcripts (the institution's web site, a program's page). Nothing happens
unless the reader clicks, and PDF viewers ask before opening the address. The same `/URI`
run by `/OpenAction` or `/AA` (on open, on a page shown, on a field touched) is refused.

How names are found: PDF names may hide letters behind `#xx` escapes (`/J#61vaScript` is
`/JavaScript`), so every name in the raw bytes is decoded before the scan; objects packed in
compressed object streams are scanned once decompressed. A name inside a string literal that
merely reads `/JS` is refused too (strict on purpose). Page contents, images and fonts are not
decompressed: they cannot hold dictionaries or actions.

Bounds: the file is read in a sandbox worker process (`credshare.core.sandbox`) with a
wall-clock, CPU and memory limit, and within bounds on its structure
(`credshare.core.pdf_limits`: objects, revisions, decoded bytes, page tree, nesting). Over any
of them the upload is refused as too complex and the web process is unharmed. Signing then
reads the same accepted file in-process (`signing.sign_pdf`): the same reader on the same
bytes, already seen to stay within those bounds.
"""

import logging

from django.conf import settings
from django.utils.translation import gettext as _

from credshare.core import sandbox

logger = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
INSPECT_UPLOAD = "credshare.documents.pdf_inspection:inspect_upload"
sandbox.register_task_module("credshare.documents.pdf_inspection")


class PdfRejected(Exception):  # noqa: N818 -- a refusal, named as the callers read it
    """An uploaded PDF that is refused, with a code for programs and a message for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def refusal_message(code: str) -> str:
    """The message for a refusal CODE of the inspection (pdf_inspection.inspect_upload)."""
    messages = {
        "javascript": _("The PDF contains JavaScript, which is not allowed."),
        "launch": _("The PDF contains an action that launches a program, which is not allowed."),
        "embedded_file": _("The PDF contains embedded files, which are not allowed."),
        "xfa": _("The PDF contains an XFA form, which is not allowed: upload a flattened PDF."),
        "submit_form": _(
            "The PDF contains a form that sends its data somewhere, which is not allowed."
        ),
        "import_data": _(
            "The PDF contains an action that imports data from a file, which is not allowed."
        ),
        "remote_go_to": _("The PDF contains a link that opens another file, which is not allowed."),
        "media": _("The PDF contains sound, video or other media, which is not allowed."),
        "automatic_action": _(
            "The PDF contains an action that runs by itself (when the file is opened or a "
            "page is shown), which is not allowed; links the reader clicks are fine."
        ),
        "certified_no_changes": _(
            "The PDF is certified with a signature that allows no changes, so credshare "
            "cannot add its own signature; upload it without that certification."
        ),
        "encrypted": _("The PDF is encrypted or password-protected; upload it unlocked."),
        "corrupt": _("The PDF is damaged and cannot be read."),
        "too_complex": _("This PDF is too complex to check."),
    }
    return messages[code]


def check_uploaded_pdf(data: bytes, *, max_bytes: int | None = None) -> None:
    """Raise PdfRejected unless DATA is an acceptable PDF to sign and issue."""
    if max_bytes is None:
        max_bytes = settings.CREDSHARE_MAX_UPLOAD_BYTES
    if len(data) > max_bytes:
        raise PdfRejected(
            "too_large",
            _("The file is larger than %(limit)s MB.") % {"limit": max_bytes // (1024 * 1024)}
            if max_bytes >= 1024 * 1024
            else _("The file is larger than %(limit)s bytes.") % {"limit": max_bytes},
        )
    if not data.startswith(PDF_MAGIC):
        raise PdfRejected("not_pdf", _("The file is not a PDF."))
    try:
        code = sandbox.run(INSPECT_UPLOAD, data)["refusal"]
    except sandbox.TooComplex:
        code = "too_complex"
    except sandbox.SandboxFailure as failure:
        # An exception the inspection did not expect: a defect of ours, logged; for the
        # issuer, a file we cannot read.
        logger.error("The inspection of an uploaded PDF failed\n%s", failure.detail)
        code = "corrupt"
    if code:
        raise PdfRejected(code, refusal_message(code))
