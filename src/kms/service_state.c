/*
 * sigil-kms state directory (untrusted host side, dev key service): a dev TLS
 * CA and server certificate, the AES key store, the SigV4 credentials clients
 * must use, and the key policy. Created once, 0700/0600, every file written
 * atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kms/kms_service.h"
#include "sigil/codec.h"

#define PATH_CAP 4096
#define STATE_FILE_MAX 65536
#define TLS_CA_DAYS 3650
#define TLS_LEAF_DAYS 825

int sigil_kms_write_file(const char *path, const void *data, size_t len, unsigned mode)
{
    char tmp[PATH_CAP];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    ENSURE(n > 0 && (size_t)n < sizeof(tmp), SIGIL_E_IO, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
    ENSURE(fd >= 0, SIGIL_E_IO, "%s: cannot create: %s", tmp, strerror(errno));
    const uint8_t *p = data;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    bool ok = off == len && fchmod(fd, (mode_t)mode) == 0 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        (void)unlink(tmp);
        BAIL(SIGIL_E_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    return 0;
}

int sigil_kms_read_file(sigil_buf *out, const char *path)
{
    FILE *f = fopen(path, "rb");
    ENSURE(f != NULL, SIGIL_E_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t n = fread(out->data + out->len, 1, out->cap - out->len, f);
    int more = fgetc(f), err = ferror(f);
    fclose(f);
    ENSURE(!err, SIGIL_E_IO, "%s: read error", path);
    ENSURE(more == EOF, SIGIL_E_TOO_LARGE, "%s: larger than %zu bytes", path, out->cap);
    out->len += n;
    return 0;
}

static int path_join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    ENSURE(n > 0 && (size_t)n < cap, SIGIL_E_IO, "%s/%s: path too long", dir, name);
    return 0;
}

static bool exists(const char *dir, const char *name)
{
    char p[PATH_CAP];
    struct stat st;
    return path_join(p, sizeof(p), dir, name) == 0 && stat(p, &st) == 0;
}

static int write_in(const char *dir, const char *name, const void *data, size_t len, unsigned mode)
{
    char p[PATH_CAP];
    GUARD(path_join(p, sizeof(p), dir, name));
    return sigil_kms_write_file(p, data, len, mode);
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        BAIL(SIGIL_E_IO, "%s: cannot create: %s", path, strerror(errno));
    ENSURE(chmod(path, 0700) == 0, SIGIL_E_IO, "%s: cannot chmod: %s", path, strerror(errno));
    return 0;
}

/* ---- TLS: a P-256 dev CA and a leaf for 127.0.0.1 / localhost ---- */
static bool add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    bool ok = ext != NULL && X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

static X509 *new_cert(EVP_PKEY *key, const char *cn, long days)
{
    X509 *x = X509_new();
    uint8_t serial[16] = {0};
    BIGNUM *bn = NULL;
    bool ok = x != NULL && RAND_bytes(serial, sizeof(serial)) == 1;
    serial[0] &= 0x7f;
    ok = ok && (bn = BN_bin2bn(serial, sizeof(serial), NULL)) != NULL &&
         BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL && X509_set_version(x, 2) &&
         X509_gmtime_adj(X509_getm_notBefore(x), -300) != NULL &&
         X509_gmtime_adj(X509_getm_notAfter(x), days * 86400) != NULL &&
         X509_set_pubkey(x, key) == 1;
    X509_NAME *name = ok ? X509_get_subject_name(x) : NULL;
    ok = ok &&
         X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"DEV-ONLY", -1,
                                    -1, 0) == 1 &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                    0) == 1;
    BN_free(bn);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int pem_out(sigil_buf *out, X509 *cert, EVP_PKEY *key)
{
    BIO *b = BIO_new(BIO_s_mem());
    BUF_MEM *bm = NULL;
    bool ok = b != NULL && (cert == NULL || PEM_write_bio_X509(b, cert) == 1) &&
              (key == NULL || PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1);
    if (ok) {
        BIO_get_mem_ptr(b, &bm);
        ok = sigil_buf_put(out, bm->data, bm->length) == 0;
        OPENSSL_cleanse(bm->data, bm->length);
    }
    BIO_free(b);
    ENSURE(ok, SIGIL_E_CRYPTO, "tls: cannot encode PEM");
    return 0;
}

typedef struct {
    EVP_PKEY *ca_key, *key;
    X509 *ca, *leaf;
} tls_parts;

static bool tls_build(tls_parts *t)
{
    t->ca_key = EVP_EC_gen("P-256");
    t->key = EVP_EC_gen("P-256");
    if (t->ca_key == NULL || t->key == NULL)
        return false;
    t->ca = new_cert(t->ca_key, "sigil-kms dev TLS CA", TLS_CA_DAYS);
    t->leaf = new_cert(t->key, "localhost", TLS_LEAF_DAYS);
    if (t->ca == NULL || t->leaf == NULL)
        return false;
    return X509_set_issuer_name(t->ca, X509_get_subject_name(t->ca)) == 1 &&
           add_ext(t->ca, t->ca, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") &&
           add_ext(t->ca, t->ca, NID_key_usage, "critical,keyCertSign,cRLSign") &&
           add_ext(t->ca, t->ca, NID_subject_key_identifier, "hash") &&
           X509_sign(t->ca, t->ca_key, EVP_sha256()) > 0 &&
           X509_set_issuer_name(t->leaf, X509_get_subject_name(t->ca)) == 1 &&
           add_ext(t->leaf, t->ca, NID_basic_constraints, "critical,CA:FALSE") &&
           add_ext(t->leaf, t->ca, NID_key_usage, "critical,digitalSignature") &&
           add_ext(t->leaf, t->ca, NID_ext_key_usage, "serverAuth") &&
           add_ext(t->leaf, t->ca, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") &&
           add_ext(t->leaf, t->ca, NID_authority_key_identifier, "keyid:always") &&
           X509_sign(t->leaf, t->ca_key, EVP_sha256()) > 0;
}

static int tls_create(const char *dir)
{
    char tlsdir[PATH_CAP];
    static char mem[16384];
    tls_parts t = {0};
    sigil_buf b;
    int rc = -1;
    GUARD(path_join(tlsdir, sizeof(tlsdir), dir, "tls"));
    GUARD(make_dir(tlsdir));
    if (!tls_build(&t))
        (void)sigil_fail(SIGIL_E_CRYPTO, "tls: cannot create the dev CA");
    else {
        /* The CA key is dropped: nobody can mint another certificate. */
        sigil_buf_init(&b, mem, sizeof(mem));
        rc = pem_out(&b, t.ca, NULL) == 0 && write_in(tlsdir, "ca.pem", b.data, b.len, 0644) == 0
                 ? 0
                 : -1;
        sigil_buf_init(&b, mem, sizeof(mem));
        rc = rc == 0 && pem_out(&b, t.leaf, NULL) == 0 && pem_out(&b, t.ca, NULL) == 0 &&
                     write_in(tlsdir, "server.pem", b.data, b.len, 0644) == 0
                 ? 0
                 : -1;
        sigil_buf_init(&b, mem, sizeof(mem));
        rc = rc == 0 && pem_out(&b, NULL, t.key) == 0 &&
                     write_in(tlsdir, "server.key", b.data, b.len, 0600) == 0
                 ? 0
                 : -1;
        sigil_wipe(mem, sizeof(mem));
    }
    EVP_PKEY_free(t.ca_key);
    EVP_PKEY_free(t.key);
    X509_free(t.ca);
    X509_free(t.leaf);
    ERR_clear_error();
    return rc;
}

/* ---- keys and credentials ---- */
static int uuid4(char out[37])
{
    uint8_t r[16];
    char hex[33];
    ENSURE(RAND_bytes(r, sizeof(r)) == 1, SIGIL_E_CRYPTO, "keys: no randomness");
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
    sigil_hex_encode(hex, r, sizeof(r));
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
    return 0;
}

static int keys_create(const char *dir)
{
    SIGIL_SECRET(mem);
    uint8_t key[32];
    char id[37];
    sigil_jw w;
    sigil_buf b;
    sigil_buf q;
    GUARD(sigil_secret_alloc(&mem, 512));
    GUARD(uuid4(id));
    ENSURE(RAND_priv_bytes(key, sizeof(key)) == 1, SIGIL_E_CRYPTO, "keys: no randomness");
    /* The key's base64 goes in as a pre-quoted value, in locked memory. */
    sigil_buf_init(&q, mem.p + 256, 64);
    int rc = sigil_buf_putc(&q, '"') || sigil_b64_put(&q, key, sizeof(key), SIGIL_B64_STD) ||
             sigil_buf_putc(&q, '"');
    sigil_buf_init(&b, mem.p, 256);
    sigil_jw_init(&w, &b);
    rc = rc || sigil_jw_obj_begin(&w) || sigil_jw_key(&w, "keys") || sigil_jw_obj_begin(&w) ||
         sigil_jw_key(&w, id) || sigil_jw_obj_begin(&w) || sigil_jw_key(&w, "aes256") ||
         sigil_jw_raw(&w, (const char *)q.data, q.len) || sigil_jw_key(&w, "alias") ||
         sigil_jw_str(&w, SIGIL_KMS_DEFAULT_ALIAS) || sigil_jw_obj_end(&w) ||
         sigil_jw_obj_end(&w) || sigil_jw_obj_end(&w) || sigil_buf_putc(&b, '\n');
    sigil_wipe(key, sizeof(key));
    ENSURE(rc == 0, SIGIL_E_INTERNAL, "keys: cannot encode keys.json");
    return write_in(dir, "keys.json", b.data, b.len, 0600);
}

/* AWS-shaped: "AKIA" + 16 of [A-Z2-7], a 40-character base64 secret. */
static int creds_create(const char *dir)
{
    static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    char akid[21], secret[41], text[256];
    uint8_t r[30];
    ENSURE(RAND_priv_bytes(r, sizeof(r)) == 1, SIGIL_E_CRYPTO, "credentials: no randomness");
    memcpy(akid, "AKIA", 4);
    for (size_t i = 0; i < 16; i++)
        akid[4 + i] = B32[r[i] & 31];
    akid[20] = 0;
    sigil_buf sb;
    sigil_buf_init(&sb, secret, sizeof(secret));
    GUARD(sigil_b64_put(&sb, r, sizeof(r), SIGIL_B64_STD));
    secret[40] = 0;
    int n = snprintf(text, sizeof(text),
                     "{\"access_key_id\":\"%s\",\"secret_access_key\":\"%s\",\"region\":\"us-east-"
                     "1\"}\n",
                     akid, secret);
    sigil_wipe(r, sizeof(r));
    sigil_wipe(secret, sizeof(secret));
    int rc = write_in(dir, "credentials.json", text, (size_t)n, 0600);
    rc = rc == 0 ? write_in(dir, "client-credentials.json", text, (size_t)n, 0600) : rc;
    sigil_wipe(text, sizeof(text));
    return rc;
}

static int copy_client_creds(const char *dir)
{
    char mem[STATE_FILE_MAX], p[PATH_CAP];
    sigil_buf b;
    sigil_buf_init(&b, mem, sizeof(mem));
    GUARD(path_join(p, sizeof(p), dir, "credentials.json"));
    int rc = sigil_kms_read_file(&b, p);
    rc = rc == 0 ? write_in(dir, "client-credentials.json", b.data, b.len, 0600) : rc;
    sigil_wipe(mem, b.len);
    return rc;
}

static int check_hex96(const char *hex)
{
    uint8_t tmp[48];
    ENSURE(hex != NULL, SIGIL_E_USAGE, "--image-sha384: required");
    return sigil_hex_decode_exact(tmp, sizeof(tmp), hex, strnlen(hex, 97), false, "--image-sha384");
}

int sigil_kms_state_init(const char *dir, const char *image_sha384_hex)
{
    char mem[4096];
    sigil_buf b;
    if (image_sha384_hex != NULL)
        GUARD(check_hex96(image_sha384_hex));
    GUARD(make_dir(dir));
    if (!exists(dir, "tls/ca.pem") || !exists(dir, "tls/server.pem") ||
        !exists(dir, "tls/server.key"))
        GUARD(tls_create(dir));
    if (!exists(dir, "keys.json"))
        GUARD(keys_create(dir));
    if (!exists(dir, "credentials.json"))
        GUARD(creds_create(dir));
    else if (!exists(dir, "client-credentials.json"))
        GUARD(copy_client_creds(dir));
    if (!exists(dir, "key-policy.json")) {
        sigil_buf_init(&b, mem, sizeof(mem));
        GUARD(sigil_kms_policy_default(&b, image_sha384_hex));
        GUARD(write_in(dir, "key-policy.json", b.data, b.len, 0600));
    }
    return 0;
}

int sigil_kms_state_pin(const char *dir, const char *image_sha384_hex)
{
    static _Thread_local char in[STATE_FILE_MAX], out[STATE_FILE_MAX];
    char p[PATH_CAP];
    sigil_buf bi, bo;
    GUARD(check_hex96(image_sha384_hex));
    if (!exists(dir, "key-policy.json"))
        return sigil_kms_state_init(dir, image_sha384_hex);
    GUARD(sigil_kms_state_init(dir, NULL)); /* anything else missing */
    GUARD(path_join(p, sizeof(p), dir, "key-policy.json"));
    sigil_buf_init(&bi, in, sizeof(in));
    sigil_buf_init(&bo, out, sizeof(out));
    GUARD(sigil_kms_read_file(&bi, p));
    GUARD(sigil_kms_policy_pin(&bo, (const char *)bi.data, bi.len, image_sha384_hex));
    return sigil_kms_write_file(p, bo.data, bo.len, 0600);
}
