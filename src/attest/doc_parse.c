/*
 * Attestation document parser: the COSE_Sign1 envelope and the strict
 * payload checks of nitro.md §2.5 steps 1-2. libsigil-core, untrusted input
 * (documents come from the host and the network). Never allocates: every
 * byte field is a slice of the document, so the signature is later checked
 * over the exact bytes that were parsed.
 */
#include <stdio.h>
#include <string.h>

#include "attest/attest_internal.h"
#include "sigil/cbor.h"

#define COSE_TAG_SIGN1 18u
#define COSE_ALG_ES384 (-35)
#define COSE_HDR_ALG 1u

static int parse_fail(const char *where)
{
    if (sigil_errno() == SIGIL_E_ATTESTATION)
        return -1;
    return attest_recode(SIGIL_E_ATTESTATION, where);
}

/* protected = bstr containing exactly {1: -35} */
static int parse_protected(const uint8_t *p, size_t len)
{
    sigil_cursor c;
    size_t n;
    uint64_t label;
    int64_t alg;
    sigil_cursor_init(&c, p, len);
    GUARD(sigil_cbor_get_map(&c, &n, "protected header"));
    ENSURE(n == 1, SIGIL_E_ATTESTATION, "attestation: protected header must hold only alg");
    GUARD(sigil_cbor_get_uint(&c, &label, "protected header label"));
    ENSURE(label == COSE_HDR_ALG, SIGIL_E_ATTESTATION,
           "attestation: protected header must hold only alg");
    GUARD(sigil_cbor_get_int(&c, &alg, "protected header alg"));
    ENSURE(alg == COSE_ALG_ES384, SIGIL_E_ATTESTATION, "attestation: alg %lld is not ES384 (-35)",
           (long long)alg);
    ENSURE(sigil_cursor_remaining(&c) == 0, SIGIL_E_ATTESTATION,
           "attestation: trailing bytes in the protected header");
    return 0;
}

static int parse_unprotected(sigil_cursor *c)
{
    size_t n;
    GUARD(sigil_cbor_get_map(c, &n, "unprotected header"));
    for (size_t i = 0; i < 2 * n; i++)
        GUARD(sigil_cbor_skip(c));
    return 0;
}

static int parse_envelope(sigil_attest_doc *d, const uint8_t *doc, size_t len)
{
    sigil_cursor c;
    sigil_cbor_item it;
    size_t n, sig_len;
    sigil_cursor_init(&c, doc, len);
    GUARD(sigil_cbor_peek(&c, &it));
    if (it.type == SIGIL_CBOR_TAG) {
        ENSURE(it.val == COSE_TAG_SIGN1, SIGIL_E_ATTESTATION,
               "attestation: tag %llu is not COSE_Sign1 (18)", (unsigned long long)it.val);
        GUARD(sigil_cbor_next(&c, &it));
    }
    GUARD(sigil_cbor_get_array(&c, &n, "COSE_Sign1"));
    ENSURE(n == 4, SIGIL_E_ATTESTATION, "attestation: COSE_Sign1 must have 4 items, has %zu", n);
    GUARD(sigil_cbor_get_bytes(&c, &d->protected_hdr, &d->protected_hdr_len, "protected header"));
    ENSURE(d->protected_hdr_len > 0, SIGIL_E_ATTESTATION, "attestation: empty protected header");
    GUARD(parse_protected(d->protected_hdr, d->protected_hdr_len));
    GUARD(parse_unprotected(&c));
    GUARD(sigil_cbor_get_bytes(&c, &d->payload, &d->payload_len, "payload"));
    ENSURE(d->payload_len > 0, SIGIL_E_ATTESTATION, "attestation: empty payload");
    GUARD(sigil_cbor_get_bytes(&c, &d->signature, &sig_len, "signature"));
    ENSURE(sig_len == 96, SIGIL_E_ATTESTATION,
           "attestation: signature is %zu bytes, ES384 needs 96 (r || s)", sig_len);
    ENSURE(sigil_cursor_remaining(&c) == 0, SIGIL_E_ATTESTATION,
           "attestation: trailing bytes after COSE_Sign1");
    return 0;
}

/* ---- payload fields ---- */

typedef int (*payload_reader)(sigil_cursor *c, sigil_attest_doc *d);

static int rd_module_id(sigil_cursor *c, sigil_attest_doc *d)
{
    const char *p;
    size_t n;
    GUARD(sigil_cbor_get_text(c, &p, &n, "module_id"));
    ENSURE(n > 0 && n < sizeof(d->module_id), SIGIL_E_ATTESTATION,
           "attestation: module_id must be 1..%zu bytes", sizeof(d->module_id) - 1);
    for (size_t i = 0; i < n; i++)
        ENSURE(p[i] > 0x20 && p[i] < 0x7f, SIGIL_E_ATTESTATION,
               "attestation: module_id is not printable ASCII");
    memcpy(d->module_id, p, n);
    d->module_id[n] = '\0';
    return 0;
}

static int rd_digest(sigil_cursor *c, sigil_attest_doc *d)
{
    const char *p;
    size_t n;
    (void)d;
    GUARD(sigil_cbor_get_text(c, &p, &n, "digest"));
    ENSURE(sigil_cbor_text_eq(p, n, "SHA384"), SIGIL_E_ATTESTATION,
           "attestation: digest is not SHA384");
    return 0;
}

static int rd_timestamp(sigil_cursor *c, sigil_attest_doc *d)
{
    GUARD(sigil_cbor_get_uint(c, &d->timestamp_ms, "timestamp"));
    ENSURE(d->timestamp_ms > 0, SIGIL_E_ATTESTATION, "attestation: timestamp is zero");
    return 0;
}

static int rd_pcrs(sigil_cursor *c, sigil_attest_doc *d)
{
    size_t n;
    GUARD(sigil_cbor_get_map(c, &n, "pcrs"));
    ENSURE(n >= 1 && n <= SIGIL_NSM_MAX_PCRS, SIGIL_E_ATTESTATION,
           "attestation: pcrs must have 1..32 entries, has %zu", n);
    for (size_t i = 0; i < n; i++) {
        uint64_t idx;
        const uint8_t *v;
        size_t vl;
        GUARD(sigil_cbor_get_uint(c, &idx, "pcrs index"));
        ENSURE(idx < SIGIL_NSM_MAX_PCRS, SIGIL_E_ATTESTATION,
               "attestation: pcrs index %llu over 31", (unsigned long long)idx);
        ENSURE(!(d->pcr_mask & (1u << idx)), SIGIL_E_ATTESTATION,
               "attestation: pcrs index %llu appears twice", (unsigned long long)idx);
        GUARD(sigil_cbor_get_bytes(c, &v, &vl, "pcrs value"));
        ENSURE(vl == 48, SIGIL_E_ATTESTATION,
               "attestation: pcrs[%llu] is %zu bytes, SHA384 needs 48", (unsigned long long)idx,
               vl);
        memcpy(d->pcrs[idx], v, 48);
        d->pcr_mask |= 1u << idx;
    }
    return 0;
}

static int get_cert(sigil_cursor *c, const uint8_t **p, size_t *n, const char *what)
{
    GUARD(sigil_cbor_get_bytes(c, p, n, what));
    ENSURE(*n >= 1 && *n <= SIGIL_ATTEST_FIELD_MAX, SIGIL_E_ATTESTATION,
           "attestation: %s must be 1..%u bytes", what, SIGIL_ATTEST_FIELD_MAX);
    return 0;
}

static int rd_certificate(sigil_cursor *c, sigil_attest_doc *d)
{
    return get_cert(c, &d->certificate, &d->certificate_len, "certificate");
}

static int rd_cabundle(sigil_cursor *c, sigil_attest_doc *d)
{
    size_t n;
    GUARD(sigil_cbor_get_array(c, &n, "cabundle"));
    ENSURE(n >= 1 && n <= SIGIL_ATTEST_MAX_CABUNDLE, SIGIL_E_ATTESTATION,
           "attestation: cabundle must have 1..%u certificates, has %zu", SIGIL_ATTEST_MAX_CABUNDLE,
           n);
    for (size_t i = 0; i < n; i++)
        GUARD(get_cert(c, &d->cabundle[i], &d->cabundle_len[i], "cabundle entry"));
    d->cabundle_n = n;
    return 0;
}

static int get_optional(sigil_cursor *c, const uint8_t **p, size_t *n, const char *what)
{
    GUARD(sigil_cbor_get_bytes_or_null(c, p, n, what));
    ENSURE(*n <= SIGIL_ATTEST_FIELD_MAX, SIGIL_E_ATTESTATION,
           "attestation: %s is %zu bytes, over %u", what, *n, SIGIL_ATTEST_FIELD_MAX);
    return 0;
}

static int rd_public_key(sigil_cursor *c, sigil_attest_doc *d)
{
    GUARD(get_optional(c, &d->public_key, &d->public_key_len, "public_key"));
    ENSURE(d->public_key == NULL || d->public_key_len > 0, SIGIL_E_ATTESTATION,
           "attestation: public_key is empty");
    return 0;
}

static int rd_user_data(sigil_cursor *c, sigil_attest_doc *d)
{
    return get_optional(c, &d->user_data, &d->user_data_len, "user_data");
}

static int rd_nonce(sigil_cursor *c, sigil_attest_doc *d)
{
    return get_optional(c, &d->nonce, &d->nonce_len, "nonce");
}

typedef struct {
    const char *name;
    payload_reader read;
    bool required;
} payload_field;

/* In the order real documents use; the parser accepts any order. */
static const payload_field PAYLOAD_FIELDS[] = {
    {"module_id", rd_module_id, true},
    {"digest", rd_digest, true},
    {"timestamp", rd_timestamp, true},
    {"pcrs", rd_pcrs, true},
    {"certificate", rd_certificate, true},
    {"cabundle", rd_cabundle, true},
    {"public_key", rd_public_key, false},
    {"user_data", rd_user_data, false},
    {"nonce", rd_nonce, false},
};

static int parse_payload(sigil_attest_doc *d)
{
    sigil_cursor c;
    size_t n;
    uint32_t seen = 0;
    sigil_cursor_init(&c, d->payload, d->payload_len);
    GUARD(sigil_cbor_get_map(&c, &n, "payload"));
    ENSURE(n <= SIGIL_ARRAY_LEN(PAYLOAD_FIELDS), SIGIL_E_ATTESTATION,
           "attestation: payload has %zu entries, at most %zu known", n,
           SIGIL_ARRAY_LEN(PAYLOAD_FIELDS));
    for (size_t i = 0; i < n; i++) {
        const char *k;
        size_t kl, j;
        GUARD(sigil_cbor_get_text(&c, &k, &kl, "payload key"));
        for (j = 0; j < SIGIL_ARRAY_LEN(PAYLOAD_FIELDS); j++)
            if (sigil_cbor_text_eq(k, kl, PAYLOAD_FIELDS[j].name))
                break;
        ENSURE(j < SIGIL_ARRAY_LEN(PAYLOAD_FIELDS), SIGIL_E_ATTESTATION,
               "attestation: unknown payload key");
        ENSURE(!(seen & (1u << j)), SIGIL_E_ATTESTATION, "attestation: payload.%s appears twice",
               PAYLOAD_FIELDS[j].name);
        seen |= 1u << j;
        if (PAYLOAD_FIELDS[j].read(&c, d) != 0) {
            char where[48];
            snprintf(where, sizeof(where), "attestation: payload.%s", PAYLOAD_FIELDS[j].name);
            return parse_fail(where);
        }
    }
    for (size_t j = 0; j < SIGIL_ARRAY_LEN(PAYLOAD_FIELDS); j++)
        ENSURE(!PAYLOAD_FIELDS[j].required || (seen & (1u << j)), SIGIL_E_ATTESTATION,
               "attestation: payload.%s is missing", PAYLOAD_FIELDS[j].name);
    ENSURE(sigil_cursor_remaining(&c) == 0, SIGIL_E_ATTESTATION,
           "attestation: trailing bytes after the payload map");
    return 0;
}

int sigil_attest_parse(sigil_attest_doc *out, const uint8_t *doc, size_t len)
{
    memset(out, 0, sizeof(*out));
    if (parse_envelope(out, doc, len) != 0 || parse_payload(out) != 0) {
        int rc = parse_fail("attestation");
        memset(out, 0, sizeof(*out));
        return rc;
    }
    return 0;
}
