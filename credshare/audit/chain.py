"""How an audit entry's hash is made, and how the whole chain is checked.

hash = SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of the entry's fields,
its sequence number and the previous entry's hash. Every field is written in a form that
reads back identically from SQLite and PostgreSQL (times in UTC with microseconds, ids as
text, the IP as text), so that the hash computed at append time is recomputed exactly.

A chain shows any change, removal or insertion before its last entry; removing entries from
its end shows only against a head recorded elsewhere (the count and last hash that
`audit_verify` prints, kept by whoever runs it)."""

import datetime
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

GENESIS_HASH = "0" * 64


def entry_fields(entry) -> dict:
    """The fields of ENTRY (an AuditEntry, saved or not) that its hash covers."""
    return {
        "sequence": entry.sequence,
        "at": entry.at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "event": entry.event,
        "actor_kind": entry.actor_kind,
        "actor_user": entry.actor_user_id,
        "actor_api_key": str(entry.actor_api_key) if entry.actor_api_key else None,
        "actor_label": entry.actor_label,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "organization_ids": list(entry.organization_ids),
        "ip": entry.ip,
        "request_id": entry.request_id,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
    }


def canonical_json(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry) -> str:
    return hashlib.sha256(canonical_json(entry_fields(entry))).hexdigest()


@dataclass(frozen=True)
class Break:
    """The first entry where the chain does not hold, and why."""

    sequence: int
    reason: str


@dataclass(frozen=True)
class Verdict:
    checked: int
    broken: Break | None
    last_hash: str = ""

    @property
    def intact(self) -> bool:
        return self.broken is None


def chain_check(entries: Iterator) -> Verdict:
    """Walk ENTRIES in sequence order (each with its organizations' links prefetched as
    `linked_ids`, a sorted list) and stop at the first one that does not hold: a sequence
    number out of place (an entry removed or inserted), a previous hash that is not the
    previous entry's (entries reordered or replaced), a hash that is not its content's (an
    entry changed), or organization links that differ from the hashed ids."""
    expected_sequence, previous_hash, checked = 1, GENESIS_HASH, 0
    for entry in entries:
        if entry.sequence != expected_sequence:
            return Verdict(
                checked,
                Break(
                    entry.sequence,
                    f"sequence {entry.sequence} where {expected_sequence} was expected "
                    "(an entry is missing or was inserted)",
                ),
            )
        if entry.prev_hash != previous_hash:
            return Verdict(
                checked,
                Break(entry.sequence, "its previous hash is not the previous entry's hash"),
            )
        if entry_hash(entry) != entry.hash:
            return Verdict(
                checked, Break(entry.sequence, "its content does not match its hash (changed)")
            )
        if entry.linked_ids != sorted(entry.organization_ids):
            return Verdict(
                checked,
                Break(entry.sequence, "its organization links differ from its hashed ones"),
            )
        checked += 1
        expected_sequence, previous_hash = entry.sequence + 1, entry.hash
    return Verdict(checked, None, previous_hash if checked else "")
