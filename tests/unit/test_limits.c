/*
 * Unit tests for the enclave's per-key limits (src/policy/limits.c): the
 * highest policy version per key, token-bucket request and order rates,
 * and the UTC-day notional cap — including many threads admitting at once,
 * where exactly the capacity may pass (no over-issue).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "limits_util.h"

static int admit(sigil_limits *l, const char *key, const sigil_policy_cost *c, uint64_t now)
{
    sigil_clear_error();
    return sigil_limits_admit(l, "acme", key, &g_pol, c, now);
}

static void test_versions(void **state)
{
    (void)state;
    sigil_limits *l;
    sigil_policy_cost c = cost_of(0, NULL);
    assert_int_equal(sigil_limits_new(&l), 0);
    policy_with(3, 0, 0, NULL);
    assert_int_equal(admit(l, KID, &c, T0), 0);
    policy_with(2, 0, 0, NULL);
    assert_int_equal(admit(l, KID, &c, T0), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_POLICY_DENIED);
    assert_non_null(strstr(sigil_errmsg(), "version 2 superseded by 3"));
    /* Another key, or another tenant's key with the same id, is its own. */
    assert_int_equal(admit(l, "ffeeddccbbaa99887766554433221100", &c, T0), 0);
    assert_int_equal(sigil_limits_admit(l, "other", KID, &g_pol, &c, T0), 0);
    /* An update raises the floor; an older version is refused then. */
    assert_int_equal(sigil_limits_version(l, "acme", KID, 5), 0);
    policy_with(4, 0, 0, NULL);
    assert_int_equal(admit(l, KID, &c, T0), -1);
    assert_int_equal(sigil_limits_version(l, "acme", KID, 4), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_POLICY_DENIED);
    sigil_limits_free(l);
}

static void test_request_rate(void **state)
{
    (void)state;
    sigil_limits *l;
    sigil_policy_cost c = cost_of(0, NULL);
    assert_int_equal(sigil_limits_new(&l), 0);
    policy_with(1, 60, 0, NULL); /* one per second sustained, burst 60 */
    for (int i = 0; i < 60; i++)
        assert_int_equal(admit(l, KID, &c, T0), 0);
    assert_int_equal(admit(l, KID, &c, T0), -1);
    assert_non_null(strstr(sigil_errmsg(), "requests_per_minute 60 reached"));
    assert_int_equal(admit(l, KID, &c, T0 + 999), -1); /* not yet a whole token */
    assert_int_equal(admit(l, KID, &c, T0 + 1000), 0);
    assert_int_equal(admit(l, KID, &c, T0 + 1000), -1);
    assert_int_equal(admit(l, KID, &c, T0 + 61000), 0); /* refilled to capacity, not beyond */
    for (int i = 0; i < 59; i++)
        assert_int_equal(admit(l, KID, &c, T0 + 61000), 0);
    assert_int_equal(admit(l, KID, &c, T0 + 61000), -1);
    sigil_limits_free(l);
}

static void test_order_rate_counts_batches(void **state)
{
    (void)state;
    sigil_limits *l;
    assert_int_equal(sigil_limits_new(&l), 0);
    policy_with(1, 0, 10, NULL);
    sigil_policy_cost five = cost_of(5, NULL), six = cost_of(6, NULL), none = cost_of(0, NULL);
    assert_int_equal(admit(l, KID, &five, T0), 0);
    assert_int_equal(admit(l, KID, &six, T0), -1); /* all or nothing */
    assert_non_null(strstr(sigil_errmsg(), "orders_per_minute 10 reached"));
    assert_int_equal(admit(l, KID, &five, T0), 0);
    assert_int_equal(admit(l, KID, &none, T0), 0); /* a cancel costs no order */
    assert_int_equal(admit(l, KID, &five, T0), -1);
    sigil_limits_free(l);
}

static void test_daily_notional(void **state)
{
    (void)state;
    sigil_limits *l;
    assert_int_equal(sigil_limits_new(&l), 0);
    policy_with(1, 0, 0, "1000.5");
    sigil_policy_cost a = cost_of(1, "600.25"), b = cost_of(1, "400.25"), c = cost_of(1, "0.01");
    assert_int_equal(admit(l, KID, &a, T0 + 1), 0);
    assert_int_equal(admit(l, KID, &b, T0 + 2), 0); /* exactly the cap: allowed */
    assert_int_equal(admit(l, KID, &c, T0 + 3), -1);
    assert_non_null(strstr(sigil_errmsg(), "daily_notional 1000.5 reached (1000.5 used today)"));
    /* A denied request consumed nothing; the next UTC day starts at zero. */
    assert_int_equal(admit(l, KID, &a, T0 + 86400000ull), 0);
    assert_int_equal(admit(l, KID, &b, T0 + 86400000ull), 0);
    sigil_limits_free(l);
}

/* ---- concurrency: exactly the capacity passes ---- */

#define THREADS 8
#define TRIES 400

typedef struct {
    sigil_limits *l;
    sigil_policy_cost cost;
    atomic_uint *ok;
} race_arg;

static void *racer(void *p)
{
    race_arg *a = p;
    for (int i = 0; i < TRIES; i++)
        if (sigil_limits_admit(a->l, "acme", KID, &g_pol, &a->cost, T0) == 0)
            atomic_fetch_add(a->ok, 1);
    return NULL;
}

static unsigned race(const char *notional, uint32_t orders)
{
    sigil_limits *l;
    pthread_t th[THREADS];
    race_arg args[THREADS];
    atomic_uint ok = 0;
    assert_int_equal(sigil_limits_new(&l), 0);
    for (int i = 0; i < THREADS; i++) {
        args[i] = (race_arg){l, cost_of(orders, notional), &ok};
        assert_int_equal(pthread_create(&th[i], NULL, racer, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    sigil_limits_free(l);
    return atomic_load(&ok);
}

static void test_no_over_issue(void **state)
{
    (void)state;
    policy_with(1, 1000, 0, NULL);
    assert_int_equal(race(NULL, 0), 1000);
    policy_with(1, 0, 999, NULL);
    assert_int_equal(race(NULL, 3), 333);
    policy_with(1, 0, 0, "300");
    assert_int_equal(race("0.1", 1), 3000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_request_rate),
        cmocka_unit_test(test_order_rate_counts_batches),
        cmocka_unit_test(test_daily_notional),
        cmocka_unit_test(test_no_over_issue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
