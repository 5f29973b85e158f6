#!/usr/bin/env python3
"""End to end: a key's lifecycle without restarts (docs/API.md "Key lifecycle",
docs/POLICY.md "Revocation") on a live dev stack.

- disable → signing refused with 409 key_disabled and no enclave call (no
  receipt); enable → signs again; the same with `sigil admin key
  disable|enable` on the store; GET /v1/keys shows state and client_key;
- revocations that must fail (garbage, another owner, another key id,
  another tenant, a malformed body) → typed refusal, and the key still signs;
- `sigil revoke sign` makes the same signature as an independent
  implementation here (Ed25519 is deterministic); POST .../revoke → 200 with
  an allow receipt (action revoke); then sign, policy update and a second
  revocation → 410 revoked with deny receipts that verify here and with
  `sigil receipt verify`;
- a host that restores the key's row and blob (state active, not deleted,
  blob as before) → still 410 from the enclave;
- a revocation stored by "another gateway" (a row written straight into the
  store, with a valid signature) reaches this gateway's enclave without a
  restart;
- the enclave killed: sigil-launch restarts it, the gateway replays every
  stored revocation before it is ready → both revoked keys still refused, an
  unrevoked one signs;
- what the design says a host CAN do: withhold the revocations (rows deleted)
  from a freshly restarted enclave → the key signs again (docs/SECURITY.md);
- audit rows for revoke / disable / enable; `sigil audit verify` passes.
"""
import base64
import hashlib
import json
import os
import signal
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from e2e_util import (Checks, TempStack, bin_dir_arg, box_seal, canonical,  # noqa: E402
                      ed25519_keypair, ed25519_sign, ed25519_verify, new_key_id, now_ms,
                      payload, policy_signature, read_json, wait_for)

TENANT = "default"
BINANCE = {"api_key": "lifecycleApiKey0123456789abcdefABCDEF0123456789abcdefABCDEF01234",
           "secret": "lifecycleSecret0123456789abcdefABCDEF0123456789abcdefABCDEF0123"}
OWNER = bytes(range(40, 72))
OTHER_OWNER = bytes(range(80, 112))
CACHE_S = 1.2  # the gateway caches key records for one second


# ---- independent implementations --------------------------------------------------
def revoke_message(tenant, key_id):
    """docs/POLICY.md "Revocation": "sigil-revoke-v1" 0x00 || lp(tenant) || lp(key_id)."""
    t, k = tenant.encode(), key_id.encode()
    return b"sigil-revoke-v1\0" + struct.pack(">I", len(t)) + t + struct.pack(">I", len(k)) + k


def revoke_signature(seed, tenant, key_id):
    _, sk = ed25519_keypair(seed)
    return ed25519_sign(sk, revoke_message(tenant, key_id))


def receipt_ok(key, r):
    if not isinstance(r, dict) or "signature" not in r:
        return False
    body = {k: v for k, v in r.items() if k != "signature"}
    return ed25519_verify(key, b"sigil-receipt-v1\0" + canonical(body),
                          bytes.fromhex(r["signature"]))


def policy(version=1):
    return {"version": version, "tenant": TENANT, "venue": "binance", "network": "mainnet",
            "actions": ["order", "cancel", "read"], "not_after": int(time.time()) + 86400}


def order():
    return {"method": "POST", "path": "/api/v3/order", "query": "",
            "body": "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.5&price=100",
            "timestamp": now_ms(), "recv_window": 5000}


def code_of(body):
    return body.get("error", {}).get("code") if isinstance(body, dict) else None


# ---- the stack ------------------------------------------------------------------------
def provision(st, h, sealing_pk):
    key_id = new_key_id()
    raw = payload(TENANT, "binance", "mainnet", "hmac", BINANCE, policy(), OWNER, key_id=key_id)
    s, _, b = h.request("POST", "/v1/keys",
                        {"sealed": base64.b64encode(box_seal(sealing_pk, raw)).decode()})
    return key_id if s == 201 else None


def sign(h, key_id):
    return h.request("POST", "/v1/sign", {"key_id": key_id, "request": order()})


def revoke(h, key_id, sig):
    body = sig if isinstance(sig, (dict, str)) else {"signature": sig.hex()}
    return h.request("POST", f"/v1/keys/{key_id}/revoke", body)


def states(h):
    s, _, b = h.request("GET", "/v1/keys")
    if s != 200:
        return {}
    return {k["key_id"]: (k.get("state"), k.get("client_key")) for k in b.get("keys", [])}


def verify_cli(st, t, label, r):
    f = st.write(f"receipt-{label.replace(' ', '-')}.json", r)
    p = st.sigil("receipt", "verify", "--receipt", f, "--measurement", st.launch["measurement"],
                 "--trust-dev-root", st.launch["root"], "--gateway", st.gateway["url"],
                 "--token", st.token, check=False)
    t.check(f"sigil receipt verify: {label} → ok", p.returncode == 0, p.stderr)


# ---- the checks ---------------------------------------------------------------------
def check_disable(st, h, t, kid):
    s, _, b = h.request("POST", f"/v1/keys/{kid}/disable")
    t.check("disable → 200 state disabled", s == 200 and b.get("state") == "disabled", (s, b))
    t.check("listing: disabled", states(h).get(kid, (None,))[0] == "disabled", states(h))
    s, _, b = sign(h, kid)
    t.check("disabled key: sign → 409 key_disabled, no receipt, nothing signed",
            s == 409 and code_of(b) == "key_disabled" and "receipt" not in b and "signed" not in b,
            (s, b))
    s, _, b = h.request("POST", f"/v1/keys/{kid}/disable")
    t.check("disable again → 200 (already disabled)", s == 200, (s, b))
    s, _, b = h.request("POST", f"/v1/keys/{kid}/enable")
    t.check("enable → 200 state active", s == 200 and b.get("state") == "active", (s, b))
    s, _, b = sign(h, kid)
    t.check("enabled again: signs (200)", s == 200 and "signed" in b, (s, b))
    s, _, b = h.request("POST", f"/v1/keys/{new_key_id()}/disable")
    t.check("disable an unknown key → 404", s == 404 and code_of(b) == "not_found", (s, b))
    s, _, b = h.request("POST", f"/v1/keys/{kid}/disable", {"x": 1})
    t.check("disable with a body → 400", s == 400, (s, b))
    where = st.store.cli_args()
    p = st.sigil("admin", *where, "key", "disable", TENANT, kid, check=False)
    t.check("sigil admin key disable → disabled",
            p.returncode == 0 and json.loads(p.stdout).get("state") == "disabled", p.stderr)
    got = wait_for(lambda: sign(h, kid)[0] == 409, 10)  # the gateway's 1 s key cache
    t.check("admin-disabled key: sign → 409 on the running gateway", got, None)
    p = st.sigil("admin", *where, "key", "enable", TENANT, kid, check=False)
    t.check("sigil admin key enable → active",
            p.returncode == 0 and json.loads(p.stdout).get("state") == "active", p.stderr)
    got = wait_for(lambda: sign(h, kid)[0] == 200, 10)
    t.check("admin-enabled key signs again", got, None)
    p = st.sigil("admin", *where, "key", "enable", "other", kid, check=False)
    t.check("sigil admin key enable of another tenant's key → not_found",
            p.returncode != 0 and b"not_found" in p.stderr, p.stderr)


def check_bad_revocations(st, h, t, rk, kid):
    other = new_key_id()
    cases = [
        ("garbage signature", os.urandom(64)),
        ("signed by another owner key", revoke_signature(OTHER_OWNER, TENANT, kid)),
        ("signed for another key id", revoke_signature(OWNER, TENANT, other)),
        ("signed for another tenant", revoke_signature(OWNER, "other-tenant", kid)),
        ("a policy signature, not a revocation", policy_signature(policy(), OWNER, kid)),
    ]
    for label, sig in cases:
        s, _, b = revoke(h, kid, sig)
        r = b.get("receipt") if isinstance(b, dict) else None
        t.check(f"revoke, {label} → 403 bad_signature with a deny receipt",
                s == 403 and code_of(b) == "bad_signature" and isinstance(r, dict)
                and r.get("decision") == "deny" and r.get("action") == "revoke"
                and receipt_ok(rk, r), (s, b))
    for label, body in (("signature too short", {"signature": "ab" * 63}),
                        ("signature not hex", {"signature": "zz" * 64}),
                        ("unknown member", {"signature": "ab" * 64, "x": 1}),
                        ("no body", None)):
        s, _, b = h.request("POST", f"/v1/keys/{kid}/revoke", body)
        t.check(f"revoke, {label} → 400", s == 400 and "receipt" not in b, (s, b))
    s, _, b = revoke(h, new_key_id(), revoke_signature(OWNER, TENANT, kid))
    t.check("revoke an unknown key id → 404", s == 404 and code_of(b) == "not_found", (s, b))
    s, _, b = sign(h, kid)
    t.check("after every failed revocation the key still signs", s == 200 and "signed" in b,
            (s, b))
    t.check("listing: still active", states(h).get(kid, (None,))[0] == "active", states(h))


def check_revoke(st, h, t, rk, kid):
    """Returns the key's blob before the revocation (for the restore check)."""
    blob = st.store_query("SELECT blob FROM keys WHERE key_id = ?", (kid,))[0][0]
    owner_pk, _ = ed25519_keypair(OWNER)
    st.write("owner.key", {"type": "ed25519", "public_key": owner_pk.hex(),
                           "secret_key": OWNER.hex()})
    p = st.sigil("revoke", "sign", "--owner-key", st.path("owner.key"), "--tenant", TENANT,
                 "--key-id", kid, check=False)
    cli_body = json.loads(p.stdout) if p.returncode == 0 else {}
    want = revoke_signature(OWNER, TENANT, kid).hex()
    t.check("sigil revoke sign = the independent signature", cli_body == {"signature": want},
            (p.returncode, p.stdout, p.stderr))
    p = st.sigil("revoke", "sign", "--owner-key", st.path("owner.key"), "--tenant", TENANT,
                 check=False)
    t.check("sigil revoke sign without --key-id → usage error", p.returncode != 0, p.returncode)

    s, _, b = revoke(h, kid, {"signature": want})
    r = b.get("receipt") if isinstance(b, dict) else None
    t.check("revoke with the owner's signature → 200 state revoked",
            s == 200 and b.get("state") == "revoked", (s, b))
    t.check("revoke: allow receipt, action revoke, request_hash = SHA-256(signature)",
            isinstance(r, dict) and r.get("decision") == "allow" and r.get("action") == "revoke"
            and r.get("key_id") == kid and receipt_ok(rk, r)
            and r.get("request_hash") == hashlib.sha256(bytes.fromhex(want)).hexdigest(), r)
    if isinstance(r, dict):
        verify_cli(st, t, "revoke allow receipt", r)
    rows = st.store_query("SELECT tenant, key_id, signature FROM revocations")
    t.check("the revocation is stored (tenant, key_id, signature)",
            rows == [(TENANT, kid, bytes.fromhex(want))], rows)
    t.check("listing: revoked", states(h).get(kid, (None,))[0] == "revoked", states(h))

    s, _, b = sign(h, kid)
    r = b.get("receipt") if isinstance(b, dict) else None
    t.check("revoked key: sign → 410 revoked with a deny receipt, nothing signed",
            s == 410 and code_of(b) == "revoked" and "signed" not in b and isinstance(r, dict)
            and r.get("decision") == "deny" and str(r.get("reason", "")).startswith("revoked: ")
            and receipt_ok(rk, r), (s, b))
    if isinstance(r, dict):
        verify_cli(st, t, "sign deny receipt", r)
    newer = policy(version=2)
    s, _, b = h.request("PUT", f"/v1/keys/{kid}/policy",
                        {"policy": newer,
                         "policy_signature": policy_signature(newer, OWNER, kid).hex()})
    t.check("revoked key: a valid policy update → 410 revoked with a deny receipt",
            s == 410 and code_of(b) == "revoked" and b.get("receipt", {}).get("decision") == "deny",
            (s, b))
    s, _, b = h.request("POST", f"/v1/keys/{kid}/rewrap")
    t.check("revoked key: a data-key rewrap → 410 revoked with a deny receipt",
            s == 410 and code_of(b) == "revoked" and b.get("receipt", {}).get("decision") == "deny",
            (s, b))
    s, _, b = revoke(h, kid, {"signature": want})
    t.check("revoked key: revoking again → 410 revoked (deny receipt)",
            s == 410 and code_of(b) == "revoked" and b.get("receipt", {}).get("decision") == "deny",
            (s, b))
    s, _, b = h.request("POST", f"/v1/keys/{kid}/enable")
    t.check("revoked key: enable → 410 revoked", s == 410 and code_of(b) == "revoked", (s, b))
    s, _, b = h.request("POST", f"/v1/keys/{kid}/disable")
    t.check("revoked key: disable → 410 revoked", s == 410 and code_of(b) == "revoked", (s, b))
    p = st.sigil("admin", *st.store.cli_args(), "key", "enable", TENANT, kid, check=False)
    t.check("revoked key: sigil admin key enable → revoked",
            p.returncode != 0 and b"revoked" in p.stderr, p.stderr)
    return blob


def check_host_restore(st, h, t, kid, blob):
    st.store_exec("UPDATE keys SET state = 'active', deleted_at = NULL, blob = ?"
                " WHERE key_id = ?", (blob, kid))
    time.sleep(CACHE_S)
    t.check("host restored the row: listing says active again",
            states(h).get(kid, (None,))[0] == "active", states(h))
    s, _, b = sign(h, kid)
    t.check("host restored the row and the old blob → still 410 revoked (the enclave refuses)",
            s == 410 and code_of(b) == "revoked" and "signed" not in b, (s, b))


def check_other_gateway(st, h, t, kid):
    """A revocation another gateway stored: only its row, no call to this enclave."""
    s, _, b = sign(h, kid)
    t.check("second key signs before", s == 200, (s, b))
    blob = st.store_query("SELECT blob FROM keys WHERE key_id = ?", (kid,))[0][0]
    st.store_exec("INSERT INTO revocations (tenant, key_id, signature, blob, created_at)"
                " VALUES (?, ?, ?, ?, ?)", (TENANT, kid, revoke_signature(OWNER, TENANT, kid),
                                            blob, now_ms()))
    t0 = time.monotonic()

    def refused():
        s, _, b = sign(h, kid)
        return (s, b) if s != 200 else None
    got = wait_for(refused, 30, step=0.2)
    print(f"     revocation from the store reached the enclave after "
          f"{time.monotonic() - t0:.1f} s", flush=True)
    t.check("a revocation stored by another gateway reaches this enclave (410 revoked)",
            got is not None and got[0] == 410 and code_of(got[1]) == "revoked", got)


def restart_enclave(st, t, label):
    ready = st._ready_path("launch")
    pid0 = read_json(ready)["enclave_pid"]
    h0 = st.http(token=None)
    boot0 = h0.request("GET", "/readyz")[2].get("boot_id")
    os.kill(pid0, signal.SIGKILL)
    new = wait_for(lambda: (read_json(ready) or {}).get("enclave_pid") not in (None, pid0), 30)

    def rebooted():
        s, _, b = st.http(token=None).request("GET", "/readyz")
        return b if s == 200 and isinstance(b, dict) and b.get("boot_id") not in (None, boot0) \
            else None
    t.check(f"{label}: enclave killed, restarted and ready with a new boot_id",
            new and wait_for(rebooted, 60), pid0)


def check_restart(st, t, revoked, fresh):
    restart_enclave(st, t, "restart")
    h = st.http()
    for kid in revoked:
        s, _, b = sign(h, kid)
        t.check(f"after the restart the gateway replayed the revocation: {kid[:8]}… → 410",
                s == 410 and code_of(b) == "revoked", (s, b))
    s, _, b = sign(h, fresh)
    t.check("after the restart an unrevoked key signs", s == 200 and "signed" in b, (s, b))


def check_withheld(st, t, kid):
    """The documented limit: a host that withholds the revocation from a
    freshly restarted enclave gets the key signed again."""
    st.store_exec("DELETE FROM revocations")
    restart_enclave(st, t, "withheld")
    s, _, b = sign(st.http(), kid)
    t.check("documented limit: revocations withheld from a restarted enclave → the key signs",
            s == 200 and "signed" in b, (s, b))


def check_audit(st, t, revoked):
    rows = st.store_query("SELECT op, decision, error_code, key_id FROM audit"
                          " WHERE op IN ('revoke', 'disable', 'enable')")
    ops = [(r[0], r[1]) for r in rows]
    t.check("audit: one allowed revoke per revoked key through the API",
            ops.count(("revoke", "allow")) == 1 and rows[[r[:2] for r in rows].index(
                ("revoke", "allow"))][3] == revoked, rows)
    t.check("audit: the refused revocations are deny rows (bad_signature, revoked)",
            sum(1 for r in rows if r[0] == "revoke" and r[1] == "deny") >= 6
            and {r[2] for r in rows if r[0] == "revoke" and r[1] == "deny"}
            >= {"bad_signature", "revoked"}, rows)
    t.check("audit: disable and enable rows",
            ("disable", "allow") in ops and ("enable", "allow") in ops, ops)
    p = st.sigil("audit", "verify", *st.store.cli_args(), check=False)
    t.check("sigil audit verify after the lifecycle → ok", p.returncode == 0,
            p.stdout[-2000:] + p.stderr[-2000:])


def main():
    t = Checks()
    st = TempStack(bin_dir_arg())
    try:
        st.start()
        h = st.http()
        s, _, att = h.request("GET", "/v1/attestation?nonce=" + "7e" * 16)
        t.check("attestation served", s == 200, (s, att))
        sealing_pk, rk = bytes.fromhex(att["sealing_key"]), bytes.fromhex(att["receipt_key"])
        a, b_, c = (provision(st, h, sealing_pk) for _ in range(3))
        t.check("three keys provisioned", a and b_ and c, (a, b_, c))
        t.check("listing: active, client_key false",
                all(states(h).get(k) == ("active", False) for k in (a, b_, c)), states(h))
        check_disable(st, h, t, a)
        check_bad_revocations(st, h, t, rk, a)
        blob = check_revoke(st, h, t, rk, a)
        check_host_restore(st, h, t, a, blob)
        check_other_gateway(st, h, t, b_)
        check_restart(st, t, (a, b_), c)
        check_audit(st, t, a)
        check_withheld(st, t, a)
    finally:
        st.cleanup()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
