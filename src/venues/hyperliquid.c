/*
 * Hyperliquid `POST /exchange` signing (trusted). The request is
 * {action, nonce, vault_address?, expires_after?}; the output is the exact
 * body to post, {action, nonce, signature:{r,s,v}, vaultAddress?,
 * expiresAfter?}. User-signed actions (table in hyperliquid_user.c) are
 * EIP-712 structs; every other action is an L1 action (hyperliquid_l1.c).
 */
#include <string.h>

#include "venues/hyperliquid_internal.h"

#define KEY_MAX 64

/* Not L1 actions, and not in the user-signed table: multiSig signs a hash of
 * the inner action in an envelope Sigil does not build; sendToEvmWithData is
 * user-signed with uint32 and bytes members the table does not carry yet.
 * Refused, so they are never signed as L1 by mistake. */
static const char *const UNSUPPORTED[] = {"multiSig", "sendToEvmWithData"};

typedef struct {
    uint32_t action;
    uint32_t type;
    sigil_hl_l1_params l1; /* nonce, vault, expiry */
} hl_request;

static int parse_request(hl_request *r, const sigil_sign_ctx *ctx)
{
    static const sigil_json_field FIELDS[] = {
        {"action", true}, {"nonce", true}, {"vault_address", false}, {"expires_after", false}};
    const sigil_json *d = ctx->req;
    uint32_t t;
    memset(r, 0, sizeof(*r));
    GUARD(sigil_json_check_fields(d, ctx->root, FIELDS, SIGIL_ARRAY_LEN(FIELDS), "request"));
    r->action = sigil_json_get(d, ctx->root, "action");
    GUARD(sigil_json_expect(d, r->action, SIGIL_JSON_OBJECT, "request", "action"));
    GUARD(sigil_json_get_str(d, r->action, "type", true, &r->type, "request.action"));
    GUARD(sigil_json_get_u64(d, ctx->root, "nonce", true, &r->l1.nonce, NULL, "request"));
    /* Any u64 is signable offline (the official SDK's own vectors use 0);
     * whether a nonce is fresh is the service's check, not the signer's. */
    GUARD(sigil_json_get_str(d, ctx->root, "vault_address", false, &t, "request"));
    if (t != 0) {
        sigil_slice s = sigil_json_raw(d, t);
        GUARD(sigil_eth_address_parse(r->l1.vault, s.p, s.len, "request.vault_address"));
        r->l1.has_vault = true;
    }
    return sigil_json_get_u64(d, ctx->root, "expires_after", false, &r->l1.expires_after,
                              &r->l1.has_expires_after, "request");
}

static int check_supported(const sigil_json *d, uint32_t type)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(UNSUPPORTED); i++)
        ENSURE(!sigil_json_str_eq(d, type, UNSUPPORTED[i]), SIGIL_E_BAD_REQUEST,
               "request.action.type: %s actions are not supported", UNSUPPORTED[i]);
    return 0;
}

/* "signature":{"r","s","v"} with r and s as Python's hex(int) prints them. */
static int write_signature(sigil_jw *w, const sigil_eth_sig *sig)
{
    char mem[2 + 64];
    sigil_buf b;
    GUARD(sigil_jw_key(w, "signature"));
    GUARD(sigil_jw_obj_begin(w));
    sigil_buf_init(&b, mem, sizeof(mem));
    GUARD(sigil_put_hex_int(&b, sig->r, 32));
    GUARD(sigil_jw_key(w, "r"));
    GUARD(sigil_jw_strn(w, mem, b.len));
    sigil_buf_init(&b, mem, sizeof(mem));
    GUARD(sigil_put_hex_int(&b, sig->s, 32));
    GUARD(sigil_jw_key(w, "s"));
    GUARD(sigil_jw_strn(w, mem, b.len));
    GUARD(sigil_jw_key(w, "v"));
    GUARD(sigil_jw_u64(w, sig->v));
    return sigil_jw_obj_end(w);
}

static int write_vault(sigil_jw *w, const uint8_t vault[static 20])
{
    char mem[2 + 40];
    sigil_buf b;
    sigil_buf_init(&b, mem, sizeof(mem));
    GUARD(sigil_buf_puts(&b, "0x"));
    GUARD(sigil_buf_put_hex(&b, vault, 20));
    GUARD(sigil_jw_key(w, "vaultAddress"));
    return sigil_jw_strn(w, mem, b.len);
}

static int sign_l1(sigil_buf *out, const sigil_sign_ctx *ctx, const hl_request *r)
{
    uint8_t cid[32], digest[32];
    sigil_eth_sig sig;
    sigil_jw w;
    GUARD(sigil_hl_l1_connection_id(cid, ctx->scratch, ctx->req, r->action, &r->l1));
    sigil_hl_l1_digest(digest, cid, ctx->network);
    GUARD(sigil_eth_sign_digest(&sig, ctx->cred, digest));

    sigil_jw_init(&w, out);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "action"));
    GUARD(sigil_jw_copy(&w, ctx->req, r->action));
    GUARD(sigil_jw_key(&w, "nonce"));
    GUARD(sigil_jw_u64(&w, r->l1.nonce));
    GUARD(write_signature(&w, &sig));
    if (r->l1.has_vault)
        GUARD(write_vault(&w, r->l1.vault));
    if (r->l1.has_expires_after) {
        GUARD(sigil_jw_key(&w, "expiresAfter"));
        GUARD(sigil_jw_u64(&w, r->l1.expires_after));
    }
    return sigil_jw_obj_end(&w);
}

/* The action as given, less the member `omit` (NULL: none). Every key was
 * checked against the action's table entry, so each is a short known name. */
static int copy_action(sigil_jw *w, const sigil_json *d, uint32_t action, const char *omit)
{
    char key[KEY_MAX + 1];
    sigil_buf kb;
    GUARD(sigil_jw_obj_begin(w));
    for (uint32_t k = sigil_json_first(d, action); k != 0; k = sigil_json_sibling(d, action, k)) {
        if (omit != NULL && sigil_json_str_eq(d, k, omit))
            continue;
        sigil_buf_init(&kb, key, KEY_MAX);
        GUARD(sigil_json_str(d, k, &kb));
        key[kb.len] = '\0';
        GUARD(sigil_jw_key(w, key));
        GUARD(sigil_jw_copy(w, d, sigil_json_value(k)));
    }
    return sigil_jw_obj_end(w);
}

static int sign_user(sigil_buf *out, const sigil_sign_ctx *ctx, const hl_request *r,
                     const sigil_hl_user_action *a)
{
    uint8_t struct_hash[32], domain[32], digest[32];
    sigil_hl_user_info info;
    sigil_eth_sig sig;
    sigil_jw w;
    ENSURE(!r->l1.has_vault, SIGIL_E_BAD_FIELD,
           "request.vault_address: not allowed for the user-signed action %s", a->type);
    ENSURE(!r->l1.has_expires_after, SIGIL_E_BAD_FIELD,
           "request.expires_after: not allowed for the user-signed action %s", a->type);
    GUARD(sigil_hl_user_hash(struct_hash, domain, &info, ctx->scratch, a, ctx->req, r->action,
                             ctx->network));
    ENSURE(info.nonce == r->l1.nonce, SIGIL_E_BAD_FIELD,
           "request.nonce: must equal request.action.%s", a->nonce_field);
    sigil_eip712_digest(digest, domain, struct_hash);
    GUARD(sigil_eth_sign_digest(&sig, ctx->cred, digest));

    sigil_jw_init(&w, out);
    GUARD(sigil_jw_obj_begin(&w));
    GUARD(sigil_jw_key(&w, "action"));
    GUARD(copy_action(&w, ctx->req, r->action, info.omit_empty_field ? a->empty_if_absent : NULL));
    GUARD(sigil_jw_key(&w, "nonce"));
    GUARD(sigil_jw_u64(&w, r->l1.nonce));
    GUARD(write_signature(&w, &sig));
    return sigil_jw_obj_end(&w);
}

static int hyperliquid_sign(sigil_buf *out, const sigil_sign_ctx *ctx)
{
    hl_request r;
    GUARD(parse_request(&r, ctx));
    GUARD(check_supported(ctx->req, r.type));
    const sigil_hl_user_action *a = sigil_hl_user_action_find(ctx->req, r.type);
    return a != NULL ? sign_user(out, ctx, &r, a) : sign_l1(out, ctx, &r);
}

const sigil_venue sigil_venue_hyperliquid = {
    .name = "hyperliquid",
    .kind = SIGIL_VENUE_WALLET,
    .key_types = SIGIL_KEY_SECP256K1,
    .needs_passphrase = false,
    .sign = hyperliquid_sign,
};
