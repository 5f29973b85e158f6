/*
 * `sigil attestation verify --document FILE (--root aws | --trust-dev-root PEM)
 *  --measurement HEX96 [--nonce HEX] [--at UNIXSECONDS] [--allow-debug]` and
 * `sigil measure FILE` (dev measurement: a file hash) and `sigil measure
 * --eif FILE` (production PCR0/1/2 of an EIF; never the same thing).
 * Client-side checks a user runs before trusting an enclave: both a root and
 * a measurement are required, so "verified" always means "this code, under
 * this root". Untrusted-host code (no secrets).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "sigil/attest.h"
#include "sigil/codec.h"

#define DOC_FILE_MAX 16384

#define VERIFY_USAGE                                                                               \
    "usage: sigil attestation verify --document FILE (--root aws | --trust-dev-root PEM) "         \
    "--measurement HEX96 [--nonce HEX] [--at UNIXSECONDS] [--allow-debug]"

typedef struct {
    const char *document;
    const char *root;
    const char *dev_root;
    const char *measurement;
    const char *nonce;
    const char *at;
    bool allow_debug;
} verify_args;

static int parse_verify_args(verify_args *a, int argc, char **argv)
{
    const cli_opt OPTS[] = {
        {"document", &a->document, NULL, true},
        {"root", &a->root, NULL, false},
        {"trust-dev-root", &a->dev_root, NULL, false},
        {"measurement", &a->measurement, NULL, false},
        {"nonce", &a->nonce, NULL, false},
        {"at", &a->at, NULL, false},
        {"allow-debug", NULL, &a->allow_debug, false},
    };
    GUARD(cli_options(argc, argv, OPTS, SIGIL_ARRAY_LEN(OPTS), NULL, VERIFY_USAGE,
                      "attestation verify"));
    GUARD(cli_root_check(a->root, a->dev_root, "attestation verify"));
    ENSURE(a->measurement != NULL, SIGIL_E_USAGE,
           "attestation verify: --measurement is required (the PCR0 you expect)");
    return 0;
}

static int parse_unix_seconds(int64_t *out, const char *s)
{
    uint64_t v = 0;
    size_t n = strlen(s);
    ENSURE(n > 0 && n <= 12, SIGIL_E_USAGE, "--at: expected unix seconds");
    for (size_t i = 0; i < n; i++) {
        ENSURE(s[i] >= '0' && s[i] <= '9', SIGIL_E_USAGE, "--at: expected unix seconds");
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = (int64_t)v;
    return 0;
}

static int read_document(uint8_t *buf, size_t cap, size_t *len, const char *path)
{
    FILE *f = fopen(path, "rb");
    ENSURE(f != NULL, SIGIL_E_IO, "--document: cannot open %s: %s", path, strerror(errno));
    size_t n = fread(buf, 1, cap, f);
    bool more = n == cap && fgetc(f) != EOF;
    bool err = ferror(f) != 0;
    fclose(f);
    ENSURE(!err, SIGIL_E_IO, "--document: read failed");
    ENSURE(!more, SIGIL_E_TOO_LARGE, "--document: larger than %zu bytes", cap);
    ENSURE(n > 0, SIGIL_E_ATTESTATION, "--document: empty file");
    *len = n;
    return 0;
}

static int jw_hex_or_null(sigil_jw *w, const char *key, const uint8_t *p, size_t n)
{
    char hex[2 * SIGIL_ATTEST_FIELD_MAX + 1];
    GUARD(sigil_jw_key(w, key));
    if (p == NULL)
        return sigil_jw_null(w);
    sigil_hex_encode(hex, p, n);
    return sigil_jw_str(w, hex);
}

static int jw_boot(sigil_jw *w, const sigil_attest_doc *d)
{
    sigil_boot_binding bb;
    if (d->user_data == NULL || sigil_boot_binding_decode(&bb, d->user_data, d->user_data_len))
        return 0; /* not a Sigil boot: no "boot" member */
    GUARD(sigil_jw_key(w, "boot"));
    GUARD(sigil_jw_obj_begin(w));
    GUARD(jw_hex_or_null(w, "boot_id", bb.boot_id, sizeof(bb.boot_id)));
    GUARD(jw_hex_or_null(w, "sealing_key", bb.sealing_key, sizeof(bb.sealing_key)));
    GUARD(jw_hex_or_null(w, "receipt_key", bb.receipt_key, sizeof(bb.receipt_key)));
    return sigil_jw_obj_end(w);
}

static int write_result(sigil_buf *b, const sigil_attest_doc *d)
{
    sigil_jw w;
    sigil_jw_init(&w, b);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "ok"));
    GUARD(sigil_jw_bool(&w, true));
    GUARD(sigil_jw_key(&w, "module_id"));
    GUARD(sigil_jw_str(&w, d->module_id));
    GUARD(sigil_jw_key(&w, "timestamp_ms"));
    GUARD(sigil_jw_u64(&w, d->timestamp_ms));
    GUARD(jw_hex_or_null(&w, "measurement", d->pcrs[0], 48));
    GUARD(jw_hex_or_null(&w, "user_data", d->user_data, d->user_data_len));
    GUARD(jw_hex_or_null(&w, "nonce", d->nonce, d->nonce_len));
    GUARD(jw_hex_or_null(&w, "public_key", d->public_key, d->public_key_len));
    GUARD(jw_boot(&w, d));
    GUARD(sigil_jw_obj_end(&w));
    return sigil_buf_putc(b, '\n');
}

/* The application checks on top of sigil_attest_verify: PCR0 and nonce. */
static int check_expectations(const sigil_attest_doc *d, const verify_args *a)
{
    uint8_t want[48];
    static uint8_t nonce[SIGIL_ATTEST_FIELD_MAX];
    size_t nonce_len;
    GUARD(sigil_hex_decode_exact(want, sizeof(want), a->measurement, strlen(a->measurement), false,
                                 "--measurement"));
    ENSURE(d->pcr_mask & 1u, SIGIL_E_ATTESTATION, "attestation: the document has no PCR0");
    ENSURE(memcmp(d->pcrs[0], want, 48) == 0, SIGIL_E_ATTESTATION,
           "attestation: PCR0 does not equal --measurement");
    if (a->nonce == NULL)
        return 0;
    GUARD(sigil_hex_decode(nonce, sizeof(nonce), &nonce_len, a->nonce, strlen(a->nonce), false,
                           "--nonce"));
    ENSURE(d->nonce != NULL && d->nonce_len == nonce_len && memcmp(d->nonce, nonce, nonce_len) == 0,
           SIGIL_E_ATTESTATION, "attestation: nonce does not equal --nonce");
    return 0;
}

static int verify(sigil_buf *out, const verify_args *a)
{
    static uint8_t doc[DOC_FILE_MAX];
    size_t doc_len;
    uint8_t *dev_root;
    sigil_attest_doc d;
    sigil_attest_policy pol = {.allow_debug = a->allow_debug, .verify_time = (int64_t)time(NULL)};
    if (a->at != NULL)
        GUARD(parse_unix_seconds(&pol.verify_time, a->at));
    GUARD(read_document(doc, sizeof(doc), &doc_len, a->document));
    GUARD(cli_root_load(&pol.root_der, &pol.root_der_len, &dev_root, a->dev_root));
    int rc = sigil_attest_verify(&d, &pol, doc, doc_len);
    free(dev_root);
    GUARD(rc);
    GUARD(check_expectations(&d, a));
    return write_result(out, &d);
}

int cmd_attestation(int argc, char **argv)
{
    static char mem[16384];
    verify_args a;
    sigil_buf out;
    if (argc < 2 || strcmp(argv[1], "verify") != 0) {
        (void)sigil_fail(SIGIL_E_USAGE, VERIFY_USAGE);
        return cli_report_error();
    }
    sigil_buf_init(&out, mem, sizeof(mem));
    if (parse_verify_args(&a, argc - 1, argv + 1) != 0 || verify(&out, &a) != 0)
        return cli_report_error();
    if (fwrite(mem, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
        (void)sigil_fail(SIGIL_E_IO, "stdout: write failed");
        return cli_report_error();
    }
    return CLI_EXIT_OK;
}

#define MEASURE_USAGE "usage: sigil measure FILE | sigil measure --eif FILE"

static int print_line(const char *s)
{
    ENSURE(printf("%s\n", s) >= 0 && fflush(stdout) == 0, SIGIL_E_IO, "stdout: write failed");
    return 0;
}

/* The dev measurement: a file hash, what sigil-launch reports as PCR0. */
static int measure_dev(const char *path)
{
    uint8_t pcr0[48];
    char hex[97];
    GUARD(sigil_attest_measure_file(pcr0, path));
    sigil_hex_encode(hex, pcr0, sizeof(pcr0));
    return print_line(hex);
}

/* The production measurement of an EIF: {"PCR0","PCR1","PCR2"}. */
static int measure_eif(const char *path)
{
    static const char *const KEYS[3] = {"PCR0", "PCR1", "PCR2"};
    sigil_eif_measurement m;
    char mem[512], hex[97];
    sigil_buf b;
    sigil_jw w;
    GUARD(sigil_eif_measure_file(&m, path));
    const uint8_t *pcrs[3] = {m.pcr0, m.pcr1, m.pcr2};
    sigil_buf_init(&b, mem, sizeof(mem));
    sigil_jw_init(&w, &b);
    GUARD(sigil_jw_obj_begin(&w));
    for (size_t i = 0; i < 3; i++) {
        sigil_hex_encode(hex, pcrs[i], 48);
        GUARD(sigil_jw_key(&w, KEYS[i]));
        GUARD(sigil_jw_str(&w, hex));
    }
    GUARD(sigil_jw_obj_end(&w));
    GUARD(sigil_buf_cstr(&b));
    return print_line(mem);
}

int cmd_measure(int argc, char **argv)
{
    int rc;
    if (argc == 2 && argv[1][0] != '-')
        rc = measure_dev(argv[1]);
    else if (argc == 3 && strcmp(argv[1], "--eif") == 0)
        rc = measure_eif(argv[2]);
    else
        rc = sigil_fail(SIGIL_E_USAGE, MEASURE_USAGE);
    return rc == 0 ? CLI_EXIT_OK : cli_report_error();
}
