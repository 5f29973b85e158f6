// Helpers for the CEX venues: node:crypto signers (the independent second
// implementation next to ccxt), splitting ccxt's sign() output, and the common
// shape of an expected sigil answer.
import { createHmac, sign as nodeSign, createPrivateKey } from 'node:crypto';
import { ccxtHmacHex, ccxtHmacB64, ccxtEd25519B64, ccxtRsaB64 } from './ccxtprim.mjs';

export class OracleDisagreement extends Error {}

export function agree(what, a, b, context) {
  if (a !== b) {
    throw new OracleDisagreement(`${what}: oracles disagree\n  A: ${a}\n  B: ${b}\n  context: ${JSON.stringify(context)}`);
  }
  return a;
}

// Sign a payload with both node:crypto and ccxt's primitives; they must agree.
// Returns {hex|b64} as the venue needs.
export function signBoth(keyType, secret, payload, encoding) {
  const data = Buffer.from(payload, 'utf8');
  let a, b;
  if (keyType === 'hmac') {
    a = createHmac('sha256', Buffer.from(secret, 'utf8')).update(data).digest(encoding === 'hex' ? 'hex' : 'base64');
    b = encoding === 'hex' ? ccxtHmacHex(payload, secret) : ccxtHmacB64(payload, secret);
  } else if (keyType === 'ed25519') {
    a = nodeSign(null, data, createPrivateKey(secret)).toString('base64');
    b = ccxtEd25519B64(payload, secret);
  } else if (keyType === 'rsa') {
    a = nodeSign('sha256', data, createPrivateKey(secret)).toString('base64');
    b = ccxtRsaB64(payload, secret);
  } else {
    throw new Error('key type ' + keyType);
  }
  return agree(`${keyType} signature`, a, b, { payload });
}

// ccxt's {url, body} -> path, query (no '?'), body ('' when none).
export function splitSigned(r) {
  const noHost = r.url.replace(/^[a-z]+:\/\/[^/]+/i, '');
  const q = noHost.indexOf('?');
  return {
    path: q < 0 ? noHost : noHost.slice(0, q),
    query: q < 0 ? '' : noHost.slice(q + 1),
    body: r.body === undefined || r.body === null ? '' : r.body,
  };
}

// Remove a trailing "&signature=..." (or "signature=..." when it is alone).
export function stripParam(s, name) {
  const re = new RegExp(`(^|&)${name}=([^&]*)$`);
  const m = re.exec(s);
  if (!m) return null;
  return { rest: s.slice(0, m.index), value: m[2] };
}

export const isoMs = (ts) => new Date(ts).toISOString();
