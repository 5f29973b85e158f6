/*
 * The key-service client's production pieces: the region -> endpoint table,
 * proxy addresses, the AWS error table, backoff with an injected random
 * source, and, against a scripted HTTPS server (python3's ssl module, the
 * sigil-kms dev certificate), retries on ThrottlingException and 5xx, no
 * retry on AccessDenied/Validation/InvalidCiphertext, and the TCP proxy
 * path through the same socket factory the vsock proxy uses.
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
#include <sys/wait.h>
#include <unistd.h>

#include "kms/kms_service.h"
#include "sigil/kms.h"

/* ---- region -> endpoint ---- */
static void test_region_endpoints(void **state)
{
    static const struct {
        const char *region, *url;
    } OK[] = {
        {"us-east-1", "https://kms.us-east-1.amazonaws.com"},
        {"eu-central-1", "https://kms.eu-central-1.amazonaws.com"},
        {"ap-southeast-2", "https://kms.ap-southeast-2.amazonaws.com"},
        {"us-gov-west-1", "https://kms.us-gov-west-1.amazonaws.com"},
        {"cn-north-1", "https://kms.cn-north-1.amazonaws.com.cn"},
        {"cn-northwest-1", "https://kms.cn-northwest-1.amazonaws.com.cn"},
        {"us-iso-east-1", "https://kms.us-iso-east-1.c2s.ic.gov"},
        {"us-isob-east-1", "https://kms.us-isob-east-1.sc2s.sgov.gov"},
    };
    static const char *const BAD[] = {
        "",           "us",         "US-EAST-1",   "useast1",
        "us-east",    "us--east-1", "-us-east-1",  "us-east-1-",
        "us-east-1.", "us_east_1",  "us-east-1/x", "aaaaaaaaaaaa-bbbbbbbbbbbbbbb-cccccccccc"};
    char url[SIGIL_KMS_URL_MAX];
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(OK); i++) {
        assert_int_equal(sigil_kms_region_endpoint(url, sizeof(url), OK[i].region), 0);
        assert_string_equal(url, OK[i].url);
    }
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++) {
        assert_int_equal(sigil_kms_region_endpoint(url, sizeof(url), BAD[i]), -1);
        assert_int_equal(sigil_errno(), SIGIL_E_USAGE);
    }
    assert_int_equal(sigil_kms_region_endpoint(url, 20, "us-east-1"), -1);
    /* the client derives the same endpoint from a region */
    sigil_kms_client *c;
    sigil_kms_config cfg = {NULL, NULL, NULL, 0};
    sigil_kms_options opt = {.region = "cn-north-1"};
    assert_int_equal(sigil_kms_client_new_ex(&c, &cfg, &opt), 0);
    sigil_kms_client_free(c);
    opt.region = "nowhere";
    assert_int_equal(sigil_kms_client_new_ex(&c, &cfg, &opt), -1);
    assert_int_equal(sigil_kms_client_new(&c, &cfg), -1); /* neither endpoint nor region */
}

/* ---- proxy addresses ---- */
static void test_proxy_parse(void **state)
{
    sigil_kms_proxy p;
    (void)state;
    assert_int_equal(sigil_kms_proxy_parse(&p, "vsock:3:8000"), 0);
    assert_int_equal(p.kind, SIGIL_KMS_PROXY_VSOCK);
    assert_int_equal(p.cid, 3);
    assert_int_equal(p.port, 8000);
    assert_int_equal(sigil_kms_proxy_parse(&p, "tcp:127.0.0.1:8443"), 0);
    assert_int_equal(p.kind, SIGIL_KMS_PROXY_TCP);
    assert_string_equal(p.ip, "127.0.0.1");
    assert_int_equal(p.port, 8443);
    assert_int_equal(sigil_kms_proxy_parse(&p, "tcp:[::1]:80"), 0);
    assert_string_equal(p.ip, "::1");
    assert_int_equal(p.port, 80);
    static const char *const BAD[] = {
        "",
        "vsock:3",
        "vsock:x:1",
        "vsock:3:0",
        "vsock:3:70000",
        "vsock::1",
        "vsock:3:1x",
        "vsock:-1:8000",
        "tcp:localhost:80",
        "tcp:1.2.3.4:",
        "tcp::80",
        "tcp:[::1:80",
        "tcp:1.2.3.4.5:80",
        "udp:1.2.3.4:80",
        "unix:/tmp/x",
        "tcp:[::1]:0",
        "vsock:4294967295:1",
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++) {
        if (sigil_kms_proxy_parse(&p, BAD[i]) != -1)
            fail_msg("accepted %s", BAD[i]);
        assert_int_equal(sigil_errno(), SIGIL_E_USAGE);
    }
}

/* ---- AWS error table ---- */
static void test_error_table(void **state)
{
    static const struct {
        const char *type;
        long status;
        sigil_err err;
        bool retry;
    } ROWS[] = {
        {"ThrottlingException", 400, SIGIL_E_RATE_LIMITED, true},
        {"KMSInternalException", 500, SIGIL_E_KEY_SERVICE, true},
        {"DependencyTimeoutException", 503, SIGIL_E_TIMEOUT, true},
        {"KeyUnavailableException", 500, SIGIL_E_KEY_SERVICE, true},
        {"AccessDeniedException", 400, SIGIL_E_ACCESS_DENIED, false},
        {"ValidationException", 400, SIGIL_E_KEY_SERVICE, false},
        {"InvalidCiphertextException", 400, SIGIL_E_CRYPTO, false},
        {"IncorrectKeyException", 400, SIGIL_E_CRYPTO, false},
        {"DisabledException", 400, SIGIL_E_ACCESS_DENIED, false},
        {"InvalidSignatureException", 400, SIGIL_E_KEY_SERVICE, false},
        {"ExpiredTokenException", 400, SIGIL_E_KEY_SERVICE, false},
        {"LimitExceededException", 400, SIGIL_E_RATE_LIMITED, false},
        /* a type not in the table: by status */
        {"SomethingNewException", 400, SIGIL_E_KEY_SERVICE, false},
        {"SomethingNewException", 502, SIGIL_E_KEY_SERVICE, true},
        {"", 429, SIGIL_E_KEY_SERVICE, true},
        {"", 503, SIGIL_E_KEY_SERVICE, true},
        {"", 404, SIGIL_E_KEY_SERVICE, false},
    };
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(ROWS); i++) {
        sigil_kms_error_class k = sigil_kms_classify_error(ROWS[i].type, ROWS[i].status);
        if (k.err != ROWS[i].err || k.retryable != ROWS[i].retry)
            fail_msg("%s/%ld: %s retry=%d", ROWS[i].type, ROWS[i].status, sigil_err_code(k.err),
                     k.retryable);
    }
    /* the unknown-type row is the status row */
    assert_true(sigil_kms_classify_error(NULL, 500).retryable);
}

/* ---- backoff ---- */
typedef struct {
    uint32_t uppers[16];
    size_t n;
    int mode; /* 0: the ceiling, 1: zero, 2: overshoot */
} fake_random;

static uint32_t draw(void *ctx, uint32_t upper)
{
    fake_random *f = ctx;
    if (f->n < SIGIL_ARRAY_LEN(f->uppers))
        f->uppers[f->n++] = upper;
    return f->mode == 0 ? upper : f->mode == 1 ? 0 : upper + 1000;
}

static void test_backoff(void **state)
{
    fake_random fr = {0};
    sigil_kms_retry p = {.max_retries = 6,
                         .base_ms = 100,
                         .cap_ms = 2000,
                         .budget_ms = 100000,
                         .random = draw,
                         .random_ctx = &fr};
    static const uint32_t CEIL[] = {100, 200, 400, 800, 1600, 2000, 2000};
    uint32_t d;
    (void)state;
    for (unsigned n = 0; n < SIGIL_ARRAY_LEN(CEIL); n++)
        assert_int_equal(sigil_kms_backoff_ceiling(&p, n), CEIL[n]);
    assert_int_equal(sigil_kms_backoff_ceiling(&p, 1000), 2000); /* no overflow */
    /* full jitter: the draw is uniform in [0, ceiling]; the source sees the ceiling */
    for (unsigned n = 0; n < 6; n++) {
        assert_true(sigil_kms_retry_next(&p, n, 0, &d));
        assert_int_equal(d, CEIL[n]);
        assert_int_equal(fr.uppers[n], CEIL[n]);
    }
    assert_false(sigil_kms_retry_next(&p, 6, 0, &d)); /* max_retries */
    fr.mode = 1;
    assert_true(sigil_kms_retry_next(&p, 3, 0, &d));
    assert_int_equal(d, 0);
    fr.mode = 2; /* a source that overshoots is clamped */
    assert_true(sigil_kms_retry_next(&p, 0, 0, &d));
    assert_int_equal(d, 100);
    /* the budget: no sleep that would end past it */
    fr.mode = 0;
    p.budget_ms = 1000;
    assert_true(sigil_kms_retry_next(&p, 2, 600, &d)); /* 600 + 400 = 1000 */
    assert_false(sigil_kms_retry_next(&p, 2, 601, &d));
    assert_int_equal(d, 0);
    fr.mode = 1;
    assert_true(sigil_kms_retry_next(&p, 2, 1000, &d));  /* a zero draw still fits */
    assert_false(sigil_kms_retry_next(&p, 2, 1001, &d)); /* nothing fits past the budget */
    /* the default source stays within the ceiling */
    p.random = NULL;
    p.budget_ms = 100000;
    for (int i = 0; i < 200; i++) {
        assert_true(sigil_kms_retry_next(&p, 1, 0, &d));
        assert_true(d <= 200);
    }
}

/* ---- a scripted HTTPS server ---- */
static const char SERVER_PY[] =
    "import json, os, socket, ssl, sys\n"
    "cert, key, ready, log, script = sys.argv[1:6]\n"
    "responses = json.loads(script)\n"
    "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
    "ctx.load_cert_chain(cert, key)\n"
    "ls = socket.socket()\n"
    "ls.bind(('127.0.0.1', 0))\n"
    "ls.listen(16)\n"
    "with open(ready + '.tmp', 'w') as f:\n"
    "    f.write(str(ls.getsockname()[1]))\n"
    "os.rename(ready + '.tmp', ready)\n"
    "i = 0\n"
    "while True:\n"
    "    c, _ = ls.accept()\n"
    "    try:\n"
    "        s = ctx.wrap_socket(c, server_side=True)\n"
    "        data = b''\n"
    "        while b'\\r\\n\\r\\n' not in data:\n"
    "            more = s.recv(65536)\n"
    "            if not more:\n"
    "                break\n"
    "            data += more\n"
    "        head, _, body = data.partition(b'\\r\\n\\r\\n')\n"
    "        lines = head.decode().split('\\r\\n')\n"
    "        hs = {l.split(':', 1)[0].lower(): l.split(':', 1)[1].strip() for l in lines[1:]}\n"
    "        while len(body) < int(hs.get('content-length', '0')):\n"
    "            body += s.recv(65536)\n"
    "        status, payload = responses[min(i, len(responses) - 1)]\n"
    "        i += 1\n"
    "        with open(log, 'a') as f:\n"
    "            f.write(json.dumps({'line': lines[0], 'headers': hs}) + '\\n')\n"
    "        out = json.dumps(payload).encode()\n"
    "        s.sendall(b'HTTP/1.1 %d X\\r\\nContent-Type: application/x-amz-json-1.1\\r\\n'\n"
    "                  b'Content-Length: %d\\r\\nConnection: close\\r\\n\\r\\n' % (status, "
    "len(out)) + out)\n"
    "        s.close()\n"
    "    except (OSError, ssl.SSLError):\n"
    "        c.close()\n";

typedef struct {
    char dir[PATH_MAX];
    char state[PATH_MAX + 8];
    char cert[PATH_MAX + 32], key[PATH_MAX + 32], ca[PATH_MAX + 32];
    char ready[PATH_MAX + 16], log[PATH_MAX + 16], url[64];
    unsigned port;
    pid_t pid;
} server;

static server S;

static int setup_state(void **state)
{
    (void)state;
    snprintf(S.dir, sizeof(S.dir), "/tmp/sigil-kms-client-XXXXXX");
    assert_non_null(mkdtemp(S.dir));
    snprintf(S.state, sizeof(S.state), "%s/kms", S.dir);
    assert_int_equal(sigil_kms_state_init(S.state, NULL), 0);
    snprintf(S.cert, sizeof(S.cert), "%s/tls/server.pem", S.state);
    snprintf(S.key, sizeof(S.key), "%s/tls/server.key", S.state);
    snprintf(S.ca, sizeof(S.ca), "%s/tls/ca.pem", S.state);
    snprintf(S.ready, sizeof(S.ready), "%s/ready", S.dir);
    snprintf(S.log, sizeof(S.log), "%s/log", S.dir);
    return 0;
}

static int teardown_state(void **state)
{
    char cmd[PATH_MAX + 16];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", S.dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void server_start(const char *script)
{
    unlink(S.ready);
    unlink(S.log);
    S.pid = fork();
    assert_true(S.pid >= 0);
    if (S.pid == 0) {
        execlp("python3", "python3", "-c", SERVER_PY, S.cert, S.key, S.ready, S.log, script,
               (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 400; i++) {
        FILE *f = fopen(S.ready, "r");
        if (f != NULL) {
            assert_int_equal(fscanf(f, "%u", &S.port), 1);
            fclose(f);
            snprintf(S.url, sizeof(S.url), "https://127.0.0.1:%u", S.port);
            return;
        }
        int st;
        if (waitpid(S.pid, &st, WNOHANG) == S.pid)
            fail_msg("the scripted server exited");
        usleep(25 * 1000);
    }
    fail_msg("the scripted server is not ready");
}

static void server_stop(void)
{
    int st;
    kill(S.pid, SIGTERM);
    waitpid(S.pid, &st, 0);
}

/* Requests the server saw; when needle is given, how many lines contain it. */
static int server_count(const char *needle)
{
    char line[8192];
    int n = 0;
    FILE *f = fopen(S.log, "r");
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        n += needle == NULL || strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

static sigil_kms_client *client_for(const char *url, const char *proxy, unsigned max_retries)
{
    static const sigil_kms_retry RETRY_BASE = {.base_ms = 5, .cap_ms = 20, .budget_ms = 5000};
    static sigil_kms_retry retry;
    retry = RETRY_BASE;
    retry.max_retries = max_retries;
    sigil_kms_config cfg = {url, S.ca, NULL, 5000};
    sigil_kms_options opt = {.proxy = proxy, .retry = &retry};
    sigil_kms_client *c;
    sigil_aws_creds creds;
    if (sigil_kms_client_new_ex(&c, &cfg, &opt) != 0)
        fail_msg("client: %s", sigil_errmsg());
    static const char SECRET[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    assert_int_equal(sigil_aws_creds_set(&creds, "AKIDEXAMPLE", 11, (const uint8_t *)SECRET,
                                         sizeof(SECRET) - 1, "SESSIONTOKEN1", 13, "us-east-1", 9),
                     0);
    assert_int_equal(sigil_kms_client_set_creds(c, &creds), 0);
    sigil_aws_creds_clear(&creds);
    return c;
}

#define OK_BODY                                                                                    \
    "[200, {\"CiphertextBlob\": \"AQIDBA==\", \"KeyId\": \"k\", \"Plaintext\": "                   \
    "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"}]"
#define THROTTLE "[400, {\"__type\": \"ThrottlingException\", \"message\": \"Rate exceeded\"}]"

static int generate(sigil_kms_client *c, sigil_secret *pt)
{
    uint8_t mem[64];
    sigil_buf blob;
    sigil_buf_init(&blob, mem, sizeof(mem));
    int rc = sigil_kms_generate_data_key(c, pt, &blob, "alias/sigil", NULL, NULL, 0);
    if (rc == 0)
        assert_int_equal(blob.len, 4);
    return rc;
}

static void test_retry_throttling_then_success(void **state)
{
    sigil_secret pt;
    (void)state;
    server_start("[" THROTTLE ", " THROTTLE ", " OK_BODY "]");
    sigil_kms_client *c = client_for(S.url, NULL, 4);
    if (generate(c, &pt) != 0)
        fail_msg("generate: %s", sigil_errmsg());
    assert_int_equal(pt.len, 32);
    assert_int_equal(pt.p[31], 31);
    sigil_secret_free(&pt);
    assert_int_equal(server_count(NULL), 3);
    /* every attempt signed, with the session token */
    assert_int_equal(server_count("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), 3);
    assert_int_equal(server_count("\"x-amz-security-token\": \"SESSIONTOKEN1\""), 3);
    assert_int_equal(server_count("TrentService.GenerateDataKey"), 3);
    sigil_kms_client_free(c);
    server_stop();
}

static void test_retry_gives_up(void **state)
{
    sigil_secret pt;
    (void)state;
    /* throttled beyond the retries: the last error, typed, with the count */
    server_start("[" THROTTLE "]");
    sigil_kms_client *c = client_for(S.url, NULL, 2);
    assert_int_equal(generate(c, &pt), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_RATE_LIMITED);
    assert_non_null(strstr(sigil_errmsg(), "kms: ThrottlingException: Rate exceeded (3 attempts)"));
    assert_int_equal(server_count(NULL), 3);
    sigil_kms_client_free(c);
    server_stop();
    /* 5xx without a body we can read */
    server_start("[[503, \"not json\"]]");
    c = client_for(S.url, NULL, 1);
    assert_int_equal(generate(c, &pt), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_KEY_SERVICE);
    assert_int_equal(server_count(NULL), 2);
    sigil_kms_client_free(c);
    server_stop();
}

static void test_never_retried(void **state)
{
    static const struct {
        const char *script;
        sigil_err err;
    } ROWS[] = {
        {"[[400, {\"__type\": \"AccessDeniedException\", \"message\": \"no\"}], " OK_BODY "]",
         SIGIL_E_ACCESS_DENIED},
        {"[[400, {\"__type\": \"com.amazon.coral.validate#ValidationException\", \"message\": "
         "\"bad\"}], " OK_BODY "]",
         SIGIL_E_KEY_SERVICE},
        {"[[400, {\"__type\": \"InvalidCiphertextException\"}], " OK_BODY "]", SIGIL_E_CRYPTO},
    };
    sigil_secret pt;
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(ROWS); i++) {
        server_start(ROWS[i].script);
        sigil_kms_client *c = client_for(S.url, NULL, 4);
        assert_int_equal(generate(c, &pt), -1);
        assert_int_equal(sigil_errno(), ROWS[i].err);
        assert_null(strstr(sigil_errmsg(), "attempts"));
        assert_int_equal(server_count(NULL), 1);
        sigil_kms_client_free(c);
        server_stop();
    }
}

/* The TLS name is the endpoint's (localhost, in the dev certificate); the
 * bytes go to the proxy. Port 1 on the endpoint proves nothing went there. */
static void test_tcp_proxy(void **state)
{
    char proxy[64];
    sigil_secret pt;
    (void)state;
    server_start("[" THROTTLE ", " OK_BODY "]");
    snprintf(proxy, sizeof(proxy), "tcp:127.0.0.1:%u", S.port);
    sigil_kms_client *c = client_for("https://localhost:1", proxy, 4);
    if (generate(c, &pt) != 0)
        fail_msg("generate via proxy: %s", sigil_errmsg());
    sigil_secret_free(&pt);
    assert_int_equal(server_count("\"host\": \"localhost:1\""), 2);
    sigil_kms_client_free(c);
    server_stop();
    /* a proxy that refuses: a connection failure, retried, then reported */
    c = client_for("https://localhost:1", proxy, 2);
    assert_int_equal(generate(c, &pt), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_KEY_SERVICE);
    assert_non_null(strstr(sigil_errmsg(), "kms: unreachable"));
    assert_non_null(strstr(sigil_errmsg(), "(3 attempts)"));
    sigil_kms_client_free(c);
    /* a bad proxy is refused at creation */
    sigil_kms_config cfg = {"https://localhost:1", S.ca, NULL, 0};
    sigil_kms_options opt = {.proxy = "tcp:localhost:8000"};
    assert_int_equal(sigil_kms_client_new_ex(&c, &cfg, &opt), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_region_endpoints),
        cmocka_unit_test(test_proxy_parse),
        cmocka_unit_test(test_error_table),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_retry_throttling_then_success),
        cmocka_unit_test(test_retry_gives_up),
        cmocka_unit_test(test_never_retried),
        cmocka_unit_test(test_tcp_proxy),
    };
    if (sigil_init() != 0)
        return 1;
    return cmocka_run_group_tests(tests, setup_state, teardown_state);
}
