/*
 * StarkNet's Pedersen hash and Keccak (trusted code, public data): h(a, b) =
 * x(P0 + a_low·P1 + a_high·P2 + b_low·P3 + b_high·P4) with 248-bit low and
 * 4-bit high parts. Tables of 8-bit windows (1.5 MB, built once) make a hash
 * at most 64 additions; the message is public, so lookups index the tables
 * directly.
 */
#include <pthread.h>
#include <string.h>

#include "crypto/stark.h"
#include "crypto/stark_curve.h"
#include "sigil/crypto.h"

#define WIDTH SIGIL_STARK_WIDE_WINDOW /* 8-bit windows */
#define LOW_WINDOWS ((size_t)31)      /* 248 bits */
#define ALL_WINDOWS (LOW_WINDOWS + 1)

/* Window i < 31 of table a/b is P1/P3's, window 31 P2/P4's (16 entries
 * used): byte i of a felt (252 bits, little-endian) picks the entry of
 * window i. */
static sigil_stark_point g_table_a[ALL_WINDOWS * WIDTH];
static sigil_stark_point g_table_b[ALL_WINDOWS * WIDTH];
static sigil_stark_point g_shift;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void build(sigil_stark_point *table, size_t low, size_t high)
{
    sigil_stark_point p;
    sigil_stark_pedersen_point(&p, low);
    sigil_stark_table_build(table, &p, LOW_WINDOWS, WIDTH);
    sigil_stark_pedersen_point(&p, high);
    sigil_stark_table_build(table + LOW_WINDOWS * WIDTH, &p, 1, SIGIL_STARK_WINDOW);
}

static void init_once(void)
{
    sigil_stark_pedersen_point(&g_shift, 0);
    build(g_table_a, 1, 2);
    build(g_table_b, 3, 4);
}

bool sigil_stark_is_felt(const sigil_u256 *a)
{
    return sigil_u256_lt_mask(a, &SIGIL_STARK_P.m) != 0;
}

static void add_windows(sigil_stark_point *acc, const sigil_stark_point *table, const sigil_u256 *v)
{
    for (size_t i = 0; i < ALL_WINDOWS; i++) {
        uint64_t byte = (v->v[i / 8] >> (8 * (i % 8))) & 0xff;
        if (byte != 0)
            sigil_stark_point_add(acc, acc, &table[i * WIDTH + byte]);
    }
}

void sigil_stark_pedersen_u256(sigil_u256 *out, const sigil_u256 *a, const sigil_u256 *b)
{
    (void)pthread_once(&g_once, init_once);
    sigil_stark_point acc = g_shift;
    add_windows(&acc, g_table_a, a);
    add_windows(&acc, g_table_b, b);
    sigil_stark_point_x(out, &acc);
}

int sigil_stark_pedersen(uint8_t out[static 32], const uint8_t a[static 32],
                         const uint8_t b[static 32])
{
    sigil_u256 x, y, h;
    sigil_u256_from_be(&x, a);
    sigil_u256_from_be(&y, b);
    ENSURE(sigil_stark_is_felt(&x) && sigil_stark_is_felt(&y), SIGIL_E_OUT_OF_RANGE,
           "pedersen: input not below the Stark prime");
    sigil_stark_pedersen_u256(&h, &x, &y);
    sigil_u256_to_be(out, &h);
    return 0;
}

void sigil_stark_hash_elements(sigil_u256 *out, const sigil_u256 *elems, size_t n)
{
    sigil_u256 acc, len;
    sigil_u256_from_u64(&acc, 0);
    for (size_t i = 0; i < n; i++)
        sigil_stark_pedersen_u256(&acc, &acc, &elems[i]);
    sigil_u256_from_u64(&len, (uint64_t)n);
    sigil_stark_pedersen_u256(out, &acc, &len);
}

void sigil_stark_keccak(sigil_u256 *out, const void *p, size_t n)
{
    uint8_t h[32];
    sigil_keccak256(h, p, n);
    h[0] &= 0x03;
    sigil_u256_from_be(out, h);
}
