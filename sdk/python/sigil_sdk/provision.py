"""Provisioning like `sigil seal` (docs/PROVISIONING.md): verify the attestation,
build the provisioning payload, seal it to the attested key (libsodium sealed
box) and import it, or rotate a key's credentials with it (`sigil seal
--rotate`); and the owner key's signatures: policies (v2) and revocations."""
import base64
import hashlib
import json
import os
import re
import struct
import time

from nacl.public import PublicKey, SealedBox
from nacl.signing import SigningKey

from . import attestation, jcs
from .client import length_prefixed
from .errors import AttestationError, BadRequest, ProtocolError

# venues whose key is a secp256k1 scalar {"private_key"} (key_type "secp256k1")
WALLET_VENUES = ("hyperliquid", "aster", "eip712", "eip191", "dydx", "paradex")
# the ones whose key the enclave can make (docs/PROVISIONING.md "Generated keys")
GENERATE_VENUES = ("hyperliquid", "aster", "eip712", "eip191", "dydx")
REVOKE_PREFIX = b"sigil-revoke-v1\0"
_TENANT = re.compile("[a-z0-9_-]{1,64}").fullmatch
_KEY_ID = re.compile("[0-9a-f]{32}").fullmatch


def _strip_ws(text):
    """JSON text with the whitespace between tokens removed (texts kept)."""
    out, in_str, esc = [], False, False
    for ch in text:
        if in_str:
            out.append(ch)
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch not in " \t\r\n":
            out.append(ch)
            in_str = ch == '"'
    return "".join(out)


def _obj(value, what):
    """(parsed object, compact text: members and number texts as given)."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8")
    if isinstance(value, str):
        obj = jcs.loads_strict(value)
        text = _strip_ws(value)
    else:
        obj = value
        text = jcs.compact(value)
    if not isinstance(obj, dict):
        raise BadRequest(f"{what}: must be a JSON object", code="bad_field")
    return obj, text


def policy_message(policy, key_id, tenant=None):
    """The v2 owner-signature message (docs/POLICY.md)."""
    pol = jcs.loads_strict(policy) if isinstance(policy, (str, bytes)) else policy
    tenant = tenant or pol["tenant"]
    return (b"sigil-policy-v2\0" + length_prefixed(tenant.encode())
            + length_prefixed(key_id.encode()) + struct.pack(">Q", pol["version"])
            + jcs.canonical(pol))


def policy_signature(policy, owner_seed, key_id, tenant=None):
    return SigningKey(bytes(owner_seed)).sign(policy_message(policy, key_id, tenant)).signature


def revoke_message(tenant, key_id):
    """The owner's revocation message (docs/POLICY.md "Revocation"):
    "sigil-revoke-v1" 0x00 ‖ u32be(len) tenant ‖ u32be(len) key_id."""
    if not isinstance(tenant, str) or not _TENANT(tenant):
        raise BadRequest("tenant: must be 1..64 of a-z 0-9 _ -", code="bad_field")
    if not isinstance(key_id, str) or not _KEY_ID(key_id):
        raise BadRequest("key_id: must be 32 lowercase hex digits", code="bad_field")
    return REVOKE_PREFIX + length_prefixed(tenant.encode()) + length_prefixed(key_id.encode())


def revoke_signature(tenant, key_id, owner_seed):
    """The 64-byte Ed25519 revocation signature (what `sigil revoke sign` prints, as hex)."""
    return SigningKey(bytes(owner_seed)).sign(revoke_message(tenant, key_id)).signature


def policy_hash(policy):
    pol = jcs.loads_strict(policy) if isinstance(policy, (str, bytes)) else policy
    return hashlib.sha256(jcs.canonical(pol)).hexdigest()


def new_key():
    """A new Ed25519 key: (seed, public key hex) — an owner or client key."""
    seed = os.urandom(32)
    return seed, SigningKey(seed).verify_key.encode().hex()


def _check_policy(pol, venue, network):
    for name, want in (("venue", venue), ("network", network)):
        if pol.get(name) != want:
            raise BadRequest(f"policy.{name}: does not match --{name} {want}", code="bad_field")
    if isinstance(pol.get("not_after"), int) and pol["not_after"] <= time.time():
        raise BadRequest("policy.not_after: the policy has expired", code="bad_field")
    if not isinstance(pol.get("tenant"), str) or not isinstance(pol.get("version"), int):
        raise BadRequest("policy: tenant and version are required", code="missing_field")


def build_payload(tenant, key_id, venue, network, credentials, policy, owner_seed,
                  client_pubkey=None, generate=False):
    """The provisioning payload, members in the documented order (bytearray,
    so the caller can wipe it). generate=True (credentials None): `"generate":
    true` in place of `credentials`, the enclave makes the key."""
    if generate:
        if credentials is not None:
            raise BadRequest("credentials: not with generate (the enclave makes the key)",
                             code="usage")
        if venue not in GENERATE_VENUES:
            raise BadRequest(f"generate: {venue} keys cannot be generated in the enclave "
                             f"({', '.join(GENERATE_VENUES)} can)", code="usage")
        key_type, secret = "secp256k1", ',"generate":true'
    else:
        cred_obj, cred_text = _obj(credentials, "credentials")
        key_type = "secp256k1" if venue in WALLET_VENUES else cred_obj.get("key_type", "hmac")
        secret = ',"credentials":' + cred_text
    pol_obj, pol_text = _obj(policy, "policy")
    owner_pk = SigningKey(bytes(owner_seed)).verify_key.encode().hex()
    sig = policy_signature(pol_obj, owner_seed, key_id, tenant).hex()
    text = ('{"v":1,"tenant":' + json.dumps(tenant) + ',"key_id":' + json.dumps(key_id)
            + ',"venue":' + json.dumps(venue) + ',"network":' + json.dumps(network)
            + ',"key_type":' + json.dumps(key_type) + secret
            + ',"owner_pubkey":"' + owner_pk + '","client_pubkey":'
            + (json.dumps(client_pubkey) if client_pubkey else "null")
            + ',"policy":' + pol_text + ',"policy_signature":"' + sig + '"}')
    return bytearray(text.encode("utf-8"))


def seal(payload, sealing_key):
    """libsodium crypto_box_seal: len(payload) + 48 bytes."""
    return SealedBox(PublicKey(bytes(sealing_key))).encrypt(bytes(payload))


class Provisioned(dict):
    """The gateway's import (or rotation) answer plus `client_seed` (the client
    key's 32-byte seed when one was made here; keep it: requests need it) and
    `receipt`."""
    client_seed = None


def _client_key(client_key):
    """(seed or None, public key hex or None) for provision's client_key."""
    if client_key == "new":
        return new_key()
    if isinstance(client_key, (bytes, bytearray)):
        seed = bytes(client_key)
        return seed, SigningKey(seed).verify_key.encode().hex()
    if isinstance(client_key, str):
        return None, client_key
    return None, None


def _attested_sealing_key(client, measurement, root, now_ms):
    """The enclave's sealing key, from an attestation verified against the pins."""
    nonce = os.urandom(32)
    att = client.attestation(nonce)
    if not isinstance(att, dict) or not isinstance(att.get("document"), str) \
            or not isinstance(att.get("sealing_key"), str):
        raise ProtocolError("attestation: malformed answer")
    doc, binding = attestation.verify_live(base64.b64decode(att["document"], validate=True),
                                           root, measurement, nonce, now_ms=now_ms)
    if binding["sealing_key"].hex() != att["sealing_key"]:
        raise AttestationError("the attested sealing key is not the advertised one")
    if "measurement" in att and att["measurement"] != doc.pcr0.hex():
        raise AttestationError("the advertised measurement is not the attested PCR0")
    return binding["sealing_key"]


def _seal_and_send(client, send, venue, network, credentials, policy, owner_seed, measurement,
                   root, client_key, key_id, now_ms, generate):
    """Checks the inputs, builds the payload for key_id, verifies the
    attestation, seals the payload to it and hands it to send(key_id,
    sealed); checks the answer."""
    pol, _ = _obj(policy, "policy")
    _check_policy(pol, venue, network)
    client_seed, client_pub = _client_key(client_key)
    payload = build_payload(pol["tenant"], key_id, venue, network, credentials, policy,
                            owner_seed, client_pub, generate)
    try:
        sealed = seal(payload, _attested_sealing_key(client, measurement, root, now_ms))
    finally:
        payload[:] = bytes(len(payload))
    out = send(key_id, sealed)
    if out.get("key_id") != key_id:
        raise ProtocolError("the gateway names another key id")
    if "policy_hash" in out and out["policy_hash"] != policy_hash(pol):
        raise ProtocolError("the gateway names another policy hash")
    result = Provisioned(out)
    result.client_seed = client_seed
    return result


def provision(client, venue, network, credentials, policy, owner_seed, measurement, root,
              client_key="new", key_id=None, now_ms=None, generate=False):
    """Provisions a credential like `sigil seal`.

    credentials, policy: objects or JSON text; owner_seed: the owner key's
    32-byte seed; measurement: the pinned PCR0 (96 hex); root: "aws" or the
    dev root (PEM path or bytes). client_key: "new" (default: a new client key
    is made and returned as `client_seed`), a 32-byte seed or a 64-hex public
    key to bind, or None to bind none (then the gateway operator can submit any
    request the policy allows). generate=True with credentials None: the
    enclave makes a wallet key (GENERATE_VENUES) and only its `address` comes
    back. Returns a Provisioned dict."""
    return _seal_and_send(client, lambda _kid, sealed: client.import_key(sealed), venue, network,
                          credentials, policy, owner_seed, measurement, root, client_key,
                          key_id or os.urandom(16).hex(), now_ms, generate)


def rotate(client, key_id, venue, network, credentials, policy, owner_seed, measurement, root,
           client_key="new", now_ms=None, generate=False):
    """Replaces key_id's credentials like `sigil seal --rotate KEY_ID`
    (docs/PROVISIONING.md "Rotating credentials"): the same venue, network and
    owner, a policy whose version is above the key's; new `credentials` or
    generate=True. Arguments and result as provision's (receipt action
    `rotate`); the old credentials never sign again."""
    return _seal_and_send(client, client.rotate_credentials, venue, network, credentials, policy,
                          owner_seed, measurement, root, client_key, key_id, now_ms, generate)
