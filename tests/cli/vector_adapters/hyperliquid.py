"""Hyperliquid vectors (official Python SDK tests, ref impl == @nktkas/hyperliquid
0.32.2 == ccxt 4.5.84) through sigil.

r and s: sigil prints them as the Python SDK does (hex(int), no leading
zeros); the generated vectors pad them to 64 digits (viem/ethers style). Both
are the same integer, so r and s are compared numerically, and the output
must also be exactly Python's hex() of the expected value. v is compared
exactly. The post body is compared structurally: same keys in the same order
at every level (the action's key order is what was hashed), same JSON types.

connectionId, msgpack bytes and EIP-712 digests are not visible through the
CLI; tests/unit/test_hyperliquid.c and test_msgpack.c check them for every
vector, including the ones skipped here.
"""
from run_vectors import Case

SKIPPED = {}

# official_python_sdk_vectors name user-signed actions by primaryType.
USER_TYPES = {
    "HyperliquidTransaction:UsdSend": "usdSend",
    "HyperliquidTransaction:Withdraw": "withdraw3",
}


def _creds(private_key):
    return {"private_key": private_key}


def _check_sig(got, want):
    for part in ("r", "s"):
        g, w = got[part], want[part]
        assert isinstance(g, str) and g.startswith("0x"), f"signature.{part}: {g!r}"
        assert int(g, 16) == int(w, 16), f"signature.{part}: expected {w}, got {g}"
        assert g == hex(int(w, 16)), f"signature.{part}: expected Python hex() form, got {g}"
    v = got["v"]
    assert type(v) is int and v == want["v"], f"signature.v: expected {want['v']}, got {v!r}"


def _same(got, want, where):
    """Same structure, key order, JSON types and values."""
    assert type(got) is type(want), f"{where}: expected {type(want).__name__}, got {got!r}"
    if isinstance(want, dict):
        assert list(got) == list(want), f"{where}: keys {list(got)}, expected {list(want)}"
        for k in want:
            if where == "post_body" and k == "signature":
                _check_sig(got[k], want[k])
            else:
                _same(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, list):
        assert len(got) == len(want), f"{where}: {len(got)} items, expected {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            _same(g, w, f"{where}[{i}]")
    else:
        assert got == want, f"{where}: expected {want!r}, got {got!r}"


def _l1_case(name, inp, check, is_mainnet):
    request = {"action": inp["action"], "nonce": inp["nonce"],
               "vault_address": inp.get("vaultAddress"), "expires_after": inp.get("expiresAfter")}
    return Case(name, "hyperliquid", _creds(inp["private_key"]), request, check,
                network="mainnet" if is_mainnet else "testnet")


def _user_case(name, private_key, action, nonce, check):
    network = {"Mainnet": "mainnet", "Testnet": "testnet"}[action["hyperliquidChain"]]
    return Case(name, "hyperliquid", _creds(private_key), {"action": action, "nonce": nonce},
                check, network=network)


def _official(doc):
    for v in doc["official_python_sdk_vectors"]:
        inp, exp = v["inputs"], v["expected"]
        name = v["name"]
        if "r" not in exp:
            SKIPPED[name] = "hash-only vector (no signature); checked in test_hyperliquid.c"
            continue
        if "primaryType" in inp:
            msg = inp["message"]
            action = {"type": USER_TYPES[inp["primaryType"]],
                      "signatureChainId": inp["signatureChainId"], **msg}

            def check(out, exp=exp, action=action):
                _check_sig(out["signature"], exp)
                _same(out["action"], action, "action")
                _same(out["nonce"], action["time"], "nonce")
                assert list(out) == ["action", "nonce", "signature"], f"keys {list(out)}"

            yield _user_case(name, inp["private_key"], action, msg["time"], check)
            continue
        def check(out, exp=exp):
            _check_sig(out["signature"], exp)

        yield _l1_case(name, inp, check, inp["is_mainnet"])


def _generated(doc):
    for v in doc["vectors"]:
        inp, exp = v["inputs"], v["expected"]

        def check(out, exp=exp):
            _check_sig(out["signature"], exp["signature"])
            _same(out, exp["post_body"], "post_body")

        if "is_mainnet" in inp:
            yield _l1_case(v["name"], inp, check, inp["is_mainnet"])
        else:
            yield _user_case(v["name"], inp["private_key"], inp["action"],
                             inp["nonce_field_in_post_body"], check)


def cases(doc, vectors_dir):
    yield from _official(doc)
    yield from _generated(doc)
