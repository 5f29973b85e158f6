/*
 * NSM messages, client side: request encoders and reply decoders in the
 * serde_cbor externally tagged encoding of nsm-api (nitro.md §1.3).
 * libsigil-core. Replies are untrusted (the host relays them in dev mode):
 * every decoder checks the variant, every field and the absence of trailing
 * bytes.
 */
#include <stdio.h>
#include <string.h>

#include "attest/attest_internal.h"
#include "sigil/cbor.h"

int attest_recode(sigil_err code, const char *prefix)
{
    char msg[256];
    snprintf(msg, sizeof(msg), "%s", sigil_errmsg());
    return sigil_fail(code, "%s: %s", prefix, msg);
}

int attest_check_module_id(const char *m, size_t *len, sigil_err code, const char *where)
{
    size_t n = 0;
    ENSURE(m != NULL, code, "%s: module_id is required", where);
    for (; n < 128 && m[n] != '\0'; n++)
        ENSURE(m[n] > 0x20 && m[n] < 0x7f, code,
               "%s: module_id must be printable ASCII without spaces", where);
    ENSURE(n > 0 && n < 128, code, "%s: module_id must be 1..127 characters", where);
    *len = n;
    return 0;
}

/* ---- requests ---- */

/* {"<variant>": {<nfields>...}}: the caller writes the fields. */
static int put_struct_variant(sigil_buf *b, const char *variant, size_t nfields)
{
    GUARD(sigil_cbor_put_map(b, 1));
    GUARD(sigil_cbor_put_cstr(b, variant));
    return sigil_cbor_put_map(b, nfields);
}

static int encode_checked(sigil_buf *b, size_t mark, int rc)
{
    if (rc != 0) {
        b->len = mark;
        return -1;
    }
    if (b->len - mark > SIGIL_NSM_REQUEST_MAX) {
        b->len = mark;
        BAIL(SIGIL_E_TOO_LARGE, "nsm request: over %u bytes", SIGIL_NSM_REQUEST_MAX);
    }
    return 0;
}

static int put_attestation(sigil_buf *b, const uint8_t *ud, size_t ud_len, const uint8_t *nonce,
                           size_t nonce_len, const uint8_t *pk, size_t pk_len)
{
    GUARD(put_struct_variant(b, "Attestation", 3));
    GUARD(sigil_cbor_put_cstr(b, "user_data"));
    GUARD(sigil_cbor_put_bytes_or_null(b, ud, ud_len));
    GUARD(sigil_cbor_put_cstr(b, "nonce"));
    GUARD(sigil_cbor_put_bytes_or_null(b, nonce, nonce_len));
    GUARD(sigil_cbor_put_cstr(b, "public_key"));
    return sigil_cbor_put_bytes_or_null(b, pk, pk_len);
}

int sigil_nsm_encode_attestation(sigil_buf *b, const uint8_t *user_data, size_t ud_len,
                                 const uint8_t *nonce, size_t nonce_len, const uint8_t *public_key,
                                 size_t pk_len)
{
    ENSURE((user_data == NULL || ud_len <= SIGIL_ATTEST_FIELD_MAX) &&
               (nonce == NULL || nonce_len <= SIGIL_ATTEST_FIELD_MAX) &&
               (public_key == NULL || pk_len <= SIGIL_ATTEST_FIELD_MAX),
           SIGIL_E_TOO_LARGE,
           "nsm attestation: user_data, nonce and public_key are limited to %u "
           "bytes each",
           SIGIL_ATTEST_FIELD_MAX);
    size_t mark = b->len;
    return encode_checked(
        b, mark, put_attestation(b, user_data, ud_len, nonce, nonce_len, public_key, pk_len));
}

static int put_index_variant(sigil_buf *b, const char *variant, const char *field, unsigned v)
{
    GUARD(put_struct_variant(b, variant, 1));
    GUARD(sigil_cbor_put_cstr(b, field));
    return sigil_cbor_put_uint(b, v);
}

int sigil_nsm_encode_describe_pcr(sigil_buf *b, unsigned index)
{
    size_t mark = b->len;
    return encode_checked(b, mark, put_index_variant(b, "DescribePCR", "index", index));
}

int sigil_nsm_encode_lock_pcr(sigil_buf *b, unsigned index)
{
    size_t mark = b->len;
    return encode_checked(b, mark, put_index_variant(b, "LockPCR", "index", index));
}

int sigil_nsm_encode_lock_pcrs(sigil_buf *b, unsigned range)
{
    size_t mark = b->len;
    return encode_checked(b, mark, put_index_variant(b, "LockPCRs", "range", range));
}

static int put_extend(sigil_buf *b, unsigned index, const uint8_t *data, size_t len)
{
    GUARD(put_struct_variant(b, "ExtendPCR", 2));
    GUARD(sigil_cbor_put_cstr(b, "index"));
    GUARD(sigil_cbor_put_uint(b, index));
    GUARD(sigil_cbor_put_cstr(b, "data"));
    return sigil_cbor_put_bytes(b, data, len);
}

int sigil_nsm_encode_extend_pcr(sigil_buf *b, unsigned index, const uint8_t *data, size_t len)
{
    size_t mark = b->len;
    ENSURE(data != NULL || len == 0, SIGIL_E_INTERNAL, "nsm extend: data is NULL");
    return encode_checked(b, mark,
                          put_extend(b, index, data == NULL ? (const uint8_t *)"" : data, len));
}

int sigil_nsm_encode_get_random(sigil_buf *b)
{
    size_t mark = b->len;
    return encode_checked(b, mark, sigil_cbor_put_cstr(b, "GetRandom"));
}

int sigil_nsm_encode_describe_nsm(sigil_buf *b)
{
    size_t mark = b->len;
    return encode_checked(b, mark, sigil_cbor_put_cstr(b, "DescribeNSM"));
}

/* ---- replies ---- */

static const char *const NSM_ERROR_NAMES[SIGIL_NSM_ERROR_COUNT_] = {
    [SIGIL_NSM_SUCCESS] = "Success",
    [SIGIL_NSM_INVALID_ARGUMENT] = "InvalidArgument",
    [SIGIL_NSM_INVALID_INDEX] = "InvalidIndex",
    [SIGIL_NSM_INVALID_RESPONSE] = "InvalidResponse",
    [SIGIL_NSM_READ_ONLY_INDEX] = "ReadOnlyIndex",
    [SIGIL_NSM_INVALID_OPERATION] = "InvalidOperation",
    [SIGIL_NSM_BUFFER_TOO_SMALL] = "BufferTooSmall",
    [SIGIL_NSM_INPUT_TOO_LARGE] = "InputTooLarge",
    [SIGIL_NSM_INTERNAL_ERROR] = "InternalError",
};

const char *sigil_nsm_error_name(sigil_nsm_error e)
{
    if ((unsigned)e >= SIGIL_NSM_ERROR_COUNT_)
        return NSM_ERROR_NAMES[SIGIL_NSM_INTERNAL_ERROR];
    return NSM_ERROR_NAMES[e];
}

/* An {"Error": "<code>"} reply: SIGIL_E_ATTESTATION naming a known code
 * (an unknown code is not echoed: the string is the peer's). */
static int fail_nsm_error(const char *p, size_t len)
{
    for (size_t i = 0; i < SIGIL_NSM_ERROR_COUNT_; i++)
        if (sigil_cbor_text_eq(p, len, NSM_ERROR_NAMES[i]))
            BAIL(SIGIL_E_ATTESTATION, "nsm: %s", NSM_ERROR_NAMES[i]);
    BAIL(SIGIL_E_PROTOCOL, "nsm reply: unknown error code");
}

/* Opens the reply: a unit variant (text) or a 1-entry map {variant: body}.
 * Fails on Error replies and on any variant but `want`. On success the
 * cursor is at the body (struct variants) or at the end (unit variants). */
static int open_reply(sigil_cursor *c, const uint8_t *resp, size_t len, const char *want, bool unit)
{
    sigil_cbor_item it;
    const char *name;
    size_t name_len, n;
    sigil_cursor_init(c, resp, len);
    if (sigil_cbor_peek(c, &it) != 0)
        return attest_recode(SIGIL_E_PROTOCOL, "nsm reply");
    if (it.type == SIGIL_CBOR_TEXT) {
        if (sigil_cbor_get_text(c, &name, &name_len, "nsm reply") != 0)
            return attest_recode(SIGIL_E_PROTOCOL, "nsm reply");
        ENSURE(unit && sigil_cbor_text_eq(name, name_len, want), SIGIL_E_PROTOCOL,
               "nsm reply: expected %s", want);
        ENSURE(sigil_cursor_remaining(c) == 0, SIGIL_E_PROTOCOL, "nsm reply: trailing bytes");
        return 0;
    }
    if (sigil_cbor_get_map(c, &n, "nsm reply") != 0 ||
        sigil_cbor_get_text(c, &name, &name_len, "nsm reply variant") != 0)
        return attest_recode(SIGIL_E_PROTOCOL, "nsm reply");
    ENSURE(n == 1, SIGIL_E_PROTOCOL, "nsm reply: expected a map with one variant");
    if (sigil_cbor_text_eq(name, name_len, "Error")) {
        const char *code;
        size_t code_len;
        if (sigil_cbor_get_text(c, &code, &code_len, "nsm reply Error") != 0)
            return attest_recode(SIGIL_E_PROTOCOL, "nsm reply");
        ENSURE(sigil_cursor_remaining(c) == 0, SIGIL_E_PROTOCOL, "nsm reply: trailing bytes");
        return fail_nsm_error(code, code_len);
    }
    ENSURE(!unit && sigil_cbor_text_eq(name, name_len, want), SIGIL_E_PROTOCOL,
           "nsm reply: expected %s", want);
    return 0;
}

/* One field of a reply struct, read by its reader. */
typedef struct {
    const char *name;
    int (*read)(sigil_cursor *c, void *out);
    void *out;
} reply_field;

/* Reads the body map of a struct variant: exactly the listed fields, any
 * order, no duplicates, nothing after. */
static int read_reply_fields(sigil_cursor *c, const char *variant, const reply_field *f, size_t nf)
{
    size_t n;
    uint32_t seen = 0;
    if (sigil_cbor_get_map(c, &n, variant) != 0)
        return attest_recode(SIGIL_E_PROTOCOL, "nsm reply");
    ENSURE(n == nf, SIGIL_E_PROTOCOL, "nsm reply %s: expected %zu fields", variant, nf);
    for (size_t i = 0; i < n; i++) {
        const char *k;
        size_t kl, j;
        if (sigil_cbor_get_text(c, &k, &kl, variant) != 0)
            return attest_recode(SIGIL_E_PROTOCOL, "nsm reply");
        for (j = 0; j < nf && !sigil_cbor_text_eq(k, kl, f[j].name); j++)
            ;
        ENSURE(j < nf, SIGIL_E_PROTOCOL, "nsm reply %s: unknown field", variant);
        ENSURE(!(seen & (1u << j)), SIGIL_E_PROTOCOL, "nsm reply %s.%s: duplicate", variant,
               f[j].name);
        seen |= 1u << j;
        if (f[j].read(c, f[j].out) != 0)
            return attest_recode(SIGIL_E_PROTOCOL, "nsm reply");
    }
    ENSURE(sigil_cursor_remaining(c) == 0, SIGIL_E_PROTOCOL, "nsm reply %s: trailing bytes",
           variant);
    return 0;
}

typedef struct {
    const uint8_t *p;
    size_t n;
} bytes_out;

static int read_bytes(sigil_cursor *c, void *out)
{
    bytes_out *o = out;
    return sigil_cbor_get_bytes(c, &o->p, &o->n, "bytes field");
}

static int read_pcr48(sigil_cursor *c, void *out)
{
    const uint8_t *p;
    size_t n;
    GUARD(sigil_cbor_get_bytes(c, &p, &n, "data"));
    ENSURE(n == 48, SIGIL_E_BAD_FIELD, "data: expected 48 bytes, got %zu", n);
    memcpy(out, p, 48);
    return 0;
}

static int read_bool(sigil_cursor *c, void *out)
{
    return sigil_cbor_get_bool(c, out, "lock");
}

int sigil_nsm_decode_attestation(const uint8_t *resp, size_t len, const uint8_t **doc,
                                 size_t *doc_len)
{
    sigil_cursor c;
    bytes_out d = {0};
    const reply_field f[] = {{"document", read_bytes, &d}};
    GUARD(open_reply(&c, resp, len, "Attestation", false));
    GUARD(read_reply_fields(&c, "Attestation", f, SIGIL_ARRAY_LEN(f)));
    ENSURE(d.n > 0, SIGIL_E_PROTOCOL, "nsm reply Attestation.document: empty");
    *doc = d.p;
    *doc_len = d.n;
    return 0;
}

int sigil_nsm_decode_describe_pcr(const uint8_t *resp, size_t len, bool *locked, uint8_t pcr[48])
{
    sigil_cursor c;
    uint8_t v[48];
    bool lk = false;
    const reply_field f[] = {{"lock", read_bool, &lk}, {"data", read_pcr48, v}};
    GUARD(open_reply(&c, resp, len, "DescribePCR", false));
    GUARD(read_reply_fields(&c, "DescribePCR", f, SIGIL_ARRAY_LEN(f)));
    *locked = lk;
    memcpy(pcr, v, 48);
    return 0;
}

int sigil_nsm_decode_extend_pcr(const uint8_t *resp, size_t len, uint8_t pcr[48])
{
    sigil_cursor c;
    uint8_t v[48];
    const reply_field f[] = {{"data", read_pcr48, v}};
    GUARD(open_reply(&c, resp, len, "ExtendPCR", false));
    GUARD(read_reply_fields(&c, "ExtendPCR", f, SIGIL_ARRAY_LEN(f)));
    memcpy(pcr, v, 48);
    return 0;
}

int sigil_nsm_decode_get_random(const uint8_t *resp, size_t len, const uint8_t **p, size_t *n)
{
    sigil_cursor c;
    bytes_out d = {0};
    const reply_field f[] = {{"random", read_bytes, &d}};
    GUARD(open_reply(&c, resp, len, "GetRandom", false));
    GUARD(read_reply_fields(&c, "GetRandom", f, SIGIL_ARRAY_LEN(f)));
    ENSURE(d.n > 0, SIGIL_E_PROTOCOL, "nsm reply GetRandom.random: no bytes");
    *p = d.p;
    *n = d.n;
    return 0;
}

int sigil_nsm_decode_lock_pcr(const uint8_t *resp, size_t len)
{
    sigil_cursor c;
    return open_reply(&c, resp, len, "LockPCR", true);
}

int sigil_nsm_decode_lock_pcrs(const uint8_t *resp, size_t len)
{
    sigil_cursor c;
    return open_reply(&c, resp, len, "LockPCRs", true);
}
