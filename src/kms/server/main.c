/*
 * sigil-kms: the local key service (untrusted host process, dev mode). The
 * subset of the AWS KMS JSON API Sigil uses, over HTTPS (libmicrohttpd),
 * SigV4 authenticated, releasing keys only to attested enclaves whose
 * measurement the key policy pins. See docs/KEY-SERVICE.md.
 *
 *   sigil-kms --state DIR --ready-file FILE [--listen 127.0.0.1:0]
 *             --attestation-root PEM [--max-doc-age 300]
 *   sigil-kms --state DIR pin --image-sha384 HEX96
 */
#include <arpa/inet.h>
#include <limits.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kms/kms_service.h"
#include "sigil/codec.h"

#define EXIT_USAGE 2
#define MAX_HEADERS 32
#define RESP_MAX 32768
#define THREADS 4

typedef struct {
    const char *state;
    const char *ready_file;
    const char *listen;
    const char *root_pem;
    const char *image_sha384;
    long max_doc_age;
    bool pin;
} options;

typedef struct {
    uint8_t body[SIGIL_KMS_BODY_MAX];
    size_t len;
    bool too_large;
    sigil_http_header headers[MAX_HEADERS];
    size_t nheaders;
    bool too_many_headers;
    uint8_t resp_mem[RESP_MAX];
} conn_state;

static void usage(void)
{
    fputs("usage: sigil-kms --state DIR --ready-file FILE [--listen 127.0.0.1:0]\n"
          "                 --attestation-root PEM [--max-doc-age SECONDS]\n"
          "       sigil-kms --state DIR pin --image-sha384 HEX96\n",
          stderr);
}

static int fail_usage(const char *msg)
{
    fprintf(stderr, "sigil-kms: %s\n", msg);
    usage();
    return -1;
}

static int parse_age(long *out, const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end != 0 || v < 1 || v > 86400)
        return fail_usage("--max-doc-age: 1..86400 seconds");
    *out = v;
    return 0;
}

static int parse_args(options *o, int argc, char **argv)
{
    *o = (options){.listen = "127.0.0.1:0", .max_doc_age = 300};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "pin") == 0) {
            o->pin = true;
            continue;
        }
        if (i + 1 >= argc)
            return fail_usage("missing value after an option");
        const char *v = argv[++i];
        if (strcmp(a, "--state") == 0)
            o->state = v;
        else if (strcmp(a, "--ready-file") == 0)
            o->ready_file = v;
        else if (strcmp(a, "--listen") == 0)
            o->listen = v;
        else if (strcmp(a, "--attestation-root") == 0)
            o->root_pem = v;
        else if (strcmp(a, "--image-sha384") == 0)
            o->image_sha384 = v;
        else if (strcmp(a, "--max-doc-age") == 0) {
            if (parse_age(&o->max_doc_age, v) != 0)
                return -1;
        } else
            return fail_usage("unknown option");
    }
    if (o->state == NULL)
        return fail_usage("--state is required");
    if (o->pin)
        return o->image_sha384 ? 0 : fail_usage("pin: --image-sha384 HEX96 is required");
    if (o->ready_file == NULL || o->root_pem == NULL)
        return fail_usage("--ready-file and --attestation-root are required");
    return 0;
}

/* "127.0.0.1:PORT" (IPv4 only: the dev service stays on loopback or a
 * private address the operator names). */
static int parse_listen(struct sockaddr_in *sa, const char *s)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    char *end;
    if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
        return fail_usage("--listen: expected IPv4:PORT");
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    long port = strtol(colon + 1, &end, 10);
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    if (colon[1] == 0 || *end != 0 || port < 0 || port > 65535 ||
        inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return fail_usage("--listen: expected IPv4:PORT");
    sa->sin_port = htons((uint16_t)port);
    return 0;
}

/* ---- HTTP ---- */
static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    conn_state *st = cls;
    (void)kind;
    if (st->nheaders == MAX_HEADERS) {
        st->too_many_headers = true;
        return MHD_NO;
    }
    st->headers[st->nheaders++] =
        (sigil_http_header){{key, strlen(key)}, {value, value ? strlen(value) : 0}};
    return MHD_YES;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status, const void *body,
                                 size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/x-amz-json-1.1");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result respond(struct MHD_Connection *conn, sigil_kms_service *svc, conn_state *st,
                               const char *url, const char *method)
{
    static const char TOO_LARGE[] =
        "{\"__type\":\"ValidationException\",\"message\":\"request body or headers too large\"}";
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, st);
    if (st->too_large || st->too_many_headers) {
        fprintf(stderr, "sigil-kms: - deny: ValidationException: request too large\n");
        return send_json(conn, 400, TOO_LARGE, sizeof(TOO_LARGE) - 1);
    }
    sigil_kms_response resp;
    sigil_buf_init(&resp.body, st->resp_mem, sizeof(st->resp_mem));
    resp.log[0] = 0;
    if (sigil_kms_service_handle(svc, &resp, method, url, st->headers, st->nheaders, st->body,
                                 st->len, time(NULL)) != 0) {
        fprintf(stderr, "sigil-kms: - error: %s\n", sigil_errmsg());
        return MHD_NO;
    }
    fprintf(stderr, "%s\n", resp.log);
    enum MHD_Result ret = send_json(conn, resp.status, resp.body.data, resp.body.len);
    sigil_wipe(st->resp_mem, resp.body.len); /* Plaintext for recipient-less calls */
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    conn_state *st = *con_cls;
    (void)version;
    if (st == NULL) {
        st = calloc(1, sizeof(*st));
        if (st == NULL)
            return MHD_NO;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (*upload_data_size > sizeof(st->body) - st->len)
            st->too_large = true;
        else {
            memcpy(st->body + st->len, upload_data, *upload_data_size);
            st->len += *upload_data_size;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    return respond(conn, cls, st, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    if (*con_cls != NULL) {
        sigil_wipe(*con_cls, sizeof(conn_state));
        free(*con_cls);
        *con_cls = NULL;
    }
}

/* ---- start-up ---- */
static int read_state(sigil_secret *out, const char *dir, const char *name)
{
    char p[PATH_MAX];
    sigil_buf b;
    int n = snprintf(p, sizeof(p), "%s/%s", dir, name);
    ENSURE(n > 0 && (size_t)n < sizeof(p), SIGIL_E_IO, "%s: path too long", name);
    GUARD(sigil_secret_alloc(out, 16384));
    sigil_buf_init(&b, out->p, out->cap - 1);
    GUARD(sigil_kms_read_file(&b, p));
    out->p[b.len] = 0; /* MHD takes PEM as a C string */
    out->len = b.len;
    return 0;
}

static int write_ready(const options *o, const char *absdir, unsigned port)
{
    char url[64], ca[PATH_MAX + 16], creds[PATH_MAX + 32], mem[3 * PATH_MAX + 256];
    sigil_buf b;
    sigil_jw w;
    snprintf(url, sizeof(url), "https://127.0.0.1:%u", port);
    snprintf(ca, sizeof(ca), "%s/tls/ca.pem", absdir);
    snprintf(creds, sizeof(creds), "%s/client-credentials.json", absdir);
    sigil_buf_init(&b, mem, sizeof(mem));
    sigil_jw_init(&w, &b);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "url"));
    GUARD(sigil_jw_str(&w, url));
    GUARD(sigil_jw_key(&w, "ca"));
    GUARD(sigil_jw_str(&w, ca));
    GUARD(sigil_jw_key(&w, "credentials"));
    GUARD(sigil_jw_str(&w, creds));
    GUARD(sigil_jw_key(&w, "key_id"));
    GUARD(sigil_jw_str(&w, SIGIL_KMS_DEFAULT_ALIAS));
    GUARD(sigil_jw_obj_end(&w));
    GUARD(sigil_buf_putc(&b, '\n'));
    return sigil_kms_write_file(o->ready_file, b.data, b.len, 0644);
}

/* key and cert (NUL-terminated PEM) must outlive the daemon. */
static struct MHD_Daemon *start_http(sigil_kms_service *svc, const sigil_secret *key,
                                     const sigil_secret *cert, const struct sockaddr_in *sa)
{
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_TLS | MHD_USE_ERROR_LOG, 0, NULL,
        NULL, on_request, svc, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_HTTPS_MEM_KEY,
        (const char *)key->p, MHD_OPTION_HTTPS_MEM_CERT, (const char *)cert->p,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)THREADS, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)64, MHD_OPTION_END);
    if (d == NULL)
        (void)sigil_fail(SIGIL_E_IO, "cannot start the HTTPS listener");
    return d;
}

/* Serves until SIGINT or SIGTERM. */
static int serve(const options *o, sigil_kms_service *svc, const char *absdir,
                 const struct sockaddr_in *sa)
{
    SIGIL_SECRET(key);
    SIGIL_SECRET(cert);
    sigset_t sigs;
    int sig = 0;
    GUARD(read_state(&key, absdir, "tls/server.key"));
    GUARD(read_state(&cert, absdir, "tls/server.pem"));
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* MHD's threads inherit the mask */
    struct MHD_Daemon *d = start_http(svc, &key, &cert, sa);
    if (d == NULL)
        return -1;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || write_ready(o, absdir, info->port) != 0) {
        MHD_stop_daemon(d);
        ENSURE(info != NULL, SIGIL_E_IO, "cannot read the bound port");
        return -1;
    }
    fprintf(stderr, "sigil-kms: listening on https://127.0.0.1:%u\n", info->port);
    sigwait(&sigs, &sig);
    MHD_stop_daemon(d);
    return 0;
}

static int run_server(const options *o)
{
    struct sockaddr_in sa;
    char absdir[PATH_MAX];
    uint8_t *root = NULL;
    size_t root_len = 0;
    sigil_kms_service *svc = NULL;
    if (parse_listen(&sa, o->listen) != 0)
        return EXIT_USAGE;
    GUARD(sigil_kms_state_init(o->state, NULL));
    ENSURE(realpath(o->state, absdir) != NULL, SIGIL_E_IO, "--state: cannot resolve");
    GUARD(sigil_attest_load_root_pem(&root, &root_len, o->root_pem));
    sigil_kms_service_config cfg = {absdir, root, root_len, o->max_doc_age};
    int rc = sigil_kms_service_new(&svc, &cfg);
    free(root);
    GUARD(rc);
    rc = serve(o, svc, absdir, &sa);
    sigil_kms_service_free(svc);
    return rc;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_args(&o, argc, argv) != 0)
        return EXIT_USAGE;
    if (sigil_init() != 0 || sigil_harden_process() != 0) {
        fprintf(stderr, "sigil-kms: %s\n", sigil_errmsg());
        return 1;
    }
    int rc = o.pin ? sigil_kms_state_pin(o.state, o.image_sha384) : run_server(&o);
    if (rc == EXIT_USAGE)
        return EXIT_USAGE;
    if (rc != 0) {
        fprintf(stderr, "sigil-kms: %s: %s\n", sigil_err_code(sigil_errno()), sigil_errmsg());
        return 1;
    }
    if (o.pin)
        fprintf(stderr, "sigil-kms: key policy pinned to ImageSha384 %.16s...\n", o.image_sha384);
    return 0;
}
