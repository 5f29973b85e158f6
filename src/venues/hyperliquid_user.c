/*
 * Hyperliquid user-signed actions (trusted): transfers, withdrawals, agent
 * and builder approvals. Each is an EIP-712 struct of fixed atomic fields
 * in the HyperliquidSignTransaction domain; the table below is the whole
 * schema, so the hashing needs no general EIP-712 type parser.
 */
#include <stdio.h>
#include <string.h>

#include "venues/hyperliquid_internal.h"

#define TYPE_STRING_MAX 512
#define FIELD_NAME_MAX 96

#define S SIGIL_HL_STRING
#define A SIGIL_HL_ADDRESS
#define U SIGIL_HL_UINT64
#define B SIGIL_HL_BOOL

/* venues.md §5.2 (Python SDK hyperliquid/utils/signing.py @7ee976d), one row
 * per action: type, primaryType, nonce field, field hashed as "" when absent,
 * then the fields in type order. userSetAbstraction is in that SDK commit
 * though not in the reference table; cDeposit, cWithdraw, linkStakingUser
 * and userPortfolioMargin follow @nktkas/hyperliquid 0.32.2's types.
 * sendToEvmWithData (uint32 and bytes members) is not supported yet and is
 * refused like any unknown user-signed type. */
/* clang-format off */
#define ROW(type, primary, nonce, empty, ...)                                                      \
    {type, "HyperliquidTransaction:" primary, nonce, empty,                                        \
     sizeof((sigil_hl_field[]){__VA_ARGS__}) / sizeof(sigil_hl_field), {__VA_ARGS__}}

static const sigil_hl_user_action USER_ACTIONS[] = {
    ROW("usdSend", "UsdSend", "time", NULL,
        {"hyperliquidChain", S}, {"destination", S}, {"amount", S}, {"time", U}),
    ROW("withdraw3", "Withdraw", "time", NULL,
        {"hyperliquidChain", S}, {"destination", S}, {"amount", S}, {"time", U}),
    ROW("spotSend", "SpotSend", "time", NULL,
        {"hyperliquidChain", S}, {"destination", S}, {"token", S}, {"amount", S}, {"time", U}),
    ROW("approveAgent", "ApproveAgent", "nonce", "agentName",
        {"hyperliquidChain", S}, {"agentAddress", A}, {"agentName", S}, {"nonce", U}),
    ROW("approveBuilderFee", "ApproveBuilderFee", "nonce", NULL,
        {"hyperliquidChain", S}, {"maxFeeRate", S}, {"builder", A}, {"nonce", U}),
    ROW("usdClassTransfer", "UsdClassTransfer", "nonce", NULL,
        {"hyperliquidChain", S}, {"amount", S}, {"toPerp", B}, {"nonce", U}),
    ROW("sendAsset", "SendAsset", "nonce", NULL,
        {"hyperliquidChain", S}, {"destination", S}, {"sourceDex", S}, {"destinationDex", S},
        {"token", S}, {"amount", S}, {"fromSubAccount", S}, {"nonce", U}),
    ROW("tokenDelegate", "TokenDelegate", "nonce", NULL,
        {"hyperliquidChain", S}, {"validator", A}, {"wei", U}, {"isUndelegate", B}, {"nonce", U}),
    ROW("convertToMultiSigUser", "ConvertToMultiSigUser", "nonce", NULL,
        {"hyperliquidChain", S}, {"signers", S}, {"nonce", U}),
    ROW("userDexAbstraction", "UserDexAbstraction", "nonce", NULL,
        {"hyperliquidChain", S}, {"user", A}, {"enabled", B}, {"nonce", U}),
    ROW("userSetAbstraction", "UserSetAbstraction", "nonce", NULL,
        {"hyperliquidChain", S}, {"user", A}, {"abstraction", S}, {"nonce", U}),
    ROW("cDeposit", "CDeposit", "nonce", NULL,
        {"hyperliquidChain", S}, {"wei", U}, {"nonce", U}),
    ROW("cWithdraw", "CWithdraw", "nonce", NULL,
        {"hyperliquidChain", S}, {"wei", U}, {"nonce", U}),
    ROW("linkStakingUser", "LinkStakingUser", "nonce", NULL,
        {"hyperliquidChain", S}, {"user", A}, {"isFinalize", B}, {"nonce", U}),
    ROW("userPortfolioMargin", "UserPortfolioMargin", "nonce", NULL,
        {"hyperliquidChain", S}, {"user", A}, {"enabled", B}, {"nonce", U}),
};
/* clang-format on */

#undef ROW
#undef S
#undef A
#undef U
#undef B

static const char *const KIND_NAMES[] = {
    [SIGIL_HL_STRING] = "string",
    [SIGIL_HL_ADDRESS] = "address",
    [SIGIL_HL_UINT64] = "uint64",
    [SIGIL_HL_BOOL] = "bool",
};

const sigil_hl_user_action *sigil_hl_user_action_find(const sigil_json *d, uint32_t type_tok)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(USER_ACTIONS); i++) {
        if (sigil_json_str_eq(d, type_tok, USER_ACTIONS[i].type))
            return &USER_ACTIONS[i];
    }
    return NULL;
}

/* keccak256("<primary>(<kind> <name>,…)") */
static int type_hash(uint8_t out[static 32], const sigil_hl_user_action *a)
{
    char mem[TYPE_STRING_MAX];
    sigil_buf b;
    sigil_buf_init(&b, mem, sizeof(mem));
    GUARD(sigil_buf_puts(&b, a->primary));
    GUARD(sigil_buf_putc(&b, '('));
    for (size_t i = 0; i < a->nfields; i++) {
        if (i > 0)
            GUARD(sigil_buf_putc(&b, ','));
        GUARD(sigil_buf_puts(&b, KIND_NAMES[a->fields[i].kind]));
        GUARD(sigil_buf_putc(&b, ' '));
        GUARD(sigil_buf_puts(&b, a->fields[i].name));
    }
    GUARD(sigil_buf_putc(&b, ')'));
    sigil_keccak256(out, b.data, b.len);
    return 0;
}

static bool is_listed(const sigil_hl_user_action *a, const sigil_json *d, uint32_t key)
{
    if (sigil_json_str_eq(d, key, "type") || sigil_json_str_eq(d, key, "signatureChainId"))
        return true;
    for (size_t i = 0; i < a->nfields; i++) {
        if (sigil_json_str_eq(d, key, a->fields[i].name))
            return true;
    }
    return false;
}

static int check_no_unknown_keys(const sigil_hl_user_action *a, const sigil_json *d,
                                 uint32_t action)
{
    for (uint32_t k = sigil_json_first(d, action); k != 0; k = sigil_json_sibling(d, action, k)) {
        if (!is_listed(a, d, k)) {
            sigil_slice s = sigil_json_raw(d, k);
            int n = s.len > 40 ? 40 : (int)s.len;
            bool printable = sigil_json_str_is_plain(d, k);
            BAIL(SIGIL_E_UNKNOWN_FIELD, "request.action.%.*s: not a signed field of %s",
                 printable ? n : 1, printable ? s.p : "?", a->type);
        }
    }
    return 0;
}

/* signatureChainId: "0x" + 1..16 hex digits, parsed as parseInt(x, 16). */
static int parse_chain_id(uint64_t *out, const sigil_json *d, uint32_t action)
{
    uint32_t t;
    uint8_t be[8] = {0};
    char padded[16];
    GUARD(sigil_json_get_str(d, action, "signatureChainId", true, &t, "request.action"));
    sigil_slice s = sigil_json_raw(d, t);
    ENSURE(s.len > 2 && s.len <= 18 && s.p[0] == '0' && s.p[1] == 'x', SIGIL_E_BAD_FIELD,
           "request.action.signatureChainId: expected 0x followed by 1 to 16 hex digits");
    memset(padded, '0', sizeof(padded));
    memcpy(padded + 16 - (s.len - 2), s.p + 2, s.len - 2);
    GUARD(sigil_hex_decode_exact(be, 8, padded, 16, false, "request.action.signatureChainId"));
    *out = 0;
    for (int i = 0; i < 8; i++)
        *out = *out << 8 | be[i];
    ENSURE(*out != 0, SIGIL_E_OUT_OF_RANGE, "request.action.signatureChainId: must not be 0");
    return 0;
}

static int check_chain(const sigil_json *d, uint32_t action, sigil_network net)
{
    const char *want = net == SIGIL_NET_MAINNET ? "Mainnet" : "Testnet";
    uint32_t t = sigil_json_get(d, action, "hyperliquidChain");
    if (t == 0 || sigil_json_type_of(d, t) != SIGIL_JSON_STRING)
        return 0; /* reported with the other fields */
    ENSURE(sigil_json_str_eq(d, t, want), SIGIL_E_BAD_FIELD,
           "request.action.hyperliquidChain: must be \"%s\" for --network %s", want,
           net == SIGIL_NET_MAINNET ? "mainnet" : "testnet");
    return 0;
}

/* The 32-byte EIP-712 encoding of one atomic field. */
static int encode_field(uint8_t enc[static 32], sigil_buf *scratch, const sigil_json *d, uint32_t v,
                        sigil_hl_kind kind, const char *what)
{
    sigil_buf str;
    uint64_t u;
    memset(enc, 0, 32);
    switch (kind) {
    case SIGIL_HL_STRING:
    case SIGIL_HL_ADDRESS:
        GUARD(sigil_json_expect(d, v, SIGIL_JSON_STRING, what, NULL));
        sigil_buf_init(&str, scratch->data + scratch->len, scratch->cap - scratch->len);
        GUARD(sigil_json_str(d, v, &str));
        if (kind == SIGIL_HL_STRING) {
            sigil_keccak256(enc, str.data, str.len);
            return 0;
        }
        return sigil_eth_address_parse(enc + 12, (const char *)str.data, str.len, what);
    case SIGIL_HL_UINT64:
        GUARD(sigil_json_tok_u64(d, v, &u, what));
        for (int i = 0; i < 8; i++)
            enc[31 - i] = (uint8_t)(u >> (8 * i));
        return 0;
    case SIGIL_HL_BOOL:
        GUARD(sigil_json_expect(d, v, SIGIL_JSON_TRUE, what, NULL));
        enc[31] = sigil_json_type_of(d, v) == SIGIL_JSON_TRUE;
        return 0;
    default:
        BAIL(SIGIL_E_INTERNAL, "%s: unknown field kind", what);
    }
}

static int hash_fields(sigil_keccak_ctx *k, sigil_hl_user_info *info, sigil_buf *scratch,
                       const sigil_hl_user_action *a, const sigil_json *d, uint32_t action)
{
    char what[FIELD_NAME_MAX];
    uint8_t enc[32];
    info->omit_empty_field = false;
    info->nonce = 0; /* every row lists its nonce field; 0 never matches a request */
    for (size_t i = 0; i < a->nfields; i++) {
        const sigil_hl_field *f = &a->fields[i];
        uint32_t v = sigil_json_get(d, action, f->name);
        bool absent = v == 0 || sigil_json_type_of(d, v) == SIGIL_JSON_NULL;
        snprintf(what, sizeof(what), "request.action.%s", f->name);
        if (absent && a->empty_if_absent != NULL && strcmp(f->name, a->empty_if_absent) == 0) {
            sigil_keccak256(enc, "", 0);
            info->omit_empty_field = true;
        } else {
            ENSURE(!absent, SIGIL_E_MISSING_FIELD, "%s: required field missing", what);
            GUARD(encode_field(enc, scratch, d, v, f->kind, what));
        }
        if (strcmp(f->name, a->nonce_field) == 0) {
            GUARD(sigil_json_tok_u64(d, v, &info->nonce, what));
        }
        sigil_keccak256_update(k, enc, 32);
    }
    return 0;
}

int sigil_hl_user_hash(uint8_t struct_hash[static 32], uint8_t domain_separator[static 32],
                       sigil_hl_user_info *info, sigil_buf *scratch, const sigil_hl_user_action *a,
                       const sigil_json *d, uint32_t action, sigil_network net)
{
    static const uint8_t ZERO_ADDRESS[20] = {0};
    uint8_t th[32];
    sigil_keccak_ctx k;
    GUARD(sigil_json_expect(d, action, SIGIL_JSON_OBJECT, "request.action", NULL));
    GUARD(check_no_unknown_keys(a, d, action));
    GUARD(parse_chain_id(&info->chain_id, d, action));
    GUARD(check_chain(d, action, net));
    GUARD(type_hash(th, a));
    sigil_keccak256_init(&k);
    sigil_keccak256_update(&k, th, 32);
    GUARD(hash_fields(&k, info, scratch, a, d, action));
    sigil_keccak256_final(&k, struct_hash);
    sigil_eip712_domain_hash(domain_separator, "HyperliquidSignTransaction", "1", info->chain_id,
                             ZERO_ADDRESS);
    return 0;
}
