"""The CBOR subset of Nitro attestation documents (RFC 8949): definite-length
unsigned/negative integers, byte and text strings, arrays, maps, tags,
simple values false/true/null. Maps decode to lists of (key, value) pairs so
that duplicates and key order stay visible to the caller."""
import struct


class CborError(ValueError):
    pass


class Tag:
    def __init__(self, tag, value):
        self.tag, self.value = tag, value


def _head(data, i):
    if i >= len(data):
        raise CborError("cbor: truncated")
    ib = data[i]
    major, info = ib >> 5, ib & 0x1F
    i += 1
    if info < 24:
        return major, info, i
    sizes = {24: 1, 25: 2, 26: 4, 27: 8}
    if info not in sizes:
        raise CborError("cbor: indefinite or reserved length")
    n = sizes[info]
    if i + n > len(data):
        raise CborError("cbor: truncated")
    return major, int.from_bytes(data[i:i + n], "big"), i + n


def decode_item(data, i=0, depth=0):
    """Decodes one item at offset i: (value, next offset)."""
    if depth > 16:
        raise CborError("cbor: nested too deeply")
    major, arg, i = _head(data, i)
    if major == 0:
        return arg, i
    if major == 1:
        return -1 - arg, i
    if major in (2, 3):
        if i + arg > len(data):
            raise CborError("cbor: truncated string")
        raw = bytes(data[i:i + arg])
        if major == 3:
            try:
                return raw.decode("utf-8"), i + arg
            except UnicodeDecodeError as e:
                raise CborError("cbor: bad UTF-8") from e
        return raw, i + arg
    if major == 4:
        items = []
        for _ in range(arg):
            v, i = decode_item(data, i, depth + 1)
            items.append(v)
        return items, i
    if major == 5:
        pairs = []
        for _ in range(arg):
            k, i = decode_item(data, i, depth + 1)
            v, i = decode_item(data, i, depth + 1)
            pairs.append((k, v))
        return pairs, i
    if major == 6:
        v, i = decode_item(data, i, depth + 1)
        return Tag(arg, v), i
    simple = {20: False, 21: True, 22: None}
    if arg in simple and data[i - 1] & 0x1F == arg:
        return simple[arg], i
    raise CborError("cbor: unsupported simple or float value")


def decode(data):
    """Decodes exactly one item; trailing bytes are an error."""
    v, i = decode_item(data, 0)
    if i != len(data):
        raise CborError("cbor: trailing bytes")
    return v


def _enc_head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for info, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | info]) + struct.pack(fmt, n)
    raise CborError("cbor: integer too large")


def encode(v):
    """Encodes str, bytes, non-negative int, list and list-of-pairs maps (dict)."""
    if isinstance(v, bytes):
        return _enc_head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode("utf-8")
        return _enc_head(3, len(b)) + b
    if isinstance(v, bool) or v is None:
        raise CborError("cbor: simple values are not encoded here")
    if isinstance(v, int):
        return _enc_head(0, v) if v >= 0 else _enc_head(1, -1 - v)
    if isinstance(v, list):
        return _enc_head(4, len(v)) + b"".join(encode(x) for x in v)
    if isinstance(v, dict):
        return _enc_head(5, len(v)) + b"".join(encode(k) + encode(x) for k, x in v.items())
    raise CborError(f"cbor: cannot encode {type(v).__name__}")
