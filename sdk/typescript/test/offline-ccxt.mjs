// Preloaded (--import) by readme.test.js for the README's ccxt example: ccxt
// sends nothing; every request is appended to $SIGIL_CAPTURE and answered {}.
import { appendFileSync } from 'node:fs';
import ccxt from 'ccxt';

ccxt.Exchange.prototype.fetch = async function capture(url, method, headers, body) {
  appendFileSync(process.env.SIGIL_CAPTURE, `${JSON.stringify({ url, method, headers, body })}\n`);
  return {};
};
