/*
 * Paradex inspection (libsigil-core, untrusted input): the request Sigil
 * signs for Paradex (docs/CLI.md "Paradex") names its message, and for an
 * order or a modification the market, side, size and price in Paradex's
 * own decimal units (Sigil scales them by 10^8 when signing). Also the
 * message's class and the time it carries, for the tables of
 * request_class.c and request_time.c.
 */
#include <string.h>

#include "policy/inspect_internal.h"

int insp_paradex(insp_ctx *c);
int policy_classify_paradex(sigil_action *out, const sigil_json *d);
int policy_time_paradex(uint64_t *out, const sigil_json *d, bool *found);

typedef struct {
    const char *message;
    sigil_action action;
    const char *time_field;
    uint64_t time_to_ms;
} paradex_message;

/* Onboarding registers the account's key: no order, no money moved, but
 * more than a login, so it is `other`. Unknown messages are `other` too
 * (the signer refuses them). */
static const paradex_message MESSAGES[] = {
    {"order", SIGIL_ACTION_ORDER, "signature_timestamp", 1},
    {"modify_order", SIGIL_ACTION_MODIFY, "signature_timestamp", 1},
    {"auth", SIGIL_ACTION_AUTH, "timestamp", 1000},
    {"onboarding", SIGIL_ACTION_OTHER, "timestamp", 1},  /* not signed: for freshness only */
    {"account_info", SIGIL_ACTION_READ, "timestamp", 1}, /* signs nothing */
};

/* Order types whose signed price is a limit price (those with MARKET in
 * the name are signed with price 0: no price). */
static const char *const PRICED[] = {"LIMIT", "STOP_LIMIT", "TAKE_PROFIT_LIMIT", "STOP_LOSS_LIMIT"};

static const insp_fields ORDER_FIELDS = {
    .symbol = "market", .side = "side", .qty = "size", .price = "price"};

static int message_of(const paradex_message **out, const sigil_json *d)
{
    uint32_t t;
    *out = NULL;
    GUARD(sigil_json_get_str(d, 0, "message", true, &t, "request"));
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(MESSAGES); i++)
        if (sigil_json_str_eq(d, t, MESSAGES[i].message))
            *out = &MESSAGES[i];
    return 0;
}

int policy_classify_paradex(sigil_action *out, const sigil_json *d)
{
    const paradex_message *m;
    GUARD(message_of(&m, d));
    *out = m != NULL ? m->action : SIGIL_ACTION_OTHER;
    return 0;
}

int policy_time_paradex(uint64_t *out, const sigil_json *d, bool *found)
{
    const paradex_message *m;
    *found = false;
    GUARD(message_of(&m, d));
    if (m == NULL)
        return 0;
    uint32_t t = sigil_json_get(d, 0, m->time_field);
    if (t == 0)
        return 0;
    uint64_t v;
    GUARD(sigil_json_tok_u64(d, t, &v, m->time_field));
    ENSURE(v <= UINT64_MAX / m->time_to_ms, SIGIL_E_OUT_OF_RANGE, "request.%s: out of range",
           m->time_field);
    *out = v * m->time_to_ms;
    *found = true;
    return 0;
}

int insp_paradex(insp_ctx *c)
{
    const paradex_message *m;
    insp_src s;
    sigil_order *o;
    GUARD(message_of(&m, c->req));
    if (m == NULL || (m->action != SIGIL_ACTION_ORDER && m->action != SIGIL_ACTION_MODIFY) ||
        m->action != c->action)
        return 0;
    insp_src_json(&s, c->req, 0, "request");
    GUARD(insp_order_read(&o, c, &s, &ORDER_FIELDS));
    GUARD(insp_price_only_for(o, &s, "type", PRICED, SIGIL_ARRAY_LEN(PRICED)));
    c->out->orders_known = true;
    return 0;
}
