// The MCP tools: name → description, input schema (zod, strict) and handler.
import { z } from 'zod';
import { buildRequest, SUPPORTED } from './orders.js';
import { baseUrl, endpointId, send } from './venues.js';
import { failure, ok, redact } from './results.js';

const keyId = z.string().regex(/^[0-9a-f]{32}$/).describe('the Sigil key id (32 lowercase hex digits; see list_keys)');
const decimal = (what) => z.string().regex(/^(?=.{1,64}$)(0|[1-9][0-9]*)(\.[0-9]+)?$/).refine((s) => /[1-9]/.test(s), 'must be above zero')
  .describe(`${what}: a plain decimal string, e.g. "0.01" (no exponent, no sign)`);
const receiptSchema = z.union([z.record(z.string(), z.unknown()), z.string()]);
const idempotency = z.string().regex(/^[\x21-\x7e]{1,128}$/).optional()
  .describe('Idempotency-Key: a retry with the same key and request returns the first answer instead of signing twice');

const common = {
  key_id: keyId,
  market: z.enum(['spot', 'usdm', 'linear', 'inverse']).optional()
    .describe('binance: spot (default) or usdm (USD-M futures); bybit: linear (default), spot or inverse; other venues: omit'),
  symbol: z.string().regex(/^[A-Za-z0-9_\-/.:]{1,64}$/)
    .describe('the venue\'s own instrument name: binance/bybit/aster BTCUSDT, okx BTC-USDT (spot) or BTC-USDT-SWAP, '
      + 'kucoinfutures XBTUSDTM, hyperliquid the asset index in decimal ("0" = BTC)'),
  vault_address: z.string().regex(/^0x[0-9a-fA-F]{40}$/).optional().describe('hyperliquid only: trade for this vault (the key\'s policy must list it)'),
  send: z.boolean().default(false)
    .describe('false (default): only return the signed request; true: also send it to the venue and return the venue\'s answer'),
};

const placeSchema = z.object({
  ...common,
  side: z.enum(['buy', 'sell']),
  type: z.enum(['limit', 'market']),
  quantity: decimal('quantity in the venue\'s units (base asset; okx swaps: contracts; kucoinfutures: lots)'),
  price: decimal('limit price (required for limit orders and for every hyperliquid order)').optional(),
  time_in_force: z.enum(['GTC', 'IOC', 'FOK', 'POST_ONLY']).optional().describe('limit orders only; default GTC'),
  reduce_only: z.boolean().optional(),
  client_order_id: z.string().regex(/^[A-Za-z0-9_\-]{1,36}$|^0x[0-9a-f]{32}$/).optional()
    .describe('your order id (hyperliquid: a cloid, 0x + 32 hex)'),
  margin_mode: z.enum(['cash', 'cross', 'isolated']).optional().describe('okx only: tdMode (default: cash for spot, cross otherwise)'),
  leverage: z.number().int().min(1).max(125).optional().describe('kucoinfutures only: the order\'s leverage (default 1)'),
}).strict();

const cancelSchema = z.object({
  ...common,
  order_id: z.string().regex(/^[A-Za-z0-9_\-]{1,64}$/).optional().describe('the venue\'s order id'),
  client_order_id: z.string().regex(/^[A-Za-z0-9_\-]{1,36}$|^0x[0-9a-f]{32}$/).optional()
    .describe('or your client order id (exactly one of the two)'),
}).strict();

/** The result of a signing call: the request, what Sigil signed, its receipt and its check. */
async function signed(sigil, keyIdValue, request, idempotencyKey, keyInfo) {
  const res = await sigil.sign(keyIdValue, request, idempotencyKey, keyInfo);
  const check = await sigil.checkReceipt(res.receipt);
  return { res, out: { key_id: res.key_id, action: res.action, request, signed: redact(res.signed),
    receipt: res.receipt, receipt_check: check ?? 'not configured (SIGIL_ROOT, SIGIL_MEASUREMENT)' } };
}

async function orderTool(sigil, kind, args) {
  const key = await sigil.key(args.key_id);
  const { market, request } = buildRequest(kind, key.venue, args);
  const { res, out } = await signed(sigil, args.key_id, request, undefined, key).catch((e) => {
    throw Object.assign(e, { request }); // a denial names the request it refused
  });
  const result = { venue: key.venue, network: key.network, ...(market ? { market } : {}), sent: false, ...out };
  if (args.send) {
    const base = baseUrl(endpointId(key.venue, market), key.network, sigil.config.venueUrls);
    try {
      result.venue_response = await send(key.venue, res, base, sigil.config.timeoutMs);
    } catch (e) {
      // signed (the receipt says so) but maybe not delivered: the caller must know both
      const why = `${e?.cause?.code ?? e?.name ?? 'error'}: ${e?.message}`;
      throw Object.assign(new Error(`sending to ${base} failed (${why}); the request was signed, `
        + 'the venue may or may not have received it'), { code: 'venue_unreachable', receipt: res.receipt });
    }
    result.sent = true;
  }
  return result;
}

export const TOOLS = {
  list_keys: {
    title: 'List signing keys',
    annotations: { readOnlyHint: true, openWorldHint: false },
    description: 'Lists the Sigil keys this token may use: key_id, venue, network, key_type, address (wallet '
      + 'venues), policy hash and version. No secrets: the credentials stay inside the enclave.',
    schema: z.object({}).strict(),
    run: async (sigil) => ({ keys: await sigil.listKeys() }),
  },
  sign_request: {
    title: 'Sign a venue request',
    annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
    description: 'Signs one venue request with a sealed key (POST /v1/sign). `request` is the venue request of '
      + 'docs/CLI.md, e.g. binance '
      + '{"method":"GET","path":"/api/v3/account","query":"timestamp=1767225600000","timestamp":1767225600000}, '
      + 'hyperliquid {"action":{…},"nonce":1767225600000}. Returns the signed request (exactly what to '
      + 'send: method, path, query, body, headers; passphrase headers redacted), the classified action '
      + 'and the enclave\'s signed receipt. Nothing is sent to the venue. A policy denial is an error '
      + 'carrying the reason and the receipt.',
    schema: z.object({ key_id: keyId, request: z.record(z.string(), z.unknown()).describe('the venue request object (docs/CLI.md)'),
      idempotency_key: idempotency }).strict(),
    run: async (sigil, a) => (await signed(sigil, a.key_id, a.request, a.idempotency_key)).out,
  },
  place_order: {
    title: 'Place an order (signed; sent only with send: true)',
    annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
    description: `Builds an order request for the key's venue (${SUPPORTED.join(', ')}) from simple arguments, `
      + `has Sigil sign it under the key's policy, and returns the venue request, the signed request and `
      + `the receipt. Nothing reaches the venue unless send is true; then the venue's answer is returned `
      + `too. Quantities are in the venue's own units. A policy denial (symbol, side, max quantity or `
      + `notional, limits …) is an error carrying the reason and the receipt.`,
    schema: placeSchema,
    run: (sigil, a) => orderTool(sigil, 'order', a),
  },
  cancel_order: {
    title: 'Cancel an order (signed; sent only with send: true)',
    annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
    description: `Builds a cancel request for one order (by order_id or client_order_id) on the key's venue `
      + `(${SUPPORTED.join(', ')}), has Sigil sign it, and returns the signed request and receipt; sends `
      + `it only when send is true.`,
    schema: cancelSchema,
    run: (sigil, a) => orderTool(sigil, 'cancel', a),
  },
  get_attestation: {
    title: 'Get and verify the enclave attestation',
    annotations: { readOnlyHint: true, openWorldHint: false },
    description: 'Fetches the enclave\'s attestation document for a nonce (random when omitted) and verifies it '
      + 'here: certificate chain to the configured root (AWS Nitro or a dev root), ES384 signature, PCR0 '
      + 'equal to the pinned measurement, the nonce, freshness, and the boot binding of the receipt and '
      + 'sealing keys. Fails unless every check passes.',
    schema: z.object({ nonce: z.string().regex(/^([0-9a-f]{2}){1,64}$/).optional()
      .describe('1..64 bytes as lowercase hex; default 32 random bytes') }).strict(),
    run: (sigil, a) => sigil.attestation(a.nonce),
  },
  verify_receipt: {
    title: 'Verify a Sigil receipt',
    annotations: { readOnlyHint: true, openWorldHint: false },
    description: 'Verifies a receipt offline-style: the boot\'s archived attestation document (chain to the '
      + 'configured root, pinned measurement), the receipt key it binds, the Ed25519 signature over the '
      + 'canonical receipt, and optionally the chain link to the previous receipt of the boot. Returns '
      + '{ok, boot_id, seq, decision, action, key_id, hash}.',
    schema: z.object({ receipt: receiptSchema.describe('the receipt object (or its JSON text) as a tool or the API returned it'),
      prev: z.union([z.string().regex(/^[0-9a-f]{64}$/), z.record(z.string(), z.unknown())]).optional()
        .describe('the previous receipt of the same boot, or its hash (64 hex): checks the `prev` link') }).strict(),
    run: (sigil, a) => sigil.verifyReceipt(a.receipt, a.prev),
  },
};

/** Registers every tool on an McpServer; handler errors become readable isError results. */
export function registerTools(server, sigil, log) {
  for (const [name, t] of Object.entries(TOOLS)) {
    const meta = { title: t.title, description: t.description, inputSchema: t.schema, annotations: t.annotations };
    server.registerTool(name, meta, async (args) => {
      try {
        const data = await t.run(sigil, args);
        log(`${name}: ok`);
        return ok(data);
      } catch (e) {
        log(`${name}: ${e?.code ?? 'error'}`);
        return failure(e);
      }
    });
  }
}
