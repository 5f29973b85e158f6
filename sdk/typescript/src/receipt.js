// Offline receipt verification exactly as `sigil receipt verify` does it
// (docs/RECEIPTS.md): strict parse, the boot's attestation document verified
// at its own time, receipt key from the boot binding, Ed25519 over the
// domain-separated canonical form; and the chain link `prev`.
import { canonicalize } from './jcs.js';
import { concat, fromHex, isHex, sha256, toHex, utf8 } from './bytes.js';
import { ed25519Verify } from './keys.js';
import { verifyAttestation } from './attestation.js';
import { ReceiptError, SigilError } from './errors.js';

const PREFIX = utf8('sigil-receipt-v1\0');
const ACTIONS = new Set(['order', 'cancel', 'modify', 'leverage', 'read', 'transfer', 'withdraw',
  'agent', 'auth', 'other', 'import', 'policy_update', 'rotate', 'rewrap', 'revoke']);
const hex = (n) => (v) => isHex(v, n);
const int = (min) => (v) => Number.isSafeInteger(v) && v >= min;
const str = (re) => (v) => typeof v === 'string' && re.test(v);
const MEMBERS = {
  action: (v) => ACTIONS.has(v),
  boot_id: hex(16),
  decision: (v) => v === 'allow' || v === 'deny',
  key_id: hex(16),
  measurement: hex(48),
  mode: (v) => v === 'dev' || v === 'nitro',
  network: (v) => v === 'mainnet' || v === 'testnet',
  output_hash: hex(32),
  policy_hash: hex(32),
  prev: hex(32),
  reason: (v) => typeof v === 'string' && utf8(v).length >= 1 && utf8(v).length <= 512,
  request_hash: hex(32),
  seq: int(1),
  tenant: str(/^[a-z0-9_-]{1,64}$/),
  time: int(0),
  v: (v) => v === 1,
  venue: str(/^[a-z0-9_]{1,32}$/),
  signature: hex(64),
};

const fail = (code, message) => {
  throw new ReceiptError(code, `receipt: ${message}`);
};

// A flat JSON object of strings and integers, refusing duplicate members.
const TOKEN = /\s*("(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"|-?(?:0|[1-9][0-9]*)(?![.eE0-9])|[{}:,])/y;

function tokenize(text) {
  const tokens = [];
  let at = 0;
  for (let m; (TOKEN.lastIndex = at, m = TOKEN.exec(text)) !== null; at = TOKEN.lastIndex) {
    tokens.push(m[1]);
  }
  if (!/^\s*$/.test(text.slice(at))) fail('bad_json', 'not a flat JSON object of strings and integers');
  return tokens;
}

function parseFlat(text) {
  const tokens = tokenize(text);
  const out = {};
  const want = (i, t) => tokens[i] === t || fail('bad_json', 'malformed object');
  want(0, '{');
  let i = 1;
  while (tokens[i] !== '}') {
    if (i > 1) want(i++, ',');
    const key = tokens[i++];
    if (key === undefined || key[0] !== '"') fail('bad_json', 'malformed member');
    want(i++, ':');
    const name = JSON.parse(key);
    const value = tokens[i++];
    if (value === undefined || '{}:,'.includes(value)) fail('bad_json', 'malformed value');
    if (Object.hasOwn(out, name)) fail('duplicate_key', `duplicate member ${name}`);
    out[name] = JSON.parse(value);
  }
  if (i !== tokens.length - 1) fail('bad_json', 'text after the object');
  return out;
}

/** The receipt object of a wire text, a receipt object, or a body with a top-level receipt. */
export function parseReceipt(input) {
  let r = input;
  if (typeof r === 'string' || r instanceof Uint8Array) {
    let text = r;
    if (r instanceof Uint8Array) {
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(r);
      } catch {
        fail('bad_encoding', 'not UTF-8');
      }
    }
    let whole;
    try {
      whole = JSON.parse(text);
    } catch {
      fail('bad_json', 'not JSON');
    }
    // a whole response or error body: its receipt member (JSON.parse keeps the
    // last of duplicated members there); a receipt alone: the strict flat parser
    r = whole && typeof whole.receipt === 'object' ? whole : parseFlat(text);
  }
  if (r && typeof r === 'object' && r.receipt && typeof r.receipt === 'object') r = r.receipt;
  if (!r || typeof r !== 'object' || Array.isArray(r)) fail('bad_json', 'not an object');
  for (const k of Object.keys(r)) if (!(k in MEMBERS)) fail('unknown_field', `unknown member ${k}`);
  const conditional = { output_hash: r.decision === 'allow', reason: r.decision === 'deny' };
  for (const [k, ok] of Object.entries(MEMBERS)) {
    const required = conditional[k] ?? true;
    if (!(k in r)) {
      if (required) fail('missing_field', `missing member ${k}`);
      continue;
    }
    if (!required) fail('unknown_field', `member ${k} with decision ${r.decision}`);
    if (!ok(r[k])) fail(k === 'seq' || k === 'time' ? 'out_of_range' : 'bad_field', `bad ${k}`);
  }
  return r;
}

/** The canonical bytes (JCS of every member but signature). */
export function receiptCanonical(receipt) {
  const { signature, ...rest } = receipt;
  return utf8(canonicalize(rest));
}

/** SHA-256 of the canonical bytes, hex: what the next receipt's prev holds. */
export function receiptHash(receipt) {
  return toHex(sha256(receiptCanonical(parseReceipt(receipt))));
}

async function bootDocument(r, opts) {
  if (opts.document !== undefined) return opts.document;
  if (opts.client) return (await opts.client.getBootDocument(r.boot_id)).document;
  return fail('missing_field', 'the boot attestation document (document or client) is required');
}

/**
 * Verifies a receipt (steps 1–6 of docs/RECEIPTS.md, plus `prev` when opts.prev
 * is given: the previous receipt, or its hash as hex). opts: root ('aws' |
 * PEM), measurement (96 hex), document (the boot's attestation document,
 * base64 or bytes) or client (a SigilClient to fetch it from the archive).
 * Resolves to {ok: true, boot_id, seq, decision, action, key_id, hash}.
 */
export async function verifyReceipt(receipt, opts = {}) {
  const r = parseReceipt(receipt);
  let boot;
  try {
    boot = verifyAttestation(await bootDocument(r, opts), { root: opts.root,
      measurement: opts.measurement, atDocumentTime: true });
  } catch (e) {
    if (e instanceof SigilError && !(e instanceof ReceiptError)) {
      throw new ReceiptError(e.code, `receipt: boot document: ${e.message}`, { cause: e });
    }
    throw e;
  }
  if (boot.bootId !== r.boot_id) fail('bad_field', 'boot_id is not the document\'s');
  if (r.measurement !== boot.measurement) fail('bad_field', 'measurement is not the document\'s PCR0');
  const canon = receiptCanonical(r);
  if (!ed25519Verify(boot.receiptKey, concat(PREFIX, canon), fromHex(r.signature, 64))) {
    fail('bad_signature', 'signature does not verify under the boot\'s receipt key');
  }
  const hash = toHex(sha256(canon));
  if (opts.prev !== undefined) {
    const prevHash = typeof opts.prev === 'string' ? opts.prev : receiptHash(opts.prev);
    if (r.prev !== prevHash) fail('bad_field', 'prev is not the previous receipt\'s hash');
  }
  return { ok: true, boot_id: r.boot_id, seq: r.seq, decision: r.decision, action: r.action,
    key_id: r.key_id, hash };
}
