/*
 * Integration: the real sigil-kms binary (bin/sigil-kms next to this test)
 * on port 0 with a temporary state directory, called through the client
 * library exactly as the enclave calls it. Attestation documents come from
 * the dev CA. GenerateDataKey then Decrypt with a fresh document and key
 * return the same data key; a wrong PCR0, a missing Recipient and a bad
 * signature are refused with the right error codes; the log names decisions
 * and never key material.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sigil/attest.h"
#include "sigil/codec.h"
#include "sigil/crypto.h"
#include "sigil/kms.h"

typedef struct {
    char dir[PATH_MAX], state[PATH_MAX + 16], ready[PATH_MAX + 16], log[PATH_MAX + 16];
    char root[PATH_MAX + 32], bin[PATH_MAX + 16];
    char url[128], ca[PATH_MAX + 32], creds_path[PATH_MAX + 64];
    pid_t pid;
    sigil_devca *devca;
    uint8_t pcrs[32][48];
    char pcr0_hex[97];
    sigil_kms_client *client;
} fixture;

static fixture F;

/* ---- process helpers ---- */
static void find_binary(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    assert_true(n > 0);
    self[n] = 0;
    char *slash = strrchr(self, '/');
    assert_non_null(slash);
    *slash = 0;
    snprintf(F.bin, sizeof(F.bin), "%s/sigil-kms", self);
    if (access(F.bin, X_OK) != 0)
        fail_msg("%s not built (build the sigil-kms-server target)", F.bin);
}

static pid_t spawn(char *const argv[], const char *log)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int run_pin(const char *hex)
{
    char *argv[] = {F.bin, "--state", F.state, "pin", "--image-sha384", (char *)hex, NULL};
    int status;
    pid_t pid = spawn(argv, F.log);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static size_t slurp(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    size_t n = fread(out, 1, cap - 1, f);
    fclose(f);
    out[n] = 0;
    return n;
}

static void json_str(char *out, size_t cap, const sigil_json *d, const char *key)
{
    uint32_t t;
    sigil_buf b;
    assert_int_equal(sigil_json_get_str(d, 0, key, true, &t, "json"), 0);
    sigil_buf_init(&b, out, cap);
    assert_int_equal(sigil_json_str(d, t, &b), 0);
    assert_int_equal(sigil_buf_cstr(&b), 0);
}

/* Waits for the ready file (written atomically: complete when present). */
static void wait_ready(void)
{
    char text[4096];
    sigil_json_tok toks[16];
    sigil_json d;
    size_t n = 0;
    for (int i = 0; i < 600 && n == 0; i++) {
        n = slurp(F.ready, text, sizeof(text));
        int status;
        if (n == 0 && waitpid(F.pid, &status, WNOHANG) == F.pid) {
            char log[4096];
            slurp(F.log, log, sizeof(log));
            fail_msg("sigil-kms exited: %s", log);
        }
        if (n == 0)
            usleep(50 * 1000);
    }
    assert_true(n > 0);
    assert_int_equal(sigil_json_parse(&d, text, n, toks, 16), 0);
    json_str(F.url, sizeof(F.url), &d, "url");
    json_str(F.ca, sizeof(F.ca), &d, "ca");
    json_str(F.creds_path, sizeof(F.creds_path), &d, "credentials");
    char key_id[64];
    json_str(key_id, sizeof(key_id), &d, "key_id");
    assert_string_equal(key_id, "alias/sigil");
    assert_int_equal(strncmp(F.url, "https://127.0.0.1:", 18), 0);
}

static void load_client_creds(sigil_aws_creds *c, bool corrupt_secret)
{
    char text[1024], akid[64], secret[128], region[32];
    sigil_json_tok toks[16];
    sigil_json d;
    size_t n = slurp(F.creds_path, text, sizeof(text));
    assert_true(n > 0);
    assert_int_equal(sigil_json_parse(&d, text, n, toks, 16), 0);
    json_str(akid, sizeof(akid), &d, "access_key_id");
    json_str(secret, sizeof(secret), &d, "secret_access_key");
    json_str(region, sizeof(region), &d, "region");
    if (corrupt_secret)
        secret[0] = secret[0] == 'A' ? 'B' : 'A';
    assert_int_equal(sigil_aws_creds_set(c, akid, strlen(akid), (const uint8_t *)secret,
                                         strlen(secret), NULL, 0, region, strlen(region)),
                     0);
    sigil_wipe(secret, sizeof(secret));
    sigil_wipe(text, sizeof(text));
}

static sigil_kms_client *new_client(const char *url, const char *ca, bool corrupt_secret)
{
    sigil_kms_config cfg = {url, ca, NULL, 10000};
    sigil_kms_client *c;
    sigil_aws_creds creds;
    if (sigil_kms_client_new(&c, &cfg) != 0)
        fail_msg("client: %s", sigil_errmsg());
    load_client_creds(&creds, corrupt_secret);
    assert_int_equal(sigil_kms_client_set_creds(c, &creds), 0);
    sigil_aws_creds_clear(&creds);
    return c;
}

/* A fresh dev-CA document binding r's SPKI, with PCR0 = pcr0. */
static void make_doc(sigil_buf *out, const sigil_kms_recipient *r, const uint8_t pcr0[48])
{
    uint8_t pcrs[32][48];
    size_t spki_len;
    memcpy(pcrs, F.pcrs, sizeof(pcrs));
    memcpy(pcrs[0], pcr0, 48);
    const uint8_t *spki = sigil_kms_recipient_spki(r, &spki_len);
    if (sigil_attest_build(out, F.devca, "i-0123456789abcdef0-enc0123456789abcdef",
                           (uint64_t)time(NULL) * 1000, (const uint8_t(*)[48])pcrs, 0xffff, NULL, 0,
                           NULL, 0, spki, spki_len) != 0)
        fail_msg("attest_build: %s", sigil_errmsg());
}

static int setup(void **state)
{
    (void)state;
    memset(&F, 0, sizeof(F));
    find_binary();
    snprintf(F.dir, sizeof(F.dir), "/tmp/sigil-kms-it-XXXXXX");
    assert_non_null(mkdtemp(F.dir));
    snprintf(F.state, sizeof(F.state), "%s/state", F.dir);
    snprintf(F.ready, sizeof(F.ready), "%s/ready.json", F.dir);
    snprintf(F.log, sizeof(F.log), "%s/kms.log", F.dir);
    char devca_dir[PATH_MAX + 16];
    snprintf(devca_dir, sizeof(devca_dir), "%s/devca", F.dir);
    assert_int_equal(mkdir(devca_dir, 0700), 0);
    if (sigil_devca_load_or_create(&F.devca, devca_dir) != 0)
        fail_msg("devca: %s", sigil_errmsg());
    snprintf(F.root, sizeof(F.root), "%s/root.pem", devca_dir);
    /* The dev boot's PCRs: 0..2 set (not a debug enclave), 3..15 zero. */
    sigil_sha384(F.pcrs[0], "sigil-kms integration image", 27);
    sigil_sha384(F.pcrs[1], "kernel", 6);
    sigil_sha384(F.pcrs[2], "app", 3);
    sigil_hex_encode(F.pcr0_hex, F.pcrs[0], 48);
    assert_int_equal(run_pin(F.pcr0_hex), 0); /* creates the state, pinned */
    char *argv[] = {F.bin,   "--state",       F.state,       "--ready-file",
                    F.ready, "--listen",      "127.0.0.1:0", "--attestation-root",
                    F.root,  "--max-doc-age", "300",         NULL};
    F.pid = spawn(argv, F.log);
    wait_ready();
    F.client = new_client(F.url, F.ca, false);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sigil_kms_client_free(F.client);
    if (F.pid > 0) {
        kill(F.pid, SIGTERM);
        waitpid(F.pid, NULL, 0);
    }
    sigil_devca_free(F.devca);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", F.dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- tests ---- */
static uint8_t g_blob[SIGIL_KMS_CMS_MAX];
static size_t g_blob_len;
static uint8_t g_key[32];

static void test_state_files(void **state)
{
    static const char *const FILES[][2] = {
        {"tls/ca.pem", "644"},      {"tls/server.pem", "644"},   {"tls/server.key", "600"},
        {"keys.json", "600"},       {"credentials.json", "600"}, {"client-credentials.json", "600"},
        {"key-policy.json", "600"},
    };
    struct stat st;
    char p[PATH_MAX + 64], text[4096];
    (void)state;
    assert_int_equal(stat(F.state, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(FILES); i++) {
        snprintf(p, sizeof(p), "%s/%s", F.state, FILES[i][0]);
        if (stat(p, &st) != 0)
            fail_msg("%s missing", p);
        char mode[8];
        snprintf(mode, sizeof(mode), "%o", st.st_mode & 0777);
        if (strcmp(mode, FILES[i][1]) != 0)
            fail_msg("%s: mode %s", p, mode);
    }
    snprintf(p, sizeof(p), "%s/key-policy.json", F.state);
    assert_true(slurp(p, text, sizeof(text)) > 0);
    assert_non_null(strstr(text, F.pcr0_hex));
    assert_non_null(strstr(text, "kms:RecipientAttestation:ImageSha384"));
}

static void test_generate_then_decrypt(void **state)
{
    static uint8_t doc_mem[SIGIL_ATTEST_DOC_MAX];
    sigil_kms_recipient *r1, *r2;
    sigil_secret dk, pt;
    sigil_buf doc, blob;
    (void)state;
    assert_int_equal(sigil_kms_recipient_new(&r1), 0);
    assert_int_equal(sigil_kms_recipient_new(&r2), 0);
    sigil_buf_init(&doc, doc_mem, sizeof(doc_mem));
    make_doc(&doc, r1, F.pcrs[0]);
    sigil_buf_init(&blob, g_blob, sizeof(g_blob));
    if (sigil_kms_generate_data_key(F.client, &dk, &blob, "alias/sigil", r1, doc.data, doc.len) !=
        0)
        fail_msg("GenerateDataKey: %s", sigil_errmsg());
    assert_int_equal(dk.len, 32);
    assert_true(blob.len > 32);
    g_blob_len = blob.len;
    memcpy(g_key, dk.p, 32);

    /* A fresh document and a fresh key: the same data key comes back. */
    sigil_buf_init(&doc, doc_mem, sizeof(doc_mem));
    make_doc(&doc, r2, F.pcrs[0]);
    if (sigil_kms_decrypt(F.client, &pt, g_blob, g_blob_len, r2, doc.data, doc.len) != 0)
        fail_msg("Decrypt: %s", sigil_errmsg());
    assert_int_equal(pt.len, 32);
    assert_memory_equal(pt.p, dk.p, 32);
    sigil_secret_free(&pt);
    sigil_secret_free(&dk);

    /* The key ARN and the key's uuid work as KeyId too. */
    char text[1024], arn[160];
    char p[PATH_MAX + 32];
    snprintf(p, sizeof(p), "%s/keys.json", F.state);
    assert_true(slurp(p, text, sizeof(text)) > 0);
    char *q = strstr(text, "{\"keys\":{\"");
    assert_non_null(q);
    snprintf(arn, sizeof(arn), "arn:aws:kms:us-east-1:111122223333:key/%.36s", q + 10);
    sigil_wipe(text, sizeof(text));
    sigil_buf_init(&doc, doc_mem, sizeof(doc_mem));
    make_doc(&doc, r1, F.pcrs[0]);
    sigil_buf_init(&blob, doc_mem + doc.len, sizeof(doc_mem) - doc.len);
    if (sigil_kms_generate_data_key(F.client, &dk, &blob, arn, r1, doc.data, doc.len) != 0)
        fail_msg("GenerateDataKey by ARN: %s", sigil_errmsg());
    sigil_secret_free(&dk);
    sigil_kms_recipient_free(r1);
    sigil_kms_recipient_free(r2);
}

static void test_wrong_pcr0_denied(void **state)
{
    static uint8_t doc_mem[SIGIL_ATTEST_DOC_MAX];
    uint8_t other[48];
    sigil_kms_recipient *r;
    sigil_secret pt;
    sigil_buf doc;
    (void)state;
    sigil_sha384(other, "a patched enclave", 17);
    assert_int_equal(sigil_kms_recipient_new(&r), 0);
    sigil_buf_init(&doc, doc_mem, sizeof(doc_mem));
    make_doc(&doc, r, other);
    assert_int_equal(sigil_kms_decrypt(F.client, &pt, g_blob, g_blob_len, r, doc.data, doc.len),
                     -1);
    assert_string_equal(sigil_err_code(sigil_errno()), "access_denied");
    assert_non_null(strstr(sigil_errmsg(), "kms:Decrypt"));
    assert_null(pt.p);
    sigil_kms_recipient_free(r);
}

static void test_no_recipient_denied(void **state)
{
    sigil_secret pt;
    uint8_t mem[1024];
    sigil_buf blob;
    (void)state;
    assert_int_equal(sigil_kms_decrypt(F.client, &pt, g_blob, g_blob_len, NULL, NULL, 0), -1);
    assert_string_equal(sigil_err_code(sigil_errno()), "access_denied");
    sigil_buf_init(&blob, mem, sizeof(mem));
    assert_int_equal(
        sigil_kms_generate_data_key(F.client, &pt, &blob, "alias/sigil", NULL, NULL, 0), -1);
    assert_string_equal(sigil_err_code(sigil_errno()), "access_denied");
    assert_int_equal(blob.len, 0);
}

static void test_bad_signature(void **state)
{
    static uint8_t doc_mem[SIGIL_ATTEST_DOC_MAX];
    sigil_kms_recipient *r;
    sigil_secret pt;
    sigil_buf doc;
    (void)state;
    sigil_kms_client *bad = new_client(F.url, F.ca, true);
    assert_int_equal(sigil_kms_recipient_new(&r), 0);
    sigil_buf_init(&doc, doc_mem, sizeof(doc_mem));
    make_doc(&doc, r, F.pcrs[0]);
    assert_int_equal(sigil_kms_decrypt(bad, &pt, g_blob, g_blob_len, r, doc.data, doc.len), -1);
    assert_string_equal(sigil_err_code(sigil_errno()), "key_service_error");
    assert_non_null(strstr(sigil_errmsg(), "InvalidSignatureException"));
    sigil_kms_client_free(bad);
    sigil_kms_recipient_free(r);
}

static void test_tls_and_reachability(void **state)
{
    sigil_secret pt;
    (void)state;
    /* Without the dev CA, the server's certificate is not trusted. */
    sigil_kms_client *c = new_client(F.url, "/dev/null", false);
    assert_int_equal(sigil_kms_decrypt(c, &pt, g_blob, g_blob_len, NULL, NULL, 0), -1);
    assert_string_equal(sigil_err_code(sigil_errno()), "key_service_error");
    assert_non_null(strstr(sigil_errmsg(), "kms: unreachable"));
    sigil_kms_client_free(c);
    /* A name the certificate does not carry. */
    sigil_kms_config cfg = {F.url, F.ca, "kms.us-east-1.amazonaws.com", 10000};
    assert_int_equal(sigil_kms_client_new(&c, &cfg), 0);
    sigil_aws_creds creds;
    load_client_creds(&creds, false);
    assert_int_equal(sigil_kms_client_set_creds(c, &creds), 0);
    sigil_aws_creds_clear(&creds);
    assert_int_equal(sigil_kms_decrypt(c, &pt, g_blob, g_blob_len, NULL, NULL, 0), -1);
    assert_non_null(strstr(sigil_errmsg(), "kms: unreachable"));
    sigil_kms_client_free(c);
    /* localhost is in the certificate: tls_name works. */
    cfg.tls_name = "localhost";
    assert_int_equal(sigil_kms_client_new(&c, &cfg), 0);
    load_client_creds(&creds, false);
    assert_int_equal(sigil_kms_client_set_creds(c, &creds), 0);
    sigil_aws_creds_clear(&creds);
    assert_int_equal(sigil_kms_decrypt(c, &pt, g_blob, g_blob_len, NULL, NULL, 0), -1);
    assert_string_equal(sigil_err_code(sigil_errno()), "access_denied"); /* reached, policy */
    sigil_kms_client_free(c);
    /* Bad endpoints are refused up front. */
    cfg = (sigil_kms_config){"http://127.0.0.1:1", NULL, NULL, 0};
    assert_int_equal(sigil_kms_client_new(&c, &cfg), -1);
    cfg.endpoint = "https://user@127.0.0.1:1";
    assert_int_equal(sigil_kms_client_new(&c, &cfg), -1);
}

static void test_repin_takes_effect(void **state)
{
    static uint8_t doc_mem[SIGIL_ATTEST_DOC_MAX];
    sigil_kms_recipient *r;
    sigil_secret pt;
    sigil_buf doc;
    char other_hex[97];
    uint8_t other[48];
    (void)state;
    sigil_sha384(other, "the next release", 16);
    sigil_hex_encode(other_hex, other, 48);
    assert_int_equal(run_pin(other_hex), 0);
    assert_int_equal(sigil_kms_recipient_new(&r), 0);
    sigil_buf_init(&doc, doc_mem, sizeof(doc_mem));
    make_doc(&doc, r, F.pcrs[0]);
    assert_int_equal(sigil_kms_decrypt(F.client, &pt, g_blob, g_blob_len, r, doc.data, doc.len),
                     -1);
    assert_string_equal(sigil_err_code(sigil_errno()), "access_denied");
    sigil_buf_init(&doc, doc_mem, sizeof(doc_mem));
    make_doc(&doc, r, other);
    assert_int_equal(sigil_kms_decrypt(F.client, &pt, g_blob, g_blob_len, r, doc.data, doc.len), 0);
    assert_memory_equal(pt.p, g_key, 32);
    sigil_secret_free(&pt);
    sigil_kms_recipient_free(r);
    assert_int_equal(run_pin("zz"), 1); /* not 96 hex digits */
}

static void test_log_has_decisions_not_keys(void **state)
{
    static char log[65536];
    char hex[65];
    sigil_buf b64;
    char b64mem[64];
    (void)state;
    size_t n = slurp(F.log, log, sizeof(log));
    assert_true(n > 0);
    assert_non_null(strstr(log, "sigil-kms: GenerateDataKey allow pcr0="));
    assert_non_null(strstr(log, "sigil-kms: Decrypt deny: AccessDeniedException"));
    assert_non_null(strstr(log, "InvalidSignatureException"));
    sigil_hex_encode(hex, g_key, 32);
    assert_null(strstr(log, hex));
    sigil_buf_init(&b64, b64mem, sizeof(b64mem));
    assert_int_equal(sigil_b64_put(&b64, g_key, 32, SIGIL_B64_STD), 0);
    assert_int_equal(sigil_buf_cstr(&b64), 0);
    assert_null(strstr(log, b64mem));
}

int main(void)
{
    if (sigil_init() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_files),
        cmocka_unit_test(test_generate_then_decrypt),
        cmocka_unit_test(test_wrong_pcr0_denied),
        cmocka_unit_test(test_no_recipient_denied),
        cmocka_unit_test(test_bad_signature),
        cmocka_unit_test(test_tls_and_reachability),
        cmocka_unit_test(test_repin_takes_effect),
        cmocka_unit_test(test_log_has_decisions_not_keys),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
