/*
 * Paradex account derivation (trusted; provisioning, not the signing path):
 * StarkWare's key grinding from an Ethereum signature, and the account
 * address a Stark public key deploys to (venues.md §8 "Key derivation").
 * Used by tests and tools that check a provisioned key against its account.
 */
#include <string.h>

#include "venues/paradex_internal.h"

/* 2^256 - (2^256 mod n): grinding accepts a SHA-256 output below it. */
static const sigil_u256 GRIND_LIMIT = {
    {0xae6da5f40b0358b1ull, 0x38a13b4b920e9411ull, 0xfffffffffffffff7ull, 0xf80000000000020eull}};

int sigil_paradex_grind_key(uint8_t key[static 32], const uint8_t seed[static 32])
{
    uint8_t buf[32 + 4], h[32];
    sigil_u256 v, m;
    memcpy(buf, seed, 32);
    for (uint32_t i = 0; i < 100000; i++) {
        /* i as minimal big-endian bytes, 0 as one zero byte (numberToVarBytesBE) */
        size_t n = i < 0x100 ? 1 : i < 0x10000 ? 2 : 3;
        for (size_t k = 0; k < n; k++)
            buf[32 + k] = (uint8_t)(i >> (8 * (n - 1 - k)));
        sigil_sha256(h, buf, 32 + n);
        sigil_u256_from_be(&v, h);
        if (sigil_u256_lt_mask(&v, &GRIND_LIMIT) == 0)
            continue;
        /* v·(R^2 mod n) < n·R, so the Montgomery round trip reduces v mod n */
        sigil_mod_to_mont(&m, &v, &SIGIL_STARK_N);
        sigil_mod_from_mont(&v, &m, &SIGIL_STARK_N);
        sigil_u256_to_be(key, &v);
        sigil_wipe(&v, sizeof(v));
        sigil_wipe(&m, sizeof(m));
        sigil_wipe(h, sizeof(h));
        sigil_wipe(buf, sizeof(buf));
        return 0;
    }
    BAIL(SIGIL_E_CRYPTO, "grind key: no key after 100000 tries");
}

/* 2^251 - 256 */
static const sigil_u256 ADDR_BOUND = {
    {0xffffffffffffff00ull, 0xffffffffffffffffull, 0xffffffffffffffffull, 0x07ffffffffffffffull}};

void sigil_paradex_account_address(sigil_u256 *out, const sigil_u256 *pub,
                                   const sigil_u256 *account_hash, const sigil_u256 *proxy_hash)
{
    sigil_u256 calldata[5], e[5], bounded;
    calldata[0] = *account_hash;
    sigil_stark_keccak(&calldata[1], "initialize", 10); /* selector("initialize") */
    sigil_u256_from_u64(&calldata[2], 2);
    calldata[3] = *pub;
    sigil_u256_from_u64(&calldata[4], 0);
    if (sigil_paradex_short_string(&e[0], "STARKNET_CONTRACT_ADDRESS", 25, "prefix") != 0)
        sigil_u256_from_u64(&e[0], 0);
    sigil_u256_from_u64(&e[1], 0); /* deployer */
    e[2] = *pub;                   /* salt */
    e[3] = *proxy_hash;
    sigil_stark_hash_elements(&e[4], calldata, 5);
    sigil_stark_hash_elements(out, e, 5);
    /* out < p < 2·bound: one subtraction reduces it */
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        unsigned __int128 d = (unsigned __int128)out->v[i] - ADDR_BOUND.v[i] - borrow;
        bounded.v[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) & 1;
    }
    if (borrow == 0)
        *out = bounded;
}
