"""Data Integrity proofs with the `eddsa-rdfc-2022` cryptosuite (W3C "Data Integrity EdDSA
Cryptosuites v1.0"), on Ed25519 keys.

Signing: the document (without its proof) and the proof options (with the document's
`@context`) are each canonicalized with RDFC-1.0 and hashed with SHA-256; the Ed25519
signature covers hash(proof options) followed by hash(document), and is written as
`proofValue`, multibase base58btc. Verification recomputes both hashes.

No maintained Python library implements the cryptosuite; `tests/test_interop.py` proves this
one against Digital Bazaar's verifier (Node)."""

import copy
import datetime
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from credshare.credentials.jsonld import canonize
from credshare.credentials.multibase import multibase_decode, multibase_encode

CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_TYPE = "DataIntegrityProof"


class ProofError(ValueError):
    """The proof is missing, malformed or does not verify; `code` says which."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _timestamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _hash_data(document: dict, proof_options: dict) -> bytes:
    options = dict(proof_options)
    options["@context"] = document["@context"]
    return (
        hashlib.sha256(canonize(options).encode()).digest()
        + hashlib.sha256(canonize(document).encode()).digest()
    )


def add_proof(
    document: dict,
    *,
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime.datetime,
    proof_purpose: str = "assertionMethod",
) -> dict:
    """A copy of the document with an `eddsa-rdfc-2022` proof."""
    unsigned = {key: value for key, value in document.items() if key != "proof"}
    proof = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": _timestamp(created),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    signature = private_key.sign(_hash_data(unsigned, proof))
    proof["proofValue"] = multibase_encode(signature)
    signed = copy.deepcopy(unsigned)
    signed["proof"] = proof
    return signed


@dataclass(frozen=True)
class VerifiedProof:
    verification_method: str
    created: str


def verify_proof(document: dict, *, public_key_for) -> VerifiedProof:
    """Check the document's single `eddsa-rdfc-2022` proof. `public_key_for(verification_method)`
    returns the raw Ed25519 public key, or raises ProofError("unknown_key", ...).
    Raises ProofError when the proof does not verify."""
    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise ProofError("no_proof", "The credential has no single proof.")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(
            "unsupported_proof", "Only DataIntegrityProof with eddsa-rdfc-2022 is accepted."
        )
    if proof.get("proofPurpose") != "assertionMethod":
        raise ProofError("proof_purpose", "The proof is not made for assertion.")
    method = proof.get("verificationMethod")
    if not isinstance(method, str):
        raise ProofError("malformed_proof", "The proof names no verification method.")
    try:
        signature = multibase_decode(proof.get("proofValue"))
    except ValueError:
        raise ProofError("malformed_proof", "The proof value is not base58btc.") from None
    if "@context" not in document:
        raise ProofError("malformed_proof", "The credential has no @context.")
    raw_key = public_key_for(method)
    unsigned = {key: value for key, value in document.items() if key != "proof"}
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    try:
        Ed25519PublicKey.from_public_bytes(raw_key).verify(signature, _hash_data(unsigned, options))
    except InvalidSignature:
        raise ProofError(
            "invalid_signature", "The signature does not match the credential's content."
        ) from None
    return VerifiedProof(verification_method=method, created=str(proof.get("created", "")))
