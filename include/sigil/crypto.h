/*
 * Sigil crypto. Hashes and Keccak are in libsigil-core; everything taking a
 * secret (HMAC keys, signing keys) is in libsigil-sign. Secrets passed in are
 * expected to live in sigil_secret memory; these functions keep no copies
 * outside locked memory and wipe their temporaries.
 */
#ifndef SIGIL_CRYPTO_H
#define SIGIL_CRYPTO_H

#include <stdbool.h>

#include "sigil/common.h"

/* ---- hashes (core) ---- */
void sigil_sha256(uint8_t out[static 32], const void *p, size_t n);
void sigil_sha384(uint8_t out[static 48], const void *p, size_t n);
void sigil_sha512(uint8_t out[static 64], const void *p, size_t n);

typedef struct {
    uint64_t st[25];
    size_t pos;
} sigil_keccak_ctx;
void sigil_keccak256_init(sigil_keccak_ctx *c);
void sigil_keccak256_update(sigil_keccak_ctx *c, const void *p, size_t n);
void sigil_keccak256_final(sigil_keccak_ctx *c, uint8_t out[static 32]);
/* Ethereum's Keccak-256 (original padding 0x01, not SHA3-256's 0x06). */
void sigil_keccak256(uint8_t out[static 32], const void *p, size_t n);

/* ---- Ethereum addresses (core) ---- */
/* Parses "0x" + 40 hex digits. All-lowercase and all-uppercase are accepted;
 * mixed case must carry a valid EIP-55 checksum. */
SIGIL_WARN_UNUSED_RESULT int sigil_eth_address_parse(uint8_t out[static 20], const char *s,
                                                     size_t n, const char *what);
/* EIP-55 checksummed "0x…" form, NUL-terminated (43 bytes). */
void sigil_eth_address_checksum(char out[static 43], const uint8_t addr[static 20]);

/* ---- HMAC (sign) ---- */
void sigil_hmac_sha256(uint8_t out[static 32], const uint8_t *key, size_t klen, const void *msg,
                       size_t mlen);
/* HMAC-SHA256 with the key schedule done once: the keyed inner and outer
 * hash states live in locked memory (state is allocated here and freed with
 * sigil_secret_free). Uses OpenSSL's SHA-256, which takes the CPU's SHA
 * instructions where there are any. */
SIGIL_WARN_UNUSED_RESULT int sigil_hmac_sha256_key(sigil_secret *state, const uint8_t *key,
                                                   size_t klen);
void sigil_hmac_sha256_keyed(uint8_t out[static 32], const sigil_secret *state, const void *msg,
                             size_t mlen);
SIGIL_WARN_UNUSED_RESULT int sigil_hmac_sha384(uint8_t out[static 48], const uint8_t *key,
                                               size_t klen, const void *msg, size_t mlen);
void sigil_hmac_sha512(uint8_t out[static 64], const uint8_t *key, size_t klen, const void *msg,
                       size_t mlen);
/* HMAC-SHA512 with the key schedule done once, as sigil_hmac_sha256_key. */
SIGIL_WARN_UNUSED_RESULT int sigil_hmac_sha512_key(sigil_secret *state, const uint8_t *key,
                                                   size_t klen);
void sigil_hmac_sha512_keyed(uint8_t out[static 64], const sigil_secret *state, const void *msg,
                             size_t mlen);

/* ---- secp256k1 (sign) ---- */
/* Validates a 32-byte secret key (0 < k < n). */
SIGIL_WARN_UNUSED_RESULT int sigil_secp256k1_check_key(const uint8_t seckey[static 32]);
/* ECDSA with RFC 6979 nonces; low-S; recid in {0,1,2,3}. */
SIGIL_WARN_UNUSED_RESULT int sigil_secp256k1_sign(uint8_t sig64[static 64], int *recid,
                                                  const uint8_t seckey[static 32],
                                                  const uint8_t msg32[static 32]);
SIGIL_WARN_UNUSED_RESULT int sigil_secp256k1_address(uint8_t addr[static 20],
                                                     const uint8_t seckey[static 32]);
/* The SEC1 compressed public key (33 bytes). */
SIGIL_WARN_UNUSED_RESULT int sigil_secp256k1_pubkey_compressed(uint8_t out[static 33],
                                                               const uint8_t seckey[static 32]);

/* ---- Ed25519 (sign) ---- */
SIGIL_WARN_UNUSED_RESULT int sigil_ed25519_sign(uint8_t sig[static 64],
                                                const uint8_t seed[static 32], const void *msg,
                                                size_t n);
/* Expands a seed into libsodium's 64-byte secret key (seed ‖ public key),
 * once per key, so signing needs no allocation. */
SIGIL_WARN_UNUSED_RESULT int sigil_ed25519_expand(uint8_t sk[static 64],
                                                  const uint8_t seed[static 32]);
SIGIL_WARN_UNUSED_RESULT int sigil_ed25519_sign_expanded(uint8_t sig[static 64],
                                                         const uint8_t sk[static 64],
                                                         const void *msg, size_t n);
/* Extracts the 32-byte seed of a PKCS#8 "PRIVATE KEY" PEM holding Ed25519. */
SIGIL_WARN_UNUSED_RESULT int sigil_ed25519_seed_from_pem(uint8_t seed[static 32], const char *pem,
                                                         size_t len);

/* ---- RSA PKCS#1 v1.5 with SHA-256 (sign) ---- */
/* Venues size signature buffers for this (1024 bytes). */
#define SIGIL_RSA_MAX_BITS 8192
typedef struct sigil_rsa_key sigil_rsa_key;
SIGIL_WARN_UNUSED_RESULT int sigil_rsa_key_from_pem(sigil_rsa_key **out, const char *pem,
                                                    size_t len);
void sigil_rsa_key_free(sigil_rsa_key *k);
SIGIL_WARN_UNUSED_RESULT int sigil_rsa_sign_sha256(uint8_t *sig, size_t cap, size_t *sig_len,
                                                   const sigil_rsa_key *k, const void *msg,
                                                   size_t n);

#endif
