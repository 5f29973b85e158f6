/*
 * `rewrap` (trusted): data-key rotation (docs/OPERATIONS.md "Key
 * lifecycle"). The key's blob is opened and the same payload sealed again
 * under a new data key from the key service (GenerateDataKey), with the
 * same AAD (tenant, key id, venue, network, policy hash). Nothing about the
 * key changes; the old blob and its data key are no longer needed once the
 * gateway stores the new one. A blob whose policy version is superseded is
 * refused, so a rewrap cannot bring an old blob back.
 */
#include <string.h>

#include "enclave/enclave.h"

static int rewrap_change(enclave_state *st, enclave_payload *p, const sigil_secret *plain,
                         sigil_buf *blob, uint8_t policy_hash[32], void *ctx)
{
    enclave_policy_result *res = ctx;
    memcpy(res->policy_hash, p->policy->hash, 32);
    memcpy(policy_hash, p->policy->hash, 32);
    res->version = p->policy->version;
    return enclave_import_seal(st, p, blob, plain);
}

int enclave_rewrap(enclave_state *st, enclave_policy_result *res, sigil_buf *blob,
                   sigil_buf *receipt, const enclave_key_ref *k)
{
    memset(res, 0, sizeof(*res));
    enclave_key_change_args ka = {.key = k,
                                  .action = "rewrap",
                                  .request = k->blob,
                                  .request_len = k->blob_len,
                                  .change = rewrap_change,
                                  .ctx = res};
    return enclave_key_change(st, blob, receipt, &ka);
}
