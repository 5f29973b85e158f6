"""Provisioning a fresh key through the SDK (like `sigil seal`), then policy
updates, client-signed signing and deletion, all against the live stack."""
import base64
import json
import time

import pytest
from nacl.public import PrivateKey, SealedBox

import sigil_sdk
from sigil_sdk import errors, provision as prov
from sigil_sdk.errors import AttestationError

CREDS = {"api_key": "prov-api-key-0001", "secret": "prov-secret-value-0123456789abcdef"}


def policy(version=1, actions=("order", "cancel", "read")):
    return {"version": version, "tenant": "default", "venue": "binance", "network": "mainnet",
            "actions": list(actions), "not_after": int(time.time()) + 86400}


def order():
    return {"method": "POST", "path": "/api/v3/order", "query": "",
            "body": "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1",
            "timestamp": int(time.time() * 1000)}


def withdraw():
    return {"method": "POST", "path": "/sapi/v1/capital/withdraw/apply", "query": "",
            "body": "coin=BTC&address=bc1qexample&amount=1", "timestamp": int(time.time() * 1000)}


@pytest.fixture(scope="module")
def owner():
    return prov.new_key()[0]


@pytest.fixture(scope="module")
def fresh(client, pins, owner):
    out = client.provision("binance", "mainnet", CREDS, policy(), owner, *pins)
    return out


def test_provisioned_key_is_listed(client, fresh):
    assert len(fresh["key_id"]) == 32 and fresh.client_seed is not None
    assert fresh["policy_hash"] == prov.policy_hash(policy())
    keys = {k["key_id"]: k for k in client.keys()}
    assert keys[fresh["key_id"]]["venue"] == "binance"


def test_import_receipt_verifies(client, fresh, pins):
    assert fresh["receipt"]["action"] == "import"
    assert client.verify_receipt(fresh["receipt"], *pins)["decision"] == "allow"


def test_provisioned_key_signs_client_signed_requests_only(client, fresh):
    kid = fresh["key_id"]
    with pytest.raises(errors.BadSignature):
        client.sign(kid, order())
    res = client.sign(kid, order(), client_key=fresh.client_seed)
    assert res.signed["headers"]["X-MBX-APIKEY"] == CREDS["api_key"]
    assert CREDS["secret"] not in json.dumps(res)
    with pytest.raises(errors.PolicyDenied):
        client.sign(kid, withdraw(), client_key=fresh.client_seed)


def test_policy_update(client, fresh, owner, pins):
    kid = fresh["key_id"]
    out = client.update_policy(kid, policy(2, ["order"]), owner_seed=owner)
    assert out["policy_hash"] == prov.policy_hash(policy(2, ["order"]))
    assert client.verify_receipt(out["receipt"], *pins)["action"] == "policy_update"
    # same version again: refused; a policy signed by someone else: refused
    with pytest.raises(errors.PolicyDenied):
        client.update_policy(kid, policy(2, ["order"]), owner_seed=owner)
    with pytest.raises(errors.BadSignature):
        client.update_policy(kid, policy(3), owner_seed=b"\x09" * 32)


def test_payload_layout_and_seal():
    """docs/PROVISIONING.md step 3/4, checked independently of build_payload's
    callers: member order, no whitespace, the v2 signature, sealed box size."""
    owner, _ = prov.new_key()
    pol_text = '{ "version": 1, "tenant": "default", "venue": "binance",\n "network": "mainnet",' \
               ' "actions": ["order"], "not_after": 4102444800 }'
    p = prov.build_payload("default", "ab" * 16, "binance", "mainnet", CREDS, pol_text, owner,
                           "cd" * 32)
    doc = json.loads(bytes(p))
    assert list(doc) == ["v", "tenant", "key_id", "venue", "network", "key_type", "credentials",
                         "owner_pubkey", "client_pubkey", "policy", "policy_signature"]
    assert b" " not in bytes(p) and doc["key_type"] == "hmac"
    assert b'"policy":{"version":1,"tenant":"default"' in bytes(p)
    from nacl.signing import VerifyKey
    VerifyKey(bytes.fromhex(doc["owner_pubkey"])).verify(
        prov.policy_message(pol_text, "ab" * 16), bytes.fromhex(doc["policy_signature"]))
    sk = PrivateKey.generate()
    sealed = prov.seal(p, bytes(sk.public_key))
    assert len(sealed) == len(p) + 48 and SealedBox(sk).decrypt(sealed) == bytes(p)


def test_provision_refuses_a_wrong_measurement_or_root(client, pins, owner):
    before = {k["key_id"] for k in client.keys()}
    wrong = ("0" if pins[0][0] != "0" else "1") + pins[0][1:]
    with pytest.raises(AttestationError, match="PCR0"):
        client.provision("binance", "mainnet", CREDS, policy(), owner, wrong, pins[1])
    with pytest.raises(AttestationError, match="chain"):
        client.provision("binance", "mainnet", CREDS, policy(), owner, pins[0], "aws")
    assert {k["key_id"] for k in client.keys()} == before


def test_provision_refuses_a_tampered_attestation(client, pins, owner, monkeypatch):
    real = client.attestation

    def tampered(nonce):
        att = real(nonce)
        doc = bytearray(base64.b64decode(att["document"]))
        doc[len(doc) // 2] ^= 0x40
        att["document"] = base64.b64encode(bytes(doc)).decode()
        return att

    c = sigil_sdk.Client(client.url, client.token)
    monkeypatch.setattr(c, "attestation", tampered)
    with pytest.raises(AttestationError):
        c.provision("binance", "mainnet", CREDS, policy(), owner, *pins)

    def other_sealing_key(nonce):
        att = real(nonce)
        att["sealing_key"] = "00" * 32
        return att

    monkeypatch.setattr(c, "attestation", other_sealing_key)
    with pytest.raises(AttestationError, match="sealing key"):
        c.provision("binance", "mainnet", CREDS, policy(), owner, *pins)


def test_provision_local_checks(client, pins, owner):
    with pytest.raises(errors.BadRequest):
        client.provision("okx", "mainnet", CREDS, policy(), owner, *pins)
    expired = dict(policy(), not_after=int(time.time()) - 10)
    with pytest.raises(errors.BadRequest):
        client.provision("binance", "mainnet", CREDS, expired, owner, *pins)


def test_delete_key(client, pins, owner):
    out = client.provision("binance", "mainnet", CREDS, policy(), owner, *pins, client_key=None)
    kid = out["key_id"]
    assert out.client_seed is None
    assert client.sign(kid, order())["action"] == "order"
    client.delete_key(kid)
    with pytest.raises(errors.NotFound):
        client.sign(kid, order())
    with pytest.raises(errors.NotFound):
        client.delete_key(kid)


@pytest.mark.parametrize("venue,prefix", [("dydx", "dydx1"), ("eip191", "0x"), ("paradex", "0x")])
def test_provision_wallet_credentials(client, pins, owner, venue, prefix):
    """A wallet key's payload names key_type secp256k1 (the enclave refuses a
    key_type that does not match the credentials)."""
    pol = dict(policy(), venue=venue, actions=["*"])
    out = client.provision(venue, "mainnet", {"private_key": "0x" + "04" * 31 + "2a"}, pol, owner,
                           *pins, client_key=None)
    assert out["key_type"] == "secp256k1" and out["address"].startswith(prefix)
