#!/usr/bin/env node
// Writes the ABI vectors the C codec is tested against (tests/unit/test_abi.c):
// call data, return data and revert data for the measurement registry's
// interface, all encoded by viem (an independent implementation), plus
// malformed return and revert data derived from viem's encodings by one
// mutation each, with the typed error Sigil's strict decoder must give.
//
//   node contracts/tools/gen_abi_vectors.mjs [OUT_DIR]   (default tests/vectors/abi)
//
// Deterministic: the "random" inputs come from a Keccak counter stream, so a
// re-run writes the same files (CI can diff them).
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
    bytesToHex,
    concatHex,
    decodeErrorResult,
    decodeFunctionResult,
    encodeAbiParameters,
    encodeErrorResult,
    encodeFunctionData,
    encodeFunctionResult,
    getAddress,

    keccak256,
    parseAbi,
    toFunctionSelector,
    toHex,
} from 'viem';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const OUT = resolve(process.argv[2] ?? join(REPO, 'tests', 'vectors', 'abi'));
const VIEM_VERSION = JSON.parse(
    readFileSync(join(HERE, '..', 'node_modules', 'viem', 'package.json'), 'utf8'),
).version;

// The fixed interface (docs/CLI.md, contracts/SigilMeasurementRegistry.sol).
const ABI = parseAbi([
    'function register(bytes measurement, bytes32 buildHash, string description)',
    'function deprecate(bytes measurement)',
    'function isActive(address owner, bytes measurement) view returns (bool)',
    'function getEntry(address owner, bytes measurement) view returns (bool exists, bool active, bytes32 buildHash, string description, uint64 registeredAt, uint64 deprecatedAt)',
    'function historyLength(address owner) view returns (uint256)',
    'function historyAt(address owner, uint256 index) view returns (bytes measurement, bytes32 buildHash, string description, uint64 registeredAt, uint64 deprecatedAt)',
    'error BadMeasurementLength(uint256 length)',
    'error DescriptionTooLong(uint256 length, uint256 max)',
    'error AlreadyRegistered(address owner, bytes measurement)',
    'error NotRegistered(address owner, bytes measurement)',
    'error AlreadyDeprecated(address owner, bytes measurement)',
]);
const SOLIDITY_ERRORS = parseAbi(['error Error(string message)', 'error Panic(uint256 code)']);

// When the compiled artifact is there, its ABI must give the same selectors.
function checkArtifact() {
    const p = join(HERE, '..', 'build', 'SigilMeasurementRegistry.json');
    if (!existsSync(p)) return 'absent';
    const built = JSON.parse(readFileSync(p, 'utf8')).abi;
    for (const item of ABI) {
        const twin = built.find((b) => b.type === item.type && b.name === item.name);
        if (!twin || toFunctionSelector(twin) !== toFunctionSelector(item))
            throw new Error(`build artifact: ${item.type} ${item.name} differs from the fixed interface`);
        if (item.type === 'function' && JSON.stringify(twin.outputs.map((o) => o.type)) !==
            JSON.stringify(item.outputs.map((o) => o.type)))
            throw new Error(`build artifact: ${item.name} outputs differ`);
    }
    return 'checked';
}

// ---- deterministic inputs ----
let counter = 0n;
function randomBytes(n) {
    let out = '0x';
    while ((out.length - 2) / 2 < n) out += keccak256(toHex(counter++, { size: 32 })).slice(2);
    return out.slice(0, 2 + 2 * n);
}
const hexOf = (n, byte) => `0x${byte.repeat(n)}`;
const MAX_U64 = (1n << 64n) - 1n;
const MAX_U256 = (1n << 256n) - 1n;

const OWNERS = [
    '0x0000000000000000000000000000000000000000',
    getAddress('0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266'), // anvil's first account
    getAddress('0xffffffffffffffffffffffffffffffffffffffff'),
    getAddress(randomBytes(20)),
];
const MEASUREMENTS = [
    hexOf(48, '00'), // refused by clients, encodable all the same
    hexOf(48, 'ff'),
    `0x01${'00'.repeat(47)}`,
    randomBytes(48),
    randomBytes(48),
];
const ODD_MEASUREMENTS = ['0x', randomBytes(47), randomBytes(49), randomBytes(96)];
const TEXT_32 = 'x'.repeat(32);
const DESCRIPTIONS = [
    '',
    'a',
    'sigil v1.2.3 (reproducible build, see build log)',
    'x'.repeat(31),
    TEXT_32,
    'x'.repeat(33),
    'ünïcødé ✓ — 𝔰𝔦𝔤𝔦𝔩',
    'quote " backslash \\ newline \n tab \t bell \u0007',
    'd'.repeat(256),
];

// ---- JSON forms of values (hex for anything the C test reads as bytes) ----
const utf8 = (s) => bytesToHex(new TextEncoder().encode(s));
function jsonValue(type, v) {
    switch (type) {
        case 'address':
            return { type, value: getAddress(v) };
        case 'bool':
            return { type, value: v };
        case 'uint64':
            return { type, value: v.toString() };
        case 'uint256':
            return { type, value: toHex(v, { size: 32 }) };
        case 'bytes32':
        case 'bytes':
            return { type, value: v };
        case 'string':
            return { type, value: utf8(v), text: v };
        default:
            throw new Error(`type ${type}`);
    }
}
const jsonValues = (params, vals) => params.map((p, i) => jsonValue(p.type, vals[i]));
const fnItem = (name) => ABI.find((x) => x.type === 'function' && x.name === name);

// ---- call data ----
function calls() {
    const out = [];
    const push = (name, args) => {
        const item = fnItem(name);
        out.push({
            function: name,
            selector: toFunctionSelector(item),
            args: jsonValues(item.inputs, args),
            data: encodeFunctionData({ abi: ABI, functionName: name, args }),
        });
    };
    for (const o of OWNERS) for (const m of MEASUREMENTS) push('isActive', [o, m]);
    for (const m of ODD_MEASUREMENTS) push('isActive', [OWNERS[1], m]);
    for (const o of OWNERS) for (const m of MEASUREMENTS.slice(1, 4)) push('getEntry', [o, m]);
    for (const m of ODD_MEASUREMENTS) push('getEntry', [OWNERS[3], m]);
    for (const o of OWNERS) push('historyLength', [o]);
    for (const i of [0n, 1n, 2n, 255n, 256n, MAX_U64, MAX_U64 + 1n, MAX_U256])
        push('historyAt', [OWNERS[1], i]);
    push('historyAt', [OWNERS[3], 7n]);
    DESCRIPTIONS.forEach((d, i) =>
        push('register', [MEASUREMENTS[i % MEASUREMENTS.length], randomBytes(32), d]));
    push('register', [randomBytes(47), hexOf(32, '00'), 'short measurement']);
    for (const m of [...MEASUREMENTS, ...ODD_MEASUREMENTS]) push('deprecate', [m]);
    return out;
}

// ---- return data ----
function entry(exists, active, buildHash, description, registeredAt, deprecatedAt) {
    return [exists, active, buildHash, description, registeredAt, deprecatedAt];
}
const T0 = 1767225600n;
const GET_ENTRY = [
    entry(false, false, hexOf(32, '00'), '', 0n, 0n),
    entry(true, true, randomBytes(32), '', T0, 0n),
    entry(true, true, randomBytes(32), 'sigil v1.2.3', T0, 0n),
    entry(true, false, randomBytes(32), 'superseded by v1.2.4', T0, T0 + 86400n),
    entry(true, true, randomBytes(32), 'd'.repeat(256), 1n, 0n),
    entry(true, false, randomBytes(32), TEXT_32, MAX_U64, MAX_U64),
    entry(true, true, hexOf(32, 'ff'), 'x'.repeat(33), MAX_U64 - 1n, 0n),
    entry(true, true, randomBytes(32), 'ünïcødé ✓ — 𝔰𝔦𝔤𝔦𝔩', T0, 0n),
    entry(true, true, randomBytes(32), '\u001b[31mred\u001b[0m \u202eevil', T0, 0n),
];
const HISTORY_AT = [
    [MEASUREMENTS[3], randomBytes(32), '', T0, 0n],
    [MEASUREMENTS[4], randomBytes(32), 'd'.repeat(256), T0, T0 + 1n],
    [MEASUREMENTS[1], hexOf(32, '00'), 'v0', 1n, MAX_U64],
    [MEASUREMENTS[0], randomBytes(32), TEXT_32, MAX_U64, 0n],
];

function returns() {
    const out = [];
    const push = (name, values) => {
        const item = fnItem(name);
        const result = item.outputs.length === 1 ? values[0] : values;
        const data = encodeFunctionResult({ abi: ABI, functionName: name, result });
        // viem must read back what it wrote.
        const back = decodeFunctionResult({ abi: ABI, functionName: name, data });
        if (JSON.stringify(back, (k, v) => (typeof v === 'bigint' ? v.toString() : v)) !==
            JSON.stringify(result, (k, v) => (typeof v === 'bigint' ? v.toString() : v)))
            throw new Error(`${name}: viem round trip`);
        out.push({ function: name, values: jsonValues(item.outputs, values), data });
    };
    push('isActive', [true]);
    push('isActive', [false]);
    for (const e of GET_ENTRY) push('getEntry', e);
    for (const n of [0n, 1n, 3n, MAX_U64]) push('historyLength', [n]);
    for (const h of HISTORY_AT) push('historyAt', h);
    // A description that is not UTF-8 (the contract stores any bytes): the
    // wire form of string equals bytes, so viem encodes it as bytes.
    const raw = '0xff00fe80c0af41';
    const data = encodeAbiParameters(
        [{ type: 'bool' }, { type: 'bool' }, { type: 'bytes32' }, { type: 'bytes' },
            { type: 'uint64' }, { type: 'uint64' }],
        [true, true, hexOf(32, '11'), raw, T0, 0n]);
    out.push({
        function: 'getEntry',
        values: [jsonValue('bool', true), jsonValue('bool', true), jsonValue('bytes32', hexOf(32, '11')),
            { type: 'string', value: raw }, jsonValue('uint64', T0), jsonValue('uint64', 0n)],
        data,
    });
    return out;
}

// ---- malformed return data ----
const W = 64; // hex digits per word
const words = (data) => data.slice(2).match(/.{64}/g);
const fromWords = (ws) => `0x${ws.join('')}`;
function setWord(data, i, hexWord) {
    const ws = words(data);
    ws[i] = hexWord.replace(/^0x/, '').padStart(W, '0');
    return fromWords(ws);
}
function setByte(data, byteIndex, byteHex) {
    const s = data.slice(2);
    return `0x${s.slice(0, 2 * byteIndex)}${byteHex}${s.slice(2 * byteIndex + 2)}`;
}
const u = (n) => toHex(n, { size: 32 }).slice(2);

function viemRefuses(name, data) {
    try {
        decodeFunctionResult({ abi: ABI, functionName: name, data });
        return false;
    } catch {
        return true;
    }
}

function malformed() {
    const enc = (name, values) => encodeFunctionResult({
        abi: ABI, functionName: name, result: fnItem(name).outputs.length === 1 ? values[0] : values,
    });
    const active = enc('isActive', [true]);
    const entryHello = enc('getEntry', entry(true, true, hexOf(32, 'ab'), 'hello', T0, 0n));
    const entryEmpty = enc('getEntry', entry(true, true, hexOf(32, 'ab'), '', T0, 0n));
    const entry256 = enc('getEntry', entry(true, true, hexOf(32, 'ab'), 'd'.repeat(256), T0, 0n));
    const hist = enc('historyAt', [MEASUREMENTS[3], hexOf(32, 'cd'), 'v1', T0, 0n]);
    const len = enc('historyLength', [5n]);
    // getEntry layout: words 0..5 head (3 = description offset 0xc0), 6 length, 7.. text
    const cases = [
        // level "abi": sigil_abi_decode refuses; level "registry": only the typed decoder does
        ['isActive: empty', 'isActive', '0x', 'abi', 'bad_encoding', 'truncated'],
        ['isActive: 31 bytes', 'isActive', active.slice(0, -2), 'abi', 'bad_encoding', 'truncated'],
        ['isActive: bool 2', 'isActive', setWord(active, 0, '02'), 'abi', 'bad_encoding', 'bool is 2'],
        ['isActive: bool 0x100', 'isActive', setWord(active, 0, '0100'), 'abi', 'bad_encoding', 'non-zero padding'],
        ['isActive: dirty high byte', 'isActive', setByte(active, 0, '80'), 'abi', 'bad_encoding', 'non-zero padding'],
        ['isActive: trailing word', 'isActive', concatHex([active, `0x${u(0n)}`]), 'abi', 'bad_encoding', 'trailing'],
        ['isActive: trailing byte', 'isActive', concatHex([active, '0x00']), 'abi', 'bad_encoding', 'trailing'],
        ['getEntry: empty', 'getEntry', '0x', 'abi', 'bad_encoding', 'truncated'],
        ['getEntry: head only', 'getEntry', fromWords(words(entryHello).slice(0, 6)), 'abi', 'bad_encoding', 'out of range'],
        ['getEntry: truncated by 1 byte', 'getEntry', entryHello.slice(0, -2), 'abi', 'bad_encoding', 'truncated'],
        ['getEntry: truncated by a word', 'getEntry', entryHello.slice(0, -W), 'abi', 'bad_encoding', 'truncated'],
        ['getEntry: 256-byte text cut', 'getEntry', entry256.slice(0, -2 * W), 'abi', 'bad_encoding', 'truncated'],
        ['getEntry: exists = 2', 'getEntry', setWord(entryHello, 0, '02'), 'abi', 'bad_encoding', 'exists: bool is 2'],
        ['getEntry: active = 2', 'getEntry', setWord(entryHello, 1, '02'), 'abi', 'bad_encoding', 'active: bool is 2'],
        ['getEntry: active = 0xff..ff', 'getEntry', setWord(entryHello, 1, 'f'.repeat(W)), 'abi', 'bad_encoding', 'non-zero padding'],
        ['getEntry: offset unaligned', 'getEntry', setWord(entryHello, 3, u(0xc1n)), 'abi', 'bad_encoding', 'not a multiple of 32'],
        ['getEntry: offset 1', 'getEntry', setWord(entryHello, 3, u(1n)), 'abi', 'bad_encoding', 'not a multiple of 32'],
        ['getEntry: offset past the end', 'getEntry', setWord(entryHello, 3, u(0x1000n)), 'abi', 'bad_encoding', 'out of range'],
        ['getEntry: offset = data length', 'getEntry', setWord(entryHello, 3, u(BigInt((entryHello.length - 2) / 2))), 'abi', 'bad_encoding', 'out of range'],
        ['getEntry: offset 2^255', 'getEntry', setWord(entryHello, 3, u(1n << 255n)), 'abi', 'bad_encoding', 'offset out of range'],
        ['getEntry: offset into the head', 'getEntry', setWord(entryHello, 3, u(0x20n)), 'abi', 'bad_encoding', 'not canonical'],
        ['getEntry: offset skips a word', 'getEntry', fromWords([...words(setWord(entryHello, 3, u(0xe0n))).slice(0, 6), u(0n), ...words(entryHello).slice(6)]), 'abi', 'bad_encoding', 'not canonical'],
        ['getEntry: length past the end', 'getEntry', setWord(entryHello, 6, u(64n)), 'abi', 'bad_encoding', 'truncated'],
        ['getEntry: length 2^64', 'getEntry', setWord(entryHello, 6, u(1n << 64n)), 'abi', 'bad_encoding', 'length out of range'],
        ['getEntry: length over 4096', 'getEntry', setWord(entryHello, 6, u(4097n)), 'abi', 'too_large', 'over 4096'],
        ['getEntry: length shorter (padding not zero)', 'getEntry', setWord(entryHello, 6, u(4n)), 'abi', 'bad_encoding', 'non-zero padding after the string'],
        ['getEntry: padding after text', 'getEntry', setByte(entryHello, 7 * 32 + 31, '01'), 'abi', 'bad_encoding', 'non-zero padding after the string'],
        ['getEntry: empty text with a data word', 'getEntry', concatHex([entryEmpty, `0x${u(0n)}`]), 'abi', 'bad_encoding', 'trailing'],
        ['getEntry: registeredAt 2^64', 'getEntry', setWord(entryHello, 4, u(1n << 64n)), 'abi', 'out_of_range', 'registeredAt: does not fit in uint64'],
        ['getEntry: deprecatedAt 2^256-1', 'getEntry', setWord(entryHello, 5, u(MAX_U256)), 'abi', 'out_of_range', 'deprecatedAt: does not fit in uint64'],
        ['getEntry: trailing word', 'getEntry', concatHex([entryHello, `0x${u(0n)}`]), 'abi', 'bad_encoding', 'trailing'],
        ['getEntry: description 257 bytes', 'getEntry', enc('getEntry', entry(true, true, hexOf(32, 'ab'), 'd'.repeat(257), T0, 0n)), 'registry', 'too_large', '257 bytes'],
        ['getEntry: unknown entry with a description', 'getEntry', enc('getEntry', entry(false, false, hexOf(32, '00'), 'x', 0n, 0n)), 'registry', 'bad_field', 'exists is false'],
        ['getEntry: unknown entry but active', 'getEntry', enc('getEntry', entry(false, true, hexOf(32, '00'), '', 0n, 0n)), 'registry', 'bad_field', 'exists is false'],
        ['getEntry: unknown entry with a build hash', 'getEntry', enc('getEntry', entry(false, false, hexOf(32, '01'), '', 0n, 0n)), 'registry', 'bad_field', 'exists is false'],
        ['getEntry: active and deprecated', 'getEntry', enc('getEntry', entry(true, true, hexOf(32, 'ab'), '', T0, T0)), 'registry', 'bad_field', 'active but deprecatedAt'],
        ['getEntry: inactive without deprecatedAt', 'getEntry', enc('getEntry', entry(true, false, hexOf(32, 'ab'), '', T0, 0n)), 'registry', 'bad_field', 'not active but deprecatedAt is 0'],
        ['getEntry: registeredAt 0', 'getEntry', enc('getEntry', entry(true, true, hexOf(32, 'ab'), '', 0n, 0n)), 'registry', 'bad_field', 'registeredAt is 0'],
        ['historyLength: 2^64', 'historyLength', enc('historyLength', [1n << 64n]), 'registry', 'out_of_range', 'does not fit'],
        ['historyLength: 16 bytes', 'historyLength', len.slice(0, 2 + 32), 'abi', 'bad_encoding', 'truncated'],
        ['historyAt: measurement 47 bytes', 'historyAt', enc('historyAt', [randomBytes(47), hexOf(32, 'cd'), 'v1', T0, 0n]), 'registry', 'bad_field', '47 bytes'],
        ['historyAt: measurement 0 bytes', 'historyAt', enc('historyAt', ['0x', hexOf(32, 'cd'), 'v1', T0, 0n]), 'registry', 'bad_field', '0 bytes'],
        ['historyAt: registeredAt 0', 'historyAt', enc('historyAt', [MEASUREMENTS[3], hexOf(32, 'cd'), 'v1', 0n, 0n]), 'registry', 'bad_field', 'registeredAt is 0'],
        ['historyAt: second offset not canonical', 'historyAt', setWord(hist, 2, u(0x120n)), 'abi', 'bad_encoding', 'description: offset 288 is not canonical'],
        ['historyAt: measurement padding', 'historyAt', setByte(hist, 6 * 32 + 48, '01'), 'abi', 'bad_encoding', 'non-zero padding after the bytes'],
        ['historyAt: measurement length 2^64', 'historyAt', setWord(hist, 5, u(1n << 64n)), 'abi', 'bad_encoding', 'measurement: length out of range'],
    ];
    return cases.map(([name, fn, data, level, code, message]) => ({
        name, function: fn, data, level, code, message, viem_refuses: viemRefuses(fn, data),
    }));
}

// ---- revert data ----
function printable(s) {
    return [...new TextEncoder().encode(s)]
        .map((b) => (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : '?'))
        .join('');
}
const decimal = (n) => (n < 1n << 64n ? n.toString() : toHex(n, { size: 32 }));
const PANICS = { 0x11: 'arithmetic overflow or underflow', 0x32: 'array index out of bounds', 0x01: 'assertion failed' };

function reverts() {
    const out = [];
    const custom = (name, args, describeArgs) => {
        const data = encodeErrorResult({ abi: ABI, errorName: name, args });
        const back = decodeErrorResult({ abi: ABI, data });
        if (back.errorName !== name) throw new Error(`${name}: viem round trip`);
        out.push({ kind: 'custom', name, data, description: `${name}(${describeArgs})` });
    };
    custom('BadMeasurementLength', [47n], 'length=47');
    custom('BadMeasurementLength', [0n], 'length=0');
    custom('BadMeasurementLength', [MAX_U256], `length=${decimal(MAX_U256)}`);
    custom('DescriptionTooLong', [257n, 256n], 'length=257, max=256');
    for (const name of ['AlreadyRegistered', 'NotRegistered', 'AlreadyDeprecated']) {
        const o = OWNERS[3];
        const m = MEASUREMENTS[3];
        custom(name, [o, m], `owner=${getAddress(o)}, measurement=${m}`);
    }
    custom('NotRegistered', [OWNERS[0], '0x'], `owner=${OWNERS[0]}, measurement=0x`);
    for (const msg of ['', 'nope', 'quote " and \\ and ünï and \n']) {
        const data = encodeErrorResult({ abi: SOLIDITY_ERRORS, errorName: 'Error', args: [msg] });
        out.push({ kind: 'error', name: 'Error', data, description: `Error("${printable(msg)}")` });
    }
    for (const code of [0x32n, 0x11n, 0x01n, 0x99n]) {
        const data = encodeErrorResult({ abi: SOLIDITY_ERRORS, errorName: 'Panic', args: [code] });
        const why = PANICS[Number(code)] ?? 'unknown panic code';
        out.push({ kind: 'panic', name: 'Panic', data, description: `Panic(0x${code.toString(16)}: ${why})` });
    }
    out.push({ kind: 'empty', name: null, data: '0x', description: 'no revert data' });
    const unknown = concatHex(['0xdeadbeef', `0x${u(1n)}`]);
    out.push({ kind: 'unknown', name: null, data: unknown, description: 'unknown error 0xdeadbeef (36 bytes)' });
    out.push({ kind: 'unknown', name: null, data: '0x12345678', description: 'unknown error 0x12345678 (4 bytes)' });
    return out;
}

function badReverts() {
    const notReg = encodeErrorResult({ abi: ABI, errorName: 'NotRegistered', args: [OWNERS[1], MEASUREMENTS[2]] });
    const err = encodeErrorResult({ abi: SOLIDITY_ERRORS, errorName: 'Error', args: ['nope'] });
    const bad = encodeErrorResult({ abi: ABI, errorName: 'BadMeasurementLength', args: [47n] });
    return [
        ['3 bytes', '0x08c379', 'bad_encoding', 'shorter than a selector'],
        ['Error without its argument', err.slice(0, 10), 'bad_encoding', 'truncated'],
        ['Error string cut', err.slice(0, -2), 'bad_encoding', 'truncated'],
        ['BadMeasurementLength cut', bad.slice(0, -2), 'bad_encoding', 'truncated'],
        ['BadMeasurementLength trailing', concatHex([bad, '0x00']), 'bad_encoding', 'trailing'],
        ['NotRegistered address padding', setByte(notReg, 4, '01'), 'bad_encoding', 'owner: non-zero padding'],
        ['NotRegistered offset', `0x${notReg.slice(2, 10)}${fromWords(words(`0x${notReg.slice(10)}`).map((w, i) => (i === 1 ? u(0x60n) : w))).slice(2)}`, 'bad_encoding', 'not canonical'],
    ].map(([name, data, code, message]) => ({ name, data, code, message }));
}

// ---- write ----
function write(name, body) {
    const doc = {
        generator: 'contracts/tools/gen_abi_vectors.mjs',
        implementation: `viem ${VIEM_VERSION}`,
        ...body,
    };
    writeFileSync(join(OUT, name), `${JSON.stringify(doc, null, 1)}\n`);
}

mkdirSync(OUT, { recursive: true });
const artifact = checkArtifact();
const selectors = Object.fromEntries(
    [...ABI, ...SOLIDITY_ERRORS].map((x) => [`${x.type} ${x.name}`, toFunctionSelector(x)]));
write('calls.json', { build_artifact: artifact, selectors, calls: calls() });
write('returns.json', { returns: returns() });
write('malformed.json', { malformed: malformed() });
write('reverts.json', { reverts: reverts(), malformed: badReverts() });
process.stdout.write(`wrote ${OUT}/{calls,returns,malformed,reverts}.json (viem ${VIEM_VERSION}, build artifact ${artifact})\n`);

