// JSON helpers that never lose integer precision.
//  * stringify(): compact JSON like JSON.stringify, but BigInt values are written
//    as plain integers and RawNumber values as their exact text. With
//    {asciiOnly: true} every non-ASCII character is written as \uXXXX (UTF-16,
//    surrogate pairs for astral characters): same JSON value, different bytes.
//  * parse(): strict parser that keeps every number as a RawNumber holding its
//    source text, so documents with 64-bit integers can be compared exactly.

// Source key order of objects built by parse() (JS reorders integer-like keys).
export const KEYS = Symbol('keys');

export class RawNumber {
  constructor(text) { this.text = String(text); }
  toString() { return this.text; }
}

function str(s, asciiOnly) {
  let out = JSON.stringify(s);
  if (asciiOnly) {
    out = out.replace(/[\u0080-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  }
  return out;
}

export function stringify(v, opts = {}) {
  const ascii = !!opts.asciiOnly;
  const walk = (x) => {
    if (x === null) return 'null';
    if (typeof x === 'bigint') return x.toString();
    if (x instanceof RawNumber) return x.text;
    if (typeof x === 'number') {
      if (!Number.isFinite(x)) throw new Error('non-finite number in JSON');
      if (Number.isInteger(x) && !Number.isSafeInteger(x)) throw new Error(`unsafe integer ${x}: use BigInt`);
      return JSON.stringify(x);
    }
    if (typeof x === 'boolean') return x ? 'true' : 'false';
    if (typeof x === 'string') return str(x, ascii);
    if (Array.isArray(x)) return '[' + x.map((e) => (e === undefined ? 'null' : walk(e))).join(',') + ']';
    if (typeof x === 'object') {
      const parts = [];
      for (const k of (x[KEYS] || Object.keys(x))) {
        if (x[k] === undefined) continue;
        parts.push(str(k, ascii) + ':' + walk(x[k]));
      }
      return '{' + parts.join(',') + '}';
    }
    throw new Error('cannot serialize ' + typeof x);
  };
  return walk(v);
}

export function parse(text) {
  let i = 0;
  const err = (m) => { throw new Error(`JSON parse error at ${i}: ${m}`); };
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const value = () => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const o = {};
      const seen = new Set();
      Object.defineProperty(o, KEYS, { value: [], enumerable: false });
      ws();
      if (text[i] === '}') { i++; return o; }
      for (;;) {
        ws();
        if (text[i] !== '"') err('expected key');
        const k = string();
        if (seen.has(k)) err('duplicate key ' + k);
        seen.add(k);
        o[KEYS].push(k);
        ws();
        if (text[i++] !== ':') err('expected :');
        Object.defineProperty(o, k, { value: value(), enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return o; }
        err('expected , or }');
      }
    }
    if (c === '[') {
      i++;
      const a = [];
      ws();
      if (text[i] === ']') { i++; return a; }
      for (;;) {
        a.push(value());
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return a; }
        err('expected , or ]');
      }
    }
    if (c === '"') return string();
    if (text.startsWith('true', i)) { i += 4; return true; }
    if (text.startsWith('false', i)) { i += 5; return false; }
    if (text.startsWith('null', i)) { i += 4; return null; }
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m) err('unexpected character');
    i += m[0].length;
    return new RawNumber(m[0]);
  };
  const string = () => {
    i++;
    let out = '';
    for (;;) {
      if (i >= text.length) err('unterminated string');
      const c = text[i++];
      if (c === '"') return out;
      if (c === '\\') {
        const e = text[i++];
        if (e === 'u') {
          const h = text.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) err('bad \\u escape');
          out += String.fromCharCode(parseInt(h, 16));
          i += 4;
        } else {
          const map = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
          if (!(e in map)) err('bad escape');
          out += map[e];
        }
      } else {
        if (c.charCodeAt(0) < 0x20) err('control character in string');
        out += c;
      }
    }
  };
  const v = value();
  ws();
  if (i !== text.length) err('trailing data');
  return v;
}

// Structural equality of parse() results (key order significant when ordered=true).
export function deepEqual(a, b, ordered = true) {
  if (a instanceof RawNumber || b instanceof RawNumber) {
    return a instanceof RawNumber && b instanceof RawNumber && a.text === b.text;
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((x, k) => deepEqual(x, b[k], ordered));
  const ka = a[KEYS] || Object.keys(a);
  const kb = b[KEYS] || Object.keys(b);
  if (ka.length !== kb.length) return false;
  if (ordered && ka.some((k, idx) => k !== kb[idx])) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k], ordered));
}
