/*
 * Dev CA for sigil-launch: a P-384 chain with the shape of the real Nitro
 * chain (nitro.md §2.4, §8.2): root CN=dev.nitro-enclaves O=DEV-ONLY (10 y),
 * regional (pathlen 2), zonal (pathlen 1), instance (pathlen 0, keyCertSign
 * only), and a fresh leaf per document. libsigil-core code, but its private
 * keys live only in the launcher's state directory: the enclave never opens
 * one, so it cannot mint its own documents.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attest/devca_internal.h"

#define DAY_S ((int64_t)24 * 3600)
#define REISSUE_MARGIN_S 3600 /* an intermediate must outlive the leaf by this much */

typedef struct {
    const char *name; /* file stem in the state directory */
    const char *cn;
    const char *bc;
    const char *ku;
    int64_t lifetime_s;
} level_spec;

static const level_spec LEVELS[DEVCA_LEVELS] = {
    {"root", "dev.nitro-enclaves", "critical,CA:TRUE",
     "critical,digitalSignature,keyCertSign,cRLSign", 3652 * DAY_S},
    {"regional", "dev-region-1.dev.nitro-enclaves", "critical,CA:TRUE,pathlen:2",
     "critical,digitalSignature,keyCertSign,cRLSign", 20 * DAY_S},
    {"zonal", "zonal.dev-region-1.dev.nitro-enclaves", "critical,CA:TRUE,pathlen:1",
     "critical,digitalSignature,keyCertSign,cRLSign", 5 * DAY_S},
    {"instance", "i-00000000000000000.dev-region-1.dev.nitro-enclaves",
     "critical,CA:TRUE,pathlen:0", "critical,keyCertSign", 1 * DAY_S},
};

/* ---- certificates ---- */

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok = e != NULL && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    ENSURE(ok, SIGIL_E_CRYPTO, "dev CA: cannot add extension %s", OBJ_nid2sn(nid));
    return 0;
}

static int set_serial(X509 *x)
{
    uint8_t r[16];
    ENSURE(RAND_bytes(r, sizeof(r)) == 1, SIGIL_E_CRYPTO, "dev CA: no randomness");
    r[0] = (uint8_t)((r[0] & 0x7f) | 0x01); /* positive, 16 bytes */
    BIGNUM *bn = BN_bin2bn(r, sizeof(r), NULL);
    int ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    ENSURE(ok, SIGIL_E_CRYPTO, "dev CA: cannot set a serial number");
    return 0;
}

static int set_name(X509 *x, const char *cn)
{
    X509_NAME *n = X509_get_subject_name(x);
    ENSURE(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"DEV-ONLY", -1,
                                      -1, 0) == 1 &&
               X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                          0) == 1,
           SIGIL_E_CRYPTO, "dev CA: cannot set the subject name");
    return 0;
}

/* Fills a certificate for key, signed by issuer (self-signed when NULL). */
static int fill_cert(X509 *x, const devca_cert_spec *s)
{
    X509V3_CTX ctx;
    X509 *issuer = s->issuer != NULL ? s->issuer->cert : x;
    EVP_PKEY *ikey = s->issuer != NULL ? s->issuer->key : s->key;
    ENSURE(X509_set_version(x, 2) == 1, SIGIL_E_CRYPTO, "dev CA: cannot set the version");
    GUARD(set_serial(x));
    GUARD(set_name(x, s->cn));
    ENSURE(X509_set_issuer_name(x, X509_get_subject_name(issuer)) == 1 &&
               ASN1_TIME_set(X509_getm_notBefore(x), (time_t)s->not_before) != NULL &&
               ASN1_TIME_set(X509_getm_notAfter(x), (time_t)s->not_after) != NULL &&
               X509_set_pubkey(x, s->key) == 1,
           SIGIL_E_CRYPTO, "dev CA: cannot fill the certificate");
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    GUARD(add_ext(x, &ctx, NID_basic_constraints, s->bc));
    GUARD(add_ext(x, &ctx, NID_key_usage, s->ku));
    GUARD(add_ext(x, &ctx, NID_subject_key_identifier, "hash"));
    if (s->issuer != NULL)
        GUARD(add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always"));
    ENSURE(X509_sign(x, ikey, EVP_sha384()) > 0, SIGIL_E_CRYPTO, "dev CA: signing failed");
    return 0;
}

int devca_issue(X509 **out, const devca_cert_spec *s)
{
    X509 *x = X509_new();
    ENSURE(x != NULL, SIGIL_E_NO_MEMORY, "dev CA: out of memory");
    if (fill_cert(x, s) != 0) {
        X509_free(x);
        return -1;
    }
    *out = x;
    return 0;
}

int devca_new_key(EVP_PKEY **k)
{
    *k = EVP_EC_gen("P-384");
    ENSURE(*k != NULL, SIGIL_E_CRYPTO, "dev CA: cannot generate a P-384 key");
    return 0;
}

/* ---- files ---- */

static int path_of(char *out, size_t cap, const char *dir, const char *stem, const char *ext)
{
    int n = snprintf(out, cap, "%s/%s%s", dir, stem, ext);
    ENSURE(n > 0 && (size_t)n < cap, SIGIL_E_USAGE, "dev CA: state directory path too long");
    return 0;
}

/* Writes via a temporary file and rename, so a reader never sees half a file. */
static int write_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
    char tmp[4200];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    ENSURE(n > 0 && (size_t)n < sizeof(tmp), SIGIL_E_USAGE, "dev CA: path too long");
    (void)unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    ENSURE(fd >= 0, SIGIL_E_IO, "dev CA: cannot create %s: %s", tmp, strerror(errno));
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    int ok = off == len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int err = errno;
        (void)unlink(tmp);
        BAIL(SIGIL_E_IO, "dev CA: cannot write %s: %s", path, strerror(err));
    }
    return 0;
}

static int write_bio_atomic(const char *path, BIO *b, mode_t mode)
{
    char *data;
    long n = BIO_get_mem_data(b, &data);
    ENSURE(n > 0, SIGIL_E_CRYPTO, "dev CA: nothing to write to %s", path);
    return write_atomic(path, data, (size_t)n, mode);
}

static int save_level(const sigil_devca *ca, unsigned lvl)
{
    char path[4096];
    BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
    int rc = -1;
    if (cb == NULL || kb == NULL || PEM_write_bio_X509(cb, ca->lv[lvl].cert) != 1 ||
        PEM_write_bio_PrivateKey(kb, ca->lv[lvl].key, NULL, NULL, 0, NULL, NULL) != 1) {
        (void)sigil_fail(SIGIL_E_CRYPTO, "dev CA: cannot encode %s", LEVELS[lvl].name);
        goto out;
    }
    /* The key first: a certificate on disk always has its key. */
    if (path_of(path, sizeof(path), ca->dir, LEVELS[lvl].name, ".key") != 0 ||
        write_bio_atomic(path, kb, 0600) != 0 ||
        path_of(path, sizeof(path), ca->dir, LEVELS[lvl].name, ".pem") != 0 ||
        write_bio_atomic(path, cb, 0644) != 0)
        goto out;
    rc = 0;
out:
    BIO_free(cb);
    BIO_free(kb);
    return rc;
}

/* 1 loaded, 0 absent (both files), -1 error (one without the other, bad). */
static int load_level(sigil_devca *ca, unsigned lvl)
{
    char cpath[4096], kpath[4096];
    GUARD(path_of(cpath, sizeof(cpath), ca->dir, LEVELS[lvl].name, ".pem"));
    GUARD(path_of(kpath, sizeof(kpath), ca->dir, LEVELS[lvl].name, ".key"));
    bool has_c = access(cpath, F_OK) == 0, has_k = access(kpath, F_OK) == 0;
    if (!has_c && !has_k)
        return 0;
    ENSURE(has_c && has_k, SIGIL_E_IO, "dev CA: %s has a certificate or a key but not both",
           LEVELS[lvl].name);
    BIO *cb = BIO_new_file(cpath, "r"), *kb = BIO_new_file(kpath, "r");
    X509 *x = cb != NULL ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = kb != NULL ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    BIO_free(cb);
    BIO_free(kb);
    if (x == NULL || k == NULL || X509_check_private_key(x, k) != 1) {
        X509_free(x);
        EVP_PKEY_free(k);
        BAIL(SIGIL_E_IO, "dev CA: %s.pem / %s.key unreadable or not a pair", LEVELS[lvl].name,
             LEVELS[lvl].name);
    }
    ca->lv[lvl].cert = x;
    ca->lv[lvl].key = k;
    return 1;
}

/* ---- the chain ---- */

static void level_clear(devca_level *l)
{
    X509_free(l->cert);
    EVP_PKEY_free(l->key);
    free(l->der);
    memset(l, 0, sizeof(*l));
}

static int level_der(devca_level *l)
{
    unsigned char *der = NULL;
    int n = i2d_X509(l->cert, &der);
    ENSURE(n > 0, SIGIL_E_CRYPTO, "dev CA: cannot encode a certificate");
    free(l->der);
    l->der = malloc((size_t)n);
    if (l->der == NULL) {
        OPENSSL_free(der);
        BAIL(SIGIL_E_NO_MEMORY, "dev CA: out of memory");
    }
    memcpy(l->der, der, (size_t)n);
    l->der_len = (size_t)n;
    OPENSSL_free(der);
    return 0;
}

static int issue_level(sigil_devca *ca, unsigned lvl, int64_t start)
{
    devca_level fresh = {0};
    devca_cert_spec s = {
        .cn = LEVELS[lvl].cn,
        .bc = LEVELS[lvl].bc,
        .ku = LEVELS[lvl].ku,
        .not_before = start,
        .not_after = start + LEVELS[lvl].lifetime_s,
        .issuer = lvl == 0 ? NULL : &ca->lv[lvl - 1],
    };
    GUARD(devca_new_key(&fresh.key));
    s.key = fresh.key;
    if (devca_issue(&fresh.cert, &s) != 0 || level_der(&fresh) != 0) {
        level_clear(&fresh);
        return -1;
    }
    level_clear(&ca->lv[lvl]);
    ca->lv[lvl] = fresh;
    return save_level(ca, lvl);
}

static int64_t asn1_to_unix(const ASN1_TIME *t)
{
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm);
}

/* Whether level lvl covers a leaf issued at ts (and is issued by its parent). */
static bool level_covers(const sigil_devca *ca, unsigned lvl, int64_t ts)
{
    const devca_level *l = &ca->lv[lvl];
    if (l->cert == NULL)
        return false;
    if (lvl > 0 && X509_verify(l->cert, ca->lv[lvl - 1].key) != 1)
        return false;
    return asn1_to_unix(X509_get0_notBefore(l->cert)) <= ts - LEAF_BEFORE_S &&
           asn1_to_unix(X509_get0_notAfter(l->cert)) >= ts + LEAF_AFTER_S + REISSUE_MARGIN_S;
}

int devca_ensure(sigil_devca *ca, int64_t ts)
{
    ENSURE(level_covers(ca, 0, ts), SIGIL_E_ATTESTATION,
           "dev CA: the root in %s is not valid at %lld (create a new state directory)", ca->dir,
           (long long)ts);
    bool reissue = false;
    for (unsigned lvl = 1; lvl < DEVCA_LEVELS; lvl++) {
        /* A new parent key invalidates everything under it. */
        reissue = reissue || !level_covers(ca, lvl, ts);
        if (reissue)
            GUARD(issue_level(ca, lvl, ts - 60));
    }
    return 0;
}

static int ensure_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        BAIL(SIGIL_E_IO, "dev CA: cannot create %s: %s", dir, strerror(errno));
    ENSURE(stat(dir, &st) == 0 && S_ISDIR(st.st_mode), SIGIL_E_IO, "dev CA: %s is not a directory",
           dir);
    return 0;
}

static int load_or_create(sigil_devca *ca)
{
    int64_t now = (int64_t)time(NULL);
    GUARD(ensure_dir(ca->dir));
    int have_root = load_level(ca, 0);
    GUARD(have_root < 0 ? -1 : 0);
    if (have_root == 0)
        GUARD(issue_level(ca, 0, now - 60));
    else
        GUARD(level_der(&ca->lv[0]));
    for (unsigned lvl = 1; lvl < DEVCA_LEVELS; lvl++) {
        int r = load_level(ca, lvl);
        if (r < 0)
            return -1;
        if (r > 0)
            GUARD(level_der(&ca->lv[lvl]));
    }
    return devca_ensure(ca, now);
}

int sigil_devca_load_or_create(sigil_devca **out, const char *dir)
{
    ENSURE(dir != NULL && dir[0] != '\0', SIGIL_E_USAGE, "dev CA: no state directory");
    sigil_devca *ca = calloc(1, sizeof(*ca));
    ENSURE(ca != NULL, SIGIL_E_NO_MEMORY, "dev CA: out of memory");
    ca->dir = strdup(dir);
    if (ca->dir == NULL || load_or_create(ca) != 0) {
        if (ca->dir == NULL)
            (void)sigil_fail(SIGIL_E_NO_MEMORY, "dev CA: out of memory");
        sigil_devca_free(ca);
        return -1;
    }
    *out = ca;
    return 0;
}

void sigil_devca_free(sigil_devca *ca)
{
    if (ca == NULL)
        return;
    for (unsigned i = 0; i < DEVCA_LEVELS; i++)
        level_clear(&ca->lv[i]);
    free(ca->dir);
    free(ca);
}

const uint8_t *sigil_devca_root_der(const sigil_devca *ca, size_t *len)
{
    *len = ca->lv[0].der_len;
    return ca->lv[0].der;
}
