/*
 * AWS credentials (trusted): the secret access key lives in locked memory;
 * the access key id, token and region are checked so that nothing placed in
 * a header or a credential scope can break the request line.
 */
#include <stdlib.h>
#include <string.h>

#include "sigil/kms.h"

#define AKID_MIN 4 /* AWS issues 16..128; the SigV4 test suite uses "AKIDEXAMPLE" */
#define SECRET_MAX 128
#define TOKEN_MAX 4096

static int check_akid(const char *s, size_t n)
{
    ENSURE(n >= AKID_MIN && n < sizeof(((sigil_aws_creds *)0)->access_key_id),
           SIGIL_E_BAD_CREDENTIALS, "credentials.access_key_id: must be %d..128 characters",
           AKID_MIN);
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        ENSURE((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'), SIGIL_E_BAD_CREDENTIALS,
               "credentials.access_key_id: only A-Z and 0-9 allowed");
    }
    return 0;
}

/* Regions are lowercase words joined by '-' ("us-east-1", "us-gov-west-1"). */
static int check_region(const char *s, size_t n)
{
    ENSURE(n >= 3 && n < sizeof(((sigil_aws_creds *)0)->region), SIGIL_E_BAD_CREDENTIALS,
           "credentials.region: must be 3..32 characters");
    ENSURE(s[0] != '-' && s[n - 1] != '-', SIGIL_E_BAD_CREDENTIALS,
           "credentials.region: not a region name");
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        ENSURE((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-',
               SIGIL_E_BAD_CREDENTIALS, "credentials.region: only a-z, 0-9 and '-' allowed");
    }
    return 0;
}

/* A header value: printable ASCII without spaces (STS tokens are base64). */
static int check_printable(const char *s, size_t n, size_t max, const char *what)
{
    ENSURE(n >= 1 && n <= max, SIGIL_E_BAD_CREDENTIALS, "credentials.%s: must be 1..%zu bytes",
           what, max);
    for (size_t i = 0; i < n; i++)
        ENSURE(s[i] > 0x20 && s[i] < 0x7f, SIGIL_E_BAD_CREDENTIALS,
               "credentials.%s: only printable ASCII without spaces allowed", what);
    return 0;
}

static int creds_fill(sigil_aws_creds *c, const char *akid, size_t akid_len, const uint8_t *secret,
                      size_t secret_len, const char *token, size_t token_len, const char *region,
                      size_t region_len)
{
    GUARD(check_akid(akid, akid_len));
    GUARD(check_printable((const char *)secret, secret_len, SECRET_MAX, "secret_access_key"));
    GUARD(check_region(region, region_len));
    if (token_len > 0)
        GUARD(check_printable(token, token_len, TOKEN_MAX, "session_token"));
    memcpy(c->access_key_id, akid, akid_len);
    c->access_key_id[akid_len] = 0;
    memcpy(c->region, region, region_len);
    c->region[region_len] = 0;
    GUARD(sigil_secret_alloc(&c->secret_access_key, secret_len));
    memcpy(c->secret_access_key.p, secret, secret_len);
    c->secret_access_key.len = secret_len;
    if (token_len > 0) {
        c->session_token = malloc(token_len + 1);
        ENSURE(c->session_token != NULL, SIGIL_E_NO_MEMORY, "credentials.session_token: no memory");
        memcpy(c->session_token, token, token_len);
        c->session_token[token_len] = 0;
    }
    return 0;
}

int sigil_aws_creds_set(sigil_aws_creds *c, const char *akid, size_t akid_len,
                        const uint8_t *secret, size_t secret_len, const char *token,
                        size_t token_len, const char *region, size_t region_len)
{
    memset(c, 0, sizeof(*c));
    if (creds_fill(c, akid, akid_len, secret, secret_len, token, token_len, region, region_len) !=
        0) {
        sigil_aws_creds_clear(c);
        return -1;
    }
    return 0;
}

int sigil_aws_creds_copy(sigil_aws_creds *dst, const sigil_aws_creds *src)
{
    const char *tok = src->session_token;
    return sigil_aws_creds_set(dst, src->access_key_id, strnlen(src->access_key_id, 128),
                               src->secret_access_key.p, src->secret_access_key.len, tok,
                               tok ? strnlen(tok, TOKEN_MAX + 1) : 0, src->region,
                               strnlen(src->region, 32));
}

void sigil_aws_creds_clear(sigil_aws_creds *c)
{
    sigil_secret_free(&c->secret_access_key);
    if (c->session_token != NULL) {
        sigil_wipe(c->session_token, strlen(c->session_token));
        free(c->session_token);
    }
    sigil_wipe(c, sizeof(*c));
}
