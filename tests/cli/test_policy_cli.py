#!/usr/bin/env python3
"""`sigil policy lint` and `sigil policy sign`.

lint: a good policy has no warnings; each warning is triggered by a policy that
has the risky setting and absent from one that does not; parse errors exit 2
with a typed error naming the field. sign: the body of PUT /v1/keys/{id}/policy,
whose signature is checked with libsodium (ctypes, tests/e2e/e2e_util.py) over
the v2 message rebuilt from docs/POLICY.md (cli_util.py).
Usage: test_policy_cli.py <path-to-sigil> <tests-dir>
"""
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_util import (check, error_of, finish, jcs, keygen, policy_v2_message,  # noqa: E402
                      run)
from e2e_util import ed25519_keypair, ed25519_sign, ed25519_verify  # noqa: E402

NOW = int(time.time())
DAY = 24 * 3600


# ---- policies ----
def good_policy():
    """okx (its signature binds the path), every rule set, nothing risky."""
    return {"version": 3, "tenant": "acme", "venue": "okx", "network": "mainnet",
            "actions": ["order", "cancel", "read"],
            "not_before": NOW - 3600, "not_after": NOW + 30 * DAY, "skew_ms": 5000,
            "http": {"methods": ["GET", "POST"], "allow_paths": ["/api/v5/"]},
            "symbols": {"BTC-USDT": {"max_qty": "0.5", "max_notional": "50000",
                                     "sides": ["buy", "sell"]}},
            "limits": {"requests_per_minute": 600, "orders_per_minute": 60}}


def variant(**changes):
    p = good_policy()
    for k, v in changes.items():
        if v is None:
            p.pop(k, None)
        else:
            p[k] = v
    return p


def hyperliquid(**changes):
    base = {"venue": "hyperliquid", "http": None,
            "symbols": {"0": {"max_qty": "1", "size_decimals": 4}}}
    base.update(changes)
    return variant(**base)


def lint(tmp, policy, *extra, text=None):
    path = os.path.join(tmp, "policy.json")
    with open(path, "w") as f:
        f.write(text if text is not None else json.dumps(policy, indent=1))
    rc, out, err = run("policy", "lint", path, *extra)
    return rc, (json.loads(out) if rc == 0 else None), err


def codes(out):
    return [w["code"] for w in out["warnings"]] if out else None


def test_lint_good(tmp):
    p = good_policy()
    rc, out, err = lint(tmp, p)
    check(rc == 0 and out is not None, "lint: good policy accepted", err)
    if out is None:
        return
    check(out["ok"] is True and out["warnings"] == [], "lint: good policy has no warnings",
          out["warnings"])
    check(out["version"] == 3 and out["venue"] == "okx" and out["network"] == "mainnet",
          "lint: version, venue, network")
    import hashlib
    check(out["policy_hash"] == hashlib.sha256(jcs(p).encode()).hexdigest(),
          "lint: policy_hash is SHA-256 of the canonical form")
    check(list(out) == ["ok", "policy_hash", "version", "venue", "network", "warnings"],
          "lint: output members in order", list(out))
    rc, out, err = lint(tmp, p, "--venue", "okx", "--network", "mainnet")
    check(rc == 0, "lint: matching --venue/--network accepted", err)


# code -> (policies that have the setting, policies that do not)
WARNINGS = {
    "all_actions": ([variant(actions=["*"])], [good_policy()]),
    "no_destinations": (
        [variant(actions=["order", "withdraw"]), variant(actions=["transfer"]),
         variant(actions=["withdraw"], destinations=[])],
        [variant(actions=["order", "withdraw"],
                 destinations=["0x8ba1f109551bd432803012645ac136ddd64dba72"])]),
    "no_agents": (
        [hyperliquid(actions=["order", "agent"]), hyperliquid(actions=["agent"], agents=[]),
         variant(venue="aster", http=None, actions=["agent"])],
        [hyperliquid(actions=["order", "agent"],
                     agents=["0x8ba1f109551bd432803012645ac136ddd64dba72"]),
         hyperliquid(actions=["order"])]),
    "order_without_symbols": ([variant(symbols=None)],
                              [good_policy(), variant(symbols=None, actions=["read"])]),
    "symbols_unused": ([variant(actions=["read"]), variant(actions=["read", "withdraw"],
                                                           destinations=["x"])],
                       [good_policy(), variant(actions=["cancel"]),
                        variant(actions=["modify"])]),
    "expired": ([variant(not_after=NOW - 10, not_before=None)], [good_policy()]),
    "long_validity": ([variant(not_after=NOW + 91 * DAY)],
                      [good_policy(), variant(not_after=NOW + 89 * DAY)]),
    "no_limits": ([variant(limits=None)],
                  [good_policy(), variant(limits={"daily_notional": "1000"})]),
    "large_skew": ([variant(skew_ms=60001), variant(skew_ms=300000)],
                   [variant(skew_ms=60000), variant(skew_ms=None)]),
    "path_rules_unbound": (
        [variant(venue="binance", symbols={"BTCUSDT": {"max_qty": "1"}}),
         variant(venue="bybit", http={"deny_paths": ["/v5/asset/"]}),
         variant(venue="aster", http={"methods": ["POST"]})],
        [good_policy(), variant(venue="binance", http=None,
                                symbols={"BTCUSDT": {"max_qty": "1"}})]),
}


def test_lint_warnings(tmp):
    for code, (having, lacking) in WARNINGS.items():
        for i, p in enumerate(having):
            rc, out, err = lint(tmp, p)
            check(rc == 0 and code in codes(out), f"lint: {code} raised ({i})",
                  err or codes(out))
            if out:
                w = [w for w in out["warnings"] if w["code"] == code]
                check(w and len(w[0]["message"]) > 20, f"lint: {code} explains itself")
        for i, p in enumerate(lacking):
            rc, out, err = lint(tmp, p)
            check(rc == 0 and code not in codes(out), f"lint: {code} absent ({i})",
                  err or codes(out))


def test_lint_errors(tmp):
    good = json.dumps(good_policy())
    cases = [
        ("bad JSON", good[:-1], "bad_json", None),
        ("trailing comma", good[:-1] + ",}", "bad_json", None),
        ("unknown field", json.dumps(variant(colour="blue")), "unknown_field", "policy.colour"),
        ("duplicate key", good[:-1] + ',"version":4}', "duplicate_key", "version"),
        ("bad decimal", json.dumps(variant(symbols={"BTC-USDT": {"max_qty": "1e5"}})), None,
         "policy.symbols.BTC-USDT.max_qty"),
        ("negative decimal", json.dumps(variant(symbols={"BTC-USDT": {"max_qty": "-1"}})), None,
         "max_qty"),
        ("missing field", json.dumps(variant(not_after=None)), "missing_field",
         "policy.not_after"),
        ("duplicate action", json.dumps(variant(actions=["order", "order"])), None,
         "policy.actions[1]"),
        ("unknown action", json.dumps(variant(actions=["trade"])), None, "policy.actions[0]"),
        ("null member", json.dumps(variant(skew_ms=0)).replace('"skew_ms": 0', '"skew_ms": null'),
         None, "skew_ms"),
        ("fractional number", good.replace('"version": 3', '"version": 3.5'), None, "version"),
        ("not an object", "[1, 2]", None, None),
    ]
    for what, text, code, field in cases:
        rc, out, err = lint(tmp, None, text=text)
        e = error_of(err)
        check(rc == 2 and out is None and e["code"] is not None and
              (code is None or e["code"] == code) and (field is None or field in e["message"]),
              f"lint error: {what}", err)
    rc, _, err = lint(tmp, good_policy(), "--venue", "binance")
    e = error_of(err)
    check(rc == 2 and e["code"] == "bad_field" and "venue" in e["message"],
          "lint: --venue mismatch is an error", err)
    rc, _, err = lint(tmp, good_policy(), "--network", "testnet")
    e = error_of(err)
    check(rc == 2 and e["code"] == "bad_field" and "network" in e["message"],
          "lint: --network mismatch is an error", err)
    rc, _, err = lint(tmp, good_policy(), "--network", "devnet")
    check(rc == 2 and error_of(err)["code"] == "usage", "lint: bad --network is usage", err)
    rc, _, err = run("policy", "lint")
    check(rc == 2 and error_of(err)["code"] == "usage", "lint: no FILE is usage", err)
    rc, _, err = run("policy", "lint", os.path.join(tmp, "missing.json"))
    check(rc == 2 and error_of(err)["code"] == "io_error", "lint: missing FILE", err)
    rc, _, err = run("policy")
    check(rc == 2 and error_of(err)["code"] == "usage", "policy without subcommand", err)


# ---- sign ----
KEY_ID = "0123456789abcdef0123456789abcdef"


def sign(tmp, policy_text, owner, key_id=KEY_ID):
    path = os.path.join(tmp, "update.json")
    with open(path, "w") as f:
        f.write(policy_text)
    return run("policy", "sign", "--policy", path, "--owner-key", owner, "--key-id", key_id)


def test_sign(tmp):
    owner, seed, pk = keygen(tmp, "owner.json")
    p = good_policy()
    text = json.dumps(p, indent=2)  # whitespace the output must drop
    rc, out, err = sign(tmp, text, owner)
    check(rc == 0, "sign: accepted", err)
    if rc != 0:
        return
    line = out.rstrip("\n")
    check("\n" not in line and out.endswith("\n"), "sign: one line")
    compact = json.dumps(p, separators=(",", ":"))
    check(line == '{"policy":' + compact + ',"policy_signature":"' + line[-130:-2] + '"}',
          "sign: exact body, policy with whitespace removed, members as in the file", line)
    body = json.loads(line)
    sig = bytes.fromhex(body["policy_signature"])
    msg = policy_v2_message(p, KEY_ID)
    check(len(sig) == 64 and ed25519_verify(pk, msg, sig), "sign: v2 signature verifies")
    _, sk = ed25519_keypair(seed)
    check(ed25519_sign(sk, msg) == sig, "sign: equals the Python signature of the v2 message")
    other = "fedcba9876543210fedcba9876543210"
    rc, out2, err = sign(tmp, text, owner, key_id=other)
    sig2 = bytes.fromhex(json.loads(out2)["policy_signature"]) if rc == 0 else b""
    check(rc == 0 and sig2 != sig, "sign: another key id gives another signature", err)
    other_msg = policy_v2_message(p, other)
    check(not ed25519_verify(pk, other_msg, sig) and ed25519_verify(pk, other_msg, sig2),
          "sign: a signature fits one key id")
    p4 = variant(version=4)
    rc, out3, _ = sign(tmp, json.dumps(p4), owner)
    check(rc == 0 and ed25519_verify(pk, policy_v2_message(p4, KEY_ID),
                                     bytes.fromhex(json.loads(out3)["policy_signature"])),
          "sign: the version is bound")

    # Refusals.
    _, seed_b, pk_b = keygen(tmp, "other.json")
    mixed = os.path.join(tmp, "mixed.json")
    with open(mixed, "w") as f:
        json.dump({"type": "ed25519", "public_key": pk.hex(), "secret_key": seed_b.hex()}, f)
    rc, out, err = sign(tmp, text, mixed)
    e = error_of(err)
    check(rc == 2 and out == "" and e["code"] == "bad_credentials" and
          "--owner-key" in e["message"], "sign: owner key halves that do not match", err)
    check(seed_b.hex() not in err and seed.hex() not in err, "sign: no secret in the error")
    pub_only = os.path.join(tmp, "pub.json")
    with open(pub_only, "w") as f:
        json.dump({"public_key": pk.hex()}, f)
    rc, _, err = sign(tmp, text, pub_only)
    check(rc == 2 and error_of(err)["code"] == "missing_field", "sign: key file without secret",
          err)
    for bad in ("0123", KEY_ID.upper(), KEY_ID + "00", "g" * 32):
        rc, _, err = sign(tmp, text, owner, key_id=bad)
        check(rc == 2 and error_of(err)["code"] == "usage", f"sign: bad key id {bad!r}", err)
    rc, _, err = sign(tmp, json.dumps(variant(colour="x")), owner)
    check(rc == 2 and "policy.colour" in error_of(err)["message"], "sign: bad policy", err)
    rc, _, err = sign(tmp, json.dumps(variant(not_after=NOW - 5, not_before=None)), owner)
    check(rc == 2 and "not_after" in error_of(err)["message"], "sign: expired policy", err)
    rc, _, err = run("policy", "sign", "--policy", os.path.join(tmp, "update.json"),
                     "--owner-key", owner)
    check(rc == 2 and error_of(err)["code"] == "usage", "sign: --key-id required", err)


def main():
    with tempfile.TemporaryDirectory(prefix="sigil-policy-cli-") as tmp:
        test_lint_good(tmp)
        test_lint_warnings(tmp)
        test_lint_errors(tmp)
        test_sign(tmp)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
