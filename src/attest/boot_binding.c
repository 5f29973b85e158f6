/*
 * Sigil's boot binding, carried in the user_data of each boot's attestation
 * document: which boot, its sealing (X25519) and receipt (Ed25519) public
 * keys. libsigil-core; only public keys. The decoder accepts exactly the
 * encoding the encoder writes (fixed key order, exact lengths) so one binding
 * has one byte form.
 */
#include <string.h>

#include "attest/attest_internal.h"
#include "sigil/cbor.h"

#define BOOT_BINDING_TAG "boot-v1"

int sigil_boot_binding_encode(sigil_buf *b, const sigil_boot_binding *bb)
{
    size_t mark = b->len;
    if (sigil_cbor_put_map(b, 4) != 0 || sigil_cbor_put_cstr(b, "sigil") != 0 ||
        sigil_cbor_put_cstr(b, BOOT_BINDING_TAG) != 0 || sigil_cbor_put_cstr(b, "boot_id") != 0 ||
        sigil_cbor_put_bytes(b, bb->boot_id, sizeof(bb->boot_id)) != 0 ||
        sigil_cbor_put_cstr(b, "sealing_key") != 0 ||
        sigil_cbor_put_bytes(b, bb->sealing_key, sizeof(bb->sealing_key)) != 0 ||
        sigil_cbor_put_cstr(b, "receipt_key") != 0 ||
        sigil_cbor_put_bytes(b, bb->receipt_key, sizeof(bb->receipt_key)) != 0) {
        b->len = mark;
        return -1;
    }
    return 0;
}

static int expect_key(sigil_cursor *c, const char *key)
{
    const char *p;
    size_t n;
    GUARD(sigil_cbor_get_text(c, &p, &n, "boot binding key"));
    ENSURE(sigil_cbor_text_eq(p, n, key), SIGIL_E_ATTESTATION,
           "boot binding: expected key \"%s\" here", key);
    return 0;
}

static int get_fixed(sigil_cursor *c, uint8_t *out, size_t want, const char *key)
{
    const uint8_t *p;
    size_t n;
    GUARD(expect_key(c, key));
    GUARD(sigil_cbor_get_bytes(c, &p, &n, key));
    ENSURE(n == want, SIGIL_E_ATTESTATION, "boot binding: %s is %zu bytes, expected %zu", key, n,
           want);
    memcpy(out, p, want);
    return 0;
}

static int decode(sigil_boot_binding *bb, const uint8_t *p, size_t len)
{
    sigil_cursor c;
    size_t n;
    const char *tag;
    size_t tag_len;
    sigil_cursor_init(&c, p, len);
    GUARD(sigil_cbor_get_map(&c, &n, "boot binding"));
    ENSURE(n == 4, SIGIL_E_ATTESTATION, "boot binding: expected 4 entries, has %zu", n);
    GUARD(expect_key(&c, "sigil"));
    GUARD(sigil_cbor_get_text(&c, &tag, &tag_len, "sigil"));
    ENSURE(sigil_cbor_text_eq(tag, tag_len, BOOT_BINDING_TAG), SIGIL_E_ATTESTATION,
           "boot binding: sigil is not \"" BOOT_BINDING_TAG "\"");
    GUARD(get_fixed(&c, bb->boot_id, sizeof(bb->boot_id), "boot_id"));
    GUARD(get_fixed(&c, bb->sealing_key, sizeof(bb->sealing_key), "sealing_key"));
    GUARD(get_fixed(&c, bb->receipt_key, sizeof(bb->receipt_key), "receipt_key"));
    ENSURE(sigil_cursor_remaining(&c) == 0, SIGIL_E_ATTESTATION, "boot binding: trailing bytes");
    return 0;
}

int sigil_boot_binding_decode(sigil_boot_binding *bb, const uint8_t *p, size_t len)
{
    sigil_boot_binding tmp;
    ENSURE(p != NULL, SIGIL_E_ATTESTATION, "boot binding: user_data is null");
    if (decode(&tmp, p, len) != 0) {
        if (sigil_errno() == SIGIL_E_ATTESTATION)
            return -1;
        return attest_recode(SIGIL_E_ATTESTATION, "boot binding");
    }
    *bb = tmp;
    return 0;
}
