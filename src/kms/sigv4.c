/*
 * AWS Signature Version 4, header form (trusted: derives keys from the AWS
 * secret). The signer for the KMS client and the verifier sigil-kms runs on
 * untrusted requests: the Authorization header is parsed strictly, every
 * signed header must be present exactly once, and signatures are compared in
 * constant time.
 */
#include <stdio.h>
#include <string.h>

#include "sigil/codec.h"
#include "sigil/crypto.h"
#include "sigil/kms.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define CANON_MAX 16384
#define SCOPE_MAX 160
#define SIGNED_LIST_MAX 512

/* ---- small text helpers ---- */
static char lower(char c)
{
    return (char)((c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c);
}

static bool name_eq(sigil_slice a, const char *b, size_t blen)
{
    if (a.len != blen)
        return false;
    for (size_t i = 0; i < blen; i++)
        if (lower(a.p[i]) != lower(b[i]))
            return false;
    return true;
}

static int name_cmp(sigil_slice a, sigil_slice b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)lower(a.p[i]), y = (unsigned char)lower(b.p[i]);
        if (x != y)
            return x < y ? -1 : 1;
    }
    return a.len < b.len ? -1 : a.len > b.len;
}

static sigil_slice cstr_slice(const char *s)
{
    return (sigil_slice){s, strlen(s)};
}

/* RFC 7230 token characters. */
static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int check_header(const sigil_http_header *h)
{
    ENSURE(h->name.len > 0 && h->name.len <= 64, SIGIL_E_BAD_REQUEST,
           "sigv4: header name of %zu bytes", h->name.len);
    for (size_t i = 0; i < h->name.len; i++)
        ENSURE(is_tchar(h->name.p[i]), SIGIL_E_BAD_REQUEST,
               "sigv4: header name with a forbidden character");
    for (size_t i = 0; i < h->value.len; i++) {
        unsigned char c = (unsigned char)h->value.p[i];
        ENSURE(c >= 0x20 || c == '\t', SIGIL_E_BAD_REQUEST,
               "sigv4: header %.*s: control character in the value", (int)h->name.len, h->name.p);
        ENSURE(c != 0x7f, SIGIL_E_BAD_REQUEST, "sigv4: header %.*s: DEL in the value",
               (int)h->name.len, h->name.p);
    }
    return 0;
}

/* Finds a header by name; fails when it appears twice (a signature over one
 * copy could be read by the other side from the other copy). */
static int find_header(const sigil_http_header **out, const sigil_sigv4_request *req,
                       const char *name, size_t len)
{
    *out = NULL;
    for (size_t i = 0; i < req->nheaders; i++) {
        if (!name_eq(req->headers[i].name, name, len))
            continue;
        ENSURE(*out == NULL, SIGIL_E_BAD_REQUEST, "sigv4: header %.*s appears twice", (int)len,
               name);
        *out = &req->headers[i];
    }
    return 0;
}

/* Canonical value: trimmed, runs of spaces collapsed to one. */
static int put_canonical_value(sigil_buf *out, sigil_slice v)
{
    size_t a = 0, b = v.len;
    while (a < b && (v.p[a] == ' ' || v.p[a] == '\t'))
        a++;
    while (b > a && (v.p[b - 1] == ' ' || v.p[b - 1] == '\t'))
        b--;
    bool in_space = false;
    for (size_t i = a; i < b; i++) {
        bool sp = v.p[i] == ' ' || v.p[i] == '\t';
        if (sp && in_space)
            continue;
        GUARD(sigil_buf_putc(out, sp ? ' ' : v.p[i]));
        in_space = sp;
    }
    return 0;
}

/* ---- canonical request and string to sign ---- */
int sigil_sigv4_canonical_request(sigil_buf *out, const sigil_sigv4_request *req,
                                  const char *signed_headers, size_t signed_len,
                                  const char *payload_hash_hex)
{
    GUARD(sigil_buf_puts(out, req->method));
    GUARD(sigil_buf_putc(out, '\n'));
    GUARD(sigil_buf_puts(out, req->path));
    GUARD(sigil_buf_putc(out, '\n'));
    GUARD(sigil_buf_puts(out, req->query ? req->query : ""));
    GUARD(sigil_buf_putc(out, '\n'));
    size_t start = 0;
    while (start < signed_len) {
        size_t end = start;
        while (end < signed_len && signed_headers[end] != ';')
            end++;
        const sigil_http_header *h;
        GUARD(find_header(&h, req, signed_headers + start, end - start));
        ENSURE(h != NULL, SIGIL_E_BAD_REQUEST, "sigv4: signed header %.*s is not in the request",
               (int)(end - start), signed_headers + start);
        GUARD(check_header(h));
        for (size_t i = start; i < end; i++)
            GUARD(sigil_buf_putc(out, lower(signed_headers[i])));
        GUARD(sigil_buf_putc(out, ':'));
        GUARD(put_canonical_value(out, h->value));
        GUARD(sigil_buf_putc(out, '\n'));
        start = end + 1;
    }
    GUARD(sigil_buf_putc(out, '\n'));
    GUARD(sigil_buf_put(out, signed_headers, signed_len));
    GUARD(sigil_buf_putc(out, '\n'));
    return sigil_buf_puts(out, payload_hash_hex);
}

int sigil_sigv4_string_to_sign(sigil_buf *out, const char *amz_date, const char *scope,
                               const uint8_t *canonical, size_t len)
{
    uint8_t h[32];
    sigil_sha256(h, canonical, len);
    GUARD(sigil_buf_puts(out, ALGORITHM "\n"));
    GUARD(sigil_buf_puts(out, amz_date));
    GUARD(sigil_buf_putc(out, '\n'));
    GUARD(sigil_buf_puts(out, scope));
    GUARD(sigil_buf_putc(out, '\n'));
    return sigil_buf_put_hex(out, h, sizeof(h));
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
 * "aws4_request"), then the signature over the string to sign. The chain
 * lives in locked memory. */
static int compute_signature(uint8_t sig[32], const sigil_aws_creds *creds, const char *date8,
                             const char *service, const uint8_t *sts, size_t sts_len)
{
    SIGIL_SECRET(k);
    size_t slen = creds->secret_access_key.len;
    GUARD(sigil_secret_alloc(&k, 4 + slen + 32));
    memcpy(k.p, "AWS4", 4);
    memcpy(k.p + 4, creds->secret_access_key.p, slen);
    uint8_t *mac = k.p + 4 + slen;
    sigil_hmac_sha256(mac, k.p, 4 + slen, date8, 8);
    sigil_hmac_sha256(mac, mac, 32, creds->region, strlen(creds->region));
    sigil_hmac_sha256(mac, mac, 32, service, strlen(service));
    sigil_hmac_sha256(mac, mac, 32, "aws4_request", 12);
    sigil_hmac_sha256(sig, mac, 32, sts, sts_len);
    return 0;
}

static int build_scope(char *out, size_t cap, const char *date8, const char *region,
                       const char *service)
{
    int n = snprintf(out, cap, "%.8s/%s/%s/aws4_request", date8, region, service);
    ENSURE(n > 0 && (size_t)n < cap, SIGIL_E_TOO_LARGE, "sigv4: credential scope too long");
    return 0;
}

/* Signature over req whose signed headers are listed in signed_list. */
static int signature_for(uint8_t sig[32], const sigil_aws_creds *creds,
                         const sigil_sigv4_request *req, const char *signed_list, size_t list_len,
                         const char *amz_date, const char *payload_hex)
{
    char canon_mem[CANON_MAX], sts_mem[256 + SCOPE_MAX], scope[SCOPE_MAX];
    sigil_buf canon, sts;
    sigil_buf_init(&canon, canon_mem, sizeof(canon_mem));
    sigil_buf_init(&sts, sts_mem, sizeof(sts_mem));
    GUARD(build_scope(scope, sizeof(scope), amz_date, creds->region, req->service));
    GUARD(sigil_sigv4_canonical_request(&canon, req, signed_list, list_len, payload_hex));
    GUARD(sigil_sigv4_string_to_sign(&sts, amz_date, scope, canon.data, canon.len));
    return compute_signature(sig, creds, amz_date, req->service, sts.data, sts.len);
}

/* ---- dates ---- */
int sigil_sigv4_format_date(char out[static SIGIL_SIGV4_DATE_LEN + 1], time_t t)
{
    struct tm tm;
    ENSURE(gmtime_r(&t, &tm) != NULL, SIGIL_E_INTERNAL, "sigv4: time out of range");
    ENSURE(strftime(out, SIGIL_SIGV4_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) == SIGIL_SIGV4_DATE_LEN,
           SIGIL_E_INTERNAL, "sigv4: time out of range");
    return 0;
}

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int sigil_sigv4_parse_date(time_t *out, const char *s, size_t len)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, se;
    ENSURE(len == SIGIL_SIGV4_DATE_LEN && s[8] == 'T' && s[15] == 'Z', SIGIL_E_BAD_FIELD,
           "x-amz-date: expected YYYYMMDDTHHMMSSZ");
    ENSURE(digits(s, 4, &y) == 0 && digits(s + 4, 2, &mo) == 0 && digits(s + 6, 2, &d) == 0 &&
               digits(s + 9, 2, &h) == 0 && digits(s + 11, 2, &mi) == 0 &&
               digits(s + 13, 2, &se) == 0,
           SIGIL_E_BAD_FIELD, "x-amz-date: expected YYYYMMDDTHHMMSSZ");
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    char back[SIGIL_SIGV4_DATE_LEN + 1];
    /* timegm normalises 30 February; the round trip refuses it. */
    ENSURE(t != (time_t)-1 && sigil_sigv4_format_date(back, t) == 0 &&
               memcmp(back, s, SIGIL_SIGV4_DATE_LEN) == 0,
           SIGIL_E_BAD_FIELD, "x-amz-date: not a valid date");
    *out = t;
    return 0;
}

/* ---- signer ---- */
static int add_header(sigil_http_header *all, size_t *n, size_t cap, const char *name,
                      const char *value)
{
    ENSURE(*n < cap, SIGIL_E_TOO_LARGE, "sigv4: more than %d headers", SIGIL_SIGV4_MAX_HEADERS);
    all[(*n)++] = (sigil_http_header){cstr_slice(name), cstr_slice(value)};
    return 0;
}

/* Sorted lowercase "h1;h2;…" of every header in all[0..n). */
static int signed_list_of(char *out, size_t cap, size_t *len, sigil_http_header *all, size_t n)
{
    for (size_t i = 1; i < n; i++) /* insertion sort: a handful of headers */
        for (size_t j = i; j > 0 && name_cmp(all[j - 1].name, all[j].name) > 0; j--) {
            sigil_http_header t = all[j];
            all[j] = all[j - 1];
            all[j - 1] = t;
        }
    sigil_buf b;
    sigil_buf_init(&b, out, cap);
    for (size_t i = 0; i < n; i++) {
        GUARD(check_header(&all[i]));
        ENSURE(i == 0 || name_cmp(all[i - 1].name, all[i].name) != 0, SIGIL_E_BAD_REQUEST,
               "sigv4: header %.*s given twice", (int)all[i].name.len, all[i].name.p);
        if (i > 0)
            GUARD(sigil_buf_putc(&b, ';'));
        for (size_t k = 0; k < all[i].name.len; k++)
            GUARD(sigil_buf_putc(&b, lower(all[i].name.p[k])));
    }
    GUARD(sigil_buf_cstr(&b));
    *len = b.len;
    return 0;
}

int sigil_sigv4_sign(sigil_sigv4_signature *out, const sigil_aws_creds *creds,
                     const sigil_sigv4_request *req, const sigil_sigv4_options *opt, time_t now)
{
    sigil_http_header all[SIGIL_SIGV4_MAX_HEADERS];
    char list[SIGNED_LIST_MAX], scope[SCOPE_MAX];
    size_t n = 0, list_len;
    uint8_t h[32], sig[32];
    ENSURE(creds->secret_access_key.p != NULL, SIGIL_E_BAD_CREDENTIALS,
           "sigv4: no credentials set");
    ENSURE(req->nheaders <= SIGIL_SIGV4_MAX_HEADERS, SIGIL_E_TOO_LARGE,
           "sigv4: more than %d headers", SIGIL_SIGV4_MAX_HEADERS);
    memcpy(all, req->headers, req->nheaders * sizeof(*all));
    n = req->nheaders;
    GUARD(sigil_sigv4_format_date(out->amz_date, now));
    sigil_sha256(h, req->body, req->body_len);
    sigil_hex_encode(out->content_sha256, h, sizeof(h));
    GUARD(add_header(all, &n, SIGIL_ARRAY_LEN(all), "x-amz-date", out->amz_date));
    if (opt != NULL && opt->content_sha256)
        GUARD(
            add_header(all, &n, SIGIL_ARRAY_LEN(all), "x-amz-content-sha256", out->content_sha256));
    if (opt != NULL && opt->security_token && creds->session_token != NULL)
        GUARD(add_header(all, &n, SIGIL_ARRAY_LEN(all), "x-amz-security-token",
                         creds->session_token));
    GUARD(signed_list_of(list, sizeof(list), &list_len, all, n));
    sigil_sigv4_request full = *req;
    full.headers = all;
    full.nheaders = n;
    GUARD(signature_for(sig, creds, &full, list, list_len, out->amz_date, out->content_sha256));
    sigil_hex_encode(out->signature, sig, sizeof(sig));
    GUARD(build_scope(scope, sizeof(scope), out->amz_date, creds->region, req->service));
    int w = snprintf(out->authorization, sizeof(out->authorization),
                     ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                     creds->access_key_id, scope, list, out->signature);
    ENSURE(w > 0 && (size_t)w < sizeof(out->authorization), SIGIL_E_TOO_LARGE,
           "sigv4: authorization header too long");
    return 0;
}

/* ---- verifier ---- */
typedef struct {
    sigil_slice credential; /* AKID/date/region/service/aws4_request */
    sigil_slice signed_headers;
    sigil_slice signature;
} auth_parts;

typedef struct {
    const char *name;
    size_t off;
} auth_field;

static const auth_field AUTH_FIELDS[] = {
    {"Credential", offsetof(auth_parts, credential)},
    {"SignedHeaders", offsetof(auth_parts, signed_headers)},
    {"Signature", offsetof(auth_parts, signature)},
};

static int parse_auth_component(auth_parts *a, uint8_t *seen, const char *p, size_t n)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(AUTH_FIELDS); i++) {
        size_t kl = strlen(AUTH_FIELDS[i].name);
        if (n <= kl || p[kl] != '=' || memcmp(p, AUTH_FIELDS[i].name, kl) != 0)
            continue;
        ENSURE(!(*seen >> i & 1), SIGIL_E_UNAUTHORIZED, "sigv4: authorization: %s given twice",
               AUTH_FIELDS[i].name);
        *seen |= (uint8_t)(1u << i);
        *(sigil_slice *)(void *)((char *)a + AUTH_FIELDS[i].off) =
            (sigil_slice){p + kl + 1, n - kl - 1};
        return 0;
    }
    BAIL(SIGIL_E_UNAUTHORIZED, "sigv4: authorization: unknown component");
}

/* "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…" */
static int parse_authorization(auth_parts *a, sigil_slice v)
{
    static const char prefix[] = ALGORITHM " ";
    uint8_t seen = 0;
    ENSURE(v.len > sizeof(prefix) - 1 && memcmp(v.p, prefix, sizeof(prefix) - 1) == 0,
           SIGIL_E_UNAUTHORIZED, "sigv4: authorization: expected " ALGORITHM);
    size_t i = sizeof(prefix) - 1;
    while (i < v.len) {
        while (i < v.len && v.p[i] == ' ')
            i++;
        size_t start = i;
        while (i < v.len && v.p[i] != ',' && v.p[i] != ' ')
            i++;
        ENSURE(i > start, SIGIL_E_UNAUTHORIZED, "sigv4: authorization: empty component");
        GUARD(parse_auth_component(a, &seen, v.p + start, i - start));
        while (i < v.len && v.p[i] == ' ')
            i++;
        if (i < v.len) {
            ENSURE(v.p[i] == ',', SIGIL_E_UNAUTHORIZED,
                   "sigv4: authorization: components must be separated by ','");
            i++;
        }
    }
    ENSURE(seen == 7, SIGIL_E_UNAUTHORIZED,
           "sigv4: authorization: Credential, SignedHeaders and Signature are required");
    return 0;
}

/* Splits Credential on '/' into exactly five parts. */
static int split_credential(sigil_slice parts[5], sigil_slice cred)
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= cred.len; i++) {
        if (i < cred.len && cred.p[i] != '/')
            continue;
        ENSURE(k < 5, SIGIL_E_UNAUTHORIZED, "sigv4: credential has more than five parts");
        parts[k++] = (sigil_slice){cred.p + start, i - start};
        start = i + 1;
    }
    ENSURE(k == 5, SIGIL_E_UNAUTHORIZED,
           "sigv4: credential must be AKID/date/region/service/aws4_request");
    return 0;
}

static bool slice_is(sigil_slice s, const char *lit)
{
    return sigil_slice_eq(s, lit) != 0;
}

/* SignedHeaders: lowercase, strictly ascending, containing the required
 * names, never authorization. */
static int check_signed_list(sigil_slice list, bool need_token)
{
    bool host = false, date = false, token = false;
    sigil_slice prev = {NULL, 0};
    size_t start = 0;
    ENSURE(list.len > 0 && list.len < SIGNED_LIST_MAX, SIGIL_E_UNAUTHORIZED,
           "sigv4: SignedHeaders of %zu bytes", list.len);
    for (size_t i = 0; i <= list.len; i++) {
        if (i < list.len && list.p[i] != ';')
            continue;
        sigil_slice name = {list.p + start, i - start};
        ENSURE(name.len > 0, SIGIL_E_UNAUTHORIZED, "sigv4: SignedHeaders has an empty name");
        for (size_t k = 0; k < name.len; k++)
            ENSURE(is_tchar(name.p[k]) && lower(name.p[k]) == name.p[k], SIGIL_E_UNAUTHORIZED,
                   "sigv4: SignedHeaders must be lowercase header names");
        ENSURE(prev.p == NULL || name_cmp(prev, name) < 0, SIGIL_E_UNAUTHORIZED,
               "sigv4: SignedHeaders must be sorted and unique");
        ENSURE(!slice_is(name, "authorization"), SIGIL_E_UNAUTHORIZED,
               "sigv4: SignedHeaders must not list authorization");
        host |= slice_is(name, "host");
        date |= slice_is(name, "x-amz-date");
        token |= slice_is(name, "x-amz-security-token");
        prev = name;
        start = i + 1;
    }
    ENSURE(host && date, SIGIL_E_UNAUTHORIZED, "sigv4: host and x-amz-date must be signed");
    ENSURE(token || !need_token, SIGIL_E_UNAUTHORIZED,
           "sigv4: x-amz-security-token must be signed");
    return 0;
}

static int header_value(sigil_slice *out, const sigil_sigv4_request *req, const char *name)
{
    const sigil_http_header *h;
    GUARD(find_header(&h, req, name, strlen(name)));
    *out = h ? h->value : (sigil_slice){NULL, 0};
    return 0;
}

static int check_token(const sigil_aws_creds *expected, const sigil_sigv4_request *req)
{
    sigil_slice tok;
    GUARD(header_value(&tok, req, "x-amz-security-token"));
    if (expected->session_token == NULL) {
        ENSURE(tok.p == NULL, SIGIL_E_UNAUTHORIZED,
               "sigv4: x-amz-security-token given but the credentials have none");
        return 0;
    }
    size_t n = strlen(expected->session_token);
    ENSURE(tok.p != NULL && tok.len == n && sigil_ct_eq(tok.p, expected->session_token, n),
           SIGIL_E_UNAUTHORIZED, "sigv4: the security token is not valid");
    return 0;
}

static int check_date(char amz_date[SIGIL_SIGV4_DATE_LEN + 1], const sigil_sigv4_request *req,
                      time_t now, long max_skew)
{
    sigil_slice d;
    time_t t;
    GUARD(header_value(&d, req, "x-amz-date"));
    ENSURE(d.p != NULL, SIGIL_E_UNAUTHORIZED, "sigv4: x-amz-date missing");
    GUARD(sigil_sigv4_parse_date(&t, d.p, d.len));
    long skew = (long)(t > now ? t - now : now - t);
    ENSURE(skew <= max_skew, SIGIL_E_STALE_REQUEST,
           "sigv4: signature expired: x-amz-date is %ld s from the server's clock (max %ld)", skew,
           max_skew);
    memcpy(amz_date, d.p, SIGIL_SIGV4_DATE_LEN);
    amz_date[SIGIL_SIGV4_DATE_LEN] = 0;
    return 0;
}

static int check_scope(const sigil_aws_creds *expected, const sigil_sigv4_request *req,
                       sigil_slice cred, const char *amz_date)
{
    sigil_slice part[5];
    GUARD(split_credential(part, cred));
    ENSURE(slice_is(part[0], expected->access_key_id), SIGIL_E_UNAUTHORIZED,
           "sigv4: unknown access key id");
    ENSURE(part[1].len == 8 && memcmp(part[1].p, amz_date, 8) == 0, SIGIL_E_UNAUTHORIZED,
           "sigv4: credential scope date is not the date of x-amz-date");
    ENSURE(slice_is(part[2], expected->region), SIGIL_E_UNAUTHORIZED,
           "sigv4: credential scope region must be %s", expected->region);
    ENSURE(slice_is(part[3], req->service), SIGIL_E_UNAUTHORIZED,
           "sigv4: credential scope service must be %s", req->service);
    ENSURE(slice_is(part[4], "aws4_request"), SIGIL_E_UNAUTHORIZED,
           "sigv4: credential scope must end with aws4_request");
    return 0;
}

static int check_content_sha(const sigil_sigv4_request *req, const char hex[65])
{
    sigil_slice v;
    GUARD(header_value(&v, req, "x-amz-content-sha256"));
    ENSURE(v.p == NULL || (v.len == 64 && memcmp(v.p, hex, 64) == 0), SIGIL_E_BAD_SIGNATURE,
           "sigv4: x-amz-content-sha256 is not the hash of the body");
    return 0;
}

int sigil_sigv4_verify(const sigil_aws_creds *expected, const sigil_sigv4_request *req, time_t now,
                       long max_skew)
{
    auth_parts a = {{0}, {0}, {0}};
    sigil_slice auth;
    char amz_date[SIGIL_SIGV4_DATE_LEN + 1], list[SIGNED_LIST_MAX], payload[65], want_hex[65];
    uint8_t h[32], want[32];
    GUARD(header_value(&auth, req, "authorization"));
    ENSURE(auth.p != NULL, SIGIL_E_UNAUTHORIZED, "sigv4: authorization header missing");
    GUARD(parse_authorization(&a, auth));
    GUARD(check_date(amz_date, req, now, max_skew));
    GUARD(check_scope(expected, req, a.credential, amz_date));
    GUARD(check_signed_list(a.signed_headers, expected->session_token != NULL));
    GUARD(check_token(expected, req));
    sigil_sha256(h, req->body, req->body_len);
    sigil_hex_encode(payload, h, sizeof(h));
    GUARD(check_content_sha(req, payload));
    ENSURE(a.signature.len == 64, SIGIL_E_BAD_SIGNATURE,
           "sigv4: signature must be 64 hex characters");
    memcpy(list, a.signed_headers.p, a.signed_headers.len);
    GUARD(signature_for(want, expected, req, list, a.signed_headers.len, amz_date, payload));
    sigil_hex_encode(want_hex, want, sizeof(want));
    ENSURE(sigil_ct_eq(want_hex, a.signature.p, 64), SIGIL_E_BAD_SIGNATURE,
           "sigv4: the request signature does not match");
    return 0;
}
