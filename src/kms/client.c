/*
 * KMS client (trusted: holds AWS credentials and returns data keys in locked
 * memory). AWS JSON 1.1 over HTTPS with libcurl (OpenSSL), SigV4 signed, the
 * same code for AWS KMS and sigil-kms. TLS is what makes a
 * CiphertextForRecipient trustworthy (anyone can encrypt to the Recipient's
 * public key), so peer and host verification are always on. With a proxy
 * (the parent's vsock-proxy), libcurl's socket comes from our factory and
 * TLS still names the real endpoint. Throttling, 5xx and connection
 * failures are retried with jittered backoff (retry.c).
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kms/kms_internal.h"
#include "sigil/codec.h"

#define DEFAULT_TIMEOUT_MS 5000
#define REQ_MAX 24576  /* base64 of a 12 KB attestation document and some */
#define RESP_MAX 32768 /* responses are small; a larger one is refused */
#define HOST_MAX 256
#define RESP_TOKENS 64

struct sigil_kms_client {
    pthread_mutex_t io_lock; /* the easy handle and the buffers */
    pthread_mutex_t creds_lock;
    CURL *curl;
    char url[HOST_MAX + 32];
    char host_header[HOST_MAX + 16]; /* the Host value we sign and send */
    char connect_to[2 * HOST_MAX + 32];
    struct curl_slist *connect_list;
    struct curl_slist *resolve_list; /* proxy: a placeholder address, so no DNS */
    bool has_proxy;
    sigil_kms_proxy proxy;
    char sock_err[160]; /* why the socket factory failed (for the error message) */
    bool transient;     /* the last transfer failed in a way worth retrying */
    sigil_kms_retry retry;
    char *ca_file;
    long timeout_ms;
    sigil_aws_creds creds;
    bool has_creds;
    char req[REQ_MAX];
    sigil_secret resp; /* locked: a response without Recipient carries Plaintext */
    bool resp_overflow;
};

/* ---- endpoint ---- */
typedef struct {
    char host[HOST_MAX];
    unsigned port;
} endpoint;

static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

/* "https://host[:port][/]": hostnames and IPv4 only, no user info, no path. */
static int parse_endpoint(endpoint *e, const char *url, const char *what)
{
    static const char scheme[] = "https://";
    size_t n = strnlen(url, HOST_MAX + 16), i = sizeof(scheme) - 1, h = 0;
    ENSURE(n > i && strncmp(url, scheme, i) == 0, SIGIL_E_USAGE, "%s: must start with https://",
           what);
    while (i < n && host_char(url[i]) && h + 1 < sizeof(e->host))
        e->host[h++] = url[i++];
    e->host[h] = 0;
    ENSURE(h > 0, SIGIL_E_USAGE, "%s: missing host", what);
    e->port = 443;
    if (i < n && url[i] == ':') {
        unsigned p = 0;
        size_t d = 0;
        for (i++; i < n && url[i] >= '0' && url[i] <= '9' && d < 6; i++, d++)
            p = p * 10 + (unsigned)(url[i] - '0');
        ENSURE(d > 0 && p > 0 && p < 65536, SIGIL_E_USAGE, "%s: bad port", what);
        e->port = p;
    }
    if (i < n && url[i] == '/')
        i++;
    ENSURE(i == n, SIGIL_E_USAGE, "%s: only https://host[:port] is accepted", what);
    return 0;
}

/* With a proxy every connection goes to it; curl still wants an address
 * for the name, and an enclave has no DNS, so it gets a placeholder. */
static int client_setup_proxy(sigil_kms_client *c, const endpoint *tls, const char *proxy)
{
    char line[HOST_MAX + 32];
    GUARD(sigil_kms_proxy_parse(&c->proxy, proxy));
    c->has_proxy = true;
    snprintf(line, sizeof(line), "%s:%u:127.0.0.1", tls->host, tls->port);
    c->resolve_list = curl_slist_append(NULL, line);
    ENSURE(c->resolve_list != NULL, SIGIL_E_NO_MEMORY, "kms: no memory");
    return 0;
}

static int client_setup_names(sigil_kms_client *c, const sigil_kms_config *cfg,
                              const sigil_kms_options *opt)
{
    endpoint ep, tls;
    char derived[SIGIL_KMS_URL_MAX];
    const char *url = cfg->endpoint;
    if (url == NULL) {
        GUARD(sigil_kms_region_endpoint(derived, sizeof(derived), opt->region));
        url = derived;
    }
    GUARD(parse_endpoint(&ep, url, "kms endpoint"));
    tls = ep;
    if (cfg->tls_name != NULL && cfg->tls_name[0] != 0) {
        char tmp[HOST_MAX + 16];
        snprintf(tmp, sizeof(tmp), "https://%s", cfg->tls_name);
        GUARD(parse_endpoint(&tls, tmp, "kms tls_name"));
        tls.port = ep.port;
    }
    /* The URL names the TLS host (SNI, certificate check, Host header);
     * CONNECT_TO sends the bytes to the endpoint's address. */
    snprintf(c->url, sizeof(c->url), "https://%s:%u/", tls.host, tls.port);
    if (tls.port == 443)
        snprintf(c->host_header, sizeof(c->host_header), "%s", tls.host);
    else
        snprintf(c->host_header, sizeof(c->host_header), "%s:%u", tls.host, tls.port);
    if (opt->proxy != NULL)
        return client_setup_proxy(c, &tls, opt->proxy);
    if (strcmp(tls.host, ep.host) != 0) {
        snprintf(c->connect_to, sizeof(c->connect_to), "%s:%u:%s:%u", tls.host, tls.port, ep.host,
                 ep.port);
        c->connect_list = curl_slist_append(NULL, c->connect_to);
        ENSURE(c->connect_list != NULL, SIGIL_E_NO_MEMORY, "kms: no memory");
    }
    return 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    sigil_kms_client *c = ud;
    size_t n = size * nmemb;
    if (n > c->resp.cap - c->resp.len) {
        c->resp_overflow = true;
        return 0; /* aborts the transfer */
    }
    memcpy(c->resp.p + c->resp.len, p, n);
    c->resp.len += n;
    return n;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The socket factory: a socket already connected to the proxy, whatever
 * address curl resolved; its family follows the proxy's kind. */
static curl_socket_t open_proxy_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
    sigil_kms_client *c = ud;
    int fd;
    (void)addr;
    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKET_BAD;
    if (sigil_kms_proxy_connect(&fd, &c->proxy, c->timeout_ms) != 0) {
        snprintf(c->sock_err, sizeof(c->sock_err), "%s", sigil_errmsg());
        return CURL_SOCKET_BAD;
    }
    return fd;
}

static int proxy_socket_ready(void *ud, curl_socket_t fd, curlsocktype purpose)
{
    (void)ud;
    (void)fd;
    (void)purpose;
    return CURL_SOCKOPT_ALREADY_CONNECTED;
}

static bool client_setup_proxy_curl(sigil_kms_client *c)
{
    CURL *k = c->curl;
    return curl_easy_setopt(k, CURLOPT_RESOLVE, c->resolve_list) == CURLE_OK &&
           curl_easy_setopt(k, CURLOPT_OPENSOCKETFUNCTION, open_proxy_socket) == CURLE_OK &&
           curl_easy_setopt(k, CURLOPT_OPENSOCKETDATA, c) == CURLE_OK &&
           curl_easy_setopt(k, CURLOPT_SOCKOPTFUNCTION, proxy_socket_ready) == CURLE_OK &&
           curl_easy_setopt(k, CURLOPT_SOCKOPTDATA, c) == CURLE_OK;
}

static int client_setup_curl(sigil_kms_client *c)
{
    CURL *k = c->curl;
    bool ok = curl_easy_setopt(k, CURLOPT_URL, c->url) == CURLE_OK &&
              curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
              curl_easy_setopt(k, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
              curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              curl_easy_setopt(k, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
              curl_easy_setopt(k, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
              curl_easy_setopt(k, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) == CURLE_OK &&
              curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, c->timeout_ms) == CURLE_OK &&
              curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms) == CURLE_OK &&
              curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
              curl_easy_setopt(k, CURLOPT_WRITEDATA, c) == CURLE_OK &&
              curl_easy_setopt(k, CURLOPT_POST, 1L) == CURLE_OK;
    if (ok && c->ca_file != NULL)
        ok = curl_easy_setopt(k, CURLOPT_CAINFO, c->ca_file) == CURLE_OK;
    if (ok && c->connect_list != NULL)
        ok = curl_easy_setopt(k, CURLOPT_CONNECT_TO, c->connect_list) == CURLE_OK;
    if (ok && c->has_proxy)
        ok = client_setup_proxy_curl(c);
    ENSURE(ok, SIGIL_E_INTERNAL, "kms: libcurl refused an option (needs TLS support)");
    return 0;
}

int sigil_kms_client_new(sigil_kms_client **out, const sigil_kms_config *cfg)
{
    return sigil_kms_client_new_ex(out, cfg, NULL);
}

int sigil_kms_client_new_ex(sigil_kms_client **out, const sigil_kms_config *cfg,
                            const sigil_kms_options *opt)
{
    static const sigil_kms_options NONE = {0};
    *out = NULL;
    opt = opt != NULL ? opt : &NONE;
    ENSURE(cfg != NULL && (cfg->endpoint != NULL || opt->region != NULL), SIGIL_E_USAGE,
           "kms endpoint: required (or a region)");
    ENSURE(cfg->timeout_ms >= 0 && cfg->timeout_ms <= 600000, SIGIL_E_USAGE,
           "kms timeout_ms: 0..600000");
    pthread_once(&curl_once, curl_init_once);
    ENSURE(curl_init_rc == CURLE_OK, SIGIL_E_INTERNAL, "kms: libcurl initialisation failed");
    sigil_kms_client *c = calloc(1, sizeof(*c));
    ENSURE(c != NULL, SIGIL_E_NO_MEMORY, "kms: no memory");
    pthread_mutex_init(&c->io_lock, NULL);
    pthread_mutex_init(&c->creds_lock, NULL);
    c->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    c->retry = opt->retry != NULL ? *opt->retry
                                  : (sigil_kms_retry){.max_retries = SIGIL_KMS_RETRY_MAX_RETRIES,
                                                      .base_ms = SIGIL_KMS_RETRY_BASE_MS,
                                                      .cap_ms = SIGIL_KMS_RETRY_CAP_MS,
                                                      .budget_ms = SIGIL_KMS_RETRY_BUDGET_MS};
    int rc = client_setup_names(c, cfg, opt);
    if (rc == 0 && cfg->ca_file != NULL && (c->ca_file = strdup(cfg->ca_file)) == NULL)
        rc = sigil_fail(SIGIL_E_NO_MEMORY, "kms: no memory");
    if (rc == 0 && (c->curl = curl_easy_init()) == NULL)
        rc = sigil_fail(SIGIL_E_NO_MEMORY, "kms: cannot create a libcurl handle");
    rc = rc == 0 ? sigil_secret_alloc(&c->resp, RESP_MAX) : rc;
    rc = rc == 0 ? client_setup_curl(c) : rc;
    if (rc != 0) {
        sigil_kms_client_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

void sigil_kms_client_free(sigil_kms_client *c)
{
    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->connect_list);
    curl_slist_free_all(c->resolve_list);
    free(c->ca_file);
    sigil_aws_creds_clear(&c->creds);
    sigil_secret_free(&c->resp);
    sigil_wipe(c->req, sizeof(c->req));
    pthread_mutex_destroy(&c->io_lock);
    pthread_mutex_destroy(&c->creds_lock);
    free(c);
}

int sigil_kms_client_set_creds(sigil_kms_client *c, const sigil_aws_creds *creds)
{
    sigil_aws_creds fresh = {0};
    GUARD(sigil_aws_creds_copy(&fresh, creds));
    pthread_mutex_lock(&c->creds_lock);
    sigil_aws_creds_clear(&c->creds);
    c->creds = fresh; /* the struct moves; its secret pages stay where they are */
    c->has_creds = true;
    pthread_mutex_unlock(&c->creds_lock);
    return 0;
}

/* ---- one call ---- */
typedef struct {
    sigil_sigv4_signature sig;
    char *token; /* x-amz-security-token value (malloc'd) or NULL */
} signed_call;

/* Signs under the credentials lock, so a credential push mid-call is
 * either fully before or fully after. */
static int sign_call(sigil_kms_client *c, signed_call *sc, const char *target, size_t body_len)
{
    char clen[24];
    snprintf(clen, sizeof(clen), "%zu", body_len);
    sigil_http_header hs[] = {
        {{"content-length", 14}, {clen, strlen(clen)}},
        {{"content-type", 12}, {"application/x-amz-json-1.1", 26}},
        {{"host", 4}, {c->host_header, strlen(c->host_header)}},
        {{"x-amz-target", 12}, {target, strlen(target)}},
    };
    sigil_sigv4_request req = {"POST",   "/",  "", hs, SIGIL_ARRAY_LEN(hs), (const uint8_t *)c->req,
                               body_len, "kms"};
    sigil_sigv4_options opt = {.content_sha256 = true, .security_token = true};
    int rc;
    pthread_mutex_lock(&c->creds_lock);
    if (!c->has_creds)
        rc = sigil_fail(SIGIL_E_KEY_SERVICE, "kms: no AWS credentials set");
    else
        rc = sigil_sigv4_sign(&sc->sig, &c->creds, &req, &opt, time(NULL));
    if (rc == 0 && c->creds.session_token != NULL &&
        (sc->token = strdup(c->creds.session_token)) == NULL)
        rc = sigil_fail(SIGIL_E_NO_MEMORY, "kms: no memory");
    pthread_mutex_unlock(&c->creds_lock);
    return rc;
}

static int add_header(struct curl_slist **l, const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 3;
    char *line = malloc(n);
    ENSURE(line != NULL, SIGIL_E_NO_MEMORY, "kms: no memory");
    snprintf(line, n, "%s: %s", name, value);
    struct curl_slist *nl = curl_slist_append(*l, line);
    sigil_wipe(line, n);
    free(line);
    ENSURE(nl != NULL, SIGIL_E_NO_MEMORY, "kms: no memory");
    *l = nl;
    return 0;
}

static void free_headers(struct curl_slist *l)
{
    for (struct curl_slist *p = l; p != NULL; p = p->next)
        sigil_wipe(p->data, strlen(p->data)); /* the token and signature */
    curl_slist_free_all(l);
}

static int build_headers(struct curl_slist **l, sigil_kms_client *c, const signed_call *sc,
                         const char *target)
{
    GUARD(add_header(l, "Host", c->host_header));
    GUARD(add_header(l, "Content-Type", "application/x-amz-json-1.1"));
    GUARD(add_header(l, "X-Amz-Target", target));
    GUARD(add_header(l, "X-Amz-Date", sc->sig.amz_date));
    GUARD(add_header(l, "X-Amz-Content-Sha256", sc->sig.content_sha256));
    if (sc->token != NULL)
        GUARD(add_header(l, "X-Amz-Security-Token", sc->token));
    GUARD(add_header(l, "Authorization", sc->sig.authorization));
    GUARD(add_header(l, "Expect", "")); /* no 100-continue round trip */
    return add_header(l, "Accept", "application/json");
}

/* Failures of the connection, not of the TLS peer's identity: another
 * attempt may get through. */
static const CURLcode TRANSIENT[] = {
    CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT,   CURLE_OPERATION_TIMEDOUT,
    CURLE_SEND_ERROR,           CURLE_RECV_ERROR,        CURLE_GOT_NOTHING,
    CURLE_PARTIAL_FILE,         CURLE_SSL_CONNECT_ERROR,
};

static bool transient_curl(CURLcode cc)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(TRANSIENT); i++)
        if (cc == TRANSIENT[i])
            return true;
    return false;
}

static int transfer(sigil_kms_client *c, long *status, struct curl_slist *hl, size_t body_len)
{
    char errbuf[CURL_ERROR_SIZE] = {0};
    c->resp.len = 0;
    c->resp_overflow = false;
    c->sock_err[0] = '\0';
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, c->req);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)body_len);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode cc = curl_easy_perform(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
    ENSURE(!c->resp_overflow, SIGIL_E_KEY_SERVICE, "kms: response larger than %d bytes", RESP_MAX);
    if (cc != CURLE_OK) {
        c->transient = transient_curl(cc);
        BAIL(SIGIL_E_KEY_SERVICE, "kms: unreachable: %s%s%s%s%s", curl_easy_strerror(cc),
             errbuf[0] ? ": " : "", errbuf, c->sock_err[0] ? ": " : "", c->sock_err);
    }
    ENSURE(curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status) == CURLE_OK,
           SIGIL_E_KEY_SERVICE, "kms: no HTTP status");
    return 0;
}

/* POSTs c->req[0..body_len) to TrentService.<op>; *status gets the HTTP
 * status and c->resp the body. Called with io_lock held. */
static int perform(sigil_kms_client *c, long *status, const char *target, size_t body_len)
{
    signed_call sc = {0};
    struct curl_slist *hl = NULL;
    int rc = sign_call(c, &sc, target, body_len);
    rc = rc == 0 ? build_headers(&hl, c, &sc, target) : rc;
    if (sc.token != NULL) {
        sigil_wipe(sc.token, strlen(sc.token));
        free(sc.token);
    }
    sigil_wipe(&sc.sig, sizeof(sc.sig));
    rc = rc == 0 ? transfer(c, status, hl, body_len) : rc;
    free_headers(hl);
    return rc;
}

/* ---- request bodies ---- */
static int jw_b64(sigil_jw *w, const char *key, const uint8_t *p, size_t n)
{
    static _Thread_local char text[SIGIL_B64_LEN(REQ_MAX) + 3];
    sigil_buf b;
    sigil_buf_init(&b, text, sizeof(text));
    GUARD(sigil_buf_putc(&b, '"'));
    GUARD(sigil_b64_put(&b, p, n, SIGIL_B64_STD));
    GUARD(sigil_buf_putc(&b, '"'));
    GUARD(sigil_jw_key(w, key));
    return sigil_jw_raw(w, text, b.len);
}

static int jw_recipient(sigil_jw *w, const uint8_t *doc, size_t doc_len)
{
    if (doc == NULL)
        return 0;
    GUARD(sigil_jw_key(w, "Recipient"));
    GUARD(sigil_jw_obj_begin(w));
    GUARD(sigil_jw_key(w, "KeyEncryptionAlgorithm"));
    GUARD(sigil_jw_str(w, "RSAES_OAEP_SHA_256"));
    GUARD(jw_b64(w, "AttestationDocument", doc, doc_len));
    return sigil_jw_obj_end(w);
}

static int body_generate(sigil_kms_client *c, size_t *len, const char *key_id, const uint8_t *doc,
                         size_t doc_len)
{
    sigil_buf b;
    sigil_jw w;
    sigil_buf_init(&b, c->req, sizeof(c->req));
    sigil_jw_init(&w, &b);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "KeyId"));
    GUARD(sigil_jw_str(&w, key_id));
    GUARD(sigil_jw_key(&w, "KeySpec"));
    GUARD(sigil_jw_str(&w, "AES_256"));
    GUARD(jw_recipient(&w, doc, doc_len));
    GUARD(sigil_jw_obj_end(&w));
    *len = b.len;
    return 0;
}

static int body_decrypt(sigil_kms_client *c, size_t *len, const uint8_t *blob, size_t blob_len,
                        const uint8_t *doc, size_t doc_len)
{
    sigil_buf b;
    sigil_jw w;
    sigil_buf_init(&b, c->req, sizeof(c->req));
    sigil_jw_init(&w, &b);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(jw_b64(&w, "CiphertextBlob", blob, blob_len));
    GUARD(jw_recipient(&w, doc, doc_len));
    GUARD(sigil_jw_obj_end(&w));
    *len = b.len;
    return 0;
}

/* ---- responses ---- */
/* Printable ASCII, bounded: service text goes into our error messages. */
static void clean_text(char *out, size_t cap, sigil_slice s)
{
    size_t i = 0;
    for (; i < s.len && i + 1 < cap; i++)
        out[i] = (char)((s.p[i] >= 0x20 && s.p[i] < 0x7f) ? s.p[i] : '?');
    out[i] = 0;
}

static sigil_slice error_member(const sigil_json *d, const char *a, const char *b)
{
    uint32_t t = sigil_json_get(d, 0, a);
    if (t == 0)
        t = sigil_json_get(d, 0, b);
    if (t == 0 || sigil_json_type_of(d, t) != SIGIL_JSON_STRING)
        return (sigil_slice){"", 0};
    return sigil_json_raw(d, t);
}

/* Non-200: {"__type": "[namespace#]Name", "message": "…"}, reported as
 * the class of its type (retry.c), which also says whether to retry. */
static int service_error(sigil_kms_client *c, long status)
{
    sigil_json_tok toks[RESP_TOKENS];
    sigil_json d;
    char type[96], msg[320];
    if (sigil_json_parse(&d, (const char *)c->resp.p, c->resp.len, toks, RESP_TOKENS) != 0 ||
        sigil_json_type_of(&d, 0) != SIGIL_JSON_OBJECT) {
        c->transient = sigil_kms_classify_error(NULL, status).retryable;
        BAIL(SIGIL_E_KEY_SERVICE, "kms: HTTP %ld with an unreadable error body", status);
    }
    sigil_slice t = error_member(&d, "__type", "code");
    sigil_slice m = error_member(&d, "message", "Message");
    for (size_t i = 0; i < t.len; i++)
        if (t.p[i] == '#') {
            t = (sigil_slice){t.p + i + 1, t.len - i - 1};
            break;
        }
    clean_text(type, sizeof(type), t);
    clean_text(msg, sizeof(msg), m);
    sigil_kms_error_class k = sigil_kms_classify_error(type, status);
    c->transient = k.retryable;
    if (type[0] == '\0')
        BAIL(k.err, "kms: HTTP %ld: %s", status, msg);
    BAIL(k.err, "kms: %s: %s", type, msg);
}

/* Decodes a base64 string member into out (cap bytes), through locked
 * memory when it is escaped. */
static int member_b64(uint8_t *out, size_t cap, size_t *n, const sigil_json *d, uint32_t t,
                      const char *what)
{
    SIGIL_SECRET(tmp);
    sigil_buf b;
    GUARD(sigil_secret_alloc(&tmp, SIGIL_B64_LEN(cap) + 4));
    sigil_buf_init(&b, tmp.p, tmp.cap);
    ENSURE(sigil_json_str(d, t, &b) == 0, SIGIL_E_KEY_SERVICE, "kms: response %s too long", what);
    if (sigil_b64_decode(out, cap, n, (const char *)b.data, b.len, SIGIL_B64_STD, what) != 0)
        BAIL(SIGIL_E_KEY_SERVICE, "kms: response %s is not base64 of at most %zu bytes", what, cap);
    ENSURE(*n > 0, SIGIL_E_KEY_SERVICE, "kms: response %s is empty", what);
    return 0;
}

static int member(uint32_t *t, const sigil_json *d, const char *name, bool required)
{
    *t = sigil_json_get(d, 0, name);
    if (*t != 0 && sigil_json_type_of(d, *t) == SIGIL_JSON_NULL)
        *t = 0;
    ENSURE(*t == 0 || sigil_json_type_of(d, *t) == SIGIL_JSON_STRING, SIGIL_E_KEY_SERVICE,
           "kms: response %s is not a string", name);
    ENSURE(*t != 0 || !required, SIGIL_E_KEY_SERVICE, "kms: response without %s", name);
    return 0;
}

/* Plaintext (no Recipient) or CiphertextForRecipient opened with r. */
static int take_key(sigil_secret *out, const sigil_json *d, const sigil_kms_recipient *r,
                    bool recipient)
{
    uint32_t pt, cfr;
    GUARD(member(&pt, d, "Plaintext", !recipient));
    GUARD(member(&cfr, d, "CiphertextForRecipient", recipient));
    if (!recipient) {
        GUARD(sigil_secret_alloc(out, SIGIL_KMS_PLAINTEXT_MAX));
        if (member_b64(out->p, out->cap, &out->len, d, pt, "Plaintext") != 0) {
            sigil_secret_free(out);
            return -1;
        }
        return 0;
    }
    /* KMS never returns both; a response that does was not made for us. */
    ENSURE(pt == 0, SIGIL_E_KEY_SERVICE,
           "kms: response carries Plaintext although a Recipient was sent");
    uint8_t cms[SIGIL_KMS_CMS_MAX];
    size_t n;
    GUARD(member_b64(cms, sizeof(cms), &n, d, cfr, "CiphertextForRecipient"));
    return sigil_kms_cms_decrypt(out, r, cms, n);
}

/* Members we do not use are ignored: AWS adds response members over time
 * (KeyMaterialId, 2025) and a client must not break on them. */
static int parse_response(sigil_kms_client *c, sigil_json *d, sigil_json_tok *toks)
{
    if (sigil_json_parse(d, (const char *)c->resp.p, c->resp.len, toks, RESP_TOKENS) != 0 ||
        sigil_json_type_of(d, 0) != SIGIL_JSON_OBJECT)
        BAIL(SIGIL_E_KEY_SERVICE, "kms: response is not a JSON object");
    return 0;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(uint32_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000u), .tv_nsec = (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* One signed attempt (each retry is signed afresh: new date, and the
 * credentials pushed meanwhile). */
static int attempt(sigil_kms_client *c, const char *target, size_t body_len)
{
    long status = 0;
    c->transient = false;
    GUARD(perform(c, &status, target, body_len));
    if (status != 200)
        return service_error(c, status);
    return 0;
}

/* The last failure's code and message, with the number of attempts. */
static int give_up(unsigned attempts)
{
    char msg[512];
    sigil_err err = sigil_errno();
    if (attempts <= 1)
        return -1;
    snprintf(msg, sizeof(msg), "%s", sigil_errmsg());
    BAIL(err, "%s (%u attempts)", msg, attempts);
}

static int call(sigil_kms_client *c, const char *target, size_t body_len)
{
    uint64_t start = mono_ms();
    for (unsigned n = 0;; n++) {
        uint32_t delay;
        if (attempt(c, target, body_len) == 0)
            return 0;
        if (!c->transient || !sigil_kms_retry_next(&c->retry, n, mono_ms() - start, &delay))
            return give_up(n + 1);
        sleep_ms(delay);
    }
}

static void wipe_io(sigil_kms_client *c)
{
    sigil_wipe(c->resp.p, c->resp.len);
    c->resp.len = 0;
}

static int check_args(const sigil_kms_recipient *r, const uint8_t *doc, size_t doc_len)
{
    ENSURE(doc == NULL || (doc_len > 0 && r != NULL), SIGIL_E_USAGE,
           "kms: a Recipient needs its key and a non-empty attestation document");
    ENSURE(doc_len <= 16384, SIGIL_E_TOO_LARGE, "kms: attestation document over 16384 bytes");
    return 0;
}

static int generate_locked(sigil_kms_client *c, sigil_secret *pt, sigil_buf *blob_out,
                           const char *key_id, const sigil_kms_recipient *r, const uint8_t *doc,
                           size_t doc_len)
{
    sigil_json_tok toks[RESP_TOKENS];
    sigil_json d;
    uint8_t blob[SIGIL_KMS_CMS_MAX];
    size_t len, blob_len;
    uint32_t t;
    GUARD(body_generate(c, &len, key_id, doc, doc_len));
    GUARD(call(c, "TrentService.GenerateDataKey", len));
    GUARD(parse_response(c, &d, toks));
    GUARD(member(&t, &d, "CiphertextBlob", true));
    GUARD(member_b64(blob, sizeof(blob), &blob_len, &d, t, "CiphertextBlob"));
    GUARD(take_key(pt, &d, r, doc != NULL));
    if (pt->len != 32) {
        sigil_secret_free(pt);
        BAIL(SIGIL_E_KEY_SERVICE, "kms: data key of %zu bytes (AES_256 asked)", pt->len);
    }
    if (sigil_buf_put(blob_out, blob, blob_len) != 0) {
        sigil_secret_free(pt);
        return -1;
    }
    return 0;
}

int sigil_kms_generate_data_key(sigil_kms_client *c, sigil_secret *plaintext, sigil_buf *blob_out,
                                const char *key_id, const sigil_kms_recipient *r,
                                const uint8_t *doc, size_t doc_len)
{
    *plaintext = (sigil_secret){0};
    GUARD(check_args(r, doc, doc_len));
    ENSURE(key_id != NULL && key_id[0] != 0, SIGIL_E_USAGE, "kms: key id required");
    pthread_mutex_lock(&c->io_lock);
    int rc = generate_locked(c, plaintext, blob_out, key_id, r, doc, doc_len);
    wipe_io(c);
    pthread_mutex_unlock(&c->io_lock);
    return rc;
}

static int decrypt_locked(sigil_kms_client *c, sigil_secret *pt, const uint8_t *blob,
                          size_t blob_len, const sigil_kms_recipient *r, const uint8_t *doc,
                          size_t doc_len)
{
    sigil_json_tok toks[RESP_TOKENS];
    sigil_json d;
    size_t len;
    GUARD(body_decrypt(c, &len, blob, blob_len, doc, doc_len));
    GUARD(call(c, "TrentService.Decrypt", len));
    GUARD(parse_response(c, &d, toks));
    return take_key(pt, &d, r, doc != NULL);
}

int sigil_kms_decrypt(sigil_kms_client *c, sigil_secret *plaintext, const uint8_t *blob,
                      size_t blob_len, const sigil_kms_recipient *r, const uint8_t *doc,
                      size_t doc_len)
{
    *plaintext = (sigil_secret){0};
    GUARD(check_args(r, doc, doc_len));
    ENSURE(blob != NULL && blob_len > 0 && blob_len <= SIGIL_KMS_CMS_MAX, SIGIL_E_USAGE,
           "kms: CiphertextBlob of %zu bytes (1..%d)", blob_len, SIGIL_KMS_CMS_MAX);
    pthread_mutex_lock(&c->io_lock);
    int rc = decrypt_locked(c, plaintext, blob, blob_len, r, doc, doc_len);
    wipe_io(c);
    pthread_mutex_unlock(&c->io_lock);
    return rc;
}
