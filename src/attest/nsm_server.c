/*
 * NSM messages, server side: the request parser and reply encoders of the
 * soft NSM that sigil-launch runs (nitro.md §1.3, §8.2). libsigil-core.
 * Requests come from the enclave, which the launcher does not trust with
 * anything: the parser is strict and never allocates.
 */
#include <string.h>

#include "attest/attest_internal.h"
#include "sigil/cbor.h"

/* ---- request parser ---- */

typedef int (*field_reader)(sigil_cursor *c, sigil_nsm_request *r);

typedef struct {
    const char *name;
    field_reader read;
    bool required;
} req_field;

typedef struct {
    const char *name;
    sigil_nsm_op op;
    const req_field *fields; /* NULL: unit variant */
    size_t nfields;
} req_variant;

static int rd_index(sigil_cursor *c, sigil_nsm_request *r)
{
    return sigil_cbor_get_uint(c, &r->index, "index");
}

static int rd_range(sigil_cursor *c, sigil_nsm_request *r)
{
    return sigil_cbor_get_uint(c, &r->range, "range");
}

static int rd_data(sigil_cursor *c, sigil_nsm_request *r)
{
    return sigil_cbor_get_bytes(c, &r->data, &r->data_len, "data");
}

static int rd_user_data(sigil_cursor *c, sigil_nsm_request *r)
{
    return sigil_cbor_get_bytes_or_null(c, &r->user_data, &r->user_data_len, "user_data");
}

static int rd_nonce(sigil_cursor *c, sigil_nsm_request *r)
{
    return sigil_cbor_get_bytes_or_null(c, &r->nonce, &r->nonce_len, "nonce");
}

static int rd_public_key(sigil_cursor *c, sigil_nsm_request *r)
{
    return sigil_cbor_get_bytes_or_null(c, &r->public_key, &r->public_key_len, "public_key");
}

static const req_field F_INDEX[] = {{"index", rd_index, true}};
static const req_field F_RANGE[] = {{"range", rd_range, true}};
static const req_field F_EXTEND[] = {{"index", rd_index, true}, {"data", rd_data, true}};
/* Option fields: absent means None, as serde reads them. */
static const req_field F_ATTEST[] = {
    {"user_data", rd_user_data, false},
    {"nonce", rd_nonce, false},
    {"public_key", rd_public_key, false},
};

static const req_variant REQUESTS[] = {
    {"DescribePCR", SIGIL_NSM_OP_DESCRIBE_PCR, F_INDEX, SIGIL_ARRAY_LEN(F_INDEX)},
    {"ExtendPCR", SIGIL_NSM_OP_EXTEND_PCR, F_EXTEND, SIGIL_ARRAY_LEN(F_EXTEND)},
    {"LockPCR", SIGIL_NSM_OP_LOCK_PCR, F_INDEX, SIGIL_ARRAY_LEN(F_INDEX)},
    {"LockPCRs", SIGIL_NSM_OP_LOCK_PCRS, F_RANGE, SIGIL_ARRAY_LEN(F_RANGE)},
    {"DescribeNSM", SIGIL_NSM_OP_DESCRIBE_NSM, NULL, 0},
    {"Attestation", SIGIL_NSM_OP_ATTESTATION, F_ATTEST, SIGIL_ARRAY_LEN(F_ATTEST)},
    {"GetRandom", SIGIL_NSM_OP_GET_RANDOM, NULL, 0},
};

static const req_variant *find_variant(const char *name, size_t len)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(REQUESTS); i++)
        if (sigil_cbor_text_eq(name, len, REQUESTS[i].name))
            return &REQUESTS[i];
    return NULL;
}

static int read_fields(sigil_cursor *c, sigil_nsm_request *r, const req_variant *v)
{
    size_t n;
    uint32_t seen = 0;
    GUARD(sigil_cbor_get_map(c, &n, v->name));
    ENSURE(n <= v->nfields, SIGIL_E_PROTOCOL, "nsm request %s: too many fields", v->name);
    for (size_t i = 0; i < n; i++) {
        const char *k;
        size_t kl, j;
        GUARD(sigil_cbor_get_text(c, &k, &kl, v->name));
        for (j = 0; j < v->nfields && !sigil_cbor_text_eq(k, kl, v->fields[j].name); j++)
            ;
        ENSURE(j < v->nfields, SIGIL_E_PROTOCOL, "nsm request %s: unknown field", v->name);
        ENSURE(!(seen & (1u << j)), SIGIL_E_PROTOCOL, "nsm request %s.%s: duplicate", v->name,
               v->fields[j].name);
        seen |= 1u << j;
        GUARD(v->fields[j].read(c, r));
    }
    for (size_t j = 0; j < v->nfields; j++)
        ENSURE(!v->fields[j].required || (seen & (1u << j)), SIGIL_E_PROTOCOL,
               "nsm request %s.%s: missing", v->name, v->fields[j].name);
    return 0;
}

static int parse_request(sigil_nsm_request *r, const uint8_t *p, size_t len)
{
    sigil_cursor c;
    sigil_cbor_item it;
    const char *name;
    size_t name_len, n;
    const req_variant *v;
    sigil_cursor_init(&c, p, len);
    GUARD(sigil_cbor_peek(&c, &it));
    if (it.type == SIGIL_CBOR_TEXT) {
        GUARD(sigil_cbor_get_text(&c, &name, &name_len, "nsm request"));
        v = find_variant(name, name_len);
        ENSURE(v != NULL && v->fields == NULL, SIGIL_E_PROTOCOL,
               "nsm request: unknown unit variant");
    } else {
        GUARD(sigil_cbor_get_map(&c, &n, "nsm request"));
        ENSURE(n == 1, SIGIL_E_PROTOCOL, "nsm request: expected a map with one variant");
        GUARD(sigil_cbor_get_text(&c, &name, &name_len, "nsm request variant"));
        v = find_variant(name, name_len);
        ENSURE(v != NULL && v->fields != NULL, SIGIL_E_PROTOCOL,
               "nsm request: unknown struct variant");
        GUARD(read_fields(&c, r, v));
    }
    ENSURE(sigil_cursor_remaining(&c) == 0, SIGIL_E_PROTOCOL, "nsm request: trailing bytes");
    r->op = v->op;
    return 0;
}

int sigil_nsm_parse_request(sigil_nsm_request *req, sigil_nsm_error *reply_err, const uint8_t *p,
                            size_t len)
{
    memset(req, 0, sizeof(*req));
    if (len > SIGIL_NSM_REQUEST_MAX) {
        *reply_err = SIGIL_NSM_INPUT_TOO_LARGE;
        BAIL(SIGIL_E_PROTOCOL, "nsm request: %zu bytes, over %u", len, SIGIL_NSM_REQUEST_MAX);
    }
    if (parse_request(req, p, len) != 0) {
        *reply_err = SIGIL_NSM_INVALID_OPERATION;
        memset(req, 0, sizeof(*req));
        if (sigil_errno() != SIGIL_E_PROTOCOL)
            return attest_recode(SIGIL_E_PROTOCOL, "nsm request");
        return -1;
    }
    *reply_err = SIGIL_NSM_SUCCESS;
    return 0;
}

/* ---- reply encoders ---- */

static int reply_done(sigil_buf *b, size_t mark, int rc)
{
    if (rc != 0) {
        b->len = mark;
        return -1;
    }
    if (b->len - mark > SIGIL_NSM_RESPONSE_MAX) {
        b->len = mark;
        BAIL(SIGIL_E_TOO_LARGE, "nsm reply: over %u bytes", SIGIL_NSM_RESPONSE_MAX);
    }
    return 0;
}

static int put_variant(sigil_buf *b, const char *variant, size_t nfields)
{
    GUARD(sigil_cbor_put_map(b, 1));
    GUARD(sigil_cbor_put_cstr(b, variant));
    return sigil_cbor_put_map(b, nfields);
}

static int put_error(sigil_buf *b, sigil_nsm_error e)
{
    GUARD(sigil_cbor_put_map(b, 1));
    GUARD(sigil_cbor_put_cstr(b, "Error"));
    return sigil_cbor_put_cstr(b, sigil_nsm_error_name(e));
}

int sigil_nsm_reply_error(sigil_buf *b, sigil_nsm_error e)
{
    size_t mark = b->len;
    return reply_done(b, mark, put_error(b, e));
}

static int put_describe_pcr(sigil_buf *b, bool locked, const uint8_t pcr[48])
{
    GUARD(put_variant(b, "DescribePCR", 2));
    GUARD(sigil_cbor_put_cstr(b, "lock"));
    GUARD(sigil_cbor_put_bool(b, locked));
    GUARD(sigil_cbor_put_cstr(b, "data"));
    return sigil_cbor_put_bytes(b, pcr, 48);
}

int sigil_nsm_reply_describe_pcr(sigil_buf *b, bool locked, const uint8_t pcr[48])
{
    size_t mark = b->len;
    return reply_done(b, mark, put_describe_pcr(b, locked, pcr));
}

static int put_one_bytes(sigil_buf *b, const char *variant, const char *field, const uint8_t *p,
                         size_t n)
{
    GUARD(put_variant(b, variant, 1));
    GUARD(sigil_cbor_put_cstr(b, field));
    return sigil_cbor_put_bytes(b, p, n);
}

int sigil_nsm_reply_extend_pcr(sigil_buf *b, const uint8_t pcr[48])
{
    size_t mark = b->len;
    return reply_done(b, mark, put_one_bytes(b, "ExtendPCR", "data", pcr, 48));
}

int sigil_nsm_reply_lock_pcr(sigil_buf *b)
{
    size_t mark = b->len;
    return reply_done(b, mark, sigil_cbor_put_cstr(b, "LockPCR"));
}

int sigil_nsm_reply_lock_pcrs(sigil_buf *b)
{
    size_t mark = b->len;
    return reply_done(b, mark, sigil_cbor_put_cstr(b, "LockPCRs"));
}

static int put_u16_field(sigil_buf *b, const char *name, uint64_t v)
{
    GUARD(sigil_cbor_put_cstr(b, name));
    return sigil_cbor_put_uint(b, v);
}

static int put_describe_nsm(sigil_buf *b, const char *module_id, uint32_t locked_mask)
{
    size_t nlocked = 0;
    for (unsigned i = 0; i < SIGIL_NSM_MAX_PCRS; i++)
        nlocked += (locked_mask >> i) & 1u;
    GUARD(put_variant(b, "DescribeNSM", 7));
    GUARD(put_u16_field(b, "version_major", 1));
    GUARD(put_u16_field(b, "version_minor", 0));
    GUARD(put_u16_field(b, "version_patch", 0));
    GUARD(sigil_cbor_put_cstr(b, "module_id"));
    GUARD(sigil_cbor_put_cstr(b, module_id));
    GUARD(put_u16_field(b, "max_pcrs", SIGIL_NSM_MAX_PCRS));
    GUARD(sigil_cbor_put_cstr(b, "locked_pcrs"));
    GUARD(sigil_cbor_put_array(b, nlocked));
    for (unsigned i = 0; i < SIGIL_NSM_MAX_PCRS; i++)
        if ((locked_mask >> i) & 1u)
            GUARD(sigil_cbor_put_uint(b, i));
    GUARD(sigil_cbor_put_cstr(b, "digest"));
    return sigil_cbor_put_cstr(b, "SHA384");
}

int sigil_nsm_reply_describe_nsm(sigil_buf *b, const char *module_id, uint32_t locked_mask)
{
    size_t mark = b->len;
    return reply_done(b, mark, put_describe_nsm(b, module_id, locked_mask));
}

int sigil_nsm_reply_attestation(sigil_buf *b, const uint8_t *doc, size_t len)
{
    size_t mark = b->len;
    return reply_done(b, mark, put_one_bytes(b, "Attestation", "document", doc, len));
}

int sigil_nsm_reply_get_random(sigil_buf *b, const uint8_t *p, size_t n)
{
    size_t mark = b->len;
    return reply_done(b, mark, put_one_bytes(b, "GetRandom", "random", p, n));
}
