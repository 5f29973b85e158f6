/*
 * dYdX v4 signing internals (trusted), shared by the venue files and their
 * unit tests: the parsed request, the Cosmos SDK transaction bytes, bech32
 * addresses and the signer's compressed public key. venues.md §7.
 */
#ifndef SIGIL_DYDX_INTERNAL_H
#define SIGIL_DYDX_INTERNAL_H

#include "sigil/protobuf.h"
#include "venues/venues_internal.h"

#define DYDX_ADDR_MAX 90 /* bech32 limit */
#define DYDX_MEMO_MAX 256
#define DYDX_AUTH_MAX 16 /* selected authenticators */
#define DYDX_COINS_MAX 4
#define DYDX_DENOM_MAX 128
#define DYDX_AMOUNT_MAX 78 /* digits of a Cosmos Int (256 bits) */
#define DYDX_DEFAULT_GAS 1000000u

/* Order flags (dydxprotocol.clob.OrderId.order_flags). */
#define DYDX_FLAG_SHORT_TERM 0u
#define DYDX_FLAG_CONDITIONAL 32u
#define DYDX_FLAG_LONG_TERM 64u

typedef enum {
    DYDX_MSG_PLACE_ORDER,
    DYDX_MSG_CANCEL_ORDER,
} dydx_msg_kind;

typedef struct {
    char owner[DYDX_ADDR_MAX + 1];
    size_t owner_len;
    uint32_t subaccount_number;
    uint32_t client_id;
    uint32_t order_flags;
    uint32_t clob_pair_id;
} dydx_order_id;

typedef struct {
    dydx_order_id id;
    uint32_t side; /* 1 buy, 2 sell */
    uint64_t quantums;
    uint64_t subticks;
    uint32_t good_til_block;      /* short-term */
    uint32_t good_til_block_time; /* long-term and conditional, Unix seconds */
    uint32_t time_in_force;
    bool reduce_only;
    uint32_t client_metadata;
    uint32_t condition_type;
    uint64_t conditional_order_trigger_subticks;
    bool has_builder;
    char builder_address[DYDX_ADDR_MAX + 1];
    size_t builder_address_len;
    uint32_t builder_fee_ppm;
    char order_router_address[DYDX_ADDR_MAX + 1];
    size_t order_router_address_len;
} dydx_order;

typedef struct {
    char denom[DYDX_DENOM_MAX + 1];
    size_t denom_len;
    char amount[DYDX_AMOUNT_MAX + 1];
    size_t amount_len;
} dydx_coin;

typedef struct {
    dydx_msg_kind kind;
    dydx_order order; /* cancel: order.id and the good-til fields only */
    const char *chain_id;
    uint64_t account_number;
    uint64_t sequence;
    uint64_t authenticators[DYDX_AUTH_MAX];
    size_t n_authenticators;
    char memo[DYDX_MEMO_MAX + 1];
    size_t memo_len;
    dydx_coin fee[DYDX_COINS_MAX];
    size_t n_fee;
    uint64_t gas_limit;
} dydx_tx;

extern const sigil_venue sigil_venue_dydx; /* dydx.c */

/* ---- request (dydx_request.c) ---- */
/* Parses the request strictly into tx; the chain id must be the network's. */
SIGIL_WARN_UNUSED_RESULT int sigil_dydx_request_parse(dydx_tx *tx, const sigil_json *d,
                                                      uint32_t root, sigil_network net);
/* "dydx-mainnet-1" / "dydx-testnet-4". */
const char *sigil_dydx_chain_id(sigil_network net);

/* ---- transaction bytes (dydx_tx.c) ---- */
/* Any-wrapped message bytes are not exposed: the body holds them. */
SIGIL_WARN_UNUSED_RESULT int sigil_dydx_msg_bytes(sigil_buf *out, const dydx_tx *tx);
SIGIL_WARN_UNUSED_RESULT int sigil_dydx_body_bytes(sigil_buf *out, const dydx_tx *tx);
SIGIL_WARN_UNUSED_RESULT int sigil_dydx_auth_info_bytes(sigil_buf *out, const dydx_tx *tx,
                                                        const uint8_t pubkey[static 33]);
SIGIL_WARN_UNUSED_RESULT int sigil_dydx_sign_doc_bytes(sigil_buf *out, sigil_slice body,
                                                       sigil_slice auth_info, const char *chain_id,
                                                       uint64_t account_number);
SIGIL_WARN_UNUSED_RESULT int sigil_dydx_tx_raw_bytes(sigil_buf *out, sigil_slice body,
                                                     sigil_slice auth_info,
                                                     const uint8_t sig[static 64]);

/* ---- addresses (dydx_address.c) ---- */
/* bech32("dydx", RIPEMD160(SHA256(pubkey))), NUL-terminated. */
SIGIL_WARN_UNUSED_RESULT int sigil_dydx_address(char out[static DYDX_ADDR_MAX + 1], size_t *n,
                                                const uint8_t pubkey[static 33]);
/* A lowercase bech32 address with prefix "dydx" and a 20- or 32-byte
 * payload and a valid checksum. what names the field. */
SIGIL_WARN_UNUSED_RESULT int sigil_dydx_address_check(const char *s, size_t n, const char *what);

/* ---- key (dydx_key.c) ---- */
/* The 33-byte compressed secp256k1 public key of the credentials' key. */
SIGIL_WARN_UNUSED_RESULT int sigil_dydx_pubkey(uint8_t out[static 33], const sigil_credentials *c);

#endif
