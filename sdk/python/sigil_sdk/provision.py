"""Provisioning like `sigil seal` (docs/PROVISIONING.md): verify the attestation,
build the provisioning payload, seal it to the attested key (libsodium sealed
box) and import it."""
import base64
import hashlib
import json
import os
import struct
import time

from nacl.public import PublicKey, SealedBox
from nacl.signing import SigningKey

from . import attestation, jcs
from .client import length_prefixed
from .errors import AttestationError, BadRequest, ProtocolError

# venues whose key is a secp256k1 scalar {"private_key"} (key_type "secp256k1")
WALLET_VENUES = ("hyperliquid", "aster", "eip712", "eip191", "dydx", "paradex")


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
                  client_pubkey=None):
    """The provisioning payload, members in the documented order (bytearray,
    so the caller can wipe it)."""
    cred_obj, cred_text = _obj(credentials, "credentials")
    pol_obj, pol_text = _obj(policy, "policy")
    key_type = "secp256k1" if venue in WALLET_VENUES else cred_obj.get("key_type", "hmac")
    owner_pk = SigningKey(bytes(owner_seed)).verify_key.encode().hex()
    sig = policy_signature(pol_obj, owner_seed, key_id, tenant).hex()
    text = ('{"v":1,"tenant":' + json.dumps(tenant) + ',"key_id":' + json.dumps(key_id)
            + ',"venue":' + json.dumps(venue) + ',"network":' + json.dumps(network)
            + ',"key_type":' + json.dumps(key_type) + ',"credentials":' + cred_text
            + ',"owner_pubkey":"' + owner_pk + '","client_pubkey":'
            + (json.dumps(client_pubkey) if client_pubkey else "null")
            + ',"policy":' + pol_text + ',"policy_signature":"' + sig + '"}')
    return bytearray(text.encode("utf-8"))


def seal(payload, sealing_key):
    """libsodium crypto_box_seal: len(payload) + 48 bytes."""
    return SealedBox(PublicKey(bytes(sealing_key))).encrypt(bytes(payload))


class Provisioned(dict):
    """The gateway's import answer plus `client_seed` (the client key's 32-byte
    seed when one was made here; keep it: requests need it) and `receipt`."""
    client_seed = None


def provision(client, venue, network, credentials, policy, owner_seed, measurement, root,
              client_key="new", key_id=None, now_ms=None):
    """Provisions a credential like `sigil seal`.

    credentials, policy: objects or JSON text; owner_seed: the owner key's
    32-byte seed; measurement: the pinned PCR0 (96 hex); root: "aws" or the
    dev root (PEM path or bytes). client_key: "new" (default: a new client key
    is made and returned as `client_seed`), a 32-byte seed or a 64-hex public
    key to bind, or None to bind none (then the gateway operator can submit any
    request the policy allows). Returns a Provisioned dict."""
    pol, _ = _obj(policy, "policy")
    _check_policy(pol, venue, network)
    tenant = pol["tenant"]
    client_seed, client_pub = None, None
    if client_key == "new":
        client_seed, client_pub = new_key()
    elif isinstance(client_key, (bytes, bytearray)):
        client_seed = bytes(client_key)
        client_pub = SigningKey(client_seed).verify_key.encode().hex()
    elif isinstance(client_key, str):
        client_pub = client_key
    key_id = key_id or os.urandom(16).hex()
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
    payload = build_payload(tenant, key_id, venue, network, credentials, policy, owner_seed,
                            client_pub)
    try:
        sealed = seal(payload, binding["sealing_key"])
    finally:
        payload[:] = bytes(len(payload))
    out = client.import_key(sealed)
    if out.get("key_id") != key_id:
        raise ProtocolError("import: the gateway names another key id")
    if "policy_hash" in out and out["policy_hash"] != policy_hash(pol):
        raise ProtocolError("import: the gateway names another policy hash")
    result = Provisioned(out)
    result.client_seed = client_seed
    return result
