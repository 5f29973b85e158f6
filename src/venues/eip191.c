/*
 * EIP-191 personal_sign (trusted): {"message": "UTF-8 text"} or
 * {"message_hex": "0x…"} (exactly one), plus an optional unsigned "timestamp"
 * (Unix ms) for the service's freshness check; signs keccak256("\x19Ethereum
 * Signed Message:\n" ‖ decimal byte length ‖ bytes) and returns the 65-byte
 * r‖s‖v.
 */
#include "venues/venues_internal.h"

/* The message bytes, decoded into scratch. */
static int read_message(sigil_slice *msg, const sigil_sign_ctx *ctx)
{
    const sigil_json *d = ctx->req;
    sigil_buf *scratch = ctx->scratch;
    uint32_t text, hex;
    GUARD(sigil_json_get_str(d, ctx->root, "message", false, &text, "request"));
    GUARD(sigil_json_get_str(d, ctx->root, "message_hex", false, &hex, "request"));
    ENSURE((text != 0) != (hex != 0), SIGIL_E_BAD_REQUEST,
           "request: give exactly one of message and message_hex");
    size_t mark = scratch->len, n;
    msg->p = (const char *)scratch->data + mark;
    if (text != 0) {
        GUARD(sigil_json_str(d, text, scratch));
        msg->len = scratch->len - mark;
        return 0;
    }
    sigil_slice raw = sigil_json_raw(d, hex);
    ENSURE(sigil_json_str_is_plain(d, hex) && raw.len >= 2 && raw.p[0] == '0' && raw.p[1] == 'x',
           SIGIL_E_BAD_ENCODING, "request.message_hex: expected 0x-prefixed hex");
    GUARD(sigil_hex_decode(scratch->data + mark, scratch->cap - mark, &n, raw.p + 2, raw.len - 2,
                           false, "request.message_hex"));
    scratch->len += n;
    msg->len = n;
    return 0;
}

static int eip191_sign(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    static const sigil_json_field FIELDS[] = {
        {"message", false}, {"message_hex", false}, {"timestamp", false}};
    uint8_t digest[32];
    uint64_t ts;
    char hex_mem[2 + 2 * 65 + 1];
    sigil_buf hex;
    sigil_eth_sig sig;
    sigil_slice msg = {NULL, 0};
    sigil_jw w;
    GUARD(sigil_json_check_fields(ctx->req, ctx->root, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "request"));
    GUARD(sigil_request_timestamp(&ts, ctx->req, ctx->root));
    GUARD(read_message(&msg, ctx));
    sigil_eip191_digest(digest, (const uint8_t *)msg.p, msg.len);
    GUARD(sigil_eth_sign_digest(&sig, ctx->cred, digest));

    sigil_buf_init(&hex, hex_mem, sizeof(hex_mem));
    GUARD(sigil_eth_sig_put_hex65(&hex, &sig));
    sigil_jw_init(&w, out);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "signature"));
    GUARD(sigil_jw_strn(&w, hex_mem, hex.len));
    return sigil_jw_obj_end(&w);
}

const sigil_venue sigil_venue_eip191 = {
    .name = "eip191",
    .kind = SIGIL_VENUE_WALLET,
    .key_types = SIGIL_KEY_SECP256K1,
    .needs_passphrase = false,
    .sign = eip191_sign,
};
