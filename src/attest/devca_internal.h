/*
 * Dev CA internals shared by devca.c and doc_build.c (libsigil-core).
 */
#ifndef SIGIL_DEVCA_INTERNAL_H
#define SIGIL_DEVCA_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "attest/attest_internal.h"

#define DEVCA_LEVELS 4 /* root, regional, zonal, instance */
/* A document leaf is valid from ts - 3 s to ts + 3 h, as real ones. */
#define LEAF_BEFORE_S ((int64_t)3)
#define LEAF_AFTER_S ((int64_t)3 * 3600)

typedef struct {
    X509 *cert;
    EVP_PKEY *key;
    uint8_t *der;
    size_t der_len;
} devca_level;

struct sigil_devca {
    char *dir;
    devca_level lv[DEVCA_LEVELS]; /* cabundle order: root first */
};

typedef struct {
    EVP_PKEY *key; /* subject key */
    const char *cn;
    const char *bc; /* basicConstraints, X509V3 config syntax */
    const char *ku; /* keyUsage */
    int64_t not_before;
    int64_t not_after;
    const devca_level *issuer; /* NULL: self-signed */
} devca_cert_spec;

SIGIL_WARN_UNUSED_RESULT int devca_new_key(EVP_PKEY **k);
SIGIL_WARN_UNUSED_RESULT int devca_issue(X509 **out, const devca_cert_spec *s);
/* Re-issues intermediates that would not cover a leaf issued at ts. */
SIGIL_WARN_UNUSED_RESULT int devca_ensure(sigil_devca *ca, int64_t ts);

#endif
