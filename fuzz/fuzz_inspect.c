/*
 * Fuzz target for request inspection (src/policy/inspect*.c): the first byte
 * picks the venue (byte % 15) and the action it is inspected as (byte / 15);
 * the rest is the request. Properties are checked with abort(): a refusal
 * leaves nothing behind, every string is terminated and within its limit,
 * every decimal formats, orders are known only for trading actions, and a
 * second inspection of the same bytes gives the same result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const VENUES[] = {
    "binance",     "aster",  "eip712", "eip191", "bybit",   "okx",      "kucoinfutures", "kucoin",
    "hyperliquid", "kraken", "bitget", "gate",   "deribit", "bitfinex", "coinbase",
};
#define N_VENUES (sizeof(VENUES) / sizeof(VENUES[0]))

static sigil_request_info g_a, g_b;
static const sigil_request_info ZERO;

static void check_str(const char *s, size_t cap)
{
    if (memchr(s, '\0', cap) == NULL)
        abort();
}

static void check_dec(bool has, const sigil_dec *d)
{
    char buf[700];
    if (has && (d->n > SIGIL_DEC_LIMBS || sigil_dec_format(buf, sizeof(buf), d) != 0))
        abort();
}

static void check_info(const sigil_request_info *r, sigil_action action)
{
    bool trade = action == SIGIL_ACTION_ORDER || action == SIGIL_ACTION_MODIFY ||
                 action == SIGIL_ACTION_CANCEL;
    if (r->n_orders > SIGIL_MAX_ORDERS || r->n_destinations > SIGIL_MAX_REQUEST_NAMES ||
        r->n_agents > SIGIL_MAX_REQUEST_NAMES || (r->orders_known && !trade) ||
        (!r->orders_known && r->n_orders != 0))
        abort();
    if ((r->has_path && __builtin_popcount(r->method) != 1) || (!r->has_path && r->method != 0))
        abort();
    check_str(r->path, sizeof(r->path));
    check_str(r->vault, sizeof(r->vault));
    check_str(r->kind, sizeof(r->kind));
    for (size_t i = 0; i < r->n_orders; i++) {
        const sigil_order *o = &r->orders[i];
        check_str(o->symbol, sizeof(o->symbol));
        check_dec(o->has_qty, &o->qty);
        check_dec(o->has_price, &o->price);
        check_dec(o->has_quote_qty, &o->quote_qty);
    }
    for (size_t i = 0; i < r->n_destinations; i++)
        check_str(r->destinations[i].v, sizeof(r->destinations[i].v));
    for (size_t i = 0; i < r->n_agents; i++)
        check_str(r->agents[i].v, sizeof(r->agents[i].v));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *venue = VENUES[data[0] % N_VENUES];
    sigil_action action = (sigil_action)((data[0] / N_VENUES) % SIGIL_ACTION_COUNT_);
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    int rc = sigil_request_inspect(&g_a, venue, action, text, len);
    if (rc != 0) {
        if (memcmp(&g_a, &ZERO, sizeof(g_a)) != 0)
            abort(); /* nothing half-read */
        return 0;
    }
    check_info(&g_a, action);
    if (sigil_request_inspect(&g_b, venue, action, text, len) != 0 ||
        memcmp(&g_a, &g_b, sizeof(g_a)) != 0)
        abort();
    return 0;
}
