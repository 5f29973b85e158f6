/*
 * Shared pieces of the wallet venues (trusted): Ethereum-style signatures
 * (sign a digest with the credentials' secp256k1 key, render r, s, v) and the
 * unsigned request.timestamp of venues whose signed bytes carry no time.
 */
#include <string.h>

#include "venues/venues_internal.h"

int sigil_eth_sign_digest(sigil_eth_sig *out, const sigil_credentials *c,
                          const uint8_t digest[static 32])
{
    uint8_t sig[64];
    int recid;
    ENSURE(c->type == SIGIL_KEY_SECP256K1, SIGIL_E_INTERNAL, "wallet venue without a wallet key");
    GUARD(sigil_secp256k1_sign(sig, &recid, c->secret.p, digest));
    ENSURE(recid == 0 || recid == 1, SIGIL_E_CRYPTO, "unexpected recovery id");
    memcpy(out->r, sig, 32);
    memcpy(out->s, sig + 32, 32);
    out->v = (uint8_t)(27 + recid);
    return 0;
}

int sigil_eth_sig_put_hex65(sigil_buf *b, const sigil_eth_sig *sig)
{
    GUARD(sigil_buf_puts(b, "0x"));
    GUARD(sigil_buf_put_hex(b, sig->r, 32));
    GUARD(sigil_buf_put_hex(b, sig->s, 32));
    return sigil_buf_put_hex(b, &sig->v, 1);
}

int sigil_put_hex_int(sigil_buf *b, const uint8_t *be, size_t n)
{
    static const char HEX[] = "0123456789abcdef";
    size_t i = 0;
    GUARD(sigil_buf_puts(b, "0x"));
    while (i < 2 * n && ((be[i / 2] >> (i % 2 ? 0 : 4)) & 15) == 0)
        i++;
    if (i == 2 * n)
        return sigil_buf_putc(b, '0');
    for (; i < 2 * n; i++)
        GUARD(sigil_buf_putc(b, HEX[(be[i / 2] >> (i % 2 ? 0 : 4)) & 15]));
    return 0;
}

int sigil_request_timestamp(uint64_t *out, const sigil_json *d, uint32_t root)
{
    bool has = false;
    *out = 0;
    GUARD(sigil_json_get_u64(d, root, "timestamp", false, out, &has, "request"));
    ENSURE(!has || (*out >= SIGIL_REQUEST_TS_MIN && *out < SIGIL_REQUEST_TS_MAX),
           SIGIL_E_OUT_OF_RANGE,
           "request.timestamp: expected Unix time in milliseconds (years 2001 to 5138)");
    return 0;
}
