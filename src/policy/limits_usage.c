/*
 * Usage reports of the per-key limits as CBOR maps (docs/FRAMES.md "Usage
 * reports"): written by the enclave into its sign result, stored by the
 * host, handed back to other enclaves as `peers`. Untrusted-input layer:
 * the reader refuses anything but exactly the fields below, each bounded.
 */
#include <string.h>

#include "sigil/frame.h"
#include "sigil/policy.h"

#define VALUE_MAX ((1ull << 53) - 1) /* every count, time and deficit */

enum {
    U_BOOT,
    U_SEQ,
    U_TIME,
    U_REQ_USED,
    U_ORD_USED,
    U_REQ_DEF,
    U_ORD_DEF,
    U_DAY,
    U_NOTIONAL,
    U_N
};

static const sigil_frame_field SPEC[U_N] = {
    [U_BOOT] = {"boot_id", SIGIL_FF_BYTES, SIGIL_LIMITS_BOOT_ID_LEN},
    [U_SEQ] = {"seq", SIGIL_FF_UINT, 0},
    [U_TIME] = {"time_ms", SIGIL_FF_UINT, 0},
    [U_REQ_USED] = {"requests_used", SIGIL_FF_UINT, 0},
    [U_ORD_USED] = {"orders_used", SIGIL_FF_UINT, 0},
    [U_REQ_DEF] = {"requests_deficit", SIGIL_FF_UINT, 0},
    [U_ORD_DEF] = {"orders_deficit", SIGIL_FF_UINT, 0},
    [U_DAY] = {"day", SIGIL_FF_UINT, 0},
    [U_NOTIONAL] = {"notional", SIGIL_FF_TEXT, 0},
};

int sigil_limits_usage_read(sigil_limits_usage *out, sigil_cursor map)
{
    sigil_frame_value v[U_N];
    uint64_t *nums[U_N] = {
        [U_SEQ] = &out->seq,
        [U_TIME] = &out->time_ms,
        [U_REQ_USED] = &out->requests_used,
        [U_ORD_USED] = &out->orders_used,
        [U_REQ_DEF] = &out->requests_deficit,
        [U_ORD_DEF] = &out->orders_deficit,
        [U_DAY] = &out->day,
    };
    memset(out, 0, sizeof(*out));
    GUARD(sigil_frame_fields(map, SPEC, U_N, v, SIGIL_E_BAD_REQUEST));
    for (size_t i = 0; i < U_N; i++) {
        if (nums[i] == NULL)
            continue;
        ENSURE(v[i].u <= VALUE_MAX, SIGIL_E_BAD_FIELD, "usage.%s: over 2^53-1", SPEC[i].name);
        *nums[i] = v[i].u;
    }
    memcpy(out->boot_id, v[U_BOOT].p, SIGIL_LIMITS_BOOT_ID_LEN);
    return sigil_dec_parse(&out->notional, (const char *)v[U_NOTIONAL].p, v[U_NOTIONAL].len,
                           "usage.notional");
}

/* The notional as a report carries it: exact when its text fits
 * SIGIL_DEC_MAX_TEXT, else rounded up to a whole number (a sum of orders can
 * have more fraction digits than any one of them). Up only: peers may
 * count more than was signed, never less. It is at most the policy's cap,
 * itself at most 64 digits, so the whole number fits. */
static int notional_text(char *out, size_t cap, const sigil_dec *n)
{
    char big[SIGIL_DEC_LIMBS * 9 + 3];
    sigil_dec whole, one;
    GUARD(sigil_dec_format(big, sizeof(big), n));
    size_t len = strlen(big);
    const char *dot = strchr(big, '.');
    if (len <= SIGIL_DEC_MAX_TEXT || dot == NULL)
        return sigil_dec_format(out, cap, n);
    GUARD(sigil_dec_parse(&whole, big, (size_t)(dot - big), "usage.notional"));
    sigil_dec_from_u64(&one, 1);
    GUARD(sigil_dec_add(&whole, &whole, &one));
    return sigil_dec_format(out, cap, &whole);
}

int sigil_limits_usage_write(sigil_buf *b, const sigil_limits_usage *u)
{
    char dec[SIGIL_DEC_MAX_TEXT + 1];
    const uint64_t nums[U_N] = {
        [U_SEQ] = u->seq,
        [U_TIME] = u->time_ms,
        [U_REQ_USED] = u->requests_used,
        [U_ORD_USED] = u->orders_used,
        [U_REQ_DEF] = u->requests_deficit,
        [U_ORD_DEF] = u->orders_deficit,
        [U_DAY] = u->day,
    };
    GUARD(notional_text(dec, sizeof(dec), &u->notional));
    GUARD(sigil_cbor_put_map(b, U_N));
    GUARD(sigil_cbor_put_cstr(b, SPEC[U_BOOT].name));
    GUARD(sigil_cbor_put_bytes(b, u->boot_id, SIGIL_LIMITS_BOOT_ID_LEN));
    for (size_t i = U_SEQ; i < U_NOTIONAL; i++) {
        GUARD(sigil_cbor_put_cstr(b, SPEC[i].name));
        GUARD(sigil_cbor_put_uint(b, nums[i]));
    }
    GUARD(sigil_cbor_put_cstr(b, SPEC[U_NOTIONAL].name));
    return sigil_cbor_put_cstr(b, dec);
}

int sigil_limits_peers_read(sigil_limits_usage *out, size_t *n, sigil_cursor array)
{
    size_t count;
    sigil_cbor_item it;
    GUARD(sigil_cbor_get_array(&array, &count, "peers"));
    ENSURE(count <= SIGIL_LIMITS_PEERS_MAX, SIGIL_E_TOO_LARGE, "peers: more than %d reports",
           SIGIL_LIMITS_PEERS_MAX);
    for (size_t i = 0; i < count; i++) {
        size_t start = array.off;
        GUARD(sigil_cbor_peek(&array, &it));
        ENSURE(it.type == SIGIL_CBOR_MAP, SIGIL_E_BAD_FIELD, "peers[%zu]: expected a map", i);
        GUARD(sigil_cbor_skip(&array));
        sigil_cursor m;
        sigil_cursor_init(&m, array.p + start, array.off - start);
        GUARD(sigil_limits_usage_read(&out[i], m));
    }
    ENSURE(array.off == array.len, SIGIL_E_BAD_ENCODING, "peers: trailing bytes");
    *n = count;
    return 0;
}
