/*
 * Fuzz target for receipts and full RFC 8785 numbers: the strict receipt
 * parser (a parsed receipt re-serialises, and its wire form parses back to
 * the same receipt and hash), the verifier under a fixed key, and
 * sigil_json_canonicalize_any (atomic on failure, a fixed point, equal to the
 * integer canonicaliser wherever that one accepts). Properties are checked
 * with abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/policy.h"
#include "sigil/receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The public key of seed 0x42 x 32 (the unit tests' key): seeds signed with
 * it verify, so the verifier's success path is reached too. */
static const uint8_t TEST_PK[32] = {
    0x21, 0x52, 0xf8, 0xd1, 0x9b, 0x79, 0x1d, 0x24, 0x45, 0x32, 0x42, 0xe1, 0x5f, 0x2e, 0xab, 0x6c,
    0xb7, 0xcf, 0xfa, 0x7b, 0x6a, 0x5e, 0xd3, 0x00, 0x97, 0x96, 0x0e, 0x06, 0x98, 0x81, 0xdb, 0x12};

static uint8_t g_once[2 * SIGIL_CANON_MAX_BYTES];
static uint8_t g_twice[2 * SIGIL_CANON_MAX_BYTES];
static uint8_t g_int[2 * SIGIL_CANON_MAX_BYTES];

static void check_canonical_any(const char *text, size_t len)
{
    sigil_buf a, b, i;
    sigil_buf_init(&a, g_once, sizeof(g_once));
    int rc = sigil_json_canonicalize_any(&a, text, len);
    sigil_buf_init(&i, g_int, sizeof(g_int));
    int rc_int = sigil_json_canonicalize(&i, text, len);
    if (rc != 0) {
        if (a.len != 0 || rc_int == 0)
            abort(); /* atomic; and nothing the integer form takes is refused here */
        return;
    }
    if (rc_int == 0 && (i.len != a.len || memcmp(g_int, g_once, a.len) != 0))
        abort();
    sigil_buf_init(&b, g_twice, sizeof(g_twice));
    if (sigil_json_canonicalize_any(&b, (const char *)g_once, a.len) != 0 || b.len != a.len ||
        memcmp(g_once, g_twice, a.len) != 0)
        abort();
}

/* A parsed receipt survives canonical -> wire -> parse unchanged. */
static void check_receipt_round_trip(const sigil_receipt *r, const uint8_t hash[32])
{
    static uint8_t canon[SIGIL_RECEIPT_MAX_BYTES], wire[SIGIL_RECEIPT_MAX_BYTES];
    static const uint8_t SIG[64];
    sigil_receipt again;
    uint8_t h[32];
    sigil_buf c, w;
    sigil_buf_init(&c, canon, sizeof(canon));
    sigil_buf_init(&w, wire, sizeof(wire));
    if (sigil_receipt_canonical(&c, r) != 0 || sigil_receipt_wire(&w, c.data, c.len, SIG) != 0)
        abort();
    if (sigil_receipt_parse(&again, h, (const char *)w.data, w.len) != 0 ||
        memcmp(&again, r, sizeof(again)) != 0 || memcmp(h, hash, 32) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sigil_receipt r, v;
    uint8_t hash[32], vhash[32];
    const char *text = (const char *)data;
    check_canonical_any(text, size);
    if (sigil_receipt_parse(&r, hash, text, size) != 0)
        return 0;
    check_receipt_round_trip(&r, hash);
    if (sigil_receipt_verify(&v, vhash, text, size, TEST_PK) == 0 &&
        (memcmp(&v, &r, sizeof(v)) != 0 || memcmp(vhash, hash, 32) != 0))
        abort();
    return 0;
}
