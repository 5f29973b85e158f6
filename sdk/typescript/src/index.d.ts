// Types of @sigil/sdk (hand-written; checked by `tsc --noEmit` in run-tests.sh).

export type Hex = string;
/** A 32-byte Ed25519 seed: 64 hex digits, bytes, or a `sigil keygen` file object. */
export type SeedLike = string | Uint8Array | { public_key?: string; secret_key: string };
/** 'aws' (the built-in AWS Nitro Enclaves Root-G1) or a dev root certificate (PEM or DER). */
export type RootLike = 'aws' | string | Uint8Array | { readonly raw: Uint8Array; readonly fingerprint256: string };

export interface Receipt {
  action: string; boot_id: Hex; decision: 'allow' | 'deny'; key_id: Hex; measurement: Hex;
  mode: 'dev' | 'nitro'; network: 'mainnet' | 'testnet'; output_hash?: Hex; policy_hash: Hex;
  prev: Hex; reason?: string; request_hash: Hex; seq: number; tenant: string; time: number;
  v: 1; venue: string; signature: Hex;
}

export interface KeyInfo {
  key_id: Hex; venue: string; network: 'mainnet' | 'testnet'; key_type: string; address?: string;
  policy_hash: Hex; policy_version: number; created_at: number;
  state: 'active' | 'disabled' | 'revoked';
  /** whether the key binds a client key; absent for keys imported before the gateway recorded it */
  client_key?: boolean | null;
}

/** The answer of an import or a credential rotation. */
export interface ImportResult {
  key_id: Hex; venue: string; network: string; key_type: string; address?: string; policy_hash: Hex;
  version: number; receipt: Receipt;
}

/** A venue request as docs/CLI.md describes it (CEX, Hyperliquid, Aster, EIP-712 …). */
export type VenueRequest = Record<string, unknown>;

export interface SignResult {
  key_id: Hex; action: string; signed: Record<string, unknown>; receipt: Receipt;
  /** the response body text (output_hash covers `signed` as it appears in it) */
  text: string;
  /** the `signed` member exactly as returned: its SHA-256 is the receipt's output_hash */
  signedText: string;
  idempotencyKey: string;
}

export interface SignOptions {
  clientKey?: SeedLike | null; timestamp?: number; nonce?: string; idempotencyKey?: string;
  retries?: number; timeoutMs?: number;
}

export interface Attestation {
  document: string; measurement: Hex; mode: 'dev' | 'nitro'; sealing_key: Hex; receipt_key: Hex;
  boot_id: Hex; nonce: Hex;
}

export interface AuditRecord {
  seq: number; time: number; tenant: string; key_id: Hex | null; op: string; action: string | null;
  decision: string; status: number; code: string | null; request_hash: Hex | null;
  output_hash: Hex | null; receipt: Receipt | null; prev: Hex; hash: Hex;
}

export interface ClientOptions {
  /** the gateway, or several gateways on one store (tried in order, failover; README "Several gateways") */
  url?: string | readonly string[];
  /** the same list as `url` (give one of the two) */
  urls?: readonly string[];
  token?: string;
  /** per attempt (default 10000) */
  timeoutMs?: number;
  /** extra attempts after every gateway was tried once (default 2) */
  retries?: number;
  /** backoff base: retryDelayMs · 2^(n-1) (default 200) */
  retryDelayMs?: number;
  /** how long a 409 "in progress" after a failover is polled (default 15000; every 250..1000 ms) */
  inProgressWaitMs?: number;
  clientKey?: SeedLike; fetch?: typeof fetch;
}

export interface RawResponse { status: number; headers: Headers; body: any; text: string }

export class SigilClient {
  constructor(opts: ClientOptions);
  /** the gateway requests go to first (the last one that answered) */
  readonly url: string;
  /** every gateway, in the order given */
  readonly urls: readonly string[];
  request(method: string, path: string, opts?: { body?: string; headers?: Record<string, string>;
    auth?: boolean; idempotent?: boolean; raw?: boolean; retries?: number; timeoutMs?: number }): Promise<RawResponse>;
  health(): Promise<{ status: string; mode: string }>;
  ready(): Promise<{ status: string; mode: string; boot_id: Hex; kms: unknown; receipt_seq: number; enclave_connections: number }>;
  metrics(): Promise<string>;
  getAttestation(nonce?: Uint8Array | Hex): Promise<Attestation>;
  getBootDocument(bootId: Hex): Promise<{ boot_id: Hex; document: string; measurement: Hex; created_at: number }>;
  listKeys(): Promise<KeyInfo[]>;
  importKey(sealed: Uint8Array | string, opts?: { idempotencyKey?: string }): Promise<ImportResult>;
  putCredentials(keyId: Hex, sealed: Uint8Array | string): Promise<ImportResult>;
  rewrapKey(keyId: Hex): Promise<{ key_id: Hex; policy_hash: Hex; version: number; receipt: Receipt }>;
  disableKey(keyId: Hex): Promise<{ key_id: Hex; state: 'disabled' }>;
  enableKey(keyId: Hex): Promise<{ key_id: Hex; state: 'active' }>;
  revokeKey(keyId: Hex, signature: Hex | { ownerKey: SeedLike; tenant: string }): Promise<{ key_id: Hex; state: 'revoked'; receipt: Receipt }>;
  updatePolicy(keyId: Hex, policy: object | string, policySignature: Hex): Promise<{ key_id: Hex; policy_hash: Hex; version: number; receipt: Receipt }>;
  deleteKey(keyId: Hex): Promise<void>;
  audit(opts?: { since?: number; limit?: number }): Promise<{ records: AuditRecord[]; next: number | null }>;
  sign(keyId: Hex, request: VenueRequest | string, opts?: SignOptions): Promise<SignResult>;
}

export function clientMessage(keyId: Hex, request: VenueRequest | string, timestamp: number, nonce: string): Uint8Array;
export function clientSignature(clientKey: SeedLike, keyId: Hex, request: VenueRequest | string,
  opts?: { timestamp?: number; nonce?: string }): { timestamp: number; nonce: string; signature: Hex };

export class SigilError extends Error {
  constructor(code: string, message: string, extra?: { status?: number; receipt?: Receipt; retryAfter?: number; cause?: unknown });
  code: string; status: number | null; receipt: Receipt | null; retryAfter: number | null;
}
export class BadRequestError extends SigilError {}
export class UnauthorizedError extends SigilError {}
export class ForbiddenError extends SigilError {}
export class BadSignatureError extends ForbiddenError {}
export class NotFoundError extends SigilError {}
export class ConflictError extends SigilError {}
export class RevokedError extends SigilError {}
export class TooLargeError extends SigilError {}
export class DeniedError extends SigilError {}
export class PolicyDeniedError extends DeniedError {}
export class StaleRequestError extends DeniedError {}
export class RateLimitedError extends SigilError {}
export class InternalError extends SigilError {}
export class ProtocolError extends SigilError {}
export class UnavailableError extends SigilError {}
export class TimeoutError extends SigilError {}
export class AttestationError extends SigilError { constructor(message: string, extra?: object) }
export class ReceiptError extends SigilError {}
export function errorClass(code: string, status: number): typeof SigilError;

export interface BootBinding { bootId: Hex; sealingKey: Uint8Array; receiptKey: Uint8Array }
export interface VerifiedAttestation extends BootBinding {
  timestamp: number; moduleId: string; pcrs: Map<number, Uint8Array>; nonce: Uint8Array | null; measurement: Hex;
}
export function verifyAttestation(document: Uint8Array | string, opts: { root: RootLike; measurement: Hex;
  nonce?: Uint8Array | Hex; time?: number; atDocumentTime?: boolean; allowDebug?: boolean }): VerifiedAttestation;
export function decodeBootBinding(userData: Uint8Array): BootBinding;
export function rootCertificate(root: RootLike): { readonly raw: Uint8Array; readonly fingerprint256: string };

export interface ReceiptCheck { ok: true; boot_id: Hex; seq: number; decision: string; action: string; key_id: Hex; hash: Hex }
export function verifyReceipt(receipt: Receipt | string | Uint8Array | { receipt: Receipt }, opts: {
  root: RootLike; measurement: Hex; document?: Uint8Array | string; client?: SigilClient; prev?: Receipt | Hex | string;
}): Promise<ReceiptCheck>;
export function parseReceipt(receipt: Receipt | string | Uint8Array | { receipt: Receipt }): Receipt;
export function receiptHash(receipt: Receipt | string): Hex;
export function receiptCanonical(receipt: Receipt): Uint8Array;

export interface Policy { version: number; tenant: string; venue: string; network: string; [k: string]: unknown }
export function policyMessage(policy: Policy, tenant: string, keyId: Hex): Uint8Array;
export function signPolicy(policy: Policy, ownerKey: SeedLike, keyId: Hex, tenant?: string): Hex;
/** Either credentials, or generate: true (the enclave makes the key: hyperliquid, aster, eip712, eip191, dydx). */
export type CredentialsOrGenerate = { credentials: object; generate?: false } | { credentials?: undefined; generate: true };
export function provisioningPayload(opts: { tenant: string; keyId: Hex; venue: string; network: string;
  ownerKey: SeedLike; clientPubkey?: Hex | null; policy: Policy } & CredentialsOrGenerate): string;
export function attest(client: SigilClient, opts: { root: RootLike; measurement: Hex; time?: number }): Promise<VerifiedAttestation>;
export type ProvisionOptions = { venue: string; network: 'mainnet' | 'testnet'; policy: Policy; ownerKey: SeedLike;
  clientPubkey?: Hex | null; root: RootLike; measurement: Hex } & CredentialsOrGenerate;
export function provision(client: SigilClient, opts: ProvisionOptions & { keyId?: Hex }): Promise<ImportResult>;
/** PUT /v1/keys/{key_id}/credentials: same venue, network and owner; policy version above the key's. */
export function rotateCredentials(client: SigilClient, keyId: Hex, opts: ProvisionOptions): Promise<ImportResult>;
export function revocationMessage(tenant: string, keyId: Hex): Uint8Array;
export function signRevocation(ownerKey: SeedLike, tenant: string, keyId: Hex): Hex;
export function sealedBox(message: Uint8Array, recipient: Uint8Array): Uint8Array;
export function canonicalize(value: unknown): string;
export function ed25519PublicKey(seed: Uint8Array): Uint8Array;

export interface WrapOptions {
  keyId: Hex;
  /** aster: the `user` of the signed parameters (default: the key's address, as ccxt with the key would) */
  user?: string;
  /** called with every Sigil answer (signed request and receipt) */
  onSigned?: (result: SignResult) => void;
  sign?: SignOptions;
}
export interface VenueAdapter { sigilVenue: string; wallet: boolean }
export const VENUE_ADAPTERS: Record<string, VenueAdapter>;
/** Makes a ccxt exchange instance sign its private requests through Sigil; resolves to the same instance. */
export function sigilWrap<T extends object>(exchange: T, client: SigilClient, opts: WrapOptions): Promise<T>;
