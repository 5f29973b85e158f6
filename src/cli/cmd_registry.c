/*
 * `sigil registry check --rpc URL --contract ADDR --owner ADDR --measurement HEX96`:
 * asks the measurement registry (contracts/SigilMeasurementRegistry.sol)
 * whether an owner vouches for a measurement, by JSON-RPC eth_call over
 * libcurl, with the call data and the answer in Solidity's ABI (sigil/abi.h).
 * Also the registry lookup `sigil verify-deployment` shares. Untrusted-host
 * code, no secrets; the node's replies are untrusted and parsed strictly.
 * The --rpc URL may carry a provider's API key: it is never printed.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "sigil/abi.h"
#include "sigil/codec.h"
#include "sigil/crypto.h"

#define RPC_URL_MAX 2048
#define RPC_TIMEOUT_S 30L
#define RPC_RESPONSE_MAX ((size_t)128 * 1024) /* eth_getCode of a 24 KiB contract fits */
#define RPC_TOKENS 256
#define RPC_BODY_MAX 2048
#define CALL_DATA_MAX 512
#define ERROR_TEXT_MAX 200
#define CLI_EXIT_NOT_ACTIVE 3

static const char USAGE[] = "usage: sigil registry check --rpc URL --contract ADDR --owner ADDR "
                            "--measurement HEX96";

/* ---- arguments shared with verify-deployment ---- */

int cli_measurement_parse(uint8_t out[48], const char *hex)
{
    static const uint8_t ZERO[48];
    GUARD(sigil_hex_decode_exact(out, 48, hex, strlen(hex), true, "--measurement"));
    ENSURE(memcmp(out, ZERO, 48) != 0, SIGIL_E_BAD_FIELD,
           "--measurement: all zero (what a debug enclave reports): refused");
    return 0;
}

/* http:// or https://, printable ASCII without spaces. Not echoed: it may
 * hold an API key. */
static int check_rpc_url(const char *rpc)
{
    size_t n = strnlen(rpc, RPC_URL_MAX + 1);
    ENSURE(n > 0 && n <= RPC_URL_MAX, SIGIL_E_USAGE, "--rpc: empty or longer than %d bytes",
           RPC_URL_MAX);
    for (size_t i = 0; i < n; i++)
        ENSURE(rpc[i] > 0x20 && rpc[i] < 0x7f, SIGIL_E_USAGE,
               "--rpc: only printable ASCII without spaces is allowed");
    ENSURE(strncmp(rpc, "https://", 8) == 0 || strncmp(rpc, "http://", 7) == 0, SIGIL_E_USAGE,
           "--rpc: expected an http:// or https:// URL");
    return 0;
}

int cli_registry_init(cli_registry *r, const char *rpc, const char *contract, const char *owner)
{
    memset(r, 0, sizeof(*r));
    GUARD(check_rpc_url(rpc));
    r->rpc = rpc;
    GUARD(sigil_eth_address_parse(r->contract, contract, strlen(contract), "--contract"));
    GUARD(sigil_eth_address_parse(r->owner, owner, strlen(owner), "--owner"));
    return 0;
}

/* ---- JSON-RPC ---- */

/* Writes {"jsonrpc":"2.0","id":1,"method":M,"params":[{"to","data"}|"0x…","latest"]}. */
static int rpc_body(sigil_buf *b, const char *method, const uint8_t to[20], const uint8_t *data,
                    size_t data_len)
{
    char hex[2 * CALL_DATA_MAX + 3];
    sigil_jw w;
    sigil_jw_init(&w, b);
    ENSURE(data_len <= CALL_DATA_MAX, SIGIL_E_INTERNAL, "rpc: call data too long");
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "jsonrpc"));
    GUARD(sigil_jw_str(&w, "2.0"));
    GUARD(sigil_jw_key(&w, "id"));
    GUARD(sigil_jw_u64(&w, 1));
    GUARD(sigil_jw_key(&w, "method"));
    GUARD(sigil_jw_str(&w, method));
    GUARD(sigil_jw_key(&w, "params"));
    GUARD(sigil_jw_arr_begin(&w));
    hex[0] = '0';
    hex[1] = 'x';
    sigil_hex_encode(hex + 2, to, 20);
    if (data != NULL) {
        GUARD(sigil_jw_obj_begin(&w));
        GUARD(sigil_jw_key(&w, "to"));
        GUARD(sigil_jw_str(&w, hex));
        sigil_hex_encode(hex + 2, data, data_len);
        GUARD(sigil_jw_key(&w, "data"));
        GUARD(sigil_jw_str(&w, hex));
        GUARD(sigil_jw_obj_end(&w));
    } else {
        GUARD(sigil_jw_str(&w, hex));
    }
    GUARD(sigil_jw_str(&w, "latest"));
    GUARD(sigil_jw_arr_end(&w));
    return sigil_jw_obj_end(&w);
}

/* Re-labels a transport error of cli_http_send ("gateway: …") as --rpc's. */
static int transport_error(void)
{
    char msg[256];
    const char *m = sigil_errmsg();
    if (strncmp(m, "gateway: ", 9) == 0)
        m += 9;
    (void)snprintf(msg, sizeof(msg), "%s", m);
    return sigil_fail(sigil_errno(), "--rpc: %s", msg);
}

/* A node's text (a JSON string token) for an error message: unescaped,
 * printable ASCII only, cut at cap - 1 bytes. */
static void printable(char *out, size_t cap, const sigil_json *d, uint32_t t)
{
    sigil_buf b;
    sigil_buf_init(&b, out, cap - 1);
    if (sigil_json_str(d, t, &b) != 0)
        sigil_clear_error(); /* keeps what fitted */
    for (size_t i = 0; i < b.len; i++)
        out[i] = (char)(((uint8_t)out[i] >= 0x20 && (uint8_t)out[i] < 0x7f) ? out[i] : '?');
    out[b.len] = '\0';
}

/* "0x" + an even number of hex digits into out. */
static int rpc_hex(uint8_t *out, size_t cap, size_t *len, sigil_slice s, const char *what)
{
    if (s.len < 2 || s.p[0] != '0' || s.p[1] != 'x')
        BAIL(SIGIL_E_PROTOCOL, "--rpc: %s is not 0x-prefixed hex", what);
    if (sigil_hex_decode(out, cap, len, s.p + 2, s.len - 2, false, what) != 0) {
        char msg[256];
        sigil_err e = sigil_errno();
        (void)snprintf(msg, sizeof(msg), "%s", sigil_errmsg());
        BAIL(e == SIGIL_E_TOO_LARGE ? e : SIGIL_E_PROTOCOL, "--rpc: %s", msg);
    }
    return 0;
}

/* A JSON-RPC error object: a revert (its data decoded and described) or the
 * node's own error. */
static int rpc_error(const sigil_json *d, uint32_t err, const cli_registry *r, const char *fn)
{
    static uint8_t data[CLI_REGISTRY_RETURN_MAX];
    char text[ERROR_TEXT_MAX], desc[1024], cs[43];
    int64_t code;
    size_t n;
    sigil_abi_revert rv;
    sigil_buf b;
    uint32_t c = sigil_json_get(d, err, "code"), m = sigil_json_get(d, err, "message");
    uint32_t dt = sigil_json_get(d, err, "data");
    if (c == 0 || m == 0 || sigil_json_type_of(d, m) != SIGIL_JSON_STRING ||
        sigil_json_tok_i64(d, c, &code, "error.code") != 0)
        BAIL(SIGIL_E_PROTOCOL, "--rpc: malformed JSON-RPC error object");
    printable(text, sizeof(text), d, m);
    bool has_data = dt != 0 && sigil_json_type_of(d, dt) == SIGIL_JSON_STRING;
    if (!has_data && code != 3 && strncmp(text, "execution reverted", 18) != 0)
        BAIL(SIGIL_E_UNAVAILABLE, "--rpc: JSON-RPC error %lld: %s", (long long)code, text);
    sigil_eth_address_checksum(cs, r->contract);
    if (has_data)
        GUARD(rpc_hex(data, sizeof(data), &n, sigil_json_raw(d, dt), "error.data"));
    else
        n = 0;
    GUARD(sigil_abi_decode_revert(&rv, data, n));
    sigil_buf_init(&b, desc, sizeof(desc));
    if (sigil_abi_revert_describe(&b, &rv) != 0 || sigil_buf_cstr(&b) != 0)
        (void)snprintf(desc, sizeof(desc), "(description too long)");
    BAIL(SIGIL_E_BAD_FIELD,
         "--contract %s: %s reverted: %s (is this a Sigil measurement registry?)", cs, fn, desc);
}

/* One JSON-RPC exchange; the hex "result" decoded into out. fn names the
 * call in errors. */
static int rpc_call(uint8_t *out, size_t cap, size_t *out_len, const cli_registry *r,
                    const char *method, const uint8_t *data, size_t data_len, const char *fn)
{
    static char resp[RPC_RESPONSE_MAX];
    static sigil_json_tok toks[RPC_TOKENS];
    static const sigil_json_field FIELDS[] = {
        {"jsonrpc", true}, {"id", true}, {"result", false}, {"error", false}};
    char body[RPC_BODY_MAX];
    sigil_buf b;
    sigil_json d;
    long status;
    uint64_t id;
    cli_http_sink sink = {resp, 0, sizeof(resp), false};
    *out_len = 0;
    sigil_buf_init(&b, body, sizeof(body));
    GUARD(rpc_body(&b, method, r->contract, data, data_len));
    const cli_http_request req = {.url = r->rpc,
                                  .body = body,
                                  .body_len = b.len,
                                  .timeout_s = RPC_TIMEOUT_S,
                                  .connect_timeout = true};
    if (cli_http_send(&status, &sink, &req) != 0)
        return transport_error();
    bool ok_status = status >= 200 && status <= 299;
    if (sigil_json_parse(&d, resp, sink.len, toks, RPC_TOKENS) != 0 ||
        sigil_json_type_of(&d, 0) != SIGIL_JSON_OBJECT ||
        sigil_json_check_fields(&d, 0, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "rpc reply") != 0) {
        char msg[256];
        ENSURE(ok_status, SIGIL_E_UNAVAILABLE, "--rpc: HTTP %ld", status);
        (void)snprintf(msg, sizeof(msg), "%s", sigil_errmsg());
        BAIL(SIGIL_E_PROTOCOL, "--rpc: the reply is not a JSON-RPC 2.0 response: %s", msg);
    }
    uint32_t v = sigil_json_get(&d, 0, "jsonrpc"), res = sigil_json_get(&d, 0, "result");
    uint32_t err = sigil_json_get(&d, 0, "error");
    ENSURE(sigil_json_type_of(&d, v) == SIGIL_JSON_STRING && sigil_json_str_eq(&d, v, "2.0"),
           SIGIL_E_PROTOCOL, "--rpc: reply.jsonrpc is not \"2.0\"");
    ENSURE(sigil_json_get_u64(&d, 0, "id", true, &id, NULL, "rpc reply") == 0 && id == 1,
           SIGIL_E_PROTOCOL, "--rpc: reply.id is not the request's id 1");
    ENSURE((res == 0) != (err == 0), SIGIL_E_PROTOCOL,
           "--rpc: the reply has %s of result and error", res == 0 ? "neither" : "both");
    if (err != 0) {
        ENSURE(sigil_json_type_of(&d, err) == SIGIL_JSON_OBJECT, SIGIL_E_PROTOCOL,
               "--rpc: reply.error is not an object");
        return rpc_error(&d, err, r, fn);
    }
    ENSURE(ok_status, SIGIL_E_UNAVAILABLE, "--rpc: HTTP %ld", status);
    ENSURE(sigil_json_type_of(&d, res) == SIGIL_JSON_STRING, SIGIL_E_PROTOCOL,
           "--rpc: %s result is not a string", method);
    return rpc_hex(out, cap, out_len, sigil_json_raw(&d, res), "result");
}

/* Empty return data: no code at the address, or a contract that is not the
 * registry (a call to a missing function of a contract without fallback
 * reverts; one with a fallback may return nothing). */
static int explain_empty(const cli_registry *r, const char *fn)
{
    static uint8_t code[RPC_RESPONSE_MAX / 2];
    char cs[43];
    size_t n = 0;
    sigil_eth_address_checksum(cs, r->contract);
    GUARD(rpc_call(code, sizeof(code), &n, r, "eth_getCode", NULL, 0, "eth_getCode"));
    ENSURE(n != 0, SIGIL_E_BAD_FIELD,
           "--contract %s: no contract code at this address (latest block): wrong address or "
           "wrong chain?",
           cs);
    BAIL(SIGIL_E_BAD_FIELD,
         "--contract %s: %s returned no data (is this a Sigil measurement registry?)", cs, fn);
}

int cli_registry_get_entry(cli_registry_answer *a, const cli_registry *r,
                           const uint8_t measurement[48])
{
    uint8_t call[CALL_DATA_MAX];
    sigil_buf b;
    sigil_buf_init(&b, call, sizeof(call));
    GUARD(sigil_registry_call_get_entry(&b, r->owner, measurement));
    GUARD(rpc_call(a->ret, sizeof(a->ret), &a->ret_len, r, "eth_call", call, b.len, "getEntry"));
    if (a->ret_len == 0)
        return explain_empty(r, "getEntry");
    if (sigil_registry_decode_get_entry(&a->entry, a->ret, a->ret_len) != 0) {
        char msg[256];
        sigil_err e = sigil_errno();
        (void)snprintf(msg, sizeof(msg), "%s", sigil_errmsg());
        BAIL(e, "--contract: %s", msg);
    }
    return 0;
}

/* ---- presentation ---- */

/* Code points a description may not carry into a terminal or a log:
 * controls, and the invisible ones that reorder or split text. */
static bool unsafe_code_point(uint32_t cp)
{
    static const struct {
        uint32_t lo, hi;
    } UNSAFE[] = {
        {0x0000, 0x001f}, {0x007f, 0x009f}, {0x200b, 0x200f}, {0x2028, 0x202e},
        {0x2060, 0x2069}, {0xfeff, 0xfeff}, {0xfff9, 0xfffb},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(UNSAFE); i++)
        if (cp >= UNSAFE[i].lo && cp <= UNSAFE[i].hi)
            return true;
    return false;
}

/* The UTF-8 sequence at p (n bytes left): its length and code point, or 0
 * when malformed. */
static size_t utf8_next(uint32_t *cp, const uint8_t *p, size_t n)
{
    sigil_utf8_state s = {0};
    for (size_t k = 0; k < n && k < 4; k++) {
        if (!sigil_utf8_feed(&s, p[k]))
            return 0;
        if (s.need == 0) {
            *cp = k == 0 ? p[0] : s.cp;
            return k + 1;
        }
    }
    return 0;
}

int cli_registry_description(sigil_buf *out, const uint8_t owner[20], const uint8_t *p, size_t n)
{
    static const char REPLACEMENT[] = "\xef\xbf\xbd"; /* U+FFFD */
    char cs[43];
    size_t mark = out->len;
    int rc = 0;
    sigil_eth_address_checksum(cs, owner);
    rc |= sigil_buf_puts(out, "[self-reported by ");
    rc |= sigil_buf_puts(out, cs);
    rc |= sigil_buf_puts(out, "] ");
    for (size_t i = 0; i < n && rc == 0;) {
        uint32_t cp;
        size_t k = utf8_next(&cp, p + i, n - i);
        if (k == 0 || unsafe_code_point(cp))
            rc = sigil_buf_puts(out, REPLACEMENT);
        else
            rc = sigil_buf_put(out, p + i, k);
        i += k == 0 ? 1 : k;
    }
    if (rc != 0) {
        out->len = mark;
        return -1;
    }
    return 0;
}

void cli_utc_time(char out[32], uint64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (t > (uint64_t)253402300799ull || gmtime_r(&tt, &tm) == NULL ||
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        (void)snprintf(out, 32, "unix %llu", (unsigned long long)t);
}

bool cli_registry_reason(char *out, size_t cap, const sigil_registry_entry *e,
                         const uint8_t owner[20])
{
    char cs[43], when[32];
    sigil_eth_address_checksum(cs, owner);
    if (!e->exists) {
        (void)snprintf(out, cap, "not registered by %s", cs);
        return false;
    }
    if (!e->active) {
        cli_utc_time(when, e->deprecated_at);
        (void)snprintf(out, cap, "deprecated at %s (unix %llu) by %s", when,
                       (unsigned long long)e->deprecated_at, cs);
        return false;
    }
    cli_utc_time(when, e->registered_at);
    (void)snprintf(out, cap, "active for %s since %s", cs, when);
    return true;
}

/* ---- sigil registry check ---- */

typedef struct {
    const char *rpc, *contract, *owner, *measurement;
} check_args;

static int parse_args(check_args *a, int argc, char **argv)
{
    const cli_opt OPTS[] = {
        {"rpc", &a->rpc, NULL, true},
        {"contract", &a->contract, NULL, true},
        {"owner", &a->owner, NULL, true},
        {"measurement", &a->measurement, NULL, true},
    };
    return cli_options(argc, argv, OPTS, SIGIL_ARRAY_LEN(OPTS), NULL, USAGE, "registry check");
}

/* {"active","exists","owner","measurement","build_hash","registered_at",
 * "deprecated_at","description","reason"}; an unknown entry has nulls. */
static int print_check(const cli_registry_answer *a, const uint8_t owner[20], const uint8_t m[48])
{
    static char mem[8192];
    char cs[43], reason[256], desc[4 * SIGIL_REGISTRY_DESCRIPTION_MAX + 64];
    const sigil_registry_entry *e = &a->entry;
    sigil_buf b, db;
    sigil_jw w;
    bool active = cli_registry_reason(reason, sizeof(reason), e, owner);
    sigil_eth_address_checksum(cs, owner);
    sigil_buf_init(&db, desc, sizeof(desc));
    GUARD(cli_registry_description(&db, owner, e->description, e->description_len));
    sigil_buf_init(&b, mem, sizeof(mem));
    sigil_jw_init(&w, &b);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "active"));
    GUARD(sigil_jw_bool(&w, e->active));
    GUARD(sigil_jw_key(&w, "exists"));
    GUARD(sigil_jw_bool(&w, e->exists));
    GUARD(sigil_jw_key(&w, "owner"));
    GUARD(sigil_jw_str(&w, cs));
    GUARD(sigil_jw_key(&w, "measurement"));
    GUARD(sigil_jw_hex(&w, m, 48));
    if (e->exists) {
        GUARD(sigil_jw_key(&w, "build_hash"));
        GUARD(sigil_jw_hex(&w, e->build_hash, 32));
        GUARD(sigil_jw_key(&w, "registered_at"));
        GUARD(sigil_jw_u64(&w, e->registered_at));
        GUARD(sigil_jw_key(&w, "deprecated_at"));
        GUARD(sigil_jw_u64(&w, e->deprecated_at));
        GUARD(sigil_jw_key(&w, "description"));
        GUARD(sigil_jw_strn(&w, desc, db.len));
    } else {
        static const char *const NULLS[] = {"build_hash", "registered_at", "deprecated_at",
                                            "description"};
        for (size_t i = 0; i < SIGIL_ARRAY_LEN(NULLS); i++) {
            GUARD(sigil_jw_key(&w, NULLS[i]));
            GUARD(sigil_jw_null(&w));
        }
    }
    GUARD(sigil_jw_key(&w, "reason"));
    GUARD(active ? sigil_jw_null(&w) : sigil_jw_str(&w, reason));
    GUARD(sigil_jw_obj_end(&w));
    return cli_write_line(mem, b.len);
}

static int registry_check(bool *active, int argc, char **argv)
{
    static cli_registry_answer ans;
    check_args a;
    cli_registry r;
    uint8_t m[48];
    GUARD(parse_args(&a, argc, argv));
    GUARD(cli_measurement_parse(m, a.measurement));
    GUARD(cli_registry_init(&r, a.rpc, a.contract, a.owner));
    ENSURE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK, SIGIL_E_INTERNAL,
           "cannot initialise libcurl");
    int rc = cli_registry_get_entry(&ans, &r, m);
    curl_global_cleanup();
    GUARD(rc);
    *active = ans.entry.active;
    return print_check(&ans, r.owner, m);
}

int cmd_registry(int argc, char **argv)
{
    bool active = false;
    if (argc < 2 || strcmp(argv[1], "check") != 0) {
        (void)sigil_fail(SIGIL_E_USAGE, USAGE);
        return cli_report_error();
    }
    if (registry_check(&active, argc - 1, argv + 1) != 0)
        return cli_report_error();
    return active ? CLI_EXIT_OK : CLI_EXIT_NOT_ACTIVE;
}
