/*
 * What the per-key limits tests share (test_limits.c, test_limits_shared.c):
 * a policy with the given limits in g_pol and the cost of a request.
 */
#ifndef SIGIL_TEST_LIMITS_UTIL_H
#define SIGIL_TEST_LIMITS_UTIL_H

#include <string.h>

#include "sigil/policy.h"

#define T0 1767225600000ull /* 2026-01-01T00:00:00Z, a day boundary */
#define KID "00112233445566778899aabbccddeeff"

static sigil_policy g_pol;

static void policy_with(uint64_t version, uint32_t rpm, uint32_t opm, const char *daily)
{
    memset(&g_pol, 0, sizeof(g_pol));
    g_pol.version = version;
    g_pol.requests_per_minute = rpm;
    g_pol.orders_per_minute = opm;
    g_pol.has_daily_notional = daily != NULL;
    if (daily != NULL)
        assert_int_equal(sigil_dec_parse(&g_pol.daily_notional, daily, strlen(daily), "d"), 0);
}

static sigil_policy_cost cost_of(uint32_t orders, const char *notional)
{
    sigil_policy_cost c;
    memset(&c, 0, sizeof(c));
    c.orders = orders;
    c.has_notional = notional != NULL;
    if (notional != NULL)
        assert_int_equal(sigil_dec_parse(&c.notional, notional, strlen(notional), "n"), 0);
    return c;
}

#endif
