/*
 * The audit log's hash chain: which records the store accepts and the one
 * encoding every row hash is computed over (docs/API.md "Audit"). Shared by
 * the store back-ends (which chain rows as they commit them) and
 * `sigil audit verify` (which recomputes them). Untrusted host code; no
 * secrets.
 */
#include <string.h>

#include "gateway/store.h"
#include "sigil/crypto.h"

/* Bytes of the hashed encoding at most: tag, prev, 12 length prefixes,
 * 2 integers, the texts at their limits, 2 hashes and the receipt. */
#define AUDIT_ENCODING_MAX                                                                         \
    (sizeof(SIGIL_AUDIT_HASH_TAG) + 32 + (size_t)12 * 4 + (size_t)3 * 8 + SIGIL_TENANT_MAX +       \
     SIGIL_KEY_ID_MAX + 16 + SIGIL_ACTION_MAX + 16 + SIGIL_AUDIT_ERROR_CODE_MAX + (size_t)2 * 32 + \
     SIGIL_AUDIT_RECEIPT_MAX)

static const char *const OPS[] = {"sign",   "import", "policy_update", "rotate",
                                  "rewrap", "revoke", "disable",       "enable"};
static const char *const DECISIONS[] = {"allow", "deny", "error"};

static bool in_table(const char *v, const char *const *table, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, table[i]) == 0)
            return true;
    return false;
}

/* An optional text: absent, or 1..max bytes. */
static int check_text(const char *v, size_t max, bool required, const char *what)
{
    if (v == NULL) {
        ENSURE(!required, SIGIL_E_INTERNAL, "audit record: %s is required", what);
        return 0;
    }
    size_t n = strnlen(v, max + 1);
    ENSURE(n >= 1 && n <= max, SIGIL_E_INTERNAL, "audit record: %s must be 1..%zu bytes", what,
           max);
    return 0;
}

int sigil_audit_record_check(const sigil_audit_record *a)
{
    GUARD(check_text(a->tenant, SIGIL_TENANT_MAX, true, "tenant"));
    GUARD(check_text(a->key_id, SIGIL_KEY_ID_MAX, false, "key_id"));
    GUARD(check_text(a->op, 15, true, "op"));
    GUARD(check_text(a->action, SIGIL_ACTION_MAX, false, "action"));
    GUARD(check_text(a->decision, 15, true, "decision"));
    GUARD(check_text(a->error_code, SIGIL_AUDIT_ERROR_CODE_MAX, false, "error_code"));
    ENSURE(in_table(a->op, OPS, SIGIL_ARRAY_LEN(OPS)), SIGIL_E_INTERNAL,
           "audit record: unknown op");
    ENSURE(in_table(a->decision, DECISIONS, SIGIL_ARRAY_LEN(DECISIONS)), SIGIL_E_INTERNAL,
           "audit record: unknown decision");
    if (a->receipt == NULL) {
        ENSURE(a->receipt_len == 0, SIGIL_E_INTERNAL, "audit record: receipt length without one");
        return 0;
    }
    ENSURE(a->receipt_len >= 1 && a->receipt_len <= SIGIL_AUDIT_RECEIPT_MAX, SIGIL_E_INTERNAL,
           "audit record: receipt must be 1..%d bytes", SIGIL_AUDIT_RECEIPT_MAX);
    ENSURE(memchr(a->receipt, '\0', a->receipt_len) == NULL, SIGIL_E_INTERNAL,
           "audit record: receipt holds a NUL byte");
    return 0;
}

/* F(x) = u32be(len) || x; absent values are empty. */
static int put_field(sigil_buf *b, const void *p, size_t n)
{
    uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    GUARD(sigil_buf_put(b, len, sizeof(len)));
    return n == 0 ? 0 : sigil_buf_put(b, p, n);
}

static int put_u64(sigil_buf *b, uint64_t v)
{
    uint8_t be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)(v >> (56 - 8 * i));
    return put_field(b, be, sizeof(be));
}

static int put_text(sigil_buf *b, const char *v)
{
    return put_field(b, v, v != NULL ? strlen(v) : 0);
}

static int put_hash(sigil_buf *b, const uint8_t *h)
{
    return put_field(b, h, h != NULL ? 32 : 0);
}

static int encode(sigil_buf *b, const uint8_t prev[32], uint64_t seq, const sigil_audit_record *a)
{
    GUARD(sigil_buf_put(b, SIGIL_AUDIT_HASH_TAG, sizeof(SIGIL_AUDIT_HASH_TAG))); /* with NUL */
    GUARD(sigil_buf_put(b, prev, 32));
    GUARD(put_u64(b, seq));
    GUARD(put_u64(b, (uint64_t)a->time_ms));
    GUARD(put_text(b, a->tenant));
    GUARD(put_text(b, a->key_id));
    GUARD(put_text(b, a->op));
    GUARD(put_text(b, a->action));
    GUARD(put_text(b, a->decision));
    GUARD(put_u64(b, a->http_status));
    GUARD(put_text(b, a->error_code));
    GUARD(put_hash(b, a->request_hash));
    GUARD(put_hash(b, a->output_hash));
    return put_field(b, a->receipt, a->receipt != NULL ? a->receipt_len : 0);
}

int sigil_audit_hash(uint8_t hash[32], const uint8_t prev[32], uint64_t seq,
                     const sigil_audit_record *a)
{
    uint8_t mem[AUDIT_ENCODING_MAX];
    sigil_buf b;
    sigil_buf_init(&b, mem, sizeof(mem));
    if (encode(&b, prev, seq, a) != 0)
        BAIL(SIGIL_E_INTERNAL, "audit record: larger than its encoding allows");
    sigil_sha256(hash, b.data, b.len);
    return 0;
}

static const char *text_or_null(const char *v)
{
    return v[0] != '\0' ? v : NULL;
}

void sigil_audit_row_record(sigil_audit_record *out, const sigil_audit_row *row)
{
    *out = (sigil_audit_record){
        .time_ms = row->time_ms,
        .tenant = row->tenant,
        .key_id = text_or_null(row->key_id),
        .op = row->op,
        .action = text_or_null(row->action),
        .decision = row->decision,
        .http_status = row->http_status,
        .error_code = text_or_null(row->error_code),
        .request_hash = row->has_request_hash ? row->request_hash : NULL,
        .output_hash = row->has_output_hash ? row->output_hash : NULL,
        .receipt = row->receipt_len > 0 ? row->receipt : NULL,
        .receipt_len = row->receipt_len,
    };
}
