// The gateway side of the tools: keys, signing (with the client key where the
// key binds one), attestation and receipt verification through @sigil/sdk.
import { createHash, randomBytes } from 'node:crypto';
import { BadRequestError, NotFoundError, parseReceipt, SigilClient, verifyAttestation, verifyReceipt } from '@sigil/sdk';

// the enclave's refusal of a client signature for a key without a client key
// (src/enclave/sign.c): nothing was signed, so signing again without one is safe
const NO_CLIENT_KEY = /^client: this key has no client key/;

export class Sigil {
  constructor(config) {
    this.config = config;
    this.client = new SigilClient({ urls: config.urls, token: config.token, timeoutMs: config.timeoutMs });
    this.withoutClientKey = new Set(); // key ids of unknown binding that turned out to bind none
    this.bootDocuments = new Map(); // boot_id → archived attestation document (immutable)
  }

  get canVerify() {
    return this.config.root !== null && this.config.measurement !== null;
  }

  requireVerification() {
    if (!this.canVerify) {
      const e = new Error('verification needs SIGIL_ROOT (aws or a dev root PEM file) and SIGIL_MEASUREMENT (the pinned PCR0) in the server\'s environment');
      e.code = 'not_configured';
      throw e;
    }
  }

  listKeys() {
    return this.client.listKeys();
  }

  async key(keyId) {
    const found = (await this.listKeys()).find((k) => k.key_id === keyId);
    if (!found) throw new NotFoundError('not_found', `key ${keyId}: no such key for this token`, { status: 404 });
    return found;
  }

  /**
   * POST /v1/sign. With SIGIL_CLIENT_KEY_FILE the request is client-signed
   * when the key binds a client key: GET /v1/keys says so (`client_key`),
   * or, for keys imported before the gateway recorded it (`client_key`
   * absent or null), the enclave's refusal of a client signature does (then
   * signed again without one, under an Idempotency-Key derived from the
   * caller's, since the refusal is stored under the caller's own).
   * keyInfo: the key's GET /v1/keys entry when the caller has it.
   */
  async sign(keyId, request, idempotencyKey, keyInfo) {
    const text = typeof request === 'string' ? request : JSON.stringify(request);
    const key = this.config.clientKey;
    const withKey = (clientKey, idem = idempotencyKey) => this.client.sign(keyId, text, { clientKey, idempotencyKey: idem });
    if (key === null) return withKey(null);
    const binds = (keyInfo ?? await this.key(keyId).catch((e) => {
      if (e instanceof NotFoundError) return null; // the gateway's own 404 follows
      throw e;
    }))?.client_key;
    if (binds === true || binds === false) return withKey(binds ? key : null);
    const fallback = idempotencyKey === undefined ? undefined
      : `no-client-key-${createHash('sha256').update(idempotencyKey).digest('hex')}`;
    if (!this.withoutClientKey.has(keyId)) {
      try {
        return await withKey(key);
      } catch (e) {
        if (!(e instanceof BadRequestError && NO_CLIENT_KEY.test(e.message))) throw e;
        this.withoutClientKey.add(keyId);
      }
    }
    return withKey(null, fallback);
  }

  /** {verified: true, seq, hash} or {verified: false, reason}; null when not configured. */
  async checkReceipt(receipt) {
    if (!this.canVerify) return null;
    try {
      const r = await this.verifyReceipt(receipt);
      return { verified: true, seq: r.seq, hash: r.hash };
    } catch (e) {
      return { verified: false, reason: `${e.code ?? 'error'}: ${e.message}` };
    }
  }

  async verifyReceipt(receipt, prev) {
    this.requireVerification();
    const bootId = parseReceipt(receipt).boot_id;
    if (!this.bootDocuments.has(bootId)) this.bootDocuments.set(bootId, (await this.client.getBootDocument(bootId)).document);
    return verifyReceipt(receipt, { root: this.config.root, measurement: this.config.measurement,
      document: this.bootDocuments.get(bootId), ...(prev !== undefined ? { prev } : {}) });
  }

  /** GET /v1/attestation with a nonce, verified: root, chain, ES384, PCR0, nonce, freshness, binding. */
  async attestation(nonceHex = randomBytes(32).toString('hex')) {
    this.requireVerification();
    const att = await this.client.getAttestation(nonceHex);
    const v = verifyAttestation(att.document, { root: this.config.root, measurement: this.config.measurement, nonce: nonceHex });
    const hex = (b) => Buffer.from(b).toString('hex');
    const mismatch = [['boot_id', v.bootId], ['sealing_key', hex(v.sealingKey)], ['receipt_key', hex(v.receiptKey)]]
      .filter(([name, want]) => att[name] !== want).map(([name]) => name);
    if (mismatch.length) {
      const e = new Error(`attestation: the gateway's ${mismatch.join(', ')} differ from the document's boot binding`);
      e.code = 'attestation_failed';
      throw e;
    }
    return { verified: true, nonce: nonceHex, boot_id: v.bootId, measurement: v.measurement, mode: att.mode,
      module_id: v.moduleId, timestamp: v.timestamp, receipt_key: att.receipt_key, sealing_key: att.sealing_key,
      root: this.config.root === 'aws' ? 'aws' : 'dev root (SIGIL_ROOT)' };
  }
}
