/*
 * sigil admin: tenants, bearer tokens and the disable switch of keys in the
 * gateway's store (a switch appends an audit row, as its route does).
 * Untrusted host tooling: a new token is printed once and only its hash is
 * stored; nothing here touches key material.
 *
 *   sigil admin [--home DIR] [--store URL] tenant add NAME | tenant list
 *   sigil admin [--home DIR] [--store URL] token add TENANT | token list [TENANT] | token revoke ID
 *   sigil admin [--home DIR] [--store URL] key disable|enable TENANT KEY_ID
 *
 * Output is one JSON document on stdout.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "gateway/store.h"
#include "gateway/store_pg.h"
#include "sigil/codec.h"

typedef struct {
    const char *noun;
    const char *verb;
    int min_args, max_args;
    int (*run)(sigil_store *s, int argc, char **argv);
} admin_cmd;

/* Prints the document built in w's buffer, with a newline. */
static int emit(sigil_buf *b)
{
    ENSURE(fwrite(b->data, 1, b->len, stdout) == b->len && fputc('\n', stdout) != EOF, SIGIL_E_IO,
           "stdout: write failed");
    return 0;
}

typedef struct {
    sigil_jw w;
    sigil_buf b;
    uint8_t mem[512];
    bool first;
} streamer;

/* Lists stream one item at a time so any number of rows fits. */
static int stream_open(streamer *s, const char *key)
{
    ENSURE(printf("{\"%s\":[", key) > 0, SIGIL_E_IO, "stdout: write failed");
    s->first = true;
    return 0;
}

static int stream_item(streamer *s)
{
    ENSURE(fputs(s->first ? "" : ",", stdout) != EOF &&
               fwrite(s->b.data, 1, s->b.len, stdout) == s->b.len,
           SIGIL_E_IO, "stdout: write failed");
    s->first = false;
    return 0;
}

static int stream_close(void)
{
    ENSURE(fputs("]}\n", stdout) != EOF, SIGIL_E_IO, "stdout: write failed");
    return 0;
}

static void item_begin(streamer *s)
{
    sigil_buf_init(&s->b, s->mem, sizeof(s->mem));
    sigil_jw_init(&s->w, &s->b);
}

static int put_ms_or_null(sigil_jw *w, const char *key, int64_t ms)
{
    GUARD(sigil_jw_key(w, key));
    return ms != 0 ? sigil_jw_u64(w, (uint64_t)ms) : sigil_jw_null(w);
}

/* ---- tenants ---- */
static int tenant_add(sigil_store *s, int argc, char **argv)
{
    uint8_t mem[256];
    sigil_buf b;
    sigil_jw w;
    int64_t now = sigil_store_now_ms();
    (void)argc;
    GUARD(sigil_tenant_name_check(argv[0], strnlen(argv[0], SIGIL_TENANT_MAX + 1)));
    if (s->ops->tenant_add(s, argv[0], now) != 0) {
        if (sigil_errno() == SIGIL_E_CONFLICT)
            BAIL(SIGIL_E_CONFLICT, "tenant: already exists");
        return -1;
    }
    sigil_buf_init(&b, mem, sizeof(mem));
    sigil_jw_init(&w, &b);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "tenant"));
    GUARD(sigil_jw_str(&w, argv[0]));
    GUARD(sigil_jw_key(&w, "created_at"));
    GUARD(sigil_jw_u64(&w, (uint64_t)now));
    GUARD(sigil_jw_obj_end(&w));
    return emit(&b);
}

static int tenant_row(void *ctx, const char *name, int64_t created_ms)
{
    streamer *s = ctx;
    item_begin(s);
    GUARD(sigil_jw_obj_begin(&s->w));
    GUARD(sigil_jw_key(&s->w, "name"));
    GUARD(sigil_jw_str(&s->w, name));
    GUARD(sigil_jw_key(&s->w, "created_at"));
    GUARD(sigil_jw_u64(&s->w, (uint64_t)created_ms));
    GUARD(sigil_jw_obj_end(&s->w));
    return stream_item(s);
}

static int tenant_list(sigil_store *s, int argc, char **argv)
{
    streamer st;
    (void)argc;
    (void)argv;
    GUARD(stream_open(&st, "tenants"));
    GUARD(s->ops->tenant_list(s, tenant_row, &st));
    return stream_close();
}

/* ---- tokens ---- */
static int token_add(sigil_store *s, int argc, char **argv)
{
    char text[SIGIL_TOKEN_LEN + 1];
    sigil_token_record rec;
    uint8_t mem[512];
    sigil_buf b;
    sigil_jw w;
    (void)argc;
    GUARD(sigil_token_generate(text, &rec, argv[0], sigil_store_now_ms()));
    if (s->ops->token_add(s, &rec) != 0) {
        explicit_bzero(text, sizeof(text));
        return -1;
    }
    sigil_buf_init(&b, mem, sizeof(mem));
    sigil_jw_init(&w, &b);
    int rc = sigil_jw_obj_begin(&w) || sigil_jw_key(&w, "id") || sigil_jw_str(&w, rec.id) ||
                     sigil_jw_key(&w, "tenant") || sigil_jw_str(&w, rec.tenant) ||
                     sigil_jw_key(&w, "token") || sigil_jw_str(&w, text) || sigil_jw_obj_end(&w)
                 ? -1
                 : emit(&b);
    explicit_bzero(text, sizeof(text));
    explicit_bzero(mem, sizeof(mem));
    return rc;
}

static int token_row(void *ctx, const sigil_token_record *t)
{
    streamer *s = ctx;
    item_begin(s);
    GUARD(sigil_jw_obj_begin(&s->w));
    GUARD(sigil_jw_key(&s->w, "id"));
    GUARD(sigil_jw_str(&s->w, t->id));
    GUARD(sigil_jw_key(&s->w, "tenant"));
    GUARD(sigil_jw_str(&s->w, t->tenant));
    GUARD(sigil_jw_key(&s->w, "created_at"));
    GUARD(sigil_jw_u64(&s->w, (uint64_t)t->created_ms));
    GUARD(put_ms_or_null(&s->w, "revoked_at", t->revoked_ms));
    GUARD(sigil_jw_obj_end(&s->w));
    return stream_item(s);
}

static int token_list(sigil_store *s, int argc, char **argv)
{
    streamer st;
    const char *tenant = argc > 0 ? argv[0] : NULL;
    if (tenant != NULL) {
        bool exists = false;
        GUARD(sigil_tenant_name_check(tenant, strnlen(tenant, SIGIL_TENANT_MAX + 1)));
        GUARD(s->ops->tenant_exists(s, tenant, &exists));
        ENSURE(exists, SIGIL_E_NOT_FOUND, "tenant: no such tenant");
    }
    GUARD(stream_open(&st, "tokens"));
    GUARD(s->ops->token_list(s, tenant, token_row, &st));
    return stream_close();
}

static int token_revoke(sigil_store *s, int argc, char **argv)
{
    uint8_t mem[256];
    sigil_buf b;
    sigil_jw w;
    int64_t now = sigil_store_now_ms();
    size_t n = strnlen(argv[0], SIGIL_TOKEN_ID_HEX + 1);
    (void)argc;
    ENSURE(n == SIGIL_TOKEN_ID_HEX, SIGIL_E_BAD_FIELD, "token id: expected %d hex digits",
           SIGIL_TOKEN_ID_HEX);
    GUARD(s->ops->token_revoke(s, argv[0], now));
    sigil_buf_init(&b, mem, sizeof(mem));
    sigil_jw_init(&w, &b);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "id"));
    GUARD(sigil_jw_str(&w, argv[0]));
    GUARD(sigil_jw_key(&w, "revoked_at"));
    GUARD(sigil_jw_u64(&w, (uint64_t)now));
    GUARD(sigil_jw_obj_end(&w));
    return emit(&b);
}

/* The host-side switch of docs/API.md "Key lifecycle", as the tenant's
 * routes flip it (gateways see it within their 1 s key cache), and the
 * audit row the route writes for the same change: its op, an action naming
 * the operator's command, the route's answer (200, allow), no hashes and no
 * receipt (docs/API.md "Audit"). */
typedef struct {
    const char *op;
    const char *action;
    sigil_key_state from, to;
} key_switch;

static const key_switch KEY_DISABLE = {"disable", "admin_disable", SIGIL_KEY_ACTIVE,
                                       SIGIL_KEY_DISABLED};
static const key_switch KEY_ENABLE = {"enable", "admin_enable", SIGIL_KEY_DISABLED,
                                      SIGIL_KEY_ACTIVE};

/* Appends the change's row to the chained audit log; *seq is its seq. */
static int key_state_audit(sigil_store *s, char **argv, const key_switch *k, uint64_t *seq)
{
    char why[256];
    sigil_audit_record a = {
        .time_ms = sigil_store_now_ms(),
        .tenant = argv[0],
        .key_id = argv[1],
        .op = k->op,
        .action = k->action,
        .decision = "allow",
        .http_status = 200,
    };
    if (s->ops->record_outcome(s, &a, NULL, seq) == 0)
        return 0;
    (void)snprintf(why, sizeof(why), "%s", sigil_errmsg());
    BAIL(SIGIL_E_AUDIT_UNAVAILABLE,
         "audit log unavailable (%s): the key is %s, but no record of it "
         "was written",
         why, sigil_key_state_name(k->to));
}

static int key_state(sigil_store *s, char **argv, const key_switch *k)
{
    uint8_t mem[256];
    sigil_buf b;
    sigil_jw w;
    uint64_t seq = 0;
    GUARD(sigil_tenant_name_check(argv[0], strnlen(argv[0], SIGIL_TENANT_MAX + 1)));
    GUARD(sigil_key_id_check(argv[1], strnlen(argv[1], SIGIL_KEY_ID_MAX + 1)));
    GUARD(s->ops->key_set_state(s, argv[0], argv[1], k->from, k->to));
    GUARD(key_state_audit(s, argv, k, &seq));
    sigil_buf_init(&b, mem, sizeof(mem));
    sigil_jw_init(&w, &b);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "tenant"));
    GUARD(sigil_jw_str(&w, argv[0]));
    GUARD(sigil_jw_key(&w, "key_id"));
    GUARD(sigil_jw_str(&w, argv[1]));
    GUARD(sigil_jw_key(&w, "state"));
    GUARD(sigil_jw_str(&w, sigil_key_state_name(k->to)));
    GUARD(sigil_jw_key(&w, "audit_seq"));
    GUARD(sigil_jw_u64(&w, seq));
    GUARD(sigil_jw_obj_end(&w));
    return emit(&b);
}

static int key_disable(sigil_store *s, int argc, char **argv)
{
    (void)argc;
    return key_state(s, argv, &KEY_DISABLE);
}

static int key_enable(sigil_store *s, int argc, char **argv)
{
    (void)argc;
    return key_state(s, argv, &KEY_ENABLE);
}

static const admin_cmd CMDS[] = {
    {"tenant", "add", 1, 1, tenant_add},     {"tenant", "list", 0, 0, tenant_list},
    {"token", "add", 1, 1, token_add},       {"token", "list", 0, 1, token_list},
    {"token", "revoke", 1, 1, token_revoke}, {"key", "disable", 2, 2, key_disable},
    {"key", "enable", 2, 2, key_enable},
};

static const char USAGE[] =
    "usage: sigil admin [--home DIR] [--store postgresql://...|sqlite:PATH] "
    "tenant add NAME | tenant list | "
    "token add TENANT | token list [TENANT] | token revoke ID | "
    "key disable|enable TENANT KEY_ID";

int cmd_admin(int argc, char **argv)
{
    const char *home = NULL, *store = NULL;
    sigil_store *s = NULL;
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        const char **opt = strcmp(argv[i], "--home") == 0    ? &home
                           : strcmp(argv[i], "--store") == 0 ? &store
                                                             : NULL;
        if (opt == NULL)
            break;
        *opt = argv[i + 1];
    }
    if (argc - i < 2) {
        (void)sigil_fail(SIGIL_E_USAGE, "%s", USAGE);
        return cli_report_error();
    }
    const admin_cmd *c = NULL;
    for (size_t k = 0; k < SIGIL_ARRAY_LEN(CMDS); k++)
        if (strcmp(argv[i], CMDS[k].noun) == 0 && strcmp(argv[i + 1], CMDS[k].verb) == 0)
            c = &CMDS[k];
    int nargs = argc - i - 2;
    if (c == NULL || nargs < c->min_args || nargs > c->max_args) {
        (void)sigil_fail(SIGIL_E_USAGE, "%s", USAGE);
        return cli_report_error();
    }
    if (sigil_store_open_url(&s, store, home, true) != 0)
        return cli_report_error();
    int rc = c->run(s, nargs, argv + i + 2);
    s->ops->close(s);
    if (rc != 0)
        return cli_report_error();
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_INTERNAL;
}
