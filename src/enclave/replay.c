/*
 * The client-signature replay cache (trusted): every client-signed message
 * seen within its freshness window, by SHA-256 of the message. A message
 * may be used once; entries expire with their window. Open addressing that
 * grows to ENCLAVE_REPLAY_MAX entries; when full of live entries it refuses
 * new requests rather than forget one (docs/POLICY.md).
 */
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave.h"

#define REPLAY_MIN_SLOTS 4096u

typedef struct {
    uint8_t hash[32];
    uint64_t expires_ms; /* 0 = empty */
} replay_slot;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static replay_slot *slots;
static size_t cap, live;

static size_t slot_of(const uint8_t hash[32], size_t n)
{
    uint64_t h;
    memcpy(&h, hash, sizeof(h));
    return (size_t)h & (n - 1);
}

/* Index of hash, or of the first reusable slot, in a probe chain. */
static bool lookup(const uint8_t hash[32], uint64_t now_ms, size_t *free_at)
{
    bool have_free = false;
    for (size_t i = slot_of(hash, cap);; i = (i + 1) & (cap - 1)) {
        replay_slot *s = &slots[i];
        if (s->expires_ms == 0) {
            if (!have_free)
                *free_at = i;
            return false;
        }
        if (s->expires_ms > now_ms && memcmp(s->hash, hash, 32) == 0)
            return true;
        if (s->expires_ms <= now_ms && !have_free) {
            *free_at = i;
            have_free = true;
        }
    }
}

/* Rehash the live entries into a table of n slots. */
static int rehash(size_t n, uint64_t now_ms)
{
    replay_slot *fresh = calloc(n, sizeof(*fresh));
    ENSURE(fresh != NULL, SIGIL_E_NO_MEMORY, "replay cache: out of memory");
    size_t kept = 0;
    for (size_t i = 0; i < cap; i++) {
        if (slots[i].expires_ms <= now_ms)
            continue;
        size_t j = slot_of(slots[i].hash, n);
        while (fresh[j].expires_ms != 0)
            j = (j + 1) & (n - 1);
        fresh[j] = slots[i];
        kept++;
    }
    free(slots);
    slots = fresh;
    cap = n;
    live = kept;
    return 0;
}

static int make_room(uint64_t now_ms)
{
    if (cap == 0)
        return rehash(REPLAY_MIN_SLOTS, now_ms);
    if ((live + 1) * 2 <= cap)
        return 0;
    GUARD(rehash(cap, now_ms)); /* drop expired entries first */
    if ((live + 1) * 2 <= cap)
        return 0;
    ENSURE(cap * 2 <= (size_t)ENCLAVE_REPLAY_MAX * 2, SIGIL_E_UNAVAILABLE,
           "replay cache full (%zu live client signatures); retry later", live);
    return rehash(cap * 2, now_ms);
}

int enclave_replay_check(const uint8_t hash[32], uint64_t now_ms, uint64_t expires_ms)
{
    size_t at = 0;
    pthread_mutex_lock(&lock);
    int rc = make_room(now_ms);
    bool seen = rc == 0 && lookup(hash, now_ms, &at);
    if (rc == 0 && !seen) {
        if (slots[at].expires_ms == 0)
            live++;
        memcpy(slots[at].hash, hash, 32);
        slots[at].expires_ms = expires_ms;
    }
    pthread_mutex_unlock(&lock);
    GUARD(rc);
    ENSURE(!seen, SIGIL_E_BAD_SIGNATURE,
           "replayed client signature (this request was already used)");
    return 0;
}
