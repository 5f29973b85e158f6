/*
 * dYdX v4 transaction bytes (trusted): MsgPlaceOrder / MsgCancelOrder, TxBody
 * with the accountplus TxExtension, AuthInfo, SignDoc and TxRaw, field by
 * field in the order @dydxprotocol/v4-client-js 3.6.0 (ts-proto / cosmjs)
 * emits them, proto3 defaults omitted. venues.md §7.
 */
#include <string.h>

#include "venues/dydx_internal.h"

#define TYPE_PLACE_ORDER "/dydxprotocol.clob.MsgPlaceOrder"
#define TYPE_CANCEL_ORDER "/dydxprotocol.clob.MsgCancelOrder"
#define TYPE_TX_EXTENSION "/dydxprotocol.accountplus.TxExtension"
#define TYPE_SECP256K1_PUBKEY "/cosmos.crypto.secp256k1.PubKey"
#define SIGN_MODE_DIRECT 1
#define FIELD_NON_CRITICAL_EXTENSIONS 2047
#define PUBKEY_ANY_MAX 80
#define EXTENSION_MAX (2 + DYDX_AUTH_MAX * 10)
#define MSG_MAX 1024 /* three addresses and a dozen integers */

/* SubaccountId{owner=1, number=2} inside OrderId{subaccount_id=1,
 * client_id=2 fixed32, order_flags=3, clob_pair_id=4}. */
static int put_order_id(sigil_buf *b, uint32_t field, const dydx_order_id *id)
{
    sigil_pb_mark m, s;
    GUARD(sigil_pb_begin(b, field, &m));
    GUARD(sigil_pb_begin(b, 1, &s));
    GUARD(sigil_pb_bytes(b, 1, id->owner, id->owner_len));
    GUARD(sigil_pb_uint(b, 2, id->subaccount_number));
    GUARD(sigil_pb_end(b, &s));
    GUARD(sigil_pb_fixed32(b, 2, id->client_id));
    GUARD(sigil_pb_uint(b, 3, id->order_flags));
    GUARD(sigil_pb_uint(b, 4, id->clob_pair_id));
    return sigil_pb_end(b, &m);
}

/* The good-til oneof: exactly one member, written even when 0. */
static int put_good_til(sigil_buf *b, const dydx_order *o, uint32_t block_field,
                        uint32_t time_field)
{
    if (o->id.order_flags == DYDX_FLAG_SHORT_TERM)
        return sigil_pb_uint_always(b, block_field, o->good_til_block);
    return sigil_pb_fixed32_always(b, time_field, o->good_til_block_time);
}

/* BuilderCodeParameters{builder_address=1, fee_ppm=2}. */
static int put_builder(sigil_buf *b, const dydx_order *o)
{
    sigil_pb_mark m;
    if (!o->has_builder)
        return 0;
    GUARD(sigil_pb_begin(b, 13, &m));
    GUARD(sigil_pb_bytes(b, 1, o->builder_address, o->builder_address_len));
    GUARD(sigil_pb_uint(b, 2, o->builder_fee_ppm));
    return sigil_pb_end(b, &m);
}

/* MsgPlaceOrder{order=1: Order{...}}. */
static int put_place_order(sigil_buf *b, const dydx_order *o)
{
    sigil_pb_mark m;
    GUARD(sigil_pb_begin(b, 1, &m));
    GUARD(put_order_id(b, 1, &o->id));
    GUARD(sigil_pb_uint(b, 2, o->side));
    GUARD(sigil_pb_uint(b, 3, o->quantums));
    GUARD(sigil_pb_uint(b, 4, o->subticks));
    GUARD(put_good_til(b, o, 5, 6));
    GUARD(sigil_pb_uint(b, 7, o->time_in_force));
    GUARD(sigil_pb_uint(b, 8, o->reduce_only ? 1 : 0));
    GUARD(sigil_pb_uint(b, 9, o->client_metadata));
    GUARD(sigil_pb_uint(b, 10, o->condition_type));
    GUARD(sigil_pb_uint(b, 11, o->conditional_order_trigger_subticks));
    GUARD(put_builder(b, o));
    GUARD(sigil_pb_bytes(b, 14, o->order_router_address, o->order_router_address_len));
    return sigil_pb_end(b, &m);
}

/* MsgCancelOrder{order_id=1, oneof{good_til_block=2 | good_til_block_time=3}}. */
static int put_cancel_order(sigil_buf *b, const dydx_order *o)
{
    GUARD(put_order_id(b, 1, &o->id));
    return put_good_til(b, o, 2, 3);
}

typedef int (*put_msg_fn)(sigil_buf *b, const dydx_order *o);

static const struct {
    const char *type_url;
    put_msg_fn put;
} MSGS[] = {
    [DYDX_MSG_PLACE_ORDER] = {TYPE_PLACE_ORDER, put_place_order},
    [DYDX_MSG_CANCEL_ORDER] = {TYPE_CANCEL_ORDER, put_cancel_order},
};

int sigil_dydx_msg_bytes(sigil_buf *out, const dydx_tx *tx)
{
    ENSURE((size_t)tx->kind < SIGIL_ARRAY_LEN(MSGS), SIGIL_E_INTERNAL, "dydx: unknown message");
    return MSGS[tx->kind].put(out, &tx->order);
}

/* TxExtension{selected_authenticators=1 packed}: the client always writes
 * the packed field, even empty (0a 00). */
static int put_extension(sigil_buf *b, const dydx_tx *tx)
{
    uint8_t mem[EXTENSION_MAX + 8];
    sigil_buf e;
    sigil_pb_mark m;
    sigil_buf_init(&e, mem, sizeof(mem));
    GUARD(sigil_pb_begin(&e, 1, &m));
    for (size_t i = 0; i < tx->n_authenticators; i++)
        GUARD(sigil_pb_varint(&e, tx->authenticators[i]));
    GUARD(sigil_pb_end(&e, &m));
    return sigil_pb_any(b, FIELD_NON_CRITICAL_EXTENSIONS, TYPE_TX_EXTENSION, e.data, e.len);
}

/* TxBody{messages=1 [Any], memo=2, non_critical_extension_options=2047}. */
int sigil_dydx_body_bytes(sigil_buf *out, const dydx_tx *tx)
{
    uint8_t mem[MSG_MAX];
    sigil_buf msg;
    size_t mark = out->len;
    sigil_buf_init(&msg, mem, sizeof(mem));
    GUARD(sigil_dydx_msg_bytes(&msg, tx));
    if (sigil_pb_any(out, 1, MSGS[tx->kind].type_url, msg.data, msg.len) != 0 ||
        sigil_pb_bytes(out, 2, tx->memo, tx->memo_len) != 0 || put_extension(out, tx) != 0) {
        out->len = mark;
        return -1;
    }
    return 0;
}

/* Coin{denom=1, amount=2}. */
static int put_coin(sigil_buf *b, const dydx_coin *c)
{
    sigil_pb_mark m;
    GUARD(sigil_pb_begin(b, 1, &m));
    GUARD(sigil_pb_bytes(b, 1, c->denom, c->denom_len));
    GUARD(sigil_pb_bytes(b, 2, c->amount, c->amount_len));
    return sigil_pb_end(b, &m);
}

/* AuthInfo{signer_infos=1 [SignerInfo{public_key=1 Any{PubKey{key=1}},
 * mode_info=2 {single=1 {mode=1}}, sequence=3}], fee=2 Fee{amount=1 [Coin],
 * gas_limit=2}}. */
int sigil_dydx_auth_info_bytes(sigil_buf *out, const dydx_tx *tx, const uint8_t pubkey[static 33])
{
    uint8_t mem[PUBKEY_ANY_MAX];
    sigil_buf pk;
    sigil_pb_mark si, mode, single, fee;
    sigil_buf_init(&pk, mem, sizeof(mem));
    GUARD(sigil_pb_bytes(&pk, 1, pubkey, 33));
    GUARD(sigil_pb_begin(out, 1, &si));
    GUARD(sigil_pb_any(out, 1, TYPE_SECP256K1_PUBKEY, pk.data, pk.len));
    GUARD(sigil_pb_begin(out, 2, &mode));
    GUARD(sigil_pb_begin(out, 1, &single));
    GUARD(sigil_pb_uint(out, 1, SIGN_MODE_DIRECT));
    GUARD(sigil_pb_end(out, &single));
    GUARD(sigil_pb_end(out, &mode));
    GUARD(sigil_pb_uint(out, 3, tx->sequence));
    GUARD(sigil_pb_end(out, &si));
    GUARD(sigil_pb_begin(out, 2, &fee));
    for (size_t i = 0; i < tx->n_fee; i++)
        GUARD(put_coin(out, &tx->fee[i]));
    GUARD(sigil_pb_uint(out, 2, tx->gas_limit));
    return sigil_pb_end(out, &fee);
}

/* SignDoc{body_bytes=1, auth_info_bytes=2, chain_id=3, account_number=4}. */
int sigil_dydx_sign_doc_bytes(sigil_buf *out, sigil_slice body, sigil_slice auth_info,
                              const char *chain_id, uint64_t account_number)
{
    GUARD(sigil_pb_bytes(out, 1, body.p, body.len));
    GUARD(sigil_pb_bytes(out, 2, auth_info.p, auth_info.len));
    GUARD(sigil_pb_bytes(out, 3, chain_id, strlen(chain_id)));
    return sigil_pb_uint(out, 4, account_number);
}

/* TxRaw{body_bytes=1, auth_info_bytes=2, signatures=3 [r‖s]}. */
int sigil_dydx_tx_raw_bytes(sigil_buf *out, sigil_slice body, sigil_slice auth_info,
                            const uint8_t sig[static 64])
{
    GUARD(sigil_pb_bytes(out, 1, body.p, body.len));
    GUARD(sigil_pb_bytes(out, 2, auth_info.p, auth_info.len));
    return sigil_pb_bytes_always(out, 3, sig, 64);
}
