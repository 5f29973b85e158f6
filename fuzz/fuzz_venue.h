/*
 * What the per-venue fuzz targets (fuzz_dydx.c, fuzz_paradex.c) share: the
 * first input byte picks the network, the rest is the request; the venue
 * signs it with a fixed test key, and the request is parsed as the policy
 * parses it, so the target can check that both read the same thing.
 */
#ifndef SIGIL_FUZZ_VENUE_H
#define SIGIL_FUZZ_VENUE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sigil/codec.h"
#include "sigil/venues.h"

#define FUZZ_VENUE_OUT (1 << 16)
#define FUZZ_VENUE_TOKENS 1024

static const char FUZZ_VENUE_CRED[] = "{\"private_key\":\"0x01234567890123456789012345678901234567"
                                      "89012345678901234567890123\"}";

typedef struct {
    const char *req;
    size_t len;
    bool signed_ok; /* the venue signed it */
    bool object;    /* the policy's JSON reader took it as an object (doc) */
    sigil_json doc; /* over toks */
    sigil_buf out;  /* what was signed, when signed_ok */
} fuzz_venue_input;

static uint8_t fuzz_venue_out_mem[FUZZ_VENUE_OUT];
static sigil_json_tok fuzz_venue_toks[FUZZ_VENUE_TOKENS];

/* 0 when there is nothing to run (an empty input); traps when the test key
 * is refused, which would make every run vacuous. */
static int fuzz_venue_run(fuzz_venue_input *in, const sigil_venue *v, const uint8_t *data,
                          size_t size)
{
    static sigil_credentials cred;
    static int ready;
    if (!ready) {
        if (sigil_init() != 0 ||
            sigil_credentials_parse(&cred, v, FUZZ_VENUE_CRED, strlen(FUZZ_VENUE_CRED)) != 0)
            __builtin_trap();
        ready = 1;
    }
    if (size < 1)
        return 0;
    sigil_network net = (data[0] & 1) ? SIGIL_NET_TESTNET : SIGIL_NET_MAINNET;
    in->req = (const char *)data + 1;
    in->len = size - 1;
    sigil_buf_init(&in->out, fuzz_venue_out_mem, sizeof(fuzz_venue_out_mem));
    in->signed_ok = sigil_sign(&in->out, v, &cred, net, in->req, in->len) == 0;
    in->object =
        sigil_json_parse(&in->doc, in->req, in->len, fuzz_venue_toks, FUZZ_VENUE_TOKENS) == 0 &&
        sigil_json_expect(&in->doc, 0, SIGIL_JSON_OBJECT, "request", NULL) == 0;
    return 1;
}

#endif
