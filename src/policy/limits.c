/*
 * Per-key state the enclave keeps in memory (libsigil-core, no secrets):
 * the highest policy version seen, whether the owner revoked the key, the
 * request and order token buckets, and the UTC day's notional. Shards of
 * open-addressed tables, each behind its own mutex; sigil_limits_admit
 * checks everything and then records everything under one shard lock, so
 * concurrent requests of one key can never together exceed a limit. What a
 * restart forgets: docs/POLICY.md.
 *
 * Several enclaves serving one key (docs/POLICY.md "Limits across
 * enclaves"): each keeps, beside the buckets it admits with, buckets of its
 * own consumption only and running totals, which it reports; the reports of
 * other boots fold into the admitting buckets — a boot seen for the first
 * time with its own deficit decayed to now, afterwards with what it used
 * since — so that all consumption drains at one bucket's rate (summing
 * per-boot deficits would refill N times as fast). Folding only ever takes
 * tokens away: reports can make an enclave stricter, never looser.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy_internal.h"

#define SHARDS 64u
#define MINUTE_MS 60000u
#define DAY_MS 86400000u
#define KEY_BYTES (64 + 1 + 64 + 1)

typedef struct {
    uint64_t ms;    /* last refill */
    int64_t tokens; /* scaled: one token = MINUTE_MS units; below 0 after peers' use */
    bool started;
} bucket;

/* What was last counted of another boot's consumption of this key. */
typedef struct {
    uint8_t boot_id[SIGIL_LIMITS_BOOT_ID_LEN];
    uint64_t requests, orders;
    bool used;
} peer_seen;

typedef struct {
    char key[KEY_BYTES]; /* "tenant/key_id"; "" = empty slot */
    uint64_t max_version;
    bool revoked; /* for good: nothing clears it */
    bucket requests, orders;
    uint64_t day;
    sigil_dec day_notional; /* this enclave's own */
    /* own consumption only, for reports */
    bucket own_requests, own_orders;
    uint64_t requests_used, orders_used, seq;
    peer_seen peers[SIGIL_LIMITS_PEERS_MAX];
    unsigned next_peer; /* slot replaced when all are used */
} entry;

typedef struct {
    pthread_mutex_t lock;
    entry *slots;
    size_t cap, used;
} shard;

struct sigil_limits {
    shard shards[SHARDS];
    atomic_size_t revoked; /* keys revoked, at most SIGIL_REVOKED_MAX */
};

int sigil_limits_new(sigil_limits **out)
{
    sigil_limits *l = calloc(1, sizeof(*l));
    ENSURE(l != NULL, SIGIL_E_NO_MEMORY, "limits: out of memory");
    for (unsigned i = 0; i < SHARDS; i++)
        pthread_mutex_init(&l->shards[i].lock, NULL);
    *out = l;
    return 0;
}

void sigil_limits_free(sigil_limits *l)
{
    if (l == NULL)
        return;
    for (unsigned i = 0; i < SHARDS; i++) {
        free(l->shards[i].slots);
        pthread_mutex_destroy(&l->shards[i].lock);
    }
    free(l);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s != '\0'; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static entry *probe(entry *slots, size_t cap, const char *key, uint64_t h)
{
    for (size_t i = (size_t)(h >> 8) & (cap - 1);; i = (i + 1) & (cap - 1))
        if (slots[i].key[0] == '\0' || strcmp(slots[i].key, key) == 0)
            return &slots[i];
}

static int grow(shard *s)
{
    size_t cap = s->cap == 0 ? 64 : s->cap * 2;
    entry *slots = calloc(cap, sizeof(*slots));
    ENSURE(slots != NULL, SIGIL_E_NO_MEMORY, "limits: out of memory");
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i].key[0] != '\0')
            *probe(slots, cap, s->slots[i].key, fnv1a(s->slots[i].key)) = s->slots[i];
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return 0;
}

/* The key's entry, created on first use; called with the shard locked. */
static int find(entry **out, shard *s, const char *key, uint64_t h)
{
    if ((s->used + 1) * 10 > s->cap * 7)
        GUARD(grow(s));
    entry *e = probe(s->slots, s->cap, key, h);
    if (e->key[0] == '\0') {
        memset(e, 0, sizeof(*e));
        memcpy(e->key, key, strlen(key) + 1);
        s->used++;
    }
    *out = e;
    return 0;
}

static int make_key(char key[KEY_BYTES], const char *tenant, const char *key_id)
{
    int n = snprintf(key, KEY_BYTES, "%s/%s", tenant, key_id);
    ENSURE(n > 2 && n < KEY_BYTES, SIGIL_E_BAD_FIELD, "limits: tenant or key id too long");
    return 0;
}

/* ---- token buckets: capacity N, refilled N per minute ---- */

static int64_t bucket_cap(uint32_t per_minute)
{
    return (int64_t)per_minute * MINUTE_MS;
}

static int64_t bucket_level(const bucket *b, uint32_t per_minute, uint64_t now_ms)
{
    int64_t cap = bucket_cap(per_minute);
    if (!b->started)
        return cap;
    int64_t t = b->tokens;
    if (now_ms > b->ms) {
        uint64_t dt = now_ms - b->ms;
        /* past a full refill the exact sum does not matter (and may not fit) */
        if (dt >= (uint64_t)MINUTE_MS * (SIGIL_LIMITS_PEERS_MAX + 2))
            return cap;
        t += (int64_t)dt * per_minute;
    }
    return t > cap ? cap : t;
}

static int bucket_check(const bucket *b, uint32_t per_minute, uint64_t need, uint64_t now_ms,
                        const char *name)
{
    if (per_minute == 0 || need == 0)
        return 0;
    ENSURE(bucket_level(b, per_minute, now_ms) >= (int64_t)(need * MINUTE_MS),
           SIGIL_E_POLICY_DENIED, "policy: %s %" PRIu32 " reached", name, per_minute);
    return 0;
}

/* Takes `scaled` units (need * MINUTE_MS, or a peer's share); the level
 * never goes below -SIGIL_LIMITS_PEERS_MAX buckets, so that any burst of
 * reports is forgotten within a bounded time. */
static void bucket_sub(bucket *b, uint32_t per_minute, uint64_t scaled, uint64_t now_ms)
{
    if (per_minute == 0)
        return;
    int64_t floor = -(int64_t)SIGIL_LIMITS_PEERS_MAX * bucket_cap(per_minute);
    int64_t t = bucket_level(b, per_minute, now_ms);
    b->tokens = scaled > (uint64_t)(t - floor) ? floor : t - (int64_t)scaled;
    if (now_ms > b->ms || !b->started)
        b->ms = now_ms;
    b->started = true;
}

static void bucket_take(bucket *b, uint32_t per_minute, uint64_t need, uint64_t now_ms)
{
    bucket_sub(b, per_minute, need * MINUTE_MS, now_ms);
}

/* capacity - level at now: what this bucket's consumption still weighs. */
static uint64_t bucket_deficit(const bucket *b, uint32_t per_minute, uint64_t now_ms)
{
    return (uint64_t)(bucket_cap(per_minute) - bucket_level(b, per_minute, now_ms));
}

/* ---- other boots' reports ---- */

/* Takes a peer's share from an admitting bucket. A first-seen boot weighs
 * its own deficit, decayed at the bucket's rate from its report to now
 * (not at all if its clock is ahead); a known boot what it used since it
 * was last counted, taken as at its report time (clamped between the
 * bucket's last change and now: the use happened no later, so the refill
 * since is the bucket's too, and a full bucket does not swallow it). Either
 * weighs at most one bucket. */
static void fold_bucket(bucket *b, uint32_t per_minute, const peer_seen *ps, uint64_t used,
                        uint64_t seen, uint64_t deficit, uint64_t report_ms, uint64_t now_ms)
{
    uint64_t cap = (uint64_t)bucket_cap(per_minute), share;
    if (!ps->used) {
        uint64_t dt = now_ms > report_ms ? now_ms - report_ms : 0;
        uint64_t decay = dt >= MINUTE_MS ? cap : dt * per_minute;
        share = deficit > decay ? deficit - decay : 0;
        bucket_sub(b, per_minute, share > cap ? cap : share, now_ms);
        return;
    }
    share = used > seen ? used - seen : 0;
    share = share > cap / MINUTE_MS ? cap : share * MINUTE_MS;
    uint64_t at = report_ms < now_ms ? report_ms : now_ms;
    if (b->started && at < b->ms)
        at = b->ms;
    if (share > 0)
        bucket_sub(b, per_minute, share, at);
}

static peer_seen *peer_slot(entry *e, const uint8_t *boot_id)
{
    for (unsigned i = 0; i < SIGIL_LIMITS_PEERS_MAX; i++)
        if (e->peers[i].used && memcmp(e->peers[i].boot_id, boot_id, SIGIL_LIMITS_BOOT_ID_LEN) == 0)
            return &e->peers[i];
    peer_seen *ps = &e->peers[e->next_peer];
    e->next_peer = (e->next_peer + 1) % SIGIL_LIMITS_PEERS_MAX;
    memset(ps, 0, sizeof(*ps));
    memcpy(ps->boot_id, boot_id, SIGIL_LIMITS_BOOT_ID_LEN);
    return ps;
}

static bool is_self(const sigil_limits_peers *peers, const sigil_limits_usage *u)
{
    return peers->self_boot_id != NULL &&
           memcmp(peers->self_boot_id, u->boot_id, SIGIL_LIMITS_BOOT_ID_LEN) == 0;
}

/* Folds the other boots' consumption since last counted into the admitting
 * buckets. Whatever a report says, it only takes tokens away. */
static void fold_peers(entry *e, const sigil_policy *p, const sigil_limits_peers *peers,
                       uint64_t now_ms)
{
    for (size_t i = 0; peers != NULL && i < peers->n && i < SIGIL_LIMITS_PEERS_MAX; i++) {
        const sigil_limits_usage *u = &peers->v[i];
        if (is_self(peers, u))
            continue;
        peer_seen *ps = peer_slot(e, u->boot_id);
        fold_bucket(&e->requests, p->requests_per_minute, ps, u->requests_used, ps->requests,
                    u->requests_deficit, u->time_ms, now_ms);
        fold_bucket(&e->orders, p->orders_per_minute, ps, u->orders_used, ps->orders,
                    u->orders_deficit, u->time_ms, now_ms);
        if (u->requests_used > ps->requests || !ps->used)
            ps->requests = u->requests_used;
        if (u->orders_used > ps->orders || !ps->used)
            ps->orders = u->orders_used;
        ps->used = true;
    }
}

/* The peers' notional of today (reports of another day do not count). */
static int peers_notional(sigil_dec *sum, const sigil_limits_peers *peers, uint64_t day)
{
    memset(sum, 0, sizeof(*sum));
    for (size_t i = 0; peers != NULL && i < peers->n && i < SIGIL_LIMITS_PEERS_MAX; i++)
        if (!is_self(peers, &peers->v[i]) && peers->v[i].day == day)
            GUARD(sigil_dec_add(sum, sum, &peers->v[i].notional));
    return 0;
}

/* ---- admission ---- */

/* total: this enclave's notional of today with the request's; the cap is
 * checked against that plus the peers' of today. */
static int day_check(const entry *e, const sigil_policy *p, const sigil_policy_cost *c,
                     uint64_t now_ms, const sigil_limits_peers *peers, sigil_dec *total)
{
    char a[80], b[80];
    sigil_dec used, all;
    if (!p->has_daily_notional || !c->has_notional)
        return 0;
    GUARD(peers_notional(&used, peers, now_ms / DAY_MS));
    if (e->day == now_ms / DAY_MS) {
        GUARD(sigil_dec_add(total, &e->day_notional, &c->notional));
        GUARD(sigil_dec_add(&used, &used, &e->day_notional));
    } else {
        *total = c->notional;
    }
    GUARD(sigil_dec_add(&all, &used, &c->notional));
    if (sigil_dec_cmp(&all, &p->daily_notional) <= 0)
        return 0;
    if (sigil_dec_format(a, sizeof(a), &used) != 0)
        (void)snprintf(a, sizeof(a), "0");
    if (sigil_dec_format(b, sizeof(b), &p->daily_notional) != 0)
        (void)snprintf(b, sizeof(b), "?");
    BAIL(SIGIL_E_POLICY_DENIED, "policy: daily_notional %s reached (%s used today)", b, a);
}

/* This enclave's own usage of the key after an admission. */
static void report_fill(const entry *e, const sigil_policy *p, uint64_t now_ms,
                        sigil_limits_usage *r)
{
    r->seq = e->seq;
    r->time_ms = now_ms;
    r->requests_used = e->requests_used;
    r->orders_used = e->orders_used;
    r->requests_deficit = bucket_deficit(&e->own_requests, p->requests_per_minute, now_ms);
    r->orders_deficit = bucket_deficit(&e->own_orders, p->orders_per_minute, now_ms);
    r->day = e->day;
    r->notional = e->day_notional;
}

static int not_revoked(const entry *e)
{
    ENSURE(!e->revoked, SIGIL_E_REVOKED, "key: revoked by its owner");
    return 0;
}

static int admit_locked(entry *e, const sigil_policy *p, const sigil_policy_cost *c,
                        uint64_t now_ms, const sigil_limits_peers *peers, sigil_limits_usage *r)
{
    sigil_dec total;
    GUARD(not_revoked(e));
    ENSURE(p->version >= e->max_version, SIGIL_E_POLICY_DENIED,
           "policy: version %" PRIu64 " superseded by %" PRIu64, p->version, e->max_version);
    e->max_version = p->version;
    fold_peers(e, p, peers, now_ms);
    GUARD(bucket_check(&e->requests, p->requests_per_minute, 1, now_ms, "requests_per_minute"));
    GUARD(bucket_check(&e->orders, p->orders_per_minute, c->orders, now_ms, "orders_per_minute"));
    GUARD(day_check(e, p, c, now_ms, peers, &total));
    bucket_take(&e->requests, p->requests_per_minute, 1, now_ms);
    bucket_take(&e->orders, p->orders_per_minute, c->orders, now_ms);
    bucket_take(&e->own_requests, p->requests_per_minute, 1, now_ms);
    bucket_take(&e->own_orders, p->orders_per_minute, c->orders, now_ms);
    e->requests_used++;
    e->orders_used += c->orders;
    e->seq++;
    if (p->has_daily_notional && c->has_notional) {
        e->day = now_ms / DAY_MS;
        e->day_notional = total;
    }
    if (r != NULL)
        report_fill(e, p, now_ms, r);
    return 0;
}

typedef int (*locked_fn)(sigil_limits *l, entry *e, const void *arg);

static int with_entry(sigil_limits *l, const char *tenant, const char *key_id, locked_fn fn,
                      const void *arg)
{
    char key[KEY_BYTES];
    entry *e;
    GUARD(make_key(key, tenant, key_id));
    uint64_t h = fnv1a(key);
    shard *s = &l->shards[h % SHARDS];
    pthread_mutex_lock(&s->lock);
    int rc = find(&e, s, key, h);
    if (rc == 0)
        rc = fn(l, e, arg);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

typedef struct {
    const sigil_policy *p;
    const sigil_policy_cost *cost;
    uint64_t now_ms;
    const sigil_limits_peers *peers;
    sigil_limits_usage *report;
} admit_args;

static int admit_fn(sigil_limits *l, entry *e, const void *arg)
{
    (void)l;
    const admit_args *a = arg;
    return admit_locked(e, a->p, a->cost, a->now_ms, a->peers, a->report);
}

int sigil_limits_admit_shared(sigil_limits *l, const char *tenant, const char *key_id,
                              const sigil_policy *p, const sigil_policy_cost *cost, uint64_t now_ms,
                              const sigil_limits_peers *peers, sigil_limits_usage *report)
{
    ENSURE(peers == NULL || peers->n <= SIGIL_LIMITS_PEERS_MAX, SIGIL_E_TOO_LARGE,
           "limits: more than %d peer reports", SIGIL_LIMITS_PEERS_MAX);
    admit_args a = {p, cost, now_ms, peers, report};
    return with_entry(l, tenant, key_id, admit_fn, &a);
}

int sigil_limits_admit(sigil_limits *l, const char *tenant, const char *key_id,
                       const sigil_policy *p, const sigil_policy_cost *cost, uint64_t now_ms)
{
    return sigil_limits_admit_shared(l, tenant, key_id, p, cost, now_ms, NULL, NULL);
}

static int version_fn(sigil_limits *l, entry *e, const void *arg)
{
    uint64_t v = *(const uint64_t *)arg;
    (void)l;
    GUARD(not_revoked(e));
    ENSURE(v >= e->max_version, SIGIL_E_POLICY_DENIED,
           "policy: version %" PRIu64 " superseded by %" PRIu64, v, e->max_version);
    e->max_version = v;
    return 0;
}

int sigil_limits_version(sigil_limits *l, const char *tenant, const char *key_id, uint64_t version)
{
    return with_entry(l, tenant, key_id, version_fn, &version);
}

/* Counted before it is set, so the bound holds under concurrency. */
static int revoke_fn(sigil_limits *l, entry *e, const void *arg)
{
    bool *added = (bool *)arg;
    *added = !e->revoked;
    if (e->revoked)
        return 0;
    size_t n = atomic_fetch_add(&l->revoked, 1);
    if (n >= SIGIL_REVOKED_MAX) {
        atomic_fetch_sub(&l->revoked, 1);
        *added = false;
        BAIL(SIGIL_E_UNAVAILABLE, "revocation: the set is full (%u keys)", SIGIL_REVOKED_MAX);
    }
    e->revoked = true;
    return 0;
}

int sigil_limits_revoke(sigil_limits *l, const char *tenant, const char *key_id, bool *added)
{
    return with_entry(l, tenant, key_id, revoke_fn, added);
}

static int check_revoked_fn(sigil_limits *l, entry *e, const void *arg)
{
    (void)l;
    (void)arg;
    return not_revoked(e);
}

int sigil_limits_check_revoked(sigil_limits *l, const char *tenant, const char *key_id)
{
    return with_entry(l, tenant, key_id, check_revoked_fn, NULL);
}

size_t sigil_limits_revoked_count(sigil_limits *l)
{
    return atomic_load(&l->revoked);
}
