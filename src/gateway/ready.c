/*
 * The store's part of /readyz (docs/OBSERVABILITY.md "Readiness"): the
 * store answers a read of the audit chain's head, and no audit write has
 * failed in the last AUDIT_HOLD_US without a success since. Untrusted host
 * code. A failed audit write withholds the response (503
 * audit_unavailable), so a gateway whose store refuses writes must not be
 * sent traffic; after the hold it is ready again so that real requests can
 * show whether the store recovered (no request writes to probe it).
 */
#include <stdio.h>

#include "gateway/gateway.h"

#define AUDIT_HOLD_US 5000000u

int gw_ready_store(gw_server *g, char *msg, size_t cap)
{
    uint64_t seq = 0;
    uint8_t hash[32];
    uint64_t failed = gw_metrics_audit_failed_at();
    uint64_t now = gw_mono_us();
    if (failed != 0 && now - failed < AUDIT_HOLD_US) {
        snprintf(msg, cap, "store: an audit write failed %llu ms ago",
                 (unsigned long long)((now - failed) / 1000u));
        return -1;
    }
    if (g->store->ops->audit_head(g->store, &seq, hash) != 0) {
        snprintf(msg, cap, "store: %s", sigil_errmsg());
        return -1;
    }
    return 0;
}
