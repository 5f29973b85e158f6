// Tool results: JSON text plus structuredContent; errors as readable
// `isError` results carrying the code, the message and the receipt.
import { SigilError } from '@sigil/sdk';

const REDACTED = '[redacted by sigil-mcp: a credential; use send: true to have the server send it]';
// header and member names whose values are credentials, not signatures (OKX's
// passphrase travels in clear; KuCoin's as an HMAC of it)
const SECRET_NAME = /passphrase/i;

/** A deep copy with credential values replaced. */
export function redact(value) {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_NAME.test(k) && typeof v === 'string' ? REDACTED : redact(v)]));
}

export function ok(data) {
  return { content: [{ type: 'text', text: JSON.stringify(data, null, 1) }], structuredContent: data };
}

/** An error result: {error: {code, message, status?}, request?, receipt?} plus a readable first line. */
export function failure(e) {
  const known = e instanceof SigilError || typeof e?.code === 'string';
  const code = known ? e.code : 'internal';
  const message = known ? e.message : `unexpected error: ${e?.message ?? String(e)}`;
  const error = { code, message, ...(e?.status ? { status: e.status } : {}) };
  const data = { error, ...(e?.request ? { request: e.request } : {}), ...(e?.receipt ? { receipt: e.receipt } : {}) };
  const head = `${code}${e?.status ? ` (HTTP ${e.status})` : ''}: ${message}`;
  const tail = e?.receipt ? `\nThe enclave's signed receipt of this decision:\n${JSON.stringify(e.receipt, null, 1)}` : '';
  return { content: [{ type: 'text', text: head + tail }], structuredContent: data, isError: true };
}
