/*
 * Per-key state the enclave keeps in memory (libsigil-core, no secrets):
 * the highest policy version seen, whether the owner revoked the key, the
 * request and order token buckets, and the UTC day's notional. Shards of open-addressed tables,
 * each behind its own mutex; sigil_limits_admit checks everything and then records everything under
 * one shard lock, so concurrent requests of one key can never together exceed a limit. What a
 * restart forgets: docs/POLICY.md.
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
    uint64_t ms;     /* last refill */
    uint64_t tokens; /* scaled: one token = MINUTE_MS units */
    bool started;
} bucket;

typedef struct {
    char key[KEY_BYTES]; /* "tenant/key_id"; "" = empty slot */
    uint64_t max_version;
    bool revoked; /* for good: nothing clears it */
    bucket requests, orders;
    uint64_t day;
    sigil_dec day_notional;
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

static uint64_t bucket_level(const bucket *b, uint32_t per_minute, uint64_t now_ms)
{
    uint64_t cap = (uint64_t)per_minute * MINUTE_MS;
    if (!b->started)
        return cap;
    uint64_t t = b->tokens;
    if (now_ms > b->ms)
        t += (now_ms - b->ms) * per_minute;
    return t > cap ? cap : t;
}

static int bucket_check(const bucket *b, uint32_t per_minute, uint64_t need, uint64_t now_ms,
                        const char *name)
{
    if (per_minute == 0 || need == 0)
        return 0;
    ENSURE(bucket_level(b, per_minute, now_ms) >= need * MINUTE_MS, SIGIL_E_POLICY_DENIED,
           "policy: %s %" PRIu32 " reached", name, per_minute);
    return 0;
}

static void bucket_take(bucket *b, uint32_t per_minute, uint64_t need, uint64_t now_ms)
{
    if (per_minute == 0)
        return;
    b->tokens = bucket_level(b, per_minute, now_ms) - need * MINUTE_MS;
    if (now_ms > b->ms || !b->started)
        b->ms = now_ms;
    b->started = true;
}

/* ---- admission ---- */

static int day_check(const entry *e, const sigil_policy *p, const sigil_policy_cost *c,
                     uint64_t now_ms, sigil_dec *total)
{
    char a[80], b[80];
    if (!p->has_daily_notional || !c->has_notional)
        return 0;
    if (e->day == now_ms / DAY_MS)
        GUARD(sigil_dec_add(total, &e->day_notional, &c->notional));
    else
        *total = c->notional;
    if (sigil_dec_cmp(total, &p->daily_notional) <= 0)
        return 0;
    if (e->day != now_ms / DAY_MS || sigil_dec_format(a, sizeof(a), &e->day_notional) != 0)
        (void)snprintf(a, sizeof(a), "0");
    if (sigil_dec_format(b, sizeof(b), &p->daily_notional) != 0)
        (void)snprintf(b, sizeof(b), "?");
    BAIL(SIGIL_E_POLICY_DENIED, "policy: daily_notional %s reached (%s used today)", b, a);
}

static int not_revoked(const entry *e)
{
    ENSURE(!e->revoked, SIGIL_E_REVOKED, "key: revoked by its owner");
    return 0;
}

static int admit_locked(entry *e, const sigil_policy *p, const sigil_policy_cost *c,
                        uint64_t now_ms)
{
    sigil_dec total;
    GUARD(not_revoked(e));
    ENSURE(p->version >= e->max_version, SIGIL_E_POLICY_DENIED,
           "policy: version %" PRIu64 " superseded by %" PRIu64, p->version, e->max_version);
    e->max_version = p->version;
    GUARD(bucket_check(&e->requests, p->requests_per_minute, 1, now_ms, "requests_per_minute"));
    GUARD(bucket_check(&e->orders, p->orders_per_minute, c->orders, now_ms, "orders_per_minute"));
    GUARD(day_check(e, p, c, now_ms, &total));
    bucket_take(&e->requests, p->requests_per_minute, 1, now_ms);
    bucket_take(&e->orders, p->orders_per_minute, c->orders, now_ms);
    if (p->has_daily_notional && c->has_notional) {
        e->day = now_ms / DAY_MS;
        e->day_notional = total;
    }
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
} admit_args;

static int admit_fn(sigil_limits *l, entry *e, const void *arg)
{
    (void)l;
    const admit_args *a = arg;
    return admit_locked(e, a->p, a->cost, a->now_ms);
}

int sigil_limits_admit(sigil_limits *l, const char *tenant, const char *key_id,
                       const sigil_policy *p, const sigil_policy_cost *cost, uint64_t now_ms)
{
    admit_args a = {p, cost, now_ms};
    return with_entry(l, tenant, key_id, admit_fn, &a);
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
