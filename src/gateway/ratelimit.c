/*
 * Token buckets per bearer token. Untrusted host code. The clock is an
 * argument, so tests drive time without sleeping; the table is sized at
 * start and never grows.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/gateway.h"

#define MICRO 1000000ll
#define PROBES 16

/* Adds what accrued since last_ms (never past the burst). */
static void bucket_refill(gw_bucket *b, const gw_rate *r, int64_t now_ms)
{
    const int64_t cap = (int64_t)r->burst * MICRO;
    const int64_t per_ms = (int64_t)r->per_sec * 1000; /* micro-tokens per ms */
    if (!b->init) {
        b->init = true;
        b->micro = cap;
        b->last_ms = now_ms;
    }
    if (now_ms > b->last_ms) {
        int64_t elapsed = now_ms - b->last_ms;
        /* past this many ms the bucket is full anyway (avoids overflow) */
        int64_t fill_ms = cap / per_ms + 1;
        b->micro = elapsed >= fill_ms ? cap : b->micro + elapsed * per_ms;
        if (b->micro > cap)
            b->micro = cap;
        b->last_ms = now_ms;
    }
}

bool gw_bucket_take(gw_bucket *b, const gw_rate *r, int64_t now_ms, uint32_t *retry_after_s)
{
    const int64_t per_ms = (int64_t)r->per_sec * 1000;
    bucket_refill(b, r, now_ms);
    if (b->micro >= MICRO) {
        b->micro -= MICRO;
        return true;
    }
    int64_t wait_ms = (MICRO - b->micro + per_ms - 1) / per_ms;
    int64_t secs = (wait_ms + 999) / 1000;
    *retry_after_s = (uint32_t)(secs < 1 ? 1 : secs);
    return false;
}

int gw_limiter_init(gw_limiter *l, gw_rate rate, size_t nslots)
{
    memset(l, 0, sizeof(*l));
    ENSURE(rate.per_sec >= 1 && rate.burst >= 1 && rate.per_sec <= 1000000 &&
               rate.burst <= 1000000000,
           SIGIL_E_USAGE, "rate: per-second rate must be 1..1000000 and burst 1..1e9");
    ENSURE(nslots >= 1, SIGIL_E_USAGE, "rate: limiter needs at least one slot");
    l->slots = calloc(nslots, sizeof(*l->slots));
    ENSURE(l->slots != NULL, SIGIL_E_NO_MEMORY, "rate: out of memory");
    l->nslots = nslots;
    l->rate = rate;
    (void)pthread_mutex_init(&l->mu, NULL);
    return 0;
}

void gw_limiter_free(gw_limiter *l)
{
    if (l->slots == NULL)
        return;
    free(l->slots);
    l->slots = NULL;
    (void)pthread_mutex_destroy(&l->mu);
}

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* A bucket that has refilled to capacity carries no state: reusable. */
static bool bucket_idle(const gw_bucket *b, const gw_rate *r, int64_t now_ms)
{
    gw_bucket probe = *b;
    if (!probe.init)
        return true;
    bucket_refill(&probe, r, now_ms);
    return probe.micro >= (int64_t)r->burst * MICRO;
}

static gw_limiter_slot *find_slot(gw_limiter *l, const char *key, size_t klen, int64_t now_ms)
{
    size_t start = (size_t)(fnv1a(key, klen) % l->nslots);
    gw_limiter_slot *reuse = NULL;
    for (size_t i = 0; i < PROBES && i < l->nslots; i++) {
        gw_limiter_slot *s = &l->slots[(start + i) % l->nslots];
        if (strncmp(s->key, key, sizeof(s->key)) == 0 && s->b.init)
            return s;
        if (reuse == NULL && bucket_idle(&s->b, &l->rate, now_ms))
            reuse = s;
    }
    if (reuse != NULL) {
        memset(reuse, 0, sizeof(*reuse));
        memcpy(reuse->key, key, klen);
    }
    return reuse;
}

bool gw_limiter_take(gw_limiter *l, const char *key, int64_t now_ms, uint32_t *retry_after_s)
{
    size_t klen = strnlen(key, GW_LIMITER_KEY_MAX + 1);
    bool ok = false;
    *retry_after_s = 1;
    if (klen > GW_LIMITER_KEY_MAX)
        return false;
    (void)pthread_mutex_lock(&l->mu);
    gw_limiter_slot *s = find_slot(l, key, klen, now_ms);
    if (s != NULL)
        ok = gw_bucket_take(&s->b, &l->rate, now_ms, retry_after_s);
    (void)pthread_mutex_unlock(&l->mu);
    return ok;
}
