/*
 * Key-service retries and error classes (trusted, enclave side): which AWS
 * errors are worth another attempt, what each one is reported as, and the
 * exponential backoff with full jitter between attempts. Pure functions;
 * the random source is injectable so tests can pin the draws.
 */
#include <sodium.h>
#include <string.h>

#include "sigil/kms.h"

/* AWS KMS JSON errors (the API reference's Errors sections and the common
 * errors every AWS JSON service returns). Auth failures are the operator's
 * problem, not the caller's, so they stay key_service (503), never 401. */
static const sigil_kms_error_class ERRORS[] = {
    /* the key service answered and refused the key */
    {"AccessDeniedException", SIGIL_E_ACCESS_DENIED, false},
    {"DisabledException", SIGIL_E_ACCESS_DENIED, false},
    {"KMSInvalidStateException", SIGIL_E_ACCESS_DENIED, false},
    /* the request was wrong; the same request fails again */
    {"ValidationException", SIGIL_E_KEY_SERVICE, false},
    {"SerializationException", SIGIL_E_KEY_SERVICE, false},
    {"NotFoundException", SIGIL_E_KEY_SERVICE, false},
    {"InvalidKeyUsageException", SIGIL_E_KEY_SERVICE, false},
    {"UnsupportedOperationException", SIGIL_E_KEY_SERVICE, false},
    {"InvalidCiphertextException", SIGIL_E_CRYPTO, false},
    {"IncorrectKeyException", SIGIL_E_CRYPTO, false},
    /* credentials and signatures */
    {"UnrecognizedClientException", SIGIL_E_KEY_SERVICE, false},
    {"InvalidSignatureException", SIGIL_E_KEY_SERVICE, false},
    {"IncompleteSignature", SIGIL_E_KEY_SERVICE, false},
    {"MissingAuthenticationToken", SIGIL_E_KEY_SERVICE, false},
    {"ExpiredTokenException", SIGIL_E_KEY_SERVICE, false},
    {"InvalidClientTokenId", SIGIL_E_KEY_SERVICE, false},
    {"SignatureDoesNotMatch", SIGIL_E_KEY_SERVICE, false},
    {"RequestExpired", SIGIL_E_KEY_SERVICE, false},
    /* transient: another attempt may succeed */
    {"ThrottlingException", SIGIL_E_RATE_LIMITED, true},
    {"LimitExceededException", SIGIL_E_RATE_LIMITED, false}, /* a quota, not a rate */
    {"KMSInternalException", SIGIL_E_KEY_SERVICE, true},
    {"DependencyTimeoutException", SIGIL_E_TIMEOUT, true},
    {"KeyUnavailableException", SIGIL_E_KEY_SERVICE, true},
    {"ServiceUnavailableException", SIGIL_E_KEY_SERVICE, true},
    {"InternalFailure", SIGIL_E_KEY_SERVICE, true},
};

sigil_kms_error_class sigil_kms_classify_error(const char *type, long http_status)
{
    for (size_t i = 0; type != NULL && i < SIGIL_ARRAY_LEN(ERRORS); i++)
        if (strcmp(type, ERRORS[i].type) == 0)
            return ERRORS[i];
    bool transient = http_status == 429 || (http_status >= 500 && http_status <= 599);
    return (sigil_kms_error_class){"", SIGIL_E_KEY_SERVICE, transient};
}

uint32_t sigil_kms_backoff_ceiling(const sigil_kms_retry *p, unsigned n)
{
    uint64_t c = p->base_ms;
    for (unsigned i = 0; i < n && c < p->cap_ms; i++)
        c *= 2; /* stops at the cap: no overflow whatever n is */
    return (uint32_t)(c < p->cap_ms ? c : p->cap_ms);
}

static uint32_t default_random(void *ctx, uint32_t upper)
{
    (void)ctx;
    return upper == UINT32_MAX ? randombytes_random() : randombytes_uniform(upper + 1);
}

bool sigil_kms_retry_next(const sigil_kms_retry *p, unsigned n, uint64_t elapsed_ms,
                          uint32_t *delay_ms)
{
    *delay_ms = 0;
    if (n >= p->max_retries)
        return false;
    uint32_t ceiling = sigil_kms_backoff_ceiling(p, n);
    uint32_t d =
        p->random != NULL ? p->random(p->random_ctx, ceiling) : default_random(NULL, ceiling);
    if (d > ceiling)
        d = ceiling; /* an injected source that overshoots */
    if (elapsed_ms + d > p->budget_ms)
        return false;
    *delay_ms = d;
    return true;
}
