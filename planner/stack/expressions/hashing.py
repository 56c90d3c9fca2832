"""ARM's uniqueString() and guid(), computed as ARM computes them, so names built with them match Azure's."""

from __future__ import annotations

import uuid

from .values import MASK64

_MASK32 = 0xFFFFFFFF
_GUID_NAMESPACE = uuid.UUID("11fb06fb-712d-4ddd-98c7-e71bbd588830")
_BASE32_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def _rotl32(value: int, amount: int) -> int:
    return ((value << amount) | (value >> (32 - amount))) & _MASK32


def _fmix32(value: int) -> int:
    value ^= value >> 16
    value = (value * 0x85EBCA6B) & _MASK32
    value ^= value >> 13
    value = (value * 0xC2B2AE35) & _MASK32
    value ^= value >> 16
    return value


def _murmur64(data: bytes) -> int:
    """Microsoft's MurmurHash64 variant used by ARM's uniqueString()."""
    c1, c2 = 0x239B961B, 0xAB0E9789
    h1 = h2 = 0
    length = len(data)
    full = length - length % 8
    for i in range(0, full, 8):
        k1 = int.from_bytes(data[i : i + 4], "little")
        k2 = int.from_bytes(data[i + 4 : i + 8], "little")
        k1 = (_rotl32((k1 * c1) & _MASK32, 15) * c2) & _MASK32
        h1 ^= k1
        h1 = (_rotl32(h1, 19) + h2) & _MASK32
        h1 = (h1 * 5 + 0x561CCD1B) & _MASK32
        k2 = (_rotl32((k2 * c2) & _MASK32, 17) * c1) & _MASK32
        h2 ^= k2
        h2 = (_rotl32(h2, 13) + h1) & _MASK32
        h2 = (h2 * 5 + 0x0BCAA747) & _MASK32
    tail = length - full
    if tail:
        k1 = int.from_bytes(data[full : full + min(4, tail)], "little")
        h1 ^= (_rotl32((k1 * c1) & _MASK32, 15) * c2) & _MASK32
        if tail > 4:
            k2 = int.from_bytes(data[full + 4 : length], "little")
            h2 ^= (_rotl32((k2 * c2) & _MASK32, 17) * c1) & _MASK32
    h1 ^= length & _MASK32
    h2 ^= length & _MASK32
    h1 = (h1 + h2) & _MASK32
    h2 = (h2 + h1) & _MASK32
    h1 = _fmix32(h1)
    h2 = _fmix32(h2)
    h1 = (h1 + h2) & _MASK32
    h2 = (h2 + h1) & _MASK32
    return (h2 << 32) | h1


def unique_string(*parts: str) -> str:
    """ARM's uniqueString(): a 13-character base32 rendering of a 64-bit Murmur hash."""
    value = _murmur64("-".join(parts).encode("utf-8"))
    chars = []
    for _ in range(13):
        chars.append(_BASE32_ALPHABET[value >> 59])
        value = (value << 5) & MASK64
    return "".join(chars)


def arm_guid(*parts: str) -> str:
    """ARM's guid(): a name-based (v5) UUID in ARM's fixed namespace."""
    return str(uuid.uuid5(_GUID_NAMESPACE, "-".join(parts)))
