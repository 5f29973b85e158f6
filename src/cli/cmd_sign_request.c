/*
 * `sigil sign-request`: the client's half of a client-signed request
 * (docs/POLICY.md "Client-signed requests"). Reads one request object on
 * stdin and prints the POST /v1/sign body with a client signature over the
 * key id, the request's RFC 8785 hash, a timestamp and a nonce. Client-side
 * code handling a secret: the client seed and its expanded key live only in
 * locked memory, wiped on every path out.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "sigil/policy.h"

#define REQUEST_MAX ((size_t)256 * 1024)
#define NONCE_RANDOM_BYTES 32 /* 43 base64url characters */
#define MESSAGE_MAX (SIGIL_REQUEST_SIG_PREFIX_LEN + 4 + SIGIL_KEY_ID_HEX + 32 + 8 + 4 + 64)

static const char USAGE[] = "usage: sigil sign-request --key-id ID --client-key FILE "
                            "[--timestamp MS] [--nonce TEXT] < request.json";

typedef struct {
    const char *key_id, *client_key, *timestamp, *nonce;
} sign_request_args;

typedef struct {
    uint64_t timestamp_ms;
    char nonce[SIGIL_CLIENT_NONCE_MAX + 1];
    size_t nonce_len;
    const char *request; /* trimmed, in the stdin buffer */
    size_t request_len;
} client_fields;

static int parse_args(sign_request_args *a, int argc, char **argv)
{
    const cli_opt OPTS[] = {
        {"key-id", &a->key_id, NULL, true},
        {"client-key", &a->client_key, NULL, true},
        {"timestamp", &a->timestamp, NULL, false},
        {"nonce", &a->nonce, NULL, false},
    };
    GUARD(cli_options(argc, argv, OPTS, SIGIL_ARRAY_LEN(OPTS), NULL, USAGE, "sign-request"));
    if (sigil_key_id_valid(a->key_id, strlen(a->key_id)) != 0)
        BAIL(SIGIL_E_USAGE, "--key-id: expected %d lowercase hex digits", SIGIL_KEY_ID_HEX);
    return 0;
}

/* ---- timestamp and nonce ---- */

static uint64_t now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Decimal digits, no sign, at most 2^53-1 (it travels as a JSON number). */
static int parse_timestamp(uint64_t *out, const char *s)
{
    uint64_t v = 0;
    size_t n = strlen(s);
    ENSURE(n > 0 && n <= 16, SIGIL_E_USAGE, "--timestamp: expected unix milliseconds");
    for (size_t i = 0; i < n; i++) {
        ENSURE(s[i] >= '0' && s[i] <= '9', SIGIL_E_USAGE,
               "--timestamp: expected unix milliseconds (digits only)");
        v = v * 10u + (uint64_t)(s[i] - '0');
    }
    ENSURE(v <= SIGIL_JSON_MAX_SAFE_INT, SIGIL_E_OUT_OF_RANGE, "--timestamp: above 2^53-1");
    *out = v;
    return 0;
}

static bool nonce_char_ok(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-';
}

static int check_nonce(const char *s, size_t n, const char *what)
{
    ENSURE(n >= SIGIL_CLIENT_NONCE_MIN && n <= SIGIL_CLIENT_NONCE_MAX, SIGIL_E_BAD_FIELD,
           "%s: expected %d to %d characters", what, SIGIL_CLIENT_NONCE_MIN,
           SIGIL_CLIENT_NONCE_MAX);
    for (size_t i = 0; i < n; i++)
        ENSURE(nonce_char_ok(s[i]), SIGIL_E_BAD_FIELD,
               "%s: only A-Z, a-z, 0-9, '_' and '-' are allowed", what);
    return 0;
}

/* 32 random bytes, base64url without padding: 43 characters of the nonce
 * alphabet. */
static int random_nonce(client_fields *f)
{
    uint8_t r[NONCE_RANDOM_BYTES];
    sigil_buf b;
    randombytes_buf(r, sizeof(r));
    sigil_buf_init(&b, f->nonce, sizeof(f->nonce) - 1);
    GUARD(sigil_b64_put(&b, r, sizeof(r), SIGIL_B64_URL_NP));
    f->nonce[b.len] = '\0';
    f->nonce_len = b.len;
    return check_nonce(f->nonce, f->nonce_len, "nonce");
}

static int load_fields(client_fields *f, const sign_request_args *a)
{
    if (a->timestamp != NULL)
        GUARD(parse_timestamp(&f->timestamp_ms, a->timestamp));
    else
        f->timestamp_ms = now_ms();
    if (a->nonce == NULL)
        return random_nonce(f);
    f->nonce_len = strlen(a->nonce);
    GUARD(check_nonce(a->nonce, f->nonce_len, "--nonce"));
    memcpy(f->nonce, a->nonce, f->nonce_len + 1);
    return 0;
}

/* ---- the request ---- */

static bool json_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* One strict JSON object; its text is kept exactly, trimmed at the ends. */
static int read_request(client_fields *f)
{
    static char buf[REQUEST_MAX];
    static sigil_json_tok toks[CLI_JSON_MAX_TOKENS];
    sigil_json d;
    size_t len, start = 0;
    GUARD(cli_read_stdin(buf, sizeof(buf), &len));
    while (start < len && json_space(buf[start]))
        start++;
    while (len > start && json_space(buf[len - 1]))
        len--;
    f->request = buf + start;
    f->request_len = len - start;
    GUARD(sigil_json_parse(&d, f->request, f->request_len, toks, SIGIL_ARRAY_LEN(toks)));
    ENSURE(sigil_json_type_of(&d, 0) == SIGIL_JSON_OBJECT, SIGIL_E_BAD_REQUEST,
           "request: expected a JSON object");
    return 0;
}

/* ---- signature and output ---- */

static int sign_message(uint8_t sig[64], const sigil_secret *seed, const uint8_t *msg, size_t n)
{
    SIGIL_SECRET(sk);
    uint8_t pk[32];
    GUARD(sigil_secret_alloc(&sk, crypto_sign_SECRETKEYBYTES));
    ENSURE(crypto_sign_seed_keypair(pk, sk.p, seed->p) == 0 &&
               crypto_sign_detached(sig, NULL, msg, n, sk.p) == 0,
           SIGIL_E_CRYPTO, "sign-request: Ed25519 signing failed");
    return 0;
}

static int client_signature(uint8_t sig[64], const sign_request_args *a, const client_fields *f,
                            const sigil_secret *seed)
{
    uint8_t hash[32], mem[MESSAGE_MAX];
    sigil_buf msg;
    GUARD(sigil_request_hash(hash, f->request, f->request_len));
    sigil_buf_init(&msg, mem, sizeof(mem));
    GUARD(sigil_client_message(&msg, a->key_id, hash, f->timestamp_ms, f->nonce, f->nonce_len));
    return sign_message(sig, seed, msg.data, msg.len);
}

/* {"key_id","request":<text as read>,"client":{"timestamp","nonce","signature"}} */
static int print_body(const sign_request_args *a, const client_fields *f, const uint8_t sig[64])
{
    static char out[REQUEST_MAX + 512];
    sigil_buf b;
    sigil_jw w;
    sigil_buf_init(&b, out, sizeof(out));
    sigil_jw_init(&w, &b);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "key_id"));
    GUARD(sigil_jw_str(&w, a->key_id));
    GUARD(sigil_jw_key(&w, "request"));
    GUARD(sigil_jw_raw(&w, f->request, f->request_len));
    GUARD(sigil_jw_key(&w, "client"));
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "timestamp"));
    GUARD(sigil_jw_u64(&w, f->timestamp_ms));
    GUARD(sigil_jw_key(&w, "nonce"));
    GUARD(sigil_jw_strn(&w, f->nonce, f->nonce_len));
    GUARD(sigil_jw_key(&w, "signature"));
    GUARD(sigil_jw_hex(&w, sig, 64));
    GUARD(sigil_jw_obj_end(&w));
    GUARD(sigil_jw_obj_end(&w));
    return cli_write_line(out, b.len);
}

static int sign_request(const sign_request_args *a)
{
    static client_fields f;
    SIGIL_SECRET(seed);
    uint8_t pk[32], sig[64];
    GUARD(cli_key_pair_load(pk, &seed, a->client_key, "--client-key"));
    GUARD(load_fields(&f, a));
    GUARD(read_request(&f));
    GUARD(client_signature(sig, a, &f, &seed));
    return print_body(a, &f, sig);
}

int cmd_sign_request(int argc, char **argv)
{
    sign_request_args a;
    if (parse_args(&a, argc, argv) != 0 || sign_request(&a) != 0)
        return cli_report_error();
    return CLI_EXIT_OK;
}
