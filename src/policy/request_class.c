/*
 * Request classification (libsigil-core, untrusted input): which action a
 * venue request is, so the policy can allow or deny it. One table per venue
 * (docs/POLICY.md prints them). Where a venue's signature binds the endpoint
 * (method and path), the endpoint decides; where it does not (binance and
 * bybit sign parameters only, aster signs the query only), the class is the
 * most dangerous of the endpoint's and the one the signed parameters could
 * serve elsewhere. When unsure, the more dangerous class wins.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy/policy_internal.h"

#define PATH_MAX_BYTES 1024
#define NAME_MAX_BYTES 128

/* ---- danger order: max() of two classes keeps the more dangerous ---- */
static const uint8_t RANK[SIGIL_ACTION_COUNT_] = {
    [SIGIL_ACTION_READ] = 0,     [SIGIL_ACTION_AUTH] = 1,   [SIGIL_ACTION_OTHER] = 2,
    [SIGIL_ACTION_CANCEL] = 3,   [SIGIL_ACTION_MODIFY] = 4, [SIGIL_ACTION_ORDER] = 5,
    [SIGIL_ACTION_LEVERAGE] = 6, [SIGIL_ACTION_AGENT] = 7,  [SIGIL_ACTION_TRANSFER] = 8,
    [SIGIL_ACTION_WITHDRAW] = 9,
};

static sigil_action worse(sigil_action a, sigil_action b)
{
    return RANK[b] > RANK[a] ? b : a;
}

static _Thread_local sigil_json_tok tl_toks[8192];

int policy_request_parse(sigil_json *d, const char *req, size_t len)
{
    GUARD(sigil_json_parse(d, req, len, tl_toks, SIGIL_ARRAY_LEN(tl_toks)));
    return sigil_json_expect(d, 0, SIGIL_JSON_OBJECT, "request", NULL);
}

/* ---- request fields ---- */

typedef struct {
    const sigil_json *d;
    uint8_t method; /* SIGIL_METHOD_* bit, 0 when not one of the four */
    char path[PATH_MAX_BYTES];
    size_t path_len;
} cex_req;

/* A string member decoded into dst, NUL-terminated; "" when absent. */
static int member_str(char *dst, size_t cap, size_t *n, const sigil_json *d, uint32_t obj,
                      const char *key)
{
    uint32_t t;
    sigil_buf b;
    GUARD(sigil_json_get_str(d, obj, key, false, &t, "request"));
    sigil_buf_init(&b, dst, cap - 1);
    if (t != 0 && sigil_json_str(d, t, &b) != 0)
        BAIL(SIGIL_E_BAD_FIELD, "request.%s: longer than %zu bytes", key, cap - 1);
    dst[b.len] = '\0';
    ENSURE(memchr(dst, '\0', b.len) == NULL, SIGIL_E_BAD_FIELD, "request.%s: contains NUL", key);
    if (n != NULL)
        *n = b.len;
    return 0;
}

/* Paths are matched as the venue would route them: a path that a server
 * might normalise to another one (percent-escapes, empty or dot segments,
 * ';' parameters, backslashes) is refused rather than guessed at. One
 * trailing '/' is ignored. */
static int normalise_path(char *path, size_t *path_len)
{
    static const char *const BAD[] = {"%", "//", "/./", "/../", ";", "\\"};
    ENSURE(*path_len > 0 && path[0] == '/', SIGIL_E_BAD_FIELD, "request.path: must start with '/'");
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++)
        ENSURE(strstr(path, BAD[i]) == NULL, SIGIL_E_BAD_REQUEST,
               "request.path: not in normal form (percent-escapes, empty or dot segments, ';' "
               "and '\\' are refused)");
    size_t n = *path_len;
    bool dot_end = (n >= 2 && memcmp(path + n - 2, "/.", 2) == 0) ||
                   (n >= 3 && memcmp(path + n - 3, "/..", 3) == 0);
    ENSURE(!dot_end, SIGIL_E_BAD_REQUEST, "request.path: not in normal form (dot segment)");
    if (n > 1 && path[n - 1] == '/')
        path[--*path_len] = '\0';
    return 0;
}

/* ---- endpoint tables ---- */

enum { M_GET = 1, M_POST = 2, M_PUT = 4, M_DELETE = 8, M_WRITE = 14, M_ANY = 15 };

typedef enum { EXACT, PREFIX, CONTAINS, SUFFIX } match_kind;

typedef struct {
    unsigned methods;
    match_kind kind;
    const char *pattern;
    sigil_action action;
} path_rule;

static unsigned method_bit(const char *m)
{
    static const struct {
        const char *name;
        unsigned bit;
    } METHODS[] = {{"GET", M_GET}, {"POST", M_POST}, {"PUT", M_PUT}, {"DELETE", M_DELETE}};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(METHODS); i++)
        if (strcmp(m, METHODS[i].name) == 0)
            return METHODS[i].bit;
    return 0;
}

int policy_request_endpoint(uint8_t *method, char *path, size_t cap, size_t *path_len,
                            const sigil_json *d)
{
    char m[8];
    size_t n;
    GUARD(member_str(m, sizeof(m), &n, d, 0, "method"));
    GUARD(member_str(path, cap, path_len, d, 0, "path"));
    ENSURE(n > 0, SIGIL_E_MISSING_FIELD, "request.method: required field missing");
    ENSURE(*path_len > 0, SIGIL_E_MISSING_FIELD, "request.path: required field missing");
    GUARD(normalise_path(path, path_len));
    *method = (uint8_t)method_bit(m);
    return 0;
}

static int cex_read(cex_req *r, const sigil_json *d)
{
    r->d = d;
    return policy_request_endpoint(&r->method, r->path, sizeof(r->path), &r->path_len, d);
}

/* Case-insensitive: a venue that routes paths case-insensitively must not
 * see a dangerous endpoint the table missed by letter case. */
static bool path_matches(const char *path, size_t n, const path_rule *rule)
{
    size_t m = strlen(rule->pattern);
    switch (rule->kind) {
    case EXACT:
        return n == m && strncasecmp(path, rule->pattern, m) == 0;
    case PREFIX:
        return n >= m && strncasecmp(path, rule->pattern, m) == 0;
    case SUFFIX:
        return n >= m && strncasecmp(path + n - m, rule->pattern, m) == 0;
    case CONTAINS:
        for (size_t i = 0; i + m <= n; i++)
            if (strncasecmp(path + i, rule->pattern, m) == 0)
                return true;
        return false;
    default:
        return false;
    }
}

/* First matching rule, else the fallback for the method (GET reads, any
 * other method is "other" unless the table says more). */
static int classify_path(sigil_action *out, const cex_req *r, const path_rule *rules, size_t n,
                         sigil_action get_fallback)
{
    unsigned m = r->method;
    ENSURE(m != 0, SIGIL_E_BAD_FIELD, "request.method: expected GET, POST, PUT or DELETE");
    for (size_t i = 0; i < n; i++) {
        if ((rules[i].methods & m) && path_matches(r->path, r->path_len, &rules[i])) {
            *out = rules[i].action;
            return 0;
        }
    }
    *out = m == M_GET ? get_fallback : SIGIL_ACTION_OTHER;
    return 0;
}

#define R(m, k, p, a)                                                                              \
    {                                                                                              \
        (m), (k), (p), SIGIL_ACTION_##a                                                            \
    }

/* Money leaving or moving is caught by name before anything else. */
#define MONEY_RULES(m) R(m, CONTAINS, "withdraw", WITHDRAW), R(m, CONTAINS, "transfer", TRANSFER)

/* Binance spot/margin/futures REST, and Aster (the same API shape). */
#define BINANCE_RULES                                                                              \
    MONEY_RULES(M_WRITE), R(M_WRITE, PREFIX, "/sapi/v1/sub-account/", TRANSFER),                   \
        R(M_WRITE, PREFIX, "/sapi/v1/capital/", WITHDRAW),                                         \
        R(M_WRITE, PREFIX, "/sapi/v1/asset/", TRANSFER),                                           \
        R(M_WRITE, PREFIX, "/sapi/v1/convert/", TRANSFER),                                         \
        R(M_WRITE, PREFIX, "/sapi/v1/margin/loan", LEVERAGE),                                      \
        R(M_WRITE, PREFIX, "/sapi/v1/margin/repay", LEVERAGE),                                     \
        R(M_WRITE, SUFFIX, "/leverage", LEVERAGE), R(M_WRITE, SUFFIX, "/marginType", LEVERAGE),    \
        R(M_WRITE, SUFFIX, "/positionMargin", LEVERAGE),                                           \
        R(M_WRITE, SUFFIX, "/positionSide/dual", LEVERAGE),                                        \
        R(M_WRITE, SUFFIX, "/multiAssetsMargin", LEVERAGE),                                        \
        R(M_WRITE, SUFFIX, "/countdownCancelAll", CANCEL), R(M_WRITE, CONTAINS, "/amend", MODIFY), \
        R(M_PUT, CONTAINS, "order", MODIFY), R(M_DELETE, PREFIX, "/", CANCEL),                     \
        R(M_POST, CONTAINS, "order", ORDER)

static const path_rule BINANCE_PATHS[] = {BINANCE_RULES};

static const path_rule ASTER_PATHS[] = {
    R(M_ANY, SUFFIX, "/registerAndApproveAgent", AGENT),
    BINANCE_RULES,
};

static const path_rule BYBIT_PATHS[] = {
    MONEY_RULES(M_WRITE),
    R(M_WRITE, PREFIX, "/v5/asset/", TRANSFER),
    R(M_WRITE, PREFIX, "/v5/user/", AGENT),
    R(M_WRITE, CONTAINS, "cancel", CANCEL),
    R(M_WRITE, CONTAINS, "amend", MODIFY),
    R(M_WRITE, SUFFIX, "/position/trading-stop", MODIFY),
    R(M_WRITE, PREFIX, "/v5/order/", ORDER),
    R(M_WRITE, PREFIX, "/v5/position/", LEVERAGE),
    R(M_WRITE, PREFIX, "/v5/account/", LEVERAGE),
    R(M_WRITE, PREFIX, "/v5/spot-margin-trade/", LEVERAGE),
};

static const path_rule OKX_PATHS[] = {
    MONEY_RULES(M_WRITE),
    R(M_WRITE, PREFIX, "/api/v5/asset/", TRANSFER),
    R(M_WRITE, PREFIX, "/api/v5/finance/", TRANSFER),
    R(M_WRITE, PREFIX, "/api/v5/users/", AGENT),
    R(M_WRITE, CONTAINS, "cancel", CANCEL),
    R(M_WRITE, CONTAINS, "amend", MODIFY),
    R(M_WRITE, PREFIX, "/api/v5/trade/", ORDER),
    R(M_WRITE, PREFIX, "/api/v5/sprd/", ORDER),
    R(M_WRITE, PREFIX, "/api/v5/copytrading/", ORDER),
    R(M_WRITE, PREFIX, "/api/v5/tradingBot/", ORDER),
    R(M_WRITE, PREFIX, "/api/v5/account/", LEVERAGE),
};

static const path_rule KUCOIN_PATHS[] = {
    MONEY_RULES(M_WRITE),
    R(M_WRITE, CONTAINS, "api-key", AGENT),
    R(M_WRITE, CONTAINS, "/sub/", AGENT),
    R(M_WRITE, CONTAINS, "/margin/borrow", LEVERAGE),
    R(M_WRITE, CONTAINS, "/margin/repay", LEVERAGE),
    R(M_DELETE, PREFIX, "/", CANCEL),
    R(M_WRITE, CONTAINS, "cancel", CANCEL),
    R(M_WRITE, CONTAINS, "alter", MODIFY),
    R(M_WRITE, CONTAINS, "order", ORDER),
    R(M_WRITE, CONTAINS, "leverage", LEVERAGE),
    R(M_WRITE, CONTAINS, "margin", LEVERAGE),
    R(M_WRITE, CONTAINS, "risk-limit", LEVERAGE),
    R(M_WRITE, CONTAINS, "position", LEVERAGE),
};

#define KRAKEN(name, a) R(M_ANY, EXACT, "/0/private/" name, a)
static const path_rule KRAKEN_PATHS[] = {
    KRAKEN("Balance", READ),
    KRAKEN("BalanceEx", READ),
    KRAKEN("TradeBalance", READ),
    KRAKEN("OpenOrders", READ),
    KRAKEN("ClosedOrders", READ),
    KRAKEN("QueryOrders", READ),
    KRAKEN("OrderAmends", READ),
    KRAKEN("TradesHistory", READ),
    KRAKEN("QueryTrades", READ),
    KRAKEN("OpenPositions", READ),
    KRAKEN("Ledgers", READ),
    KRAKEN("QueryLedgers", READ),
    KRAKEN("TradeVolume", READ),
    KRAKEN("DepositMethods", READ),
    KRAKEN("DepositAddresses", READ),
    KRAKEN("DepositStatus", READ),
    KRAKEN("WithdrawMethods", READ),
    KRAKEN("WithdrawAddresses", READ),
    KRAKEN("WithdrawInfo", READ),
    KRAKEN("WithdrawStatus", READ),
    KRAKEN("ExportStatus", READ),
    KRAKEN("RetrieveExport", READ),
    KRAKEN("Earn/Strategies", READ),
    KRAKEN("Earn/Allocations", READ),
    KRAKEN("Earn/AllocateStatus", READ),
    KRAKEN("Earn/DeallocateStatus", READ),
    KRAKEN("AddOrder", ORDER),
    KRAKEN("AddOrderBatch", ORDER),
    KRAKEN("EditOrder", MODIFY),
    KRAKEN("AmendOrder", MODIFY),
    KRAKEN("CancelOrder", CANCEL),
    KRAKEN("CancelAll", CANCEL),
    KRAKEN("CancelAllOrdersAfter", CANCEL),
    KRAKEN("CancelOrderBatch", CANCEL),
    KRAKEN("GetWebSocketsToken", AUTH),
    KRAKEN("Earn/Allocate", TRANSFER),
    KRAKEN("Earn/Deallocate", TRANSFER),
    KRAKEN("Stake", TRANSFER),
    KRAKEN("Unstake", TRANSFER),
    MONEY_RULES(M_ANY),
};

static const path_rule BITGET_PATHS[] = {
    MONEY_RULES(M_WRITE),
    R(M_WRITE, PREFIX, "/api/v2/convert/", TRANSFER),
    R(M_WRITE, PREFIX, "/api/v2/earn/", TRANSFER),
    R(M_WRITE, PREFIX, "/api/v2/user/", AGENT),
    R(M_WRITE, CONTAINS, "cancel-replace", MODIFY),
    R(M_WRITE, CONTAINS, "modify", MODIFY),
    R(M_WRITE, CONTAINS, "cancel", CANCEL),
    R(M_WRITE, CONTAINS, "place", ORDER),
    R(M_WRITE, CONTAINS, "batch-orders", ORDER),
    R(M_WRITE, CONTAINS, "close-position", ORDER),
    R(M_WRITE, CONTAINS, "backhand", ORDER),
    R(M_WRITE, CONTAINS, "/order/", ORDER),
    R(M_WRITE, CONTAINS, "/account/set-", LEVERAGE),
    R(M_WRITE, CONTAINS, "/margin/", LEVERAGE),
};

/* coinbase: the JWT binds METHOD host/path only (the query travels
 * unsigned), so only the path decides. */
static const path_rule COINBASE_PATHS[] = {
    MONEY_RULES(M_WRITE),
    R(M_WRITE, CONTAINS, "/transactions", WITHDRAW), /* v2 send money */
    R(M_WRITE, CONTAINS, "/move_funds", TRANSFER),
    R(M_WRITE, CONTAINS, "/deposits", TRANSFER),
    R(M_WRITE, PREFIX, "/api/v3/brokerage/intx/", TRANSFER),
    R(M_WRITE, PREFIX, "/api/v3/brokerage/cfm/sweeps", TRANSFER),
    R(M_WRITE, PREFIX, "/api/v3/brokerage/portfolios", AGENT),
    R(M_WRITE, CONTAINS, "cancel", CANCEL),
    R(M_WRITE, CONTAINS, "/orders/edit", MODIFY),
    R(M_WRITE, PREFIX, "/api/v3/brokerage/orders", ORDER),
};

static const path_rule GATE_PATHS[] = {
    MONEY_RULES(M_WRITE),
    R(M_WRITE, PREFIX, "/api/v4/sub_accounts", AGENT),
    R(M_WRITE, PREFIX, "/api/v4/flash_swap", TRANSFER),
    R(M_WRITE, PREFIX, "/api/v4/earn", TRANSFER),
    R(M_WRITE, CONTAINS, "cancel", CANCEL),
    R(M_WRITE, CONTAINS, "amend", MODIFY),
    R(M_PUT, CONTAINS, "orders", MODIFY),
    R(M_DELETE, CONTAINS, "orders", CANCEL),
    R(M_WRITE, CONTAINS, "/leverage", LEVERAGE),
    R(M_WRITE, CONTAINS, "/margin", LEVERAGE),
    R(M_WRITE, CONTAINS, "/risk_limit", LEVERAGE),
    R(M_WRITE, CONTAINS, "/dual_", LEVERAGE),
    R(M_WRITE, CONTAINS, "cross_mode", LEVERAGE),
    R(M_WRITE, CONTAINS, "/loans", LEVERAGE),
    R(M_WRITE, PREFIX, "/api/v4/unified/", LEVERAGE),
    R(M_POST, CONTAINS, "orders", ORDER),
};

/* Deribit acts on GET as well as POST: the method name in the path decides. */
#define DERIBIT(kind, name, a) R(M_ANY, kind, "/api/v2/private/" name, a)
static const path_rule DERIBIT_PATHS[] = {
    R(M_ANY, PREFIX, "/api/v2/public/", READ),
    DERIBIT(PREFIX, "get_", READ),
    DERIBIT(PREFIX, "simulate_", READ),
    MONEY_RULES(M_ANY),
    R(M_ANY, CONTAINS, "api_key", AGENT),
    R(M_ANY, CONTAINS, "subaccount", AGENT),
    DERIBIT(EXACT, "buy", ORDER),
    DERIBIT(EXACT, "sell", ORDER),
    DERIBIT(EXACT, "close_position", ORDER),
    DERIBIT(EXACT, "mass_quote", ORDER),
    DERIBIT(PREFIX, "edit", MODIFY),
    DERIBIT(PREFIX, "cancel", CANCEL),
};

static const path_rule BITFINEX_PATHS[] = {
    R(M_ANY, PREFIX, "/v2/auth/r/", READ),
    R(M_ANY, PREFIX, "/v2/auth/calc/", READ),
    MONEY_RULES(M_ANY),
    R(M_ANY, PREFIX, "/v2/auth/w/funding/", TRANSFER),
    R(M_ANY, PREFIX, "/v2/auth/w/token", AGENT),
    R(M_ANY, EXACT, "/v2/auth/w/order/update", MODIFY),
    R(M_ANY, PREFIX, "/v2/auth/w/order/cancel", CANCEL),
    R(M_ANY, PREFIX, "/v2/auth/w/order/", ORDER),
    R(M_ANY, PREFIX, "/v2/auth/w/position/", ORDER),
    R(M_ANY, PREFIX, "/v2/auth/w/deriv/collateral/", LEVERAGE),
};

/* ---- names (Binance WebSocket API methods, Hyperliquid action types) ---- */

static sigil_action classify_name(const char *name, size_t n, const path_rule *rules, size_t nrules,
                                  sigil_action fallback)
{
    for (size_t i = 0; i < nrules; i++)
        if (path_matches(name, n, &rules[i]))
            return rules[i].action;
    return fallback;
}

#define N(k, p, a) R(M_ANY, k, p, a)
static const path_rule BINANCE_WS_METHODS[] = {
    N(PREFIX, "session.", AUTH),      N(PREFIX, "userDataStream.", READ),
    N(SUFFIX, ".status", READ),       N(PREFIX, "account.", READ),
    N(PREFIX, "allOrders", READ),     N(PREFIX, "allOrderLists", READ),
    N(PREFIX, "myTrades", READ),      N(PREFIX, "myPreventedMatches", READ),
    N(PREFIX, "myAllocations", READ), N(EXACT, "order.cancelReplace", ORDER),
    N(CONTAINS, "cancel", CANCEL),    N(CONTAINS, "amend", MODIFY),
    N(CONTAINS, "modify", MODIFY),    N(CONTAINS, "place", ORDER),
    N(CONTAINS, "test", ORDER),
};

static const path_rule HYPERLIQUID_TYPES[] = {
    N(EXACT, "order", ORDER),
    N(EXACT, "twapOrder", ORDER),
    N(EXACT, "cancel", CANCEL),
    N(EXACT, "cancelByCloid", CANCEL),
    N(EXACT, "scheduleCancel", CANCEL),
    N(EXACT, "twapCancel", CANCEL),
    N(EXACT, "modify", MODIFY),
    N(EXACT, "batchModify", MODIFY),
    N(EXACT, "updateLeverage", LEVERAGE),
    N(EXACT, "updateIsolatedMargin", LEVERAGE),
    N(EXACT, "topUpIsolatedOnlyMargin", LEVERAGE),
    N(EXACT, "userDexAbstraction", LEVERAGE),
    N(EXACT, "userSetAbstraction", LEVERAGE),
    N(EXACT, "userPortfolioMargin", LEVERAGE),
    N(EXACT, "usdSend", TRANSFER),
    N(EXACT, "spotSend", TRANSFER),
    N(EXACT, "usdClassTransfer", TRANSFER),
    N(EXACT, "sendAsset", TRANSFER),
    N(EXACT, "vaultTransfer", TRANSFER),
    N(EXACT, "subAccountTransfer", TRANSFER),
    N(EXACT, "subAccountSpotTransfer", TRANSFER),
    N(EXACT, "cDeposit", TRANSFER),
    N(EXACT, "cWithdraw", TRANSFER),
    N(EXACT, "tokenDelegate", TRANSFER),
    N(EXACT, "sendToEvmWithData", TRANSFER),
    N(EXACT, "createVault", TRANSFER),
    N(EXACT, "withdraw3", WITHDRAW),
    N(EXACT, "multiSig", WITHDRAW),
    N(EXACT, "approveAgent", AGENT),
    N(EXACT, "approveBuilderFee", AGENT),
    N(EXACT, "convertToMultiSigUser", AGENT),
    N(EXACT, "linkStakingUser", AGENT),
    N(EXACT, "createSubAccount", AGENT),
};

/* A string token's value: its raw text when it has no escapes, else decoded
 * into a per-thread buffer (one value at a time). */
static _Thread_local char tl_text[256 * 1024];

static int string_value(sigil_slice *out, const sigil_json *d, uint32_t t)
{
    sigil_buf b;
    if (sigil_json_str_is_plain(d, t)) {
        *out = sigil_json_raw(d, t);
        return 0;
    }
    sigil_buf_init(&b, tl_text, sizeof(tl_text));
    GUARD(sigil_json_str(d, t, &b));
    out->p = tl_text;
    out->len = b.len;
    return 0;
}

/* ---- signed parameters (venues whose signature does not bind the endpoint) ---- */

typedef struct {
    const char *name;
    sigil_action action;
} param_trigger;

#define P(n, a)                                                                                    \
    {                                                                                              \
        (n), SIGIL_ACTION_##a                                                                      \
    }
/* The parameters a dangerous endpoint requires: a request carrying one may be
 * valid there, whatever path it names. */
static const param_trigger BINANCE_PARAMS[] = {
    P("address", WITHDRAW),
    P("withdrawOrderId", WITHDRAW),
    P("receiver", WITHDRAW),
    P("toAddress", WITHDRAW),
    P("userSignature", WITHDRAW),
    P("amount", TRANSFER),
    P("toEmail", TRANSFER),
    P("fromEmail", TRANSFER),
    P("fromAccountType", TRANSFER),
    P("toAccountType", TRANSFER),
    P("clientTranId", TRANSFER),
    P("kindType", TRANSFER),
    P("agentAddress", AGENT),
    P("agentName", AGENT),
    P("builder", AGENT),
    P("leverage", LEVERAGE),
    P("marginType", LEVERAGE),
    P("dualSidePosition", LEVERAGE),
    P("multiAssetsMargin", LEVERAGE),
    P("side", ORDER),
    P("quantity", ORDER),
    P("quoteOrderQty", ORDER),
    P("batchOrders", ORDER),
    P("newQty", MODIFY),
    P("orderId", CANCEL),
    P("origClientOrderId", CANCEL),
    P("orderIdList", CANCEL),
    P("origClientOrderIdList", CANCEL),
    P("orderListId", CANCEL),
    P("listClientOrderId", CANCEL),
    P("countdownTime", CANCEL),
};

static const param_trigger BYBIT_PARAMS[] = {
    P("address", WITHDRAW),
    P("amount", TRANSFER),
    P("transferId", TRANSFER),
    P("fromMemberId", TRANSFER),
    P("toMemberId", TRANSFER),
    P("buyLeverage", LEVERAGE),
    P("sellLeverage", LEVERAGE),
    P("tradeMode", LEVERAGE),
    P("setMarginMode", LEVERAGE),
    P("margin", LEVERAGE),
    P("autoAddMargin", LEVERAGE),
    P("mode", LEVERAGE),
    P("side", ORDER),
    P("qty", ORDER),
    P("request", ORDER),
    P("takeProfit", MODIFY),
    P("stopLoss", MODIFY),
    P("triggerPrice", MODIFY),
    P("orderId", CANCEL),
    P("orderLinkId", CANCEL),
    P("category", CANCEL),
    P("symbol", CANCEL),
};

/* Parameters that only authenticate the request. */
static const char *const NEUTRAL_PARAMS[] = {"timestamp", "recvWindow", "apiKey", "signature",
                                             "nonce",     "signer",     "user"};

typedef struct {
    const param_trigger *triggers;
    size_t ntriggers;
    const char *scope; /* a parameter that alone scopes a cancel-all ("symbol"), or NULL */
    sigil_action cls;
    size_t n_other; /* parameters that are not neutral */
    bool has_scope;
} param_acc;

static void acc_name(param_acc *a, const char *name, size_t n)
{
    bool neutral = false;
    for (size_t i = 0; i < a->ntriggers; i++)
        if (strlen(a->triggers[i].name) == n && strncasecmp(name, a->triggers[i].name, n) == 0)
            a->cls = worse(a->cls, a->triggers[i].action);
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(NEUTRAL_PARAMS); i++)
        neutral = neutral ||
                  (strlen(NEUTRAL_PARAMS[i]) == n && strncasecmp(name, NEUTRAL_PARAMS[i], n) == 0);
    if (!neutral)
        a->n_other++;
    if (a->scope != NULL && strlen(a->scope) == n && strncasecmp(name, a->scope, n) == 0)
        a->has_scope = true;
}

/* A signature over no parameters is valid on every endpoint that takes none
 * ("other"); over the scope alone, on cancel-all. */
static sigil_action acc_result(const param_acc *a)
{
    sigil_action c = a->cls;
    if (a->n_other == 0)
        c = worse(c, SIGIL_ACTION_OTHER);
    if (a->n_other == 1 && a->has_scope)
        c = worse(c, SIGIL_ACTION_CANCEL);
    return c;
}

static int acc_query_text(param_acc *a, const sigil_json *d, const char *field)
{
    uint32_t t;
    sigil_slice text;
    char what[32];
    static _Thread_local sigil_query q;
    GUARD(sigil_json_get_str(d, 0, field, false, &t, "request"));
    if (t == 0)
        return 0;
    GUARD(string_value(&text, d, t));
    (void)snprintf(what, sizeof(what), "request.%s", field);
    GUARD(sigil_query_parse(&q, text.p, text.len, what));
    for (size_t i = 0; i < q.n; i++) {
        char name[NAME_MAX_BYTES];
        sigil_buf nb;
        sigil_buf_init(&nb, name, sizeof(name));
        if (sigil_pct_decode(&nb, q.params[i].key.p, q.params[i].key.len, true, what) != 0) {
            acc_name(a, "", 0); /* too long to be a name we know: still counted */
            continue;
        }
        acc_name(a, name, nb.len);
    }
    return 0;
}

static void acc_object_keys(param_acc *a, const sigil_json *d, uint32_t obj)
{
    for (uint32_t k = sigil_json_first(d, obj); k != 0; k = sigil_json_sibling(d, obj, k)) {
        char name[NAME_MAX_BYTES];
        sigil_buf nb;
        sigil_buf_init(&nb, name, sizeof(name));
        if (sigil_json_str(d, k, &nb) != 0)
            nb.len = 0;
        acc_name(a, name, nb.len);
    }
}

/* ---- per-venue classifiers ---- */

typedef int (*classify_fn)(sigil_action *out, const sigil_json *d);

static int by_path(sigil_action *out, const sigil_json *d, const path_rule *rules, size_t n,
                   sigil_action get_fallback)
{
    cex_req r;
    GUARD(cex_read(&r, d));
    return classify_path(out, &r, rules, n, get_fallback);
}

#define BY_PATH(fn, table, get_fallback)                                                           \
    static int fn(sigil_action *out, const sigil_json *d)                                          \
    {                                                                                              \
        return by_path(out, d, table, SIGIL_ARRAY_LEN(table), get_fallback);                       \
    }

BY_PATH(classify_kucoin, KUCOIN_PATHS, SIGIL_ACTION_READ)
BY_PATH(classify_kraken, KRAKEN_PATHS, SIGIL_ACTION_OTHER)
BY_PATH(classify_bitget, BITGET_PATHS, SIGIL_ACTION_READ)
BY_PATH(classify_gate, GATE_PATHS, SIGIL_ACTION_READ)
BY_PATH(classify_coinbase, COINBASE_PATHS, SIGIL_ACTION_READ)

/* WebSocket authentication messages are recognised by their marker member. */
static bool has_member(const sigil_json *d, const char *key)
{
    return sigil_json_get(d, 0, key) != 0;
}

static int classify_okx(sigil_action *out, const sigil_json *d)
{
    if (has_member(d, "op")) {
        *out = SIGIL_ACTION_AUTH;
        return 0;
    }
    return by_path(out, d, OKX_PATHS, SIGIL_ARRAY_LEN(OKX_PATHS), SIGIL_ACTION_READ);
}

static int classify_deribit(sigil_action *out, const sigil_json *d)
{
    if (has_member(d, "jsonrpc")) {
        uint32_t m;
        GUARD(sigil_json_get_str(d, 0, "method", true, &m, "request"));
        *out = sigil_json_str_eq(d, m, "public/auth") ? SIGIL_ACTION_AUTH : SIGIL_ACTION_OTHER;
        return 0;
    }
    return by_path(out, d, DERIBIT_PATHS, SIGIL_ARRAY_LEN(DERIBIT_PATHS), SIGIL_ACTION_OTHER);
}

static int classify_bitfinex(sigil_action *out, const sigil_json *d)
{
    if (has_member(d, "event")) {
        *out = SIGIL_ACTION_AUTH;
        return 0;
    }
    return by_path(out, d, BITFINEX_PATHS, SIGIL_ARRAY_LEN(BITFINEX_PATHS), SIGIL_ACTION_OTHER);
}

static int classify_binance_ws(sigil_action *out, const sigil_json *d)
{
    char method[NAME_MAX_BYTES];
    size_t n;
    param_acc a = {BINANCE_PARAMS, SIGIL_ARRAY_LEN(BINANCE_PARAMS), "symbol", SIGIL_ACTION_READ, 0,
                   false};
    uint32_t params = sigil_json_get(d, 0, "params");
    GUARD(sigil_json_expect(d, params, SIGIL_JSON_OBJECT, "request", "params"));
    GUARD(member_str(method, sizeof(method), &n, d, 0, "method"));
    ENSURE(n > 0, SIGIL_E_MISSING_FIELD, "request.method: required field missing");
    acc_object_keys(&a, d, params);
    sigil_action m = classify_name(method, n, BINANCE_WS_METHODS,
                                   SIGIL_ARRAY_LEN(BINANCE_WS_METHODS), SIGIL_ACTION_OTHER);
    /* session.logon authenticates the connection: what it may do next is
     * each later request's business, not this signature's. */
    *out = m == SIGIL_ACTION_AUTH ? m : worse(m, acc_result(&a));
    return 0;
}

/* Binance signs query || body only: the parameters decide as much as the path. */
static int classify_binance(sigil_action *out, const sigil_json *d)
{
    if (has_member(d, "params"))
        return classify_binance_ws(out, d);
    sigil_action by;
    param_acc a = {BINANCE_PARAMS, SIGIL_ARRAY_LEN(BINANCE_PARAMS), "symbol", SIGIL_ACTION_READ, 0,
                   false};
    GUARD(by_path(&by, d, BINANCE_PATHS, SIGIL_ARRAY_LEN(BINANCE_PATHS), SIGIL_ACTION_READ));
    GUARD(acc_query_text(&a, d, "query"));
    GUARD(acc_query_text(&a, d, "body"));
    *out = worse(by, acc_result(&a));
    return 0;
}

/* Aster signs the query only (docs/CLI.md): same rules as binance. */
static int classify_aster(sigil_action *out, const sigil_json *d)
{
    sigil_action by;
    param_acc a = {BINANCE_PARAMS, SIGIL_ARRAY_LEN(BINANCE_PARAMS), "symbol", SIGIL_ACTION_READ, 0,
                   false};
    GUARD(by_path(&by, d, ASTER_PATHS, SIGIL_ARRAY_LEN(ASTER_PATHS), SIGIL_ACTION_READ));
    GUARD(acc_query_text(&a, d, "query"));
    *out = worse(by, acc_result(&a));
    return 0;
}

/* Bybit signs timestamp, key, window and the query (GET) or the JSON body
 * (POST), not the path. A query is never valid JSON, so a GET stays a read,
 * except an empty one, whose signature also fits an empty POST. */
static int classify_bybit(sigil_action *out, const sigil_json *d)
{
    if (has_member(d, "op")) {
        *out = SIGIL_ACTION_AUTH;
        return 0;
    }
    cex_req r;
    sigil_action by;
    GUARD(cex_read(&r, d));
    GUARD(classify_path(&by, &r, BYBIT_PATHS, SIGIL_ARRAY_LEN(BYBIT_PATHS), SIGIL_ACTION_READ));
    if (r.method == M_GET) {
        uint32_t q;
        GUARD(sigil_json_get_str(d, 0, "query", false, &q, "request"));
        bool empty = q == 0 || d->toks[q].end == d->toks[q].start;
        *out = empty ? SIGIL_ACTION_OTHER : by;
        return 0;
    }
    static _Thread_local sigil_json_tok body_toks[2048];
    uint32_t bt;
    sigil_slice body = {"", 0};
    sigil_json bd;
    param_acc a = {BYBIT_PARAMS, SIGIL_ARRAY_LEN(BYBIT_PARAMS), NULL, SIGIL_ACTION_READ, 0, false};
    GUARD(sigil_json_get_str(d, 0, "body", false, &bt, "request"));
    if (bt != 0)
        GUARD(string_value(&body, d, bt));
    if (body.len > 0) {
        GUARD(sigil_json_parse(&bd, body.p, body.len, body_toks, SIGIL_ARRAY_LEN(body_toks)));
        if (sigil_json_type_of(&bd, 0) == SIGIL_JSON_OBJECT)
            acc_object_keys(&a, &bd, 0);
        else
            a.n_other++;
    }
    *out = worse(by, acc_result(&a));
    return 0;
}

static int classify_hyperliquid(sigil_action *out, const sigil_json *d)
{
    char type[NAME_MAX_BYTES];
    size_t n;
    uint32_t action = sigil_json_get(d, 0, "action");
    ENSURE(action != 0, SIGIL_E_MISSING_FIELD, "request.action: required field missing");
    GUARD(sigil_json_expect(d, action, SIGIL_JSON_OBJECT, "request", "action"));
    GUARD(member_str(type, sizeof(type), &n, d, action, "type"));
    ENSURE(n > 0, SIGIL_E_MISSING_FIELD, "request.action.type: required field missing");
    *out = classify_name(type, n, HYPERLIQUID_TYPES, SIGIL_ARRAY_LEN(HYPERLIQUID_TYPES),
                         SIGIL_ACTION_OTHER);
    return 0;
}

static int classify_other(sigil_action *out, const sigil_json *d)
{
    (void)d;
    *out = SIGIL_ACTION_OTHER;
    return 0;
}

/* ---- the venue table ---- */

typedef struct {
    const char *name;
    classify_fn classify;
} venue_classifier;

int policy_classify_paradex(sigil_action *out, const sigil_json *d); /* inspect_paradex.c */

int policy_dydx_classify(sigil_action *out, const sigil_json *d); /* inspect_dydx.c */

static const venue_classifier VENUES[] = {
    {"binance", classify_binance},
    {"aster", classify_aster},
    {"eip712", classify_other},
    {"eip191", classify_other},
    {"bybit", classify_bybit},
    {"okx", classify_okx},
    {"kucoinfutures", classify_kucoin},
    {"kucoin", classify_kucoin},
    {"hyperliquid", classify_hyperliquid},
    {"kraken", classify_kraken},
    {"bitget", classify_bitget},
    {"gate", classify_gate},
    {"deribit", classify_deribit},
    {"bitfinex", classify_bitfinex},
    {"coinbase", classify_coinbase},
    {"dydx", policy_dydx_classify},
    {"paradex", policy_classify_paradex},
};

static const venue_classifier *find_venue(const char *venue)
{
    for (size_t i = 0; venue != NULL && i < SIGIL_ARRAY_LEN(VENUES); i++)
        if (strcmp(VENUES[i].name, venue) == 0)
            return &VENUES[i];
    return NULL;
}

bool sigil_policy_venue_known(const char *venue)
{
    return find_venue(venue) != NULL;
}

int sigil_request_action(sigil_action *out, const char *venue, const char *request, size_t len)
{
    sigil_json d;
    const venue_classifier *v = find_venue(venue);
    ENSURE(v != NULL, SIGIL_E_UNKNOWN_VENUE, "venue: no classification table for this venue");
    GUARD(policy_request_parse(&d, request, len));
    return v->classify(out, &d);
}
