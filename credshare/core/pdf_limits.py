"""Reading an untrusted PDF with pyHanko within bounds on its structure.

These bounds refuse the known ways a small file makes a reader work hard, early and cheaply:

- cross-reference entries claimed (`/Size`, `/Index` of a cross-reference stream; entries of
  a table) over all sections together: `MAX_OBJECTS`. A stream of zeros claiming 5,000,000
  entries is 34 KB and costs pyHanko half a minute;
- cross-reference sections (the original and its incremental updates): `MAX_REVISIONS`;
- field widths of a cross-reference stream (`/W`): `MAX_XREF_FIELD_BYTES` each;
- bytes decoded from streams (`DECODE_LIMITS`, pyHanko's own): per stream, per object stream,
  and for the whole file;
- the page tree: at most `MAX_PAGE_TREE_NODES` nodes, each met once (a tree whose nodes list
  a child twice has 2**levels leaves for a few objects);
- nesting: Python's recursion limit (a RecursionError is "too complex").

They run inside a sandbox worker (`credshare.core.sandbox`), whose time and memory limits hold
for anything these bounds do not foresee. The bounds are far above what a real document
needs: our transcripts have about 20 objects and 2 revisions, a 500-page scanned file a few
thousand objects.

The cross-reference bounds wrap two pyHanko functions for the reader opened here only (a
context variable holds its budget); other readers in the same process are unaffected.
"""

import contextvars
import io
from contextlib import contextmanager
from dataclasses import dataclass

from pyhanko.pdf_utils import generic, xref
from pyhanko.pdf_utils.decode_limits import (
    DEFAULT_PURPOSE_LIMITS,
    DecodeLimits,
    DecodePurpose,
    DocumentDecodeBudget,
    StreamDecodeLimits,
)
from pyhanko.pdf_utils.misc import PdfDecodeLimitError
from pyhanko.pdf_utils.reader import PdfFileReader

from credshare.core.sandbox_worker import TooComplex

MiB = 1024 * 1024
MAX_OBJECTS = 100_000
MAX_REVISIONS = 100
MAX_XREF_FIELD_BYTES = 8
MAX_PAGE_TREE_NODES = 20_000
DECODE_LIMITS = DecodeLimits(
    per_stream=StreamDecodeLimits(max_ratio=1100, ratio_floor=MiB, max_output_size=32 * MiB),
    per_purpose={
        **DEFAULT_PURPOSE_LIMITS,
        DecodePurpose.OBJECT_STREAM: StreamDecodeLimits(
            max_ratio=100, ratio_floor=MiB, max_output_size=16 * MiB
        ),
        DecodePurpose.XREF_STREAM: StreamDecodeLimits(
            max_ratio=None, max_output_size=(MAX_OBJECTS + 1) * 3 * MAX_XREF_FIELD_BYTES
        ),
    },
    document_budget=DocumentDecodeBudget(base_allowance=32 * MiB, max_ratio=2),
)


@dataclass
class _Budget:
    objects: int = 0
    revisions: int = 0

    def add_section(self, entries: int) -> None:
        self.revisions += 1
        if self.revisions > MAX_REVISIONS:
            raise TooComplex(f"more than {MAX_REVISIONS} revisions")
        self.add_entries(entries)

    def add_entries(self, entries: int) -> None:
        self.objects += entries
        if self.objects > MAX_OBJECTS:
            raise TooComplex(f"more than {MAX_OBJECTS} objects")


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "credshare_pdf_budget", default=None
)
_parse_xref_stream = xref.parse_xref_stream
_parse_xref_table = xref.parse_xref_table


def _claimed_entries(xref_stream) -> int:
    try:
        widths = [int(width) for width in xref_stream.get("/W")]
        index = xref_stream.get("/Index", None) or [0, xref_stream.get("/Size")]
        sizes = [int(value) for value in list(index)[1::2]]
    except (TypeError, ValueError, KeyError):
        return 0  # malformed: pyHanko's own parser refuses it
    if any(width < 0 or width > MAX_XREF_FIELD_BYTES for width in widths):
        raise TooComplex("cross-reference field too wide")
    return sum(max(size, 0) for size in sizes)


def _bounded_parse_xref_stream(xref_stream, strict: bool = True):
    budget = _budget.get()
    if budget is not None:
        budget.add_section(_claimed_entries(xref_stream))
    return _parse_xref_stream(xref_stream, strict=strict)


def _bounded_parse_xref_table(stream, strict: bool):
    budget = _budget.get()
    if budget is None:
        yield from _parse_xref_table(stream, strict)
        return
    budget.add_section(0)
    for entry in _parse_xref_table(stream, strict):
        budget.add_entries(1)
        yield entry


# Installed once per process; a no-op for readers not opened by open_untrusted.
if xref.parse_xref_stream is _parse_xref_stream:
    xref.parse_xref_stream = _bounded_parse_xref_stream
    xref.parse_xref_table = _bounded_parse_xref_table


def raise_if_over_a_bound(error: BaseException) -> None:
    """Raise TooComplex if ERROR, or an error it was raised from, is a bound crossed: pyHanko
    turns a RecursionError (deep nesting) or a decoding limit into a read error of its own."""
    seen = 0
    while error is not None and seen < 100:
        if isinstance(error, TooComplex):
            raise error
        if isinstance(error, RecursionError | MemoryError | PdfDecodeLimitError):
            raise TooComplex(type(error).__name__) from error
        error, seen = error.__cause__ or error.__context__, seen + 1


@contextmanager
def bounded():
    """Bounds on the cross-reference sections read while this block runs."""
    token = _budget.set(_Budget())
    try:
        yield
    except PdfDecodeLimitError as error:
        raise TooComplex(str(error)) from error
    finally:
        _budget.reset(token)


def open_untrusted(data: bytes) -> PdfFileReader:
    """pyHanko's reader on DATA, within the bounds above (TooComplex when one is crossed).
    Call it, and do all the work on the reader, inside `bounded()`: objects are read, and
    streams decoded, when first used."""
    if _budget.get() is None:
        raise RuntimeError("open_untrusted outside bounded()")
    return PdfFileReader(io.BytesIO(data), strict=False, decode_limits=DECODE_LIMITS)


def check_page_tree(reader: PdfFileReader) -> int:
    """The number of pages, walking the page tree without recursion: TooComplex when it has
    more than MAX_PAGE_TREE_NODES nodes or meets a node twice (a loop, or a node listed twice,
    which makes a few objects stand for billions of pages)."""
    if "/Pages" not in reader.root:
        return 0
    seen: set[int] = set()
    pending = [reader.root.raw_get("/Pages")]
    pages = nodes = 0
    while pending:
        item = pending.pop()
        nodes += 1
        if isinstance(item, generic.IndirectObject):
            key = item.idnum
            if key in seen:
                raise TooComplex("a page tree node is listed twice")
            seen.add(key)
            item = item.get_object()
        if nodes > MAX_PAGE_TREE_NODES:
            raise TooComplex(f"more than {MAX_PAGE_TREE_NODES} page tree nodes")
        if not isinstance(item, generic.DictionaryObject):
            continue
        # Not .get(): pyHanko's dictionaries resolve references only through [].
        kids = item["/Kids"] if "/Kids" in item else None  # noqa: SIM401
        if isinstance(kids, generic.ArrayObject):
            if len(kids) > MAX_PAGE_TREE_NODES:
                raise TooComplex(f"more than {MAX_PAGE_TREE_NODES} page tree nodes")
            pending.extend(kids.raw_get(index) for index in range(len(kids)))
        else:
            pages += 1
    return pages
