/*
 * libFuzzer target: every venue's request parser and signer. The first byte
 * picks the venue and network; the rest is the request JSON. Credentials are
 * fixed public test keys.
 */
#include <stdint.h>
#include <string.h>

#include "sigil/venues.h"

static const char CEX_CRED_PASS[] = "{\"api_key\":\"k\",\"secret\":\"s\",\"passphrase\":\"p\"}";
/* Kraken-style venues read the secret as base64. */
static const char CEX_CRED[] = "{\"api_key\":\"k\",\"secret\":\"c2VjcmV0\"}";
static const char WALLET_CRED[] = "{\"private_key\":\"0x01234567890123456789012345678901234567"
                                  "89012345678901234567890123\"}";
static uint8_t out_mem[1 << 20];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (sigil_init() != 0)
            __builtin_trap();
        ready = 1;
    }
    if (size < 1)
        return 0;
    const sigil_venue *const *all = sigil_venue_all();
    size_t nv = 0;
    while (all[nv] != NULL)
        nv++;
    const sigil_venue *v = all[(data[0] & 0x7f) % nv];
    sigil_network net = (data[0] & 0x80) ? SIGIL_NET_TESTNET : SIGIL_NET_MAINNET;
    const char *cred_text = v->kind == SIGIL_VENUE_WALLET ? WALLET_CRED
                            : v->needs_passphrase         ? CEX_CRED_PASS
                                                          : CEX_CRED;
    sigil_credentials cred;
    if (sigil_credentials_parse(&cred, v, cred_text, strlen(cred_text)) != 0)
        __builtin_trap();
    sigil_buf out;
    sigil_buf_init(&out, out_mem, sizeof(out_mem));
    (void)sigil_sign(&out, v, &cred, net, (const char *)data + 1, size - 1);
    sigil_credentials_free(&cred);
    return 0;
}
