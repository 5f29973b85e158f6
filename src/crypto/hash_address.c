/* Ethereum addresses: strict parsing and EIP-55 checksums (public data). */
#include "sigil/codec.h"
#include "sigil/crypto.h"

void sigil_eth_address_checksum(char out[static 43], const uint8_t addr[static 20])
{
    char lower[41];
    uint8_t h[32];
    sigil_hex_encode(lower, addr, 20);
    sigil_keccak256(h, lower, 40);
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 40; i++) {
        int nib = (h[i / 2] >> (i % 2 ? 0 : 4)) & 15;
        char c = lower[i];
        out[2 + i] = (char)((c >= 'a' && nib >= 8) ? c - 'a' + 'A' : c);
    }
    out[42] = '\0';
}

int sigil_eth_address_parse(uint8_t out[static 20], const char *s, size_t n, const char *what)
{
    bool has_lower = false, has_upper = false;
    ENSURE(n == 42 && s[0] == '0' && s[1] == 'x', SIGIL_E_BAD_ADDRESS,
           "%s: expected 0x followed by 40 hex digits", what);
    for (size_t i = 2; i < n; i++) {
        has_lower |= s[i] >= 'a' && s[i] <= 'f';
        has_upper |= s[i] >= 'A' && s[i] <= 'F';
    }
    if (sigil_hex_decode_exact(out, 20, s + 2, 40, false, what) != 0)
        BAIL(SIGIL_E_BAD_ADDRESS, "%s: not a hex address", what);
    if (has_lower && has_upper) {
        char cs[43];
        sigil_eth_address_checksum(cs, out);
        for (size_t i = 2; i < n; i++)
            ENSURE(cs[i] == s[i], SIGIL_E_BAD_ADDRESS, "%s: EIP-55 checksum mismatch", what);
    }
    return 0;
}
