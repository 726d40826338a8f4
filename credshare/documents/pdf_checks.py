"""Checks on a PDF an issuer uploads, before it is signed and put into a learner's account.

Refused: a file over the size limit, anything that is not a PDF (magic bytes, then a parse by
pyHanko's reader), an encrypted PDF, and active or hidden content a viewer could run or
extract: JavaScript (`/JS`, `/JavaScript`, which also covers an `/OpenAction` running
JavaScript), launch actions (`/Launch`) and embedded files (`/EmbeddedFiles`,
`/EmbeddedFile`).

How names are found: PDF names may hide letters behind `#xx` escapes (`/J#61vaScript` is
`/JavaScript`), so every name in the raw bytes is decoded before the scan. Objects packed in
compressed object streams (`/Type /ObjStm`, PDF 1.5+) are not visible in the raw bytes: each
object stream the reader lists is decompressed and scanned the same way.

Limits: other compressed streams (page contents, images, fonts) are not decompressed, since
they cannot hold dictionaries or actions; a name inside a string literal that merely reads
`/JS` is refused too (strict on purpose).
"""

import io
import re

from django.conf import settings
from django.utils.translation import gettext as _

PDF_MAGIC = b"%PDF-"
FORBIDDEN_NAMES = {
    b"JS": "javascript",
    b"JavaScript": "javascript",
    b"Launch": "launch",
    b"EmbeddedFiles": "embedded_file",
    b"EmbeddedFile": "embedded_file",
}
# A PDF name: a solidus then regular characters (anything but white space and delimiters).
_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


class PdfRejected(Exception):  # noqa: N818 -- a refusal, named as the callers read it
    """An uploaded PDF that is refused, with a code for programs and a message for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _forbidden_in(data: bytes) -> str | None:
    """The code of the first forbidden name in DATA, with #xx escapes decoded."""
    for match in _NAME.finditer(data):
        name = match.group(1)
        if b"#" in name:
            name = _ESCAPE.sub(lambda escape: bytes([int(escape.group(1), 16)]), name)
        code = FORBIDDEN_NAMES.get(name)
        if code:
            return code
    return None


def _reject_feature(code: str) -> None:
    messages = {
        "javascript": _("The PDF contains JavaScript, which is not allowed."),
        "launch": _("The PDF contains an action that launches a program, which is not allowed."),
        "embedded_file": _("The PDF contains embedded files, which are not allowed."),
    }
    raise PdfRejected(code, messages[code])


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
    code = _forbidden_in(data)
    if code:
        _reject_feature(code)

    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.encrypted:
            raise PdfRejected(
                "encrypted", _("The PDF is encrypted or password-protected; upload it unlocked.")
            )
        reader.root  # noqa: B018 -- the catalog must resolve
        for revision in range(reader.xrefs.total_revisions):
            for ref in reader.xrefs.object_streams_used_in(revision):
                stream = reader.get_object(ref)
                code = _forbidden_in(stream.data)
                if code:
                    _reject_feature(code)
    except PdfRejected:
        raise
    except (PdfError, ValueError, KeyError, TypeError, IndexError, OSError) as error:
        raise PdfRejected("corrupt", _("The PDF is damaged and cannot be read.")) from error
