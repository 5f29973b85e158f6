// SigilClient: every route of the gateway (docs/API.md), typed errors,
// timeouts, retries under one Idempotency-Key, client-signed requests.
import { randomBytes } from 'node:crypto';
import { canonicalize } from './jcs.js';
import { concat, lp, sha256, toHex, u64be, utf8 } from './bytes.js';
import { ed25519Sign, seedBytes } from './keys.js';
import { TimeoutError, UnavailableError, errorClass } from './errors.js';

const REQUEST_PREFIX = utf8('sigil-request-v1\0');
const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);

/** The message a client key signs (docs/POLICY.md "Client-signed requests"). */
export function clientMessage(keyId, request, timestamp, nonce) {
  const obj = typeof request === 'string' ? JSON.parse(request) : request;
  return concat(REQUEST_PREFIX, lp(keyId), sha256(utf8(canonicalize(obj))), u64be(timestamp), lp(nonce));
}

/** `client` member of a /v1/sign body: {timestamp, nonce, signature}. */
export function clientSignature(clientKey, keyId, request, { timestamp, nonce } = {}) {
  const ts = timestamp ?? Date.now();
  const n = nonce ?? randomBytes(24).toString('base64url');
  const sig = ed25519Sign(seedBytes(clientKey, 'clientKey'), clientMessage(keyId, request, ts, n));
  return { timestamp: ts, nonce: n, signature: toHex(sig) };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class SigilClient {
  /**
   * @param {{url: string, token?: string, timeoutMs?: number, retries?: number,
   *   retryDelayMs?: number, clientKey?: string|Uint8Array|object, fetch?: typeof fetch}} opts
   */
  constructor({ url, token, timeoutMs = 10000, retries = 2, retryDelayMs = 200, clientKey, fetch: f } = {}) {
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new TypeError('SigilClient: url must be http(s)://…');
    this.url = url.replace(/\/+$/, '');
    this.token = token;
    this.timeoutMs = timeoutMs;
    this.retries = retries;
    this.retryDelayMs = retryDelayMs;
    this.clientKey = clientKey === undefined ? undefined : seedBytes(clientKey, 'clientKey');
    this.fetchImpl = f ?? globalThis.fetch;
  }

  /**
   * One API call. Retries (network errors, 429, 5xx) only when `idempotent`
   * (GETs, or a body sent under an Idempotency-Key). Returns {status, headers, body, text}.
   */
  async request(method, path, { body, headers = {}, auth = true, idempotent = method === 'GET',
    raw = false, retries = this.retries, timeoutMs = this.timeoutMs } = {}) {
    const h = { ...headers };
    if (auth) {
      if (!this.token) throw new TypeError('SigilClient: a token is required for /v1 routes');
      h.Authorization = `Bearer ${this.token}`;
    }
    if (body !== undefined) h['Content-Type'] = 'application/json';
    const attempts = idempotent ? retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      let res;
      try {
        res = await this.#once(method, path, h, body, timeoutMs);
      } catch (e) {
        if (attempt < attempts) {
          await sleep(this.retryDelayMs * attempt);
          continue;
        }
        throw e;
      }
      if (res.status < 400 || raw) return res;
      // a retry that overtook the first attempt (which timed out here but still runs there)
      const inProgress = res.status === 409 && /in progress/.test(res.body?.error?.message ?? '');
      if (attempt < attempts && (RETRY_STATUS.has(res.status) || inProgress)) {
        const after = Number(res.headers.get('retry-after'));
        await sleep(Number.isFinite(after) && after > 0 ? Math.min(after * 1000, 5000) : this.retryDelayMs * attempt);
        continue;
      }
      throw this.#error(res);
    }
  }

  async #once(method, path, headers, body, timeoutMs) {
    let r;
    try {
      r = await this.fetchImpl(this.url + path, { method, headers, body,
        signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    } catch (e) {
      const timedOut = e?.name === 'TimeoutError' || e?.name === 'AbortError';
      throw timedOut
        ? new TimeoutError('timeout', `${method} ${path}: no answer within ${timeoutMs} ms`, { cause: e })
        : new UnavailableError('unavailable', `${method} ${path}: ${e?.cause?.code ?? e?.message ?? 'network error'}`, { cause: e });
    }
    const text = await r.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    return { status: r.status, headers: r.headers, body: parsed, text };
  }

  #error(res) {
    const err = res.body?.error;
    const code = typeof err?.code === 'string' ? err.code : `http_${res.status}`;
    const message = typeof err?.message === 'string' ? err.message : `HTTP ${res.status}`;
    const retry = Number(res.headers.get('retry-after'));
    const Cls = errorClass(code, res.status);
    return new Cls(code, message, { status: res.status, receipt: res.body?.receipt,
      retryAfter: Number.isFinite(retry) && res.headers.get('retry-after') !== null ? retry : undefined });
  }

  async #json(method, path, opts) {
    return (await this.request(method, path, opts)).body;
  }

  /** GET /healthz */
  health() {
    return this.#json('GET', '/healthz', { auth: false });
  }

  /** GET /readyz (a 503 throws UnavailableError) */
  ready() {
    return this.#json('GET', '/readyz', { auth: false, retries: 0 });
  }

  /** GET /metrics (Prometheus text) */
  async metrics() {
    return (await this.request('GET', '/metrics', { auth: false })).text;
  }

  /** GET /v1/attestation?nonce=HEX (nonce: bytes or hex; default 32 random bytes) */
  async getAttestation(nonce = randomBytes(32)) {
    const hex = typeof nonce === 'string' ? nonce : toHex(nonce);
    const body = await this.#json('GET', `/v1/attestation?nonce=${encodeURIComponent(hex)}`);
    return { ...body, nonce: hex };
  }

  /** GET /v1/attestation/boots/{boot_id} */
  getBootDocument(bootId) {
    return this.#json('GET', `/v1/attestation/boots/${encodeURIComponent(bootId)}`);
  }

  /** GET /v1/keys → the keys array */
  async listKeys() {
    return (await this.#json('GET', '/v1/keys')).keys;
  }

  /** POST /v1/keys with a sealed payload (bytes or base64) */
  importKey(sealed, { idempotencyKey } = {}) {
    const b64 = typeof sealed === 'string' ? sealed : Buffer.from(sealed).toString('base64');
    return this.#json('POST', '/v1/keys', { body: JSON.stringify({ sealed: b64 }),
      idempotent: false, headers: idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {} });
  }

  /** PUT /v1/keys/{key_id}/policy; policy: the text `sigil policy sign` printed, or an object */
  updatePolicy(keyId, policy, policySignature) {
    const text = typeof policy === 'string' ? policy : JSON.stringify(policy);
    return this.#json('PUT', `/v1/keys/${encodeURIComponent(keyId)}/policy`, {
      body: `{"policy":${text},"policy_signature":${JSON.stringify(policySignature)}}`, idempotent: false });
  }

  /** DELETE /v1/keys/{key_id} */
  async deleteKey(keyId) {
    await this.request('DELETE', `/v1/keys/${encodeURIComponent(keyId)}`, { idempotent: false });
  }

  /** GET /v1/audit?since=&limit= → {records, next} */
  audit({ since, limit } = {}) {
    const q = new URLSearchParams();
    if (since !== undefined) q.set('since', String(since));
    if (limit !== undefined) q.set('limit', String(limit));
    const qs = q.toString();
    return this.#json('GET', `/v1/audit${qs ? `?${qs}` : ''}`);
  }

  /**
   * POST /v1/sign. request: the venue request object, or its exact JSON text.
   * opts: clientKey (overrides the client's; null: send no client signature),
   * timestamp/nonce (of the client signature), idempotencyKey (default: a
   * fresh random one, reused by every retry of this call), retries, timeoutMs.
   * Resolves to {key_id, action, signed, receipt, text}; a denial throws with .receipt.
   */
  async sign(keyId, request, opts = {}) {
    const text = typeof request === 'string' ? request : JSON.stringify(request);
    const key = opts.clientKey === undefined ? this.clientKey : opts.clientKey;
    let body = `{"key_id":${JSON.stringify(keyId)},"request":${text}`;
    if (key !== null && key !== undefined) {
      const client = clientSignature(key, keyId, text, opts);
      body += `,"client":${JSON.stringify(client)}`;
    }
    body += '}';
    const idem = opts.idempotencyKey ?? randomBytes(16).toString('hex');
    const res = await this.request('POST', '/v1/sign', { body, idempotent: true,
      headers: { 'Idempotency-Key': idem }, retries: opts.retries, timeoutMs: opts.timeoutMs });
    return { ...res.body, text: res.text, idempotencyKey: idem };
  }
}

