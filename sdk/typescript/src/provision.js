// Provisioning like `sigil seal` (docs/PROVISIONING.md): key id, attestation
// fetched and verified, payload built in the documented member order, owner
// policy signature, libsodium sealed box, upload, response checks.
import { randomBytes } from 'node:crypto';
import { canonicalize } from './jcs.js';
import { concat, equalBytes, fromHex, lp, sha256, toHex, u64be, utf8 } from './bytes.js';
import { ed25519PublicKey, ed25519Sign, seedBytes } from './keys.js';
import { sealedBox } from './sealedbox.js';
import { verifyAttestation } from './attestation.js';
import { AttestationError, ProtocolError } from './errors.js';

const WALLET_VENUES = new Set(['hyperliquid', 'aster', 'eip712', 'eip191']);

/** The owner's v2 policy-signature message (docs/POLICY.md). */
export function policyMessage(policy, tenant, keyId) {
  return concat(utf8('sigil-policy-v2\0'), lp(tenant), lp(keyId), u64be(policy.version),
    utf8(canonicalize(policy)));
}

/** Ed25519 owner signature (128 hex) over the policy for this tenant and key. */
export function signPolicy(policy, ownerKey, keyId, tenant = policy.tenant) {
  return toHex(ed25519Sign(seedBytes(ownerKey, 'ownerKey'), policyMessage(policy, tenant, keyId)));
}

/** The provisioning payload text (compact JSON, members in the documented order). */
export function provisioningPayload({ tenant, keyId, venue, network, credentials, ownerKey,
  clientPubkey = null, policy }) {
  const keyType = WALLET_VENUES.has(venue) ? 'secp256k1' : (credentials.key_type ?? 'hmac');
  const owner = seedBytes(ownerKey, 'ownerKey');
  const doc = { v: 1, tenant, key_id: keyId, venue, network, key_type: keyType, credentials,
    owner_pubkey: toHex(ed25519PublicKey(owner)), client_pubkey: clientPubkey, policy,
    policy_signature: signPolicy(policy, owner, keyId, tenant) };
  return JSON.stringify(doc);
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
 * Provisions a credential. opts: venue, network, credentials (object), policy
 * (object; its tenant must be the token's), ownerKey (seed or keygen object),
 * clientPubkey (64 hex; null binds none), root ('aws' | dev root PEM),
 * measurement (96 hex), keyId (default: 16 random bytes).
 * Resolves to the gateway's response {key_id, venue, network, key_type, address?, policy_hash, …}.
 */
export async function provision(client, opts) {
  const { venue, network, credentials, policy, ownerKey, root, measurement } = opts;
  if (policy.venue !== venue || policy.network !== network) {
    throw new TypeError('provision: the policy does not name this venue and network');
  }
  if (policy.not_after <= Date.now() / 1000) throw new TypeError('provision: the policy has expired');
  const keyId = opts.keyId ?? randomBytes(16).toString('hex');
  const boot = await attest(client, { root, measurement });
  const payload = utf8(provisioningPayload({ tenant: policy.tenant, keyId, venue, network, credentials,
    ownerKey, clientPubkey: opts.clientPubkey ?? null, policy }));
  const sealed = sealedBox(payload, boot.sealingKey);
  payload.fill(0);
  const res = await client.importKey(sealed);
  const policyHash = toHex(sha256(utf8(canonicalize(policy))));
  if (res?.key_id !== keyId || (res.policy_hash !== undefined && res.policy_hash !== policyHash)) {
    throw new ProtocolError('protocol_error', 'the gateway answered with another key id or policy hash');
  }
  return res;
}
