/*
 * The NSM handle: one mutex around whichever back-end was opened (device
 * ioctl, launcher socket, in-process soft NSM), and the conveniences built
 * on raw xfer. libsigil-core; the enclave's only way to the NSM.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest_internal.h"

int nsm_handle_new(sigil_nsm **n, const nsm_backend *be, void *ctx)
{
    sigil_nsm *h = calloc(1, sizeof(*h));
    if (h == NULL || pthread_mutex_init(&h->lock, NULL) != 0) {
        free(h);
        be->close(ctx);
        BAIL(SIGIL_E_NO_MEMORY, "nsm: cannot allocate the handle");
    }
    h->be = be;
    h->ctx = ctx;
    *n = h;
    return 0;
}

int sigil_nsm_xfer(sigil_nsm *n, const uint8_t *req, size_t req_len, uint8_t *resp, size_t resp_cap,
                   size_t *resp_len)
{
    ENSURE(req_len > 0 && req_len <= SIGIL_NSM_REQUEST_MAX, SIGIL_E_TOO_LARGE,
           "nsm request: %zu bytes (1..%u)", req_len, SIGIL_NSM_REQUEST_MAX);
    ENSURE(resp_cap > 0, SIGIL_E_INTERNAL, "nsm: empty reply buffer");
    if (resp_cap > SIGIL_NSM_RESPONSE_MAX)
        resp_cap = SIGIL_NSM_RESPONSE_MAX;
    pthread_mutex_lock(&n->lock);
    int rc = n->be->xfer(n->ctx, req, req_len, resp, resp_cap, resp_len);
    pthread_mutex_unlock(&n->lock);
    return rc;
}

void sigil_nsm_close(sigil_nsm *n)
{
    if (n == NULL)
        return;
    n->be->close(n->ctx);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

int sigil_nsm_attest(sigil_nsm *n, sigil_buf *doc_out, const uint8_t *user_data, size_t ud_len,
                     const uint8_t *nonce, size_t nonce_len, const uint8_t *public_key,
                     size_t pk_len)
{
    uint8_t req[SIGIL_NSM_REQUEST_MAX];
    uint8_t resp[SIGIL_NSM_RESPONSE_MAX];
    sigil_buf b;
    size_t resp_len;
    const uint8_t *doc;
    size_t doc_len;
    sigil_buf_init(&b, req, sizeof(req));
    GUARD(
        sigil_nsm_encode_attestation(&b, user_data, ud_len, nonce, nonce_len, public_key, pk_len));
    GUARD(sigil_nsm_xfer(n, req, b.len, resp, sizeof(resp), &resp_len));
    GUARD(sigil_nsm_decode_attestation(resp, resp_len, &doc, &doc_len));
    return sigil_buf_put(doc_out, doc, doc_len);
}

int sigil_nsm_describe_pcr(sigil_nsm *n, unsigned index, uint8_t pcr[48])
{
    uint8_t req[64];
    uint8_t resp[256];
    sigil_buf b;
    size_t resp_len;
    bool locked;
    ENSURE(index < SIGIL_NSM_MAX_PCRS, SIGIL_E_OUT_OF_RANGE, "nsm: PCR index %u over 31", index);
    sigil_buf_init(&b, req, sizeof(req));
    GUARD(sigil_nsm_encode_describe_pcr(&b, index));
    GUARD(sigil_nsm_xfer(n, req, b.len, resp, sizeof(resp), &resp_len));
    return sigil_nsm_decode_describe_pcr(resp, resp_len, &locked, pcr);
}

int sigil_nsm_get_random(sigil_nsm *n, uint8_t *out, size_t len)
{
    uint8_t req[16];
    uint8_t resp[512];
    sigil_buf b;
    sigil_buf_init(&b, req, sizeof(req));
    GUARD(sigil_nsm_encode_get_random(&b));
    for (size_t done = 0; done < len;) {
        size_t resp_len, got;
        const uint8_t *p;
        GUARD(sigil_nsm_xfer(n, req, b.len, resp, sizeof(resp), &resp_len));
        GUARD(sigil_nsm_decode_get_random(resp, resp_len, &p, &got));
        if (got > len - done)
            got = len - done;
        memcpy(out + done, p, got);
        done += got;
    }
    OPENSSL_cleanse(resp, sizeof(resp)); /* it may become key material */
    return 0;
}
