/*
 * `sigil audit verify --home DIR [--tenant T] [--gateway URL [--token T] |
 *  --expect BOOT_ID_HEX:SEQ] [--root aws | --trust-dev-root PEM]`
 *
 * Checks the gateway's audit log offline (docs/CLI.md): every row's hash
 * and link, then every boot's receipt chain and the receipts' signatures
 * under the receipt key bound in that boot's archived attestation document,
 * and optionally that the table's tail reaches what the enclave has issued.
 * Untrusted-host tooling; no secrets. Prints one JSON report; exit 0 when
 * nothing was found, 3 when problems were, 2 on usage or I/O errors.
 */
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "gateway/store.h"
#include "gateway/store_pg.h"
#include "sigil/attest.h"
#include "sigil/receipt.h"

#define AUDIT_USAGE                                                                                \
    "usage: sigil audit verify (--home DIR | --store URL) [--tenant T] [--gateway URL [--token "   \
    "T] | "                                                                                        \
    "--expect BOOT_ID_HEX:SEQ] [--root aws | --trust-dev-root PEM]"
#define CLI_EXIT_PROBLEMS 3
#define PAGE_ROWS 256u     /* rows read per store call */
#define PROBLEMS_MAX 1000u /* listed; more are summarised in one last entry */
#define READYZ_MAX 4096u   /* bytes of a /readyz response */
#define HTTP_TIMEOUT_S 30L

static const uint8_t ZERO32[32];

typedef struct {
    const char *home, *store, *tenant, *gateway, *token, *expect, *root, *dev_root;
} audit_args;

typedef struct {
    uint64_t seq; /* the row concerned; 0 = none */
    char kind[24];
    char detail[320];
} problem;

/* One receipt as the chain check needs it. */
typedef struct {
    uint8_t boot_id[SIGIL_BOOT_ID_LEN];
    uint64_t rseq;
    uint8_t hash[32], prev[32];
    uint64_t row_seq;
} receipt_link;

typedef struct {
    uint8_t boot_id[SIGIL_BOOT_ID_LEN];
    bool usable; /* its document was read and binds a receipt key */
    uint8_t receipt_key[32];
    uint8_t measurement[SIGIL_MEASUREMENT_LEN];
} boot_entry;

typedef struct {
    audit_args a;
    sigil_store *store;
    const uint8_t *root_der; /* NULL: no root given */
    size_t root_len;
    uint8_t *root_owned; /* a dev root's DER (the AWS root is built in) */
    /* the row walk */
    uint64_t rows, last_seq;
    uint8_t last_hash[32];
    bool any;
    sigil_audit_row *page;
    size_t npage;
    uint8_t *doc; /* SIGIL_ATTEST_DOC_MAX, for boot documents */
    /* receipts and boots */
    receipt_link *links;
    size_t nlinks, cap_links;
    boot_entry *boots;
    size_t nboots, cap_boots;
    /* the tail the enclave vouches for */
    bool has_expect;
    uint8_t expect_boot[SIGIL_BOOT_ID_LEN];
    uint64_t expect_seq;
    /* findings */
    problem *problems;
    size_t nproblems, dropped;
} verifier;

/* ---- findings ---- */
__attribute__((format(printf, 4, 5))) static void report(verifier *v, uint64_t seq,
                                                         const char *kind, const char *fmt, ...)
{
    if (v->nproblems == PROBLEMS_MAX) {
        v->dropped++;
        return;
    }
    problem *p = &v->problems[v->nproblems++];
    va_list ap;
    p->seq = seq;
    (void)snprintf(p->kind, sizeof(p->kind), "%s", kind);
    va_start(ap, fmt);
    // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): ap is started just above
    (void)vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
    va_end(ap);
}

static void boot_hex(char out[2 * SIGIL_BOOT_ID_LEN + 1], const uint8_t *id)
{
    sigil_hex_encode(out, id, SIGIL_BOOT_ID_LEN);
}

/* ---- arguments ---- */
static int parse_args(audit_args *a, int argc, char **argv)
{
    const cli_opt OPTS[] = {
        {"home", &a->home, NULL, false},
        {"tenant", &a->tenant, NULL, false},
        {"gateway", &a->gateway, NULL, false},
        {"token", &a->token, NULL, false},
        {"expect", &a->expect, NULL, false},
        {"root", &a->root, NULL, false},
        {"trust-dev-root", &a->dev_root, NULL, false},
        {"store", &a->store, NULL, false},
    };
    memset(a, 0, sizeof(*a));
    GUARD(cli_options(argc, argv, OPTS, SIGIL_ARRAY_LEN(OPTS), NULL, AUDIT_USAGE, "audit verify"));
    if ((a->store == NULL || a->store[0] == '\0') && a->home == NULL)
        a->store = getenv("SIGIL_STORE"); /* an explicit --home wins over the environment */
    ENSURE(a->home != NULL || (a->store != NULL && a->store[0] != '\0'), SIGIL_E_USAGE,
           "audit verify: --home or --store is required");
    ENSURE(a->gateway == NULL || a->expect == NULL, SIGIL_E_USAGE,
           "audit verify: --gateway and --expect are alternatives");
    ENSURE(a->token == NULL || a->gateway != NULL, SIGIL_E_USAGE,
           "audit verify: --token goes with --gateway");
    ENSURE(a->tenant == NULL || (a->gateway == NULL && a->expect == NULL), SIGIL_E_USAGE,
           "audit verify: --gateway and --expect check the whole table, not with --tenant");
    ENSURE(a->root == NULL || a->dev_root == NULL, SIGIL_E_USAGE,
           "audit verify: --root and --trust-dev-root are alternatives");
    ENSURE(a->root == NULL || strcmp(a->root, "aws") == 0, SIGIL_E_USAGE,
           "--root: only \"aws\" is built in (use --trust-dev-root PEM for a dev root)");
    if (a->tenant != NULL)
        GUARD(sigil_tenant_name_check(a->tenant, strlen(a->tenant)));
    return 0;
}

static int parse_u64_text(uint64_t *out, const char *s, size_t n, const char *what)
{
    uint64_t x = 0;
    ENSURE(n >= 1 && n <= 19, SIGIL_E_USAGE, "%s: expected a decimal integer", what);
    for (size_t i = 0; i < n; i++) {
        ENSURE(s[i] >= '0' && s[i] <= '9', SIGIL_E_USAGE, "%s: expected a decimal integer", what);
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *out = x;
    return 0;
}

/* --expect BOOT_ID_HEX:SEQ */
static int parse_expect(verifier *v, const char *s)
{
    const size_t hex_len = (size_t)2 * SIGIL_BOOT_ID_LEN;
    const char *colon = strchr(s, ':');
    ENSURE(colon != NULL && (size_t)(colon - s) == hex_len, SIGIL_E_USAGE,
           "--expect: expected BOOT_ID_HEX:SEQ (32 hex digits, a colon, a receipt seq)");
    GUARD(sigil_hex_decode_exact(v->expect_boot, SIGIL_BOOT_ID_LEN, s, hex_len, false,
                                 "--expect boot id"));
    GUARD(parse_u64_text(&v->expect_seq, colon + 1, strlen(colon + 1), "--expect seq"));
    v->has_expect = true;
    return 0;
}

/* ---- the enclave's latest receipt, from the gateway's /readyz ---- */
static int http_get(const audit_args *a, const char *url, cli_http_sink *sink)
{
    char auth[256];
    long status;
    cli_http_request req = {.url = url, .timeout_s = HTTP_TIMEOUT_S};
    if (a->token != NULL) {
        (void)snprintf(auth, sizeof(auth), "Authorization: Bearer %s", a->token);
        req.auth = auth;
    }
    if (cli_http_send(&status, sink, &req) != 0) {
        /* audit verify reports a timeout as unavailable, like any other transport failure */
        if (sigil_errno() == SIGIL_E_TIMEOUT) {
            char msg[CURL_ERROR_SIZE + 16];
            (void)snprintf(msg, sizeof(msg), "%s", sigil_errmsg());
            (void)sigil_fail(SIGIL_E_UNAVAILABLE, "%s", msg);
        }
        return -1;
    }
    ENSURE(status == 200, SIGIL_E_UNAVAILABLE, "gateway: %s answered HTTP %ld", url, status);
    return 0;
}

/* Reads boot_id and receipt_seq from the gateway's /readyz; fetched before
 * the walk, so receipts issued meanwhile only add rows past it. */
static int fetch_expect(verifier *v)
{
    static char body[READYZ_MAX];
    sigil_json_tok toks[64];
    sigil_json d;
    uint32_t t;
    bool present = false;
    char url[1100];
    cli_http_sink sink = {body, 0, sizeof(body), false};
    ENSURE(strlen(v->a.gateway) < 1024, SIGIL_E_USAGE, "--gateway: URL too long");
    (void)snprintf(url, sizeof(url), "%s/readyz", v->a.gateway);
    ENSURE(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK, SIGIL_E_INTERNAL,
           "cannot initialise libcurl");
    int rc = http_get(&v->a, url, &sink);
    curl_global_cleanup();
    GUARD(rc);
    GUARD(sigil_json_parse(&d, body, sink.len, toks, SIGIL_ARRAY_LEN(toks)));
    GUARD(sigil_json_get_str(&d, 0, "boot_id", true, &t, "readyz"));
    sigil_slice hex = sigil_json_raw(&d, t);
    GUARD(sigil_hex_decode_exact(v->expect_boot, SIGIL_BOOT_ID_LEN, hex.p, hex.len, false,
                                 "readyz.boot_id"));
    GUARD(sigil_json_get_u64(&d, 0, "receipt_seq", false, &v->expect_seq, &present, "readyz"));
    ENSURE(present, SIGIL_E_PROTOCOL,
           "gateway: /readyz carries no receipt_seq (a gateway without receipts?)");
    v->has_expect = true;
    return 0;
}

/* ---- boots: the receipt key bound in each boot's archived document ---- */
static int boot_read(verifier *v, boot_entry *b, uint64_t row_seq)
{
    char id[2 * SIGIL_BOOT_ID_LEN + 1];
    sigil_boot_record rec;
    sigil_attest_doc doc;
    sigil_boot_binding bb;
    sigil_buf buf;
    boot_hex(id, b->boot_id);
    sigil_buf_init(&buf, v->doc, SIGIL_ATTEST_DOC_MAX);
    if (v->store->ops->boot_get(v->store, b->boot_id, &rec, &buf) != 0) {
        if (sigil_errno() != SIGIL_E_NOT_FOUND)
            return -1;
        report(v, row_seq, "boot_unknown",
               "no archived attestation document for boot %s: its receipts cannot be checked", id);
        return 0;
    }
    int rc;
    if (v->root_der != NULL) {
        sigil_attest_policy pol = {v->root_der, v->root_len, 0, false};
        rc = sigil_attest_parse(&doc, buf.data, buf.len);
        pol.verify_time = rc == 0 ? (int64_t)(doc.timestamp_ms / 1000u) : 0;
        rc = rc == 0 ? sigil_attest_verify(&doc, &pol, buf.data, buf.len) : rc;
    } else {
        rc = sigil_attest_parse(&doc, buf.data, buf.len);
    }
    if (rc == 0)
        rc = sigil_boot_binding_decode(&bb, doc.user_data, doc.user_data_len);
    if (rc == 0 && memcmp(bb.boot_id, b->boot_id, SIGIL_BOOT_ID_LEN) != 0)
        rc = sigil_fail(SIGIL_E_ATTESTATION, "the document binds another boot id");
    if (rc != 0) {
        report(v, row_seq, "boot_document", "boot %s: %s", id, sigil_errmsg());
        return 0;
    }
    memcpy(b->receipt_key, bb.receipt_key, sizeof(b->receipt_key));
    memcpy(b->measurement, doc.pcrs[0], sizeof(b->measurement));
    b->usable = (doc.pcr_mask & 1u) != 0;
    if (!b->usable)
        report(v, row_seq, "boot_document", "boot %s: the document has no PCR0", id);
    return 0;
}

/* The boot's entry, read from the store on first use. */
static int boot_find(verifier *v, const uint8_t *boot_id, uint64_t row_seq, boot_entry **out)
{
    for (size_t i = 0; i < v->nboots; i++) {
        if (memcmp(v->boots[i].boot_id, boot_id, SIGIL_BOOT_ID_LEN) == 0) {
            *out = &v->boots[i];
            return 0;
        }
    }
    if (v->nboots == v->cap_boots) {
        size_t cap = v->cap_boots ? 2 * v->cap_boots : 8;
        boot_entry *p = realloc(v->boots, cap * sizeof(*p));
        ENSURE(p != NULL, SIGIL_E_NO_MEMORY, "out of memory");
        v->boots = p;
        v->cap_boots = cap;
    }
    boot_entry *b = &v->boots[v->nboots++];
    memset(b, 0, sizeof(*b));
    memcpy(b->boot_id, boot_id, SIGIL_BOOT_ID_LEN);
    *out = b;
    return boot_read(v, b, row_seq);
}

/* ---- receipts ---- */
static int link_add(verifier *v, const sigil_receipt *r, const uint8_t hash[32], uint64_t row_seq)
{
    if (v->nlinks == v->cap_links) {
        size_t cap = v->cap_links ? 2 * v->cap_links : 1024;
        receipt_link *p = realloc(v->links, cap * sizeof(*p));
        ENSURE(p != NULL, SIGIL_E_NO_MEMORY, "out of memory");
        v->links = p;
        v->cap_links = cap;
    }
    receipt_link *l = &v->links[v->nlinks++];
    memcpy(l->boot_id, r->boot_id, SIGIL_BOOT_ID_LEN);
    l->rseq = r->seq;
    memcpy(l->hash, hash, 32);
    memcpy(l->prev, r->prev, 32);
    l->row_seq = row_seq;
    return 0;
}

/* The op a receipt's action implies. */
static const char *op_of_action(const char *action)
{
    static const char *const KEY_OPS[] = {"import", "policy_update", "rotate", "rewrap", "revoke"};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(KEY_OPS); i++)
        if (strcmp(action, KEY_OPS[i]) == 0)
            return KEY_OPS[i];
    return "sign";
}

/* The receipt says what the row says: tenant, key, op and action, decision. */
static void receipt_matches_row(verifier *v, const sigil_audit_row *row, const sigil_receipt *r)
{
    const char *field = NULL;
    if (strcmp(r->tenant, row->tenant) != 0)
        field = "tenant";
    else if (row->key_id[0] != '\0' && strcmp(r->key_id, row->key_id) != 0)
        field = "key_id";
    else if (strcmp(op_of_action(r->action), row->op) != 0)
        field = "op";
    else if (row->action[0] != '\0' && strcmp(r->action, row->action) != 0)
        field = "action";
    else if (r->allow != (strcmp(row->decision, "allow") == 0))
        field = "decision";
    if (field != NULL)
        report(v, row->seq, "receipt_mismatch", "the receipt's %s differs from the row's", field);
}

static void receipt_signature(verifier *v, const sigil_audit_row *row, const boot_entry *b,
                              const sigil_receipt *r)
{
    sigil_receipt checked;
    uint8_t hash[32];
    if (memcmp(r->measurement, b->measurement, sizeof(b->measurement)) != 0)
        report(v, row->seq, "receipt_mismatch",
               "the receipt's measurement is not the boot document's PCR0");
    if (sigil_receipt_verify(&checked, hash, row->receipt, row->receipt_len, b->receipt_key) == 0)
        return;
    report(v, row->seq,
           sigil_errno() == SIGIL_E_BAD_SIGNATURE ? "receipt_signature" : "receipt_malformed", "%s",
           sigil_errmsg());
}

static int check_receipt(verifier *v, const sigil_audit_row *row)
{
    sigil_receipt r;
    uint8_t hash[32];
    boot_entry *b;
    if (sigil_receipt_parse(&r, hash, row->receipt, row->receipt_len) != 0) {
        report(v, row->seq, "receipt_malformed", "%s", sigil_errmsg());
        return 0;
    }
    receipt_matches_row(v, row, &r);
    GUARD(boot_find(v, r.boot_id, row->seq, &b));
    if (b->usable)
        receipt_signature(v, row, b, &r);
    return link_add(v, &r, hash, row->seq);
}

/* ---- rows ---- */
/* seq follows the previous row's and prev is its hash; with --tenant only
 * where the seqs are consecutive. */
static void check_link(verifier *v, const sigil_audit_row *r)
{
    uint64_t want = v->any ? v->last_seq + 1 : 1;
    const uint8_t *prev = v->any ? v->last_hash : ZERO32;
    if (r->seq != want) {
        if (v->a.tenant == NULL)
            report(v, r->seq, "seq_gap", "rows %llu..%llu are missing (deleted)",
                   (unsigned long long)want, (unsigned long long)r->seq - 1);
        return;
    }
    if (memcmp(r->prev, prev, 32) != 0)
        report(v, r->seq, "prev_link",
               "prev is not the hash of row %llu (rows deleted, inserted or reordered)",
               (unsigned long long)want - 1);
}

static int check_row(verifier *v, const sigil_audit_row *r)
{
    sigil_audit_record rec;
    uint8_t hash[32];
    v->rows++;
    if (r->malformed)
        report(v, r->seq, "malformed",
               "a column holds what the store never writes (the row was altered)");
    sigil_audit_row_record(&rec, r);
    if (sigil_audit_hash(hash, r->prev, r->seq, &rec) != 0 || memcmp(hash, r->hash, 32) != 0)
        report(v, r->seq, "row_hash",
               "the row does not match its hash (a column was edited, or the row moved)");
    check_link(v, r);
    v->any = true;
    v->last_seq = r->seq;
    memcpy(v->last_hash, r->hash, 32);
    return r->receipt_len > 0 ? check_receipt(v, r) : 0;
}

static int page_add(void *ctx, const sigil_audit_row *r)
{
    verifier *v = ctx;
    ENSURE(v->npage < PAGE_ROWS, SIGIL_E_INTERNAL, "audit: page overflow");
    v->page[v->npage++] = *r;
    return 0;
}

/* Pages through the table (the store is not called from its callback). */
static int walk_rows(verifier *v)
{
    uint64_t after = 0;
    for (;;) {
        v->npage = 0;
        GUARD(v->store->ops->audit_list(v->store, v->a.tenant, after, PAGE_ROWS, page_add, v));
        for (size_t i = 0; i < v->npage; i++)
            GUARD(check_row(v, &v->page[i]));
        if (v->npage < PAGE_ROWS)
            return 0;
        after = v->page[v->npage - 1].seq;
    }
}

/* ---- receipt chains, per boot ---- */
static int link_cmp(const void *pa, const void *pb)
{
    const receipt_link *a = pa, *b = pb;
    int c = memcmp(a->boot_id, b->boot_id, SIGIL_BOOT_ID_LEN);
    if (c != 0)
        return c;
    if (a->rseq != b->rseq)
        return a->rseq < b->rseq ? -1 : 1;
    return a->row_seq < b->row_seq ? -1 : a->row_seq > b->row_seq;
}

/* One boot's links (sorted): seqs from 1 without gaps or repeats, each
 * prev the previous receipt's hash. Returns the last seq. */
static uint64_t check_boot_chain(verifier *v, const receipt_link *l, size_t n)
{
    char id[2 * SIGIL_BOOT_ID_LEN + 1];
    uint64_t last = 0;
    const uint8_t *prev = ZERO32;
    boot_hex(id, l[0].boot_id);
    for (size_t i = 0; i < n; i++) {
        if (l[i].rseq == last) {
            report(v, l[i].row_seq, "receipt_duplicate",
                   "receipt %llu of boot %s is already in row %llu", (unsigned long long)last, id,
                   (unsigned long long)l[i - 1].row_seq);
            continue;
        }
        if (l[i].rseq != last + 1 && v->a.tenant == NULL)
            report(v, l[i].row_seq, "receipt_gap",
                   "receipts %llu..%llu of boot %s are not in the table: rows deleted, or "
                   "decisions whose audit record was never written (the client got an error, "
                   "or the gateway died first)",
                   (unsigned long long)last + 1, (unsigned long long)l[i].rseq - 1, id);
        else if (l[i].rseq == last + 1 && memcmp(l[i].prev, prev, 32) != 0)
            report(v, l[i].row_seq, "receipt_prev",
                   "receipt %llu of boot %s does not link to receipt %llu (edited or replaced)",
                   (unsigned long long)l[i].rseq, id, (unsigned long long)last);
        last = l[i].rseq;
        prev = l[i].hash;
    }
    return last;
}

static void check_tail(verifier *v, uint64_t last, uint64_t row_seq)
{
    char id[2 * SIGIL_BOOT_ID_LEN + 1];
    if (!v->has_expect || last >= v->expect_seq)
        return;
    boot_hex(id, v->expect_boot);
    report(v, row_seq, "truncated",
           "the enclave has issued receipts up to %llu for boot %s but the table's last is %llu: "
           "rows cut from the tail, or decisions whose audit record was never written",
           (unsigned long long)v->expect_seq, id, (unsigned long long)last);
}

static size_t check_chains(verifier *v)
{
    size_t boots = 0;
    bool expect_seen = false;
    if (v->nlinks > 0) /* a table without receipts has no links (and no array) */
        qsort(v->links, v->nlinks, sizeof(*v->links), link_cmp);
    for (size_t i = 0, j; i < v->nlinks; i = j) {
        for (j = i + 1; j < v->nlinks; j++)
            if (memcmp(v->links[j].boot_id, v->links[i].boot_id, SIGIL_BOOT_ID_LEN) != 0)
                break;
        uint64_t last = check_boot_chain(v, &v->links[i], j - i);
        boots++;
        if (v->has_expect && memcmp(v->links[i].boot_id, v->expect_boot, SIGIL_BOOT_ID_LEN) == 0) {
            expect_seen = true;
            check_tail(v, last, v->links[j - 1].row_seq);
        }
    }
    if (!expect_seen)
        check_tail(v, 0, 0);
    return boots;
}

/* ---- the report ---- */
static int emit_problem(const problem *p)
{
    char mem[1024];
    sigil_buf b;
    sigil_jw w;
    sigil_buf_init(&b, mem, sizeof(mem));
    sigil_jw_init(&w, &b);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "seq"));
    GUARD(p->seq != 0 ? sigil_jw_u64(&w, p->seq) : sigil_jw_null(&w));
    GUARD(sigil_jw_key(&w, "kind"));
    GUARD(sigil_jw_str(&w, p->kind));
    GUARD(sigil_jw_key(&w, "detail"));
    GUARD(sigil_jw_str(&w, p->detail));
    GUARD(sigil_jw_obj_end(&w));
    ENSURE(fwrite(b.data, 1, b.len, stdout) == b.len, SIGIL_E_IO, "stdout: write failed");
    return 0;
}

static int emit_report(verifier *v, size_t boots)
{
    if (v->dropped > 0) {
        v->nproblems--; /* the last slot summarises the rest */
        report(v, 0, "more", "%zu more problems not listed", v->dropped + 1);
    }
    ENSURE(printf("{\"ok\":%s,\"rows\":%llu,\"boots\":%zu,\"problems\":[",
                  v->nproblems == 0 ? "true" : "false", (unsigned long long)v->rows, boots) > 0,
           SIGIL_E_IO, "stdout: write failed");
    for (size_t i = 0; i < v->nproblems; i++) {
        ENSURE(i == 0 || fputc(',', stdout) != EOF, SIGIL_E_IO, "stdout: write failed");
        GUARD(emit_problem(&v->problems[i]));
    }
    ENSURE(fputs("]}\n", stdout) != EOF && fflush(stdout) == 0, SIGIL_E_IO, "stdout: write failed");
    return 0;
}

/* ---- set-up ---- */
/* The gateway's store, never created here: a SQLite file must exist. */
static int open_store(verifier *v)
{
    static const char SQLITE[] = "sqlite:";
    char db[4096];
    const char *url = v->a.store != NULL && v->a.store[0] != '\0' ? v->a.store : NULL;
    if (url != NULL && strncmp(url, SQLITE, strlen(SQLITE)) != 0)
        return sigil_store_open_url(&v->store, url, NULL, true);
    const char *path = url != NULL ? url + strlen(SQLITE) : NULL;
    if (path == NULL) {
        ENSURE(strlen(v->a.home) < sizeof(db) - 16, SIGIL_E_USAGE, "--home: path too long");
        (void)snprintf(db, sizeof(db), "%s/sigil.db", v->a.home);
        path = db;
    }
    ENSURE(access(path, R_OK | W_OK) == 0, SIGIL_E_IO, "no readable database at %s", path);
    return sigil_store_open_sqlite(&v->store, path);
}

/* Without a root, boot documents are parsed but not verified. */
static int load_root(verifier *v)
{
    if (v->a.root == NULL && v->a.dev_root == NULL)
        return 0;
    return cli_root_load(&v->root_der, &v->root_len, &v->root_owned, v->a.dev_root);
}

static int verifier_init(verifier *v, int argc, char **argv)
{
    GUARD(parse_args(&v->a, argc, argv));
    if (v->a.expect != NULL)
        GUARD(parse_expect(v, v->a.expect));
    GUARD(load_root(v));
    v->page = malloc(PAGE_ROWS * sizeof(*v->page));
    v->doc = malloc(SIGIL_ATTEST_DOC_MAX);
    v->problems = malloc(PROBLEMS_MAX * sizeof(*v->problems));
    ENSURE(v->page != NULL && v->doc != NULL && v->problems != NULL, SIGIL_E_NO_MEMORY,
           "out of memory");
    GUARD(open_store(v));
    if (v->a.gateway != NULL)
        GUARD(fetch_expect(v));
    return 0;
}

static void verifier_free(verifier *v)
{
    if (v->store != NULL)
        v->store->ops->close(v->store);
    free(v->root_owned);
    free(v->page);
    free(v->doc);
    free(v->problems);
    free(v->links);
    free(v->boots);
}

static int audit_verify(int argc, char **argv)
{
    verifier v;
    memset(&v, 0, sizeof(v));
    int rc = verifier_init(&v, argc, argv);
    if (rc == 0)
        rc = walk_rows(&v);
    size_t boots = rc == 0 ? check_chains(&v) : 0;
    if (rc == 0)
        rc = emit_report(&v, boots);
    bool ok = v.nproblems == 0;
    verifier_free(&v);
    if (rc != 0)
        return cli_report_error();
    return ok ? CLI_EXIT_OK : CLI_EXIT_PROBLEMS;
}

int cmd_audit(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        return audit_verify(argc - 1, argv + 1);
    (void)sigil_fail(SIGIL_E_USAGE, AUDIT_USAGE);
    return cli_report_error();
}
