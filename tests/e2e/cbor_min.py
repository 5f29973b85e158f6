"""A small CBOR codec (RFC 8949, definite lengths, no floats) for the tests,
independent of our C code: encodes frames by hand and decodes attestation
documents and enclave answers."""
import struct


def _head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | ai]) + struct.pack(fmt, n)
    raise ValueError("too large")


def encode(x):
    if x is True:
        return b"\xf5"
    if x is False:
        return b"\xf4"
    if x is None:
        return b"\xf6"
    if isinstance(x, int):
        return _head(0, x) if x >= 0 else _head(1, -1 - x)
    if isinstance(x, bytes):
        return _head(2, len(x)) + x
    if isinstance(x, str):
        b = x.encode()
        return _head(3, len(b)) + b
    if isinstance(x, (list, tuple)):
        return _head(4, len(x)) + b"".join(encode(v) for v in x)
    if isinstance(x, dict):
        return _head(5, len(x)) + b"".join(encode(k) + encode(v) for k, v in x.items())
    raise TypeError(type(x))


def decode(data, pos=0):
    """Returns (value, next position). Tags are skipped (COSE_Sign1 may be tag 18)."""
    ib = data[pos]
    major, ai = ib >> 5, ib & 31
    pos += 1
    if major == 7:
        if ai in (20, 21, 22):
            return {20: False, 21: True, 22: None}[ai], pos
        raise ValueError(f"unsupported CBOR simple value {ib:#x}")
    if ai < 24:
        n = ai
    elif ai in (24, 25, 26, 27):
        size = 1 << (ai - 24)
        n = int.from_bytes(data[pos:pos + size], "big")
        pos += size
    else:
        raise ValueError(f"indefinite length or reserved head {ib:#x}")
    if major == 0:
        return n, pos
    if major == 1:
        return -1 - n, pos
    if major == 2:
        return bytes(data[pos:pos + n]), pos + n
    if major == 3:
        return bytes(data[pos:pos + n]).decode(), pos + n
    if major == 4:
        out = []
        for _ in range(n):
            v, pos = decode(data, pos)
            out.append(v)
        return out, pos
    if major == 5:
        out = {}
        for _ in range(n):
            k, pos = decode(data, pos)
            v, pos = decode(data, pos)
            out[k] = v
        return out, pos
    return decode(data, pos)  # major 6: a tag, then its content
