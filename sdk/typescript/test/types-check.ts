// Compiled by `tsc --noEmit` only: the published types accept the documented usage.
import { SigilClient, verifyReceipt, sigilWrap, PolicyDeniedError, type SignResult } from '@sigil/sdk';

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
  void ex; void seq; void first; void all; void signedText;
  try { await client.deleteKey('x'); } catch (e) { if (e instanceof PolicyDeniedError) console.log(e.code, e.receipt?.seq); }
}
void usage;
