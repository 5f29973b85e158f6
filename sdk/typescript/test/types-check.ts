// Compiled by `tsc --noEmit` only: the published types accept the documented usage.
import { SigilClient, verifyReceipt, sigilWrap, PolicyDeniedError, provision, rotateCredentials, signRevocation,
  type SignResult } from '@sigil/sdk';

async function usage(): Promise<void> {
  const client = new SigilClient({ url: 'http://127.0.0.1:1', token: 'sgl_x', timeoutMs: 1000, retries: 1, clientKey: '00'.repeat(32) });
  const keys = await client.listKeys();
  const res: SignResult = await client.sign(keys[0].key_id, { method: 'GET', path: '/api/v3/account', timestamp: 1 }, { clientKey: null });
  const att = await client.getAttestation();
  const ok = await verifyReceipt(res.receipt, { root: 'aws', measurement: att.measurement, client });
  const seq: number = ok.seq;
  const ex = await sigilWrap({ id: 'binance' }, client, { keyId: keys[0].key_id });
  const pair = new SigilClient({ url: ['http://10.0.0.1:8443', 'http://10.0.0.2:8443'], token: 'sgl_x', inProgressWaitMs: 6000 });
  const first: string = pair.url;
  const all: readonly string[] = pair.urls;
  const signedText: string = res.signedText;
  const common = { network: 'mainnet' as const, ownerKey: '00'.repeat(32), root: 'aws' as const, measurement: att.measurement,
    policy: { version: 1, tenant: 't', venue: 'hyperliquid', network: 'mainnet' } };
  const made = await provision(client, { ...common, venue: 'hyperliquid', generate: true });
  const address: string | undefined = made.address;
  await rotateCredentials(client, made.key_id, { ...common, venue: 'hyperliquid', credentials: { private_key: '0x11' } });
  const state: 'active' | 'disabled' | 'revoked' = keys[0].state;
  await client.disableKey(made.key_id);
  await client.enableKey(made.key_id);
  await client.rewrapKey(made.key_id);
  await client.revokeKey(made.key_id, signRevocation('00'.repeat(32), 't', made.key_id));
  const revoked = await client.revokeKey(made.key_id, { ownerKey: '00'.repeat(32), tenant: 't' });
  const receiptSeq: number = revoked.receipt.seq;
  void ex; void seq; void first; void all; void signedText; void address; void state; void receiptSeq;
  try { await client.deleteKey('x'); } catch (e) { if (e instanceof PolicyDeniedError) console.log(e.code, e.receipt?.seq); }
}
void usage;
