/*
 * libFuzzer target: the `peers` argument of sign (src/policy/limits_usage.c,
 * src/policy/limits.c), which the host supplies. The input is read as a
 * CBOR array of usage reports; failures must be typed errors. When it
 * reads, every report must write and read back the same, and an
 * admission with these peers must never let through more than one
 * without them (reports only ever take tokens away).
 */
#include <stdint.h>
#include <string.h>

#include "sigil/policy.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

#define NOW 1767225600000ull

static bool same(const sigil_limits_usage *a, const sigil_limits_usage *b)
{
    return memcmp(a->boot_id, b->boot_id, sizeof(a->boot_id)) == 0 && a->seq == b->seq &&
           a->time_ms == b->time_ms && a->requests_used == b->requests_used &&
           a->orders_used == b->orders_used && a->requests_deficit == b->requests_deficit &&
           a->orders_deficit == b->orders_deficit && a->day == b->day &&
           sigil_dec_cmp(&a->notional, &b->notional) == 0;
}

static void check_round_trip(const sigil_limits_usage *u)
{
    static uint8_t mem[1024];
    sigil_limits_usage back;
    sigil_buf b;
    sigil_cursor c;
    sigil_buf_init(&b, mem, sizeof(mem));
    CHECK(sigil_limits_usage_write(&b, u) == 0);
    sigil_cursor_init(&c, b.data, b.len);
    CHECK(sigil_limits_usage_read(&back, c) == 0);
    CHECK(same(u, &back));
}

/* One-order requests admitted in a row (at most 8 + 1 tried). */
static unsigned admitted(const sigil_policy *p, const sigil_limits_peers *peers)
{
    sigil_limits *l;
    sigil_policy_cost cost;
    unsigned n = 0;
    memset(&cost, 0, sizeof(cost));
    cost.orders = 1;
    cost.has_notional = true;
    sigil_dec_from_u64(&cost.notional, 1);
    CHECK(sigil_limits_new(&l) == 0);
    while (n <= 8 && sigil_limits_admit_shared(l, "t", "k", p, &cost, NOW, peers, NULL) == 0)
        n++;
    sigil_limits_free(l);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sigil_limits_usage peers[SIGIL_LIMITS_PEERS_MAX];
    static const uint8_t self[SIGIL_LIMITS_BOOT_ID_LEN] = {0};
    sigil_cursor c;
    size_t n = 0;
    sigil_cursor_init(&c, data, size);
    sigil_clear_error();
    if (sigil_limits_peers_read(peers, &n, c) != 0) {
        sigil_err e = sigil_errno();
        CHECK(e != SIGIL_OK && e != SIGIL_E_INTERNAL);
        return 0;
    }
    CHECK(n <= SIGIL_LIMITS_PEERS_MAX);
    for (size_t i = 0; i < n; i++)
        check_round_trip(&peers[i]);
    sigil_policy p;
    memset(&p, 0, sizeof(p));
    p.requests_per_minute = 7;
    p.orders_per_minute = 5;
    p.has_daily_notional = true;
    sigil_dec_from_u64(&p.daily_notional, 6);
    sigil_limits_peers with = {peers, n, self};
    unsigned alone = admitted(&p, NULL);
    CHECK(alone == 5);
    CHECK(admitted(&p, &with) <= alone);
    return 0;
}
