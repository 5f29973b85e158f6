/*
 * dYdX (Cosmos SDK) account addresses (trusted, public data): BIP-173 bech32
 * with the "dydx" prefix over RIPEMD160(SHA256(compressed pubkey)), and the
 * strict check of an address given in a request.
 */
#include <openssl/evp.h>
#include <string.h>

#include "venues/dydx_internal.h"

#define HRP "dydx"
#define HRP_LEN 4
#define CHECKSUM_LEN 6

static const char CHARSET[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod_step(uint32_t chk, uint8_t v)
{
    static const uint32_t GEN[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
    uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; i++)
        chk ^= ((top >> i) & 1) ? GEN[i] : 0;
    return chk;
}

static uint32_t hrp_polymod(void)
{
    uint32_t chk = 1;
    for (size_t i = 0; i < HRP_LEN; i++)
        chk = polymod_step(chk, (uint8_t)(HRP[i] >> 5));
    chk = polymod_step(chk, 0);
    for (size_t i = 0; i < HRP_LEN; i++)
        chk = polymod_step(chk, (uint8_t)(HRP[i] & 31));
    return chk;
}

/* 8-bit bytes to 5-bit groups, zero-padded (BIP-173 convertbits). */
static size_t to_5bit(uint8_t *out, const uint8_t *in, size_t n)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[k++] = (uint8_t)((acc >> bits) & 31);
        }
    }
    if (bits > 0)
        out[k++] = (uint8_t)((acc << (5 - bits)) & 31);
    return k;
}

int sigil_dydx_address(char out[static DYDX_ADDR_MAX + 1], size_t *n,
                       const uint8_t pubkey[static 33])
{
    uint8_t sha[32], rmd[EVP_MAX_MD_SIZE], groups[32];
    unsigned rlen = 0;
    sigil_sha256(sha, pubkey, 33);
    ENSURE(EVP_Digest(sha, sizeof(sha), rmd, &rlen, EVP_ripemd160(), NULL) == 1 && rlen == 20,
           SIGIL_E_CRYPTO, "RIPEMD-160 unavailable");
    size_t ng = to_5bit(groups, rmd, 20);
    uint32_t chk = hrp_polymod();
    memcpy(out, HRP "1", HRP_LEN + 1);
    size_t k = HRP_LEN + 1;
    for (size_t i = 0; i < ng; i++) {
        chk = polymod_step(chk, groups[i]);
        out[k++] = CHARSET[groups[i]];
    }
    for (int i = 0; i < CHECKSUM_LEN; i++)
        chk = polymod_step(chk, 0);
    chk ^= 1;
    for (int i = 0; i < CHECKSUM_LEN; i++)
        out[k++] = CHARSET[(chk >> (5 * (CHECKSUM_LEN - 1 - i))) & 31];
    out[k] = '\0';
    *n = k;
    return 0;
}

static int charset_value(char c)
{
    const char *p = c == '\0' ? NULL : strchr(CHARSET, c);
    return p == NULL ? -1 : (int)(p - CHARSET);
}

int sigil_dydx_address_check(const char *s, size_t n, const char *what)
{
    /* 20-byte accounts: 32 groups; 32-byte module/contract accounts: 52. */
    size_t data = n - (HRP_LEN + 1) - CHECKSUM_LEN;
    ENSURE(n > HRP_LEN + 1 + CHECKSUM_LEN && memcmp(s, HRP "1", HRP_LEN + 1) == 0 &&
               (data == 32 || data == 52),
           SIGIL_E_BAD_ADDRESS, "%s: expected a dydx1… bech32 address", what);
    uint32_t chk = hrp_polymod();
    for (size_t i = HRP_LEN + 1; i < n; i++) {
        int v = charset_value(s[i]);
        ENSURE(v >= 0, SIGIL_E_BAD_ADDRESS,
               "%s: not a bech32 address (lowercase bech32 characters only)", what);
        chk = polymod_step(chk, (uint8_t)v);
    }
    ENSURE(chk == 1, SIGIL_E_BAD_ADDRESS, "%s: bech32 checksum mismatch", what);
    /* The padding bits of the last group must be zero (BIP-173). */
    int last = charset_value(s[n - CHECKSUM_LEN - 1]);
    unsigned pad = (unsigned)(data * 5 % 8);
    ENSURE(((unsigned)last & ((1u << pad) - 1u)) == 0, SIGIL_E_BAD_ADDRESS,
           "%s: bech32 payload has non-zero padding", what);
    return 0;
}
