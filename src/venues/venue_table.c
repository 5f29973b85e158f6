/*
 * The venue table and the signing entry point (trusted). Adding a venue is
 * one file defining a sigil_venue and one line here.
 */
#include <string.h>

#include "sigil/crypto.h"
#include "sigil/venues.h"
#include "venues/venues_internal.h"

extern const sigil_venue sigil_venue_coinbase; /* coinbase.c */
extern const sigil_venue sigil_venue_dydx;     /* dydx.c */
extern const sigil_venue sigil_venue_paradex;  /* paradex.c */

static const sigil_venue *const VENUES[] = {
    &sigil_venue_binance,       &sigil_venue_aster,    &sigil_venue_eip712,
    &sigil_venue_eip191,        &sigil_venue_bybit,    &sigil_venue_okx,
    &sigil_venue_kucoinfutures, &sigil_venue_kucoin,   &sigil_venue_hyperliquid,
    &sigil_venue_kraken,        &sigil_venue_bitget,   &sigil_venue_gate,
    &sigil_venue_deribit,       &sigil_venue_bitfinex, &sigil_venue_coinbase,
    &sigil_venue_dydx,          &sigil_venue_paradex,  NULL,
};

const sigil_venue *const *sigil_venue_all(void)
{
    return VENUES;
}

const sigil_venue *sigil_venue_find(const char *name)
{
    for (size_t i = 0; VENUES[i] != NULL; i++) {
        if (strcmp(VENUES[i]->name, name) == 0)
            return VENUES[i];
    }
    return NULL;
}

int sigil_network_parse(sigil_network *out, const char *s)
{
    if (strcmp(s, "mainnet") == 0)
        *out = SIGIL_NET_MAINNET;
    else if (strcmp(s, "testnet") == 0)
        *out = SIGIL_NET_TESTNET;
    else
        BAIL(SIGIL_E_USAGE, "--network: expected mainnet or testnet");
    return 0;
}

/* Wallet venues whose key is a bare secp256k1 scalar {"private_key"} and
 * whose address follows from it alone. Not paradex: its key is a Stark key
 * (another curve and range) and its account is onboarded from an Ethereum
 * key. */
static const sigil_venue *const GENERATES[] = {
    &sigil_venue_hyperliquid, &sigil_venue_aster, &sigil_venue_eip712,
    &sigil_venue_eip191,      &sigil_venue_dydx,
};

bool sigil_venue_can_generate(const sigil_venue *v)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(GENERATES); i++)
        if (GENERATES[i] == v)
            return true;
    return false;
}

int sigil_venue_address(char out[static SIGIL_VENUE_ADDRESS_MAX + 1], const sigil_venue *v,
                        const sigil_credentials *c)
{
    out[0] = '\0';
    if (v->address != NULL)
        return v->address(out, SIGIL_VENUE_ADDRESS_MAX + 1, c);
    if (v->kind != SIGIL_VENUE_WALLET || c->type != SIGIL_KEY_SECP256K1)
        return 0;
    uint8_t addr[20];
    GUARD(sigil_secp256k1_address(addr, c->secret.p));
    sigil_eth_address_checksum(out, addr);
    return 0;
}

/* One request per thread at a time: its tokens and the venue's working
 * memory are fixed per-thread arenas, so signing does not allocate. */
static _Thread_local sigil_json_tok tl_toks[SIGIL_REQUEST_MAX_TOKENS];
static _Thread_local uint8_t tl_scratch[SIGIL_SCRATCH_BYTES];

int sigil_sign(sigil_buf *out, const sigil_venue *v, const sigil_credentials *c, sigil_network net,
               const char *req, size_t len)
{
    sigil_json doc;
    ENSURE(len <= (size_t)SIGIL_REQUEST_MAX_BYTES, SIGIL_E_TOO_LARGE,
           "request larger than %d bytes", SIGIL_REQUEST_MAX_BYTES);
    GUARD(sigil_json_parse(&doc, req, len, tl_toks, SIGIL_REQUEST_MAX_TOKENS));
    GUARD(sigil_json_expect(&doc, 0, SIGIL_JSON_OBJECT, "request", NULL));
    sigil_buf scratch;
    sigil_buf_init(&scratch, tl_scratch, sizeof(tl_scratch));
    sigil_sign_ctx ctx = {.cred = c, .network = net, .req = &doc, .root = 0, .scratch = &scratch};
    size_t mark = out->len;
    if (v->sign(out, &ctx) != 0) {
        out->len = mark;
        return -1;
    }
    return 0;
}
