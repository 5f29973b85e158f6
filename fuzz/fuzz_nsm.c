/* libFuzzer target: the soft NSM's request parser and handling (requests come
 * from the enclave, untrusted by the launcher) and the client's reply
 * decoders (replies are relayed by the host in dev mode). */
#include <stdint.h>
#include <string.h>

#include "sigil/attest.h"

static uint8_t g_resp[SIGIL_NSM_RESPONSE_MAX];

static void decode_all(const uint8_t *data, size_t size)
{
    const uint8_t *p;
    size_t n;
    bool locked;
    uint8_t pcr[48];
    if (sigil_nsm_decode_attestation(data, size, &p, &n) == 0 && (p < data || p + n > data + size))
        __builtin_trap();
    if (sigil_nsm_decode_get_random(data, size, &p, &n) == 0 && (n == 0 || p + n > data + size))
        __builtin_trap();
    (void)sigil_nsm_decode_describe_pcr(data, size, &locked, pcr);
    (void)sigil_nsm_decode_extend_pcr(data, size, pcr);
    (void)sigil_nsm_decode_lock_pcr(data, size);
    (void)sigil_nsm_decode_lock_pcrs(data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sigil_nsm_request r;
    sigil_nsm_error e;
    sigil_buf b;
    sigil_nsm_soft *soft;
    uint8_t m[48] = {0};
    /* A fresh boot per input (deterministic); no dev CA, so Attestation
     * answers InternalError and everything else runs. */
    if (sigil_nsm_soft_new(&soft, NULL, "i-fuzz-enc0", m) != 0)
        __builtin_trap();
    if (sigil_nsm_parse_request(&r, &e, data, size) != 0 && e == SIGIL_NSM_SUCCESS)
        __builtin_trap();
    sigil_buf_init(&b, g_resp, sizeof(g_resp));
    if (sigil_nsm_soft_handle(soft, &b, data, size) != 0 || b.len == 0)
        __builtin_trap();
    sigil_nsm_soft_free(soft);
    decode_all(data, size);
    decode_all(g_resp, b.len); /* our own replies must at least decode safely */
    return 0;
}
