"""JSON-LD processing for credentials, offline.

Only the contexts below can be loaded; any other URL is refused, so issuing or verifying a
credential never reaches the network.

Processing the contexts is most of the cost of canonicalizing a credential (the Open Badges
context defines a scoped context for each of its types, processed again for every node of
that type), and PyLD reuses processed contexts only in part:
- it caches a remote context across calls only when the loader tags the document as static;
- it keys processed contexts by the active context they were processed on, but a type-scoped
  context is processed on a fresh copy of the active context each time, so those never hit.
`_Processor` remembers every processed context, keyed by the active context (PyLD gives each
a unique id and never changes it once frozen) and the local context, and the expansion of
every term; `_Canonicalization` skips a needless deep copy. The output is PyLD's own,
unchanged: `tests/test_canonical.py` compares it with a plain `jsonld.normalize`. Together
they make a credential's canonicalization four to five times faster.
"""

import json
import threading
from pathlib import Path

from pyld import jsonld
from pyld.canon import URDNA2015
from pyld.documentloader.frozen import BUNDLED_CONTEXTS

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
OPEN_BADGES_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"

_HERE = Path(__file__).parent / "contexts"

CONTEXTS = dict(
    BUNDLED_CONTEXTS,
    **{OPEN_BADGES_V3: _HERE / "ob-v3p0-context-3.0.3.json"},
)

# Processed contexts and expanded terms remembered (a credential of ours needs about a dozen
# and a hundred); past these many the memory starts again, so that crafted inputs cannot make
# it grow without end.
MAX_PROCESSED_CONTEXTS = 2000
MAX_EXPANDED_TERMS = 20000


class JsonLdRejected(ValueError):
    """The document cannot be processed: an unknown context, or not JSON-LD at all."""


class OfflineDocumentLoader:
    """Serves the allowed contexts, each parsed once and then never changed, tagged static so
    that PyLD keeps its resolved form across calls. Any other URL is refused."""

    def __init__(self, documents: dict[str, Path | dict]):
        self._sources = dict(documents)
        self._parsed: dict[str, dict] = {}
        # id() of every object inside the parsed contexts: these live as long as the loader
        # and are never modified, so their identity stands for their content.
        self._known_ids: set[int] = set()
        self._lock = threading.Lock()

    def __call__(self, url: str, options: dict | None = None) -> dict:
        document = self._parsed.get(url)
        if document is None:
            document = self._load(url)
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": document,
            "tag": "static",
        }

    def _load(self, url: str) -> dict:
        source = self._sources.get(url)
        if source is None:
            raise jsonld.JsonLdError(
                "Refusing to load a document outside the allowed contexts.",
                "jsonld.LoadDocumentError",
                {"url": url},
                code="loading document failed",
            )
        with self._lock:
            if url not in self._parsed:
                if isinstance(source, Path):
                    source = json.loads(source.read_text(encoding="utf-8"))
                self._remember_ids(source)
                self._parsed[url] = source
            return self._parsed[url]

    def _remember_ids(self, value) -> None:
        if isinstance(value, dict):
            self._known_ids.add(id(value))
            for item in value.values():
                self._remember_ids(item)
        elif isinstance(value, list):
            self._known_ids.add(id(value))
            for item in value:
                self._remember_ids(item)

    def is_known(self, value) -> bool:
        """Whether VALUE is (part of) one of the parsed contexts."""
        return id(value) in self._known_ids


document_loader = OfflineDocumentLoader(CONTEXTS)

# What PyLD freezes a context into once it has finished processing it.
_FROZEN = type(jsonld.freeze({}))

_processed: dict[tuple, dict] = {}
_expanded_terms: dict[tuple, str | None] = {}


def _context_key(local_context):
    """A key standing for a local context's content, or None when it has none we can trust:
    URLs, null, and our own parsed contexts' objects (by identity), or lists of those."""
    if isinstance(local_context, str):
        return local_context
    if local_context is None or local_context is False:
        return (None,)
    if isinstance(local_context, list):
        keys = tuple(_context_key(item) for item in local_context)
        return None if None in keys else keys
    if document_loader.is_known(local_context):
        return ("id", id(local_context))
    return None


def _refuse_import(local_context) -> None:
    """No context of ours uses @import, and PyLD merges a context's @import into the imported
    document in place: one crafted credential would rewrite the contexts every later call
    reads."""
    contexts = local_context if isinstance(local_context, list) else [local_context]
    for context in contexts:
        if isinstance(context, dict) and "@import" in context:
            raise jsonld.JsonLdError(
                "@import is not accepted.",
                "jsonld.SyntaxError",
                {"context": context},
                code="invalid context entry",
            )


class _Processor(jsonld.JsonLdProcessor):
    """PyLD's processor, remembering processed contexts and expanded terms between calls (see
    the module's docstring). Only results on a frozen active context are kept: PyLD freezes
    every context it has finished processing and reuses it as is; an unfrozen one is still
    being built."""

    def _expand_iri(self, active_ctx, value, base=None, vocab=False, local_ctx=None, defined=None):
        # Terms (keys and types, vocab=True) recur in every credential; identifiers do not.
        # Outside context processing (no local_ctx) the expansion depends on nothing else.
        if not (vocab and local_ctx is None and isinstance(active_ctx, _FROZEN)):
            return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
        if not isinstance(value, str):
            return value
        key = (active_ctx["_uuid"], value, base)
        try:
            return _expanded_terms[key]
        except KeyError:
            pass
        expanded = super()._expand_iri(active_ctx, value, base, vocab)
        if len(_expanded_terms) >= MAX_EXPANDED_TERMS:
            _expanded_terms.clear()
        _expanded_terms[key] = expanded
        return expanded

    def _process_context(
        self,
        active_ctx,
        local_ctx,
        options,
        override_protected=False,
        propagate=True,
        validate_scoped=True,
        cycles=None,
    ):
        _refuse_import(local_ctx)
        key = None
        if isinstance(active_ctx, _FROZEN):
            local_key = _context_key(local_ctx)
            if local_key is not None:
                key = (
                    active_ctx["_uuid"],
                    local_key,
                    override_protected,
                    propagate,
                    validate_scoped,
                    options.get("base"),
                    options.get("processingMode"),
                )
                processed = _processed.get(key)
                if processed is not None:
                    return processed
        processed = super()._process_context(
            active_ctx,
            local_ctx,
            options,
            override_protected=override_protected,
            propagate=propagate,
            validate_scoped=validate_scoped,
            cycles=cycles,
        )
        if key is not None and isinstance(processed, _FROZEN):
            if len(_processed) >= MAX_PROCESSED_CONTEXTS:
                _processed.clear()
            _processed[key] = processed
        return processed


class _Canonicalization(URDNA2015):
    """PyLD's RDFC-1.0 (URDNA2015), but for one step: hashing a blank node's quads
    deep-copies each blank node term to rename it, a tenth of the canonicalization's time;
    a term is a flat dictionary of strings, so a shallow copy is the same."""

    def modify_first_degree_component(self, id_, component, key):
        if component["type"] != "blank node":
            return component
        return {**component, "value": "_:a" if component["value"] == id_ else "_:z"}


def canonize(document: dict) -> str:
    """RDF Dataset Canonicalization (RDFC-1.0, which PyLD calls URDNA2015) as N-Quads: what
    PyLD's jsonld.normalize does, in its two steps."""
    try:
        dataset = _Processor().to_rdf(document, {"documentLoader": document_loader})
    except jsonld.JsonLdError as error:
        raise JsonLdRejected(str(error).splitlines()[0]) from None
    return _Canonicalization().main(dataset, {"format": "application/n-quads"})
