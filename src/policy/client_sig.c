/*
 * Client-signed requests (docs/POLICY.md "Client-signed requests"): the
 * request hash (SHA-256 of the RFC 8785 form, numbers as ECMAScript prints
 * them) and the message the client's Ed25519 key signs. Untrusted input, no
 * secrets; the enclave verifies, the CLI and SDKs sign the same bytes.
 */
#include <string.h>

#include "sigil/crypto.h"
#include "sigil/policy.h"

/* A canonical form can outgrow its text ("1e20" is 21 digits): twice the
 * largest input holds every realistic request. */
#define REQUEST_CANON_MAX (2 * SIGIL_CANON_MAX_BYTES)

static _Thread_local uint8_t tl_canon[REQUEST_CANON_MAX];

int sigil_request_hash(uint8_t out[32], const char *request, size_t len)
{
    sigil_buf b;
    sigil_buf_init(&b, tl_canon, sizeof(tl_canon));
    GUARD(sigil_json_canonicalize_any(&b, request, len));
    sigil_sha256(out, b.data, b.len);
    return 0;
}

/* Nonce alphabet: A-Z a-z 0-9 _ - */
static bool nonce_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static int check_nonce(const char *nonce, size_t len)
{
    ENSURE(len >= SIGIL_CLIENT_NONCE_MIN && len <= SIGIL_CLIENT_NONCE_MAX, SIGIL_E_BAD_FIELD,
           "client.nonce: must be %d..%d characters", SIGIL_CLIENT_NONCE_MIN,
           SIGIL_CLIENT_NONCE_MAX);
    for (size_t i = 0; i < len; i++)
        ENSURE(nonce_char(nonce[i]), SIGIL_E_BAD_FIELD,
               "client.nonce: only A-Z a-z 0-9 _ - are allowed (byte %zu)", i);
    return 0;
}

static void be_bytes(uint8_t *out, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static int put_u32_field(sigil_buf *b, const char *p, size_t n)
{
    uint8_t len[4];
    be_bytes(len, n, sizeof(len));
    GUARD(sigil_buf_put(b, len, sizeof(len)));
    return sigil_buf_put(b, p, n);
}

static int put_message(sigil_buf *out, const char *key_id, const uint8_t request_hash[32],
                       uint64_t timestamp_ms, const char *nonce, size_t nonce_len)
{
    uint8_t ts[8];
    be_bytes(ts, timestamp_ms, sizeof(ts));
    GUARD(sigil_buf_put(out, SIGIL_REQUEST_SIG_PREFIX, SIGIL_REQUEST_SIG_PREFIX_LEN));
    GUARD(put_u32_field(out, key_id, strlen(key_id)));
    GUARD(sigil_buf_put(out, request_hash, 32));
    GUARD(sigil_buf_put(out, ts, sizeof(ts)));
    return put_u32_field(out, nonce, nonce_len);
}

int sigil_client_message(sigil_buf *out, const char *key_id, const uint8_t request_hash[32],
                         uint64_t timestamp_ms, const char *nonce, size_t nonce_len)
{
    GUARD(sigil_key_id_valid(key_id, strlen(key_id)));
    GUARD(check_nonce(nonce, nonce_len));
    size_t mark = out->len;
    if (put_message(out, key_id, request_hash, timestamp_ms, nonce, nonce_len) != 0) {
        out->len = mark;
        return -1;
    }
    return 0;
}
