/*
 * Cache of unwrapped data keys (trusted). Keys live in one locked,
 * guarded allocation; an entry expires after its TTL and the table never
 * grows past its size bound (an insert evicts the entry closest to expiry
 * in its probe window). Lookups are by SHA-256 of the key-service blob.
 */
#include <string.h>

#include <sodium.h>

#include "enclave/enclave.h"

#define PROBE 8u

typedef struct {
    uint8_t id[32]; /* SHA-256 of the wrapped key */
    uint8_t key[ENCLAVE_DATA_KEY_BYTES];
    uint64_t expires_ms; /* 0 = empty */
} cache_entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cache_entry *cache; /* sodium_malloc'd: locked, guarded, wiped on free */
static unsigned cache_cap;
static uint64_t cache_ttl_ms;

int enclave_keycache_init(unsigned max, uint64_t ttl_ms)
{
    ENSURE(max > 0 && max <= 1u << 20, SIGIL_E_OUT_OF_RANGE, "key cache: size out of range");
    cache = sodium_malloc(sizeof(cache_entry) * max);
    ENSURE(cache != NULL, SIGIL_E_NO_MEMORY, "key cache: cannot allocate locked memory");
    memset(cache, 0, sizeof(cache_entry) * max);
    cache_cap = max;
    cache_ttl_ms = ttl_ms;
    return 0;
}

static unsigned slot_of(const uint8_t id[32], unsigned i)
{
    uint32_t h =
        (uint32_t)id[0] | (uint32_t)id[1] << 8 | (uint32_t)id[2] << 16 | (uint32_t)id[3] << 24;
    return (h + i) % cache_cap;
}

static int cache_get(const uint8_t id[32], sigil_secret *key)
{
    int found = 0;
    uint64_t now = enclave_now_ms();
    pthread_mutex_lock(&cache_lock);
    for (unsigned i = 0; i < PROBE && i < cache_cap; i++) {
        cache_entry *e = &cache[slot_of(id, i)];
        if (e->expires_ms > now && memcmp(e->id, id, 32) == 0) {
            memcpy(key->p, e->key, ENCLAVE_DATA_KEY_BYTES);
            key->len = ENCLAVE_DATA_KEY_BYTES;
            found = 1;
            break;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return found;
}

void enclave_keycache_put(const uint8_t *kms_blob, size_t len, const uint8_t key[32])
{
    uint8_t id[32];
    if (cache == NULL || cache_ttl_ms == 0)
        return;
    crypto_hash_sha256(id, kms_blob, len);
    pthread_mutex_lock(&cache_lock);
    cache_entry *victim = &cache[slot_of(id, 0)];
    for (unsigned i = 0; i < PROBE && i < cache_cap; i++) {
        cache_entry *e = &cache[slot_of(id, i)];
        if (memcmp(e->id, id, 32) == 0 || e->expires_ms < victim->expires_ms) {
            victim = e;
            if (memcmp(e->id, id, 32) == 0)
                break;
        }
    }
    memcpy(victim->id, id, 32);
    memcpy(victim->key, key, ENCLAVE_DATA_KEY_BYTES);
    victim->expires_ms = enclave_now_ms() + cache_ttl_ms;
    pthread_mutex_unlock(&cache_lock);
}

int enclave_data_key(enclave_state *st, sigil_secret *key, const uint8_t *kms_blob, size_t len)
{
    uint8_t id[32];
    crypto_hash_sha256(id, kms_blob, len);
    if (cache != NULL && cache_get(id, key))
        return 0;
    SIGIL_SECRET(plain);
    GUARD(enclave_kms_decrypt(st, &plain, kms_blob, len));
    ENSURE(plain.len == ENCLAVE_DATA_KEY_BYTES, SIGIL_E_KEY_SERVICE,
           "data key: the key service returned %zu bytes", plain.len);
    memcpy(key->p, plain.p, ENCLAVE_DATA_KEY_BYTES);
    key->len = ENCLAVE_DATA_KEY_BYTES;
    enclave_keycache_put(kms_blob, len, plain.p);
    return 0;
}
