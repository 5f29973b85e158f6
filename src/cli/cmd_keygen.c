/*
 * `sigil keygen --out FILE`: a new Ed25519 key for a policy owner or a
 * client. FILE (mode 0600, never overwritten) holds
 * {"type":"ed25519","public_key":"<64 hex>","secret_key":"<64 hex seed>"};
 * stdout gets {"public_key":"<64 hex>"}. Client-side code handling a secret:
 * the seed and the file text live only in locked memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sigil/codec.h"

#define KEYGEN_FILE_MAX 256

static int parse_args(const char **out, int argc, char **argv)
{
    static const struct option OPTS[] = {
        {"out", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    *out = NULL;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", OPTS, NULL)) != -1) {
        switch (opt) {
        case 'o':
            *out = optarg;
            break;
        default:
            BAIL(SIGIL_E_USAGE, "usage: sigil keygen --out FILE");
        }
    }
    ENSURE(optind == argc, SIGIL_E_USAGE, "keygen: unexpected argument");
    ENSURE(*out != NULL, SIGIL_E_USAGE, "keygen: --out is required");
    return 0;
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

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        ENSURE(w > 0, SIGIL_E_IO, "--out: write failed: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Created exclusively (an existing file or symlink is refused), 0600. */
static int write_key_file(const char *path, const sigil_secret *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        BAIL(SIGIL_E_IO, "--out: the file exists; refusing to overwrite a key");
    ENSURE(fd >= 0, SIGIL_E_IO, "--out: cannot create the file: %s", strerror(errno));
    int rc = write_all(fd, text->p, text->len);
    if (rc == 0 && fsync(fd) != 0)
        rc = sigil_fail(SIGIL_E_IO, "--out: fsync failed: %s", strerror(errno));
    if (close(fd) != 0 && rc == 0)
        rc = sigil_fail(SIGIL_E_IO, "--out: close failed: %s", strerror(errno));
    if (rc != 0)
        (void)unlink(path);
    return rc;
}

int cmd_keygen(int argc, char **argv)
{
    const char *path;
    uint8_t pk[32];
    char pk_hex[65];
    SIGIL_SECRET(text);
    if (parse_args(&path, argc, argv) != 0 || key_file_text(&text, pk) != 0 ||
        write_key_file(path, &text) != 0)
        return cli_report_error();
    sigil_hex_encode(pk_hex, pk, 32);
    if (printf("{\"public_key\":\"%s\"}\n", pk_hex) < 0 || fflush(stdout) != 0) {
        (void)sigil_fail(SIGIL_E_IO, "stdout: write failed");
        return cli_report_error();
    }
    return CLI_EXIT_OK;
}
