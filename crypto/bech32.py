"""Bech32 (BIP 173) without its 90-character limit, as age uses it for keys.

Post-quantum recipients are about 1,960 characters long, so a stock Bech32
library refuses them. This is Bech32 (checksum constant 1), not Bech32m.
"""

from __future__ import annotations

from .errors import KeyFormatError

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_REV = {c: i for i, c in enumerate(_CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(_GENERATOR):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    acc = 0
    bits = 0
    out: list[int] = []
    max_value = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & max_value)
    if pad:
        if bits:
            out.append((acc << (to_bits - bits)) & max_value)
    elif bits >= from_bits or (acc << (to_bits - bits)) & max_value:
        raise KeyFormatError("invalid Bech32 padding")
    return out


def encode(hrp: str, data: bytes) -> str:
    """Encode `data` under the human-readable part `hrp`, in lowercase."""
    hrp = hrp.lower()
    values = _convert_bits(data, 8, 5, pad=True)
    polymod = _polymod([*_hrp_expand(hrp), *values, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[v] for v in values + checksum)


def decode(text: str) -> tuple[str, bytes]:
    """Return (lowercase hrp, data); reject mixed case and bad checksums."""
    if text.lower() != text and text.upper() != text:
        raise KeyFormatError("Bech32 string mixes upper and lower case")
    if any(not 33 <= ord(c) <= 126 for c in text):
        raise KeyFormatError("Bech32 string contains invalid characters")
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text):
        raise KeyFormatError("Bech32 string has no separator or is too short")
    hrp, rest = text[:pos], text[pos + 1 :]
    try:
        values = [_CHARSET_REV[c] for c in rest]
    except KeyError:
        raise KeyFormatError("Bech32 string contains invalid characters") from None
    if _polymod([*_hrp_expand(hrp), *values]) != 1:
        raise KeyFormatError("Bech32 checksum is wrong (a typo in the key?)")
    return hrp, bytes(_convert_bits(values[:-6], 5, 8, pad=False))


def decode_key(text: str, hrp: str, what: str) -> bytes:
    """Decode a key string, insisting on its type's prefix, in its case, as age does.

    Identities are written in upper case and recipients in lower case; age
    refuses the other case, so accepting it here would make keys that work
    with this package and fail with the stock tool.
    """
    found, data = decode(text)
    if found != hrp.lower() or not text.startswith(hrp):
        raise KeyFormatError(f"not {what}")
    return data
