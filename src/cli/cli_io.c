/*
 * Shared CLI helpers (untrusted host code that may hold a user's secrets):
 * error reporting, bounded input from stdin and files, the pinned
 * attestation root, compact JSON copies and one-line output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sigil/attest.h"
#include "sigil/codec.h"

int cli_report_error(void)
{
    char mem[1024];
    sigil_buf b;
    sigil_jw w;
    sigil_err e = sigil_errno();
    if (e == SIGIL_OK)
        (void)sigil_fail(SIGIL_E_INTERNAL, "unknown error");
    e = sigil_errno();
    sigil_buf_init(&b, mem, sizeof(mem) - 1);
    sigil_jw_init(&w, &b);
    if (sigil_jw_obj_begin(&w) || sigil_jw_key(&w, "error") || sigil_jw_obj_begin(&w) ||
        sigil_jw_key(&w, "code") || sigil_jw_str(&w, sigil_err_code(e)) ||
        sigil_jw_key(&w, "message") || sigil_jw_str(&w, sigil_errmsg()) || sigil_jw_obj_end(&w) ||
        sigil_jw_obj_end(&w)) {
        fputs("{\"error\":{\"code\":\"internal\",\"message\":\"error report too long\"}}\n",
              stderr);
        return CLI_EXIT_INTERNAL;
    }
    mem[b.len] = '\0';
    fprintf(stderr, "%s\n", mem);
    return (e == SIGIL_E_INTERNAL || e == SIGIL_E_CRYPTO || e == SIGIL_E_NO_MEMORY)
               ? CLI_EXIT_INTERNAL
               : CLI_EXIT_BAD_INPUT;
}

static int read_fd(int fd, char *buf, size_t cap, size_t *len, const char *what)
{
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        ENSURE(r >= 0, SIGIL_E_IO, "%s: read failed: %s", what, strerror(errno));
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == cap) {
            char extra;
            ssize_t more;
            do {
                more = read(fd, &extra, 1);
            } while (more < 0 && errno == EINTR);
            ENSURE(more == 0, SIGIL_E_TOO_LARGE, "%s: larger than %zu bytes", what, cap);
            break;
        }
    }
    *len = n;
    return 0;
}

int cli_read_stdin(char *buf, size_t cap, size_t *len)
{
    return read_fd(STDIN_FILENO, buf, cap, len, "request (stdin)");
}

/* Opens a regular file for reading; returns the descriptor, or -1. */
static int open_regular(const char *path, const char *opt)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ENSURE(fd >= 0, SIGIL_E_IO, "%s: cannot open the file: %s", opt, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        BAIL(SIGIL_E_IO, "%s: not a regular file", opt);
    }
    return fd;
}

int cli_read_secret_file_as(sigil_secret *out, const char *path, size_t max, const char *opt)
{
    int fd = open_regular(path, opt);
    if (fd < 0)
        return -1;
    if (sigil_secret_alloc(out, max) != 0) {
        close(fd);
        return -1;
    }
    int rc = read_fd(fd, (char *)out->p, max, &out->len, opt);
    close(fd);
    if (rc != 0)
        sigil_secret_free(out);
    return rc;
}

int cli_read_secret_file(sigil_secret *out, const char *path, size_t max)
{
    return cli_read_secret_file_as(out, path, max, "--credentials");
}

int cli_read_public_file(char *buf, size_t cap, size_t *len, const char *path, const char *opt)
{
    int fd = open_regular(path, opt);
    if (fd < 0)
        return -1;
    int rc = read_fd(fd, buf, cap, len, opt);
    close(fd);
    return rc;
}

int cli_root_check(const char *root, const char *dev_root, const char *cmd)
{
    ENSURE((root != NULL) != (dev_root != NULL), SIGIL_E_USAGE,
           "%s: exactly one of --root aws and --trust-dev-root is required", cmd);
    ENSURE(root == NULL || strcmp(root, "aws") == 0, SIGIL_E_USAGE,
           "--root: only \"aws\" is built in (use --trust-dev-root PEM for a dev root)");
    return 0;
}

int cli_root_load(const uint8_t **der, size_t *len, uint8_t **owned, const char *dev_root)
{
    *owned = NULL;
    if (dev_root != NULL) {
        GUARD(sigil_attest_load_root_pem(owned, len, dev_root));
        *der = *owned;
        return 0;
    }
    *der = sigil_attest_aws_root(len);
    ENSURE(*der != NULL, SIGIL_E_INTERNAL, "the built-in AWS root is corrupted");
    return 0;
}

int cli_copy_json_object(sigil_jw *w, const char *text, size_t len, const char *what)
{
    static sigil_json_tok toks[CLI_JSON_MAX_TOKENS];
    sigil_json d;
    GUARD(sigil_json_parse(&d, text, len, toks, SIGIL_ARRAY_LEN(toks)));
    ENSURE(sigil_json_type_of(&d, 0) == SIGIL_JSON_OBJECT, SIGIL_E_BAD_FIELD,
           "%s: expected an object", what);
    return sigil_jw_copy(w, &d, 0);
}

int cli_write_line(const char *p, size_t n)
{
    ENSURE(fwrite(p, 1, n, stdout) == n && fputc('\n', stdout) != EOF && fflush(stdout) == 0,
           SIGIL_E_IO, "stdout: write failed");
    return 0;
}
