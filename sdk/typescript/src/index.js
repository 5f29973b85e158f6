// @sigil/sdk: the package's entry point.
export { SigilClient, clientMessage, clientSignature } from './client.js';
export * from './errors.js';
export { verifyAttestation, decodeBootBinding, rootCertificate } from './attestation.js';
export { verifyReceipt, parseReceipt, receiptHash, receiptCanonical } from './receipt.js';
export {
  provision, provisioningPayload, signPolicy, policyMessage, attest, rotateCredentials, revocationMessage, signRevocation,
} from './provision.js';
export { sealedBox } from './sealedbox.js';
export { canonicalize } from './jcs.js';
export { ed25519PublicKey } from './keys.js';
export { sigilWrap, VENUE_ADAPTERS } from './ccxt.js';
