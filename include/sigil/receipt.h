/*
 * Receipts (libsigil-core; building and verifying, no secrets: the enclave
 * signs with its per-boot Ed25519 receipt key). DESIGN.md §3, docs/RECEIPTS.md.
 *
 * A receipt is RFC 8785 canonical JSON with the members
 *   action, boot_id, decision, key_id, measurement, mode, network,
 *   output_hash (allow) | reason (deny), policy_hash, prev, request_hash,
 *   seq, tenant, time, v, venue
 * (hex: boot_id 32, measurement 96, hashes 64 digits; seq from 1 per boot;
 * prev = SHA-256 of the previous receipt's canonical bytes of the same boot,
 * 64 zeros for seq 1; time in enclave ms; v = 1), signed Ed25519 over
 * "sigil-receipt-v1" 0x00 || canonical. On the wire it is the canonical
 * object with one more member, "signature" (128 hex), inserted before the
 * closing brace (so the wire text is not itself canonical; verification
 * removes the member and re-canonicalises).
 */
#ifndef SIGIL_RECEIPT_H
#define SIGIL_RECEIPT_H

#include <stdbool.h>

#include "sigil/common.h"

#define SIGIL_RECEIPT_SIG_PREFIX "sigil-receipt-v1"
#define SIGIL_RECEIPT_SIG_PREFIX_LEN sizeof(SIGIL_RECEIPT_SIG_PREFIX) /* 17, with the NUL */
#define SIGIL_RECEIPT_MAX_BYTES 4096
#define SIGIL_RECEIPT_REASON_MAX 512

typedef struct {
    uint8_t boot_id[16];
    uint64_t seq;
    uint8_t prev[32];
    uint8_t measurement[48];
    char mode[8]; /* "dev" | "nitro" */
    uint64_t time_ms;
    char tenant[65];
    char key_id[65];
    char venue[33];
    char network[8];
    char action[24]; /* a policy action name, or "import" / "policy_update" / "rotate" / "rewrap" /
                      * "revoke" */
    uint8_t request_hash[32];
    uint8_t policy_hash[32];
    bool allow;
    uint8_t output_hash[32];                   /* allow */
    char reason[SIGIL_RECEIPT_REASON_MAX + 1]; /* deny: "<code>: <message>" */
} sigil_receipt;

/* The canonical bytes (without the signature). Validates every field
 * (lengths, character sets; reason is UTF-8 text, control characters
 * escaped by JCS). */
SIGIL_WARN_UNUSED_RESULT int sigil_receipt_canonical(sigil_buf *out, const sigil_receipt *r);
/* The signed message: prefix || canonical. */
SIGIL_WARN_UNUSED_RESULT int sigil_receipt_message(sigil_buf *out, const uint8_t *canonical,
                                                   size_t len);
/* Writes the wire form: canonical with ,"signature":"<hex>" before the final '}'. */
SIGIL_WARN_UNUSED_RESULT int sigil_receipt_wire(sigil_buf *out, const uint8_t *canonical,
                                                size_t len, const uint8_t sig[64]);

/* Parses a wire receipt strictly (exactly the members above, types and
 * formats checked, no duplicates), re-canonicalises it without "signature"
 * and verifies the signature with receipt_key. Fills r and hash (SHA-256 of
 * the canonical bytes: what the next receipt's prev must be).
 * SIGIL_E_BAD_SIGNATURE on a bad signature; field codes on malformed input. */
SIGIL_WARN_UNUSED_RESULT int sigil_receipt_verify(sigil_receipt *r, uint8_t hash[32],
                                                  const char *json, size_t len,
                                                  const uint8_t receipt_key[32]);
/* Parses without verifying (to find the boot and key to verify with). */
SIGIL_WARN_UNUSED_RESULT int sigil_receipt_parse(sigil_receipt *r, uint8_t hash[32],
                                                 const char *json, size_t len);

#endif
