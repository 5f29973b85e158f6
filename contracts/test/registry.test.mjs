// SigilMeasurementRegistry against a local anvil: every function, every revert
// (custom errors decoded), every event, owners isolated from each other,
// deprecation permanent, the description bound, history, gas.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { keccak256, parseEventLogs, toFunctionSignature, toHex, zeroHash } from 'viem';
import { deployRegistry, loadArtifact, read, send } from '../lib/registry.mjs';
import { expectRevert, freshRegistry, printGas, randomMeasurement, recordGas, setup } from './helpers.mjs';

// anvil dev accounts 3..5 (fixture.mjs uses 1 and 2, deploy/registry's test 0).
let pub, alice, bob, carol;
before(async () => {
    ({ pub, wallets: [alice, bob, carol] } = await setup(3, 3));
});
after(() => printGas('gas used (transactions: receipt gasUsed; views: eth_estimateGas, incl. 21000 base):'));

const { abi } = loadArtifact();
const buildHash = (n) => keccak256(toHex(`build ${n}`));
const ascii = (n) => 'd'.repeat(n);

async function blockTime(receipt) {
    return (await pub.getBlock({ blockNumber: receipt.blockNumber })).timestamp;
}
function events(receipt) {
    return parseEventLogs({ abi, logs: receipt.logs });
}
// writeContract estimates gas first, so a reverting call throws with the
// decoded custom error before anything is sent.
const tryRegister = (w, reg, m, h, d) =>
    w.writeContract({ address: reg, abi, functionName: 'register', args: [m, h, d] });
const tryDeprecate = (w, reg, m) => w.writeContract({ address: reg, abi, functionName: 'deprecate', args: [m] });

describe('interface', () => {
    it('has exactly the functions, errors and events the clients are written against', () => {
        const indexed = (x) => `${x.name}(${x.inputs.map((i) => `${i.type}${i.indexed ? ' indexed' : ''}`).join(',')})`;
        const sig = (x) => (x.type === 'event' ? indexed(x) : toFunctionSignature(x));
        const outs = (x) => (x.outputs ?? []).map((o) => o.type).join(',');
        const got = abi
            .filter((x) => x.type !== 'constructor')
            .map((x) => `${x.type} ${sig(x)}${x.type === 'function' ? ` -> (${outs(x)}) ${x.stateMutability}` : ''}`)
            .sort();
        assert.deepEqual(
            got,
            [
                'error AlreadyDeprecated(address,bytes)',
                'error AlreadyRegistered(address,bytes)',
                'error BadMeasurementLength(uint256)',
                'error DescriptionTooLong(uint256,uint256)',
                'error NotRegistered(address,bytes)',
                'event MeasurementDeprecated(address indexed,bytes32 indexed,bytes)',
                'event MeasurementRegistered(address indexed,bytes32 indexed,bytes,bytes32,string)',
                'function MAX_DESCRIPTION_BYTES() -> (uint256) view',
                'function MEASUREMENT_BYTES() -> (uint256) view',
                'function deprecate(bytes) -> () nonpayable',
                'function getEntry(address,bytes) -> (bool,bool,bytes32,string,uint64,uint64) view',
                'function historyAt(address,uint256) -> (bytes,bytes32,string,uint64,uint64) view',
                'function historyLength(address) -> (uint256) view',
                'function isActive(address,bytes) -> (bool) view',
                'function register(bytes,bytes32,string) -> () nonpayable',
            ].sort(),
        );
    });

    it('exposes the bounds as constants', async () => {
        const reg = await freshRegistry(pub, carol);
        assert.equal(await read(pub, reg, 'MEASUREMENT_BYTES', []), 48n);
        assert.equal(await read(pub, reg, 'MAX_DESCRIPTION_BYTES', []), 256n);
    });
});

describe('a fresh registry', () => {
    it('knows nothing', async () => {
        const { address: reg, receipt } = await deployRegistry(pub, carol);
        recordGas('deploy', receipt.gasUsed);
        const m = randomMeasurement();
        const who = alice.account.address;
        assert.equal(await read(pub, reg, 'isActive', [who, m]), false);
        assert.deepEqual(await read(pub, reg, 'getEntry', [who, m]), [false, false, zeroHash, '', 0n, 0n]);
        assert.equal(await read(pub, reg, 'historyLength', [who]), 0n);
        await expectRevert(() => read(pub, reg, 'historyAt', [who, 0n]), 'Panic', [0x32n]);
    });
});

describe('register', () => {
    let reg;
    before(async () => {
        reg = await freshRegistry(pub, carol);
    });

    it('records the entry, emits MeasurementRegistered and answers every view', async () => {
        const m = randomMeasurement();
        const desc = 'sigil-enclave 1.4.0 (eu-west-1)';
        const receipt = await send(pub, alice, reg, 'register', [m, buildHash(1), desc]);
        recordGas("register (an owner's first entry, 31-byte description)", receipt.gasUsed);
        const t = await blockTime(receipt);
        const who = alice.account.address;

        const ev = events(receipt);
        assert.equal(ev.length, 1);
        assert.equal(ev[0].eventName, 'MeasurementRegistered');
        assert.deepEqual(ev[0].args, {
            owner: who,
            measurementHash: keccak256(m),
            measurement: m,
            buildHash: buildHash(1),
            description: desc,
        });

        assert.equal(await read(pub, reg, 'isActive', [who, m]), true);
        assert.deepEqual(await read(pub, reg, 'getEntry', [who, m]), [true, true, buildHash(1), desc, t, 0n]);
        assert.equal(await read(pub, reg, 'historyLength', [who]), 1n);
        assert.deepEqual(await read(pub, reg, 'historyAt', [who, 0n]), [m, buildHash(1), desc, t, 0n]);

        for (const [fn, args] of [
            ['isActive', [who, m]],
            ['getEntry', [who, m]],
            ['historyLength', [who]],
            ['historyAt', [who, 0n]],
        ]) {
            recordGas(`${fn} (view)`, await pub.estimateContractGas({ address: reg, abi, functionName: fn, args }));
        }
    });

    it('takes an empty description and a zero build hash', async () => {
        const m = randomMeasurement();
        const receipt = await send(pub, alice, reg, 'register', [m, zeroHash, '']);
        recordGas('register (empty description)', receipt.gasUsed);
        const [exists, active, h, d] = await read(pub, reg, 'getEntry', [alice.account.address, m]);
        assert.deepEqual([exists, active, h, d], [true, true, zeroHash, '']);
    });

    it('takes the all-zero measurement (the contract records; clients refuse it)', async () => {
        const zeros = toHex(new Uint8Array(48));
        await send(pub, alice, reg, 'register', [zeros, zeroHash, 'zero']);
        assert.equal(await read(pub, reg, 'isActive', [alice.account.address, zeros]), true);
    });

    it('bounds the description at 256 bytes: 256 is accepted, 257 reverts', async () => {
        const ok = randomMeasurement();
        const receipt = await send(pub, alice, reg, 'register', [ok, buildHash(2), ascii(256)]);
        recordGas('register (256-byte description)', receipt.gasUsed);
        assert.equal((await read(pub, reg, 'getEntry', [alice.account.address, ok]))[3], ascii(256));

        const m = randomMeasurement();
        await expectRevert(() => tryRegister(alice, reg, m, buildHash(3), ascii(257)), 'DescriptionTooLong', [257n, 256n]);
        await expectRevert(() => tryRegister(alice, reg, m, buildHash(3), ascii(4096)), 'DescriptionTooLong', [4096n, 256n]);
        assert.equal(await read(pub, reg, 'isActive', [alice.account.address, m]), false);
    });

    it('counts the bound in UTF-8 bytes, not characters', async () => {
        const m = randomMeasurement();
        // 85 × "€" (3 bytes each) = 255 bytes fits; 86 = 258 bytes does not.
        await send(pub, alice, reg, 'register', [m, zeroHash, '€'.repeat(85)]);
        await expectRevert(
            () => tryRegister(alice, reg, randomMeasurement(), zeroHash, '€'.repeat(86)),
            'DescriptionTooLong',
            [258n, 256n],
        );
    });

    it('refuses measurements that are not 48 bytes', async () => {
        for (const len of [0, 1, 32, 47, 49, 64, 96]) {
            const m = toHex(new Uint8Array(len).fill(0xab));
            await expectRevert(() => tryRegister(alice, reg, m, zeroHash, ''), 'BadMeasurementLength', [BigInt(len)]);
        }
        // 96 hex digits sent as text instead of bytes is the classic mistake.
        const asText = toHex('ab'.repeat(48));
        await expectRevert(() => tryRegister(alice, reg, asText, zeroHash, ''), 'BadMeasurementLength', [96n]);
    });

    it('checks the length before the description', async () => {
        await expectRevert(
            () => tryRegister(alice, reg, toHex(new Uint8Array(47)), zeroHash, ascii(300)),
            'BadMeasurementLength',
            [47n],
        );
    });

    it('refuses the same bytes twice from the same owner', async () => {
        const m = randomMeasurement();
        await send(pub, alice, reg, 'register', [m, buildHash(4), 'first']);
        await expectRevert(
            () => tryRegister(alice, reg, m, buildHash(5), 'second'),
            'AlreadyRegistered',
            [alice.account.address, m],
        );
        const [, , h, d] = await read(pub, reg, 'getEntry', [alice.account.address, m]);
        assert.deepEqual([h, d], [buildHash(4), 'first']);
    });

    it('a reverted transaction mined on chain changes nothing', async () => {
        const m = randomMeasurement();
        await send(pub, alice, reg, 'register', [m, zeroHash, 'once']);
        const before = await read(pub, reg, 'historyLength', [alice.account.address]);
        // Fixed gas skips estimation, so the transaction is mined and reverts.
        const hash = await alice.writeContract({
            address: reg,
            abi,
            functionName: 'register',
            args: [m, zeroHash, 'twice'],
            gas: 300000n,
        });
        const receipt = await pub.waitForTransactionReceipt({ hash });
        assert.equal(receipt.status, 'reverted');
        assert.equal(receipt.logs.length, 0);
        assert.equal(await read(pub, reg, 'historyLength', [alice.account.address]), before);
    });
});

describe('deprecate', () => {
    let reg;
    before(async () => {
        reg = await freshRegistry(pub, carol);
    });

    it('marks the entry, emits MeasurementDeprecated and keeps the history', async () => {
        const m = randomMeasurement();
        const reg1 = await send(pub, alice, reg, 'register', [m, buildHash(1), 'v1']);
        const t1 = await blockTime(reg1);
        const receipt = await send(pub, alice, reg, 'deprecate', [m]);
        recordGas('deprecate', receipt.gasUsed);
        const t2 = await blockTime(receipt);
        const who = alice.account.address;

        const ev = events(receipt);
        assert.equal(ev.length, 1);
        assert.equal(ev[0].eventName, 'MeasurementDeprecated');
        assert.deepEqual(ev[0].args, { owner: who, measurementHash: keccak256(m), measurement: m });

        assert.equal(await read(pub, reg, 'isActive', [who, m]), false);
        assert.deepEqual(await read(pub, reg, 'getEntry', [who, m]), [true, false, buildHash(1), 'v1', t1, t2]);
        assert.equal(await read(pub, reg, 'historyLength', [who]), 1n);
        assert.deepEqual(await read(pub, reg, 'historyAt', [who, 0n]), [m, buildHash(1), 'v1', t1, t2]);
        assert.ok(t2 > 0n);
    });

    it('is permanent: no second deprecation, no re-registration', async () => {
        const m = randomMeasurement();
        const who = alice.account.address;
        await send(pub, alice, reg, 'register', [m, buildHash(2), 'v2']);
        await send(pub, alice, reg, 'deprecate', [m]);
        const entry = await read(pub, reg, 'getEntry', [who, m]);

        await expectRevert(() => tryDeprecate(alice, reg, m), 'AlreadyDeprecated', [who, m]);
        await expectRevert(() => tryRegister(alice, reg, m, buildHash(3), 'again'), 'AlreadyRegistered', [who, m]);

        assert.equal(await read(pub, reg, 'isActive', [who, m]), false);
        assert.deepEqual(await read(pub, reg, 'getEntry', [who, m]), entry);
    });

    it('refuses a measurement the caller never registered', async () => {
        const m = randomMeasurement();
        await expectRevert(() => tryDeprecate(alice, reg, m), 'NotRegistered', [alice.account.address, m]);
    });

    it("cannot touch another owner's entry", async () => {
        const m = randomMeasurement();
        await send(pub, alice, reg, 'register', [m, zeroHash, 'alice']);
        await expectRevert(() => tryDeprecate(bob, reg, m), 'NotRegistered', [bob.account.address, m]);
        assert.equal(await read(pub, reg, 'isActive', [alice.account.address, m]), true);
    });

    it('refuses measurements that are not 48 bytes', async () => {
        for (const len of [0, 47, 49]) {
            const m = toHex(new Uint8Array(len));
            await expectRevert(() => tryDeprecate(alice, reg, m), 'BadMeasurementLength', [BigInt(len)]);
        }
    });
});

describe('views', () => {
    it('refuse measurements that are not 48 bytes', async () => {
        const reg = await freshRegistry(pub, carol);
        const who = alice.account.address;
        for (const len of [0, 47, 49]) {
            const m = toHex(new Uint8Array(len));
            await expectRevert(() => read(pub, reg, 'isActive', [who, m]), 'BadMeasurementLength', [BigInt(len)]);
            await expectRevert(() => read(pub, reg, 'getEntry', [who, m]), 'BadMeasurementLength', [BigInt(len)]);
        }
    });
});

describe('owners are independent', () => {
    let reg;
    before(async () => {
        reg = await freshRegistry(pub, carol);
    });

    it("another owner registering the same bytes leaves the canonical owner's answers alone", async () => {
        const m = randomMeasurement();
        const a = alice.account.address;
        const b = bob.account.address;
        await send(pub, alice, reg, 'register', [m, buildHash('alice'), 'canonical']);
        const canonical = await read(pub, reg, 'getEntry', [a, m]);

        await send(pub, bob, reg, 'register', [m, buildHash('bob'), 'impostor']);
        assert.deepEqual(await read(pub, reg, 'getEntry', [a, m]), canonical);
        assert.equal((await read(pub, reg, 'getEntry', [b, m]))[3], 'impostor');

        // bob deprecating his copy does not deprecate alice's
        await send(pub, bob, reg, 'deprecate', [m]);
        assert.equal(await read(pub, reg, 'isActive', [a, m]), true);
        assert.deepEqual(await read(pub, reg, 'getEntry', [a, m]), canonical);
        assert.equal(await read(pub, reg, 'historyLength', [a]), 1n);
        assert.equal(await read(pub, reg, 'historyLength', [b]), 1n);
    });

    it('registering bytes the canonical owner deprecated does not revive them for that owner', async () => {
        // The first registry's flaw: after deprecation anyone could take the
        // bytes over. Here bob gets his own entry and alice's stays deprecated.
        const m = randomMeasurement();
        const a = alice.account.address;
        await send(pub, alice, reg, 'register', [m, buildHash('alice'), 'canonical']);
        await send(pub, alice, reg, 'deprecate', [m]);
        const deprecated = await read(pub, reg, 'getEntry', [a, m]);

        await send(pub, bob, reg, 'register', [m, buildHash('bob'), 'squatter']);
        assert.equal(await read(pub, reg, 'isActive', [bob.account.address, m]), true);
        assert.equal(await read(pub, reg, 'isActive', [a, m]), false);
        assert.deepEqual(await read(pub, reg, 'getEntry', [a, m]), deprecated);
        await expectRevert(() => tryRegister(alice, reg, m, zeroHash, ''), 'AlreadyRegistered', [a, m]);
    });

    it('a measurement only the other owner registered is unknown for the canonical owner', async () => {
        const m = randomMeasurement();
        await send(pub, bob, reg, 'register', [m, buildHash('bob'), 'only bob']);
        assert.equal(await read(pub, reg, 'isActive', [alice.account.address, m]), false);
        assert.deepEqual(await read(pub, reg, 'getEntry', [alice.account.address, m]), [false, false, zeroHash, '', 0n, 0n]);
    });
});

describe('history', () => {
    it('lists every registration in order with its contents, deprecated ones included', async () => {
        const reg = await freshRegistry(pub, carol);
        const who = carol.account.address;
        const ms = [randomMeasurement(), randomMeasurement(), randomMeasurement()];
        const times = [];
        for (const [i, m] of ms.entries()) {
            times.push(await blockTime(await send(pub, carol, reg, 'register', [m, buildHash(i), `release ${i}`])));
        }
        const dep = await blockTime(await send(pub, carol, reg, 'deprecate', [ms[1]]));
        await send(pub, bob, reg, 'register', [randomMeasurement(), zeroHash, 'someone else']);

        assert.equal(await read(pub, reg, 'historyLength', [who]), 3n);
        for (const [i, m] of ms.entries()) {
            assert.deepEqual(await read(pub, reg, 'historyAt', [who, BigInt(i)]), [
                m,
                buildHash(i),
                `release ${i}`,
                times[i],
                i === 1 ? dep : 0n,
            ]);
        }
        assert.ok(times[0] <= times[1] && times[1] <= times[2]);
        await expectRevert(() => read(pub, reg, 'historyAt', [who, 3n]), 'Panic', [0x32n]);
    });
});
