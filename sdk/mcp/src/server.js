#!/usr/bin/env node
// sigil-mcp: a stdio MCP server in front of a Sigil gateway (README.md).
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { loadConfig } from './config.js';
import { Sigil } from './sigil.js';
import { registerTools } from './tools.js';

// one line per tool call on stderr: the tool and its outcome code, never arguments or results
const log = (line) => process.stderr.write(`sigil-mcp: ${line}\n`);

let config;
try {
  config = loadConfig();
} catch (e) {
  log(`configuration: ${e.message}`);
  process.exit(2);
}

const server = new McpServer({ name: 'sigil', version: '0.1.0' }, {
  instructions: 'Sigil signs exchange requests with credentials sealed in an attested enclave. '
    + 'Use list_keys to find a key, place_order/cancel_order or sign_request to get signed requests '
    + '(sent to the venue only with send: true), and get_attestation/verify_receipt to check the enclave and its receipts.',
});
registerTools(server, new Sigil(config), log);
await server.connect(new StdioServerTransport());
