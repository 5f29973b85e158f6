"""Key lifecycle through the SDK against the live stack: disable/enable,
owner-signed revocation (cross-checked with `sigil revoke sign`), credential
rotation, data-key rewrap and keys the enclave generates. Every key here is
provisioned by the test itself (the fixture's keys stay as they are)."""
import asyncio
import hashlib
import hmac
import json
import os
import struct
import subprocess
import sys
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import sigil_sdk
from sigil_sdk import errors, provision as prov
from sigil_sdk.aio import AsyncClient

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "tests", "soak"))
import hl_verify  # noqa: E402  (independent Keccak-256, msgpack, EIP-712, secp256k1 recovery)

CREDS_A = {"api_key": "life-api-key-a", "secret": "life-secret-a-0123456789abcdef"}
CREDS_B = {"api_key": "life-api-key-b", "secret": "life-secret-b-fedcba9876543210"}


def policy(version=1, venue="binance", actions=("order", "cancel", "read")):
    return {"version": version, "tenant": "default", "venue": venue, "network": "mainnet",
            "actions": list(actions), "not_after": int(time.time()) + 86400}


def order(ts=None):
    return {"method": "POST", "path": "/api/v3/order", "query": "",
            "body": "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1",
            "timestamp": ts or int(time.time() * 1000)}


def check_binance_hmac(signed, req, creds):
    """The signed order carries HMAC-SHA256(secret, query ‖ body with timestamp)
    under creds' API key (docs/CLI.md, binance), recomputed here."""
    assert signed["headers"]["X-MBX-APIKEY"] == creds["api_key"]
    body, sig = signed["body"].split("&signature=")
    assert body == req["body"] + f"&timestamp={req['timestamp']}"
    want = hmac.new(creds["secret"].encode(), (signed["query"] + body).encode(), hashlib.sha256)
    assert sig == want.hexdigest()


def cli_revoke_signature(stack, tenant, key_id):
    """`sigil revoke sign` with the fixture's owner key file: the signature hex."""
    out = subprocess.run([stack["sigil"], "revoke", "sign", "--owner-key",
                          stack["owner_key_file"], "--tenant", tenant, "--key-id", key_id],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["signature"]


def states(client):
    return {k["key_id"]: k["state"] for k in client.keys()}


@pytest.fixture(scope="module")
def owner():
    return prov.new_key()[0]


@pytest.fixture
def fresh(client, pins, owner):
    """A new binance key without a client key, CREDS_A, policy version 1."""
    return client.provision("binance", "mainnet", CREDS_A, policy(), owner, *pins,
                            client_key=None)


# ---- revocation message --------------------------------------------------------

def test_revoke_message_layout():
    kid = "0123456789abcdef" * 2
    msg = sigil_sdk.revoke_message("acme-1", kid)
    assert msg == (b"sigil-revoke-v1\x00" + b"\x00\x00\x00\x06acme-1"
                   + b"\x00\x00\x00\x20" + kid.encode())
    assert len(msg) == 16 + 4 + 6 + 4 + 32
    for tenant, key_id in (("Acme", kid), ("", kid), ("a" * 65, kid), ("acme", kid.upper()),
                           ("acme", kid[:-1])):
        with pytest.raises(errors.BadRequest):
            sigil_sdk.revoke_message(tenant, key_id)


@pytest.mark.parametrize("tenant", ["default", "other_tenant-9"])
def test_revoke_signature_matches_the_cli(stack, tenant):
    """The same owner key, tenant and key id give `sigil revoke sign`'s
    signature byte for byte (Ed25519 is deterministic), and it verifies
    under the owner's public key over the documented message."""
    kid = hashlib.sha256(tenant.encode()).hexdigest()[:32]
    sig = sigil_sdk.revoke_signature(tenant, kid, stack["seed_bytes"])
    assert sig.hex() == cli_revoke_signature(stack, tenant, kid)
    pk = Ed25519PrivateKey.from_private_bytes(stack["seed_bytes"]).public_key()
    pk.verify(sig, b"sigil-revoke-v1\x00" + struct.pack(">I", len(tenant)) + tenant.encode()
              + struct.pack(">I", 32) + kid.encode())


# ---- disable / enable ----------------------------------------------------------

def test_disable_and_enable(client, fresh):
    kid = fresh["key_id"]
    assert states(client)[kid] == "active"
    assert client.disable(kid) == {"key_id": kid, "state": "disabled"}
    assert states(client)[kid] == "disabled"
    with pytest.raises(errors.KeyDisabled) as e:
        client.sign(kid, order())
    assert isinstance(e.value, errors.Conflict)
    assert (e.value.status, e.value.code, e.value.receipt) == (409, "key_disabled", None)
    assert client.disable(kid)["state"] == "disabled"  # again: still 200
    assert client.enable(kid) == {"key_id": kid, "state": "active"}
    assert states(client)[kid] == "active"
    req = order()
    check_binance_hmac(client.sign(kid, req).signed, req, CREDS_A)
    with pytest.raises(errors.NotFound):
        client.disable("f" * 32)


# ---- revoke --------------------------------------------------------------------

def test_revoke(client, fresh, owner, pins, stack):
    kid = fresh["key_id"]
    # another owner's signature: 403 with a deny receipt, nothing changes
    with pytest.raises(errors.BadSignature) as e:
        client.revoke(kid, tenant="default", owner_seed=prov.new_key()[0])
    deny = client.verify_receipt(e.value.receipt, *pins)
    assert (deny["decision"], deny["action"], deny["key_id"]) == ("deny", "revoke", kid)
    assert states(client)[kid] == "active"

    out = client.revoke(kid, tenant="default", owner_seed=owner)
    assert (out["key_id"], out["state"]) == (kid, "revoked")
    r = client.verify_receipt(out["receipt"], *pins)
    assert (r["decision"], r["action"], r["key_id"]) == ("allow", "revoke", kid)
    assert out["receipt"]["tenant"] == "default"
    sig = sigil_sdk.revoke_signature("default", kid, owner)
    assert out["receipt"]["request_hash"] == hashlib.sha256(sig).hexdigest()
    assert states(client)[kid] == "revoked"

    # refused from now on: sign and a second revocation with the enclave's deny receipt
    with pytest.raises(errors.Revoked) as e:
        client.sign(kid, order())
    assert e.value.status == 410
    denied = client.verify_receipt(e.value.receipt, *pins)
    assert (denied["decision"], denied["key_id"]) == ("deny", kid)
    assert e.value.receipt["reason"].startswith("revoked")
    with pytest.raises(errors.Revoked) as e:
        client.revoke(kid, signature=sig)
    assert client.verify_receipt(e.value.receipt, *pins)["decision"] == "deny"
    for switch in (client.disable, client.enable):
        with pytest.raises(errors.Revoked):
            switch(kid)
    with pytest.raises(errors.Revoked):
        client.update_policy(kid, policy(2), owner_seed=owner)


def test_revoke_with_the_cli_signature(client, pins, stack):
    """A revocation signed by `sigil revoke sign` (the fixture's owner key)
    passed to revoke(signature=…)."""
    out = client.provision("binance", "mainnet", CREDS_A, policy(), stack["seed_bytes"], *pins,
                           client_key=None)
    kid = out["key_id"]
    sig = cli_revoke_signature(stack, "default", kid)
    assert client.revoke(kid, signature=sig)["state"] == "revoked"
    with pytest.raises(errors.Revoked):
        client.sign(kid, order())


def test_revoke_needs_a_signature_or_the_owner(client):
    with pytest.raises(ValueError):
        client.revoke("ab" * 16, owner_seed=b"\x01" * 32)


# ---- rotate --------------------------------------------------------------------

def test_rotate_credentials(client, fresh, owner, pins):
    kid = fresh["key_id"]
    req = order()
    check_binance_hmac(client.sign(kid, req).signed, req, CREDS_A)
    pol2 = policy(2)
    out = client.rotate(kid, "binance", "mainnet", CREDS_B, pol2, owner, *pins, client_key=None)
    assert out["key_id"] == kid and out["policy_hash"] == prov.policy_hash(pol2)
    assert out.client_seed is None
    r = client.verify_receipt(out["receipt"], *pins)
    assert (r["action"], r["decision"]) == ("rotate", "allow")
    listed = {k["key_id"]: k for k in client.keys()}[kid]
    assert (listed["policy_version"], listed["state"]) == (2, "active")
    # the same request now signs with B's secret and key, never A's
    req = order()
    signed = client.sign(kid, req).signed
    check_binance_hmac(signed, req, CREDS_B)
    assert CREDS_A["api_key"] not in json.dumps(signed)
    # the same rotation again (version not above the key's) is refused
    with pytest.raises(errors.PolicyDenied):
        client.rotate(kid, "binance", "mainnet", CREDS_A, policy(2), owner, *pins,
                      client_key=None)
    # another owner: forbidden; the key keeps B
    with pytest.raises(errors.Forbidden) as e:
        client.rotate(kid, "binance", "mainnet", CREDS_A, policy(3), prov.new_key()[0], *pins,
                      client_key=None)
    assert e.value.code == "forbidden"
    req = order()
    check_binance_hmac(client.sign(kid, req).signed, req, CREDS_B)


def test_rotate_binds_a_new_client_key(client, fresh, owner, pins):
    kid = fresh["key_id"]
    out = client.rotate(kid, "binance", "mainnet", CREDS_B, policy(2), owner, *pins)
    assert out.client_seed is not None
    with pytest.raises(errors.BadSignature):
        client.sign(kid, order())
    req = order()
    check_binance_hmac(client.sign(kid, req, client_key=out.client_seed).signed, req, CREDS_B)


# ---- rewrap --------------------------------------------------------------------

def test_rewrap_keeps_signatures_identical(client, fresh, pins):
    kid = fresh["key_id"]
    req = order()
    before = client.sign(kid, req).signed_text
    out = client.rewrap(kid)
    assert out["key_id"] == kid
    assert (out["policy_hash"], out["version"]) == (fresh["policy_hash"], 1)
    r = client.verify_receipt(out["receipt"], *pins)
    assert (r["action"], r["decision"]) == ("rewrap", "allow")
    after = client.sign(kid, req).signed_text
    assert after == before
    check_binance_hmac(json.loads(after), req, CREDS_A)


# ---- generated keys ------------------------------------------------------------

def eip55(address):
    """The EIP-55 form of a 0x address (keccak of its lowercase hex)."""
    h = hl_verify.keccak256(address[2:].lower().encode()).hex()
    return "0x" + "".join(c.upper() if int(h[i], 16) >= 8 else c
                          for i, c in enumerate(address[2:].lower()))


def test_generated_hyperliquid_key_signs_for_its_address(client, owner, pins):
    out = client.provision("hyperliquid", "mainnet", None, policy(venue="hyperliquid",
                           actions=["order", "cancel"]), owner, *pins, client_key=None,
                           generate=True)
    addr = out["address"]
    assert out["key_type"] == "secp256k1" and addr == eip55(addr)
    assert "private_key" not in json.dumps(out)
    listed = {k["key_id"]: k for k in client.keys()}[out["key_id"]]
    assert listed["address"] == addr
    assert client.verify_receipt(out["receipt"], *pins)["action"] == "import"
    nonce = int(time.time() * 1000)
    action = {"type": "order", "orders": [{"a": 0, "b": True, "p": "30000", "s": "0.01",
                                           "r": False, "t": {"limit": {"tif": "Gtc"}}}],
              "grouping": "na"}
    sig = client.sign(out["key_id"], {"action": action, "nonce": nonce}).signed["signature"]
    assert eip55(hl_verify.recover_l1_signer(action, nonce, sig, True)) == addr
    # and not by chance: another nonce's digest recovers another address
    assert eip55(hl_verify.recover_l1_signer(action, nonce + 1, sig, True)) != addr


def test_generated_key_rotates_to_a_new_address(client, owner, pins):
    pol = policy(venue="hyperliquid", actions=["order"])
    first = client.provision("hyperliquid", "mainnet", None, pol, owner, *pins,
                             client_key=None, generate=True)
    second = client.rotate(first["key_id"], "hyperliquid", "mainnet", None,
                           dict(pol, version=2), owner, *pins, client_key=None, generate=True)
    assert second["address"] != first["address"] and second["address"].startswith("0x")
    listed = {k["key_id"]: k for k in client.keys()}[first["key_id"]]
    assert listed["address"] == second["address"]


def test_generate_local_checks(client, owner, pins, monkeypatch):
    """Refused before anything is sent (not even the attestation request)."""
    c = sigil_sdk.Client(client.url, client.token)
    monkeypatch.setattr(c, "request", lambda *a, **k: pytest.fail("a request was sent"))
    with pytest.raises(errors.BadRequest, match="cannot be generated"):
        c.provision("binance", "mainnet", None, policy(), owner, *pins, generate=True)
    with pytest.raises(errors.BadRequest, match="not with generate"):
        c.provision("hyperliquid", "mainnet", {"private_key": "0x" + "11" * 32},
                    policy(venue="hyperliquid"), owner, *pins, generate=True)
    p = prov.build_payload("default", "ab" * 16, "eip191", "mainnet", None,
                           policy(venue="eip191", actions=["other"]), owner, generate=True)
    doc = json.loads(bytes(p))
    assert list(doc) == ["v", "tenant", "key_id", "venue", "network", "key_type", "generate",
                         "owner_pubkey", "client_pubkey", "policy", "policy_signature"]
    assert (doc["key_type"], doc["generate"]) == ("secp256k1", True)


# ---- asyncio -------------------------------------------------------------------

def test_async_client_has_the_lifecycle(client, fresh, owner, pins):
    aclient = AsyncClient(client)
    kid = fresh["key_id"]

    async def run():
        assert (await aclient.disable(kid))["state"] == "disabled"
        with pytest.raises(errors.KeyDisabled):
            await aclient.sign(kid, order())
        assert (await aclient.enable(kid))["state"] == "active"
        rot = await aclient.rotate(kid, "binance", "mainnet", CREDS_B, policy(2), owner, *pins,
                                   client_key=None)
        wrapped = await aclient.rewrap(kid)
        req = order()
        signed = (await aclient.sign(kid, req)).signed
        return rot, wrapped, signed, req, await aclient.revoke(kid, tenant="default",
                                                               owner_seed=owner)

    rot, wrapped, signed, req, revoked = asyncio.run(run())
    assert rot["receipt"]["action"] == "rotate" and wrapped["version"] == 2
    check_binance_hmac(signed, req, CREDS_B)
    assert revoked["state"] == "revoked" and states(client)[kid] == "revoked"
