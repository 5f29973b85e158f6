/*
 * Fuzz target for the policy layer: canonical form (and that it is a fixed
 * point), policy parsing, request classification, inspection, evaluation
 * against a policy using every rule, and request time, for the venue the
 * first byte picks. Properties are checked with abort().
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const VENUES[] = {
    "binance",     "aster",  "eip712", "eip191", "bybit",   "okx",      "kucoinfutures", "kucoin",
    "hyperliquid", "kraken", "bitget", "gate",   "deribit", "bitfinex", "coinbase",
};
#define NVENUES (sizeof(VENUES) / sizeof(VENUES[0]))

/* A policy per venue with every rule the venue takes. */
static sigil_policy g_rich[NVENUES];
static bool g_rich_ok[NVENUES];

static void rich_init(void)
{
    static bool done;
    static char text[2048];
    if (done)
        return;
    done = true;
    for (size_t i = 0; i < NVENUES; i++) {
        bool hl = strcmp(VENUES[i], "hyperliquid") == 0;
        bool paths = !hl && strncmp(VENUES[i], "eip", 3) != 0;
        int n = snprintf(
            text, sizeof(text),
            "{\"version\":3,\"tenant\":\"t\",\"venue\":\"%s\",\"network\":\"mainnet\","
            "\"actions\":[\"*\"],\"not_after\":4000000000,\"skew_ms\":5000%s,"
            "\"symbols\":{\"BTCUSDT\":{\"max_qty\":\"1.5\",\"max_notional\":\"100000\","
            "\"sides\":[\"buy\"],\"size_decimals\":3},\"0\":{\"max_qty\":\"2\","
            "\"multiplier\":\"0.01\",\"reduce_only\":true}},"
            "\"destinations\":[\"0x8ba1f109551bd432803012645ac136ddd64dba72\"],\"agents\":[]%s,"
            "\"limits\":{\"requests_per_minute\":100,\"orders_per_minute\":50,"
            "\"daily_notional\":\"1000000\"}}",
            VENUES[i],
            paths ? ",\"http\":{\"methods\":[\"GET\",\"POST\"],\"allow_paths\":[\"/api/\"],"
                    "\"deny_paths\":[\"/sapi/v1/sub-account/\"]}"
                  : "",
            hl ? ",\"hyperliquid\":{\"vaults\":[],\"user_actions\":[\"usdSend\"]}" : "");
        g_rich_ok[i] = n > 0 && (size_t)n < sizeof(text) &&
                       sigil_policy_parse(&g_rich[i], text, (size_t)n) == 0;
        if (!g_rich_ok[i])
            abort(); /* the fixed policies must parse */
    }
}

/* classify -> inspect -> evaluate: typed errors only, never a crash. */
static void evaluate(size_t vi, const char *text, size_t len)
{
    static sigil_request_info info;
    sigil_action action;
    sigil_policy_cost cost;
    if (sigil_request_action(&action, VENUES[vi], text, len) != 0)
        return;
    if ((unsigned)action >= SIGIL_ACTION_COUNT_)
        abort();
    if (sigil_request_inspect(&info, VENUES[vi], action, text, len) != 0)
        return;
    if (info.n_orders > SIGIL_MAX_ORDERS || info.n_destinations > SIGIL_MAX_REQUEST_NAMES ||
        info.n_agents > SIGIL_MAX_REQUEST_NAMES)
        abort();
    sigil_policy_input in = {VENUES[vi], SIGIL_NET_MAINNET, action, &info, 1767225600000ull};
    if (sigil_policy_evaluate(&g_rich[vi], &in, &cost) != 0 &&
        sigil_errno() != SIGIL_E_POLICY_DENIED && sigil_errno() != SIGIL_E_OUT_OF_RANGE)
        abort(); /* evaluation denies; it never fails otherwise */
}

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
    rich_init();
    size_t vi = data[0] % NVENUES;
    const char *venue = VENUES[vi];
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
    (void)action;
    evaluate(vi, text, len);
    (void)sigil_request_time_ms(&t, venue, text, len);
    return 0;
}
