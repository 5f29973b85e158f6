// Generic EIP-712: random typed data (nested structs, struct arrays, dynamic and
// fixed arrays incl. nested arrays, bytes, bytes1..32, int8..256, uint8..256,
// bool, address, string) signed with ethers (TypedDataEncoder.hash + SigningKey)
// and, as a second opinion, with eth_account in the Python oracle. Expected
// output: {"digest","signature"} with 0x lowercase hex, signature r‖s‖v (27/28).
import { Wallet, TypedDataEncoder, getAddress, Signature } from 'ethers';
import { FIXED_SECP256K1, seededSecp256k1, randToken } from '../lib/keys.mjs';
import { UNICODE_SAMPLES, longUnicode } from '../lib/gen.mjs';
import { RawNumber } from '../lib/json.mjs';
import { NEG_RATE, refusal } from '../lib/negative.mjs';

export const label = 'eip712';

const BASE = ['address', 'bool', 'string', 'bytes'];
function baseType(rng) {
  return rng.weighted([
    [3, () => rng.pick(BASE)],
    [2, () => 'bytes' + rng.weighted([[3, 32], [2, rng.int(1, 31)], [1, rng.pick([1, 4, 20])]])],
    [3, () => 'uint' + rng.weighted([[3, 256], [2, 8 * rng.int(1, 32)], [1, rng.pick([8, 64, 128])]])],
    [2, () => 'int' + rng.weighted([[3, 256], [2, 8 * rng.int(1, 32)], [1, rng.pick([8, 64, 128])]])],
  ])();
}

const ident = (rng, first) => rng.pick(first) + randToken(rng, rng.int(0, 8), 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_');

function genTypes(rng) {
  const nStructs = rng.weighted([[3, 1], [4, 2], [3, 3], [1, rng.int(4, 6)]]);
  const names = [];
  while (names.length < nStructs) {
    const n = ident(rng, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ');
    if (!names.includes(n) && n !== 'EIP712Domain') names.push(n);
  }
  const types = {};
  const referenced = new Set();
  for (let k = 0; k < nStructs; k++) {
    const fields = [];
    const used = new Set();
    const nf = rng.int(k === 0 ? 1 : 1, 6);
    for (let f = 0; f < nf; f++) {
      let fname;
      do { fname = ident(rng, 'abcdefghijklmnopqrstuvwxyz_'); } while (used.has(fname));
      used.add(fname);
      let t;
      if (k + 1 < nStructs && rng.chance(0.3)) {
        t = names[rng.int(k + 1, nStructs - 1)];
        referenced.add(t);
      } else {
        t = baseType(rng);
      }
      const arr = rng.weighted([[7, ''], [2, '[]'], [1, `[${rng.int(1, 3)}]`], [0.4, '[][]'], [0.3, `[${rng.int(1, 2)}][]`], [0.3, `[][${rng.int(1, 2)}]`]]);
      fields.push({ name: fname, type: t + arr });
    }
    types[names[k]] = fields;
  }
  // every non-primary struct must be reachable from the primary one
  for (let k = 1; k < nStructs; k++) {
    if (!referenced.has(names[k])) {
      const j = rng.int(0, k - 1);
      let fname;
      do { fname = ident(rng, 'abcdefghijklmnopqrstuvwxyz_'); } while (types[names[j]].some((f) => f.name === fname));
      types[names[j]].push({ name: fname, type: names[k] + (rng.chance(0.3) ? '[]' : '') });
      referenced.add(names[k]);
    }
  }
  return { types, primaryType: names[0] };
}

function intValue(rng, bits, signed) {
  const B = BigInt(bits);
  const [lo, hi] = signed ? [-(1n << (B - 1n)), (1n << (B - 1n)) - 1n] : [0n, (1n << B) - 1n];
  return rng.weighted([
    [1, () => lo], [1, () => hi], [1, () => 0n], [1, () => (signed ? -1n : 1n)],
    [4, () => lo + rng.bigBelow(hi - lo + 1n)],
    [3, () => { const small = BigInt(rng.int(0, 1000000)) % (hi + 1n); return signed && rng.chance(0.5) ? -small : small; }],
  ])();
}

// JSON form of an integer in the request (ethers gets the BigInt). sigil, like a
// JS wallet, refuses JSON numbers beyond 2^53-1 (docs: pass a decimal string):
// those are refusal cases, here only safe numbers, decimal strings and hex.
function intJson(rng, v) {
  const safe = v >= -(2n ** 53n - 1n) && v <= 2n ** 53n - 1n;
  const form = rng.weighted([[safe ? 7 : 0, 'number'], [safe ? 2 : 5, 'decimal'], [v >= 0n ? 1 : 0, 'hex']]);
  if (form === 'number') return [Number(v), form];
  if (form === 'decimal') return [v.toString(), form];
  return ['0x' + v.toString(16), form];
}

function genValue(rng, type, types, forms, depth = 0) {
  const m = /^(.*)\[(\d*)\]$/.exec(type);
  if (m) {
    const len = m[2] === '' ? rng.weighted([[1, 0], [4, rng.int(1, 3)]]) : Number(m[2]);
    const js = [], ej = [];
    for (let i = 0; i < len; i++) {
      const [a, b] = genValue(rng, m[1], types, forms, depth + 1);
      js.push(a);
      ej.push(b);
    }
    return [js, ej];
  }
  if (types[type]) {
    const js = {}, ej = {};
    for (const f of types[type]) [js[f.name], ej[f.name]] = genValue(rng, f.type, types, forms, depth + 1);
    return [js, ej];
  }
  if (type === 'address') {
    const a = '0x' + rng.hex(20);
    const v = rng.chance(0.4) ? getAddress(a) : a;
    return [v, v];
  }
  if (type === 'bool') { const b = rng.chance(0.5); return [b, b]; }
  if (type === 'string') {
    const s = rng.weighted([[1, () => ''], [4, () => randToken(rng, rng.int(1, 40), 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;!?-_')],
      [2, () => rng.pick(UNICODE_SAMPLES) + rng.pick(UNICODE_SAMPLES)], [0.5, () => randToken(rng, rng.int(100, 2000))], [0.3, () => 'quote"back\\slash\nnew\ttab'],
      [0.5, () => longUnicode(rng, 900, 4000)]])();
    return [s, s];
  }
  if (type === 'bytes') {
    const h = '0x' + rng.hex(rng.weighted([[1, 0], [4, rng.int(1, 64)], [1, rng.int(65, 300)]]));
    const v = rng.chance(0.05) ? h.toUpperCase().replace(/^0X/, '0x') : h;
    return [v, v];
  }
  let mm;
  if ((mm = /^bytes(\d+)$/.exec(type))) {
    const v = '0x' + rng.hex(Number(mm[1]));
    return [v, v];
  }
  if ((mm = /^(u?)int(\d+)$/.exec(type))) {
    const v = intValue(rng, Number(mm[2]), mm[1] === '');
    const [j, form] = intJson(rng, v);
    forms.add(form);
    return [j, v];
  }
  throw new Error('type ' + type);
}

function genDomain(rng, forms) {
  const fields = rng.shuffle(['name', 'version', 'chainId', 'verifyingContract', 'salt']).slice(0, rng.weighted([[1, 1], [2, 2], [3, 3], [4, 4], [2, 5]]));
  const j = {}, e = {};
  for (const f of ['name', 'version', 'chainId', 'verifyingContract', 'salt']) {
    if (!fields.includes(f)) continue;
    if (f === 'name') j.name = e.name = rng.chance(0.2) ? rng.pick(UNICODE_SAMPLES) : randToken(rng, rng.int(0, 20), 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ');
    if (f === 'version') j.version = e.version = rng.pick(['1', '2', '1.0.0', '']);
    if (f === 'chainId') {
      const v = rng.weighted([[3, () => BigInt(rng.pick([1, 10, 56, 137, 1337, 42161, 421614, 8453, 11155111]))], [1, () => BigInt(rng.int(0, 2 ** 53 - 1))], [0.3, () => rng.bigBits(256)]])();
      const [jj, form] = intJson(rng, v);
      forms.add('chainId:' + form);
      j.chainId = jj;
      e.chainId = v;
    }
    if (f === 'verifyingContract') { const a = '0x' + rng.hex(20); j.verifyingContract = e.verifyingContract = rng.chance(0.5) ? getAddress(a) : a; }
    if (f === 'salt') j.salt = e.salt = '0x' + rng.hex(32);
  }
  // key order of the domain object is free
  const jj = rng.chance(0.3) ? Object.fromEntries(rng.shuffle(Object.entries(j))) : j;
  return [jj, e];
}

const DOMAIN_TYPES = { name: 'string', version: 'string', chainId: 'uint256', verifyingContract: 'address', salt: 'bytes32' };

// ethers infers the primary type and refuses unused types / EIP712Domain in types
export function ethersTypes(types) {
  const t = { ...types };
  delete t.EIP712Domain;
  return t;
}

export async function makeCase(rng, i, ctx) {
  let key, pub, desc;
  const kr = rng.float();
  if (kr < 0.3) [key, pub, desc] = [rng.pick(FIXED_SECP256K1), true, 'fixed public test key'];
  else {
    const idx = rng.int(0, 5);
    [key, pub, desc] = [ctx.cached(`e712-${idx}`, () => seededSecp256k1(ctx.seed, `eip712-${idx}`)), false, `seeded secp256k1 eip712-${idx}`];
  }
  if (rng.chance(NEG_RATE)) {
    const base = { venue: 'eip712', credFile: { private_key: key }, credsPublic: pub, credsDesc: desc };
    const domain = { name: 'X', version: '1', chainId: 1 };
    const types = { M: [{ name: 'v', type: 'uint256' }, { name: 'a', type: 'address' }] };
    const a = getAddress('0x' + rng.hex(20));
    const badA = a.toLowerCase() === a ? null : a.replace(/[a-f]/, (ch) => ch.toUpperCase());
    const big = new RawNumber(((1n << 53n) + rng.bigBits(60)).toString());
    return rng.pick([
      () => refusal({ ...base, request: { domain: { ...domain, foo: 'x' }, types, primaryType: 'M', message: { v: 1, a } } }, null, 'unknown domain member (ethers refuses it)'),
      () => refusal({ ...base, request: { domain, types, primaryType: 'M', message: { v: 1 } } }, null, 'message member missing'),
      () => refusal({ ...base, request: { domain, types: { M: [{ name: 'v', type: 'uint' }] }, primaryType: 'M', message: { v: 1 } } }, null, 'bare uint type'),
      () => refusal({ ...base, request: { domain, types: { ...types, Unused: [{ name: 'x', type: 'bool' }] }, primaryType: 'M', message: { v: 1, a } } }, null, 'unused type'),
      () => refusal({ ...base, request: { domain, types: { M: [{ name: 'v', type: 'N' }], N: [{ name: 'm', type: 'M' }] }, primaryType: 'M', message: { v: { m: {} } } } }, null, 'cyclic types'),
      () => refusal({ ...base, request: { domain, types: { M: [{ name: 'v', type: 'bool' }] }, primaryType: 'M', message: { v: 1 } } }, null, 'boolean given as a number'),
      () => refusal({ ...base, request: { domain, types: { M: [{ name: 'v', type: 'uint8' }] }, primaryType: 'M', message: { v: 256 } } }, null, 'uint8 out of range'),
      () => refusal({ ...base, request: { domain, types: { M: [{ name: 'v', type: 'bytes4' }] }, primaryType: 'M', message: { v: '0x0102' } } }, null, 'bytes4 given 2 bytes'),
      () => refusal({ ...base, request: { domain, types, primaryType: 'M', message: { v: big, a } } }, 'out_of_range', 'JSON number beyond 2^53-1 in the message'),
      () => refusal({ ...base, request: { domain: { ...domain, chainId: big }, types, primaryType: 'M', message: { v: 1, a } } }, 'out_of_range', 'JSON number beyond 2^53-1 as chainId'),
      () => (badA ? refusal({ ...base, request: { domain, types, primaryType: 'M', message: { v: 1, a: badA } } }, 'bad_address', 'address with a bad EIP-55 checksum')
        : refusal({ ...base, request: { domain, types, primaryType: 'M', message: { v: big, a } } }, 'out_of_range', 'JSON number beyond 2^53-1 in the message')),
    ])();
  }
  const forms = new Set();
  const { types, primaryType } = genTypes(rng);
  const [domJson, domEthers] = genDomain(rng, forms);
  const [msgJson, msgEthers] = genValue(rng, primaryType, types, forms);
  const reqTypes = { ...types };
  const withDomainType = rng.chance(0.3);
  if (withDomainType) {
    const ordered = ['name', 'version', 'chainId', 'verifyingContract', 'salt'].filter((f) => f in domEthers);
    const all = { EIP712Domain: ordered.map((f) => ({ name: f, type: DOMAIN_TYPES[f] })), ...reqTypes };
    Object.keys(reqTypes).forEach((k) => delete reqTypes[k]);
    Object.assign(reqTypes, all);
  }
  const digest = TypedDataEncoder.hash(domEthers, ethersTypes(types), msgEthers);
  if (TypedDataEncoder.from(ethersTypes(types)).primaryType !== primaryType) throw new Error('primary type inference differs');
  const sig = new Wallet(key).signingKey.sign(digest);
  const signature = Signature.from(sig).serialized;
  // extra message members are ignored (as ethers does)
  let extras = false;
  if (rng.chance(0.1) && msgJson && typeof msgJson === 'object') {
    msgJson[ident(rng, 'abcdefghijklmnopqrstuvwxyz') + '_extra'] = rng.pick(['x', 1, true, null, { q: [1, 2] }]);
    extras = true;
  }
  const request = { domain: domJson, types: reqTypes, primaryType, message: msgJson };
  const c = {
    venue: 'eip712', credFile: { private_key: key }, credsPublic: pub, credsDesc: desc,
    request, asciiRequest: rng.chance(0.25),
    info: `${Object.keys(types).length} struct(s)${withDomainType ? ', EIP712Domain in types' : ''}${extras ? ', extra message member' : ''}; domain {${Object.keys(domEthers).join(',')}}; int forms: ${[...forms].sort().join(',') || 'none'}`,
    compare: 'fields', expect: { digest, signature },
  };
  // eth_account second opinion: full_message wants EIP712Domain in types
  const pyTypes = { EIP712Domain: ['name', 'version', 'chainId', 'verifyingContract', 'salt'].filter((f) => f in domEthers).map((f) => ({ name: f, type: DOMAIN_TYPES[f] })), ...types };
  c.py = { kind: 'eip712', key, typedData: { types: pyTypes, primaryType, domain: domEthers, message: msgEthers } };
  c.finish = (py) => {
    if (py.error) throw new Error(`eth_account oracle failed: ${py.error}`);
    if (py.digest !== digest || py.signature !== signature) {
      throw new Error(`eip712: eth_account disagrees with ethers\n  ethers: ${digest} ${signature}\n  eth_account: ${py.digest} ${py.signature}`);
    }
  };
  return c;
}
