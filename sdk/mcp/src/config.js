// The server's configuration, from environment variables (README.md "Configuration").
import { readFileSync } from 'node:fs';

const MEASUREMENT = /^[0-9a-f]{96}$/;

function positiveInt(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name}: a positive integer is required`);
  return n;
}

function readJsonFile(name, path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    // the file's content may be a secret: name the file and the failure kind only
    throw new Error(`${name}: cannot read ${path} as JSON (${e.code ?? e.name})`);
  }
}

/** 'aws', or the PEM text of the file SIGIL_ROOT names; null when unset. */
function root(env) {
  const v = env.SIGIL_ROOT;
  if (v === undefined || v === '') return null;
  if (v === 'aws') return 'aws';
  try {
    return readFileSync(v, 'utf8');
  } catch (e) {
    throw new Error(`SIGIL_ROOT: cannot read ${v} (${e.code ?? e.name})`);
  }
}

/** Venue base URL overrides: {"binance/spot": "https://…", …} (tests, proxies). */
function venueUrls(env) {
  const v = env.SIGIL_VENUE_URLS;
  if (v === undefined || v === '') return {};
  let obj;
  try {
    obj = JSON.parse(v);
  } catch {
    throw new Error('SIGIL_VENUE_URLS: not JSON');
  }
  for (const [k, url] of Object.entries(obj)) {
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new Error(`SIGIL_VENUE_URLS.${k}: not an http(s) URL`);
  }
  return obj;
}

/** SIGIL_URL: one gateway URL, or several separated by commas (the SDK's failover order). */
function gatewayUrls(env) {
  const urls = (env.SIGIL_URL || '').split(',').map((u) => u.trim());
  if (urls.some((u) => !/^https?:\/\/./.test(u))) {
    throw new Error('SIGIL_URL: the gateway URL (http[s]://…), or several separated by commas, is required');
  }
  return urls;
}

/** Reads and checks the whole configuration; throws an Error naming the variable. */
export function loadConfig(env = process.env) {
  const urls = gatewayUrls(env);
  if (!env.SIGIL_TOKEN) throw new Error('SIGIL_TOKEN: the gateway bearer token (sgl_…) is required');
  const measurement = env.SIGIL_MEASUREMENT || null;
  if (measurement !== null && !MEASUREMENT.test(measurement)) {
    throw new Error('SIGIL_MEASUREMENT: 96 lowercase hex digits (the enclave\'s PCR0) are required');
  }
  const keyFile = env.SIGIL_CLIENT_KEY_FILE || null;
  return {
    urls,
    token: env.SIGIL_TOKEN,
    clientKey: keyFile ? readJsonFile('SIGIL_CLIENT_KEY_FILE', keyFile) : null,
    root: root(env),
    measurement,
    timeoutMs: positiveInt(env, 'SIGIL_TIMEOUT_MS', 15000),
    venueUrls: venueUrls(env),
  };
}
