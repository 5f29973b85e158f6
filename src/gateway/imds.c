/*
 * IMDSv2 client (untrusted host code): the instance role's temporary AWS
 * credentials and the instance's region, which the gateway passes to the
 * enclave for its key-service calls. Plain HTTP/1.1 to the link-local
 * metadata service (or a twin in tests), one request per connection,
 * bounded reads, no redirects. The credentials are AWS credentials, never
 * tenant secrets; they are still wiped after use.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gateway/gateway.h"

#define RESP_MAX 16384
#define TOKEN_TTL "21600" /* seconds: the IMDS maximum */
#define REFRESH_MARGIN_S ((int64_t)15 * 60)

/* ---- base URL ---- */
typedef struct {
    char host[128]; /* without brackets */
    char hostport[140];
    char port[8];
} imds_base;

/* "http://HOST[:PORT][/]" */
static int parse_base(imds_base *b, const char *url)
{
    static const char scheme[] = "http://";
    size_t n = strnlen(url, 256), i = sizeof(scheme) - 1;
    ENSURE(n < 256 && n > i && strncmp(url, scheme, i) == 0, SIGIL_E_USAGE,
           "--imds: expected http://HOST[:PORT]");
    const char *h = url + i, *end = url + n;
    if (end[-1] == '/')
        end--;
    const char *colon = NULL;
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(end - h));
        ENSURE(rb != NULL, SIGIL_E_USAGE, "--imds: bad IPv6 address");
        colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
        ENSURE(rb + 1 == end || colon != NULL, SIGIL_E_USAGE, "--imds: no path allowed");
        snprintf(b->host, sizeof(b->host), "%.*s", (int)(rb - h - 1), h + 1);
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        const char *he = colon != NULL ? colon : end;
        ENSURE(he > h && (size_t)(he - h) < sizeof(b->host), SIGIL_E_USAGE, "--imds: bad host");
        snprintf(b->host, sizeof(b->host), "%.*s", (int)(he - h), h);
    }
    ENSURE(strpbrk(b->host, "/?#@ ") == NULL && b->host[0] != '\0', SIGIL_E_USAGE,
           "--imds: bad host");
    snprintf(b->port, sizeof(b->port), "80");
    if (colon != NULL) {
        size_t pl = (size_t)(end - colon - 1);
        ENSURE(pl >= 1 && pl <= 5 && strspn(colon + 1, "0123456789") >= pl, SIGIL_E_USAGE,
               "--imds: bad port");
        snprintf(b->port, sizeof(b->port), "%.*s", (int)pl, colon + 1);
        ENSURE(atoi(b->port) > 0 && atoi(b->port) < 65536, SIGIL_E_USAGE, "--imds: bad port");
    }
    snprintf(b->hostport, sizeof(b->hostport), "%.*s", (int)(end - h), h);
    return 0;
}

int gw_imds_check_url(const char *url)
{
    imds_base b;
    return parse_base(&b, url);
}

/* ---- one HTTP exchange ---- */
static int connect_to(int *out, const imds_base *b, long timeout_ms)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai = NULL;
    ENSURE(getaddrinfo(b->host, b->port, &hints, &ai) == 0 && ai != NULL, SIGIL_E_UNAVAILABLE,
           "imds: cannot resolve %s", b->host);
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int rc = fd >= 0 ? connect(fd, ai->ai_addr, ai->ai_addrlen) : -1;
    freeaddrinfo(ai);
    ENSURE(fd >= 0, SIGIL_E_UNAVAILABLE, "imds: socket: %s", strerror(errno));
    if (rc != 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int err = 0;
        socklen_t el = sizeof(err);
        rc = poll(&p, 1, (int)timeout_ms) == 1 &&
                     getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0
                 ? 0
                 : -1;
    }
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    if (rc == 0)
        rc = fcntl(fd, F_SETFL, 0) == 0 &&
                     setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0 &&
                     setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0
                 ? 0
                 : -1;
    if (rc != 0) {
        (void)close(fd);
        BAIL(SIGIL_E_UNAVAILABLE, "imds: cannot connect to %s", b->hostport);
    }
    *out = fd;
    return 0;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        ENSURE(w > 0, SIGIL_E_UNAVAILABLE, "imds: write failed");
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads to EOF (the request said Connection: close), at most cap - 1. */
static int recv_all(int fd, char *buf, size_t cap, size_t *len)
{
    size_t n = 0;
    for (;;) {
        ENSURE(n < cap - 1, SIGIL_E_TOO_LARGE, "imds: response over %zu bytes", cap - 1);
        ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        ENSURE(r >= 0, SIGIL_E_UNAVAILABLE, "imds: read failed or timed out");
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *len = n;
    return 0;
}

typedef struct {
    int status;
    const char *body;
    size_t body_len;
} http_resp;

/* Status line, headers (Content-Length honoured, chunked refused), body. */
static int parse_response(http_resp *r, const char *buf, size_t len)
{
    ENSURE(len >= 12 && strncmp(buf, "HTTP/1.", 7) == 0 && buf[8] == ' ', SIGIL_E_PROTOCOL,
           "imds: not an HTTP response");
    r->status = atoi(buf + 9);
    const char *end = strstr(buf, "\r\n\r\n");
    ENSURE(end != NULL, SIGIL_E_PROTOCOL, "imds: response headers incomplete");
    r->body = end + 4;
    r->body_len = len - (size_t)(r->body - buf);
    for (const char *h = strstr(buf, "\r\n") + 2; h < end; h = strstr(h, "\r\n") + 2) {
        if (strncasecmp(h, "transfer-encoding:", 18) == 0)
            BAIL(SIGIL_E_PROTOCOL, "imds: chunked responses are not supported");
        if (strncasecmp(h, "content-length:", 15) == 0) {
            size_t cl = (size_t)strtoul(h + 15, NULL, 10);
            ENSURE(cl <= r->body_len, SIGIL_E_PROTOCOL, "imds: response body truncated");
            r->body_len = cl;
        }
    }
    return 0;
}

/* One request; the body goes to buf (cap bytes, NUL-terminated). 200 only. */
static int exchange(const imds_base *b, const char *method, const char *path, const char *header,
                    char *buf, size_t cap, sigil_buf *body, long timeout_ms)
{
    char req[1024 + GW_IMDS_TOKEN_MAX];
    http_resp r;
    size_t len = 0;
    int fd;
    int n = snprintf(req, sizeof(req),
                     "%s %s HTTP/1.1\r\nHost: %s\r\n%s\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n",
                     method, path, b->hostport, header);
    ENSURE(n > 0 && (size_t)n < sizeof(req), SIGIL_E_INTERNAL, "imds: request too long");
    GUARD(connect_to(&fd, b, timeout_ms));
    int rc = send_all(fd, req, (size_t)n);
    explicit_bzero(req, sizeof(req)); /* the session token */
    rc = rc == 0 ? recv_all(fd, buf, cap, &len) : rc;
    (void)close(fd);
    GUARD(rc);
    GUARD(parse_response(&r, buf, len));
    ENSURE(r.status == 200, SIGIL_E_UNAVAILABLE, "imds: %s %s: HTTP %d", method, path, r.status);
    sigil_buf_init(body, (void *)(uintptr_t)r.body, r.body_len);
    body->len = r.body_len;
    return 0;
}

/* ---- parsing what IMDS returns ---- */
int gw_imds_parse_time(time_t *out, const char *s, size_t n)
{
    struct tm tm = {0};
    char tmp[21];
    ENSURE(n == 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' &&
               s[19] == 'Z',
           SIGIL_E_BAD_FIELD, "imds: Expiration: expected YYYY-MM-DDTHH:MM:SSZ");
    memcpy(tmp, s, 20);
    tmp[20] = '\0';
    const char *end = strptime(tmp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    ENSURE(end != NULL && *end == '\0', SIGIL_E_BAD_FIELD,
           "imds: Expiration: expected YYYY-MM-DDTHH:MM:SSZ");
    *out = timegm(&tm);
    return 0;
}

static int copy_member(char *out, size_t cap, const sigil_json *d, const char *name, bool required,
                       const char *where)
{
    uint32_t t;
    sigil_buf b;
    GUARD(sigil_json_get_str(d, 0, name, required, &t, where));
    out[0] = '\0';
    if (t == 0)
        return 0;
    sigil_buf_init(&b, out, cap - 1);
    ENSURE(sigil_json_str(d, t, &b) == 0, SIGIL_E_BAD_FIELD, "%s.%s: too long or malformed", where,
           name);
    out[b.len] = '\0';
    for (size_t i = 0; i < b.len; i++)
        ENSURE(out[i] > 0x20 && out[i] < 0x7f, SIGIL_E_BAD_FIELD, "%s.%s: not printable ASCII",
               where, name);
    ENSURE(b.len > 0 || !required, SIGIL_E_BAD_FIELD, "%s.%s: empty", where, name);
    return 0;
}

/* {Code, LastUpdated, Type, AccessKeyId, SecretAccessKey, Token, Expiration} */
int gw_imds_parse_creds(gw_imds_creds *out, const char *json, size_t len)
{
    static const char W[] = "imds credentials";
    sigil_json_tok toks[64];
    sigil_json d;
    char code[32] = {0}, expiration[32] = {0};
    GUARD(sigil_json_parse(&d, json, len, toks, SIGIL_ARRAY_LEN(toks)));
    GUARD(copy_member(code, sizeof(code), &d, "Code", false, W));
    ENSURE(code[0] == '\0' || strcmp(code, "Success") == 0, SIGIL_E_UNAVAILABLE,
           "imds: the role's credentials are not available (Code %s)", code);
    GUARD(copy_member(out->access_key_id, sizeof(out->access_key_id), &d, "AccessKeyId", true, W));
    GUARD(copy_member(out->secret_access_key, sizeof(out->secret_access_key), &d, "SecretAccessKey",
                      true, W));
    GUARD(copy_member(out->session_token, sizeof(out->session_token), &d, "Token", true, W));
    GUARD(copy_member(expiration, sizeof(expiration), &d, "Expiration", true, W));
    return gw_imds_parse_time(&out->expiration, expiration, strlen(expiration));
}

/* The instance identity document: only its region is used. */
int gw_imds_parse_region(char *out, size_t cap, const char *json, size_t len)
{
    sigil_json_tok toks[256];
    sigil_json d;
    GUARD(sigil_json_parse(&d, json, len, toks, SIGIL_ARRAY_LEN(toks)));
    return copy_member(out, cap, &d, "region", true, "imds identity document");
}

/* The first line of the role listing; IAM role names are [\w+=,.@-]. */
static int first_role(char *out, size_t cap, const sigil_buf *body)
{
    size_t n = 0;
    while (n < body->len && body->data[n] != '\n' && body->data[n] != '\r')
        n++;
    ENSURE(n > 0 && n < cap, SIGIL_E_UNAVAILABLE, "imds: no instance role attached");
    for (size_t i = 0; i < n; i++) {
        char c = (char)body->data[i];
        ENSURE((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   strchr("_+=,.@-", c) != NULL,
               SIGIL_E_PROTOCOL, "imds: malformed role name");
    }
    memcpy(out, body->data, n);
    out[n] = '\0';
    return 0;
}

static int fetch_steps(gw_imds_creds *out, const imds_base *b, long timeout_ms, char *buf,
                       char *token, char *header)
{
    static const char CREDS[] = "/latest/meta-data/iam/security-credentials/";
    char role[128], path[sizeof(CREDS) + sizeof(role)];
    sigil_buf body;
    GUARD(exchange(b, "PUT", "/latest/api/token",
                   "X-aws-ec2-metadata-token-ttl-seconds: " TOKEN_TTL, buf, RESP_MAX, &body,
                   timeout_ms));
    ENSURE(body.len > 0 && body.len < GW_IMDS_TOKEN_MAX, SIGIL_E_PROTOCOL,
           "imds: session token of %zu bytes", body.len);
    memcpy(token, body.data, body.len);
    token[body.len] = '\0';
    for (size_t i = 0; i < body.len; i++)
        ENSURE(token[i] > 0x20 && token[i] < 0x7f, SIGIL_E_PROTOCOL, "imds: malformed token");
    snprintf(header, GW_IMDS_TOKEN_MAX + 64, "X-aws-ec2-metadata-token: %s", token);
    GUARD(exchange(b, "GET", CREDS, header, buf, RESP_MAX, &body, timeout_ms));
    GUARD(first_role(role, sizeof(role), &body));
    snprintf(path, sizeof(path), "%s%s", CREDS, role);
    GUARD(exchange(b, "GET", path, header, buf, RESP_MAX, &body, timeout_ms));
    GUARD(gw_imds_parse_creds(out, (const char *)body.data, body.len));
    GUARD(exchange(b, "GET", "/latest/dynamic/instance-identity/document", header, buf, RESP_MAX,
                   &body, timeout_ms));
    return gw_imds_parse_region(out->region, sizeof(out->region), (const char *)body.data,
                                body.len);
}

int gw_imds_fetch(gw_imds_creds *out, const char *base_url, long timeout_ms)
{
    imds_base b;
    memset(out, 0, sizeof(*out));
    GUARD(parse_base(&b, base_url));
    char *buf = malloc(RESP_MAX), *token = malloc(GW_IMDS_TOKEN_MAX),
         *header = malloc(GW_IMDS_TOKEN_MAX + 64);
    int rc = buf != NULL && token != NULL && header != NULL
                 ? fetch_steps(out, &b, timeout_ms, buf, token, header)
                 : sigil_fail(SIGIL_E_NO_MEMORY, "imds: out of memory");
    if (buf != NULL)
        explicit_bzero(buf, RESP_MAX);
    if (token != NULL)
        explicit_bzero(token, GW_IMDS_TOKEN_MAX);
    if (header != NULL)
        explicit_bzero(header, GW_IMDS_TOKEN_MAX + 64);
    free(buf);
    free(token);
    free(header);
    if (rc != 0)
        explicit_bzero(out, sizeof(*out));
    return rc;
}

/* ---- when to fetch again ---- */
uint64_t gw_imds_refresh_delay_ms(time_t now, time_t expiration)
{
    int64_t left = (int64_t)expiration - (int64_t)now;
    int64_t d = left * 4 / 5; /* at 80 % of what is left */
    if (left > 2 * REFRESH_MARGIN_S && d > left - REFRESH_MARGIN_S)
        d = left - REFRESH_MARGIN_S; /* and 15 minutes ahead at the latest */
    return d < 1 ? 1000u : (uint64_t)d * 1000u;
}
