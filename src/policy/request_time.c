/*
 * The time a request carries, for the enclave's freshness check (libsigil-core,
 * untrusted input). One reader per request shape; each returns milliseconds.
 * docs/POLICY.md lists the field per venue and the units.
 */
#include <stdio.h>
#include <string.h>

#include "policy/policy_internal.h"

/* Bitfinex nonces are ms (ccxt) or µs (Bitfinex's clients): below 10^14 a
 * value is ms (10^14 ms is the year 5138), above it µs (10^14 µs is 1973). */
#define BITFINEX_US_THRESHOLD 100000000000000ull

typedef int (*time_fn)(uint64_t *out, const sigil_json *d, bool *found);

/* An unsigned integer member (a JSON number, or a string of digits where
 * the venue allows one) scaled to ms by mul/div. */
static int member_u64(uint64_t *out, bool *found, const sigil_json *d, uint32_t obj,
                      const char *key, bool digit_string_ok)
{
    char what[64];
    uint32_t v = sigil_json_get(d, obj, key);
    *found = false;
    if (v == 0)
        return 0;
    (void)snprintf(what, sizeof(what), "request.%s", key);
    if (digit_string_ok && sigil_json_type_of(d, v) == SIGIL_JSON_STRING) {
        sigil_slice s = sigil_json_raw(d, v);
        uint64_t x = 0;
        ENSURE(s.len > 0 && s.len <= 19 && sigil_json_str_is_plain(d, v), SIGIL_E_BAD_FIELD,
               "%s: expected an integer", what);
        for (size_t i = 0; i < s.len; i++) {
            ENSURE(s.p[i] >= '0' && s.p[i] <= '9', SIGIL_E_BAD_FIELD, "%s: expected an integer",
                   what);
            x = x * 10 + (uint64_t)(s.p[i] - '0');
        }
        *out = x;
    } else {
        GUARD(sigil_json_tok_u64(d, v, out, what));
    }
    *found = true;
    return 0;
}

static int scaled(uint64_t *out, uint64_t v, uint64_t mul, const char *what)
{
    ENSURE(v <= UINT64_MAX / mul, SIGIL_E_OUT_OF_RANGE, "%s: out of range", what);
    *out = v * mul;
    return 0;
}

static int time_timestamp(uint64_t *out, const sigil_json *d, bool *found)
{
    return member_u64(out, found, d, 0, "timestamp", false);
}

static int time_binance(uint64_t *out, const sigil_json *d, bool *found)
{
    GUARD(member_u64(out, found, d, 0, "timestamp", false));
    uint32_t params = sigil_json_get(d, 0, "params");
    if (*found || params == 0 || sigil_json_type_of(d, params) != SIGIL_JSON_OBJECT)
        return 0;
    return member_u64(out, found, d, params, "timestamp", true);
}

static int time_bybit(uint64_t *out, const sigil_json *d, bool *found)
{
    if (sigil_json_get(d, 0, "op") != 0)
        return member_u64(out, found, d, 0, "expires", false);
    return time_timestamp(out, d, found);
}

static int time_okx(uint64_t *out, const sigil_json *d, bool *found)
{
    uint64_t s;
    if (sigil_json_get(d, 0, "op") == 0)
        return time_timestamp(out, d, found);
    GUARD(member_u64(&s, found, d, 0, "timestamp", true)); /* WebSocket login: seconds */
    return *found ? scaled(out, s, 1000, "request.timestamp") : 0;
}

static int time_deribit(uint64_t *out, const sigil_json *d, bool *found)
{
    uint32_t params = sigil_json_get(d, 0, "params");
    if (sigil_json_get(d, 0, "jsonrpc") == 0)
        return time_timestamp(out, d, found);
    *found = false;
    if (params == 0 || sigil_json_type_of(d, params) != SIGIL_JSON_OBJECT)
        return 0;
    return member_u64(out, found, d, params, "timestamp", false);
}

static uint64_t bitfinex_ms(uint64_t nonce)
{
    return nonce >= BITFINEX_US_THRESHOLD ? nonce / 1000 : nonce;
}

static int time_bitfinex(uint64_t *out, const sigil_json *d, bool *found)
{
    uint64_t n;
    GUARD(time_timestamp(out, d, found));
    if (*found)
        return 0;
    GUARD(
        member_u64(&n, found, d, 0, sigil_json_get(d, 0, "event") ? "authNonce" : "nonce", false));
    if (*found)
        *out = bitfinex_ms(n);
    return 0;
}

static int time_hyperliquid(uint64_t *out, const sigil_json *d, bool *found)
{
    return member_u64(out, found, d, 0, "nonce", false);
}

/* Aster: nonce in µs, as a request member or a query parameter. */
static int time_aster(uint64_t *out, const sigil_json *d, bool *found)
{
    uint64_t us;
    uint32_t qt;
    static _Thread_local sigil_query q;
    GUARD(member_u64(&us, found, d, 0, "nonce", false));
    if (!*found) {
        GUARD(sigil_json_get_str(d, 0, "query", false, &qt, "request"));
        if (qt == 0 || !sigil_json_str_is_plain(d, qt))
            return 0; /* the signer refuses an escaped query text */
        sigil_slice s = sigil_json_raw(d, qt);
        GUARD(sigil_query_parse(&q, s.p, s.len, "request.query"));
        const sigil_query_param *p;
        GUARD(sigil_query_get(&p, &q, "nonce", "request.query"));
        if (p == NULL)
            return 0;
        us = 0;
        ENSURE(p->value.len > 0 && p->value.len <= 19, SIGIL_E_BAD_FIELD,
               "request.query.nonce: expected an integer");
        for (size_t i = 0; i < p->value.len; i++) {
            ENSURE(p->value.p[i] >= '0' && p->value.p[i] <= '9', SIGIL_E_BAD_FIELD,
                   "request.query.nonce: expected an integer");
            us = us * 10 + (uint64_t)(p->value.p[i] - '0');
        }
        *found = true;
    }
    *out = us / 1000;
    return 0;
}

/* request.timestamp (Unix ms) beside a signed payload that carries no time
 * of its own: a dYdX transaction (a short-term order expires by block
 * height), an EIP-191 message, EIP-712 typed data. Not signed; the signer
 * range-checks it (sigil_request_timestamp). Null counts as absent, as there. */
int policy_time_unsigned(uint64_t *out, const sigil_json *d, bool *found)
{
    return sigil_json_get_u64(d, 0, "timestamp", false, out, found, "request");
}

typedef struct {
    const char *name;
    time_fn read;
} venue_time;

int policy_time_paradex(uint64_t *out, const sigil_json *d, bool *found); /* inspect_paradex.c */

static const venue_time VENUES[] = {
    {"binance", time_binance},
    {"aster", time_aster},
    {"eip712", policy_time_unsigned},
    {"eip191", policy_time_unsigned},
    {"bybit", time_bybit},
    {"okx", time_okx},
    {"kucoinfutures", time_timestamp},
    {"kucoin", time_timestamp},
    {"hyperliquid", time_hyperliquid},
    {"kraken", time_timestamp},
    {"bitget", time_timestamp},
    {"gate", time_timestamp},
    {"deribit", time_deribit},
    {"bitfinex", time_bitfinex},
    {"coinbase", time_timestamp},
    {"dydx", policy_time_unsigned},
    {"paradex", policy_time_paradex},
};

int sigil_request_time_ms(uint64_t *out, const char *venue, const char *request, size_t len)
{
    sigil_json d;
    bool found = false;
    const venue_time *v = NULL;
    for (size_t i = 0; venue != NULL && i < SIGIL_ARRAY_LEN(VENUES); i++)
        if (strcmp(VENUES[i].name, venue) == 0)
            v = &VENUES[i];
    ENSURE(v != NULL, SIGIL_E_UNKNOWN_VENUE, "venue: no time reader for this venue");
    GUARD(policy_request_parse(&d, request, len));
    GUARD(v->read(out, &d, &found));
    /* Where the time is a member of its own, not of what is signed, say so:
     * `sigil sign` signs without it, the service cannot. */
    ENSURE(found || v->read != policy_time_unsigned, SIGIL_E_BAD_REQUEST,
           "request has no timestamp: add request.timestamp (Unix time in ms, not signed) for "
           "the enclave's freshness check");
    ENSURE(found, SIGIL_E_BAD_REQUEST, "request has no timestamp or nonce");
    return 0;
}
