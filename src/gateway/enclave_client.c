/*
 * The gateway's client of the enclave (docs/FRAMES.md). Untrusted host code.
 * --enclave-conns persistent connections; each has a thread that connects,
 * says hello, boots the enclave with the stored seed ciphertext and the
 * key-service credentials, archives the boot document, then reads responses
 * and hands each to the request slot waiting for its id. A connection that
 * drops fails every request in flight on it (never a partial result) and is
 * re-opened with exponential backoff. Requests wait in a fixed pool of
 * slots; a full pool is a clear "unavailable", not unbounded growth.
 * With --kms-credentials imds the credentials come from IMDSv2 (imds.c)
 * and a refresher thread fetches them again before they expire and sends
 * them to every live connection in a second `boot` (which only replaces
 * the key-service credentials).
 * Stored revocations (enclave_revocations.c) are replayed on each
 * connection after `boot` and before it counts as ready; a watcher thread
 * counts them every second and replays them on every ready connection whose
 * count is behind (another gateway stored one).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/gateway.h"

#define SLOTS 1024u   /* requests in flight across all connections */
#define SLOT_BITS 16u /* id = generation << 16 | slot index */
#define BACKOFF_MIN_MS 50u
#define BACKOFF_MAX_MS 2000u
#define HANDSHAKE_TIMEOUT_S 30
#define CRED_MAX GW_IMDS_TOKEN_MAX
#define IMDS_TIMEOUT_MS 2000
#define IMDS_RETRY_MS 30000u /* after a failed refresh, at the latest */
#define CREDS_MIN_LEFT_S 60  /* cached IMDS credentials used at a (re)connect */
#define PUSH_TIMEOUT_US 10000000u
#define REVOCATION_POLL_MS 1000u
#define HANDSHAKE_ID_MAX 60000u /* below 1 << SLOT_BITS: never a slot's id */

typedef enum {
    SLOT_FREE,
    SLOT_WAITING,
    SLOT_DONE,
    SLOT_FAILED,
} slot_state;

typedef struct conn conn;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t id;
    uint64_t gen;
    slot_state state;
    conn *owner;
    sigil_buf *resp;
    sigil_err err;
    char msg[160];
} slot;

struct conn {
    gw_enclave *e;
    unsigned index;
    pthread_t thread;
    pthread_mutex_t wmu; /* guards fd for writers */
    int fd;
    bool live; /* under wmu: handshake done, requests may be written */
    atomic_bool ready;
    uint64_t version;
    uint8_t *rmem;             /* SIGIL_FRAME_MAX: handshake responses */
    sigil_frame_reader reader; /* responses, once the handshake is done */
    uint8_t *wmem;             /* SIGIL_FRAME_MAX: handshake frames */
    char last_logged[512];
    unsigned repeats;
    atomic_uint_fast64_t revocations; /* stored revocations replayed on this connection */
};

typedef struct {
    char access_key_id[256];
    char secret_access_key[256];
    char session_token[CRED_MAX];
    char region[64];
    bool has_session_token;
    bool loaded;
    time_t expiration; /* IMDS credentials; 0: none */
} kms_creds;

struct gw_enclave {
    gw_enclave_config cfg;
    conn *conns;
    slot slots[SLOTS];
    pthread_mutex_t free_mu;
    uint32_t free_stack[SLOTS];
    size_t nfree;
    atomic_uint rr;
    atomic_uint nready;
    pthread_mutex_t stop_mu;
    pthread_cond_t stop_cv;
    bool stopping;
    pthread_mutex_t state_mu; /* down_reason, creds, seed_ct */
    char down_reason[512];
    kms_creds creds;
    uint8_t *seed_ct; /* the seed ciphertext of the last boot (for credential pushes) */
    size_t seed_ct_len;
    bool imds;
    bool has_refresher;
    pthread_t refresher;
    bool has_watcher;
    pthread_t watcher; /* revocations stored by other gateways */
};

/* ---- clocks and condition variables on CLOCK_MONOTONIC ---- */
static void cond_init_mono(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    (void)pthread_condattr_init(&a);
    (void)pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    (void)pthread_cond_init(cv, &a);
    (void)pthread_condattr_destroy(&a);
}

static struct timespec mono_at(uint64_t us)
{
    struct timespec ts = {.tv_sec = (time_t)(us / 1000000u),
                          .tv_nsec = (long)(us % 1000000u) * 1000};
    return ts;
}

/* ---- results ---- */
int gw_result_read(const sigil_frame *f, const gw_field *spec, size_t n, gw_value *vals)
{
    ENSURE(f->kind == SIGIL_FRAME_RESULT, SIGIL_E_PROTOCOL, "enclave: expected a result frame");
    if (sigil_frame_fields(f->body, spec, n, vals, SIGIL_E_PROTOCOL) != 0) {
        char cause[256];
        snprintf(cause, sizeof(cause), "%s", sigil_errmsg());
        BAIL(SIGIL_E_PROTOCOL, "enclave result: %s", cause);
    }
    return 0;
}

/* ---- state shared with /readyz ---- */
static void set_down(gw_enclave *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_down(gw_enclave *e, const char *fmt, ...)
{
    va_list ap;
    (void)pthread_mutex_lock(&e->state_mu);
    va_start(ap, fmt);
    // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): false positive, va_start(ap) above
    (void)vsnprintf(e->down_reason, sizeof(e->down_reason), fmt, ap);
    va_end(ap);
    (void)pthread_mutex_unlock(&e->state_mu);
}

unsigned gw_enclave_ready_conns(const gw_enclave *e)
{
    return atomic_load(&e->nready);
}

void gw_enclave_down_reason(gw_enclave *e, char *msg, size_t cap)
{
    (void)pthread_mutex_lock(&e->state_mu);
    snprintf(msg, cap, "%s", e->down_reason);
    (void)pthread_mutex_unlock(&e->state_mu);
}

static bool stopping(gw_enclave *e)
{
    (void)pthread_mutex_lock(&e->stop_mu);
    bool s = e->stopping;
    (void)pthread_mutex_unlock(&e->stop_mu);
    return s;
}

/* Sleeps ms unless stop is called first. */
static void nap(gw_enclave *e, unsigned ms)
{
    struct timespec until = mono_at(gw_mono_us() + (uint64_t)ms * 1000u);
    (void)pthread_mutex_lock(&e->stop_mu);
    while (!e->stopping && pthread_cond_timedwait(&e->stop_cv, &e->stop_mu, &until) == 0)
        ;
    (void)pthread_mutex_unlock(&e->stop_mu);
}

/* ---- key-service credentials (AWS credentials, not tenant secrets) ---- */
static int cred_copy(char *out, size_t cap, const sigil_json *d, uint32_t t, const char *what)
{
    sigil_buf b;
    sigil_buf_init(&b, out, cap - 1);
    if (sigil_json_str(d, t, &b) != 0)
        BAIL(SIGIL_E_BAD_FIELD, "kms credentials: %s too long or malformed", what);
    out[b.len] = '\0';
    ENSURE(b.len > 0 && memchr(out, '\0', b.len) == NULL, SIGIL_E_BAD_FIELD,
           "kms credentials: %s empty or malformed", what);
    return 0;
}

static int creds_parse(kms_creds *out, const char *text, size_t len)
{
    static const sigil_json_field FIELDS[] = {{"access_key_id", true},
                                              {"secret_access_key", true},
                                              {"session_token", false},
                                              {"region", true}};
    static const char *const NAMES[] = {"access_key_id", "secret_access_key", "session_token",
                                        "region"};
    char *dst[] = {out->access_key_id, out->secret_access_key, out->session_token, out->region};
    size_t caps[] = {sizeof(out->access_key_id), sizeof(out->secret_access_key),
                     sizeof(out->session_token), sizeof(out->region)};
    sigil_json_tok toks[32];
    sigil_json d;
    memset(out, 0, sizeof(*out));
    GUARD(sigil_json_parse(&d, text, len, toks, SIGIL_ARRAY_LEN(toks)));
    GUARD(sigil_json_check_fields(&d, 0, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "kms credentials"));
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(NAMES); i++) {
        uint32_t t;
        GUARD(sigil_json_get_str(&d, 0, NAMES[i], FIELDS[i].required, &t, "kms credentials"));
        if (t != 0)
            GUARD(cred_copy(dst[i], caps[i], &d, t, NAMES[i]));
    }
    out->has_session_token = out->session_token[0] != '\0';
    out->loaded = true;
    return 0;
}

static int creds_from_file(kms_creds *out, const char *path)
{
    char *text = malloc(2 * (size_t)CRED_MAX);
    ENSURE(text != NULL, SIGIL_E_NO_MEMORY, "kms credentials: out of memory");
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        free(text);
        BAIL(SIGIL_E_IO, "kms credentials: cannot open the file");
    }
    size_t n = fread(text, 1, 2 * (size_t)CRED_MAX, f);
    fclose(f);
    int rc = n == 2 * (size_t)CRED_MAX
                 ? sigil_fail(SIGIL_E_TOO_LARGE, "kms credentials: file too large")
                 : creds_parse(out, text, n);
    explicit_bzero(text, 2 * (size_t)CRED_MAX);
    free(text);
    return rc;
}

static int env_copy(char *out, size_t cap, const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0')
        return -1;
    int n = snprintf(out, cap, "%s", v);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Without --kms-credentials: the standard AWS_* environment variables. */
static int creds_from_env(kms_creds *out)
{
    memset(out, 0, sizeof(*out));
    if (env_copy(out->access_key_id, sizeof(out->access_key_id), "AWS_ACCESS_KEY_ID") != 0 ||
        env_copy(out->secret_access_key, sizeof(out->secret_access_key), "AWS_SECRET_ACCESS_KEY") !=
            0 ||
        (env_copy(out->region, sizeof(out->region), "AWS_REGION") != 0 &&
         env_copy(out->region, sizeof(out->region), "AWS_DEFAULT_REGION") != 0))
        BAIL(SIGIL_E_USAGE, "no key-service credentials: give --kms-credentials FILE or set "
                            "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION");
    out->has_session_token =
        env_copy(out->session_token, sizeof(out->session_token), "AWS_SESSION_TOKEN") == 0;
    out->loaded = true;
    return 0;
}

static int creds_from_imds(kms_creds *out, const char *url)
{
    gw_imds_creds ic;
    memset(out, 0, sizeof(*out));
    uint64_t t0 = gw_mono_us();
    int rc = gw_imds_fetch(&ic, url, IMDS_TIMEOUT_MS);
    gw_metrics_key_service(gw_mono_us() - t0, rc == 0);
    GUARD(rc);
    memcpy(out->access_key_id, ic.access_key_id, sizeof(out->access_key_id));
    memcpy(out->secret_access_key, ic.secret_access_key, sizeof(out->secret_access_key));
    memcpy(out->session_token, ic.session_token, sizeof(out->session_token));
    memcpy(out->region, ic.region, sizeof(out->region));
    out->expiration = ic.expiration;
    out->has_session_token = true;
    out->loaded = true;
    explicit_bzero(&ic, sizeof(ic));
    return 0;
}

static const char *imds_url(const gw_enclave *e)
{
    return e->cfg.imds_url != NULL ? e->cfg.imds_url : GW_IMDS_DEFAULT_URL;
}

static int creds_load(const gw_enclave *e, kms_creds *out)
{
    if (e->imds)
        return creds_from_imds(out, imds_url(e));
    const char *path = e->cfg.kms_credentials;
    return path != NULL ? creds_from_file(out, path) : creds_from_env(out);
}

/* IMDS credentials the refresher keeps fresh: a (re)connect uses them
 * while they have a minute left rather than asking IMDS again. */
static bool creds_cached(gw_enclave *e)
{
    (void)pthread_mutex_lock(&e->state_mu);
    bool ok = e->imds && e->creds.loaded && e->creds.expiration - time(NULL) > CREDS_MIN_LEFT_S;
    (void)pthread_mutex_unlock(&e->state_mu);
    return ok;
}

/* Re-reads the credentials (they rotate); keeps the last good ones when
 * the source is momentarily unreadable. */
static int creds_refresh(gw_enclave *e, kms_creds *out)
{
    kms_creds fresh;
    if (creds_cached(e)) {
        (void)pthread_mutex_lock(&e->state_mu);
        *out = e->creds;
        (void)pthread_mutex_unlock(&e->state_mu);
        return 0;
    }
    int rc = creds_load(e, &fresh);
    (void)pthread_mutex_lock(&e->state_mu);
    if (rc == 0)
        e->creds = fresh;
    else if (e->creds.loaded)
        gw_log("enclave: kms credentials not re-read (%s); using the previous ones",
               sigil_errmsg());
    *out = e->creds;
    (void)pthread_mutex_unlock(&e->state_mu);
    explicit_bzero(&fresh, sizeof(fresh));
    ENSURE(out->loaded, SIGIL_E_UNAVAILABLE, "%s", sigil_errmsg());
    return 0;
}

/* ---- slots ---- */
static slot *slot_take(gw_enclave *e, conn *c, sigil_buf *resp)
{
    (void)pthread_mutex_lock(&e->free_mu);
    if (e->nfree == 0) {
        (void)pthread_mutex_unlock(&e->free_mu);
        gw_metrics_enclave_pool_full();
        return NULL;
    }
    uint32_t idx = e->free_stack[--e->nfree];
    gw_metrics_enclave_pool(SLOTS - e->nfree, SLOTS);
    (void)pthread_mutex_unlock(&e->free_mu);
    slot *s = &e->slots[idx];
    (void)pthread_mutex_lock(&s->mu);
    s->gen++;
    s->id = s->gen << SLOT_BITS | idx;
    s->state = SLOT_WAITING;
    s->owner = c;
    s->resp = resp;
    resp->len = 0;
    (void)pthread_mutex_unlock(&s->mu);
    return s;
}

static void slot_release(gw_enclave *e, slot *s)
{
    (void)pthread_mutex_lock(&s->mu);
    s->state = SLOT_FREE;
    s->owner = NULL;
    s->resp = NULL;
    uint32_t idx = (uint32_t)(s->id & ((1u << SLOT_BITS) - 1));
    (void)pthread_mutex_unlock(&s->mu);
    (void)pthread_mutex_lock(&e->free_mu);
    e->free_stack[e->nfree++] = idx;
    gw_metrics_enclave_pool(SLOTS - e->nfree, SLOTS);
    (void)pthread_mutex_unlock(&e->free_mu);
}

/* Marks a waiting slot failed (caller holds s->mu). */
static void slot_fail_locked(slot *s, sigil_err err, const char *msg)
{
    s->state = SLOT_FAILED;
    s->err = err;
    snprintf(s->msg, sizeof(s->msg), "%s", msg);
    (void)pthread_cond_signal(&s->cv);
}

static void fail_inflight(gw_enclave *e, conn *c)
{
    for (unsigned i = 0; i < SLOTS; i++) {
        slot *s = &e->slots[i];
        (void)pthread_mutex_lock(&s->mu);
        if (s->state == SLOT_WAITING && s->owner == c)
            slot_fail_locked(s, SIGIL_E_UNAVAILABLE, "enclave connection lost");
        (void)pthread_mutex_unlock(&s->mu);
    }
}

/* Hands a response to its slot. A response whose request already gave up
 * (deadline) is dropped; an id this client never issued is a protocol
 * error that closes the connection. */
static int deliver(gw_enclave *e, conn *c, const sigil_frame *f, const uint8_t *p, size_t len)
{
    uint64_t idx = f->id & ((1u << SLOT_BITS) - 1);
    ENSURE(f->kind != SIGIL_FRAME_REQUEST, SIGIL_E_PROTOCOL, "enclave sent a request frame");
    ENSURE(f->version == c->version, SIGIL_E_PROTOCOL, "enclave frame with another version");
    ENSURE(idx < SLOTS && (f->id >> SLOT_BITS) != 0, SIGIL_E_PROTOCOL,
           "enclave answered an id that was never sent");
    slot *s = &e->slots[idx];
    bool done = false;
    (void)pthread_mutex_lock(&s->mu);
    if (s->id == f->id && s->state == SLOT_WAITING && s->owner == c) {
        if (len > s->resp->cap) {
            slot_fail_locked(s, SIGIL_E_TOO_LARGE, "enclave response too large");
        } else {
            memcpy(s->resp->data, p, len);
            s->resp->len = len;
            s->state = SLOT_DONE;
            done = true;
        }
    }
    (void)pthread_mutex_unlock(&s->mu);
    /* Woken after the unlock, the waiter does not block again on the mutex.
     * Slots are never destroyed; if this one was already given up and
     * reused, its new waiter takes this as a spurious wake-up. */
    if (done)
        (void)pthread_cond_signal(&s->cv);
    return 0;
}

/* ---- handshake on the connection's own thread (nothing else in flight) ---- */
static int roundtrip(conn *c, sigil_buf *req, sigil_frame *f, sigil_buf *in, uint64_t id)
{
    GUARD(sigil_frame_write_all(c->fd, req->data, req->len));
    GUARD(sigil_frame_read_one(c->fd, in));
    GUARD(sigil_frame_parse(f, in->data, in->len));
    ENSURE(f->id == id && f->kind != SIGIL_FRAME_REQUEST, SIGIL_E_PROTOCOL,
           "enclave: unexpected frame during the handshake");
    if (f->kind == SIGIL_FRAME_ERROR)
        BAIL(f->err, "%.*s", (int)f->message_len, f->message);
    return 0;
}

static int hello(conn *c)
{
    static const gw_field SPEC[] = {{"version", GW_F_UINT, 0}, {"mode", GW_F_TEXT, 0}};
    gw_value v[2];
    sigil_buf req, in;
    sigil_frame f;
    sigil_buf_init(&req, c->wmem, SIGIL_FRAME_MAX);
    sigil_buf_init(&in, c->rmem, SIGIL_FRAME_MAX);
    GUARD(sigil_frame_begin_request(&req, SIGIL_FRAME_VERSION, 1, "hello", 1));
    GUARD(sigil_cbor_put_cstr(&req, "versions"));
    GUARD(sigil_cbor_put_array(&req, SIGIL_FRAME_VERSION - SIGIL_FRAME_VERSION_MIN + 1));
    for (uint64_t ver = SIGIL_FRAME_VERSION_MIN; ver <= SIGIL_FRAME_VERSION; ver++)
        GUARD(sigil_cbor_put_uint(&req, ver));
    GUARD(sigil_frame_finish(&req));
    GUARD(roundtrip(c, &req, &f, &in, 1));
    GUARD(gw_result_read(&f, SPEC, 2, v));
    ENSURE(v[0].u >= SIGIL_FRAME_VERSION_MIN && v[0].u <= SIGIL_FRAME_VERSION, SIGIL_E_PROTOCOL,
           "enclave chose protocol version %llu, which this gateway does not speak",
           (unsigned long long)v[0].u);
    ENSURE(sigil_cbor_text_eq((const char *)v[1].p, v[1].len, c->e->cfg.mode), SIGIL_E_PROTOCOL,
           "enclave runs in mode '%.*s', the gateway in '%s'", (int)(v[1].len > 16 ? 16 : v[1].len),
           (const char *)v[1].p, c->e->cfg.mode);
    c->version = v[0].u;
    return 0;
}

static int put_kv_text(sigil_buf *b, const char *k, const char *v)
{
    GUARD(sigil_cbor_put_cstr(b, k));
    return v != NULL ? sigil_cbor_put_cstr(b, v) : sigil_cbor_put_null(b);
}

typedef struct {
    const uint8_t *seed;
    size_t seed_len;
    const kms_creds *k;
} boot_args_ctx;

/* The two args of `boot` (docs/FRAMES.md). */
static int boot_args(void *ctx, sigil_buf *req)
{
    const boot_args_ctx *a = ctx;
    const kms_creds *k = a->k;
    GUARD(sigil_cbor_put_cstr(req, "seed_ciphertext"));
    GUARD(sigil_cbor_put_bytes_or_null(req, a->seed, a->seed_len));
    GUARD(sigil_cbor_put_cstr(req, "kms"));
    GUARD(sigil_cbor_put_map(req, 4));
    GUARD(put_kv_text(req, "access_key_id", k->access_key_id));
    GUARD(put_kv_text(req, "secret_access_key", k->secret_access_key));
    GUARD(put_kv_text(req, "session_token", k->has_session_token ? k->session_token : NULL));
    return put_kv_text(req, "region", k->region);
}

static int boot_request(conn *c, sigil_buf *req, const uint8_t *seed, size_t seed_len,
                        const kms_creds *k)
{
    boot_args_ctx a = {seed, seed_len, k};
    GUARD(sigil_frame_begin_request(req, c->version, 2, "boot", 2));
    GUARD(boot_args(&a, req));
    return sigil_frame_finish(req);
}

/* Keeps the boot's seed ciphertext for later credential pushes. */
static int remember_seed(gw_enclave *e, const uint8_t *p, size_t n)
{
    uint8_t *copy = malloc(n);
    ENSURE(copy != NULL, SIGIL_E_NO_MEMORY, "enclave: out of memory");
    memcpy(copy, p, n);
    (void)pthread_mutex_lock(&e->state_mu);
    free(e->seed_ct);
    e->seed_ct = copy;
    e->seed_ct_len = n;
    (void)pthread_mutex_unlock(&e->state_mu);
    return 0;
}

enum { B_SEED, B_BOOT_ID, B_DOC, B_SEALING, B_RECEIPT, B_MEASUREMENT, B_COUNT };

static int boot_store(gw_enclave *e, const gw_value *v, const uint8_t *old_seed, size_t old_len)
{
    sigil_boot_record rec;
    sigil_store *st = e->cfg.store;
    ENSURE(v[B_SEED].len > 0, SIGIL_E_PROTOCOL, "enclave result: empty seed_ciphertext");
    if (old_seed == NULL || old_len != v[B_SEED].len || memcmp(old_seed, v[B_SEED].p, old_len) != 0)
        GUARD(st->ops->seed_put(st, v[B_SEED].p, v[B_SEED].len));
    memcpy(rec.boot_id, v[B_BOOT_ID].p, sizeof(rec.boot_id));
    memcpy(rec.measurement, v[B_MEASUREMENT].p, sizeof(rec.measurement));
    rec.created_ms = sigil_store_now_ms();
    return st->ops->boot_put(st, &rec, v[B_DOC].p, v[B_DOC].len);
}

static int boot(conn *c)
{
    static const gw_field SPEC[B_COUNT] = {
        [B_SEED] = {"seed_ciphertext", GW_F_BYTES, 0},
        [B_BOOT_ID] = {"boot_id", GW_F_BYTES, SIGIL_BOOT_ID_LEN},
        [B_DOC] = {"document", GW_F_BYTES, 0},
        [B_SEALING] = {"sealing_key", GW_F_BYTES, 32},
        [B_RECEIPT] = {"receipt_key", GW_F_BYTES, 32},
        [B_MEASUREMENT] = {"measurement", GW_F_BYTES, SIGIL_MEASUREMENT_LEN},
    };
    gw_enclave *e = c->e;
    gw_value v[B_COUNT];
    sigil_buf req, in, seed;
    sigil_frame f;
    bool have_seed = false;
    kms_creds k;
    /* the stored seed goes at the end of wmem, the request at its start */
    sigil_buf_init(&seed, c->wmem + SIGIL_FRAME_MAX / 2, SIGIL_FRAME_MAX / 2);
    sigil_buf_init(&req, c->wmem, SIGIL_FRAME_MAX / 2);
    sigil_buf_init(&in, c->rmem, SIGIL_FRAME_MAX);
    GUARD(e->cfg.store->ops->seed_get(e->cfg.store, &seed, &have_seed));
    GUARD(creds_refresh(e, &k));
    int rc = boot_request(c, &req, have_seed ? seed.data : NULL, seed.len, &k);
    explicit_bzero(&k, sizeof(k));
    if (rc == 0)
        rc = roundtrip(c, &req, &f, &in, 2);
    explicit_bzero(req.data, req.len);
    GUARD(rc);
    GUARD(gw_result_read(&f, SPEC, B_COUNT, v));
    GUARD(boot_store(e, v, have_seed ? seed.data : NULL, seed.len));
    return remember_seed(e, v[B_SEED].p, v[B_SEED].len);
}

/* One stored revocation replayed during the handshake. The enclave's
 * refusal (a row altered outside the gateway, a blob that no longer opens)
 * is logged and skipped; a broken connection fails the handshake. */
static int replay_one(conn *c, gw_revocation *r, uint64_t id)
{
    sigil_buf req, in;
    sigil_frame f;
    sigil_buf_init(&req, c->wmem, SIGIL_FRAME_MAX);
    sigil_buf_init(&in, c->rmem, SIGIL_FRAME_MAX);
    GUARD(sigil_frame_begin_request(&req, c->version, id, "revoke", 5));
    GUARD(gw_revocation_args(r, &req));
    GUARD(sigil_frame_finish(&req));
    GUARD(sigil_frame_write_all(c->fd, req.data, req.len));
    GUARD(sigil_frame_read_one(c->fd, &in));
    GUARD(sigil_frame_parse(&f, in.data, in.len));
    ENSURE(f.id == id && f.kind != SIGIL_FRAME_REQUEST, SIGIL_E_PROTOCOL,
           "enclave: unexpected frame during the handshake");
    if (f.kind == SIGIL_FRAME_ERROR)
        gw_log_warn("enclave: stored revocation of %s/%s refused: %s: %.*s", r->rec.tenant,
                    r->rec.key_id, sigil_err_code(f.err), (int)f.message_len, f.message);
    return 0;
}

/* Every stored revocation, counted first: rows stored meanwhile are
 * replayed too and counted by the watcher's next pass. */
static int replay_revocations(conn *c)
{
    sigil_store *st = c->e->cfg.store;
    gw_revocations l;
    uint64_t n = 0;
    GUARD(st->ops->revocation_count(st, &n));
    GUARD(gw_revocations_load(st, &l));
    int rc = 0;
    for (size_t i = 0; i < l.n && rc == 0; i++)
        rc = replay_one(c, &l.v[i], 3 + i % HANDSHAKE_ID_MAX);
    gw_revocations_free(&l);
    GUARD(rc);
    atomic_store(&c->revocations, n);
    return 0;
}

/* Connects and runs hello, boot and the revocation replay: 0 when the
 * connection is ready. */
static int conn_open(conn *c)
{
    int fd = -1;
    if (sigil_transport_connect(&c->e->cfg.addr, &fd) != 0) {
        set_down(c->e, "enclave: not connected (%s)", sigil_errmsg());
        return -1;
    }
    struct timeval tv = {.tv_sec = HANDSHAKE_TIMEOUT_S};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    (void)pthread_mutex_lock(&c->wmu);
    c->fd = fd;
    (void)pthread_mutex_unlock(&c->wmu);
    if (hello(c) != 0) {
        set_down(c->e, "enclave: not connected (hello: %s: %s)", sigil_err_code(sigil_errno()),
                 sigil_errmsg());
        return -1;
    }
    if (boot(c) != 0) {
        set_down(c->e, "enclave: not booted (%s: %s)", sigil_err_code(sigil_errno()),
                 sigil_errmsg());
        return -1;
    }
    if (replay_revocations(c) != 0) {
        set_down(c->e, "enclave: revocations not replayed (%s: %s)", sigil_err_code(sigil_errno()),
                 sigil_errmsg());
        return -1;
    }
    struct timeval none = {0};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
    return 0;
}

static void set_live(conn *c, bool live)
{
    (void)pthread_mutex_lock(&c->wmu);
    c->live = live;
    (void)pthread_mutex_unlock(&c->wmu);
}

static void conn_close(conn *c)
{
    (void)pthread_mutex_lock(&c->wmu);
    if (c->fd >= 0)
        (void)close(c->fd);
    c->fd = -1;
    (void)pthread_mutex_unlock(&c->wmu);
}

/* Reads responses until the connection fails; returns why. One read
 * often brings several responses: each is handed to its slot. */
static void conn_serve(conn *c)
{
    const uint8_t *p;
    size_t len;
    sigil_frame f;
    sigil_frame_reader_reset(&c->reader);
    for (;;) {
        while (sigil_frame_reader_next(&c->reader, &p, &len) == 1) {
            if (sigil_frame_parse(&f, p, len) != 0 || deliver(c->e, c, &f, p, len) != 0)
                return;
        }
        if (sigil_frame_reader_wait(&c->reader, c->fd) != 0)
            return;
    }
}

/* Logs a failed attempt when its reason changes, and every 30th otherwise
 * (a gateway waiting for its enclave should not flood the log). */
static void log_failure(conn *c, unsigned backoff)
{
    char why[sizeof(c->last_logged)];
    gw_enclave_down_reason(c->e, why, sizeof(why));
    if (strcmp(why, c->last_logged) != 0 || ++c->repeats >= 30) {
        gw_log("enclave: connection %u: %s; retrying in %u ms", c->index, why, backoff);
        memcpy(c->last_logged, why, sizeof(why));
        c->repeats = 0;
    }
}

static void *conn_main(void *arg)
{
    conn *c = arg;
    gw_enclave *e = c->e;
    unsigned backoff = BACKOFF_MIN_MS;
    while (!stopping(e)) {
        if (conn_open(c) == 0) {
            backoff = BACKOFF_MIN_MS;
            set_live(c, true);
            atomic_store(&c->ready, true);
            atomic_fetch_add(&e->nready, 1);
            gw_metrics_enclave_conns(1);
            gw_log("enclave: connection %u ready (protocol v%llu)", c->index,
                   (unsigned long long)c->version);
            conn_serve(c);
            set_live(c, false);
            atomic_store(&c->ready, false);
            atomic_fetch_sub(&e->nready, 1);
            gw_metrics_enclave_conns(-1);
            set_down(e, "enclave: not connected (%s)", sigil_errmsg());
            if (!stopping(e))
                gw_log("enclave: connection %u lost: %s", c->index, sigil_errmsg());
        } else if (!stopping(e)) {
            log_failure(c, backoff);
        }
        conn_close(c);
        fail_inflight(e, c);
        nap(e, backoff);
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
    return NULL;
}

/* ---- requests ---- */
static conn *pick_conn(gw_enclave *e)
{
    unsigned n = e->cfg.conns, start = atomic_fetch_add(&e->rr, 1);
    for (unsigned i = 0; i < n; i++) {
        conn *c = &e->conns[(start + i) % n];
        if (atomic_load(&c->ready))
            return c;
    }
    return NULL;
}

static int send_request(conn *c, slot *s, const char *op, size_t nargs, gw_args_fn args, void *ctx,
                        sigil_buf *frame)
{
    frame->len = 0;
    GUARD(sigil_frame_begin_request(frame, c->version, s->id, op, nargs));
    if (nargs > 0)
        GUARD(args(ctx, frame));
    GUARD(sigil_frame_finish(frame));
    (void)pthread_mutex_lock(&c->wmu);
    int rc = c->live ? sigil_frame_write_all(c->fd, frame->data, frame->len) : -1;
    (void)pthread_mutex_unlock(&c->wmu);
    ENSURE(rc == 0, SIGIL_E_UNAVAILABLE, "enclave connection lost");
    return 0;
}

/* Waits for the slot's outcome; on return the slot no longer accepts a
 * response. */
static int wait_slot(slot *s, uint64_t deadline_us)
{
    struct timespec until = mono_at(deadline_us);
    int rc = 0;
    (void)pthread_mutex_lock(&s->mu);
    while (s->state == SLOT_WAITING && rc == 0)
        rc = pthread_cond_timedwait(&s->cv, &s->mu, &until);
    slot_state st = s->state;
    sigil_err err = s->err;
    char msg[sizeof(s->msg)];
    memcpy(msg, s->msg, sizeof(msg));
    s->state = SLOT_FREE; /* a late response is dropped */
    (void)pthread_mutex_unlock(&s->mu);
    switch (st) {
    case SLOT_DONE:
        return 0;
    case SLOT_FAILED:
        BAIL(err, "%s", msg);
    case SLOT_WAITING:
        BAIL(SIGIL_E_TIMEOUT, "enclave: no answer before the deadline");
    default:
        BAIL(SIGIL_E_INTERNAL, "enclave: request slot in an unexpected state");
    }
}

static int parse_response(const sigil_buf *resp, sigil_frame *out)
{
    if (sigil_frame_parse(out, resp->data, resp->len) != 0)
        BAIL(SIGIL_E_PROTOCOL, "enclave: %s", sigil_errmsg());
    if (out->kind == SIGIL_FRAME_ERROR)
        BAIL(out->err, "%.*s", (int)out->message_len, out->message);
    return 0;
}

/* One request on connection c. */
static int call_on(gw_enclave *e, conn *c, const char *op, size_t nargs, gw_args_fn args, void *ctx,
                   sigil_buf *frame, sigil_buf *resp, uint64_t deadline_us, sigil_frame *out)
{
    slot *s = slot_take(e, c, resp);
    ENSURE(s != NULL, SIGIL_E_UNAVAILABLE, "enclave: too many requests in flight");
    int rc = send_request(c, s, op, nargs, args, ctx, frame);
    if (rc != 0) {
        (void)pthread_mutex_lock(&s->mu);
        s->state = SLOT_FREE;
        (void)pthread_mutex_unlock(&s->mu);
    } else {
        rc = wait_slot(s, deadline_us);
    }
    slot_release(e, s);
    GUARD(rc);
    return parse_response(resp, out);
}

int gw_enclave_call(gw_enclave *e, const char *op, size_t nargs, gw_args_fn args, void *ctx,
                    sigil_buf *frame, sigil_buf *resp, uint64_t deadline_us, sigil_frame *out)
{
    conn *c = pick_conn(e);
    if (c == NULL) {
        char why[512];
        gw_enclave_down_reason(e, why, sizeof(why));
        BAIL(SIGIL_E_UNAVAILABLE, "%s", why[0] != '\0' ? why : "enclave: not connected");
    }
    uint64_t t0 = gw_mono_us();
    int rc = call_on(e, c, op, nargs, args, ctx, frame, resp, deadline_us, out);
    gw_metrics_enclave_call(op, gw_mono_us() - t0);
    if (rc != 0)
        gw_log_enclave_failure(op);
    return rc;
}

/* ---- credential refresh (IMDS) ---- */
/* A second `boot` on a live connection: the enclave replaces its
 * key-service credentials and answers with the same boot. */
static int push_creds(gw_enclave *e, conn *c, const kms_creds *k, sigil_buf *frame, sigil_buf *resp)
{
    sigil_frame f;
    (void)pthread_mutex_lock(&e->state_mu);
    size_t n = e->seed_ct_len;
    uint8_t *seed = n > 0 ? malloc(n) : NULL;
    if (seed != NULL)
        memcpy(seed, e->seed_ct, n);
    (void)pthread_mutex_unlock(&e->state_mu);
    ENSURE(seed != NULL, SIGIL_E_UNAVAILABLE, "enclave: no boot to refresh");
    boot_args_ctx a = {seed, n, k};
    int rc =
        call_on(e, c, "boot", 2, boot_args, &a, frame, resp, gw_mono_us() + PUSH_TIMEOUT_US, &f);
    free(seed);
    explicit_bzero(frame->data, frame->len);
    GUARD(rc);
    ENSURE(f.kind == SIGIL_FRAME_RESULT, SIGIL_E_PROTOCOL, "enclave: expected a result frame");
    return 0;
}

static void push_all(gw_enclave *e, const kms_creds *k, sigil_buf *frame, sigil_buf *resp)
{
    for (unsigned i = 0; i < e->cfg.conns; i++) {
        conn *c = &e->conns[i];
        if (!atomic_load(&c->ready))
            continue; /* it boots with the new credentials when it connects */
        if (push_creds(e, c, k, frame, resp) == 0)
            gw_log("enclave: connection %u: credentials refreshed (expire in %lld s)", i,
                   (long long)(k->expiration - time(NULL)));
        else
            gw_log("enclave: connection %u: credentials not refreshed: %s: %s", i,
                   sigil_err_code(sigil_errno()), sigil_errmsg());
    }
}

/* A frame and a response buffer for a background thread's calls; false
 * (logged) when the memory cannot be had. */
static bool thread_bufs(sigil_buf *frame, sigil_buf *resp, const char *who)
{
    uint8_t *fmem = malloc(SIGIL_FRAME_MAX), *rmem = malloc(SIGIL_FRAME_MAX);
    if (fmem == NULL || rmem == NULL) {
        gw_log("enclave: %s: out of memory", who);
        free(fmem);
        free(rmem);
        return false;
    }
    sigil_buf_init(frame, fmem, SIGIL_FRAME_MAX);
    sigil_buf_init(resp, rmem, SIGIL_FRAME_MAX);
    return true;
}

/* Fetches again at 80 % of what is left (gw_imds_refresh_delay_ms); on
 * failure keeps the current credentials and tries again sooner. */
static void *refresher_main(void *arg)
{
    gw_enclave *e = arg;
    sigil_buf frame, resp;
    if (!thread_bufs(&frame, &resp, "credential refresher"))
        return NULL;
    (void)pthread_mutex_lock(&e->state_mu);
    time_t exp = e->creds.expiration;
    (void)pthread_mutex_unlock(&e->state_mu);
    uint64_t wait_ms = gw_imds_refresh_delay_ms(time(NULL), exp);
    while (nap(e, (unsigned)(wait_ms > UINT32_MAX ? UINT32_MAX : wait_ms)), !stopping(e)) {
        kms_creds k;
        if (creds_from_imds(&k, imds_url(e)) != 0) {
            uint64_t left = gw_imds_refresh_delay_ms(time(NULL), exp);
            wait_ms = left < IMDS_RETRY_MS ? left : IMDS_RETRY_MS;
            gw_log("enclave: kms credentials not refreshed from IMDS (%s); retrying in %llu ms",
                   sigil_errmsg(), (unsigned long long)wait_ms);
            continue;
        }
        (void)pthread_mutex_lock(&e->state_mu);
        e->creds = k;
        (void)pthread_mutex_unlock(&e->state_mu);
        exp = k.expiration;
        gw_log("enclave: kms credentials refreshed from IMDS (expire in %lld s)",
               (long long)(exp - time(NULL)));
        push_all(e, &k, &frame, &resp);
        explicit_bzero(&k, sizeof(k));
        wait_ms = gw_imds_refresh_delay_ms(time(NULL), exp);
    }
    free(frame.data);
    free(resp.data);
    return NULL;
}

/* ---- revocations stored by other gateways ---- */
/* Replays the list on c (it is ready); the enclave's refusal of one is
 * logged, a failed call stops the pass (the connection re-replays when it
 * comes back). */
static int replay_on(gw_enclave *e, conn *c, gw_revocations *l, sigil_buf *frame, sigil_buf *resp)
{
    for (size_t i = 0; i < l->n; i++) {
        sigil_frame f;
        memset(&f, 0, sizeof(f));
        int rc = call_on(e, c, "revoke", 5, gw_revocation_args, &l->v[i], frame, resp,
                         gw_mono_us() + PUSH_TIMEOUT_US, &f);
        if (rc != 0 && f.kind != SIGIL_FRAME_ERROR)
            return -1;
        if (rc != 0)
            gw_log_warn("enclave: stored revocation of %s/%s refused: %s: %s", l->v[i].rec.tenant,
                        l->v[i].rec.key_id, sigil_err_code(sigil_errno()), sigil_errmsg());
    }
    return 0;
}

static void watch_once(gw_enclave *e, sigil_buf *frame, sigil_buf *resp)
{
    sigil_store *st = e->cfg.store;
    uint64_t n = 0;
    gw_revocations l = {0};
    bool loaded = false;
    if (st->ops->revocation_count(st, &n) != 0)
        return; /* the store's own health shows in /readyz */
    for (unsigned i = 0; i < e->cfg.conns; i++) {
        conn *c = &e->conns[i];
        if (!atomic_load(&c->ready) || atomic_load(&c->revocations) >= n)
            continue;
        if (!loaded && gw_revocations_load(st, &l) != 0)
            return;
        loaded = true;
        if (replay_on(e, c, &l, frame, resp) == 0) {
            atomic_store(&c->revocations, n);
            gw_log("enclave: connection %u: %zu stored revocations replayed", i, l.n);
        }
    }
    gw_revocations_free(&l);
}

static void *watcher_main(void *arg)
{
    gw_enclave *e = arg;
    sigil_buf frame, resp;
    if (!thread_bufs(&frame, &resp, "revocation watcher"))
        return NULL;
    while (nap(e, REVOCATION_POLL_MS), !stopping(e))
        watch_once(e, &frame, &resp);
    free(frame.data);
    free(resp.data);
    return NULL;
}

/* ---- lifecycle ---- */
static void free_all(gw_enclave *e)
{
    for (unsigned i = 0; e->conns != NULL && i < e->cfg.conns; i++) {
        free(e->conns[i].rmem);
        free(e->conns[i].wmem);
        sigil_frame_reader_free(&e->conns[i].reader);
    }
    free(e->conns);
    explicit_bzero(&e->creds, sizeof(e->creds));
    free(e->seed_ct);
    free(e);
}

static int init_conns(gw_enclave *e)
{
    e->conns = calloc(e->cfg.conns, sizeof(*e->conns));
    ENSURE(e->conns != NULL, SIGIL_E_NO_MEMORY, "enclave: out of memory");
    for (unsigned i = 0; i < e->cfg.conns; i++) {
        conn *c = &e->conns[i];
        c->e = e;
        c->index = i;
        c->fd = -1;
        (void)pthread_mutex_init(&c->wmu, NULL);
        c->rmem = malloc(SIGIL_FRAME_MAX);
        c->wmem = malloc(SIGIL_FRAME_MAX);
        ENSURE(c->rmem != NULL && c->wmem != NULL, SIGIL_E_NO_MEMORY, "enclave: out of memory");
        GUARD(sigil_frame_reader_init(&c->reader));
    }
    return 0;
}

int gw_enclave_start(gw_enclave **out, const gw_enclave_config *cfg)
{
    *out = NULL;
    ENSURE(cfg->conns >= 1 && cfg->conns <= 64, SIGIL_E_USAGE, "--enclave-conns: must be 1..64");
    gw_enclave *e = calloc(1, sizeof(*e));
    ENSURE(e != NULL, SIGIL_E_NO_MEMORY, "enclave: out of memory");
    e->cfg = *cfg;
    (void)pthread_mutex_init(&e->free_mu, NULL);
    (void)pthread_mutex_init(&e->stop_mu, NULL);
    (void)pthread_mutex_init(&e->state_mu, NULL);
    cond_init_mono(&e->stop_cv);
    snprintf(e->down_reason, sizeof(e->down_reason), "enclave: not connected");
    for (uint32_t i = 0; i < SLOTS; i++) {
        (void)pthread_mutex_init(&e->slots[i].mu, NULL);
        cond_init_mono(&e->slots[i].cv);
        e->free_stack[i] = SLOTS - 1 - i;
    }
    e->nfree = SLOTS;
    gw_metrics_enclave_pool(0, SLOTS);
    e->imds = cfg->kms_credentials != NULL && strcmp(cfg->kms_credentials, "imds") == 0;
    /* Credentials that cannot be read at start are a configuration error. */
    if (creds_load(e, &e->creds) != 0 || init_conns(e) != 0) {
        free_all(e);
        return -1;
    }
    for (unsigned i = 0; i < cfg->conns; i++) {
        if (pthread_create(&e->conns[i].thread, NULL, conn_main, &e->conns[i]) != 0) {
            e->cfg.conns = i;
            gw_enclave_stop(e);
            BAIL(SIGIL_E_NO_MEMORY, "enclave: cannot start a connection thread");
        }
    }
    e->has_watcher = pthread_create(&e->watcher, NULL, watcher_main, e) == 0;
    if (!e->has_watcher) {
        gw_enclave_stop(e);
        BAIL(SIGIL_E_NO_MEMORY, "enclave: cannot start the revocation watcher");
    }
    if (e->imds) {
        e->has_refresher = pthread_create(&e->refresher, NULL, refresher_main, e) == 0;
        if (!e->has_refresher) {
            gw_enclave_stop(e);
            BAIL(SIGIL_E_NO_MEMORY, "enclave: cannot start the credential refresher");
        }
    }
    *out = e;
    return 0;
}

void gw_enclave_stop(gw_enclave *e)
{
    if (e == NULL)
        return;
    (void)pthread_mutex_lock(&e->stop_mu);
    e->stopping = true;
    (void)pthread_cond_broadcast(&e->stop_cv);
    (void)pthread_mutex_unlock(&e->stop_mu);
    for (unsigned i = 0; i < e->cfg.conns; i++) {
        conn *c = &e->conns[i];
        (void)pthread_mutex_lock(&c->wmu);
        if (c->fd >= 0)
            (void)shutdown(c->fd, SHUT_RDWR); /* wakes the blocked reader */
        (void)pthread_mutex_unlock(&c->wmu);
    }
    if (e->has_refresher)
        (void)pthread_join(e->refresher, NULL);
    if (e->has_watcher)
        (void)pthread_join(e->watcher, NULL);
    for (unsigned i = 0; i < e->cfg.conns; i++)
        (void)pthread_join(e->conns[i].thread, NULL);
    free_all(e);
}
