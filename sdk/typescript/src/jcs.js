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
