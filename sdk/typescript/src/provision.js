// Provisioning like `sigil seal` (docs/PROVISIONING.md): key id, attestation
// fetched and verified, payload built in the documented member order, owner
// policy signature, libsodium sealed box, upload, response checks; the same
// for a credential rotation (`sigil seal --rotate`); owner revocations
// (`sigil revoke sign`).
import { randomBytes } from 'node:crypto';
import { canonicalize } from './jcs.js';
import { concat, equalBytes, fromHex, lp, sha256, toHex, u64be, utf8 } from './bytes.js';
import { ed25519PublicKey, ed25519Sign, seedBytes } from './keys.js';
import { sealedBox } from './sealedbox.js';
import { verifyAttestation } from './attestation.js';
import { AttestationError, ProtocolError } from './errors.js';

// venues whose key is a secp256k1 scalar {"private_key"} (key_type "secp256k1")
const WALLET_VENUES = new Set(['hyperliquid', 'aster', 'eip712', 'eip191', 'dydx', 'paradex']);
// venues whose key the enclave can make ("generate": true, docs/PROVISIONING.md "Generated keys")
const GENERATE_VENUES = new Set(['hyperliquid', 'aster', 'eip712', 'eip191', 'dydx']);

/** The owner's v2 policy-signature message (docs/POLICY.md). */
export function policyMessage(policy, tenant, keyId) {
  return concat(utf8('sigil-policy-v2\0'), lp(tenant), lp(keyId), u64be(policy.version),
    utf8(canonicalize(policy)));
}

/** Ed25519 owner signature (128 hex) over the policy for this tenant and key. */
export function signPolicy(policy, ownerKey, keyId, tenant = policy.tenant) {
  return toHex(ed25519Sign(seedBytes(ownerKey, 'ownerKey'), policyMessage(policy, tenant, keyId)));
}

/**
 * The provisioning payload text (compact JSON, members in the documented
 * order). `generate: true` instead of `credentials`: the enclave makes the key.
 */
export function provisioningPayload({ tenant, keyId, venue, network, credentials, generate = false, ownerKey,
  clientPubkey = null, policy }) {
  if (generate !== (credentials === undefined)) throw new TypeError('provision: give credentials or generate: true, not both');
  if (generate && !GENERATE_VENUES.has(venue)) {
    throw new TypeError(`provision: ${venue} keys cannot be generated in the enclave (${[...GENERATE_VENUES].join(', ')} can)`);
  }
  const keyType = WALLET_VENUES.has(venue) || generate ? 'secp256k1' : (credentials.key_type ?? 'hmac');
  const owner = seedBytes(ownerKey, 'ownerKey');
  const doc = { v: 1, tenant, key_id: keyId, venue, network, key_type: keyType,
    ...(generate ? { generate: true } : { credentials }),
    owner_pubkey: toHex(ed25519PublicKey(owner)), client_pubkey: clientPubkey, policy,
    policy_signature: signPolicy(policy, owner, keyId, tenant) };
  return JSON.stringify(doc);
}

/** The owner's revocation message: "sigil-revoke-v1" 0x00 ‖ lp(tenant) ‖ lp(key_id) (docs/POLICY.md "Revocation"). */
export function revocationMessage(tenant, keyId) {
  return concat(utf8('sigil-revoke-v1\0'), lp(tenant), lp(keyId));
}

/** Ed25519 owner signature (128 hex) revoking the key: the body's `signature` of POST /v1/keys/{key_id}/revoke. */
export function signRevocation(ownerKey, tenant, keyId) {
  return toHex(ed25519Sign(seedBytes(ownerKey, 'ownerKey'), revocationMessage(tenant, keyId)));
}

/** Fetches and verifies a fresh attestation; resolves to the verified boot binding. */
export async function attest(client, { root, measurement, time }) {
  const nonce = randomBytes(32);
  const res = await client.getAttestation(nonce);
  const boot = verifyAttestation(res.document, { root, measurement, nonce, time });
  if (typeof res.sealing_key !== 'string' || !equalBytes(fromHex(res.sealing_key, 32, 'sealing_key'), boot.sealingKey)) {
    throw new AttestationError('the response\'s sealing_key is not the attested one');
  }
  if (res.measurement !== undefined && res.measurement !== measurement) {
    throw new AttestationError('the response\'s measurement is not the attested PCR0');
  }
  return boot;
}

/**
 * Checks the options, attests, builds the payload and seals it to the
 * attested enclave; the payload bytes are wiped. Resolves to {sealed, keyId, policyHash}.
 */
async function sealPayload(client, opts, keyId) {
  const { venue, network, credentials, generate, policy, ownerKey, root, measurement } = opts;
  if (policy.venue !== venue || policy.network !== network) {
    throw new TypeError('provision: the policy does not name this venue and network');
  }
  if (policy.not_after <= Date.now() / 1000) throw new TypeError('provision: the policy has expired');
  const text = provisioningPayload({ tenant: policy.tenant, keyId, venue, network, credentials, generate,
    ownerKey, clientPubkey: opts.clientPubkey ?? null, policy });
  const boot = await attest(client, { root, measurement });
  const payload = utf8(text);
  const sealed = sealedBox(payload, boot.sealingKey);
  payload.fill(0);
  return { sealed, keyId, policyHash: toHex(sha256(utf8(canonicalize(policy)))) };
}

function checkAnswer(res, { keyId, policyHash }) {
  if (res?.key_id !== keyId || (res.policy_hash !== undefined && res.policy_hash !== policyHash)) {
    throw new ProtocolError('protocol_error', 'the gateway answered with another key id or policy hash');
  }
  return res;
}

/**
 * Provisions a credential. opts: venue, network, credentials (object) or
 * generate: true (wallet venues and dydx: the enclave makes the key; the
 * answer's `address` is all that leaves it), policy (object; its tenant must
 * be the token's), ownerKey (seed or keygen object), clientPubkey (64 hex;
 * null binds none), root ('aws' | dev root PEM), measurement (96 hex), keyId
 * (default: 16 random bytes).
 * Resolves to the gateway's response {key_id, venue, network, key_type, address?, policy_hash, …}.
 */
export async function provision(client, opts) {
  const sealed = await sealPayload(client, opts, opts.keyId ?? randomBytes(16).toString('hex'));
  return checkAnswer(await client.importKey(sealed.sealed), sealed);
}

/**
 * Rotates a key's credentials (PUT /v1/keys/{key_id}/credentials, docs/PROVISIONING.md
 * "Rotating credentials"): opts as for provision (new credentials or
 * generate: true), with the key's venue, network and owner key and a policy
 * whose version is above the key's. Resolves to {key_id, …, version, receipt} (receipt action rotate).
 */
export async function rotateCredentials(client, keyId, opts) {
  const sealed = await sealPayload(client, opts, keyId);
  return checkAnswer(await client.putCredentials(keyId, sealed.sealed), sealed);
}
