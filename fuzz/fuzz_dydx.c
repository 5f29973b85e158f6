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

#include "fuzz_venue.h"
#include "policy/inspect_internal.h"
#include "venues/dydx_internal.h"

static sigil_request_info info;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_venue_input in;
    sigil_action act;
    if (!fuzz_venue_run(&in, &sigil_venue_dydx, data, size))
        return 0;
    if (!in.object || policy_dydx_classify(&act, &in.doc) != 0) {
        if (in.signed_ok)
            __builtin_trap();
        return 0;
    }
    int inspected = sigil_request_inspect(&info, "dydx", act, in.req, in.len) == 0;
    if (in.signed_ok && (!inspected || !info.orders_known || info.n_orders != 1))
        __builtin_trap();
    uint64_t ts;
    bool found;
    (void)policy_time_unsigned(&ts, &in.doc, &found);
    return 0;
}
