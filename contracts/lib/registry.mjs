// Shared by fixture.mjs and the tests: the compiled artifact, viem clients for
// a local node, deployment, and transactions that must succeed.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPublicClient, createWalletClient, defineChain, getAddress, http } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ARTIFACT_PATH = join(HERE, '..', 'build', 'SigilMeasurementRegistry.json');

let artifact;
export function loadArtifact() {
    artifact ??= JSON.parse(readFileSync(ARTIFACT_PATH, 'utf8'));
    return artifact;
}

/// The private keys anvil printed with --config-out (its well-known dev accounts).
export function anvilKeys(configPath) {
    const keys = JSON.parse(readFileSync(configPath, 'utf8')).private_keys;
    if (!Array.isArray(keys) || keys.length < 10) throw new Error(`${configPath}: expected anvil's 10 dev keys`);
    return keys;
}

/// A public client for `rpc`, and wallet(key) giving a wallet client per key.
export async function connect(rpc) {
    const probe = createPublicClient({ transport: http(rpc) });
    const id = await probe.getChainId();
    const chain = defineChain({
        id,
        name: `local-${id}`,
        nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
        rpcUrls: { default: { http: [rpc] } },
    });
    const pub = createPublicClient({ chain, transport: http(rpc) });
    const wallet = (key) => createWalletClient({ account: privateKeyToAccount(key), chain, transport: http(rpc) });
    return { chain, pub, wallet };
}

/// Waits for `hash` and fails unless the transaction succeeded.
export async function mined(pub, hash) {
    const receipt = await pub.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`);
    return receipt;
}

/// Deploys a fresh registry from `wallet`; returns { address, receipt }.
export async function deployRegistry(pub, wallet) {
    const { abi, bytecode } = loadArtifact();
    const receipt = await mined(pub, await wallet.deployContract({ abi, bytecode }));
    return { address: getAddress(receipt.contractAddress), receipt };
}

/// Sends `functionName(args)` to the registry from `wallet`; returns the receipt.
export async function send(pub, wallet, address, functionName, args) {
    const { abi } = loadArtifact();
    return mined(pub, await wallet.writeContract({ address, abi, functionName, args }));
}

/// Calls a view function of the registry.
export function read(pub, address, functionName, args) {
    return pub.readContract({ address, abi: loadArtifact().abi, functionName, args });
}

/// 48 bytes as 0x-hex, and the plain 96-digit form `sigil measure` prints.
export const plainHex = (hex) => hex.replace(/^0x/, '').toLowerCase();
