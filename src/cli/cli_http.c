/*
 * HTTP to the gateway for the CLI (untrusted host code): --gateway and
 * --token checks, one libcurl request with its response in a bounded buffer,
 * and the gateway's error body relayed as this process's error. A bearer
 * token passes through here; no other secret does.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "sigil/codec.h"

#define CONNECT_TIMEOUT_S 10L
#define ERROR_BODY_TOKENS 64
#define ERROR_TEXT_MAX 256

/* URL and token go into an HTTP request: no whitespace or control bytes. */
static int check_text(const char *s, size_t max, const char *opt)
{
    size_t n = strnlen(s, max + 1);
    ENSURE(n > 0 && n <= max, SIGIL_E_USAGE, "%s: empty or longer than %zu bytes", opt, max);
    for (size_t i = 0; i < n; i++)
        ENSURE(s[i] > 0x20 && s[i] < 0x7f, SIGIL_E_USAGE,
               "%s: only printable ASCII without spaces is allowed", opt);
    return 0;
}

int cli_http_gateway(char *base, size_t cap, const char *gateway, size_t max)
{
    GUARD(check_text(gateway, max, "--gateway"));
    ENSURE(strncmp(gateway, "https://", 8) == 0 || strncmp(gateway, "http://", 7) == 0,
           SIGIL_E_USAGE, "--gateway: expected an http:// or https:// URL");
    ENSURE(strpbrk(gateway, "?#") == NULL, SIGIL_E_USAGE,
           "--gateway: a base URL without query or fragment is expected");
    size_t n = strlen(gateway);
    while (n > 0 && gateway[n - 1] == '/')
        n--;
    (void)snprintf(base, cap, "%.*s", (int)n, gateway);
    return 0;
}

int cli_http_bearer(char out[CLI_HTTP_AUTH_MAX], const char *token)
{
    GUARD(check_text(token, CLI_HTTP_TOKEN_MAX, "--token"));
    (void)snprintf(out, CLI_HTTP_AUTH_MAX, "Authorization: Bearer %s", token);
    return 0;
}

static size_t sink_write(char *p, size_t size, size_t n, void *user)
{
    cli_http_sink *s = user;
    size_t k = size * n;
    if (k > s->cap - s->len) {
        s->overflow = true;
        return 0; /* aborts the transfer */
    }
    memcpy(s->data + s->len, p, k);
    s->len += k;
    return k;
}

static struct curl_slist *request_headers(const cli_http_request *req)
{
    const char *lines[] = {"Accept: application/json", req->auth,
                           req->body != NULL ? "Content-Type: application/json" : NULL};
    struct curl_slist *hdr = NULL;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(lines); i++) {
        if (lines[i] == NULL)
            continue;
        struct curl_slist *more = curl_slist_append(hdr, lines[i]);
        if (more == NULL) {
            curl_slist_free_all(hdr);
            return NULL;
        }
        hdr = more;
    }
    return hdr;
}

static void set_options(CURL *h, const cli_http_request *req, struct curl_slist *hdr,
                        cli_http_sink *sink, char *errbuf)
{
    (void)curl_easy_setopt(h, CURLOPT_URL, req->url);
    (void)curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    (void)curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    (void)curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (req->connect_timeout)
        (void)curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    (void)curl_easy_setopt(h, CURLOPT_TIMEOUT, req->timeout_s);
    (void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    (void)curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
    (void)curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
    (void)curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (req->cacert != NULL)
        (void)curl_easy_setopt(h, CURLOPT_CAINFO, req->cacert);
    if (req->body != NULL || req->method != NULL) {
        (void)curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
        (void)curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    if (req->method != NULL)
        (void)curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
}

int cli_http_send(long *status, cli_http_sink *sink, const cli_http_request *req)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    *status = 0;
    CURL *h = curl_easy_init();
    ENSURE(h != NULL, SIGIL_E_NO_MEMORY, "cannot initialise libcurl");
    struct curl_slist *hdr = request_headers(req);
    CURLcode rc = hdr == NULL ? CURLE_OUT_OF_MEMORY : CURLE_OK;
    if (rc == CURLE_OK) {
        set_options(h, req, hdr, sink, errbuf);
        rc = curl_easy_perform(h);
    }
    if (rc == CURLE_OK)
        (void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    ENSURE(!sink->overflow, SIGIL_E_TOO_LARGE, "gateway: response larger than %zu bytes",
           sink->cap);
    ENSURE(rc == CURLE_OK, rc == CURLE_OPERATION_TIMEDOUT ? SIGIL_E_TIMEOUT : SIGIL_E_UNAVAILABLE,
           "gateway: %s", errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
    return 0;
}

/* An error body {"error":{"code","message"}} becomes this process's error;
 * the message is the gateway's, reduced to printable ASCII. */
static int relay_error(long status, const cli_http_sink *s)
{
    sigil_json_tok toks[ERROR_BODY_TOKENS];
    sigil_json d;
    uint32_t err, code, msg;
    char text[ERROR_TEXT_MAX] = "";
    if (sigil_json_parse(&d, s->data, s->len, toks, ERROR_BODY_TOKENS) != 0 ||
        (err = sigil_json_get(&d, 0, "error")) == 0 ||
        (code = sigil_json_get(&d, err, "code")) == 0 ||
        sigil_json_type_of(&d, code) != SIGIL_JSON_STRING)
        BAIL(SIGIL_E_PROTOCOL, "gateway: HTTP %ld without an error body", status);
    msg = sigil_json_get(&d, err, "message");
    if (msg != 0 && sigil_json_type_of(&d, msg) == SIGIL_JSON_STRING) {
        sigil_slice m = sigil_json_raw(&d, msg);
        size_t n = 0;
        for (size_t i = 0; i < m.len && n + 1 < sizeof(text); i++)
            text[n++] = (char)((m.p[i] >= 0x20 && m.p[i] < 0x7f) ? m.p[i] : '?');
        text[n] = '\0';
    }
    sigil_slice cs = sigil_json_raw(&d, code);
    BAIL(sigil_err_from_code(cs.p, cs.len), "gateway: HTTP %ld: %s", status, text);
}

int cli_http_call(cli_http_sink *sink, const cli_http_request *req)
{
    long status;
    GUARD(cli_http_send(&status, sink, req));
    if (status < 200 || status > 299)
        return relay_error(status, sink);
    return 0;
}
