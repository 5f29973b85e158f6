/*
 * Hyperliquid signing internals (trusted), shared by the venue files and
 * their unit tests: the L1 connectionId and Agent digest, and the table of
 * user-signed actions with their EIP-712 hashing.
 */
#ifndef SIGIL_HYPERLIQUID_INTERNAL_H
#define SIGIL_HYPERLIQUID_INTERNAL_H

#include "venues/venues_internal.h"

/* ---- L1 actions (hyperliquid_l1.c) ---- */
typedef struct {
    uint64_t nonce;
    bool has_vault;
    uint8_t vault[20];
    bool has_expires_after;
    uint64_t expires_after;
} sigil_hl_l1_params;

/* keccak256(msgpack(action) ‖ u64be(nonce) ‖ (vault ? 01 ‖ vault : 00)
 * ‖ (expires_after ? 00 ‖ u64be(expires_after) : ε)). The hashed bytes are
 * laid out in scratch's free space; scratch->len is unchanged. */
SIGIL_WARN_UNUSED_RESULT int sigil_hl_l1_connection_id(uint8_t out[static 32], sigil_buf *scratch,
                                                       const sigil_json *d, uint32_t action,
                                                       const sigil_hl_l1_params *p);
/* Domain separator of {Exchange, 1, 1337, 0x0}. */
void sigil_hl_l1_domain_separator(uint8_t out[static 32]);
/* EIP-712 digest of Agent{source: "a" mainnet / "b" testnet, connectionId}. */
void sigil_hl_l1_digest(uint8_t out[static 32], const uint8_t connection_id[static 32],
                        sigil_network net);

/* ---- user-signed actions (hyperliquid_user.c) ---- */
typedef enum {
    SIGIL_HL_STRING,  /* keccak256 of the UTF-8 bytes */
    SIGIL_HL_ADDRESS, /* 20 bytes, left-padded */
    SIGIL_HL_UINT64,  /* 32-byte big-endian */
    SIGIL_HL_BOOL,
} sigil_hl_kind;

#define SIGIL_HL_MAX_FIELDS 8

typedef struct {
    const char *name;
    sigil_hl_kind kind;
} sigil_hl_field;

typedef struct {
    const char *type;            /* action.type */
    const char *primary;         /* "HyperliquidTransaction:<Name>" */
    const char *nonce_field;     /* the field the request nonce must equal */
    const char *empty_if_absent; /* a string field hashed as "" when absent or
                                    null and then left out of the post body */
    size_t nfields;
    sigil_hl_field fields[SIGIL_HL_MAX_FIELDS];
} sigil_hl_user_action;

/* The table entry for a user-signed action type; NULL for any other type. */
const sigil_hl_user_action *sigil_hl_user_action_find(const sigil_json *d, uint32_t type_tok);

typedef struct {
    uint64_t nonce;        /* the action's time/nonce field */
    uint64_t chain_id;     /* parsed signatureChainId */
    bool omit_empty_field; /* empty_if_absent field absent or null */
} sigil_hl_user_info;

/* Checks the action against its table entry (no unknown keys, every field
 * present with its type, hyperliquidChain matching net, signatureChainId a
 * hex chain id) and computes hashStruct and the domain separator. String
 * values are decoded in scratch's free space; scratch->len is unchanged. */
SIGIL_WARN_UNUSED_RESULT int sigil_hl_user_hash(uint8_t struct_hash[static 32],
                                                uint8_t domain_separator[static 32],
                                                sigil_hl_user_info *info, sigil_buf *scratch,
                                                const sigil_hl_user_action *a, const sigil_json *d,
                                                uint32_t action, sigil_network net);

#endif
