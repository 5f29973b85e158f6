/*
 * A small read-through cache for the request path (untrusted host code):
 * bearer-token records and key records with their sealed blobs, so that a
 * signing request does not read the database twice. Direct-mapped slots,
 * lock stripes, entries live at most ttl_ms. What this means for users is
 * in docs/API.md: a token revoked or a key deleted by another process (the
 * admin CLI, another gateway) stops working within ttl_ms; a key deleted
 * through this gateway stops at once (gw_cache_drop).
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/gateway.h"

#define CACHE_STRIPES 16u
#define CACHE_KEY_MAX 160u

typedef struct {
    char key[CACHE_KEY_MAX];
    uint64_t expires_ms; /* 0 = empty */
    size_t len;
    uint8_t *value; /* value_max bytes */
} cache_slot;

struct gw_cache {
    pthread_mutex_t stripes[CACHE_STRIPES];
    cache_slot *slots;
    size_t nslots, value_max;
    uint64_t ttl_ms;
    uint8_t *values;
};

int gw_cache_init(gw_cache **out, size_t nslots, size_t value_max, uint64_t ttl_ms)
{
    gw_cache *c = calloc(1, sizeof(*c));
    *out = NULL;
    ENSURE(c != NULL, SIGIL_E_NO_MEMORY, "cache: out of memory");
    c->slots = calloc(nslots, sizeof(cache_slot));
    c->values = malloc(nslots * value_max);
    if (c->slots == NULL || c->values == NULL) {
        gw_cache_free(c);
        BAIL(SIGIL_E_NO_MEMORY, "cache: out of memory");
    }
    for (size_t i = 0; i < nslots; i++)
        c->slots[i].value = c->values + i * value_max;
    for (unsigned i = 0; i < CACHE_STRIPES; i++)
        (void)pthread_mutex_init(&c->stripes[i], NULL);
    c->nslots = nslots;
    c->value_max = value_max;
    c->ttl_ms = ttl_ms;
    *out = c;
    return 0;
}

void gw_cache_free(gw_cache *c)
{
    if (c == NULL)
        return;
    free(c->slots);
    free(c->values);
    free(c);
}

static size_t slot_of(const gw_cache *c, const char *key)
{
    uint32_t h = 2166136261u;
    for (const char *p = key; *p != '\0'; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h % c->nslots;
}

bool gw_cache_get(gw_cache *c, const char *key, void *value, size_t *len, uint64_t now_ms)
{
    if (c == NULL || c->ttl_ms == 0)
        return false;
    size_t i = slot_of(c, key);
    pthread_mutex_t *mu = &c->stripes[i % CACHE_STRIPES];
    bool hit = false;
    (void)pthread_mutex_lock(mu);
    cache_slot *s = &c->slots[i];
    if (s->expires_ms > now_ms && strcmp(s->key, key) == 0 && s->len <= *len) {
        memcpy(value, s->value, s->len);
        *len = s->len;
        hit = true;
    }
    (void)pthread_mutex_unlock(mu);
    return hit;
}

void gw_cache_put(gw_cache *c, const char *key, const void *value, size_t len, uint64_t now_ms)
{
    if (c == NULL || c->ttl_ms == 0 || len > c->value_max || strlen(key) >= CACHE_KEY_MAX)
        return;
    size_t i = slot_of(c, key);
    pthread_mutex_t *mu = &c->stripes[i % CACHE_STRIPES];
    (void)pthread_mutex_lock(mu);
    cache_slot *s = &c->slots[i];
    memcpy(s->key, key, strlen(key) + 1);
    memcpy(s->value, value, len);
    s->len = len;
    s->expires_ms = now_ms + c->ttl_ms;
    (void)pthread_mutex_unlock(mu);
}

void gw_cache_drop(gw_cache *c, const char *key)
{
    if (c == NULL)
        return;
    size_t i = slot_of(c, key);
    pthread_mutex_t *mu = &c->stripes[i % CACHE_STRIPES];
    (void)pthread_mutex_lock(mu);
    if (strcmp(c->slots[i].key, key) == 0)
        c->slots[i].expires_ms = 0;
    (void)pthread_mutex_unlock(mu);
}
