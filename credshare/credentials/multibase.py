"""Multibase base58btc ('z' prefix) and the multicodec prefix of Ed25519 public keys, as
Multikey and Data Integrity proofs write them."""

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {character: position for position, character in enumerate(ALPHABET)}
# Multicodec varint for an Ed25519 public key (0xed), in front of the 32 raw bytes.
ED25519_PUBLIC_PREFIX = b"\xed\x01"


def base58btc_encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    encoded = ""
    while number:
        number, remainder = divmod(number, 58)
        encoded = ALPHABET[remainder] + encoded
    # Each leading zero byte is written as a leading '1'.
    leading_zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading_zeros + encoded


def base58btc_decode(text: str) -> bytes:
    number = 0
    for character in text:
        if character not in _INDEX:
            raise ValueError("not base58btc")
        number = number * 58 + _INDEX[character]
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    leading_ones = len(text) - len(text.lstrip("1"))
    return b"\0" * leading_ones + body


def multibase_encode(data: bytes) -> str:
    return "z" + base58btc_encode(data)


def multibase_decode(text: str) -> bytes:
    if not isinstance(text, str) or not text.startswith("z"):
        raise ValueError("only base58btc multibase ('z') is accepted")
    return base58btc_decode(text[1:])


def ed25519_public_key_multibase(raw_public_key: bytes) -> str:
    return multibase_encode(ED25519_PUBLIC_PREFIX + raw_public_key)


def ed25519_public_key_from_multibase(text: str) -> bytes:
    data = multibase_decode(text)
    if not data.startswith(ED25519_PUBLIC_PREFIX) or len(data) != 34:
        raise ValueError("not an Ed25519 Multikey")
    return data[2:]
