/*
 * libFuzzer target: the dYdX request — the signer's strict parser and
 * transaction encoder (both chains) and the policy's classifier and order
 * reader on the same bytes. The first byte picks the chain; the rest is the
 * request JSON. Traps when the two readings disagree: a request the signer
 * signs must classify, and its one order must be read (orders_known), or the
 * policy would judge something other than what was signed.
 */
#include <stdint.h>
#include <string.h>

#include "policy/inspect_internal.h"
#include "venues/dydx_internal.h"

static const char CRED[] = "{\"private_key\":\"0x01234567890123456789012345678901234567"
                           "89012345678901234567890123\"}";
static uint8_t out_mem[1 << 16];
static sigil_json_tok toks[1024];
static sigil_request_info info;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sigil_credentials cred;
    static int ready;
    if (!ready) {
        if (sigil_init() != 0 ||
            sigil_credentials_parse(&cred, &sigil_venue_dydx, CRED, strlen(CRED)) != 0)
            __builtin_trap();
        ready = 1;
    }
    if (size < 1)
        return 0;
    sigil_network net = (data[0] & 1) ? SIGIL_NET_TESTNET : SIGIL_NET_MAINNET;
    const char *req = (const char *)data + 1;
    size_t len = size - 1;
    sigil_buf out;
    sigil_buf_init(&out, out_mem, sizeof(out_mem));
    int signed_ok = sigil_sign(&out, &sigil_venue_dydx, &cred, net, req, len) == 0;

    sigil_json d;
    sigil_action act;
    if (sigil_json_parse(&d, req, len, toks, 1024) != 0 ||
        sigil_json_expect(&d, 0, SIGIL_JSON_OBJECT, "request", NULL) != 0 ||
        policy_dydx_classify(&act, &d) != 0) {
        if (signed_ok)
            __builtin_trap();
        return 0;
    }
    int inspected = sigil_request_inspect(&info, "dydx", act, req, len) == 0;
    if (signed_ok && (!inspected || !info.orders_known || info.n_orders != 1))
        __builtin_trap();
    uint64_t ts;
    bool found;
    (void)policy_dydx_time(&ts, &d, &found);
    return 0;
}
