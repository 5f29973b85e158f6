/*
 * Limits across enclaves, the host's part (docs/POLICY.md "Limits across
 * enclaves"). Untrusted host code: it moves usage reports between enclaves
 * and checks only their shape; each enclave reads them strictly and can
 * only become stricter from them. The reports of a key are read from the
 * store through a short cache (--peer-usage-ms; 0: read for every sign).
 */
#include <stdio.h>
#include <string.h>

#include "gateway/gateway.h"
#include "sigil/policy.h"

typedef struct {
    sigil_buf *out;
    size_t n;
} peers_ctx;

/* One stored report appended to the array, if it is one (a row altered
 * behind the store's back is left out, with a warning). */
static int peer_add(void *ctx, const uint8_t *report, size_t len)
{
    peers_ctx *pc = ctx;
    sigil_limits_usage u;
    sigil_cursor c;
    sigil_cursor_init(&c, report, len);
    if (sigil_limits_usage_read(&u, c) != 0) {
        gw_log_warn("limits: a stored usage report is malformed (%s); left out", sigil_errmsg());
        sigil_clear_error();
        return 0;
    }
    GUARD(sigil_buf_put(pc->out, report, len));
    pc->n++;
    return 0;
}

static int peers_read(gw_server *g, const char *tenant, const char *key_id, sigil_buf *out)
{
    static _Thread_local uint8_t mem[GW_PEERS_MAX];
    sigil_buf items;
    sigil_buf_init(&items, mem, sizeof(mem));
    peers_ctx pc = {&items, 0};
    out->len = 0;
    GUARD(
        g->store->ops->usage_list(g->store, tenant, key_id, SIGIL_LIMITS_PEERS_MAX, peer_add, &pc));
    if (pc.n == 0)
        return 0;
    GUARD(sigil_cbor_put_array(out, pc.n));
    return sigil_buf_put(out, items.data, items.len);
}

int gw_peers_get(gw_server *g, const char *tenant, const char *key_id, sigil_buf *out)
{
    char ck[SIGIL_TENANT_MAX + SIGIL_KEY_ID_MAX + 2];
    uint64_t now = (uint64_t)sigil_store_now_ms();
    size_t len = out->cap;
    (void)snprintf(ck, sizeof(ck), "%s/%s", tenant, key_id);
    if (gw_cache_get(g->peer_cache, ck, out->data, &len, now)) {
        out->len = len;
        return 0;
    }
    GUARD(peers_read(g, tenant, key_id, out));
    gw_cache_put(g->peer_cache, ck, out->data, out->len, now);
    return 0;
}

int gw_usage_take(sigil_usage_record *u, uint8_t *mem, const uint8_t *p, size_t len)
{
    sigil_limits_usage r;
    sigil_cursor c;
    ENSURE(len >= 1 && len <= SIGIL_USAGE_REPORT_MAX, SIGIL_E_PROTOCOL,
           "enclave result: usage has a bad length");
    sigil_cursor_init(&c, p, len);
    if (sigil_limits_usage_read(&r, c) != 0)
        BAIL(SIGIL_E_PROTOCOL, "enclave result: usage: %s", sigil_errmsg());
    ENSURE(r.seq >= 1 && r.time_ms <= INT64_MAX, SIGIL_E_PROTOCOL,
           "enclave result: usage: seq or time_ms out of range");
    memcpy(mem, p, len);
    memcpy(u->boot_id, r.boot_id, sizeof(u->boot_id));
    u->seq = r.seq;
    u->time_ms = (int64_t)r.time_ms;
    u->report = mem;
    u->report_len = len;
    return 0;
}
