/*
 * Paradex signing internals (trusted), shared by src/venues/paradex*.c and
 * tests/unit/test_paradex.c: felts from request text, and the StarkNet
 * typed data (revision 0, Pedersen) of Paradex's messages.
 */
#ifndef SIGIL_PARADEX_INTERNAL_H
#define SIGIL_PARADEX_INTERNAL_H

#include "crypto/stark.h"
#include "venues/venues_internal.h"

/* Paradex scales sizes and prices to integers by 10^8. */
#define SIGIL_PARADEX_DECIMALS 8
#define SIGIL_PARADEX_MAX_FIELDS 7
/* A Cairo short string: at most 31 ASCII bytes. */
#define SIGIL_PARADEX_SHORT_MAX 31

/* ---- felts from text (paradex_felt.c) ---- */
/* ASCII bytes as a big-endian integer (Cairo short string), 0..31 bytes. */
SIGIL_WARN_UNUSED_RESULT int sigil_paradex_short_string(sigil_u256 *out, const char *s, size_t n,
                                                        const char *what);
/* Decimal digits (no sign, no leading zero) below p. */
SIGIL_WARN_UNUSED_RESULT int sigil_paradex_decimal_felt(sigil_u256 *out, const char *s, size_t n,
                                                        const char *what);
/* "0x" + 1..64 hex digits below p. */
SIGIL_WARN_UNUSED_RESULT int sigil_paradex_hex_felt(sigil_u256 *out, const char *s, size_t n,
                                                    const char *what);
/* A non-negative decimal with at most 8 fraction digits, times 10^8. */
SIGIL_WARN_UNUSED_RESULT int sigil_paradex_scaled(sigil_u256 *out, const char *s, size_t n,
                                                  const char *what);
/* Decimal text of a felt (at most 77 digits). */
SIGIL_WARN_UNUSED_RESULT int sigil_paradex_put_decimal(sigil_buf *b, const sigil_u256 *v);

/* ---- typed data (paradex_typed.c) ---- */
typedef enum {
    SIGIL_PARADEX_ORDER,
    SIGIL_PARADEX_MODIFY,
    SIGIL_PARADEX_AUTH,
    SIGIL_PARADEX_ONBOARDING,
    SIGIL_PARADEX_KIND_COUNT_,
} sigil_paradex_kind;

/* The message's field values in type order (felts). */
typedef struct {
    sigil_paradex_kind kind;
    sigil_u256 fields[SIGIL_PARADEX_MAX_FIELDS];
} sigil_paradex_message;

/* hashStruct of StarkNetDomain{name: "Paradex", chainId, version: 1}. */
void sigil_paradex_domain_hash(sigil_u256 *out, sigil_network net);
/* hashStruct of the message (typeHash, then its fields). */
void sigil_paradex_struct_hash(sigil_u256 *out, const sigil_paradex_message *m);
/* The type hash of a message kind. */
void sigil_paradex_type_hash(sigil_u256 *out, sigil_paradex_kind kind);
/* h("StarkNet Message", domain, account, hashStruct(message)). */
void sigil_paradex_message_hash(sigil_u256 *out, sigil_network net, const sigil_u256 *account,
                                const sigil_paradex_message *m);

/* ---- account derivation (paradex_account.c) ---- */
/* StarkWare grinding: sha256(seed ‖ i) until below 2^256 - (2^256 mod n),
 * then mod n (seed: r of the wallet's "STARK Key" signature). */
SIGIL_WARN_UNUSED_RESULT int sigil_paradex_grind_key(uint8_t key[static 32],
                                                     const uint8_t seed[static 32]);
/* calculate_contract_address(salt = pub, class = proxy_hash, calldata =
 * [account_hash, selector("initialize"), 2, pub, 0], deployer = 0). */
void sigil_paradex_account_address(sigil_u256 *out, const sigil_u256 *pub,
                                   const sigil_u256 *account_hash, const sigil_u256 *proxy_hash);

#endif
