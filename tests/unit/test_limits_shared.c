/*
 * Unit tests for limits shared by several enclaves (src/policy/limits.c
 * sigil_limits_admit_shared, src/policy/limits_usage.c): two or three
 * sigil_limits instances stand for enclaves of different boots and pass
 * their usage reports to each other as the host would. Checked against
 * counts worked out by hand: a first-seen peer's deficit decayed to now,
 * later reports counted by what they add, one refill rate for all (the
 * split-usage case that summed deficits would refill twice as fast), the
 * daily notional summed over boots of the same UTC day, the own boot's
 * report skipped, reports that can never loosen a limit, and strict
 * reading of malformed reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/cbor.h"
#include "limits_util.h"

#define DAY 86400000ull
#define SCALE 60000ull /* units of one token */

/* One enclave: its limits, its boot id and its latest report. */
typedef struct {
    sigil_limits *l;
    uint8_t boot[SIGIL_LIMITS_BOOT_ID_LEN];
    sigil_limits_usage last;
    bool has_last;
} enclave;

static void enclave_init(enclave *e, uint8_t id)
{
    memset(e, 0, sizeof(*e));
    assert_int_equal(sigil_limits_new(&e->l), 0);
    memset(e->boot, id, sizeof(e->boot));
}

/* An admission on e with the given reports as peers; 0 or -1. */
static int admit_with(enclave *e, const sigil_policy_cost *c, uint64_t now,
                      const sigil_limits_usage *peers, size_t n)
{
    sigil_limits_usage r;
    memset(&r, 0, sizeof(r));
    memcpy(r.boot_id, e->boot, sizeof(r.boot_id));
    sigil_limits_peers p = {peers, n, e->boot};
    sigil_clear_error();
    int rc = sigil_limits_admit_shared(e->l, "acme", KID, &g_pol, c, now, &p, &r);
    if (rc == 0) {
        assert_memory_equal(r.boot_id, e->boot, sizeof(r.boot_id));
        e->last = r;
        e->has_last = true;
    }
    return rc;
}

/* An admission on e seeing the other enclave's latest report. */
static int admit_seeing(enclave *e, const enclave *other, const sigil_policy_cost *c, uint64_t now)
{
    return admit_with(e, c, now, other->has_last ? &other->last : NULL, other->has_last ? 1 : 0);
}

static sigil_limits_usage report(uint8_t boot, uint64_t t, uint64_t orders_used,
                                 uint64_t orders_deficit)
{
    sigil_limits_usage u;
    memset(&u, 0, sizeof(u));
    memset(u.boot_id, boot, sizeof(u.boot_id));
    u.seq = 1;
    u.time_ms = t;
    u.orders_used = orders_used;
    u.orders_deficit = orders_deficit;
    u.day = t / DAY;
    return u;
}

/* How many one-order requests pass in a row at now with these peers. */
static int run_out(enclave *e, uint64_t now, const sigil_limits_usage *peers, size_t n)
{
    sigil_policy_cost c = cost_of(1, NULL);
    int k = 0;
    while (k < 1000 && admit_with(e, &c, now, peers, n) == 0)
        k++;
    return k;
}

static void test_report_contents(void **state)
{
    (void)state;
    enclave a;
    enclave_init(&a, 0xa1);
    policy_with(1, 20, 10, "1000");
    sigil_policy_cost c = cost_of(3, "12.5");
    assert_int_equal(admit_with(&a, &c, T0 + 5, NULL, 0), 0);
    assert_int_equal(admit_with(&a, &c, T0 + 5, NULL, 0), 0);
    assert_int_equal(a.last.seq, 2);
    assert_int_equal(a.last.time_ms, T0 + 5);
    assert_int_equal(a.last.requests_used, 2);
    assert_int_equal(a.last.orders_used, 6);
    assert_int_equal(a.last.requests_deficit, 2 * SCALE);
    assert_int_equal(a.last.orders_deficit, 6 * SCALE);
    assert_int_equal(a.last.day, T0 / DAY);
    char s[32];
    assert_int_equal(sigil_dec_format(s, sizeof(s), &a.last.notional), 0);
    assert_string_equal(s, "25");
    /* 6 s later one order has been refilled (10 a minute) */
    assert_int_equal(admit_with(&a, &c, T0 + 6005, NULL, 0), 0);
    assert_int_equal(a.last.orders_deficit, (6 - 1 + 3) * SCALE);
    sigil_limits_free(a.l);
}

static void test_first_seen_deficit_decays(void **state)
{
    (void)state;
    enclave a, b;
    enclave_init(&a, 0xa1);
    enclave_init(&b, 0xb2);
    policy_with(1, 0, 10, NULL);
    /* a peer 6 orders down at now: 4 left */
    sigil_limits_usage p = report(0xc3, T0, 6, 6 * SCALE);
    assert_int_equal(run_out(&a, T0, &p, 1), 4);
    /* the same report 12 s old has refilled 2 of them: 6 left */
    assert_int_equal(run_out(&b, T0 + 12000, &p, 1), 6);
    sigil_limits_free(a.l);
    sigil_limits_free(b.l);
    /* a report from a clock ahead of ours does not decay */
    enclave_init(&a, 0xa1);
    p = report(0xc3, T0 + 50000, 6, 6 * SCALE);
    assert_int_equal(run_out(&a, T0, &p, 1), 4);
    sigil_limits_free(a.l);
    /* a deficit over the bucket counts as one bucket */
    enclave_init(&a, 0xa1);
    p = report(0xc3, T0, 6, 1000 * SCALE);
    assert_int_equal(run_out(&a, T0, &p, 1), 0);
    assert_int_equal(run_out(&a, T0 + 6000, &p, 1), 1);
    sigil_limits_free(a.l);
}

static void test_later_reports_count_increments(void **state)
{
    (void)state;
    enclave a;
    enclave_init(&a, 0xa1);
    policy_with(1, 0, 10, NULL);
    sigil_limits_usage p = report(0xc3, T0, 2, 2 * SCALE);
    sigil_policy_cost one = cost_of(1, NULL);
    assert_int_equal(admit_with(&a, &one, T0, &p, 1), 0); /* 10 - 2 - 1 = 7 left */
    /* the same report again: nothing new */
    assert_int_equal(admit_with(&a, &one, T0, &p, 1), 0); /* 6 left */
    /* it used 3 more since */
    p.orders_used = 5;
    p.orders_deficit = 5 * SCALE;
    p.seq = 2;
    assert_int_equal(run_out(&a, T0, &p, 1), 3);
    /* an older report arriving late takes nothing back */
    p.orders_used = 4;
    assert_int_equal(run_out(&a, T0 + 6000, &p, 1), 1);
    sigil_limits_free(a.l);
}

/* A known boot's new use counts as at its report time: used while this
 * enclave's bucket was full and long enough ago, it has refilled. */
static void test_increment_at_report_time(void **state)
{
    (void)state;
    enclave a;
    enclave_init(&a, 0xa1);
    policy_with(1, 0, 10, NULL);
    sigil_limits_usage p = report(0xc3, T0, 1, 1 * SCALE);
    sigil_policy_cost one = cost_of(1, NULL);
    assert_int_equal(admit_with(&a, &one, T0, &p, 1), 0); /* 10 - 1 - 1 */
    /* one more order at T0 + 61 s, when this bucket was full again */
    p.orders_used = 2;
    p.time_ms = T0 + 61000;
    p.seq = 2;
    assert_int_equal(run_out(&a, T0 + 120000, &p, 1), 10);
    /* two more 6 s ago (one token's refill): 9 now, a tenth 6 s later */
    enclave b;
    enclave_init(&b, 0xb2);
    sigil_limits_usage q = report(0xc3, T0, 1, 1 * SCALE);
    assert_int_equal(admit_with(&b, &one, T0, &q, 1), 0);
    q.orders_used = 3;
    q.time_ms = T0 + 240000 - 6000;
    assert_int_equal(run_out(&b, T0 + 240000, &q, 1), 9);
    assert_int_equal(run_out(&b, T0 + 246000, &q, 1), 1);
    /* a report time before this bucket's last change counts from that change */
    q.orders_used = 5;
    q.time_ms = T0;
    assert_int_equal(run_out(&b, T0 + 246000, &q, 1), 0);
    sigil_limits_free(a.l);
    sigil_limits_free(b.l);
}

/* Two enclaves each use half the bucket at T0, seeing each other's
 * reports. 30 s later one bucket refilled by half has 5 orders for both
 * together; per-boot deficits each refilling at the full rate would give
 * 10. */
static void test_one_refill_rate(void **state)
{
    (void)state;
    enclave a, b;
    enclave_init(&a, 0xa1);
    enclave_init(&b, 0xb2);
    policy_with(1, 0, 10, NULL);
    sigil_policy_cost one = cost_of(1, NULL);
    int passed = 0;
    for (int i = 0; i < 5; i++) {
        passed += admit_seeing(&a, &b, &one, T0) == 0;
        passed += admit_seeing(&b, &a, &one, T0) == 0;
    }
    assert_int_equal(passed, 10);
    assert_int_not_equal(admit_seeing(&a, &b, &one, T0), 0);
    assert_int_not_equal(admit_seeing(&b, &a, &one, T0), 0);
    passed = 0;
    for (int i = 0; i < 10; i++) {
        passed += admit_seeing(&a, &b, &one, T0 + 30000) == 0;
        passed += admit_seeing(&b, &a, &one, T0 + 30000) == 0;
    }
    assert_int_equal(passed, 5);
    sigil_limits_free(a.l);
    sigil_limits_free(b.l);
}

static void test_daily_notional_sums_boots(void **state)
{
    (void)state;
    enclave a;
    enclave_init(&a, 0xa1);
    policy_with(1, 0, 0, "100");
    sigil_limits_usage p[3];
    p[0] = report(0xc3, T0 + 10, 0, 0);
    assert_int_equal(sigil_dec_parse(&p[0].notional, "30.5", 4, "n"), 0);
    p[1] = report(0xd4, T0 + 20, 0, 0);
    assert_int_equal(sigil_dec_parse(&p[1].notional, "40", 2, "n"), 0);
    /* yesterday's report does not count today */
    p[2] = report(0xe5, T0 - 1000, 0, 0);
    assert_int_equal(sigil_dec_parse(&p[2].notional, "99", 2, "n"), 0);
    sigil_policy_cost c = cost_of(1, "29.5");
    assert_int_equal(admit_with(&a, &c, T0 + 100, p, 3), 0); /* 30.5 + 40 + 29.5 = 100 */
    sigil_policy_cost cent = cost_of(1, "0.01");
    assert_int_not_equal(admit_with(&a, &cent, T0 + 100, p, 3), 0);
    assert_int_equal(sigil_errno(), SIGIL_E_POLICY_DENIED);
    assert_non_null(strstr(sigil_errmsg(), "(100 used today)"));
    /* without the peers this enclave alone used 29.5 */
    assert_int_equal(admit_with(&a, &cent, T0 + 100, NULL, 0), 0);
    char s[32];
    assert_int_equal(sigil_dec_format(s, sizeof(s), &a.last.notional), 0);
    assert_string_equal(s, "29.51");
    /* the next UTC day: the peers' reports of the day before are stale */
    sigil_policy_cost big = cost_of(1, "100");
    assert_int_equal(admit_with(&a, &big, T0 + DAY, p, 3), 0);
    assert_int_equal(a.last.day, T0 / DAY + 1);
    sigil_limits_free(a.l);
}

static void test_own_report_skipped(void **state)
{
    (void)state;
    enclave a;
    enclave_init(&a, 0xa1);
    policy_with(1, 0, 10, "10");
    sigil_policy_cost c = cost_of(1, "1");
    assert_int_equal(admit_with(&a, &c, T0, NULL, 0), 0);
    sigil_limits_usage mine = a.last;
    mine.orders_used = 9; /* whatever it says, it is this enclave's own */
    mine.orders_deficit = 9 * SCALE;
    assert_int_equal(sigil_dec_parse(&mine.notional, "9", 1, "n"), 0);
    assert_int_equal(run_out(&a, T0, &mine, 1), 9);
    sigil_limits_free(a.l);
}

/* Once the bucket is empty, no report (random values, fixed seed) lets a
 * request through: reports only take tokens away. */
static void test_reports_never_loosen(void **state)
{
    (void)state;
    enclave a;
    enclave_init(&a, 0xa1);
    policy_with(1, 0, 5, NULL);
    assert_int_equal(run_out(&a, T0, NULL, 0), 5);
    srand(12345);
    sigil_limits_usage p[SIGIL_LIMITS_PEERS_MAX];
    for (int round = 0; round < 200; round++) {
        size_t n = (size_t)rand() % (SIGIL_LIMITS_PEERS_MAX + 1);
        for (size_t i = 0; i < n; i++) {
            p[i] = report((uint8_t)(rand() % 4), T0 + (uint64_t)(rand() % 120000) - 60000,
                          (uint64_t)rand() % 50, (uint64_t)rand() % (20 * SCALE));
            p[i].seq = (uint64_t)rand() % 10 + 1;
        }
        assert_int_equal(run_out(&a, T0, p, n), 0);
    }
    sigil_limits_peers too_many = {p, SIGIL_LIMITS_PEERS_MAX + 1, a.boot};
    sigil_policy_cost c = cost_of(1, NULL);
    assert_int_not_equal(
        sigil_limits_admit_shared(a.l, "acme", KID, &g_pol, &c, T0 + DAY, &too_many, NULL), 0);
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
    sigil_limits_free(a.l);
}

/* ---- reading reports ---- */

static uint8_t g_mem[8192];

static sigil_cursor encode(const sigil_limits_usage *u, size_t n)
{
    sigil_buf b;
    sigil_buf_init(&b, g_mem, sizeof(g_mem));
    assert_int_equal(sigil_cbor_put_array(&b, n), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sigil_limits_usage_write(&b, &u[i]), 0);
    sigil_cursor c;
    sigil_cursor_init(&c, b.data, b.len);
    return c;
}

static void test_round_trip(void **state)
{
    (void)state;
    sigil_limits_usage in[2], out[SIGIL_LIMITS_PEERS_MAX];
    size_t n = 99;
    in[0] = report(0xc3, T0, 7, 3 * SCALE + 17);
    in[0].requests_used = 11;
    in[0].requests_deficit = 5;
    in[0].seq = 42;
    assert_int_equal(sigil_dec_parse(&in[0].notional, "123.000456", 10, "n"), 0);
    in[1] = report(0xd4, T0 + 1, 0, 0);
    assert_int_equal(sigil_limits_peers_read(out, &n, encode(in, 2)), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(out[0].boot_id, in[0].boot_id, SIGIL_LIMITS_BOOT_ID_LEN);
    assert_int_equal(out[0].seq, 42);
    assert_int_equal(out[0].time_ms, T0);
    assert_int_equal(out[0].requests_used, 11);
    assert_int_equal(out[0].orders_used, 7);
    assert_int_equal(out[0].requests_deficit, 5);
    assert_int_equal(out[0].orders_deficit, 3 * SCALE + 17);
    assert_int_equal(out[0].day, T0 / DAY);
    assert_int_equal(sigil_dec_cmp(&out[0].notional, &in[0].notional), 0);
    assert_int_equal(out[1].time_ms, T0 + 1);
    assert_int_equal(sigil_limits_peers_read(out, &n, encode(in, 0)), 0);
    assert_int_equal(n, 0);
}

/* A day's notional with more digits than a report carries is reported
 * rounded up to a whole number: 10^40 + 10^-62 → 10^40 + 1. */
static void test_long_notional_rounds_up(void **state)
{
    (void)state;
    enclave a;
    char big[80], frac[80], want[80], got[80];
    sigil_limits_usage out[SIGIL_LIMITS_PEERS_MAX];
    size_t n = 0;
    enclave_init(&a, 0xa1);
    (void)snprintf(big, sizeof(big), "1%040d", 0);
    (void)snprintf(frac, sizeof(frac), "0.%061d1", 0);
    (void)snprintf(want, sizeof(want), "1%039d1", 0);
    policy_with(1, 0, 0,
                "1"
                "000000000000000000000000000000000000000000000000000000000000000");
    sigil_policy_cost c1 = cost_of(1, big), c2 = cost_of(1, frac);
    assert_int_equal(admit_with(&a, &c1, T0, NULL, 0), 0);
    assert_int_equal(admit_with(&a, &c2, T0, NULL, 0), 0);
    assert_int_equal(sigil_limits_peers_read(out, &n, encode(&a.last, 1)), 0);
    assert_int_equal(sigil_dec_format(got, sizeof(got), &out[0].notional), 0);
    assert_string_equal(got, want);
    assert_true(sigil_dec_cmp(&out[0].notional, &a.last.notional) > 0);
    sigil_limits_free(a.l);
}

/* A report map whose field `bad` is replaced by `how` (0: left out,
 * 1: an extra unknown key, 2: a value of the wrong type, 3: a number over
 * 2^53-1, 4: boot_id of 15 bytes, 5: a notional that is not a decimal). */
static sigil_cursor bad_report(const char *bad, int how)
{
    static const char *const NUMS[] = {"seq",         "time_ms",          "requests_used",
                                       "orders_used", "requests_deficit", "orders_deficit",
                                       "day"};
    sigil_buf b;
    sigil_buf_init(&b, g_mem, sizeof(g_mem));
    bool drop = how == 0, extra = how == 1;
    size_t n = 9 - (drop ? 1 : 0) + (extra ? 1 : 0);
    assert_int_equal(sigil_cbor_put_array(&b, 1), 0);
    assert_int_equal(sigil_cbor_put_map(&b, n), 0);
    uint8_t boot[16] = {1};
    if (!(drop && strcmp(bad, "boot_id") == 0)) {
        assert_int_equal(sigil_cbor_put_cstr(&b, "boot_id"), 0);
        assert_int_equal(sigil_cbor_put_bytes(&b, boot, how == 4 ? 15 : 16), 0);
    }
    for (size_t i = 0; i < 7; i++) {
        bool hit = strcmp(bad, NUMS[i]) == 0;
        if (hit && drop)
            continue;
        assert_int_equal(sigil_cbor_put_cstr(&b, NUMS[i]), 0);
        if (hit && how == 2)
            assert_int_equal(sigil_cbor_put_cstr(&b, "1"), 0);
        else
            assert_int_equal(sigil_cbor_put_uint(&b, hit && how == 3 ? (1ull << 53) : 1), 0);
    }
    if (!(drop && strcmp(bad, "notional") == 0)) {
        assert_int_equal(sigil_cbor_put_cstr(&b, "notional"), 0);
        assert_int_equal(sigil_cbor_put_cstr(&b, how == 5 ? "-1" : "1.5"), 0);
    }
    if (extra) {
        assert_int_equal(sigil_cbor_put_cstr(&b, bad), 0);
        assert_int_equal(sigil_cbor_put_uint(&b, 0), 0);
    }
    sigil_cursor c;
    sigil_cursor_init(&c, b.data, b.len);
    return c;
}

static void refused(sigil_cursor c, sigil_err want, const char *in_msg)
{
    sigil_limits_usage out[SIGIL_LIMITS_PEERS_MAX];
    size_t n = 0;
    sigil_clear_error();
    assert_int_not_equal(sigil_limits_peers_read(out, &n, c), 0);
    if (sigil_errno() != want || strstr(sigil_errmsg(), in_msg) == NULL)
        fail_msg("got %s '%s', wanted %s '%s'", sigil_err_code(sigil_errno()), sigil_errmsg(),
                 sigil_err_code(want), in_msg);
}

static void test_malformed_refused(void **state)
{
    (void)state;
    sigil_limits_usage u[SIGIL_LIMITS_PEERS_MAX + 1];
    sigil_limits_usage out[SIGIL_LIMITS_PEERS_MAX];
    size_t n = 0;
    for (size_t i = 0; i <= SIGIL_LIMITS_PEERS_MAX; i++)
        u[i] = report((uint8_t)i, T0, 1, 1);
    /* the well-formed control */
    assert_int_equal(sigil_limits_peers_read(out, &n, bad_report("none", 6)), 0);
    assert_int_equal(n, 1);
    assert_int_equal(sigil_limits_peers_read(out, &n, encode(u, SIGIL_LIMITS_PEERS_MAX)), 0);
    refused(encode(u, SIGIL_LIMITS_PEERS_MAX + 1), SIGIL_E_TOO_LARGE, "more than 16");
    refused(bad_report("seq", 0), SIGIL_E_BAD_REQUEST, "'seq' missing");
    refused(bad_report("boot_id", 0), SIGIL_E_BAD_REQUEST, "'boot_id' missing");
    refused(bad_report("notional", 0), SIGIL_E_BAD_REQUEST, "'notional' missing");
    refused(bad_report("limit", 1), SIGIL_E_BAD_REQUEST, "unknown key 'limit'");
    refused(bad_report("seq", 1), SIGIL_E_PROTOCOL, ""); /* a duplicate key */
    refused(bad_report("day", 2), SIGIL_E_BAD_FIELD, "day");
    refused(bad_report("orders_deficit", 3), SIGIL_E_BAD_FIELD, "usage.orders_deficit: over");
    refused(bad_report("time_ms", 3), SIGIL_E_BAD_FIELD, "usage.time_ms: over");
    refused(bad_report("none", 4), SIGIL_E_BAD_FIELD, "boot_id: 15 bytes");
    refused(bad_report("none", 5), SIGIL_E_BAD_FIELD, "usage.notional");
    /* not an array; an item that is not a map; bytes after the array */
    uint8_t not_array[] = {0xa0};
    sigil_cursor c;
    sigil_cursor_init(&c, not_array, sizeof(not_array));
    refused(c, SIGIL_E_BAD_FIELD, "peers");
    uint8_t not_map[] = {0x81, 0x01};
    sigil_cursor_init(&c, not_map, sizeof(not_map));
    refused(c, SIGIL_E_BAD_FIELD, "peers[0]: expected a map");
    uint8_t trailing[] = {0x80, 0x00};
    sigil_cursor_init(&c, trailing, sizeof(trailing));
    refused(c, SIGIL_E_BAD_ENCODING, "trailing");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_contents),
        cmocka_unit_test(test_first_seen_deficit_decays),
        cmocka_unit_test(test_later_reports_count_increments),
        cmocka_unit_test(test_increment_at_report_time),
        cmocka_unit_test(test_one_refill_rate),
        cmocka_unit_test(test_daily_notional_sums_boots),
        cmocka_unit_test(test_own_report_skipped),
        cmocka_unit_test(test_reports_never_loosen),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_long_notional_rounds_up),
        cmocka_unit_test(test_malformed_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
