"""RFC 8785 (JCS) canonical JSON, numbers as ECMAScript prints them.

Used for the request hash a client signature covers (docs/POLICY.md
"Client-signed requests"), receipts (docs/RECEIPTS.md) and the policy hash.
"""
import json
from decimal import Decimal

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
            "\t": "\\t"}


def _string(s):
    out = ['"']
    for ch in s:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def es_number(x):
    """ECMAScript Number::toString of float(x) (shortest round-trip digits)."""
    v = float(x)
    if v != v or v in (float("inf"), float("-inf")):
        raise ValueError("JCS: NaN and infinities have no JSON form")
    if v == 0:
        return "0"
    if v < 0:
        return "-" + es_number(-v)
    _, digits, exp = Decimal(repr(v)).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    exp += len(digits) - len(ds)
    k = len(ds)
    n = exp + k
    if k <= n <= 21:
        return ds + "0" * (n - k)
    if 0 < n <= 21:
        return ds[:n] + "." + ds[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + ds
    e = n - 1
    mant = ds if k == 1 else ds[0] + "." + ds[1:]
    return mant + "e" + ("+" if e >= 0 else "-") + str(abs(e))


def _utf16_key(k):
    return k.encode("utf-16-be")


def _emit(v, out):
    if v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif isinstance(v, str):
        out.append(_string(v))
    elif isinstance(v, (int, float)):
        out.append(es_number(v))
    elif isinstance(v, dict):
        out.append("{")
        for i, k in enumerate(sorted(v, key=_utf16_key)):
            if i:
                out.append(",")
            out.append(_string(k))
            out.append(":")
            _emit(v[k], out)
        out.append("}")
    elif isinstance(v, (list, tuple)):
        out.append("[")
        for i, item in enumerate(v):
            if i:
                out.append(",")
            _emit(item, out)
        out.append("]")
    else:
        raise TypeError(f"JCS: cannot encode {type(v).__name__}")


def canonical(value):
    """The RFC 8785 bytes of a parsed JSON value."""
    out = []
    _emit(value, out)
    return "".join(out).encode("utf-8")


def _no_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError(f"duplicate JSON key {k!r}")
        obj[k] = v
    return obj


def loads_strict(text):
    """Parses JSON text, refusing duplicate keys (as the gateway does)."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")
    return json.loads(text, object_pairs_hook=_no_duplicates)


def canonical_text(text):
    """The RFC 8785 bytes of JSON text."""
    return canonical(loads_strict(text))


def compact(value):
    """Compact JSON text (no whitespace, member order kept, raw UTF-8)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def member_spans(text):
    """The exact text of each top-level member of a JSON object:
    {name: raw value text}. Lets a verifier hash what the server sent,
    byte for byte (e.g. `signed` for a receipt's output_hash)."""
    dec = json.JSONDecoder()
    spans = {}
    i = _ws(text, 0)
    if text[i:i + 1] != "{":
        raise ValueError("not a JSON object")
    i = _ws(text, i + 1)
    if text[i:i + 1] == "}":
        return spans
    while True:
        key, i = dec.raw_decode(text, i)
        i = _ws(text, i)
        if text[i:i + 1] != ":":
            raise ValueError("malformed JSON object")
        start = _ws(text, i + 1)
        _, end = dec.raw_decode(text, start)
        spans[key] = text[start:end]
        i = _ws(text, end)
        if text[i:i + 1] == "}":
            return spans
        if text[i:i + 1] != ",":
            raise ValueError("malformed JSON object")
        i = _ws(text, i + 1)


def _ws(text, i):
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i
