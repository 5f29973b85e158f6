/*
 * libFuzzer target: the Paradex request — the signer's strict parser, felt
 * scaling and typed-data hashing (both networks) — and the policy's
 * classifier, time reader and order reader on the same bytes. The first byte
 * picks the network; the rest is the request JSON. Traps when the readings
 * disagree: a request the signer signs must classify, and an order or a
 * modification must be read as one order on the market signed, with the size
 * signed, and a price exactly when the signed order type carries one.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_venue.h"
#include "policy/inspect_internal.h"
#include "sigil/decimal.h"
#include "venues/paradex_internal.h"

extern const sigil_venue sigil_venue_paradex;
int policy_classify_paradex(sigil_action *out, const sigil_json *d);
int policy_time_paradex(uint64_t *out, const sigil_json *d, bool *found);

static sigil_json_tok out_toks[256];
static sigil_request_info info;

/* A string member of the signed output, or NULL. */
static int out_text(sigil_slice *s, const sigil_json *o, const char *key)
{
    uint32_t t = sigil_json_get(o, 0, key);
    if (t == 0 || sigil_json_type_of(o, t) != SIGIL_JSON_STRING)
        return -1;
    *s = sigil_json_raw(o, t);
    return 0;
}

/* The one order the policy read must be the one signed. */
static void check_order(const uint8_t *out, size_t n)
{
    sigil_json o;
    sigil_slice market, size, type;
    sigil_dec q;
    if (sigil_json_parse(&o, (const char *)out, n, out_toks, 256) != 0 ||
        out_text(&market, &o, "market") != 0 || out_text(&size, &o, "size") != 0 ||
        out_text(&type, &o, "type") != 0)
        __builtin_trap();
    const sigil_order *ord = &info.orders[0];
    if (strlen(ord->symbol) != market.len || memcmp(ord->symbol, market.p, market.len) != 0)
        __builtin_trap();
    if (sigil_dec_parse(&q, size.p, size.len, "size") != 0 || !ord->has_qty ||
        sigil_dec_cmp(&q, &ord->qty) != 0)
        __builtin_trap();
    bool market_type = memmem(type.p, type.len, "MARKET", 6) != NULL;
    if (ord->has_price == market_type)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_venue_input in;
    sigil_action act;
    if (!fuzz_venue_run(&in, &sigil_venue_paradex, data, size))
        return 0;
    if (!in.object || policy_classify_paradex(&act, &in.doc) != 0) {
        if (in.signed_ok)
            __builtin_trap();
        return 0;
    }
    uint64_t ts;
    bool found;
    int timed = policy_time_paradex(&ts, &in.doc, &found) == 0;
    if (in.signed_ok && !timed)
        __builtin_trap();
    int inspected = sigil_request_inspect(&info, "paradex", act, in.req, in.len) == 0;
    if (!in.signed_ok || (act != SIGIL_ACTION_ORDER && act != SIGIL_ACTION_MODIFY))
        return 0;
    if (!inspected || !info.orders_known || info.n_orders != 1)
        __builtin_trap();
    check_order(in.out.data, in.out.len);
    return 0;
}
