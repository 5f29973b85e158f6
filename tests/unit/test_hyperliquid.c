/*
 * Hyperliquid signer: connectionId, EIP-712 hashes and signatures of every
 * vector in tests/vectors/hyperliquid.json (including the official nonce-0
 * ones the CLI refuses), the user-signed type table against the vectors'
 * types, the post body, and each refusal path through sigil_sign.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_util.h"

#include "sigil/venues.h"
#include "venues/hyperliquid_internal.h"

#define TEST_KEY "0123456789012345678901234567890123456789012345678901234567890123"
#define OUT_CAP (1u << 16)

static const char CRED[] = "{\"private_key\":\"0x" TEST_KEY "\"}";

static sigil_credentials g_cred;
static char g_vec_text[1u << 19];
static sigil_json_tok g_vec_toks[SIGIL_REQUEST_MAX_TOKENS];
static sigil_json g_vec;
static uint8_t g_scratch_mem[1u << 20];
static char g_out_mem[OUT_CAP];
static char g_doc_mem[4096];
static sigil_json_tok g_doc_toks[256];

/* ---- set-up ---- */
static void load_vectors(void)
{
    test_load_vectors("hyperliquid.json", g_vec_text, sizeof(g_vec_text), &g_vec, g_vec_toks,
                      SIGIL_REQUEST_MAX_TOKENS);
}

static int group_setup(void **state)
{
    (void)state;
    if (sigil_init() != 0 || sigil_credentials_parse(&g_cred, sigil_venue_find("hyperliquid"), CRED,
                                                     sizeof(CRED) - 1) != 0)
        return -1;
    load_vectors();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    sigil_credentials_free(&g_cred);
    return 0;
}

/* ---- helpers over the vector document ---- */
static uint32_t at(const sigil_json *d, uint32_t obj, const char *key)
{
    return sigil_json_get(d, obj, key);
}

static bool is_null(const sigil_json *d, uint32_t t)
{
    return t == 0 || sigil_json_type_of(d, t) == SIGIL_JSON_NULL;
}

/* "0x" + up to 64 hex digits (r/s may be unpadded) → 32 bytes, left-padded. */
static void hex32(uint8_t out[32], const sigil_json *d, uint32_t t)
{
    char padded[64];
    sigil_slice s = sigil_json_raw(d, t);
    assert_true(s.len > 2 && s.len <= 66 && s.p[0] == '0' && s.p[1] == 'x');
    memset(padded, '0', sizeof(padded));
    memcpy(padded + 64 - (s.len - 2), s.p + 2, s.len - 2);
    assert_int_equal(sigil_hex_decode_exact(out, 32, padded, 64, false, "vector"), 0);
}

static void expect32(const uint8_t got[32], uint32_t want_tok, const char *what, sigil_slice name)
{
    uint8_t want[32];
    char g[65], w[65];
    hex32(want, &g_vec, want_tok);
    if (memcmp(got, want, 32) != 0) {
        sigil_hex_encode(g, got, 32);
        sigil_hex_encode(w, want, 32);
        fail_msg("%.*s: %s expected %s, got %s", (int)name.len, name.p, what, w, g);
    }
}

static uint64_t u64_of(const sigil_json *d, uint32_t t)
{
    uint64_t v;
    assert_int_equal(sigil_json_tok_u64(d, t, &v, "vector"), 0);
    return v;
}

/* Signs digest with the test key: r and s equal as numbers, v exactly. */
static void expect_signature(const uint8_t digest[32], uint32_t sig_obj, sigil_slice name)
{
    sigil_eth_sig sig;
    assert_int_equal(sigil_eth_sign_digest(&sig, &g_cred, digest), 0);
    expect32(sig.r, at(&g_vec, sig_obj, "r"), "r", name);
    expect32(sig.s, at(&g_vec, sig_obj, "s"), "s", name);
    assert_int_equal(sig.v, u64_of(&g_vec, at(&g_vec, sig_obj, "v")));
}

static sigil_buf scratch(void)
{
    sigil_buf b;
    sigil_buf_init(&b, g_scratch_mem, sizeof(g_scratch_mem));
    return b;
}

/* ---- L1 vectors ---- */
static size_t check_l1_list(const char *list)
{
    const sigil_json *d = &g_vec;
    uint32_t arr = at(d, 0, list);
    size_t n = 0;
    for (uint32_t v = sigil_json_first(d, arr); v != 0; v = sigil_json_sibling(d, arr, v)) {
        uint32_t in = at(d, v, "inputs"), exp = at(d, v, "expected");
        if (at(d, exp, "connectionId") == 0)
            continue;
        sigil_slice name = sigil_json_raw(d, at(d, v, "name"));
        sigil_hl_l1_params p = {0};
        uint32_t vault = at(d, in, "vaultAddress"), expires = at(d, in, "expiresAfter");
        p.nonce = u64_of(d, at(d, in, "nonce"));
        if (!is_null(d, vault)) {
            sigil_slice s = sigil_json_raw(d, vault);
            assert_int_equal(sigil_eth_address_parse(p.vault, s.p, s.len, "vault"), 0);
            p.has_vault = true;
        }
        if (!is_null(d, expires)) {
            p.expires_after = u64_of(d, expires);
            p.has_expires_after = true;
        }
        uint8_t cid[32], digest[32];
        sigil_buf sb = scratch();
        if (sigil_hl_l1_connection_id(cid, &sb, d, at(d, in, "action"), &p) != 0)
            fail_msg("%.*s: %s", (int)name.len, name.p, sigil_errmsg());
        assert_int_equal(sb.len, 0);
        expect32(cid, at(d, exp, "connectionId"), "connectionId", name);
        n++;
        uint32_t mainnet = at(d, in, "is_mainnet");
        if (mainnet == 0)
            continue; /* hash-only vector */
        sigil_network net = sigil_json_type_of(d, mainnet) == SIGIL_JSON_TRUE ? SIGIL_NET_MAINNET
                                                                              : SIGIL_NET_TESTNET;
        sigil_hl_l1_digest(digest, cid, net);
        expect32(digest, at(d, exp, "eip712_digest"), "eip712_digest", name);
        uint32_t agent = at(d, exp, "phantom_agent");
        if (agent != 0)
            assert_true(
                sigil_json_str_eq(d, at(d, agent, "source"), net == SIGIL_NET_MAINNET ? "a" : "b"));
        uint32_t sig = at(d, exp, "signature");
        expect_signature(digest, sig != 0 ? sig : exp, name);
    }
    return n;
}

static void test_l1_domain_separator(void **state)
{
    (void)state;
    static const uint8_t WANT[32] = {0xd7, 0x92, 0x97, 0xfc, 0xdf, 0x2f, 0xfc, 0xd4,
                                     0xae, 0x22, 0x3d, 0x01, 0xed, 0xaa, 0x2b, 0xa2,
                                     0x14, 0xff, 0x8f, 0x40, 0x1d, 0x7c, 0x93, 0x00,
                                     0xd9, 0x95, 0xd1, 0x7c, 0x82, 0xaa, 0x40, 0x40};
    uint8_t got[32];
    sigil_hl_l1_domain_separator(got);
    assert_memory_equal(got, WANT, 32);
}

static void test_l1_vectors(void **state)
{
    (void)state;
    /* 15 official (14 signed with nonce 0, one hash-only), 20 generated */
    assert_int_equal(check_l1_list("official_python_sdk_vectors"), 15);
    assert_int_equal(check_l1_list("vectors"), 20);
}

/* ---- user-signed vectors ---- */
/* The table entry's type string must be the vector's types[primaryType]. */
static void expect_types(const sigil_hl_user_action *a, uint32_t types, sigil_slice name)
{
    static const char *const KINDS[] = {"string", "address", "uint64", "bool"};
    const sigil_json *d = &g_vec;
    uint32_t list = at(d, types, a->primary);
    if (list == 0)
        fail_msg("%.*s: types has no %s", (int)name.len, name.p, a->primary);
    assert_int_equal(d->toks[list].size, a->nfields);
    size_t i = 0;
    for (uint32_t f = sigil_json_first(d, list); f != 0; f = sigil_json_sibling(d, list, f), i++) {
        assert_true(sigil_json_str_eq(d, at(d, f, "name"), a->fields[i].name));
        assert_true(sigil_json_str_eq(d, at(d, f, "type"), KINDS[a->fields[i].kind]));
    }
}

static void check_user(const sigil_json *ad, uint32_t action, uint32_t exp, uint64_t nonce,
                       sigil_slice name)
{
    const sigil_json *d = &g_vec;
    uint32_t type = at(ad, action, "type");
    const sigil_hl_user_action *a = sigil_hl_user_action_find(ad, type);
    assert_non_null(a);
    sigil_network net = sigil_json_str_eq(ad, at(ad, action, "hyperliquidChain"), "Mainnet")
                            ? SIGIL_NET_MAINNET
                            : SIGIL_NET_TESTNET;
    uint8_t sh[32], ds[32], digest[32];
    sigil_hl_user_info info;
    sigil_buf sb = scratch();
    if (sigil_hl_user_hash(sh, ds, &info, &sb, a, ad, action, net) != 0)
        fail_msg("%.*s: %s", (int)name.len, name.p, sigil_errmsg());
    assert_int_equal(sb.len, 0);
    assert_int_equal(info.nonce, nonce);
    assert_false(info.omit_empty_field);
    sigil_eip712_digest(digest, ds, sh);
    if (at(d, exp, "struct_hash") != 0) {
        expect32(sh, at(d, exp, "struct_hash"), "struct_hash", name);
        expect32(ds, at(d, exp, "domain_separator"), "domain_separator", name);
        assert_int_equal(info.chain_id, u64_of(d, at(d, at(d, exp, "domain"), "chainId")));
        assert_true(sigil_json_str_eq(d, at(d, exp, "primaryType"), a->primary));
        expect_types(a, at(d, exp, "types"), name);
    }
    expect32(digest, at(d, exp, "eip712_digest"), "eip712_digest", name);
    uint32_t sig = at(d, exp, "signature");
    expect_signature(digest, sig != 0 ? sig : exp, name);
}

/* The official vectors give {primaryType, message, signatureChainId}: the
 * action is rebuilt as the SDK posts it. */
static void official_action(sigil_json *ad, uint32_t in)
{
    static const struct {
        const char *primary, *type;
    } TYPES[] = {{"HyperliquidTransaction:UsdSend", "usdSend"},
                 {"HyperliquidTransaction:Withdraw", "withdraw3"}};
    const sigil_json *d = &g_vec;
    sigil_buf b;
    sigil_jw w;
    size_t i = 0;
    while (i < SIGIL_ARRAY_LEN(TYPES) &&
           !sigil_json_str_eq(d, at(d, in, "primaryType"), TYPES[i].primary))
        i++;
    assert_true(i < SIGIL_ARRAY_LEN(TYPES));
    sigil_buf_init(&b, g_doc_mem, sizeof(g_doc_mem));
    sigil_jw_init(&w, &b);
    assert_int_equal(sigil_jw_obj_begin(&w), 0);
    assert_int_equal(sigil_jw_key(&w, "type"), 0);
    assert_int_equal(sigil_jw_str(&w, TYPES[i].type), 0);
    assert_int_equal(sigil_jw_key(&w, "signatureChainId"), 0);
    assert_int_equal(sigil_jw_copy(&w, d, at(d, in, "signatureChainId")), 0);
    uint32_t msg = at(d, in, "message");
    for (uint32_t k = sigil_json_first(d, msg); k != 0; k = sigil_json_sibling(d, msg, k)) {
        char key[64];
        sigil_slice s = sigil_json_raw(d, k);
        assert_true(s.len < sizeof(key));
        memcpy(key, s.p, s.len);
        key[s.len] = '\0';
        assert_int_equal(sigil_jw_key(&w, key), 0);
        assert_int_equal(sigil_jw_copy(&w, d, sigil_json_value(k)), 0);
    }
    assert_int_equal(sigil_jw_obj_end(&w), 0);
    assert_int_equal(sigil_json_parse(ad, g_doc_mem, b.len, g_doc_toks, 256), 0);
}

static void test_user_vectors(void **state)
{
    (void)state;
    const sigil_json *d = &g_vec;
    size_t n = 0;
    uint32_t arr = at(d, 0, "vectors");
    for (uint32_t v = sigil_json_first(d, arr); v != 0; v = sigil_json_sibling(d, arr, v)) {
        uint32_t in = at(d, v, "inputs");
        if (at(d, in, "nonce_field_in_post_body") == 0)
            continue;
        check_user(d, at(d, in, "action"), at(d, v, "expected"),
                   u64_of(d, at(d, in, "nonce_field_in_post_body")),
                   sigil_json_raw(d, at(d, v, "name")));
        n++;
    }
    assert_int_equal(n, 8);
    n = 0;
    arr = at(d, 0, "official_python_sdk_vectors");
    for (uint32_t v = sigil_json_first(d, arr); v != 0; v = sigil_json_sibling(d, arr, v)) {
        uint32_t in = at(d, v, "inputs");
        if (at(d, in, "primaryType") == 0)
            continue;
        sigil_json ad;
        official_action(&ad, in);
        check_user(&ad, 0, at(d, v, "expected"), u64_of(d, at(d, at(d, in, "message"), "time")),
                   sigil_json_raw(d, at(d, v, "name")));
        n++;
    }
    assert_int_equal(n, 2);
}

/* ---- through sigil_sign ---- */
static int sign(sigil_buf *out, const char *req, sigil_network net)
{
    sigil_buf_init(out, g_out_mem, sizeof(g_out_mem) - 1);
    sigil_clear_error();
    int rc = sigil_sign(out, sigil_venue_find("hyperliquid"), &g_cred, net, req, strlen(req));
    g_out_mem[out->len] = '\0';
    return rc;
}

static const char *sign_ok(const char *req, sigil_network net)
{
    sigil_buf out;
    if (sign(&out, req, net) != 0)
        fail_msg("%s: %s", req, sigil_errmsg());
    return g_out_mem;
}

/* Keeps a copy of an output (the next sign reuses the buffer). */
static void save(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    assert_true(n < cap);
    memcpy(dst, src, n + 1);
}

static void refused(const char *req, sigil_network net, sigil_err code, const char *names)
{
    sigil_buf out;
    if (sign(&out, req, net) == 0)
        fail_msg("%s: signed, expected %s", req, sigil_err_code(code));
    assert_int_equal(out.len, 0);
    if (sigil_errno() != code)
        fail_msg("%s: expected %s, got %s (%s)", req, sigil_err_code(code),
                 sigil_err_code(sigil_errno()), sigil_errmsg());
    if (strstr(sigil_errmsg(), names) == NULL)
        fail_msg("%s: message \"%s\" does not name %s", req, sigil_errmsg(), names);
    assert_null(strstr(sigil_errmsg(), "01234567890123456789"));
}

#define CANCEL "{\"type\":\"cancel\",\"cancels\":[{\"a\":0,\"o\":123456789}]}"
#define USD_SEND(chain, extra)                                                                     \
    "{\"type\":\"usdSend\",\"signatureChainId\":\"0x66eee\",\"hyperliquidChain\":\"" chain "\","   \
    "\"destination\":\"0x5e9ee1089755c3435139848e47e6635505d5a13a\",\"amount\":\"1.5\","           \
    "\"time\":1700000000000" extra "}"
#define NONCE ",\"nonce\":1700000000000"
#define VAULT_LOWER "0x1719884eb866cb12b2287399b15f7db5e7d775ea"

static void test_post_body(void **state)
{
    (void)state;
    /* "cancel: asset 0, oid 123456789 [mainnet]": body byte for byte */
    assert_string_equal(
        sign_ok("{\"action\":" CANCEL NONCE ",\"vault_address\":null,\"expires_after\":null}",
                SIGIL_NET_MAINNET),
        "{\"action\":{\"type\":\"cancel\",\"cancels\":[{\"a\":0,\"o\":123456789}]},"
        "\"nonce\":1700000000000,\"signature\":{"
        "\"r\":\"0xb310cce7be049df255902a1a096f2f79332c1611adcf3983151728e43c2db8a1\","
        "\"s\":\"0x313fd44c6ae32b8173269dc8597ce68e411d4ccfac3c82b73f032ad1bc52f940\",\"v\":28}}");
    /* "approveAgent [Mainnet]": s has a leading zero digit, printed without it */
    assert_non_null(strstr(
        sign_ok("{\"action\":{\"type\":\"approveAgent\",\"signatureChainId\":\"0x66eee\","
                "\"hyperliquidChain\":\"Mainnet\",\"agentAddress\":\"" VAULT_LOWER "\","
                "\"agentName\":\"bot1\",\"nonce\":1700000000000}" NONCE "}",
                SIGIL_NET_MAINNET),
        "\"s\":\"0xbbbf95d8cd047d8c0e94ee0d71abac1c1b7be8dafa313f2d8d40544d599852a\",\"v\":27}"));
}

/* Staking actions typed as @nktkas/hyperliquid 0.32.2 types them; expected
 * r, s, v computed with ethers 6.17.0 TypedDataEncoder + SigningKey. */
static void test_staking_actions(void **state)
{
    (void)state;
    assert_non_null(strstr(
        sign_ok("{\"action\":{\"type\":\"cDeposit\",\"signatureChainId\":\"0x66eee\","
                "\"hyperliquidChain\":\"Mainnet\",\"wei\":100000000,\"nonce\":1700000000000}" NONCE
                "}",
                SIGIL_NET_MAINNET),
        "\"r\":\"0x9e05d03871ee070fba04df5287eee8fd0de5ed259809bc179565b3bbd949a4\","
        "\"s\":\"0x5b961f85ff278a5e473269f91a2020b0c129545feb80528438c06631186dccba\",\"v\":27}"));
    assert_non_null(strstr(
        sign_ok("{\"action\":{\"type\":\"linkStakingUser\",\"signatureChainId\":\"0x66eee\","
                "\"hyperliquidChain\":\"Testnet\",\"user\":\"" VAULT_LOWER "\","
                "\"isFinalize\":true,\"nonce\":1700000000000}" NONCE "}",
                SIGIL_NET_TESTNET),
        "\"r\":\"0x67522a91effbbe3dd0c2feb968b0fa751b8acc8c0af130efb64b0ce2c75ffe8c\","
        "\"s\":\"0x345cb103e550229de4299ec418f11392fc7e8c813170a809dbd31afc97b8af10\",\"v\":28}"));
}

/* The vault is hashed as bytes: any accepted spelling signs the same, and
 * the body carries the lowercase form. */
static void test_vault_spelling(void **state)
{
    (void)state;
    static const char ORDER[] =
        "{\"type\":\"order\",\"orders\":[{\"a\":0,\"b\":true,\"p\":\"50000\",\"s\":\"0.001\","
        "\"r\":false,\"t\":{\"limit\":{\"tif\":\"Gtc\"}}}],\"grouping\":\"na\"}";
    static const char *const SPELLINGS[] = {VAULT_LOWER,
                                            "0x1719884EB866CB12B2287399B15F7DB5E7D775EA"};
    char req[1024];
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(SPELLINGS); i++) {
        snprintf(req, sizeof(req),
                 "{\"action\":%s" NONCE
                 ",\"vault_address\":\"%s\",\"expires_after\":1700000060000}",
                 ORDER, SPELLINGS[i]);
        const char *out = sign_ok(req, SIGIL_NET_MAINNET);
        /* "order with vaultAddress + expiresAfter [mainnet]" */
        assert_non_null(strstr(
            out, "\"r\":\"0xc813a01e8635e39c974ad8d336996eb16ab27e8cfdff90740bf9fda769a58a8f\""));
        assert_non_null(
            strstr(out, "},\"vaultAddress\":\"" VAULT_LOWER "\",\"expiresAfter\":1700000060000}"));
    }
}

/* Strings are hashed unescaped; the body keeps the request's text. */
static void test_escaped_strings(void **state)
{
    (void)state;
    char plain[4096];
    save(
        plain, sizeof(plain),
        sign_ok("{\"action\":{\"type\":\"order\",\"orders\":[{\"a\":0,\"b\":true,\"p\":\"50000\"}],"
                "\"grouping\":\"na\"}" NONCE "}",
                SIGIL_NET_MAINNET));
    const char *esc = sign_ok("{\"action\":{\"type\":\"order\",\"orders\":[{\"a\":0,\"b\":true,"
                              "\"p\":\"5\\u0030000\"}],\"grouping\":\"n\\u0061\"}" NONCE "}",
                              SIGIL_NET_MAINNET);
    assert_non_null(strstr(esc, "\"p\":\"5\\u0030000\""));
    assert_string_equal(strstr(esc, "\"signature\""), strstr(plain, "\"signature\""));
}

/* approveAgent without agentName signs agentName "" and posts no agentName. */
static void test_approve_agent_without_name(void **state)
{
    (void)state;
#define AGENT(name_member)                                                                         \
    "{\"action\":{\"type\":\"approveAgent\",\"signatureChainId\":\"0x66eee\","                     \
    "\"hyperliquidChain\":\"Mainnet\",\"agentAddress\":\"" VAULT_LOWER "\"" name_member            \
    ",\"nonce\":1700000000000}" NONCE "}"
    char empty[4096], absent[4096];
    save(empty, sizeof(empty), sign_ok(AGENT(",\"agentName\":\"\""), SIGIL_NET_MAINNET));
    save(absent, sizeof(absent), sign_ok(AGENT(""), SIGIL_NET_MAINNET));
    const char *null_name = sign_ok(AGENT(",\"agentName\":null"), SIGIL_NET_MAINNET);
    static const char POSTED[] =
        "{\"action\":{\"type\":\"approveAgent\",\"signatureChainId\":\"0x66eee\","
        "\"hyperliquidChain\":\"Mainnet\",\"agentAddress\":\"" VAULT_LOWER "\","
        "\"nonce\":1700000000000},\"nonce\":1700000000000,\"signature\":";
    assert_memory_equal(absent, POSTED, sizeof(POSTED) - 1);
    assert_memory_equal(null_name, POSTED, sizeof(POSTED) - 1);
    assert_non_null(strstr(empty, "\"agentName\":\"\""));
    assert_string_equal(strstr(absent, "\"signature\""), strstr(empty, "\"signature\""));
    assert_string_equal(strstr(null_name, "\"signature\""), strstr(empty, "\"signature\""));
    /* and it is not the named agent's signature ("approveAgent [Mainnet]") */
    assert_null(
        strstr(absent, "0x94452eeb553f775e98f4fc3aaf8044cceba0e76baee5a6c03aca724009b290df"));

    uint8_t sh[32], ds[32];
    sigil_hl_user_info info;
    sigil_json d;
    sigil_buf sb = scratch();
    static const char ACTION[] =
        "{\"type\":\"approveAgent\",\"signatureChainId\":\"0x66eee\","
        "\"hyperliquidChain\":\"Mainnet\",\"agentAddress\":\"" VAULT_LOWER "\",\"nonce\":1}";
    assert_int_equal(sigil_json_parse(&d, ACTION, sizeof(ACTION) - 1, g_doc_toks, 256), 0);
    assert_int_equal(sigil_hl_user_hash(sh, ds, &info, &sb, sigil_hl_user_action_find(&d, 2), &d, 0,
                                        SIGIL_NET_MAINNET),
                     0);
    assert_true(info.omit_empty_field);
#undef AGENT
}

static void test_refusals_request(void **state)
{
    (void)state;
    const sigil_network M = SIGIL_NET_MAINNET;
    refused("{\"action\":" CANCEL ",\"nonce\":-1}", M, SIGIL_E_OUT_OF_RANGE, "request.nonce");
    refused("{\"action\":" CANCEL ",\"nonce\":\"1700000000000\"}", M, SIGIL_E_BAD_FIELD,
            "request.nonce");
    refused("{\"action\":" CANCEL ",\"nonce\":1.7e12}", M, SIGIL_E_BAD_FIELD, "request.nonce");
    refused("{\"action\":" CANCEL ",\"nonce\":18446744073709551616}", M, SIGIL_E_OUT_OF_RANGE,
            "request.nonce");
    refused("{\"action\":" CANCEL "}", M, SIGIL_E_MISSING_FIELD, "request.nonce");
    refused("{\"action\":" CANCEL ",\"nonce\":null}", M, SIGIL_E_MISSING_FIELD, "request.nonce");
    refused("{\"nonce\":1}", M, SIGIL_E_MISSING_FIELD, "request.action");
    refused("{\"action\":[]" NONCE "}", M, SIGIL_E_BAD_FIELD, "request.action");
    refused("{\"action\":{\"cancels\":[]}" NONCE "}", M, SIGIL_E_MISSING_FIELD,
            "request.action.type");
    refused("{\"action\":{\"type\":5}" NONCE "}", M, SIGIL_E_BAD_FIELD, "request.action.type");
    refused("{\"action\":" CANCEL NONCE ",\"vaultAddress\":\"" VAULT_LOWER "\"}", M,
            SIGIL_E_UNKNOWN_FIELD, "request.vaultAddress");
    refused("{\"action\":" CANCEL NONCE ",\"vault_address\":\"0x1719\"}", M, SIGIL_E_BAD_ADDRESS,
            "request.vault_address");
    refused("{\"action\":" CANCEL NONCE
            ",\"vault_address\":\"0x1719884eB866cb12b2287399b15f7db5e7d775ea\"}",
            M, SIGIL_E_BAD_ADDRESS, "request.vault_address");
    refused("{\"action\":" CANCEL NONCE ",\"vault_address\":5}", M, SIGIL_E_BAD_FIELD,
            "request.vault_address");
    refused("{\"action\":" CANCEL NONCE ",\"expires_after\":\"1\"}", M, SIGIL_E_BAD_FIELD,
            "request.expires_after");
    refused("{\"action\":{\"type\":\"multiSig\",\"payload\":{}}" NONCE "}", M, SIGIL_E_BAD_REQUEST,
            "request.action.type");
    refused("{\"action\":{\"type\":\"sendToEvmWithData\",\"gasLimit\":1}" NONCE "}", M,
            SIGIL_E_BAD_REQUEST, "request.action.type");
}

static void test_refusals_l1_action(void **state)
{
    (void)state;
    const sigil_network M = SIGIL_NET_MAINNET;
    refused("{\"action\":{\"type\":\"order\",\"orders\":[{\"a\":1,\"b\":true,\"p\":100.5}]}" NONCE
            "}",
            M, SIGIL_E_BAD_FIELD, "request.action.orders[0].p");
    refused("{\"action\":{\"type\":\"updateLeverage\",\"asset\":1,\"leverage\":1e1}" NONCE "}", M,
            SIGIL_E_BAD_FIELD, "request.action.leverage");
    refused(
        "{\"action\":{\"type\":\"cancel\",\"cancels\":[{\"a\":0,\"o\":18446744073709551616}]}" NONCE
        "}",
        M, SIGIL_E_OUT_OF_RANGE, "request.action.cancels[0].o");
}

static void test_refusals_user_signed(void **state)
{
    (void)state;
    const sigil_network M = SIGIL_NET_MAINNET, T = SIGIL_NET_TESTNET;
    /* control: the request signs as given */
    (void)sign_ok("{\"action\":" USD_SEND("Mainnet", "") NONCE "}", M);
    refused("{\"action\":" USD_SEND("Mainnet", "") NONCE ",\"vault_address\":\"" VAULT_LOWER "\"}",
            M, SIGIL_E_BAD_FIELD, "request.vault_address");
    refused("{\"action\":" USD_SEND("Mainnet", "") NONCE ",\"expires_after\":1700000060000}", M,
            SIGIL_E_BAD_FIELD, "request.expires_after");
    refused("{\"action\":" USD_SEND("Mainnet", "") NONCE "}", T, SIGIL_E_BAD_FIELD,
            "request.action.hyperliquidChain");
    refused("{\"action\":" USD_SEND("Testnet", "") NONCE "}", M, SIGIL_E_BAD_FIELD,
            "request.action.hyperliquidChain");
    refused("{\"action\":" USD_SEND("mainnet", "") NONCE "}", M, SIGIL_E_BAD_FIELD,
            "request.action.hyperliquidChain");
    refused("{\"action\":" USD_SEND("Mainnet", "") ",\"nonce\":1700000000001}", M,
            SIGIL_E_BAD_FIELD, "request.action.time");
    refused("{\"action\":" USD_SEND("Mainnet", ",\"extra\":1") NONCE "}", M, SIGIL_E_UNKNOWN_FIELD,
            "request.action.extra");
    refused("{\"action\":{\"type\":\"usdSend\",\"signatureChainId\":\"0x66eee\","
            "\"hyperliquidChain\":\"Mainnet\",\"destination\":"
            "\"0x5e9ee1089755c3435139848e47e6635505d5a13a\","
            "\"time\":1700000000000}" NONCE "}",
            M, SIGIL_E_MISSING_FIELD, "request.action.amount");
    refused("{\"action\":{\"type\":\"usdSend\",\"signatureChainId\":\"0x66eee\","
            "\"hyperliquidChain\":\"Mainnet\",\"destination\":"
            "\"0x5e9ee1089755c3435139848e47e6635505d5a13a\","
            "\"amount\":null,\"time\":1700000000000}" NONCE "}",
            M, SIGIL_E_MISSING_FIELD, "request.action.amount");
    refused("{\"action\":{\"type\":\"usdSend\",\"signatureChainId\":\"0x66eee\","
            "\"hyperliquidChain\":\"Mainnet\",\"destination\":"
            "\"0x5e9ee1089755c3435139848e47e6635505d5a13a\","
            "\"amount\":1.5,\"time\":1700000000000}" NONCE "}",
            M, SIGIL_E_BAD_FIELD, "request.action.amount");
    refused("{\"action\":{\"type\":\"usdSend\",\"signatureChainId\":\"0x66eee\","
            "\"hyperliquidChain\":\"Mainnet\",\"destination\":"
            "\"0x5e9ee1089755c3435139848e47e6635505d5a13a\","
            "\"amount\":\"1.5\",\"time\":\"1700000000000\"}" NONCE "}",
            M, SIGIL_E_BAD_FIELD, "request.action.time");
    refused("{\"action\":{\"type\":\"usdSend\",\"hyperliquidChain\":\"Mainnet\","
            "\"destination\":\"0x5e9ee1089755c3435139848e47e6635505d5a13a\",\"amount\":\"1.5\","
            "\"time\":1700000000000}" NONCE "}",
            M, SIGIL_E_MISSING_FIELD, "request.action.signatureChainId");
}

static void test_refusals_user_values(void **state)
{
    (void)state;
    const sigil_network M = SIGIL_NET_MAINNET;
    static const struct {
        const char *chain_id;
        sigil_err code;
    } CHAIN_IDS[] = {{"66eee", SIGIL_E_BAD_FIELD},
                     {"0x", SIGIL_E_BAD_FIELD},
                     {"0xzz", SIGIL_E_BAD_ENCODING},
                     {"0x0", SIGIL_E_OUT_OF_RANGE},
                     {"0x10000000000000000", SIGIL_E_BAD_FIELD}};
    char req[1024];
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CHAIN_IDS); i++) {
        snprintf(req, sizeof(req),
                 "{\"action\":{\"type\":\"usdSend\",\"signatureChainId\":\"%s\","
                 "\"hyperliquidChain\":\"Mainnet\",\"destination\":\"0x5e\",\"amount\":\"1\","
                 "\"time\":1700000000000}" NONCE "}",
                 CHAIN_IDS[i].chain_id);
        refused(req, M, CHAIN_IDS[i].code, "request.action.signatureChainId");
    }
    refused("{\"action\":{\"type\":\"usdClassTransfer\",\"signatureChainId\":\"0x66eee\","
            "\"hyperliquidChain\":\"Mainnet\",\"amount\":\"1\",\"toPerp\":\"true\","
            "\"nonce\":1700000000000}" NONCE "}",
            M, SIGIL_E_BAD_FIELD, "request.action.toPerp");
    refused("{\"action\":{\"type\":\"approveAgent\",\"signatureChainId\":\"0x66eee\","
            "\"hyperliquidChain\":\"Mainnet\",\"agentAddress\":\"0x1719\",\"agentName\":\"a\","
            "\"nonce\":1700000000000}" NONCE "}",
            M, SIGIL_E_BAD_ADDRESS, "request.action.agentAddress");
    refused("{\"action\":{\"type\":\"approveAgent\",\"signatureChainId\":\"0x66eee\","
            "\"hyperliquidChain\":\"Mainnet\",\"agentAddress\":\"" VAULT_LOWER "\",\"agentName\":5,"
            "\"nonce\":1700000000000}" NONCE "}",
            M, SIGIL_E_BAD_FIELD, "request.action.agentName");
    refused("{\"action\":{\"type\":\"tokenDelegate\",\"signatureChainId\":\"0x66eee\","
            "\"hyperliquidChain\":\"Mainnet\",\"validator\":\"" VAULT_LOWER "\",\"wei\":-1,"
            "\"isUndelegate\":false,\"nonce\":1700000000000}" NONCE "}",
            M, SIGIL_E_OUT_OF_RANGE, "request.action.wei");
    refused("{\"action\":{\"type\":\"approveBuilderFee\",\"signatureChainId\":\"0x66eee\","
            "\"hyperliquidChain\":\"Mainnet\",\"maxFeeRate\":\"0.001%\","
            "\"nonce\":1700000000000}" NONCE "}",
            M, SIGIL_E_MISSING_FIELD, "request.action.builder");
}

/* Every table row signs a well-formed action (no vectors for most rows:
 * this checks the table is usable and the nonce field is right). */
static void test_every_user_action_signs(void **state)
{
    (void)state;
    static const char *const ACTIONS[] = {
        "\"type\":\"spotSend\",\"destination\":\"0x5e\",\"token\":\"PURR:0xc4bf\",\"amount\":\"1\","
        "\"time\":1700000000000",
        "\"type\":\"withdraw3\",\"destination\":\"0x5e\",\"amount\":\"1\",\"time\":1700000000000",
        "\"type\":\"approveBuilderFee\",\"maxFeeRate\":\"0.001%\",\"builder\":\"" VAULT_LOWER
        "\",\"nonce\":1700000000000",
        "\"type\":\"usdClassTransfer\",\"amount\":\"1\",\"toPerp\":true,\"nonce\":1700000000000",
        "\"type\":\"sendAsset\",\"destination\":\"0x5e\",\"sourceDex\":\"\",\"destinationDex\":"
        "\"spot\",\"token\":\"USDC\",\"amount\":\"1\",\"fromSubAccount\":\"\",\"nonce\":"
        "1700000000000",
        "\"type\":\"tokenDelegate\",\"validator\":\"" VAULT_LOWER "\",\"wei\":100000000,"
        "\"isUndelegate\":false,\"nonce\":1700000000000",
        "\"type\":\"convertToMultiSigUser\",\"signers\":\"{}\",\"nonce\":1700000000000",
        "\"type\":\"userDexAbstraction\",\"user\":\"" VAULT_LOWER "\",\"enabled\":true,"
        "\"nonce\":1700000000000",
        "\"type\":\"userSetAbstraction\",\"user\":\"" VAULT_LOWER "\",\"abstraction\":\"x\","
        "\"nonce\":1700000000000",
    };
    char req[1024];
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(ACTIONS); i++) {
        snprintf(req, sizeof(req),
                 "{\"action\":{\"signatureChainId\":\"0xa4b1\",\"hyperliquidChain\":\"Testnet\",%"
                 "s}" NONCE "}",
                 ACTIONS[i]);
        const char *out = sign_ok(req, SIGIL_NET_TESTNET);
        assert_null(strstr(out, "vaultAddress"));
        /* user-signed: refused on the other network, so it was not taken as L1 */
        refused(req, SIGIL_NET_MAINNET, SIGIL_E_BAD_FIELD, "request.action.hyperliquidChain");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_l1_domain_separator),
        cmocka_unit_test(test_staking_actions),
        cmocka_unit_test(test_l1_vectors),
        cmocka_unit_test(test_user_vectors),
        cmocka_unit_test(test_post_body),
        cmocka_unit_test(test_vault_spelling),
        cmocka_unit_test(test_escaped_strings),
        cmocka_unit_test(test_approve_agent_without_name),
        cmocka_unit_test(test_refusals_request),
        cmocka_unit_test(test_refusals_l1_action),
        cmocka_unit_test(test_refusals_user_signed),
        cmocka_unit_test(test_refusals_user_values),
        cmocka_unit_test(test_every_user_action_signs),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
