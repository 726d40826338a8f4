"""JSON-LD processing for credentials, offline.

Only the contexts below can be loaded; any other URL is refused, so issuing or verifying a
credential never reaches the network. PyLD keeps processed contexts in its own LRU cache
(about 95% of a verification's cost is context processing, so the cache matters)."""

from pathlib import Path

from pyld import jsonld
from pyld.documentloader.frozen import BUNDLED_CONTEXTS, FrozenDocumentLoader

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
OPEN_BADGES_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"

_HERE = Path(__file__).parent / "contexts"

CONTEXTS = dict(
    BUNDLED_CONTEXTS,
    **{OPEN_BADGES_V3: _HERE / "ob-v3p0-context-3.0.3.json"},
)

document_loader = FrozenDocumentLoader(documents=CONTEXTS)


class JsonLdRejected(ValueError):
    """The document cannot be processed: an unknown context, or not JSON-LD at all."""


def canonize(document: dict) -> str:
    """RDF Dataset Canonicalization (RDFC-1.0, which PyLD calls URDNA2015) as N-Quads."""
    try:
        return jsonld.normalize(
            document,
            {
                "algorithm": "URDNA2015",
                "format": "application/n-quads",
                "documentLoader": document_loader,
            },
        )
    except jsonld.JsonLdError as error:
        raise JsonLdRejected(str(error).splitlines()[0]) from None
