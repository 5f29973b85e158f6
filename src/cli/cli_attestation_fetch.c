/*
 * A fresh attestation document from the gateway, for `sigil seal` and
 * `sigil verify-deployment`: GET /v1/attestation?nonce= with a random nonce,
 * the response's members read strictly, then the document verified under
 * the pinned root (chain at now, signature, not debug), carrying our nonce
 * and fresh. What each command concludes from it stays in its own file.
 * Untrusted-host code without secrets (at most a bearer token, sent to the
 * gateway).
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "sigil/codec.h"

#define RESPONSE_MAX ((size_t)256 * 1024)
#define HTTP_TIMEOUT_S 60L
#define MAX_DOC_AGE_MS (5ull * 60 * 1000)
#define MAX_DOC_SKEW_MS (60 * 1000ull)

static uint64_t now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A hex member of the attestation response: absent is fine when optional. */
static int response_hex(uint8_t *out, size_t n, bool *present, const sigil_json *d, const char *key)
{
    uint32_t t;
    char what[48];
    (void)snprintf(what, sizeof(what), "attestation response.%s", key);
    GUARD(sigil_json_get_str(d, 0, key, present == NULL, &t, "attestation response"));
    if (present != NULL)
        *present = t != 0;
    if (t == 0)
        return 0;
    sigil_slice s = sigil_json_raw(d, t);
    if (sigil_hex_decode_exact(out, n, s.p, s.len, false, what) != 0)
        BAIL(SIGIL_E_PROTOCOL, "%s: expected %zu hex digits", what, 2 * n);
    return 0;
}

int cli_attestation_fetch(cli_attestation *out, const cli_attestation_source *src)
{
    static char resp[RESPONSE_MAX];
    static sigil_json_tok toks[64];
    char nonce_hex[2 * CLI_ATTESTATION_NONCE_LEN + 1], url[CLI_ATTESTATION_URL_MAX + 128];
    cli_http_sink sink = {resp, 0, sizeof(resp), false};
    sigil_json d;
    uint32_t t;
    randombytes_buf(out->nonce, sizeof(out->nonce));
    sigil_hex_encode(nonce_hex, out->nonce, sizeof(out->nonce));
    (void)snprintf(url, sizeof(url), "%s/v1/attestation?nonce=%s", src->base_url, nonce_hex);
    const cli_http_request req = {.url = url,
                                  .auth = src->auth,
                                  .cacert = src->cacert,
                                  .timeout_s = HTTP_TIMEOUT_S,
                                  .connect_timeout = true};
    GUARD(cli_http_call(&sink, &req));
    if (sigil_json_parse(&d, resp, sink.len, toks, SIGIL_ARRAY_LEN(toks)) != 0 ||
        sigil_json_type_of(&d, 0) != SIGIL_JSON_OBJECT)
        BAIL(SIGIL_E_PROTOCOL, "gateway: the attestation response is not a JSON object");
    GUARD(sigil_json_get_str(&d, 0, "document", true, &t, "attestation response"));
    sigil_slice s = sigil_json_raw(&d, t);
    if (sigil_b64_decode(out->bytes, sizeof(out->bytes), &out->len, s.p, s.len, SIGIL_B64_STD,
                         "attestation response.document") != 0)
        BAIL(SIGIL_E_PROTOCOL, "attestation response.document: not standard base64");
    if (src->want_sealing_key)
        GUARD(response_hex(out->sealing_key, sizeof(out->sealing_key), NULL, &d, "sealing_key"));
    return response_hex(out->measurement, sizeof(out->measurement), &out->has_measurement, &d,
                        "measurement");
}

int cli_attestation_verify(cli_attestation *a, const cli_attestation_check *chk)
{
    const char *pre = chk->prefix;
    sigil_attest_policy pol = {.root_der = chk->root_der,
                               .root_der_len = chk->root_len,
                               .verify_time = (int64_t)time(NULL),
                               .allow_debug = false};
    sigil_attest_doc *doc = &a->doc;
    GUARD(sigil_attest_verify(doc, &pol, a->bytes, a->len));
    ENSURE(chk->pinned == NULL ||
               ((doc->pcr_mask & 1u) && memcmp(doc->pcrs[0], chk->pinned, 48) == 0),
           SIGIL_E_ATTESTATION, "%sPCR0 is not the pinned --measurement", pre);
    ENSURE(doc->nonce != NULL && doc->nonce_len == CLI_ATTESTATION_NONCE_LEN &&
               memcmp(doc->nonce, a->nonce, CLI_ATTESTATION_NONCE_LEN) == 0,
           SIGIL_E_ATTESTATION, "%sthe document does not carry our nonce%s", pre, chk->nonce_hint);
    uint64_t now = now_ms();
    ENSURE(doc->timestamp_ms + MAX_DOC_AGE_MS >= now, SIGIL_E_ATTESTATION,
           "%sthe document is more than 5 minutes old", pre);
    ENSURE(doc->timestamp_ms <= now + MAX_DOC_SKEW_MS, SIGIL_E_ATTESTATION,
           "%sthe document is dated more than 60 s in the future", pre);
    return 0;
}
