// Aster API V3 (EIP-712 "AsterSignTransaction" Message{msg:string}, chainId 1666
// mainnet / 714 testnet), following shared/vectors/venues/aster.json.
//
// Styles:
//  "append": business params only (python quote_plus encoding as in the docs'
//            examples, or RFC 3986); request.nonce given; sigil must append
//            "&nonce=<n>&signer=<checksummed key address>" then sign.
//  "present": nonce and signer (and sometimes user) already in the query: signed as is.
//  "ccxt":   ccxt aster.sign() with a frozen clock (nonce,user,signer first, then
//            the params) gives the query; its signature must equal ethers'.
// Oracle: ethers Wallet.signTypedData over {msg: query}; signature 0x + r‖s‖v hex.
import ccxt from 'ccxt';
import { Wallet, getAddress } from 'ethers';
import { FIXED_SECP256K1, seededSecp256k1 } from '../lib/keys.mjs';
import { randomParams, quotePlus, pctEncode, jsonValue } from '../lib/gen.mjs';
import { splitSigned, stripParam, agree } from '../lib/cex.mjs';
import { NEG_RATE, refusal } from '../lib/negative.mjs';

export const label = 'aster';

const DOC_PATHS = ['/fapi/v3/order', '/fapi/v3/batchOrders', '/fapi/v3/openOrders', '/fapi/v3/openOrder', '/fapi/v3/allOrders',
  '/fapi/v3/account', '/fapi/v3/balance', '/fapi/v3/positionRisk', '/fapi/v3/leverage', '/fapi/v3/marginType',
  '/fapi/v3/allOpenOrders', '/fapi/v3/userTrades', '/fapi/v3/listenKey', '/api/v3/order', '/api/v3/account', '/api/v3/openOrders'];

const domainFor = (mainnet) => ({ name: 'AsterSignTransaction', version: '1', chainId: mainnet ? 1666 : 714,
  verifyingContract: '0x0000000000000000000000000000000000000000' });
const TYPES = { Message: [{ name: 'msg', type: 'string' }] };

// Unix µs within what sigil accepts ([10^15, 10^17))
function nonceUs(rng) {
  return rng.weighted([[8, () => String(rng.int(1600000000000, 1900000000000) * 1000 + rng.int(0, 999))],
    [1, () => rng.pick(['1748310859508867', '1000000000000000', '9007199254740993', '1700000000000000', '99999999999999999'])],
    [1, () => String(1000000000000000 + rng.int(0, 2 ** 53 - 1 - 1000000000000000))]])();
}

let ccxtTable = null;
function ccxtEndpoints() {
  if (ccxtTable) return ccxtTable;
  const ex = new ccxt.aster();
  ccxtTable = [];
  for (const api of ['fapiPrivate', 'sapiPrivate']) {
    for (const [m, paths] of Object.entries(ex.api[api] || {})) {
      // registerAndApproveAgent / approveBuilder are signed in other domains: own style below / left out
      for (const p of Object.keys(paths)) if (!/\{|approveBuilder|registerAndApproveAgent/.test(p)) ccxtTable.push({ api, method: m.toUpperCase(), path: p });
    }
  }
  return ccxtTable;
}

export async function makeCase(rng, i, ctx) {
  let key, pub, desc;
  const kr = rng.float();
  if (kr < 0.25) [key, pub, desc] = [FIXED_SECP256K1[1], true, 'Aster docs signer key 0x4fd0…bae1'];
  else if (kr < 0.4) [key, pub, desc] = [FIXED_SECP256K1[0], true, 'venues.md §0 test key 0x0123…0123'];
  else {
    const idx = rng.int(0, 5);
    [key, pub, desc] = [ctx.cached(`aster-${idx}`, () => seededSecp256k1(ctx.seed, `aster-${idx}`)), false, `seeded secp256k1 aster-${idx}`];
  }
  const wallet = new Wallet(key);
  const signer = wallet.address; // checksummed
  const mainnet = rng.chance(0.5);
  if (rng.chance(NEG_RATE)) {
    const base = { venue: 'aster', network: mainnet ? 'mainnet' : 'testnet', credFile: { private_key: key }, credsPublic: pub, credsDesc: desc };
    const q = 'symbol=ASTERUSDT&side=BUY';
    return rng.pick([
      () => refusal({ ...base, request: { method: 'POST', path: '/fapi/v3/order', query: `${q}&nonce=${nonceUs(rng)}&signer=0x${rng.hex(20)}` } }, 'bad_address', 'signer is not the key\'s address'),
      () => refusal({ ...base, request: { method: 'POST', path: '/fapi/v3/order', query: `${q}&nonce=1748310859508867&signer=${signer}`, nonce: 1748310859508868 } }, 'bad_field', 'nonce parameter differs from request.nonce'),
      () => refusal({ ...base, request: { method: 'POST', path: '/fapi/v3/order', query: q, nonce: rng.pick([1, 1748310859508, 999999999999999]) } }, 'out_of_range', 'nonce not in Unix microseconds'),
      () => refusal({ ...base, request: { method: 'POST', path: '/fapi/v3/order', query: `${q}&note=é`, nonce: 1748310859508867 } }, 'bad_field', 'raw non-ASCII in the query'),
    ])();
  }
  const style = rng.weighted([[4, 'append'], [3, 'present'], [3, 'ccxt'], [0.5, 'register']]);
  if (style === 'register') {
    // registerAndApproveAgent: signed by the user's wallet in the domain of the
    // message's signatureChainId (venues.md §6 vector: 56), not 1666/714.
    const cid = rng.weighted([[6, 56], [1, 1], [1, 42161], [1, 97]]);
    const user = rng.chance(0.7) ? signer : signer.toLowerCase();
    const fields = [['user', user], ['nonce', nonceUs(rng)], ['agentName', rng.chance(0.8) ? randomParams(rng, { min: 1, max: 1 })[0][0] : 'bot 1'],
      ['agentAddress', getAddress('0x' + rng.hex(20))], ['expired', String(rng.int(1700000000000, 1900000000000))], ['signatureChainId', String(cid)],
      ['canSpotTrade', String(rng.chance(0.5))], ['canPerpTrade', String(rng.chance(0.5))], ['canWithdraw', String(rng.chance(0.5))],
      ['ipWhitelist', rng.chance(0.6) ? '' : '1.2.3.4,5.6.7.8']];
    const rmsg = fields.map(([k, v]) => `${k}=${quotePlus(v)}`).join('&');
    const sig = await wallet.signTypedData({ ...domainFor(true), chainId: cid }, TYPES, { msg: rmsg });
    return {
      venue: 'aster', network: mainnet ? undefined : 'testnet', credFile: { private_key: key }, credsPublic: pub, credsDesc: desc,
      request: { method: 'POST', path: '/fapi/v3/registerAndApproveAgent', query: rmsg },
      info: `registerAndApproveAgent, domain chainId ${cid} from signatureChainId`, compare: 'fields',
      expect: { method: 'POST', path: '/fapi/v3/registerAndApproveAgent', query: `${rmsg}&signature=${sig}` },
    };
  }
  let method, path, msg, requestNonce;
  let info;
  let ccxtSig;
  if (style === 'ccxt') {
    const ep = rng.pick(ccxtEndpoints());
    const ms = rng.int(1600000000000, 1900000000000);
    const ex = new ccxt.aster({ privateKey: key, walletAddress: signer });
    ex.milliseconds = () => ms;
    ex.options.v3ChainId = mainnet ? 1666 : 714;
    if (rng.chance(0.5)) ex.options.signerAddress = signer;
    // ccxt's encodeValuesWithJson percent-encodes values only: keep the names URL-safe
    const params = Object.fromEntries(randomParams(rng, { max: 7, reserved: ['nonce', 'user', 'signer', 'signature'],
      valueGen: (r, name) => (r.chance(0.1) ? jsonValue(r) : undefined) ?? String(r.pick(['BTCUSDT', '0.5', '20', 'BUY', 'LIMIT', 'GTC'])) }));
    for (const k of Object.keys(params)) {
      if (params[k] === null || params[k] === undefined) params[k] = 'null';
      if (!/^[A-Za-z0-9_.~-]+$/.test(k)) delete params[k];
    }
    const r = ex.sign(ep.path, ep.api, ep.method, params);
    const sp = splitSigned(r);
    const s = stripParam(sp.body !== '' ? sp.body : sp.query, 'signature');
    method = ep.method;
    path = sp.path;
    msg = s.rest;
    ccxtSig = s.value;
    info = `ccxt aster.sign('${ep.path}', '${ep.api}', '${ep.method}')`;
  } else {
    method = rng.weighted([[3, 'GET'], [4, 'POST'], [2, 'DELETE'], [1, 'PUT']]);
    path = rng.pick(DOC_PATHS);
    const enc = rng.chance(0.7) ? quotePlus : pctEncode;
    let params = randomParams(rng, { max: 8, reserved: ['nonce', 'user', 'signer', 'signature'] });
    if (path.endsWith('batchOrders') && rng.chance(0.7)) {
      params = [['batchOrders', JSON.stringify(Array.from({ length: rng.int(1, 3) }, () => ({ symbol: 'ASTERUSDT', type: 'LIMIT', side: 'BUY', timeInForce: 'GTC', quantity: '20', price: '0.5' }))).replace(/"/g, rng.chance(0.5) ? "'" : '"')]];
    }
    let q = params.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
    const n = nonceUs(rng);
    if (style === 'append') {
      requestNonce = n;
      msg = (q ? q + '&' : '') + `nonce=${n}&signer=${signer}`;
      info = `append nonce+signer (${enc === quotePlus ? 'quote_plus' : 'RFC 3986'})`;
      return finish({ method, path, query: q, nonce: BigInt(requestNonce) });
    }
    const extra = [`nonce=${n}`];
    if (rng.chance(0.3)) extra.push(`user=${rng.chance(0.5) ? '0x' + rng.hex(20) : signer.toLowerCase()}`);
    extra.push(`signer=${rng.chance(0.8) ? signer : signer.toLowerCase()}`);
    const tail = rng.chance(0.7);
    q = tail ? [q, ...extra].filter(Boolean).join('&') : [...extra, q].filter(Boolean).join('&');
    msg = q;
    info = `nonce/signer already present (${tail ? 'appended' : 'first'})`;
  }
  return finish({ method, path, query: msg });

  async function finish(request) {
    const sig = await wallet.signTypedData(domainFor(mainnet), TYPES, { msg });
    if (ccxtSig !== undefined) agree('aster ccxt vs ethers signature', ccxtSig, sig, { msg });
    const req = { ...request };
    if (req.nonce === undefined && rng.chance(0.2)) {
      // the query already has a nonce: give the same one in the request too
      const m = /(?:^|&)nonce=([^&]*)/.exec(msg);
      if (m) req.nonce = BigInt(m[1]);
    }
    return {
      venue: 'aster', network: mainnet && rng.chance(0.2) ? undefined : (mainnet ? 'mainnet' : 'testnet'),
      credFile: { private_key: key }, credsPublic: pub, credsDesc: desc,
      request: req, info: `${info} ${mainnet ? 'mainnet(1666)' : 'testnet(714)'}`,
      compare: 'fields', expect: { method, path, query: `${msg}&signature=${sig}` },
    };
  }
}
