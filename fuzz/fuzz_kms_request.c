/*
 * libFuzzer target: what sigil-kms reads from the network and from its state
 * before anything is released. The first byte picks the parser: a KMS JSON
 * request (GenerateDataKey, Decrypt, Encrypt), a key policy evaluated with
 * and without a Recipient, a CiphertextBlob header, or a CMS
 * CiphertextForRecipient (structure only).
 */
#include <stdint.h>
#include <string.h>

#include "kms/kms_service.h"

static sigil_kms_request req;
static uint8_t pcrs[32][48];

static void fuzz_policy(const uint8_t *p, size_t n)
{
    char reason[160];
    bool allowed = false;
    for (unsigned op = 0; op < SIGIL_KMS_OP_COUNT_; op++)
        for (int rec = 0; rec < 2; rec++) {
            sigil_kms_attest_ctx ctx = {rec == 1, 0xffffffffu, (const uint8_t(*)[48])pcrs};
            int rc = sigil_kms_policy_eval(&allowed, reason, sizeof(reason), (const char *)p, n,
                                           (sigil_kms_op)op, &ctx);
            /* A refused policy never allows; without Recipient, conditions never hold. */
            if (rc != 0 && allowed)
                __builtin_trap();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (sigil_init() != 0)
            __builtin_trap();
        memset(pcrs, 0xab, sizeof(pcrs));
        ready = 1;
    }
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 6) {
    case 0:
    case 1:
    case 2:
        if (sigil_kms_request_parse(&req, (sigil_kms_op)(data[0] % 3), (const char *)p, n) == 0 &&
            (req.blob_len > sizeof(req.blob) || req.doc_len > sizeof(req.doc)))
            __builtin_trap();
        sigil_kms_request_clear(&req);
        break;
    case 3:
        fuzz_policy(p, n);
        break;
    case 4: {
        sigil_slice id;
        if (sigil_kms_blob_key(&id, p, n) == 0 && (id.p < (const char *)p || id.len >= n))
            __builtin_trap();
        break;
    }
    case 5: {
        sigil_kms_cms_info info;
        (void)sigil_kms_cms_inspect(&info, p, n);
        break;
    }
    default:
        __builtin_trap();
    }
    return 0;
}
