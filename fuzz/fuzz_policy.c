/*
 * Fuzz target for the policy layer: canonical form (and that it is a fixed
 * point), policy parsing, request classification and request time for the
 * venue the first byte picks. Properties are checked with abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const VENUES[] = {
    "binance", "aster",       "eip712", "eip191", "bybit", "okx",     "kucoinfutures",
    "kucoin",  "hyperliquid", "kraken", "bitget", "gate",  "deribit", "bitfinex",
};

static char g_once[SIGIL_CANON_MAX_BYTES];
static char g_twice[SIGIL_CANON_MAX_BYTES];

static void check_canonical_fixed_point(const char *text, size_t len)
{
    sigil_buf a, b;
    sigil_buf_init(&a, g_once, sizeof(g_once));
    if (sigil_json_canonicalize(&a, text, len) != 0) {
        if (a.len != 0)
            abort(); /* must fail atomically */
        return;
    }
    if (a.len > len)
        abort(); /* canonical text is never longer than its input */
    sigil_buf_init(&b, g_twice, sizeof(g_twice));
    if (sigil_json_canonicalize(&b, g_once, a.len) != 0 || b.len != a.len ||
        memcmp(g_once, g_twice, a.len) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sigil_policy p;
    sigil_action action;
    uint64_t t;
    if (size < 1)
        return 0;
    const char *venue = VENUES[data[0] % (sizeof(VENUES) / sizeof(VENUES[0]))];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    check_canonical_fixed_point(text, len);
    if (sigil_policy_parse(&p, text, len) == 0) {
        if (p.version < 1 || p.not_before >= p.not_after || p.actions == 0 ||
            p.actions > SIGIL_ACTIONS_ALL || !sigil_policy_venue_known(p.venue) ||
            memchr(p.tenant, '\0', sizeof(p.tenant)) == NULL)
            abort();
        (void)sigil_policy_check(&p, venue, SIGIL_NET_MAINNET, SIGIL_ACTION_ORDER, 1);
    }
    if (sigil_request_action(&action, venue, text, len) == 0 &&
        (unsigned)action >= SIGIL_ACTION_COUNT_)
        abort();
    (void)sigil_request_time_ms(&t, venue, text, len);
    return 0;
}
