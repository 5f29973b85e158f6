/*
 * `sigil keys rewrap`: data-key rotation over the gateway (docs/OPERATIONS.md
 * "Key lifecycle", docs/CLI.md). One POST /v1/keys/{id}/rewrap per key: the
 * key given with --key-id, or every key of the token's tenant (--all, from
 * GET /v1/keys). Each key is one line on stdout — the gateway's answer, or
 * the key's error — and a failed key does not stop the others. Holds no
 * secret but the bearer token.
 */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define URL_MAX 2048
#define KEY_ID_MAX 64
#define ANSWER_MAX ((size_t)64 * 1024)
#define LIST_MAX ((size_t)4 * 1024 * 1024) /* GET /v1/keys: thousands of keys */
#define LIST_TOKENS 131072u
#define HTTP_TIMEOUT_S 60L

static const char USAGE[] = "usage: sigil keys rewrap --gateway URL --token T "
                            "(--key-id ID | --all) [--cacert PEM]";

typedef struct {
    const char *gateway, *token, *key_id, *cacert;
    bool all;
} keys_args;

typedef struct {
    char base[URL_MAX];
    char auth[CLI_HTTP_AUTH_MAX];
    const char *cacert;
    size_t done, failed;
    sigil_err last_error;
} keys_ctx;

static int parse_args(keys_args *a, int argc, char **argv)
{
    const cli_opt OPTS[] = {
        {"gateway", &a->gateway, NULL, false}, {"token", &a->token, NULL, false},
        {"key-id", &a->key_id, NULL, false},   {"cacert", &a->cacert, NULL, false},
        {"all", NULL, &a->all, false},
    };
    memset(a, 0, sizeof(*a));
    ENSURE(argc >= 2 && strcmp(argv[1], "rewrap") == 0, SIGIL_E_USAGE, "%s", USAGE);
    GUARD(cli_options(argc - 1, argv + 1, OPTS, SIGIL_ARRAY_LEN(OPTS), NULL, USAGE, "keys"));
    ENSURE(a->gateway != NULL && a->token != NULL, SIGIL_E_USAGE,
           "keys: --gateway and --token are required");
    ENSURE((a->key_id != NULL) != a->all, SIGIL_E_USAGE,
           "keys: exactly one of --key-id ID and --all is required");
    return 0;
}

/* A key id as the store keeps them: 1..64 of A-Z a-z 0-9 _ - (it goes into a URL). */
static bool key_id_ok(const char *p, size_t n)
{
    if (n == 0 || n > KEY_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

static int http(const keys_ctx *c, const char *url, const char *method, cli_http_sink *sink)
{
    const cli_http_request req = {.url = url,
                                  .method = method,
                                  .auth = c->auth,
                                  .cacert = c->cacert,
                                  .timeout_s = HTTP_TIMEOUT_S,
                                  .connect_timeout = true};
    return cli_http_call(sink, &req);
}

/* {"key_id":"…","error":{"code","message"}} for a key that failed. */
static int print_failure(const char *key_id, size_t n)
{
    static char line[1024];
    char id[KEY_ID_MAX + 1];
    sigil_buf b;
    sigil_jw w;
    (void)snprintf(id, sizeof(id), "%.*s", (int)n, key_id);
    sigil_buf_init(&b, line, sizeof(line));
    sigil_jw_init(&w, &b);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "key_id"));
    GUARD(sigil_jw_str(&w, id));
    GUARD(sigil_jw_key(&w, "error"));
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "code"));
    GUARD(sigil_jw_str(&w, sigil_err_code(sigil_errno())));
    GUARD(sigil_jw_key(&w, "message"));
    GUARD(sigil_jw_str(&w, sigil_errmsg()));
    GUARD(sigil_jw_obj_end(&w));
    GUARD(sigil_jw_obj_end(&w));
    return cli_write_line(line, b.len);
}

/* One key: its answer (one line of JSON) or its error line; a failure is
 * counted, not returned, so the loop goes on. */
static int rewrap_one(keys_ctx *c, const char *key_id, size_t n)
{
    static char resp[ANSWER_MAX], line[ANSWER_MAX];
    static sigil_json_tok toks[256];
    char url[URL_MAX + KEY_ID_MAX + 32];
    cli_http_sink sink = {resp, 0, sizeof(resp), false};
    sigil_json d;
    sigil_buf b;
    sigil_jw w;
    (void)snprintf(url, sizeof(url), "%s/v1/keys/%.*s/rewrap", c->base, (int)n, key_id);
    int rc = http(c, url, "POST", &sink);
    if (rc == 0 && (sigil_json_parse(&d, resp, sink.len, toks, SIGIL_ARRAY_LEN(toks)) != 0 ||
                    sigil_json_type_of(&d, 0) != SIGIL_JSON_OBJECT))
        rc = sigil_fail(SIGIL_E_PROTOCOL, "gateway: the rewrap answer is not a JSON object");
    if (rc == 0) {
        sigil_buf_init(&b, line, sizeof(line));
        sigil_jw_init(&w, &b);
        rc = sigil_jw_copy(&w, &d, 0);
        if (rc == 0)
            rc = cli_write_line(line, b.len);
    }
    if (rc == 0) {
        c->done++;
        return 0;
    }
    c->failed++;
    c->last_error = sigil_errno();
    return print_failure(key_id, n);
}

/* Every key of GET /v1/keys {"keys":[{"key_id",…},…]}. */
static int rewrap_all(keys_ctx *c)
{
    static sigil_json_tok toks[LIST_TOKENS];
    char url[URL_MAX + 16];
    sigil_json d;
    cli_http_sink sink = {malloc(LIST_MAX), 0, LIST_MAX, false};
    ENSURE(sink.data != NULL, SIGIL_E_NO_MEMORY, "keys: cannot allocate the key list");
    (void)snprintf(url, sizeof(url), "%s/v1/keys", c->base);
    int rc = http(c, url, NULL, &sink);
    uint32_t keys = 0;
    if (rc == 0 && (sigil_json_parse(&d, sink.data, sink.len, toks, LIST_TOKENS) != 0 ||
                    (keys = sigil_json_get(&d, 0, "keys")) == 0 ||
                    sigil_json_type_of(&d, keys) != SIGIL_JSON_ARRAY))
        rc = sigil_fail(SIGIL_E_PROTOCOL, "gateway: the key list is not {\"keys\":[…]}");
    for (uint32_t k = rc == 0 ? sigil_json_first(&d, keys) : 0; rc == 0 && k != 0;
         k = sigil_json_sibling(&d, keys, k)) {
        uint32_t id =
            sigil_json_type_of(&d, k) == SIGIL_JSON_OBJECT ? sigil_json_get(&d, k, "key_id") : 0;
        sigil_slice s = id != 0 ? sigil_json_raw(&d, id) : (sigil_slice){NULL, 0};
        if (id == 0 || sigil_json_type_of(&d, id) != SIGIL_JSON_STRING || !key_id_ok(s.p, s.len))
            rc = sigil_fail(SIGIL_E_PROTOCOL, "gateway: a key in the list has no valid key_id");
        else
            rc = rewrap_one(c, s.p, s.len);
    }
    free(sink.data);
    return rc;
}

int cmd_keys(int argc, char **argv)
{
    static keys_ctx c;
    keys_args a;
    memset(&c, 0, sizeof(c));
    int rc = parse_args(&a, argc, argv);
    if (rc == 0)
        rc = cli_http_gateway(c.base, sizeof(c.base), a.gateway, URL_MAX - 128);
    if (rc == 0)
        rc = cli_http_bearer(c.auth, a.token);
    if (rc == 0 && a.key_id != NULL && !key_id_ok(a.key_id, strlen(a.key_id)))
        rc = sigil_fail(SIGIL_E_USAGE, "--key-id: 1..64 of A-Z a-z 0-9 _ -");
    c.cacert = a.cacert;
    if (rc == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        rc = sigil_fail(SIGIL_E_INTERNAL, "cannot initialise libcurl");
    if (rc == 0) {
        rc = a.key_id != NULL ? rewrap_one(&c, a.key_id, strlen(a.key_id)) : rewrap_all(&c);
        curl_global_cleanup();
    }
    if (rc == 0 && c.failed > 0)
        rc =
            sigil_fail(c.last_error, "keys rewrap: %zu of %zu keys not rewrapped (see their lines)",
                       c.failed, c.failed + c.done);
    sodium_memzero(c.auth, sizeof(c.auth));
    return rc == 0 ? CLI_EXIT_OK : cli_report_error();
}
