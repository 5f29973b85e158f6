// Oracle self-test: before comparing anything with sigil, the oracles must
// reproduce the committed known-answer vectors of shared/vectors/venues/
// (official docs / SDK vectors and earlier cross-library vectors). Any
// difference aborts the run: a harness that cannot reproduce them proves nothing.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Wallet, TypedDataEncoder, getBytes, Signature } from 'ethers';
import { signL1Action, signUserSignedAction } from '@nktkas/hyperliquid/signing';
import { signBoth } from './lib/cex.mjs';
import { stringify } from './lib/json.mjs';
import { runProcess } from './lib/pool.mjs';
import { sameSig, USER_TYPES } from './venues/hyperliquid.mjs';
import { ethersTypes } from './venues/eip712.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export async function selfTest(sharedDir, args) {
  const dir = path.join(sharedDir, 'vectors', 'venues');
  const load = (n) => {
    const p = path.join(dir, `${n}.json`);
    return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : null;
  };
  let checked = 0, skipped = 0;
  const eq = (name, got, want) => {
    if (got !== want) throw new Error(`oracle self-test failed on "${name}":\n  want ${want}\n  got  ${got}`);
    checked++;
  };

  // Binance: HMAC / Ed25519 / RSA over the signature payload
  const bn = load('binance');
  for (const v of bn?.vectors || []) {
    const i = v.inputs, e = v.expected;
    if (e.signature && i.secret) eq(v.name, signBoth('hmac', i.secret, i.signature_payload, 'hex'), e.signature);
    else if (e.signature_base64 && i.private_key_pem) eq(v.name, signBoth('ed25519', i.private_key_pem, i.signature_payload), e.signature_base64);
    else if (e.signature_base64 && i.private_key_pem_file) {
      const pem = readFileSync(path.join(dir, i.private_key_pem_file), 'utf8');
      eq(v.name, signBoth('rsa', pem, i.signature_payload), e.signature_base64);
    } else skipped++;
  }
  // Bybit / OKX / KuCoin Futures: presign strings
  for (const [venue, field, enc] of [['bybit', 'X-BAPI-SIGN', 'hex'], ['okx', 'OK-ACCESS-SIGN', 'base64'], ['kucoinfutures', 'KC-API-SIGN', 'base64']]) {
    for (const v of load(venue)?.vectors || []) {
      const want = v.expected[field];
      if (want && v.inputs.presign && v.inputs.secret) eq(`${venue}: ${v.name}`, signBoth('hmac', v.inputs.secret, v.inputs.presign, enc), want);
      else skipped++;
      if (v.expected['KC-API-PASSPHRASE']) eq(`${venue}: ${v.name} passphrase`, signBoth('hmac', v.inputs.secret, v.inputs.passphrase, 'base64'), v.expected['KC-API-PASSPHRASE']);
    }
  }
  // Hyperliquid: python SDK + @nktkas for every signed vector
  const hl = load('hyperliquid');
  const pyJobs = [], pyWant = [];
  for (const v of hl?.official_python_sdk_vectors || []) {
    const i = v.inputs;
    if (!i.private_key) { skipped++; continue; }
    if (v.kind === 'L1 action') {
      pyJobs.push({ kind: 'l1', key: i.private_key, action: i.action, vault: i.vaultAddress, nonce: i.nonce, expires: i.expiresAfter, mainnet: i.is_mainnet });
    } else {
      const type = Object.entries(USER_TYPES).find(([, [p]]) => p === i.primaryType)[0];
      pyJobs.push({ kind: 'user', key: i.private_key, action: { type, signatureChainId: i.signatureChainId, ...i.message }, primaryType: i.primaryType,
        types: USER_TYPES[type][1], mainnet: i.message.hyperliquidChain === 'Mainnet' });
    }
    pyWant.push([v.name, v.expected]); // exact r/s text (SDK style)
  }
  for (const v of hl?.vectors || []) {
    const i = v.inputs, sig = v.expected.signature;
    const wallet = new Wallet(i.private_key);
    if (v.kind === 'L1 action') {
      const js = await signL1Action({ wallet, action: i.action, nonce: i.nonce, isTestnet: !i.is_mainnet, vaultAddress: i.vaultAddress ?? undefined, expiresAfter: i.expiresAfter ?? undefined });
      if (!sameSig(js, sig)) throw new Error(`oracle self-test failed on "${v.name}" (@nktkas)`);
      pyJobs.push({ kind: 'l1', key: i.private_key, action: i.action, vault: i.vaultAddress, nonce: i.nonce, expires: i.expiresAfter, mainnet: i.is_mainnet });
    } else {
      const [primaryType, fields, nk] = USER_TYPES[i.action.type];
      const js = await signUserSignedAction({ wallet, action: i.action, types: nk });
      if (!sameSig(js, sig)) throw new Error(`oracle self-test failed on "${v.name}" (@nktkas)`);
      pyJobs.push({ kind: 'user', key: i.private_key, action: i.action, primaryType, types: fields, mainnet: i.action.hyperliquidChain === 'Mainnet' });
    }
    checked++;
    pyWant.push([v.name, sig, 'numeric']);
  }
  // EIP-712 / EIP-191 (ethers here, eth_account in the python oracle)
  const ee = load('eip712_eip191');
  for (const v of ee?.eip712 || []) {
    const i = v.inputs;
    if (!i.types) { skipped++; continue; }
    const digest = TypedDataEncoder.hash(i.domain, ethersTypes(i.types), i.message);
    eq(v.name, digest, v.expected.digest);
    eq(v.name, Signature.from(new Wallet(i.private_key).signingKey.sign(digest)).serialized, v.expected.signature_65_hex);
    pyJobs.push({ kind: 'eip712', key: i.private_key, typedData: { types: { EIP712Domain: [{ name: 'name', type: 'string' }, { name: 'version', type: 'string' },
      { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' }], ...i.types }, primaryType: i.primaryType, domain: i.domain, message: i.message } });
    pyWant.push([v.name, { digest: v.expected.digest, signature: v.expected.signature_65_hex }, 'fields']);
  }
  for (const v of ee?.eip191 || []) {
    const i = v.inputs;
    const w = new Wallet(i.private_key);
    const sig = i.message_utf8 !== null ? w.signMessageSync(i.message_utf8) : w.signMessageSync(getBytes(i.message_hex));
    eq(v.name, sig, v.expected.signature_65_hex);
    pyJobs.push(i.message_utf8 !== null ? { kind: 'eip191', key: i.private_key, message: i.message_utf8 } : { kind: 'eip191', key: i.private_key, message_hex: i.message_hex });
    pyWant.push([v.name, { signature: v.expected.signature_65_hex }, 'fields']);
  }
  // Aster (EIP-712 Message{msg})
  for (const v of load('aster')?.vectors || []) {
    const i = v.inputs;
    if (!i.msg || !i.domain || !v.expected.signature) { skipped++; continue; }
    const key = i.signer_private_key || i.user_private_key;
    eq(v.name, await new Wallet(key).signTypedData(i.domain, { Message: [{ name: 'msg', type: 'string' }] }, { msg: i.msg }), v.expected.signature);
  }
  // run the python jobs
  if (pyJobs.length) {
    const input = pyJobs.map((j, k) => stringify({ id: k, ...j })).join('\n') + '\n';
    const res = await runProcess(args.python, [path.join(HERE, 'oracle', 'py_oracle.py')], input, { timeoutMs: 300000 });
    if (res.code !== 0) throw new Error(`python oracle failed during the self-test: ${res.stderr}`);
    const ans = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
    ans.forEach((a, k) => {
      const [name, want, how] = pyWant[k];
      if (a.error) throw new Error(`python oracle self-test "${name}": ${a.error}`);
      if (how === 'numeric') {
        if (!sameSig(a, want)) throw new Error(`python oracle self-test failed on "${name}"`);
        checked++;
      } else if (how === 'fields') {
        for (const [f, w] of Object.entries(want)) eq(`${name} (python ${f})`, a[f], w);
      } else {
        eq(`${name} (python r)`, a.r, want.r);
        eq(`${name} (python s)`, a.s, want.s);
        eq(`${name} (python v)`, a.v, want.v);
      }
    });
  }
  return { checked, skipped };
}
