// Comparison of sigil's stdout with the expected answer.
// Result: {status: 'pass' | 'cosmetic' | 'fail', notes: [...]}.
//  - cex:    the values that go on the wire must be byte-identical: method, path,
//            query, body and every required header value. The JSON envelope's own
//            formatting is not compared (it is parsed). A required header present
//            only under another letter case, or an empty body key omitted, is
//            "cosmetic". Optional headers (Content-Type) are compared when present;
//            forbidden headers (x-simulated-trading on OKX mainnet) must be absent;
//            other extra headers are listed in the notes only.
//  - hl:     the whole line is the POST body: byte equality; otherwise "cosmetic"
//            if it differs only by leading zeros of r/s (compared as integers) or
//            only by JSON string escaping; else a failure.
//  - fields: the listed keys of the output object must be byte-identical strings
//            (hex compared case-sensitively; a case-only difference is "cosmetic").
import { readFileSync, existsSync } from 'node:fs';
import { parse, deepEqual, RawNumber } from './json.mjs';

const lc = (s) => s.toLowerCase();

function findHeader(h, name) {
  if (!h || typeof h !== 'object') return undefined;
  if (Object.prototype.hasOwnProperty.call(h, name)) return { name, value: h[name], exact: true };
  const k = Object.keys(h).find((x) => lc(x) === lc(name));
  return k === undefined ? undefined : { name: k, value: h[k], exact: false };
}

function compareCex(out, exp) {
  const notes = [];
  let status = 'pass';
  const fail = (m) => { status = 'fail'; notes.push(m); };
  const cosmetic = (m) => { if (status === 'pass') status = 'cosmetic'; notes.push('cosmetic: ' + m); };
  for (const f of ['method', 'path', 'query', 'body']) {
    if (!(f in out)) {
      if (exp[f] === '') cosmetic(`"${f}" omitted (expected empty string)`);
      else fail(`"${f}" missing`);
    } else if (out[f] !== exp[f]) {
      fail(`${f} differs:\n      expected: ${JSON.stringify(exp[f])}\n      got:      ${JSON.stringify(out[f])}`);
    }
  }
  const h = out.headers;
  if (h === undefined || typeof h !== 'object' || Array.isArray(h)) {
    fail('"headers" missing or not an object');
    return { status, notes };
  }
  const seen = new Set();
  for (const [name, value] of Object.entries(exp.headers.required || {})) {
    const got = findHeader(h, name);
    if (!got) { fail(`header ${name} missing (expected ${JSON.stringify(value)})`); continue; }
    seen.add(got.name);
    if (got.value !== value) fail(`header ${name} differs:\n      expected: ${JSON.stringify(value)}\n      got:      ${JSON.stringify(got.value)}`);
    else if (!got.exact) cosmetic(`header name ${JSON.stringify(got.name)} (expected ${JSON.stringify(name)})`);
  }
  for (const [name, value] of Object.entries(exp.headers.optional || {})) {
    const got = findHeader(h, name);
    if (!got) continue;
    seen.add(got.name);
    if (got.value !== value) fail(`header ${name} differs:\n      expected: ${JSON.stringify(value)}\n      got:      ${JSON.stringify(got.value)}`);
  }
  for (const name of exp.headers.forbidden || []) {
    const got = findHeader(h, name);
    if (got) { fail(`header ${got.name} must not be sent here (got ${JSON.stringify(got.value)})`); seen.add(got.name); }
  }
  const extra = Object.keys(h).filter((k) => !seen.has(k));
  if (extra.length) notes.push(`extra headers (not compared): ${extra.join(', ')}`);
  return { status, notes };
}

const RS_RE = /"(r|s)":"0x([0-9a-fA-F]+)"/g;
function canonRS(text) {
  return text.replace(RS_RE, (m, k, hex) => `"${k}":"0x${BigInt('0x' + hex).toString(16)}"`);
}
// Apply one normalisation to a parse() tree of a POST body (in place).
function normRS(v) {
  if (v && v.signature && typeof v.signature === 'object') {
    for (const k of ['r', 's']) {
      if (typeof v.signature[k] === 'string' && /^0x[0-9a-fA-F]+$/.test(v.signature[k])) v.signature[k] = '0x' + BigInt(v.signature[k]).toString(16);
    }
  }
  return v;
}
function normVault(v) {
  // the same address: sigil prints the vault it parsed, in lowercase
  if (v && typeof v.vaultAddress === 'string') v.vaultAddress = v.vaultAddress.toLowerCase();
  return v;
}

function compareHl(stdoutLine, exp) {
  if (stdoutLine === exp.text) return { status: 'pass', notes: [] };
  if (canonRS(stdoutLine) === canonRS(exp.text)) {
    return { status: 'cosmetic', notes: ['cosmetic: r/s leading zeros differ (equal as integers)'] };
  }
  let got;
  try { got = parse(stdoutLine); } catch (e) {
    return { status: 'fail', notes: [`output is not JSON: ${e.message}`] };
  }
  const fresh = () => parse(exp.text);
  const g = () => parse(stdoutLine);
  const notes = [];
  if (deepEqual(got, fresh(), true)) {
    notes.push('cosmetic: same JSON value, different bytes (string escaping or number text)');
  } else if (deepEqual(normRS(g()), normRS(fresh()), true)) {
    notes.push('cosmetic: r/s leading zeros differ (equal as integers), and the JSON bytes differ otherwise too');
  } else if (deepEqual(normVault(normRS(g())), normVault(normRS(fresh())), true)) {
    notes.push('cosmetic: vaultAddress differs in letter case only (same address; the Python SDK echoes the caller\'s text)');
  } else {
    return { status: 'fail', notes: [describeHlDiff(got, fresh())] };
  }
  return { status: 'cosmetic', notes };
}

function describeHlDiff(got, want) {
  const parts = [];
  const g = got && typeof got === 'object' ? got : {};
  for (const k of new Set([...Object.keys(want), ...Object.keys(g)])) {
    if (!(k in g)) parts.push(`key "${k}" missing`);
    else if (!(k in want)) parts.push(`unexpected key "${k}"`);
    else if (!deepEqual(g[k], want[k], true)) {
      parts.push(k === 'signature' ? 'signature differs' : `"${k}" differs`);
    }
  }
  return parts.join('; ') || 'key order differs';
}

function compareFields(out, exp) {
  const notes = [];
  let status = 'pass';
  for (const [k, v] of Object.entries(exp)) {
    if (!(k in out)) { status = 'fail'; notes.push(`"${k}" missing`); continue; }
    if (out[k] === v) continue;
    if (typeof out[k] === 'string' && out[k].toLowerCase() === v.toLowerCase()) {
      if (status === 'pass') status = 'cosmetic';
      notes.push(`cosmetic: "${k}" differs in letter case only`);
      continue;
    }
    status = 'fail';
    notes.push(`${k} differs:\n      expected: ${JSON.stringify(v)}\n      got:      ${JSON.stringify(out[k])}`);
  }
  const extra = Object.keys(out).filter((k) => !(k in exp));
  if (extra.length) notes.push(`extra keys (not compared): ${extra.join(', ')}`);
  return { status, notes };
}

// The stable error codes: read from the table under "### Errors" in docs/CLI.md
// (so documenting a code there is all it takes), else this list.
let DOCUMENTED_CODES = new Set(['bad_json', 'duplicate_key', 'missing_field', 'unknown_field', 'bad_field', 'out_of_range',
  'bad_encoding', 'too_large', 'unknown_venue', 'unknown_key_type', 'bad_credentials', 'bad_address', 'usage', 'io_error']);
export function loadDocumentedCodes(cliMd) {
  if (!existsSync(cliMd)) return false;
  const text = readFileSync(cliMd, 'utf8');
  const m = /^#+\s*Errors\s*$([\s\S]*?)^#+\s/m.exec(text);
  if (!m) return false;
  const codes = new Set();
  for (const line of m[1].split('\n')) {
    if (!line.startsWith('|')) continue;
    const first = line.split('|')[1] || '';
    for (const c of first.matchAll(/`([a-z_]+)`/g)) codes.add(c[1]);
  }
  if (codes.size) DOCUMENTED_CODES = codes;
  return codes.size > 0;
}

// Refusal cases: exit 2, nothing on stdout, one JSON line {"error":{"code","message"}}
// on stderr with the documented code (docs/CLI.md "Errors"); exp.code null =
// the docs name no particular code: any documented one.
function compareError(res, exp) {
  const notes = [];
  if (res.code !== 2) {
    return { status: 'fail', notes: [`expected a refusal (exit 2, code ${exp.code ?? 'any documented'}: ${exp.why}), got exit ${res.code}${res.stdout ? ': ' + res.stdout.trim().slice(0, 300) : ''}`] };
  }
  if (res.stdout !== '') notes.push('stdout not empty on error');
  const line = res.stderr.endsWith('\n') ? res.stderr.slice(0, -1) : res.stderr;
  let e;
  try { e = JSON.parse(line); } catch { return { status: 'fail', notes: [...notes, 'stderr is not one JSON line'] }; }
  if (line.includes('\n')) notes.push('stderr has more than one line');
  const code = e && e.error && e.error.code;
  if (typeof code !== 'string' || typeof e.error.message !== 'string') notes.push('stderr is not {"error":{"code","message"}}');
  else if (exp.code !== null && code !== exp.code) notes.push(`refused with code ${code}, expected ${exp.code} (${exp.why})`);
  else if (!DOCUMENTED_CODES.has(code)) notes.push(`refused with code ${code}, which docs/CLI.md does not list (${exp.why})`);
  return { status: notes.length ? 'fail' : 'pass', notes };
}

function leaked(c, res) {
  for (const s of c.secretNeedles || []) {
    if (s.length >= 12 && (res.stdout.includes(s) || res.stderr.includes(s))) return true;
  }
  return false;
}

export function compareOutput(c, res) {
  if (res.timedOut) return { status: 'fail', notes: ['sigil timed out'] };
  if (leaked(c, res)) return { status: 'fail', notes: ['a secret from the credentials file appears in the output'] };
  if (c.compare === 'error') return compareError(res, c.expect);
  if (res.code !== 0) {
    return { status: 'fail', notes: [`sigil exited ${res.code ?? 'by signal ' + res.signal}: ${res.stderr.trim().slice(0, 2000)}`] };
  }
  const line = res.stdout.endsWith('\n') ? res.stdout.slice(0, -1) : res.stdout;
  if (line.includes('\n') || line === '') {
    return { status: 'fail', notes: ['stdout is not exactly one line'] };
  }
  if (c.compare === 'hl') return compareHl(line, c.expect);
  let out;
  try { out = JSON.parse(line); } catch (e) { return { status: 'fail', notes: [`stdout is not JSON: ${e.message}`] }; }
  if (!out || typeof out !== 'object' || Array.isArray(out)) return { status: 'fail', notes: ['stdout is not a JSON object'] };
  return c.compare === 'cex' ? compareCex(out, c.expect) : compareFields(out, c.expect);
}
