"""The inspection of an uploaded PDF, run in a sandbox worker (`credshare.core.sandbox`):
Django-free, it answers with a refusal code or None; `credshare.documents.pdf_checks` turns
the code into a translated message. See pdf_checks for the rules, and
`credshare.core.pdf_limits` for the bounds on the file's structure.
"""

import re

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfError

from credshare.core.pdf_limits import (
    bounded,
    check_page_tree,
    open_untrusted,
    raise_if_over_a_bound,
)
from credshare.core.sandbox_worker import TooComplex

# Names refused wherever they appear, by refusal code, the first code in this order winning
# when a file has several.
FORBIDDEN_NAMES = {
    "javascript": {b"JS", b"JavaScript"},
    "launch": {b"Launch"},
    "embedded_file": {b"EmbeddedFiles", b"EmbeddedFile"},
    "xfa": {b"XFA"},
    "submit_form": {b"SubmitForm"},
    "import_data": {b"ImportData"},
    "remote_go_to": {b"GoToR", b"GoToE"},
    "media": {b"Rendition", b"Sound", b"Movie", b"RichMedia", b"RichMediaExecute"},
}
# Keys whose actions run without the reader asking for them.
AUTOMATIC_TRIGGERS = {b"OpenAction", b"AA"}
# What an automatic trigger may do: show a page (a destination, or a /GoTo action).
AUTOMATIC_ACTIONS_ALLOWED = {"/GoTo"}
MAX_ACTIONS_IN_A_CHAIN = 100
MAX_VALUES_WALKED = 2_000_000
# What pyHanko raises on a damaged file (besides its own errors).
READ_ERRORS = (PdfError, ValueError, KeyError, TypeError, IndexError, OSError, AttributeError)

# A PDF name: a solidus then regular characters (anything but white space and delimiters).
_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


def names_in(data: bytes) -> set[bytes]:
    """Every name in DATA, with #xx escapes decoded (`/J#61vaScript` is `/JavaScript`)."""
    names = set()
    for match in _NAME.finditer(data):
        name = match.group(1)
        if b"#" in name:
            name = _ESCAPE.sub(lambda escape: bytes([int(escape.group(1), 16)]), name)
        names.add(name)
    return names


def forbidden_code(names: set[bytes]) -> str | None:
    for code, forbidden in FORBIDDEN_NAMES.items():
        if names & forbidden:
            return code
    return None


def _automatic_action_refused(action) -> bool:
    """Whether ACTION, run by an automatic trigger, does anything but show a page; its /Next
    actions count too."""
    pending, steps = [action], 0
    while pending:
        steps += 1
        if steps > MAX_ACTIONS_IN_A_CHAIN:
            return True
        item = pending.pop()
        if isinstance(item, generic.IndirectObject):
            item = item.get_object()
        if isinstance(item, generic.ArrayObject | generic.NullObject):
            continue  # a destination: a page and a view
        if not isinstance(item, generic.DictionaryObject):
            return True
        if item.get("/S") not in AUTOMATIC_ACTIONS_ALLOWED:
            return True
        following = item.raw_get("/Next") if "/Next" in item else None
        if isinstance(following, generic.ArrayObject):
            pending.extend(following)
        elif following is not None:
            pending.append(following)
    return False


def _triggers_refused(dictionary) -> bool:
    """Whether DICTIONARY's /OpenAction or /AA (additional actions) does more than show a
    page."""
    opening = dictionary.raw_get("/OpenAction") if "/OpenAction" in dictionary else None
    if opening is not None and _automatic_action_refused(opening):
        return True
    if "/AA" in dictionary:
        actions = dictionary.raw_get("/AA")
        if isinstance(actions, generic.IndirectObject):
            actions = actions.get_object()
        if not isinstance(actions, generic.DictionaryObject):
            return True
        if any(_automatic_action_refused(actions.raw_get(key)) for key in actions):
            return True
    return False


def _has_refused_automatic_action(reader, names: set[bytes]) -> bool:
    """Whether the file has an automatic action that does more than show a page.

    /OpenAction belongs to the catalog, where many programs put a plain "open at page 1":
    checking the catalog is enough when it holds the only one. Otherwise (an /AA anywhere: a
    document's, page's, annotation's or field's additional actions, or an /OpenAction
    somewhere else) every dictionary of the file is walked."""
    catalog = reader.root
    if _triggers_refused(catalog):
        return True
    if b"AA" not in names and "/OpenAction" in catalog:
        return False
    refs = set()
    for revision in range(reader.xrefs.total_revisions):
        refs |= reader.xrefs.explicit_refs_in_revision(revision)
    walked = 0
    for ref in refs:
        try:
            pending = [reader.get_object(ref)]
        except READ_ERRORS as error:
            raise_if_over_a_bound(error)
            continue
        while pending:
            walked += 1
            if walked > MAX_VALUES_WALKED:
                raise TooComplex("too many values")
            value = pending.pop()
            if isinstance(value, generic.DictionaryObject):
                if _triggers_refused(value):
                    return True
                pending.extend(value.raw_get(key) for key in value)
            elif isinstance(value, generic.ArrayObject):
                pending.extend(value.raw_get(index) for index in range(len(value)))
    return False


def _certified_without_changes(reader) -> bool:
    """Whether the file is certified (a DocMDP signature) with no changes allowed (/P 1):
    adding our signature would break the certification, so we refuse the file instead. A
    file signed without certification, or certified allowing signatures, is signed as it
    is, our signature added as an incremental update (signing.sign_pdf)."""
    try:
        signature = reader.root["/Perms"]["/DocMDP"]
        references = signature["/Reference"]
        for item in references:
            reference = item.get_object()
            if reference.get("/TransformMethod") == "/DocMDP":
                return int(reference["/TransformParams"].get("/P", 2)) == 1
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    return False


def inspect_upload(data: bytes, params: dict, ask) -> dict:
    """{"refusal": code or None} for an issuer's upload (a sandbox task)."""
    names = names_in(data)
    code = forbidden_code(names)
    if code:
        return {"refusal": code}
    with bounded():
        try:
            reader = open_untrusted(data)
            if reader.encrypted:
                return {"refusal": "encrypted"}
            reader.root  # noqa: B018 -- the catalog must resolve
            check_page_tree(reader)
            # Objects packed in compressed object streams are not in the raw bytes.
            for revision in range(reader.xrefs.total_revisions):
                for ref in reader.xrefs.object_streams_used_in(revision):
                    names |= names_in(reader.get_object(ref).data)
            code = forbidden_code(names)
            if code:
                return {"refusal": code}
            if names & AUTOMATIC_TRIGGERS and _has_refused_automatic_action(reader, names):
                return {"refusal": "automatic_action"}
            if b"DocMDP" in names and _certified_without_changes(reader):
                return {"refusal": "certified_no_changes"}
        except READ_ERRORS as error:
            raise_if_over_a_bound(error)
            return {"refusal": "corrupt"}
    return {"refusal": None}
