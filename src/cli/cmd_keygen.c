/*
 * `sigil keygen --out FILE`: a new Ed25519 key for a policy owner or a
 * client. FILE (mode 0600, never overwritten) holds
 * {"type":"ed25519","public_key":"<64 hex>","secret_key":"<64 hex seed>"};
 * stdout gets {"public_key":"<64 hex>"}. The key file format lives here and
 * is shared with seal, sign-request and policy sign (cli.h). Client-side
 * code handling a secret: the seed and the file text live only in locked
 * memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sigil/codec.h"

#define KEYGEN_FILE_MAX 256
#define KEY_FILE_READ_MAX ((size_t)4096)

static int parse_args(const char **out, int argc, char **argv)
{
    const cli_opt OPTS[] = {{"out", out, NULL, true}};
    return cli_options(argc, argv, OPTS, SIGIL_ARRAY_LEN(OPTS), NULL,
                       "usage: sigil keygen --out FILE", "keygen");
}

/* The key file's text, built in locked memory. */
static int key_file_text(sigil_secret *text, uint8_t pk[32])
{
    SIGIL_SECRET(sk);
    sigil_buf b;
    SIGIL_SECRET(seed);
    GUARD(sigil_secret_alloc(&seed, crypto_sign_SEEDBYTES));
    GUARD(sigil_secret_alloc(&sk, crypto_sign_SECRETKEYBYTES));
    GUARD(sigil_secret_alloc(text, KEYGEN_FILE_MAX));
    randombytes_buf(seed.p, crypto_sign_SEEDBYTES);
    ENSURE(crypto_sign_seed_keypair(pk, sk.p, seed.p) == 0, SIGIL_E_CRYPTO,
           "keygen: Ed25519 key generation failed");
    sigil_buf_init(&b, text->p, text->cap);
    GUARD(sigil_buf_puts(&b, "{\"type\":\"ed25519\",\"public_key\":\""));
    GUARD(sigil_buf_put_hex(&b, pk, 32));
    GUARD(sigil_buf_puts(&b, "\",\"secret_key\":\""));
    ENSURE(b.cap - b.len >= 2 * 32 + 1, SIGIL_E_INTERNAL, "keygen: key file buffer too small");
    sigil_hex_encode((char *)b.data + b.len, seed.p, 32); /* constant time */
    b.len += (size_t)2 * 32;
    GUARD(sigil_buf_puts(&b, "\"}\n"));
    text->len = b.len;
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n, const char *opt)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        ENSURE(w > 0, SIGIL_E_IO, "%s: write failed: %s", opt, strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Created exclusively (an existing file or symlink is refused), 0600. */
static int write_key_file(const char *path, const sigil_secret *text, const char *opt)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        BAIL(SIGIL_E_IO, "%s: the file exists; refusing to overwrite a key", opt);
    ENSURE(fd >= 0, SIGIL_E_IO, "%s: cannot create the file: %s", opt, strerror(errno));
    int rc = write_all(fd, text->p, text->len, opt);
    if (rc == 0 && fsync(fd) != 0)
        rc = sigil_fail(SIGIL_E_IO, "%s: fsync failed: %s", opt, strerror(errno));
    if (close(fd) != 0 && rc == 0)
        rc = sigil_fail(SIGIL_E_IO, "%s: close failed: %s", opt, strerror(errno));
    if (rc != 0)
        (void)unlink(path);
    return rc;
}

int cli_key_file_create(uint8_t pk[32], const char *path, const char *opt)
{
    SIGIL_SECRET(text);
    GUARD(key_file_text(&text, pk));
    return write_key_file(path, &text, opt);
}

/* ---- reading key files ---- */

static int key_file_hex(uint8_t *out, const sigil_json *d, const char *key, const char *opt)
{
    uint32_t t;
    GUARD(sigil_json_get_str(d, 0, key, true, &t, opt));
    sigil_slice s = sigil_json_raw(d, t);
    /* Both halves are checked without naming their content. */
    if (sigil_hex_decode_exact(out, 32, s.p, s.len, false, key) != 0)
        BAIL(SIGIL_E_BAD_CREDENTIALS, "%s.%s: expected 64 hex digits", opt, key);
    return 0;
}

int cli_key_file_load(uint8_t pk[32], sigil_secret *seed, const char *path, const char *opt)
{
    SIGIL_SECRET(text);
    sigil_json_tok toks[16];
    sigil_json d;
    uint32_t t;
    const sigil_json_field fields[] = {
        {"type", seed != NULL}, {"public_key", true}, {"secret_key", seed != NULL}};
    GUARD(cli_read_secret_file_as(&text, path, KEY_FILE_READ_MAX, opt));
    GUARD(sigil_json_parse(&d, (const char *)text.p, text.len, toks, SIGIL_ARRAY_LEN(toks)));
    ENSURE(sigil_json_type_of(&d, 0) == SIGIL_JSON_OBJECT, SIGIL_E_BAD_CREDENTIALS,
           "%s: expected a key file object", opt);
    GUARD(sigil_json_check_fields(&d, 0, fields, SIGIL_ARRAY_LEN(fields), opt));
    GUARD(sigil_json_get_str(&d, 0, "type", false, &t, opt));
    ENSURE(t == 0 || sigil_json_str_eq(&d, t, "ed25519"), SIGIL_E_UNKNOWN_KEY_TYPE,
           "%s.type: expected ed25519", opt);
    GUARD(key_file_hex(pk, &d, "public_key", opt));
    if (seed == NULL)
        return 0;
    GUARD(sigil_secret_alloc(seed, crypto_sign_SEEDBYTES));
    if (key_file_hex(seed->p, &d, "secret_key", opt) != 0) {
        sigil_secret_free(seed);
        return -1;
    }
    seed->len = crypto_sign_SEEDBYTES;
    return 0;
}

/* The public half must be the key of the seed. */
static int key_pair_check(const uint8_t pk[32], const sigil_secret *seed, const char *opt)
{
    SIGIL_SECRET(sk);
    uint8_t derived[32];
    ENSURE(seed->len == crypto_sign_SEEDBYTES, SIGIL_E_INTERNAL, "%s: no seed loaded", opt);
    GUARD(sigil_secret_alloc(&sk, crypto_sign_SECRETKEYBYTES));
    ENSURE(crypto_sign_seed_keypair(derived, sk.p, seed->p) == 0, SIGIL_E_CRYPTO,
           "%s: key expansion failed", opt);
    ENSURE(memcmp(derived, pk, 32) == 0, SIGIL_E_BAD_CREDENTIALS,
           "%s: public_key is not the key of secret_key", opt);
    return 0;
}

int cli_key_pair_load(uint8_t pk[32], sigil_secret *seed, const char *path, const char *opt)
{
    GUARD(cli_key_file_load(pk, seed, path, opt));
    return key_pair_check(pk, seed, opt);
}

int cmd_keygen(int argc, char **argv)
{
    const char *path;
    uint8_t pk[32];
    char pk_hex[65];
    if (parse_args(&path, argc, argv) != 0 || cli_key_file_create(pk, path, "--out") != 0)
        return cli_report_error();
    sigil_hex_encode(pk_hex, pk, 32);
    if (printf("{\"public_key\":\"%s\"}\n", pk_hex) < 0 || fflush(stdout) != 0) {
        (void)sigil_fail(SIGIL_E_IO, "stdout: write failed");
        return cli_report_error();
    }
    return CLI_EXIT_OK;
}
