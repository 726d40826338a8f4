"""Bitstring Status List (W3C) encoding: a list of bits, bit 0 the most significant bit of the
first byte, GZIP-compressed and written as multibase base64url without padding ('u')."""

import base64
import gzip
import io


def encode(revoked_indexes, size: int) -> str:
    bits = bytearray(size // 8)
    for index in revoked_indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0: the same bits always give the same string.
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode()


# A compressed list of 131,072 bits is a few kilobytes; refuse anything that inflates far past
# the largest list we could have published (a "zip bomb" in a forged status list).
MAX_LIST_BYTES = 16 * 1024 * 1024 // 8


def is_set(encoded_list: str, index: int) -> bool:
    """Whether bit INDEX is set. Raises ValueError when the list is malformed or too short."""
    if not isinstance(encoded_list, str) or not encoded_list.startswith("u"):
        raise ValueError("the list is not multibase base64url")
    body = encoded_list[1:]
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        bits = gzip.GzipFile(fileobj=io.BytesIO(compressed)).read(MAX_LIST_BYTES + 1)
    except (OSError, EOFError, ValueError) as error:  # BadGzipFile is an OSError
        raise ValueError(f"the list is not a GZIP bitstring: {error}") from None
    if len(bits) > MAX_LIST_BYTES:
        raise ValueError("the list is too large")
    if index < 0 or index // 8 >= len(bits):
        raise ValueError("the index is outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))
