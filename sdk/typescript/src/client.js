// SigilClient: every route of the gateway (docs/API.md), typed errors,
// timeouts, retries under one Idempotency-Key, failover across several
// gateways on one store, client-signed requests.
import { randomBytes } from 'node:crypto';
import { canonicalize, memberSpans } from './jcs.js';
import { concat, lp, sha256, toHex, u64be, utf8 } from './bytes.js';
import { ed25519Sign, seedBytes } from './keys.js';
import { signRevocation } from './provision.js';
import { TimeoutError, UnavailableError, errorClass } from './errors.js';

const REQUEST_PREFIX = utf8('sigil-request-v1\0');
// a pair that failed (docs/OPERATIONS.md "Multi-host topology"): the next gateway
const FAILOVER_STATUS = new Set([502, 503, 504]);
// A gateway that died holding a request's Idempotency-Key reservation keeps
// it for its lease (5 s); until then another gateway answers 409 "in
// progress". Waited out this long by default (the Python SDK's 15 s).
const IN_PROGRESS_WAIT_MS = 15000;
// between polls of an "in progress" key: each 409 is an audit row
const IN_PROGRESS_POLL_MS = { min: 250, max: 1000 };
// transport failures where the request never reached the gateway (any request may move)
const REFUSED = new WeakSet();

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
const base64 = (sealed) => (typeof sealed === 'string' ? sealed : Buffer.from(sealed).toString('base64'));

function parseUrl(url) {
  if (typeof url !== 'string' || !/^https?:\/\/[^/?#]+/.test(url)) throw new TypeError('SigilClient: url must be http(s)://…');
  return url.replace(/\/+$/, '');
}

/** Whether a fetch failure is a refused connection (on every address tried). */
function refused(e) {
  const c = e?.cause;
  if (c?.code === 'ECONNREFUSED') return true;
  return Array.isArray(c?.errors) && c.errors.length > 0 && c.errors.every((x) => x?.code === 'ECONNREFUSED');
}

export class SigilClient {
  #current = 0;

  /**
   * @param {{url?: string|string[], urls?: string[], token?: string, timeoutMs?: number, retries?: number,
   *   retryDelayMs?: number, inProgressWaitMs?: number, clientKey?: string|Uint8Array|object,
   *   fetch?: typeof fetch}} opts
   * url: the gateway, or a list of gateways on one store (also given as urls).
   */
  constructor({ url, urls, token, timeoutMs = 10000, retries = 2, retryDelayMs = 200,
    inProgressWaitMs = IN_PROGRESS_WAIT_MS, clientKey, fetch: f } = {}) {
    if (urls !== undefined && url !== undefined) throw new TypeError('SigilClient: give url or urls, not both');
    const list = urls ?? (Array.isArray(url) ? url : [url]);
    if (!Array.isArray(list) || list.length === 0) throw new TypeError('SigilClient: url must be http(s)://…');
    /** every gateway, in the order given (trailing slashes removed) */
    this.urls = Object.freeze(list.map(parseUrl));
    this.token = token;
    this.timeoutMs = timeoutMs;
    this.retries = retries;
    this.retryDelayMs = retryDelayMs;
    this.inProgressWaitMs = inProgressWaitMs;
    this.clientKey = clientKey === undefined ? undefined : seedBytes(clientKey, 'clientKey');
    this.fetchImpl = f ?? globalThis.fetch;
  }

  /** The gateway requests go to first (the last one that answered). */
  get url() {
    return this.urls[this.#current];
  }

  /**
   * One API call. Returns {status, headers, body, text}; a status >= 400
   * throws the typed error (unless `raw`). `idempotent`: whether a retry
   * after a lost answer is safe (GETs, and a body sent under an
   * Idempotency-Key). With several gateways a refused connection (any
   * request: it never arrived), a lost answer, a timeout or a 502/503/504
   * (idempotent requests) moves the request to the next gateway, which later
   * calls then use first; every gateway is tried once, then `retries` more
   * attempts go round with a backoff. A 429 is retried on the same gateway;
   * a 409 "in progress" on a retry (another gateway's live reservation of
   * the Idempotency-Key) is polled every 250..1000 ms for up to
   * `inProgressWaitMs`. Other 4xx are final.
   */
  async request(method, path, { body, headers = {}, auth = true, idempotent = method === 'GET',
    raw = false, retries = this.retries, timeoutMs = this.timeoutMs } = {}) {
    const h = { ...headers };
    if (auth) {
      if (!this.token) throw new TypeError('SigilClient: a token is required for /v1 routes');
      h.Authorization = `Bearer ${this.token}`;
    }
    if (body !== undefined) h['Content-Type'] = 'application/json';
    // with n gateways, each may be tried once more than retries allows
    const budget = retries + this.urls.length - 1;
    let attempt = 0;
    let waitedSince = null;
    let index = this.#current;
    for (;;) {
      let res;
      try {
        res = await this.#once(index, method, path, h, body, timeoutMs);
      } catch (e) {
        if ((idempotent || REFUSED.has(e)) && attempt < budget) {
          attempt++;
          index = await this.#next(index, attempt);
          continue;
        }
        throw e;
      }
      if (res.status < 400 || raw) return res;
      const err = this.#error(res);
      if (idempotent && res.status === 409 && attempt > 0 && /in progress/.test(err.message)) {
        waitedSince ??= Date.now();
        if (Date.now() - waitedSince < this.inProgressWaitMs) {
          await sleep(Math.min(Math.max(this.retryDelayMs * 2, IN_PROGRESS_POLL_MS.min), IN_PROGRESS_POLL_MS.max));
          continue;
        }
      }
      if (idempotent && FAILOVER_STATUS.has(res.status) && attempt < budget) {
        attempt++;
        index = await this.#next(index, attempt, err.retryAfter);
        continue;
      }
      if (idempotent && res.status === 429 && attempt < retries) {
        attempt++;
        await this.#backoff(attempt, err.retryAfter);
        continue;
      }
      throw err;
    }
  }

  /** The gateway of the next attempt: the following one when there are several (at once the first time round). */
  async #next(index, attempt, retryAfter) {
    const n = this.urls.length;
    if (n === 1) {
      await this.#backoff(attempt, retryAfter);
      return index;
    }
    if (this.#current === index) this.#current = (index + 1) % n; // unless another call moved it already
    if (attempt >= n) await this.#backoff(attempt - n + 1, retryAfter);
    return this.#current;
  }

  #backoff(attempt, retryAfter) {
    let ms = this.retryDelayMs * 2 ** (attempt - 1);
    if (retryAfter !== null && retryAfter !== undefined) ms = Math.max(ms, Math.min(retryAfter * 1000, 5000));
    return sleep(ms);
  }

  async #once(index, method, path, headers, body, timeoutMs) {
    let r;
    try {
      r = await this.fetchImpl(this.urls[index] + path, { method, headers, body,
        signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    } catch (e) {
      const timedOut = e?.name === 'TimeoutError' || e?.name === 'AbortError';
      if (timedOut) throw new TimeoutError('timeout', `${method} ${path}: no answer within ${timeoutMs} ms`, { cause: e });
      const err = new UnavailableError('unavailable', `${method} ${path}: ${e?.cause?.code ?? e?.message ?? 'network error'}`, { cause: e });
      if (refused(e)) REFUSED.add(err);
      throw err;
    }
    let text;
    try {
      text = await r.text();
    } catch (e) {
      // the connection died while the answer was coming: a lost answer
      throw new UnavailableError('unavailable', `${method} ${path}: ${e?.cause?.code ?? e?.message ?? 'answer lost'}`, { cause: e });
    }
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
    return this.#json('POST', '/v1/keys', { body: JSON.stringify({ sealed: base64(sealed) }),
      idempotent: false, headers: idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {} });
  }

  /** PUT /v1/keys/{key_id}/credentials with a sealed rotation payload (bytes or base64; see rotateCredentials) */
  putCredentials(keyId, sealed) {
    return this.#json('PUT', `/v1/keys/${encodeURIComponent(keyId)}/credentials`,
      { body: JSON.stringify({ sealed: base64(sealed) }), idempotent: false });
  }

  /** POST /v1/keys/{key_id}/rewrap (no body): the same payload under a new data key → {key_id, policy_hash, version, receipt} */
  rewrapKey(keyId) {
    return this.#json('POST', `/v1/keys/${encodeURIComponent(keyId)}/rewrap`, { idempotent: true });
  }

  /** POST /v1/keys/{key_id}/disable → {key_id, state: 'disabled'}; its signs are then 409 key_disabled (ConflictError) */
  disableKey(keyId) {
    return this.#json('POST', `/v1/keys/${encodeURIComponent(keyId)}/disable`, { idempotent: true });
  }

  /** POST /v1/keys/{key_id}/enable → {key_id, state: 'active'} */
  enableKey(keyId) {
    return this.#json('POST', `/v1/keys/${encodeURIComponent(keyId)}/enable`, { idempotent: true });
  }

  /**
   * POST /v1/keys/{key_id}/revoke, final: signature (128 hex, signRevocation)
   * or {ownerKey, tenant} to sign it here → {key_id, state: 'revoked', receipt}.
   * Afterwards the key's signs, policy updates, disable/enable throw RevokedError (410).
   */
  revokeKey(keyId, signature) {
    const sig = typeof signature === 'string' ? signature : signRevocation(signature.ownerKey, signature.tenant, keyId);
    return this.#json('POST', `/v1/keys/${encodeURIComponent(keyId)}/revoke`,
      { body: JSON.stringify({ signature: sig }), idempotent: false });
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
   * Resolves to {key_id, action, signed, receipt, text, signedText, idempotencyKey}
   * (signedText: the `signed` member exactly as returned, what the receipt's
   * output_hash covers); a denial throws with .receipt.
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
    return { ...res.body, text: res.text, signedText: memberSpans(res.text).signed, idempotencyKey: idem };
  }
}

