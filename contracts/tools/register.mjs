#!/usr/bin/env node
// Sends one transaction to a measurement registry, for the client tests
// (tests/registry/): deploy a fresh registry, register a measurement, or
// deprecate one. Waits for the receipt and fails (exit 1, the revert's name
// on stderr) unless the transaction succeeded. Test tooling for local nodes;
// production registrations go through deploy/registry/.
//
//   node register.mjs --rpc URL --private-key KEY deploy
//   node register.mjs --rpc URL --private-key KEY --contract ADDR register MEASUREMENT [BUILD_HASH] [DESCRIPTION]
//   node register.mjs --rpc URL --private-key KEY --contract ADDR deprecate MEASUREMENT
//
// MEASUREMENT: 96 hex digits (0x optional). BUILD_HASH: 64 hex digits
// (default zero). DESCRIPTION: text, or `hex:` followed by its bytes in hex
// (for descriptions that are not UTF-8). Prints one JSON line:
// {"tx","contract","block"}.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
    BaseError,
    concatHex,
    createPublicClient,
    createWalletClient,
    decodeErrorResult,
    defineChain,
    encodeAbiParameters,
    encodeFunctionData,
    getAddress,
    http,
    parseAbi,
    toFunctionSelector,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

const HERE = dirname(fileURLToPath(import.meta.url));
const ARTIFACT = join(HERE, '..', 'build', 'SigilMeasurementRegistry.json');

// The fixed interface. A description is sent as bytes so that any bytes can
// be (string and bytes arguments are encoded alike; only the selector, which
// is register(bytes,bytes32,string)'s, names the type).
const ABI = parseAbi([
    'function register(bytes measurement, bytes32 buildHash, string description)',
    'function deprecate(bytes measurement)',
    'error BadMeasurementLength(uint256 length)',
    'error DescriptionTooLong(uint256 length, uint256 max)',
    'error AlreadyRegistered(address owner, bytes measurement)',
    'error NotRegistered(address owner, bytes measurement)',
    'error AlreadyDeprecated(address owner, bytes measurement)',
]);
const REGISTER_ARGS = [{ type: 'bytes' }, { type: 'bytes32' }, { type: 'bytes' }];

function callData(functionName, args) {
    if (functionName !== 'register') return encodeFunctionData({ abi: ABI, functionName, args });
    const selector = toFunctionSelector(ABI.find((x) => x.name === 'register'));
    return concatHex([selector, encodeAbiParameters(REGISTER_ARGS, args)]);
}

function usage(msg) {
    process.stderr.write(`register.mjs: ${msg}\nusage: node register.mjs --rpc URL --private-key KEY ` +
        '[--contract ADDR] (deploy | register MEASUREMENT [BUILD_HASH] [DESCRIPTION] | deprecate MEASUREMENT)\n');
    process.exit(2);
}

function hexArg(s, bytes, what) {
    const h = s.replace(/^0x/, '');
    if (!new RegExp(`^[0-9a-fA-F]{${2 * bytes}}$`).test(h)) usage(`${what}: expected ${2 * bytes} hex digits`);
    return `0x${h.toLowerCase()}`;
}

function descriptionArg(s) {
    if (s === undefined) return '0x';
    if (s.startsWith('hex:')) {
        const h = s.slice(4);
        if (!/^([0-9a-fA-F]{2})*$/.test(h)) usage('description: bad hex');
        return `0x${h}`;
    }
    return `0x${Buffer.from(s, 'utf8').toString('hex')}`;
}

const { values: opt, positionals: pos } = parseArgs({
    options: { rpc: { type: 'string' }, 'private-key': { type: 'string' }, contract: { type: 'string' } },
    allowPositionals: true,
});
if (!opt.rpc || !opt['private-key'] || pos.length === 0) usage('missing arguments');

const probe = createPublicClient({ transport: http(opt.rpc) });
const chain = defineChain({
    id: await probe.getChainId(),
    name: 'local',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [opt.rpc] } },
});
const pub = createPublicClient({ chain, transport: http(opt.rpc) });
const account = privateKeyToAccount(opt['private-key']);
const wallet = createWalletClient({ account, chain, transport: http(opt.rpc) });

async function mined(hash) {
    const receipt = await pub.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`);
    return receipt;
}

// Simulates first so that a revert is reported by name.
async function call(functionName, args) {
    const to = getAddress(opt.contract ?? usage('--contract is required'));
    const data = callData(functionName, args);
    try {
        await pub.call({ account, to, data });
    } catch (e) {
        let name = e.shortMessage ?? e.message;
        const raw = e instanceof BaseError ? e.walk((x) => typeof x?.data === 'string')?.data : undefined;
        if (raw && raw !== '0x') {
            try {
                name = decodeErrorResult({ abi: ABI, data: raw }).errorName;
            } catch {
                name = `revert data ${raw}`;
            }
        }
        process.stderr.write(`register.mjs: ${functionName} would revert: ${name}\n`);
        process.exit(1);
    }
    const receipt = await mined(await wallet.sendTransaction({ to, data }));
    return { tx: receipt.transactionHash, contract: to, block: Number(receipt.blockNumber) };
}

let out;
switch (pos[0]) {
    case 'deploy': {
        const { abi, bytecode } = JSON.parse(readFileSync(ARTIFACT, 'utf8'));
        const receipt = await mined(await wallet.deployContract({ abi, bytecode }));
        out = { tx: receipt.transactionHash, contract: getAddress(receipt.contractAddress), block: Number(receipt.blockNumber) };
        break;
    }
    case 'register':
        if (pos.length < 2 || pos.length > 4) usage('register MEASUREMENT [BUILD_HASH] [DESCRIPTION]');
        out = await call('register', [
            hexArg(pos[1], 48, 'measurement'),
            pos[2] ? hexArg(pos[2], 32, 'build hash') : `0x${'00'.repeat(32)}`,
            descriptionArg(pos[3]),
        ]);
        break;
    case 'deprecate':
        if (pos.length !== 2) usage('deprecate MEASUREMENT');
        out = await call('deprecate', [hexArg(pos[1], 48, 'measurement')]);
        break;
    default:
        usage(`unknown action ${pos[0]}`);
}
process.stdout.write(`${JSON.stringify(out)}\n`);
