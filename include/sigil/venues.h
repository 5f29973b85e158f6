/*
 * Sigil venues (libsigil-sign, trusted): credentials, the venue table and the
 * signing entry point. One file per venue under src/venues/ fills a
 * sigil_venue entry; sigil_sign parses the request strictly and dispatches.
 */
#ifndef SIGIL_VENUES_H
#define SIGIL_VENUES_H

#include <stdbool.h>

#include "sigil/codec.h"
#include "sigil/crypto.h"

typedef enum {
    SIGIL_NET_MAINNET = 0,
    SIGIL_NET_TESTNET = 1,
} sigil_network;

SIGIL_WARN_UNUSED_RESULT int sigil_network_parse(sigil_network *out, const char *s);

typedef enum {
    SIGIL_KEY_HMAC = 1u << 0,
    SIGIL_KEY_ED25519 = 1u << 1,
    SIGIL_KEY_RSA = 1u << 2,
    SIGIL_KEY_SECP256K1 = 1u << 3,
} sigil_key_type;

#define SIGIL_API_KEY_MAX 256
#define SIGIL_SECRET_MAX 8192

/* Parsed credentials. Everything secret is in locked memory; api_key is an
 * identifier sent in clear to the venue and may be logged. */
typedef struct {
    sigil_key_type type;
    char api_key[SIGIL_API_KEY_MAX + 1];
    size_t api_key_len;
    sigil_secret secret;     /* HMAC: raw secret bytes; Ed25519: 64-byte expanded key;
                                secp256k1: 32-byte key */
    sigil_secret passphrase; /* len 0 when absent */
    sigil_secret hmac_state; /* HMAC keys: keyed HMAC-SHA256 state */
    /* HMAC keys of venues with hmac_sha512: keyed HMAC-SHA512 state */
    sigil_secret hmac512_state;
    bool has_passphrase;
    sigil_rsa_key *rsa;  /* RSA keys only */
    uint8_t address[20]; /* secp256k1 keys of venues with needs_address: the address */
    bool has_address;
} sigil_credentials;

typedef enum {
    SIGIL_VENUE_CEX,    /* credentials {api_key, secret, passphrase?, key_type?} */
    SIGIL_VENUE_WALLET, /* credentials {private_key} */
} sigil_venue_kind;

typedef struct {
    const sigil_credentials *cred;
    sigil_network network;
    const sigil_json *req;
    uint32_t root;      /* the request object */
    sigil_buf *scratch; /* per-thread working memory for the venue (not secret) */
} sigil_sign_ctx;

typedef int (*sigil_sign_fn)(sigil_buf *out, const sigil_sign_ctx *ctx);
/* Writes the key's address as the venue names it (NUL-terminated, at most
 * cap - 1 characters). */
typedef int (*sigil_address_fn)(char *out, size_t cap, const sigil_credentials *c);

typedef struct {
    const char *name;
    sigil_venue_kind kind;
    unsigned key_types; /* bitmask of sigil_key_type accepted */
    bool needs_passphrase;
    sigil_sign_fn sign;
    bool secret_base64; /* HMAC secret is base64 text; the key is its decoded bytes (kraken) */
    bool hmac_sha512;   /* also key an HMAC-SHA512 state (kraken, gate) */
    bool needs_address; /* wallet venues whose signer uses the key's address (aster) */
    /* the key's address in key listings; NULL: the EIP-55 Ethereum address
     * for wallet venues, none for the others */
    sigil_address_fn address;
} sigil_venue;

const sigil_venue *sigil_venue_find(const char *name);
#define SIGIL_VENUE_ADDRESS_MAX 128 /* characters of a key's address */
/* The key's address as v names it (v->address, else the default above);
 * "" when the venue has none. */
SIGIL_WARN_UNUSED_RESULT int sigil_venue_address(char out[static SIGIL_VENUE_ADDRESS_MAX + 1],
                                                 const sigil_venue *v, const sigil_credentials *c);
/* Whether a key for v can be generated (a secp256k1 {"private_key"} made
 * by the enclave, docs/PROVISIONING.md "Generated keys"). */
bool sigil_venue_can_generate(const sigil_venue *v);
#define SIGIL_VENUE_GENERATE_NAMES "hyperliquid, aster, eip712, eip191, dydx"
/* NULL-terminated list, for help text and tests. */
const sigil_venue *const *sigil_venue_all(void);

/* Parses a credentials JSON document (itself held in locked memory by the
 * caller) for venue v. Error messages name fields, never values. */
SIGIL_WARN_UNUSED_RESULT int sigil_credentials_parse(sigil_credentials *c, const sigil_venue *v,
                                                     const char *json, size_t len);
void sigil_credentials_free(sigil_credentials *c);

/* Parses req strictly and signs it; out receives compact JSON. */
SIGIL_WARN_UNUSED_RESULT int sigil_sign(sigil_buf *out, const sigil_venue *v,
                                        const sigil_credentials *c, sigil_network net,
                                        const char *req, size_t len);

#endif
