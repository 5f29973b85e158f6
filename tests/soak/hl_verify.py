"""Hyperliquid L1-action signatures checked in pure Python, independently of
Sigil's C code: msgpack (the subset actions use), Keccak-256, EIP-712 (the
"Agent" phantom-agent struct of the Python SDK) and secp256k1 public-key
recovery. Slow (a few ms per signature) but enough for a soak worker.

recover_l1_signer(action, nonce, sig, mainnet) -> the 0x address that signed.
self_test() checks all of it against tests/vectors/hyperliquid.json.
"""
import json
import os
import struct

# ---- Keccak-256 (the original padding 0x01, not SHA3's 0x06) ----------------
_RC = [0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
       0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
       0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
       0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
       0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
       0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008]
_ROT = [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61,
        56, 14]
_M = (1 << 64) - 1


def _keccak_f(a):
    for rc in _RC:
        c = [a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20] for x in range(5)]
        d = [c[(x - 1) % 5] ^ (((c[(x + 1) % 5] << 1) | (c[(x + 1) % 5] >> 63)) & _M)
             for x in range(5)]
        a = [a[i] ^ d[i % 5] for i in range(25)]
        b = [0] * 25
        for x in range(5):
            for y in range(5):
                i = x + 5 * y
                r = _ROT[i]
                b[y + 5 * ((2 * x + 3 * y) % 5)] = ((a[i] << r) | (a[i] >> (64 - r))) & _M \
                    if r else a[i]
        a = [b[i] ^ ((~b[(i % 5 + 1) % 5 + 5 * (i // 5)]) & b[(i % 5 + 2) % 5 + 5 * (i // 5)])
             for i in range(25)]
        a[0] ^= rc
    return a


def keccak256(data):
    rate = 136
    msg = bytearray(data) + b"\x01"
    msg += b"\x00" * ((-len(msg)) % rate)
    msg[-1] |= 0x80
    a = [0] * 25
    for off in range(0, len(msg), rate):
        block = struct.unpack_from("<17Q", msg, off)
        for i in range(17):
            a[i] ^= block[i]
        a = _keccak_f(a)
    return struct.pack("<4Q", *a[:4])


# ---- msgpack: maps (insertion order), arrays, str, bool, nil, ints ----------
_MSGPACK_CONST = {None: b"\xc0", True: b"\xc3", False: b"\xc2"}


def msgpack(v):
    if v is None or isinstance(v, bool):
        return _MSGPACK_CONST[v]
    if isinstance(v, int):
        if 0 <= v < 0x80:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack("b", v)
        for lo, hi, tag, fmt in ((0, 0xFF, 0xCC, ">B"), (0, 0xFFFF, 0xCD, ">H"),
                                 (0, 0xFFFFFFFF, 0xCE, ">I"), (0, (1 << 64) - 1, 0xCF, ">Q"),
                                 (-0x80, 0x7F, 0xD0, ">b"), (-0x8000, 0x7FFF, 0xD1, ">h"),
                                 (-0x80000000, 0x7FFFFFFF, 0xD2, ">i"),
                                 (-(1 << 63), (1 << 63) - 1, 0xD3, ">q")):
            if lo <= v <= hi:
                return bytes([tag]) + struct.pack(fmt, v)
        raise ValueError("integer out of msgpack range")
    if isinstance(v, str):
        b = v.encode()
        n = len(b)
        if n < 32:
            return bytes([0xA0 | n]) + b
        head = b"\xd9" + bytes([n]) if n < 0x100 else (
            b"\xda" + struct.pack(">H", n) if n < 0x10000 else b"\xdb" + struct.pack(">I", n))
        return head + b
    if isinstance(v, (list, dict)):
        n = len(v)
        small, tag16, tag32 = (0x90, b"\xdc", b"\xdd") if isinstance(v, list) else \
            (0x80, b"\xde", b"\xdf")
        head = bytes([small | n]) if n < 16 else (
            tag16 + struct.pack(">H", n) if n < 0x10000 else tag32 + struct.pack(">I", n))
        items = v if isinstance(v, list) else [x for kv in v.items() for x in kv]
        return head + b"".join(msgpack(x) for x in items)
    raise TypeError(f"msgpack: {type(v).__name__} not supported")


# ---- EIP-712: the SDK's phantom agent -----------------------------------------
def _type_hash(s):
    return keccak256(s.encode())


_DOMAIN_TYPE = _type_hash("EIP712Domain(string name,string version,uint256 chainId,"
                          "address verifyingContract)")
_AGENT_TYPE = _type_hash("Agent(string source,bytes32 connectionId)")
_DOMAIN_SEP = keccak256(_DOMAIN_TYPE + keccak256(b"Exchange") + keccak256(b"1")
                        + (1337).to_bytes(32, "big") + bytes(32))


def connection_id(action, nonce, vault_address=None, expires_after=None):
    data = msgpack(action) + struct.pack(">Q", nonce)
    data += b"\x00" if vault_address is None else b"\x01" + bytes.fromhex(vault_address[2:])
    if expires_after is not None:
        data += b"\x00" + struct.pack(">Q", expires_after)
    return keccak256(data)


def l1_digest(action, nonce, mainnet, vault_address=None, expires_after=None):
    cid = connection_id(action, nonce, vault_address, expires_after)
    agent = keccak256(_AGENT_TYPE + keccak256(b"a" if mainnet else b"b") + cid)
    return keccak256(b"\x19\x01" + _DOMAIN_SEP + agent)


# ---- secp256k1 (Jacobian coordinates) -------------------------------------------
_P = 2**256 - 2**32 - 977
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
      0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


def _jdouble(p):
    x, y, z = p
    if y == 0:
        return (0, 0, 0)
    ysq = y * y % _P
    s = 4 * x * ysq % _P
    m = 3 * x * x % _P
    nx = (m * m - 2 * s) % _P
    return (nx, (m * (s - nx) - 8 * ysq * ysq) % _P, 2 * y * z % _P)


def _jadd(p, q):
    if p[2] == 0:
        return q
    if q[2] == 0:
        return p
    x1, y1, z1 = p
    x2, y2, z2 = q
    z1s, z2s = z1 * z1 % _P, z2 * z2 % _P
    u1, u2 = x1 * z2s % _P, x2 * z1s % _P
    s1, s2 = y1 * z2s * z2 % _P, y2 * z1s * z1 % _P
    if u1 == u2:
        return _jdouble(p) if s1 == s2 else (0, 0, 0)
    h, r = u2 - u1, s2 - s1
    h2 = h * h % _P
    h3 = h * h2 % _P
    u1h2 = u1 * h2 % _P
    nx = (r * r - h3 - 2 * u1h2) % _P
    return (nx, (r * (u1h2 - nx) - s1 * h3) % _P, h * z1 * z2 % _P)


def _jmul(p, k):
    acc = (0, 0, 0)
    for bit in bin(k)[2:]:
        acc = _jdouble(acc)
        if bit == "1":
            acc = _jadd(acc, p)
    return acc


def _affine(p):
    if p[2] == 0:
        return None
    zi = pow(p[2], -1, _P)
    return (p[0] * zi * zi % _P, p[1] * zi * zi * zi % _P)


def address_of_point(pt):
    x, y = pt
    return "0x" + keccak256(x.to_bytes(32, "big") + y.to_bytes(32, "big"))[-20:].hex()


def address_of_key(secret_hex):
    k = int(secret_hex.removeprefix("0x"), 16)
    return address_of_point(_affine(_jmul((*_G, 1), k)))


def recover(digest, r, s, v):
    """The address whose key made (r, s, v) over digest; None if invalid."""
    if not (0 < r < _N and 0 < s < _N) or v not in (27, 28):
        return None
    x = r
    alpha = (x * x * x + 7) % _P
    y = pow(alpha, (_P + 1) // 4, _P)
    if y * y % _P != alpha:
        return None
    if y % 2 != v - 27:
        y = _P - y
    z = int.from_bytes(digest, "big") % _N
    ri = pow(r, -1, _N)
    q = _jadd(_jmul((x, y, 1), s * ri % _N), _jmul((*_G, 1), (-z * ri) % _N))
    pt = _affine(q)
    return None if pt is None else address_of_point(pt)


def recover_l1_signer(action, nonce, sig, mainnet, vault_address=None, expires_after=None):
    r, s, v = int(sig["r"], 16), int(sig["s"], 16), sig["v"]
    return recover(l1_digest(action, nonce, mainnet, vault_address, expires_after), r, s, v)


def self_test(vectors_path):
    """Raises AssertionError unless every L1 vector with a signature checks out."""
    with open(vectors_path) as f:
        doc = json.load(f)
    n = 0
    for vec in doc["official_python_sdk_vectors"]:
        inp, exp = vec["inputs"], vec["expected"]
        if "r" not in exp or "action" not in inp or "primaryType" in inp:
            continue
        if "msgpack_action_hex" in exp:
            assert msgpack(inp["action"]).hex() == exp["msgpack_action_hex"], vec["name"]
        cid = connection_id(inp["action"], inp["nonce"], inp.get("vaultAddress"),
                            inp.get("expiresAfter"))
        if "connectionId" in exp:
            assert "0x" + cid.hex() == exp["connectionId"], vec["name"]
        dig = l1_digest(inp["action"], inp["nonce"], inp["is_mainnet"], inp.get("vaultAddress"),
                        inp.get("expiresAfter"))
        if "eip712_digest" in exp:
            assert "0x" + dig.hex() == exp["eip712_digest"], vec["name"]
        got = recover(dig, int(exp["r"], 16), int(exp["s"], 16), exp["v"])
        assert got == address_of_key(inp["private_key"]), vec["name"]
        n += 1
    assert n > 0, "no Hyperliquid L1 vectors found"
    return n


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    print(self_test(os.path.join(here, "..", "vectors", "hyperliquid.json")), "vectors ok")
