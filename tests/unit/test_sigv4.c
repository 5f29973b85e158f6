/*
 * SigV4 signer and verifier (src/kms/sigv4.c) against the AWS signing test
 * suite (aws-c-auth v4 cases) and the KMS-shaped derived vector in
 * tests/vectors/nitro/sigv4: canonical request, string to sign, signature
 * and Authorization byte for byte; the verifier accepts each signed request
 * and refuses altered ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/codec.h"
#include "sigil/kms.h"

#define FILE_MAX 8192
#define MAX_H 16

static size_t read_vec(const char *name, char *out, size_t cap)
{
    char path[4096];
    const char *dir = getenv("SIGIL_VECTORS_DIR");
    const char *slash = strrchr(__FILE__, '/');
    if (dir != NULL)
        snprintf(path, sizeof(path), "%s/nitro/sigv4/%s", dir, name);
    else
        snprintf(path, sizeof(path), "%.*s/../vectors/nitro/sigv4/%s",
                 (int)(slash ? slash - __FILE__ : 1), slash ? __FILE__ : ".", name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    size_t n = fread(out, 1, cap - 1, f);
    fclose(f);
    assert_true(n < cap - 1);
    out[n] = 0;
    return n;
}

/* ---- a test case ---- */
typedef struct {
    char ctx_text[FILE_MAX], req_text[FILE_MAX];
    char method[8], path[64];
    sigil_http_header h[MAX_H];
    size_t nh;
    const uint8_t *body;
    size_t body_len;
    char akid[64], secret[64], token[1024], region[32], service[32];
    bool sign_body, omit_token;
    time_t now;
} tcase;

static void json_field(char *out, size_t cap, const sigil_json *d, uint32_t obj, const char *k)
{
    uint32_t t = sigil_json_get(d, obj, k);
    sigil_buf b;
    out[0] = 0;
    if (t == 0)
        return;
    sigil_buf_init(&b, out, cap);
    assert_int_equal(sigil_json_str(d, t, &b), 0);
    assert_int_equal(sigil_buf_cstr(&b), 0);
}

static void load_context(tcase *c, const char *dir)
{
    char name[256];
    sigil_json_tok toks[64];
    sigil_json d;
    snprintf(name, sizeof(name), "%s/context.json", dir);
    size_t n = read_vec(name, c->ctx_text, sizeof(c->ctx_text));
    assert_int_equal(sigil_json_parse(&d, c->ctx_text, n, toks, 64), 0);
    uint32_t cr = sigil_json_get(&d, 0, "credentials");
    uint32_t src = cr ? cr : 0;
    json_field(c->akid, sizeof(c->akid), &d, src, "access_key_id");
    json_field(c->secret, sizeof(c->secret), &d, src, "secret_access_key");
    json_field(c->token, sizeof(c->token), &d, src, "token");
    json_field(c->region, sizeof(c->region), &d, 0, "region");
    json_field(c->service, sizeof(c->service), &d, 0, "service");
    uint32_t sb = sigil_json_get(&d, 0, "sign_body");
    c->sign_body = sb != 0 && sigil_json_type_of(&d, sb) == SIGIL_JSON_TRUE;
    uint32_t om = sigil_json_get(&d, 0, "omit_session_token");
    c->omit_token = om != 0 && sigil_json_type_of(&d, om) == SIGIL_JSON_TRUE;
    assert_int_equal(sigil_sigv4_parse_date(&c->now, "20150830T123600Z", 16), 0);
}

static void add_h(tcase *c, const char *name, size_t nl, const char *value, size_t vl)
{
    assert_true(c->nh < MAX_H);
    c->h[c->nh++] = (sigil_http_header){{name, nl}, {value, vl}};
}

/* request.txt: "METHOD PATH HTTP/1.1", "Name:value" lines, blank, body. */
static void load_request(tcase *c, const char *dir)
{
    char name[256];
    snprintf(name, sizeof(name), "%s/request.txt", dir);
    size_t n = read_vec(name, c->req_text, sizeof(c->req_text));
    char *p = c->req_text, *end = p + n;
    char *eol = strchr(p, '\n');
    assert_non_null(eol);
    assert_int_equal(sscanf(p, "%7s %63s", c->method, c->path), 2);
    p = eol + 1;
    while (p < end && *p != '\n') {
        eol = strchr(p, '\n');
        if (eol == NULL)
            eol = end;
        char *colon = memchr(p, ':', (size_t)(eol - p));
        assert_non_null(colon);
        add_h(c, p, (size_t)(colon - p), colon + 1, (size_t)(eol - colon - 1));
        p = eol < end ? eol + 1 : end;
    }
    p = p < end ? p + 1 : end;
    c->body = (const uint8_t *)p;
    c->body_len = (size_t)(end - p);
}

static void make_creds(sigil_aws_creds *cr, const tcase *c, bool with_token)
{
    const char *tok = with_token ? c->token : "";
    assert_int_equal(sigil_aws_creds_set(cr, c->akid, strlen(c->akid), (const uint8_t *)c->secret,
                                         strlen(c->secret), tok, strlen(tok), c->region,
                                         strlen(c->region)),
                     0);
}

static sigil_sigv4_request as_request(const tcase *c)
{
    return (sigil_sigv4_request){c->method, c->path, "",          c->h,
                                 c->nh,     c->body, c->body_len, c->service};
}

static void expect_file(const char *dir, const char *file, const char *got, size_t len)
{
    char name[256], want[FILE_MAX];
    snprintf(name, sizeof(name), "%s/%s", dir, file);
    size_t n = read_vec(name, want, sizeof(want));
    while (n > 0 && want[n - 1] == '\n' && (len == 0 || got[len - 1] != '\n'))
        n--; /* some vector files end with a newline */
    if (n != len || memcmp(want, got, n) != 0)
        fail_msg("%s: got\n%.*s\nwant\n%.*s", name, (int)len, got, (int)n, want);
}

/* Signs, checks every intermediate, then verifies the signed request. */
static void run_case(const char *dir, const char *file_prefix)
{
    static tcase c;
    sigil_aws_creds cr;
    sigil_sigv4_signature sig;
    char fname[64];
    memset(&c, 0, sizeof(c));
    load_context(&c, dir);
    load_request(&c, dir);
    bool token = c.token[0] != 0;
    make_creds(&cr, &c, token);
    sigil_sigv4_request req = as_request(&c);
    sigil_sigv4_options opt = {.content_sha256 = c.sign_body, .security_token = !c.omit_token};
    if (sigil_sigv4_sign(&sig, &cr, &req, &opt, c.now) != 0)
        fail_msg("%s: %s", dir, sigil_errmsg());
    snprintf(fname, sizeof(fname), "%ssignature.txt", file_prefix);
    expect_file(dir, fname, sig.signature, strlen(sig.signature));

    /* The headers as sent: the request's plus what the signer added. */
    add_h(&c, "X-Amz-Date", 10, sig.amz_date, strlen(sig.amz_date));
    if (c.sign_body)
        add_h(&c, "x-amz-content-sha256", 20, sig.content_sha256, 64);
    if (token)
        add_h(&c, "X-Amz-Security-Token", 20, c.token, strlen(c.token));

    /* Intermediate strings, with the SignedHeaders of the Authorization. */
    const char *sh = strstr(sig.authorization, "SignedHeaders=") + 14;
    size_t shl = (size_t)(strchr(sh, ',') - sh);
    char canon_mem[FILE_MAX], sts_mem[1024], scope[128];
    sigil_buf canon, sts;
    sigil_buf_init(&canon, canon_mem, sizeof(canon_mem));
    sigil_buf_init(&sts, sts_mem, sizeof(sts_mem));
    req = as_request(&c);
    assert_int_equal(sigil_sigv4_canonical_request(&canon, &req, sh, shl, sig.content_sha256), 0);
    snprintf(fname, sizeof(fname), "%scanonical-request.txt", file_prefix);
    expect_file(dir, fname, (const char *)canon.data, canon.len);
    snprintf(scope, sizeof(scope), "20150830/%s/%s/aws4_request", c.region, c.service);
    assert_int_equal(sigil_sigv4_string_to_sign(&sts, sig.amz_date, scope, canon.data, canon.len),
                     0);
    snprintf(fname, sizeof(fname), "%sstring-to-sign.txt", file_prefix);
    expect_file(dir, fname, (const char *)sts.data, sts.len);

    /* The verifier accepts exactly this request. */
    add_h(&c, "Authorization", 13, sig.authorization, strlen(sig.authorization));
    req = as_request(&c);
    int rc = sigil_sigv4_verify(&cr, &req, c.now, 300);
    if (c.omit_token) {
        /* The token travels but is not signed: refused for token credentials. */
        assert_int_equal(rc, -1);
        assert_int_equal(sigil_errno(), SIGIL_E_UNAUTHORIZED);
    } else if (rc != 0)
        fail_msg("%s: verify: %s", dir, sigil_errmsg());
    sigil_aws_creds_clear(&cr);
}

static void test_get_vanilla(void **state)
{
    (void)state;
    run_case("get-vanilla", "header-");
}

static void test_get_vanilla_with_session_token(void **state)
{
    (void)state;
    run_case("get-vanilla-with-session-token", "header-");
}

static void test_post_vanilla(void **state)
{
    (void)state;
    run_case("post-vanilla", "header-");
}

static void test_post_x_www_form_urlencoded(void **state)
{
    (void)state;
    run_case("post-x-www-form-urlencoded", "header-");
}

static void test_post_sts_header_before(void **state)
{
    (void)state;
    run_case("post-sts-header-before", "header-");
}

static void test_post_sts_header_after(void **state)
{
    (void)state;
    run_case("post-sts-header-after", "header-");
}

/* ---- the KMS-shaped vector and tampering ---- */
typedef struct {
    char body[512], ctx[1024];
    size_t body_len;
    sigil_aws_creds creds;
    sigil_sigv4_signature sig;
    sigil_http_header h[MAX_H];
    size_t nh;
    time_t now;
} kms_case;

static void kms_setup(kms_case *k)
{
    sigil_json_tok toks[32];
    sigil_json d;
    char akid[32], secret[64], token[128], region[32];
    memset(k, 0, sizeof(*k));
    k->body_len = read_vec("kms-decrypt-derived/body.json", k->body, sizeof(k->body));
    size_t n = read_vec("kms-decrypt-derived/context.json", k->ctx, sizeof(k->ctx));
    assert_int_equal(sigil_json_parse(&d, k->ctx, n, toks, 32), 0);
    json_field(akid, sizeof(akid), &d, 0, "access_key_id");
    json_field(secret, sizeof(secret), &d, 0, "secret_access_key");
    json_field(token, sizeof(token), &d, 0, "token");
    json_field(region, sizeof(region), &d, 0, "region");
    assert_int_equal(sigil_aws_creds_set(&k->creds, akid, strlen(akid), (const uint8_t *)secret,
                                         strlen(secret), token, strlen(token), region,
                                         strlen(region)),
                     0);
    assert_int_equal(sigil_sigv4_parse_date(&k->now, "20150830T123600Z", 16), 0);
    static const char *const H[][2] = {
        {"content-length", "128"},
        {"content-type", "application/x-amz-json-1.1"},
        {"host", "kms.us-east-1.amazonaws.com"},
        {"x-amz-target", "TrentService.Decrypt"},
    };
    for (size_t i = 0; i < 4; i++)
        k->h[k->nh++] = (sigil_http_header){{H[i][0], strlen(H[i][0])}, {H[i][1], strlen(H[i][1])}};
}

static sigil_sigv4_request kms_req(kms_case *k)
{
    return (sigil_sigv4_request){"POST",      "/",  "", k->h, k->nh, (const uint8_t *)k->body,
                                 k->body_len, "kms"};
}

/* Signs the derived request and appends the headers a client sends. */
static void kms_sign(kms_case *k)
{
    sigil_sigv4_request req = kms_req(k);
    sigil_sigv4_options opt = {.content_sha256 = true, .security_token = true};
    assert_int_equal(sigil_sigv4_sign(&k->sig, &k->creds, &req, &opt, k->now), 0);
    k->h[k->nh++] = (sigil_http_header){{"x-amz-date", 10}, {k->sig.amz_date, 16}};
    k->h[k->nh++] = (sigil_http_header){{"x-amz-content-sha256", 20}, {k->sig.content_sha256, 64}};
    k->h[k->nh++] = (sigil_http_header){{"x-amz-security-token", 20},
                                        {k->creds.session_token, strlen(k->creds.session_token)}};
    k->h[k->nh++] = (sigil_http_header){{"authorization", 13},
                                        {k->sig.authorization, strlen(k->sig.authorization)}};
}

static void test_kms_decrypt_derived(void **state)
{
    static kms_case k;
    char want[512];
    (void)state;
    kms_setup(&k);
    kms_sign(&k);
    read_vec("kms-decrypt-derived/signature.txt", want, sizeof(want));
    assert_memory_equal(k.sig.signature, want, 64);
    size_t n = read_vec("kms-decrypt-derived/authorization.txt", want, sizeof(want));
    while (n > 0 && want[n - 1] == '\n')
        want[--n] = 0;
    assert_string_equal(k.sig.authorization, want);
    sigil_sigv4_request req = kms_req(&k);
    assert_int_equal(sigil_sigv4_verify(&k.creds, &req, k.now, 300), 0);
    /* Within the skew window either way; outside it refused. */
    assert_int_equal(sigil_sigv4_verify(&k.creds, &req, k.now + 300, 300), 0);
    assert_int_equal(sigil_sigv4_verify(&k.creds, &req, k.now - 301, 300), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_STALE_REQUEST);
    sigil_aws_creds_clear(&k.creds);
}

/* Each alteration of a signed request is refused with the expected code. */
typedef struct {
    const char *what;
    const char *header; /* header whose value is replaced (NULL: body) */
    const char *value;
    sigil_err code;
} tamper;

static const tamper TAMPER[] = {
    {"body", NULL, "{}", SIGIL_E_BAD_SIGNATURE},
    {"target", "x-amz-target", "TrentService.GenerateDataKey", SIGIL_E_BAD_SIGNATURE},
    {"host", "host", "kms.us-west-2.amazonaws.com", SIGIL_E_BAD_SIGNATURE},
    {"date", "x-amz-date", "20150830T123601Z", SIGIL_E_BAD_SIGNATURE},
    {"other day", "x-amz-date", "20150829T235959Z", SIGIL_E_STALE_REQUEST},
    {"token", "x-amz-security-token", "AAAA", SIGIL_E_UNAUTHORIZED},
    {"sha", "x-amz-content-sha256",
     "0000000000000000000000000000000000000000000000000000000000000000", SIGIL_E_BAD_SIGNATURE},
    {"signature", "authorization",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request, "
     "SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-"
     "security-token;x-amz-target, "
     "Signature=1df494edbf9ae25c9ed9763055eff425a873091e27d9e1e418fa6e4fafaf2468",
     SIGIL_E_BAD_SIGNATURE},
    {"akid", "authorization",
     "AWS4-HMAC-SHA256 Credential=AKIDOTHER/20150830/us-east-1/kms/aws4_request, "
     "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=" /* */
     "1df494edbf9ae25c9ed9763055eff425a873091e27d9e1e418fa6e4fafaf2469",
     SIGIL_E_UNAUTHORIZED},
    {"region", "authorization",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/kms/aws4_request, "
     "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=" /* */
     "1df494edbf9ae25c9ed9763055eff425a873091e27d9e1e418fa6e4fafaf2469",
     SIGIL_E_UNAUTHORIZED},
    {"service", "authorization",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request, "
     "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=" /* */
     "1df494edbf9ae25c9ed9763055eff425a873091e27d9e1e418fa6e4fafaf2469",
     SIGIL_E_UNAUTHORIZED},
    {"host unsigned", "authorization",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request, "
     "SignedHeaders=x-amz-date;x-amz-security-token, Signature=" /* */
     "1df494edbf9ae25c9ed9763055eff425a873091e27d9e1e418fa6e4fafaf2469",
     SIGIL_E_UNAUTHORIZED},
    {"token unsigned", "authorization",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=" /* */
     "1df494edbf9ae25c9ed9763055eff425a873091e27d9e1e418fa6e4fafaf2469",
     SIGIL_E_UNAUTHORIZED},
    {"unsorted", "authorization",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request, "
     "SignedHeaders=x-amz-date;host;x-amz-security-token, Signature=" /* */
     "1df494edbf9ae25c9ed9763055eff425a873091e27d9e1e418fa6e4fafaf2469",
     SIGIL_E_UNAUTHORIZED},
    {"algorithm", "authorization",
     "AWS4-HMAC-SHA512 Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request, "
     "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=00",
     SIGIL_E_UNAUTHORIZED},
    {"duplicate component", "authorization",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request, "
     "Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request, "
     "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=00",
     SIGIL_E_UNAUTHORIZED},
    {"short signature", "authorization",
     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request, "
     "SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-"
     "security-token;x-amz-target, Signature=1df4",
     SIGIL_E_BAD_SIGNATURE},
    {"bad date", "x-amz-date", "20150830T1236", SIGIL_E_BAD_FIELD},
};

static void test_verifier_refuses_tampering(void **state)
{
    static kms_case k;
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(TAMPER); i++) {
        const tamper *t = &TAMPER[i];
        kms_setup(&k);
        kms_sign(&k);
        if (t->header == NULL) {
            memcpy(k.body, t->value, strlen(t->value));
            k.body_len = strlen(t->value);
        } else
            for (size_t j = 0; j < k.nh; j++)
                if (strncmp(k.h[j].name.p, t->header, k.h[j].name.len) == 0 &&
                    strlen(t->header) == k.h[j].name.len)
                    k.h[j].value = (sigil_slice){t->value, strlen(t->value)};
        sigil_sigv4_request req = kms_req(&k);
        sigil_clear_error();
        if (sigil_sigv4_verify(&k.creds, &req, k.now, 300) == 0)
            fail_msg("%s: accepted", t->what);
        if (sigil_errno() != t->code)
            fail_msg("%s: got %s (%s)", t->what, sigil_err_code(sigil_errno()), sigil_errmsg());
        sigil_aws_creds_clear(&k.creds);
    }
}

static void test_verifier_refuses_duplicate_and_missing(void **state)
{
    static kms_case k;
    (void)state;
    kms_setup(&k);
    kms_sign(&k);
    sigil_sigv4_request req = kms_req(&k);
    /* A second Host header: which one was signed is ambiguous. */
    k.h[k.nh++] = (sigil_http_header){{"Host", 4}, {"evil.example", 12}};
    req.nheaders = k.nh;
    assert_int_equal(sigil_sigv4_verify(&k.creds, &req, k.now, 300), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_REQUEST);
    /* No Authorization at all. */
    req.nheaders = 4;
    assert_int_equal(sigil_sigv4_verify(&k.creds, &req, k.now, 300), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_UNAUTHORIZED);
    /* Token credentials, request without the token header. */
    sigil_aws_creds_clear(&k.creds);
    kms_setup(&k);
    kms_sign(&k);
    k.h[6] = k.h[7]; /* drop x-amz-security-token */
    k.nh--;
    req = kms_req(&k);
    assert_int_equal(sigil_sigv4_verify(&k.creds, &req, k.now, 300), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_UNAUTHORIZED);
    sigil_aws_creds_clear(&k.creds);
}

static void test_dates(void **state)
{
    time_t t;
    char out[17];
    (void)state;
    assert_int_equal(sigil_sigv4_parse_date(&t, "20150830T123600Z", 16), 0);
    assert_int_equal(t, 1440938160);
    assert_int_equal(sigil_sigv4_format_date(out, t), 0);
    assert_string_equal(out, "20150830T123600Z");
    assert_int_equal(sigil_sigv4_parse_date(&t, "20150230T123600Z", 16), -1); /* 30 Feb */
    assert_int_equal(sigil_sigv4_parse_date(&t, "20150830 123600Z", 16), -1);
    assert_int_equal(sigil_sigv4_parse_date(&t, "2015083XT123600Z", 16), -1);
    assert_int_equal(sigil_sigv4_parse_date(&t, "20150830T246000Z", 16), -1);
}

static void test_creds_checks(void **state)
{
    sigil_aws_creds c;
    (void)state;
    assert_int_equal(
        sigil_aws_creds_set(&c, "akid", 4, (const uint8_t *)"s", 1, "", 0, "us-east-1", 9),
        -1); /* lowercase access key id */
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_CREDENTIALS);
    assert_null(strstr(sigil_errmsg(), "akid"));
    assert_int_equal(sigil_aws_creds_set(&c, "AKIDEXAMPLE", 11, (const uint8_t *)"se cret", 7, "",
                                         0, "us-east-1", 9),
                     -1);
    assert_null(strstr(sigil_errmsg(), "se cret"));
    assert_int_equal(
        sigil_aws_creds_set(&c, "AKIDEXAMPLE", 11, (const uint8_t *)"s", 1, "", 0, "US-EAST-1", 9),
        -1);
    assert_int_equal(sigil_aws_creds_set(&c, "AKIDEXAMPLE", 11, (const uint8_t *)"s", 1, "tok\nen",
                                         6, "us-east-1", 9),
                     -1);
    assert_int_equal(sigil_aws_creds_set(&c, "AKIDEXAMPLE", 11, (const uint8_t *)"s", 1, "tok", 3,
                                         "us-east-1", 9),
                     0);
    sigil_aws_creds copy = {0};
    assert_int_equal(sigil_aws_creds_copy(&copy, &c), 0);
    assert_string_equal(copy.session_token, "tok");
    assert_int_equal(copy.secret_access_key.len, 1);
    sigil_aws_creds_clear(&c);
    sigil_aws_creds_clear(&copy);
    assert_null(c.session_token);
    assert_null(c.secret_access_key.p);
}

int main(void)
{
    if (sigil_init() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_vanilla),
        cmocka_unit_test(test_get_vanilla_with_session_token),
        cmocka_unit_test(test_post_vanilla),
        cmocka_unit_test(test_post_x_www_form_urlencoded),
        cmocka_unit_test(test_post_sts_header_before),
        cmocka_unit_test(test_post_sts_header_after),
        cmocka_unit_test(test_kms_decrypt_derived),
        cmocka_unit_test(test_verifier_refuses_tampering),
        cmocka_unit_test(test_verifier_refuses_duplicate_and_missing),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_creds_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
