// ccxt's in-process signing time for the requests sigil-bench signs (the ids
// match bench/sigil_bench.c). Started by sigil-bench; prints one line per
// case on stdout, which sigil-bench merges into its table:
//
//   info node=<v> ccxt=<v>
//   row <id> <iterations> <median_ns> <p99_ns> <check>   (check: the signature ccxt produced)
//   skip <id> <reason>
//   unavailable <reason>                                  (nothing could be measured)
//
// Standalone: node bench/ccxt_bench.mjs [--modules DIR] [--iters N] [--batch B] [--budget S]
// Timing: process.hrtime.bigint() around batches of B calls after a warm-up;
// median and p99 of the per-call batch means. Clocks are frozen
// (milliseconds() = 1700000000000) so every call signs the same request.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const TS = 1700000000000;

function parseArgs(argv) {
  const a = { modules: path.join(here, '..', 'tests', 'diff', 'node_modules'), iters: 20000, batch: 10, budget: 20 };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in a) || argv[i + 1] === undefined) throw new Error(`usage: unknown or incomplete option ${argv[i]}`);
    a[k] = k === 'modules' ? argv[i + 1] : Number(argv[i + 1]);
  }
  return a;
}

// Loads a package the way an ESM import from tests/diff would (its "import"
// export, else "main"), from an explicit node_modules directory.
async function load(modules, name) {
  const dir = path.join(modules, name);
  const pkgFile = path.join(dir, 'package.json');
  if (!existsSync(pkgFile)) throw new Error(`${name} not installed in ${modules}`);
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
  const exp = pkg.exports && pkg.exports['.'];
  let entry = exp && exp.import ? (typeof exp.import === 'string' ? exp.import : exp.import.default) : pkg.module || pkg.main;
  if (!entry) entry = 'index.js';
  return { mod: await import(pathToFileURL(path.join(dir, entry)).href), version: pkg.version };
}

// ---- the requests (same bytes as the samples in sigil_bench.c) ----
const KEYS = {
  binance: { apiKey: 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A',
    secret: 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j' },
  ed25519Pem: '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n',
  rsaPemFile: path.join(here, '..', 'tests', 'vectors', 'keys', 'binance_test_rsa_private_key.pem'),
  bybit: { apiKey: 'XXXXXXXXXX', secret: 'YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY' },
  okx: { apiKey: '985d5b66-57ce-40fb-b714-afc0b9787083', secret: '0123456789ABCDEF0123456789ABCDEF', password: 'Passphrase123!' },
  kucoin: { apiKey: '5c2db93503aa674c74a31734', secret: 'f03a5284-5c39-4aaa-9b20-dea10bdcf8e3', password: 'QWIxenR0ZTEw' },
  wallet: '0x0123456789012345678901234567890123456789012345678901234567890123',
  walletAddress: '0x14791697260E4c9A71f18484C9f997B308e59325',
  aster: '0x4fd0a42218f3eae43a6ce26d22544e986139a01e5b34a62db53757ffca81bae1',
  asterAddress: '0x21cF8Ae13Bb72632562c6Fff438652Ba1a151bb0',
};

const BINANCE_ORDER = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.001', price: '50000',
  newClientOrderId: 'x-TKT5PX2F-bench-0001', recvWindow: 5000 };
const HL_ORDER = { type: 'order', orders: [{ a: 0, b: true, p: '50000', s: '0.001', r: false, t: { limit: { tif: 'Gtc' } },
  c: '0x1234567890abcdef1234567890abcdef' }], grouping: 'na' };
const HL_USDSEND = { hyperliquidChain: 'Mainnet', destination: '0x5e9ee1089755c3435139848e47e6635505d5a13a', amount: '1.5', time: TS };
const MAIL = {
  domain: { name: 'Ether Mail', version: '1', chainId: 1, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' },
  types: { Person: [{ name: 'name', type: 'string' }, { name: 'wallet', type: 'address' }],
    Mail: [{ name: 'from', type: 'Person' }, { name: 'to', type: 'Person' }, { name: 'contents', type: 'string' }] },
  message: { from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' },
    to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' }, contents: 'Hello, Bob!' },
};

const frozen = (ex) => {
  ex.milliseconds = () => TS;
  ex.options.timeDifference = 0;
  return ex;
};
const minimalHex = (h) => '0x' + BigInt(h).toString(16); // sigil prints r/s as the Python SDK does
const lastParam = (s, name) => new RegExp(`(?:^|&)${name}=([^&]*)$`).exec(s)[1];

// Each case returns a function doing one complete signing; its return value
// is the signature string sigil's output is checked against.
function cases(ccxt) {
  const binance = (secret) => {
    const ex = frozen(new ccxt.binance({ apiKey: KEYS.binance.apiKey, secret }));
    return () => lastParam(ex.sign('order', 'private', 'POST', BINANCE_ORDER).body, 'signature');
  };
  const kucoin = (cls, api, p, params) => {
    const ex = frozen(new ccxt[cls]({ ...KEYS.kucoin }));
    ex.options.partner = {}; // no broker headers: not part of the request signature
    return () => ex.sign(p, api, 'POST', params).headers['KC-API-SIGN'];
  };
  const hl = () => {
    const ex = new ccxt.hyperliquid({ privateKey: KEYS.wallet, walletAddress: KEYS.walletAddress });
    ex.options.sandboxMode = false;
    return ex;
  };
  return {
    'binance-hmac': () => binance(KEYS.binance.secret),
    'binance-ed25519': () => binance(KEYS.ed25519Pem),
    'binance-rsa': () => {
      if (!existsSync(KEYS.rsaPemFile)) return `no RSA test key at ${KEYS.rsaPemFile}`;
      return binance(readFileSync(KEYS.rsaPemFile, 'utf8'));
    },
    bybit: () => {
      const ex = frozen(new ccxt.bybit({ ...KEYS.bybit }));
      ex.options.recvWindow = 5000;
      const params = { category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Limit', qty: '0.001', price: '50000',
        timeInForce: 'GTC', orderLinkId: 'bench-0001' };
      return () => ex.sign('v5/order/create', 'private', 'POST', params).headers['X-BAPI-SIGN'];
    },
    okx: () => {
      const ex = frozen(new ccxt.okx({ ...KEYS.okx }));
      const params = { instId: 'BTC-USDT-SWAP', tdMode: 'cross', side: 'buy', ordType: 'limit', px: '50000', sz: '1', clOrdId: 'bench0001' };
      return () => ex.sign('trade/order', 'private', 'POST', params).headers['OK-ACCESS-SIGN'];
    },
    kucoinfutures: () => kucoin('kucoinfutures', 'futuresPrivate', 'orders',
      { clientOid: 'bench-0001', side: 'buy', symbol: 'XBTUSDTM', type: 'limit', price: '50000', size: 1, leverage: '5' }),
    kucoin: () => kucoin('kucoin', 'private', 'hf/orders',
      { clientOid: 'bench-0001', side: 'buy', symbol: 'BTC-USDT', type: 'limit', price: '50000', size: '0.001' }),
    'hyperliquid-order': () => {
      const ex = hl();
      return () => minimalHex(ex.signL1Action(HL_ORDER, TS).r);
    },
    'hyperliquid-usdsend': () => {
      const ex = hl();
      return () => minimalHex(ex.buildUsdSendSig(HL_USDSEND).r);
    },
    aster: () => {
      const ex = frozen(new ccxt.aster({ privateKey: KEYS.aster, walletAddress: KEYS.asterAddress }));
      const params = { symbol: 'ASTERUSDT', type: 'LIMIT', side: 'BUY', timeInForce: 'GTC', quantity: '20', price: '0.5' };
      return () => lastParam(ex.sign('v3/order', 'fapiPrivate', 'POST', params).body, 'signature');
    },
    // No ccxt exchange signs generic EIP-712 / EIP-191: ccxt's own primitives
    // (the ones its hyperliquid and aster classes use) stand in.
    eip712: () => {
      const ex = hl();
      return () => minimalHex(ex.signMessage(ex.ethEncodeStructuredData(MAIL.domain, MAIL.types, MAIL.message), KEYS.wallet).r);
    },
    eip191: () => {
      const ex = new ccxt.aster({ privateKey: KEYS.wallet, walletAddress: KEYS.walletAddress });
      return () => ex.signHash(ex.hashMessage(ex.encode('Hello World')), KEYS.wallet);
    },
  };
}

let sink = 0;
function measure(fn, { iters, batch, budget }) {
  const check = fn();
  // warm-up: a tenth of the run, at least 200 calls, so the JIT has settled
  const t0 = process.hrtime.bigint();
  const warm = Math.max(200, Math.floor(iters / 10));
  for (let i = 0; i < warm; i++) sink += fn().length;
  const perCall = Number(process.hrtime.bigint() - t0) / warm;
  // slow rows are cut to the time budget, never below 10000 calls (the
  // acceptance floor) unless iters is lower; the count is printed
  const fit = Math.max(10000, Math.floor((budget * 1e9) / perCall));
  const n = Math.max(batch, Math.floor(Math.min(iters, fit) / batch) * batch);
  const samples = new Float64Array(n / batch);
  for (let s = 0; s < samples.length; s++) {
    const a = process.hrtime.bigint();
    for (let j = 0; j < batch; j++) sink += fn().length;
    samples[s] = Number(process.hrtime.bigint() - a) / batch;
  }
  samples.sort();
  return { n, median: samples[(samples.length - 1) >> 1], p99: samples[Math.ceil(0.99 * (samples.length - 1))], check };
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  let ccxt, version;
  try {
    ({ mod: { default: ccxt }, version } = await load(opt.modules, 'ccxt'));
  } catch (e) {
    console.log(`unavailable cannot load ccxt (${e.message.split('\n')[0]})`);
    return;
  }
  console.log(`info node=${process.version} ccxt=${version}`);
  const only = process.env.SIGIL_BENCH_ONLY ? new Set(process.env.SIGIL_BENCH_ONLY.split(',')) : null;
  for (const [id, make] of Object.entries(cases(ccxt))) {
    if (only && !only.has(id)) continue;
    try {
      const fn = make();
      if (typeof fn === 'string') {
        console.log(`skip ${id} ${fn}`);
        continue;
      }
      const r = measure(fn, opt);
      console.log(`row ${id} ${r.n} ${r.median.toFixed(1)} ${r.p99.toFixed(1)} ${r.check}`);
    } catch (e) {
      console.log(`skip ${id} ccxt failed: ${e.message.split('\n')[0]}`);
    }
  }
  if (sink === 0.5) console.error(sink); // keeps the results observable
}

main().catch((e) => {
  console.log(`unavailable ${e.message.split('\n')[0]}`);
});
