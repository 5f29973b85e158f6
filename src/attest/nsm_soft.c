/*
 * Soft NSM: the state of one dev boot (32 SHA-384 PCRs with lock bits, the
 * module id) and the request handling of nitro.md §1.4/§8.2, answering with
 * the same CBOR as the real device. libsigil-core; run by sigil-launch
 * (trusted for measurement, never given tenant secrets) and in-process by
 * tests. The enclave's requests are untrusted input.
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "attest/attest_internal.h"

/* Dev stand-ins for what the hypervisor measures (docs/ATTESTATION.md). */
#define DEV_KERNEL_STRING "sigil-dev-kernel"
#define DEV_APP_STRING "sigil-dev-app"

struct sigil_nsm_soft {
    sigil_devca *ca;
    char module_id[128];
    uint8_t pcrs[SIGIL_NSM_MAX_PCRS][48];
    uint32_t locked;
    uint64_t fixed_now_ms;
};

/* The instance id part of "<instance-id>-enc<16 hex>" (all of it otherwise). */
static size_t instance_id_len(const char *m, size_t n)
{
    for (size_t i = n; i >= 4; i--)
        if (memcmp(m + i - 4, "-enc", 4) == 0)
            return i - 4;
    return n;
}

static int dev_boot(sigil_nsm_soft *s, const uint8_t measurement[48], size_t mlen)
{
    memcpy(s->pcrs[0], measurement, 48);
    GUARD(sigil_pcr_extend(s->pcrs[1], DEV_KERNEL_STRING, sizeof(DEV_KERNEL_STRING) - 1));
    GUARD(sigil_pcr_extend(s->pcrs[2], DEV_APP_STRING, sizeof(DEV_APP_STRING) - 1));
    GUARD(sigil_pcr_extend(s->pcrs[4], s->module_id, instance_id_len(s->module_id, mlen)));
    s->locked = (1u << SIGIL_NSM_LOCKED_AT_BOOT) - 1u;
    return 0;
}

int sigil_nsm_soft_new(sigil_nsm_soft **out, sigil_devca *ca, const char *module_id,
                       const uint8_t measurement[48])
{
    size_t n;
    GUARD(attest_check_module_id(module_id, &n, SIGIL_E_USAGE, "soft nsm"));
    sigil_nsm_soft *s = calloc(1, sizeof(*s));
    ENSURE(s != NULL, SIGIL_E_NO_MEMORY, "soft nsm: out of memory");
    s->ca = ca;
    memcpy(s->module_id, module_id, n);
    if (dev_boot(s, measurement, n) != 0) {
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void sigil_nsm_soft_free(sigil_nsm_soft *s)
{
    free(s);
}

void sigil_nsm_soft_set_time(sigil_nsm_soft *s, uint64_t now_ms)
{
    s->fixed_now_ms = now_ms;
}

static uint64_t soft_now_ms(const sigil_nsm_soft *s)
{
    struct timespec ts;
    if (s->fixed_now_ms != 0)
        return s->fixed_now_ms;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- operations: each returns an NSM error code, SUCCESS after writing its reply ---- */

typedef sigil_nsm_error (*soft_op)(sigil_nsm_soft *s, sigil_buf *resp, const sigil_nsm_request *r);

static sigil_nsm_error reply_status(int rc)
{
    return rc == 0 ? SIGIL_NSM_SUCCESS : SIGIL_NSM_INTERNAL_ERROR;
}

static sigil_nsm_error op_describe_pcr(sigil_nsm_soft *s, sigil_buf *resp,
                                       const sigil_nsm_request *r)
{
    if (r->index >= SIGIL_NSM_MAX_PCRS)
        return SIGIL_NSM_INVALID_INDEX;
    bool locked = (s->locked >> r->index) & 1u;
    return reply_status(sigil_nsm_reply_describe_pcr(resp, locked, s->pcrs[r->index]));
}

static sigil_nsm_error op_extend_pcr(sigil_nsm_soft *s, sigil_buf *resp, const sigil_nsm_request *r)
{
    if (r->index >= SIGIL_NSM_MAX_PCRS)
        return SIGIL_NSM_INVALID_INDEX;
    if ((s->locked >> r->index) & 1u)
        return SIGIL_NSM_READ_ONLY_INDEX;
    if (sigil_pcr_extend(s->pcrs[r->index], r->data, r->data_len) != 0)
        return SIGIL_NSM_INTERNAL_ERROR;
    return reply_status(sigil_nsm_reply_extend_pcr(resp, s->pcrs[r->index]));
}

static sigil_nsm_error op_lock_pcr(sigil_nsm_soft *s, sigil_buf *resp, const sigil_nsm_request *r)
{
    if (r->index >= SIGIL_NSM_MAX_PCRS)
        return SIGIL_NSM_INVALID_INDEX;
    if ((s->locked >> r->index) & 1u)
        return SIGIL_NSM_READ_ONLY_INDEX;
    s->locked |= 1u << r->index;
    return reply_status(sigil_nsm_reply_lock_pcr(resp));
}

static sigil_nsm_error op_lock_pcrs(sigil_nsm_soft *s, sigil_buf *resp, const sigil_nsm_request *r)
{
    if (r->range > SIGIL_NSM_MAX_PCRS)
        return SIGIL_NSM_INVALID_INDEX;
    s->locked |= r->range == 32 ? 0xffffffffu : (1u << r->range) - 1u;
    return reply_status(sigil_nsm_reply_lock_pcrs(resp));
}

static sigil_nsm_error op_describe_nsm(sigil_nsm_soft *s, sigil_buf *resp,
                                       const sigil_nsm_request *r)
{
    (void)r;
    return reply_status(sigil_nsm_reply_describe_nsm(resp, s->module_id, s->locked));
}

static sigil_nsm_error op_get_random(sigil_nsm_soft *s, sigil_buf *resp, const sigil_nsm_request *r)
{
    uint8_t rnd[SIGIL_NSM_RANDOM_BYTES];
    (void)s;
    (void)r;
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return SIGIL_NSM_INTERNAL_ERROR;
    sigil_nsm_error e = reply_status(sigil_nsm_reply_get_random(resp, rnd, sizeof(rnd)));
    OPENSSL_cleanse(rnd, sizeof(rnd));
    return e;
}

/* The document carries all locked PCRs, as on real hardware. */
static sigil_nsm_error op_attestation(sigil_nsm_soft *s, sigil_buf *resp,
                                      const sigil_nsm_request *r)
{
    if (r->user_data_len > SIGIL_ATTEST_FIELD_MAX || r->nonce_len > SIGIL_ATTEST_FIELD_MAX ||
        r->public_key_len > SIGIL_ATTEST_FIELD_MAX ||
        (r->public_key != NULL && r->public_key_len == 0))
        return SIGIL_NSM_INVALID_ARGUMENT;
    if (s->ca == NULL)
        return SIGIL_NSM_INTERNAL_ERROR;
    uint8_t *doc = malloc(SIGIL_ATTEST_DOC_MAX);
    if (doc == NULL)
        return SIGIL_NSM_INTERNAL_ERROR;
    sigil_buf d;
    sigil_buf_init(&d, doc, SIGIL_ATTEST_DOC_MAX);
    int rc = sigil_attest_build(
        &d, s->ca, s->module_id, soft_now_ms(s), (const uint8_t(*)[48])s->pcrs, s->locked,
        r->user_data, r->user_data_len, r->nonce, r->nonce_len, r->public_key, r->public_key_len);
    if (rc == 0)
        rc = sigil_nsm_reply_attestation(resp, doc, d.len);
    free(doc);
    return reply_status(rc);
}

static const soft_op SOFT_OPS[] = {
    [SIGIL_NSM_OP_DESCRIBE_PCR] = op_describe_pcr, [SIGIL_NSM_OP_EXTEND_PCR] = op_extend_pcr,
    [SIGIL_NSM_OP_LOCK_PCR] = op_lock_pcr,         [SIGIL_NSM_OP_LOCK_PCRS] = op_lock_pcrs,
    [SIGIL_NSM_OP_DESCRIBE_NSM] = op_describe_nsm, [SIGIL_NSM_OP_ATTESTATION] = op_attestation,
    [SIGIL_NSM_OP_GET_RANDOM] = op_get_random,
};

int sigil_nsm_soft_handle(sigil_nsm_soft *s, sigil_buf *resp, const uint8_t *req, size_t len)
{
    sigil_nsm_request r;
    sigil_nsm_error e;
    size_t mark = resp->len;
    if (sigil_nsm_parse_request(&r, &e, req, len) == 0) {
        soft_op op = (unsigned)r.op < SIGIL_ARRAY_LEN(SOFT_OPS) ? SOFT_OPS[r.op] : NULL;
        e = op != NULL ? op(s, resp, &r) : SIGIL_NSM_INVALID_OPERATION;
    }
    if (e == SIGIL_NSM_SUCCESS)
        return 0;
    resp->len = mark;
    return sigil_nsm_reply_error(resp, e);
}

/* ---- in-process transport ---- */

static int soft_xfer(void *ctx, const uint8_t *req, size_t req_len, uint8_t *resp, size_t resp_cap,
                     size_t *resp_len)
{
    uint8_t *tmp = malloc(SIGIL_NSM_RESPONSE_MAX);
    sigil_buf b;
    ENSURE(tmp != NULL, SIGIL_E_NO_MEMORY, "soft nsm: out of memory");
    sigil_buf_init(&b, tmp, SIGIL_NSM_RESPONSE_MAX);
    int rc = sigil_nsm_soft_handle(ctx, &b, req, req_len);
    if (rc == 0) {
        /* Like the driver: a reply longer than the buffer is cut short. */
        *resp_len = b.len < resp_cap ? b.len : resp_cap;
        memcpy(resp, tmp, *resp_len);
    }
    free(tmp);
    return rc;
}

static void soft_close(void *ctx)
{
    (void)ctx; /* the soft NSM belongs to the caller */
}

static const nsm_backend SOFT_BACKEND = {"soft", soft_xfer, soft_close};

int sigil_nsm_open_soft(sigil_nsm **n, sigil_nsm_soft *s)
{
    ENSURE(s != NULL, SIGIL_E_INTERNAL, "soft nsm: no state");
    return nsm_handle_new(n, &SOFT_BACKEND, s);
}
