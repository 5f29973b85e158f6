// RFC 8785 (JCS) for JSON values: members sorted by UTF-16 code units, no
// whitespace, ECMAScript number and string serialisation (which JCS adopts).

/** @param {unknown} value @returns {string} */
export function canonicalize(value) {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new TypeError('canonicalize: non-finite number');
    }
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`canonicalize: ${typeof value} is not JSON`);
    return text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalize).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalize(value[k])}`).join(',')}}`;
}

/**
 * The exact text of each top-level member of a JSON object text: {name: text}
 * (what a hash over a member as it was sent covers). Throws on text that is
 * not one JSON object.
 */
export function memberSpans(text) {
  const out = {};
  let i = skipWs(text, 0);
  if (text[i] !== '{') throw new SyntaxError('memberSpans: not a JSON object');
  i = skipWs(text, i + 1);
  if (text[i] === '}') return out;
  for (;;) {
    const keyEnd = skipValue(text, i);
    const name = JSON.parse(text.slice(i, keyEnd));
    i = skipWs(text, keyEnd);
    if (text[i] !== ':') throw new SyntaxError('memberSpans: expected ":"');
    const start = skipWs(text, i + 1);
    const end = skipValue(text, start);
    out[name] = text.slice(start, end);
    i = skipWs(text, end);
    if (text[i] === '}') return out;
    if (text[i] !== ',') throw new SyntaxError('memberSpans: expected "," or "}"');
    i = skipWs(text, i + 1);
  }
}

const skipWs = (s, i) => {
  while (i < s.length && ' \t\r\n'.includes(s[i])) i++;
  return i;
};

/** The index after the JSON value that starts at i (strings, nesting; scalars up to a delimiter). */
function skipValue(s, i) {
  let depth = 0;
  let j = i;
  do {
    const c = s[j];
    if (c === undefined) throw new SyntaxError('memberSpans: unterminated value');
    if (c === '"') {
      for (j++; s[j] !== '"'; j++) {
        if (s[j] === undefined) throw new SyntaxError('memberSpans: unterminated string');
        if (s[j] === '\\') j++;
      }
      j++;
    } else if (c === '{' || c === '[') {
      depth++;
      j++;
    } else if (c === '}' || c === ']') {
      depth--;
      j++;
    } else if (depth > 0) {
      j++;
    } else {
      while (j < s.length && !',}] \t\r\n'.includes(s[j])) j++;
    }
  } while (depth > 0);
  return j;
}
