/*
 * Unit tests for the dYdX v4 venue (trusted code): every vector of
 * tests/vectors/dydx.json (v4-client-js 3.6.0 == an independent encoder +
 * @noble/curves) checked layer by layer — message, TxBody, AuthInfo, SignDoc,
 * its SHA-256, the signature and the TxRaw — and again whole through
 * sigil_sign; the protobuf writer against hand-encoded bytes; bech32
 * addresses; and the request parser's refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_util.h"
#include "venues/dydx_internal.h"

#define KEY0 "0x0123456789012345678901234567890123456789012345678901234567890123"
#define ADDR0 "dydx1navfnxx0ywpgtdjevkkmk2k79lvr37jtmp8y6t"
#define KEY1 "0x1111111111111111111111111111111111111111111111111111111111111111"
#define ADDR1 "dydx1l3e9pgs3mmwuwrh95fecme0s0qtn2880qnulfw"
#define VEC_TOKS 4096

static char g_vec_text[64 * 1024];
static sigil_json_tok g_vec_toks[VEC_TOKS];
static sigil_json g_vec;
static char g_out[16 * 1024];

#define EXPECT_ERR(call, code, needle)                                                             \
    do {                                                                                           \
        assert_int_equal((call), -1);                                                              \
        if (sigil_errno() != (code) || strstr(sigil_errmsg(), (needle)) == NULL)                   \
            fail_msg("want %s naming \"%s\", got %s: %s", sigil_err_code(code), (needle),          \
                     sigil_err_code(sigil_errno()), sigil_errmsg());                               \
    } while (0)

static int setup(void **state)
{
    (void)state;
    assert_int_equal(sigil_init(), 0);
    test_load_vectors("dydx.json", g_vec_text, sizeof(g_vec_text), &g_vec, g_vec_toks, VEC_TOKS);
    return 0;
}

/* ---- JSON helpers over the vector file ---- */

static uint32_t member(uint32_t obj, const char *key)
{
    uint32_t t = sigil_json_get(&g_vec, obj, key);
    if (t == 0)
        fail_msg("vector member %s missing", key);
    return t;
}

static uint64_t num(uint32_t obj, const char *key)
{
    uint64_t v;
    assert_int_equal(sigil_json_tok_u64(&g_vec, member(obj, key), &v, key), 0);
    return v;
}

static void text(char *dst, size_t cap, uint32_t obj, const char *key)
{
    sigil_buf b;
    sigil_buf_init(&b, dst, cap - 1);
    assert_int_equal(sigil_json_str(&g_vec, member(obj, key), &b), 0);
    dst[b.len] = '\0';
}

static void expect_hex(const sigil_buf *got, uint32_t expected, const char *key, const char *name)
{
    static char want[8192], hex[8192];
    text(want, sizeof(want), expected, key);
    assert_true(got->len * 2 + 1 <= sizeof(hex));
    sigil_hex_encode(hex, got->data, got->len);
    if (strcmp(hex, want) != 0)
        fail_msg("%s: %s\n  want %s\n  got  %s", name, key, want, hex);
}

/* ---- a vector's inputs as a sigil request ---- */

static const char *const ID_MAP[][2] = {
    {"subaccountNumber", "subaccount_number"},
    {"clientId", "client_id"},
    {"clobPairId", "clob_pair_id"},
    {"orderFlags", "order_flags"},
};
static const char *const ORDER_MAP[][2] = {
    {"side", "side"},
    {"quantums", "quantums"},
    {"subticks", "subticks"},
    {"timeInForce", "time_in_force"},
    {"clientMetadata", "client_metadata"},
};

static void put_map(sigil_jw *w, uint32_t msg, const char *const (*map)[2], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(sigil_jw_key(w, map[i][1]), 0);
        assert_int_equal(sigil_jw_u64(w, num(msg, map[i][0])), 0);
    }
}

static void request_of(sigil_buf *b, uint32_t in)
{
    char s[128];
    sigil_jw w;
    uint32_t msg = member(in, "msg");
    bool place =
        sigil_json_str_eq(&g_vec, member(in, "msg_type_url"), "/dydxprotocol.clob.MsgPlaceOrder");
    sigil_jw_init(&w, b);
    assert_int_equal(sigil_jw_obj_begin(&w), 0);
    text(s, sizeof(s), in, "chain_id");
    assert_int_equal(sigil_jw_key(&w, "chain_id") | sigil_jw_str(&w, s), 0);
    assert_int_equal(sigil_jw_key(&w, "account_number"), 0);
    assert_int_equal(sigil_jw_u64(&w, num(in, "account_number")), 0);
    assert_int_equal(sigil_jw_key(&w, "sequence"), 0);
    assert_int_equal(sigil_jw_u64(&w, num(in, "sequence")), 0);
    assert_int_equal(sigil_jw_key(&w, "authenticators"), 0);
    assert_int_equal(sigil_jw_copy(&w, &g_vec, member(in, "selected_authenticators")), 0);
    assert_int_equal(sigil_jw_key(&w, place ? "place_order" : "cancel_order"), 0);
    assert_int_equal(sigil_jw_obj_begin(&w), 0);
    text(s, sizeof(s), msg, "owner");
    assert_int_equal(sigil_jw_key(&w, "owner") | sigil_jw_str(&w, s), 0);
    put_map(&w, msg, ID_MAP, SIGIL_ARRAY_LEN(ID_MAP));
    bool short_term = num(msg, "orderFlags") == 0;
    assert_int_equal(sigil_jw_key(&w, short_term ? "good_til_block" : "good_til_block_time"), 0);
    assert_int_equal(sigil_jw_u64(&w, num(msg, short_term ? "goodTilBlock" : "goodTilBlockTime")),
                     0);
    if (place) {
        put_map(&w, msg, ORDER_MAP, SIGIL_ARRAY_LEN(ORDER_MAP));
        assert_int_equal(sigil_jw_key(&w, "reduce_only"), 0);
        assert_int_equal(sigil_jw_bool(&w, sigil_json_type_of(&g_vec, member(msg, "reduceOnly")) ==
                                               SIGIL_JSON_TRUE),
                         0);
    }
    assert_int_equal(sigil_jw_obj_end(&w), 0);
    assert_int_equal(sigil_jw_obj_end(&w), 0);
}

static int sign_text(char *out, size_t cap, const char *key, sigil_network net, const char *req)
{
    char cred[128];
    sigil_credentials c;
    sigil_buf b;
    snprintf(cred, sizeof(cred), "{\"private_key\":\"%s\"}", key);
    assert_int_equal(sigil_credentials_parse(&c, &sigil_venue_dydx, cred, strlen(cred)), 0);
    sigil_buf_init(&b, out, cap - 1);
    int rc = sigil_sign(&b, &sigil_venue_dydx, &c, net, req, strlen(req));
    sigil_credentials_free(&c);
    out[rc == 0 ? b.len : 0] = '\0';
    assert_null(strstr(sigil_errmsg(), key + 2));
    assert_null(strstr(out, key + 2));
    return rc;
}

/* ---- vectors, layer by layer ---- */

static void check_layers(uint32_t v, const char *name, const char *req, sigil_network net)
{
    static _Thread_local dydx_tx tx;
    static uint8_t mem[6][4096];
    uint32_t in = member(v, "inputs"), exp = member(v, "expected");
    sigil_json d;
    sigil_json_tok toks[256];
    sigil_buf msg, body, auth, doc, hash, raw;
    uint8_t pub[33], sig[64];
    char key[80], pub_hex[80];
    int recid;
    sigil_credentials c;

    text(key, sizeof(key), in, "signer_private_key");
    snprintf(g_out, sizeof(g_out), "{\"private_key\":\"%s\"}", key);
    assert_int_equal(sigil_credentials_parse(&c, &sigil_venue_dydx, g_out, strlen(g_out)), 0);
    assert_int_equal(sigil_dydx_pubkey(pub, &c), 0);
    sigil_hex_encode(pub_hex, pub, 33);
    text(key, sizeof(key), in, "signer_pubkey_compressed");
    assert_string_equal(pub_hex, key);

    char addr[DYDX_ADDR_MAX + 1];
    size_t n;
    assert_int_equal(sigil_dydx_address(addr, &n, pub), 0);
    text(key, sizeof(key), in, "signer_address");
    assert_string_equal(addr, key);
    assert_int_equal(sigil_dydx_address_check(addr, n, "addr"), 0);

    assert_int_equal(sigil_json_parse(&d, req, strlen(req), toks, 256), 0);
    assert_int_equal(sigil_dydx_request_parse(&tx, &d, 0, net), 0);
    sigil_buf_init(&msg, mem[0], sizeof(mem[0]));
    sigil_buf_init(&body, mem[1], sizeof(mem[1]));
    sigil_buf_init(&auth, mem[2], sizeof(mem[2]));
    sigil_buf_init(&doc, mem[3], sizeof(mem[3]));
    sigil_buf_init(&hash, mem[4], 32);
    sigil_buf_init(&raw, mem[5], sizeof(mem[5]));
    assert_int_equal(sigil_dydx_msg_bytes(&msg, &tx), 0);
    expect_hex(&msg, exp, "msg_bytes_hex", name);
    assert_int_equal(sigil_dydx_body_bytes(&body, &tx), 0);
    expect_hex(&body, exp, "body_bytes_hex", name);
    assert_int_equal(sigil_dydx_auth_info_bytes(&auth, &tx, pub), 0);
    expect_hex(&auth, exp, "auth_info_bytes_hex", name);
    sigil_slice bs = {(const char *)body.data, body.len}, as = {(const char *)auth.data, auth.len};
    assert_int_equal(sigil_dydx_sign_doc_bytes(&doc, bs, as, tx.chain_id, tx.account_number), 0);
    expect_hex(&doc, exp, "sign_doc_bytes_hex", name);
    sigil_sha256(hash.data, doc.data, doc.len);
    hash.len = 32;
    expect_hex(&hash, exp, "sign_doc_sha256_hex", name);
    assert_int_equal(sigil_secp256k1_sign(sig, &recid, c.secret.p, hash.data), 0);
    sigil_buf sb = {sig, 64, 64};
    expect_hex(&sb, exp, "signature_hex", name);
    assert_int_equal(sigil_dydx_tx_raw_bytes(&raw, bs, as, sig), 0);
    expect_hex(&raw, exp, "tx_raw_hex", name);
    sigil_credentials_free(&c);
}

static void test_vectors(void **state)
{
    static char req[4096], out[8192], want[8192];
    (void)state;
    uint32_t list = member(0, "vectors");
    size_t count = 0;
    for (uint32_t v = sigil_json_first(&g_vec, list); v != 0;
         v = sigil_json_sibling(&g_vec, list, v)) {
        char name[256], key[80], chain[32];
        uint32_t in = member(v, "inputs"), exp = member(v, "expected");
        sigil_buf rb;
        text(name, sizeof(name), v, "name");
        text(chain, sizeof(chain), in, "chain_id");
        sigil_network net =
            strcmp(chain, "dydx-mainnet-1") == 0 ? SIGIL_NET_MAINNET : SIGIL_NET_TESTNET;
        sigil_buf_init(&rb, req, sizeof(req) - 1);
        request_of(&rb, in);
        req[rb.len] = '\0';
        check_layers(v, name, req, net);

        text(key, sizeof(key), in, "signer_private_key");
        if (sign_text(out, sizeof(out), key, net, req) != 0)
            fail_msg("%s: %s", name, sigil_errmsg());
        static char tx[4096], hash[80], sig[100];
        text(tx, sizeof(tx), exp, "tx_raw_base64");
        text(hash, sizeof(hash), exp, "txhash");
        text(sig, sizeof(sig), exp, "signature_base64");
        snprintf(want, sizeof(want), "{\"tx_bytes\":\"%s\",\"txhash\":\"%s\",\"signature\":\"%s\"}",
                 tx, hash, sig);
        if (strcmp(out, want) != 0)
            fail_msg("%s:\n  want %s\n  got  %s", name, want, out);
        count++;
    }
    assert_int_equal(count, 10);
}

/* ---- the protobuf writer ---- */

static void test_protobuf(void **state)
{
    uint8_t mem[64];
    char hex[129];
    sigil_buf b;
    sigil_pb_mark m, inner;
    (void)state;
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_pb_uint(&b, 1, 0), 0); /* default: nothing */
    assert_int_equal(sigil_pb_uint(&b, 1, 150), 0);
    assert_int_equal(sigil_pb_fixed32(&b, 2, 0x01020304), 0);
    assert_int_equal(sigil_pb_bytes(&b, 3, "", 0), 0);
    assert_int_equal(sigil_pb_bytes_always(&b, 4, "", 0), 0);
    assert_int_equal(sigil_pb_begin(&b, 2047, &m), 0);
    assert_int_equal(sigil_pb_begin(&b, 1, &inner), 0);
    assert_int_equal(sigil_pb_end(&b, &inner), 0);
    assert_int_equal(sigil_pb_uint(&b, 2, UINT64_MAX), 0);
    assert_int_equal(sigil_pb_end(&b, &m), 0);
    sigil_hex_encode(hex, b.data, b.len);
    /* 08 9601 | 15 04030201 | 22 00 | fa7f 0d (0a 00 | 10 ffffffffffffffffff01) */
    assert_string_equal(hex, "089601150403020122"
                             "00fa7f0d0a0010ffffffffffffffffff01");

    /* A 200-byte nested message needs a 2-byte length. */
    uint8_t big[256];
    sigil_buf_init(&b, big, sizeof(big));
    assert_int_equal(sigil_pb_begin(&b, 1, &m), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(sigil_pb_uint_always(&b, 1, 0), 0);
    assert_int_equal(sigil_pb_end(&b, &m), 0);
    assert_int_equal(b.len, 203);
    assert_int_equal(big[1], 0xc8);
    assert_int_equal(big[2], 0x01);
    assert_int_equal(big[3], 0x08);

    /* Out of room: refused whole. */
    sigil_buf_init(&b, mem, 3);
    EXPECT_ERR(sigil_pb_bytes(&b, 1, "abcd", 4), SIGIL_E_TOO_LARGE, "exceeds");
    assert_int_equal(b.len, 0);
}

/* ---- addresses ---- */

static void test_addresses(void **state)
{
    (void)state;
    assert_int_equal(sigil_dydx_address_check(ADDR0, strlen(ADDR0), "a"), 0);
    assert_int_equal(sigil_dydx_address_check(ADDR1, strlen(ADDR1), "a"), 0);
    /* one character changed, upper case, another prefix, truncated */
    EXPECT_ERR(sigil_dydx_address_check("dydx1navfnxx0ywpgtdjevkkmk2k79lvr37jtmp8y6q", 43, "a"),
               SIGIL_E_BAD_ADDRESS, "checksum");
    EXPECT_ERR(sigil_dydx_address_check("DYDX1NAVFNXX0YWPGTDJEVKKMK2K79LVR37JTMP8Y6T", 43, "a"),
               SIGIL_E_BAD_ADDRESS, "a:");
    EXPECT_ERR(sigil_dydx_address_check("cosmos1navfnxx0ywpgtdjevkkmk2k79lvr37jtmp8y6t", 45, "a"),
               SIGIL_E_BAD_ADDRESS, "dydx1");
    EXPECT_ERR(sigil_dydx_address_check(ADDR0, 20, "a"), SIGIL_E_BAD_ADDRESS, "dydx1");
    EXPECT_ERR(sigil_dydx_address_check("dydx1navfnxx0ywpgtdjevkkmk2k79lvr37jtmp8ybt", 43, "a"),
               SIGIL_E_BAD_ADDRESS, "a:");
}

/* ---- refusals ---- */

#define BASE "\"chain_id\":\"dydx-mainnet-1\",\"account_number\":1,\"sequence\":0"
#define ID(owner, flags)                                                                           \
    "\"owner\":\"" owner "\",\"subaccount_number\":0,\"client_id\":1,\"clob_pair_id\":0,"          \
    "\"order_flags\":" #flags
#define PLACE(extra) "{" BASE ",\"place_order\":{" ID(ADDR0, 0) ",\"good_til_block\":10," extra "}}"
#define ORDER "\"side\":1,\"quantums\":10,\"subticks\":10"

static void refused(const char *req, sigil_network net, sigil_err code, const char *needle)
{
    char out[4096];
    EXPECT_ERR(sign_text(out, sizeof(out), KEY0, net, req), code, needle);
    assert_int_equal(out[0], '\0');
}

static void test_refusals(void **state)
{
    char out[4096];
    (void)state;
    assert_int_equal(sign_text(out, sizeof(out), KEY0, SIGIL_NET_MAINNET, PLACE(ORDER)), 0);
    refused(PLACE(ORDER), SIGIL_NET_TESTNET, SIGIL_E_BAD_FIELD, "request.chain_id");
    refused(PLACE(ORDER ",\"side\":2"), SIGIL_NET_MAINNET, SIGIL_E_DUPLICATE_KEY, "side");
    refused(PLACE(ORDER ",\"extra\":1"), SIGIL_NET_MAINNET, SIGIL_E_UNKNOWN_FIELD, "extra");
    refused(PLACE("\"side\":3,\"quantums\":10,\"subticks\":10"), SIGIL_NET_MAINNET,
            SIGIL_E_OUT_OF_RANGE, "side");
    refused(PLACE("\"side\":1,\"quantums\":0,\"subticks\":10"), SIGIL_NET_MAINNET,
            SIGIL_E_OUT_OF_RANGE, "quantums");
    refused(PLACE("\"side\":1,\"quantums\":18446744073709551616,\"subticks\":10"),
            SIGIL_NET_MAINNET, SIGIL_E_OUT_OF_RANGE, "quantums");
    refused(PLACE("\"side\":1,\"quantums\":1.5,\"subticks\":10"), SIGIL_NET_MAINNET,
            SIGIL_E_BAD_FIELD, "quantums");
    refused(PLACE(ORDER ",\"client_metadata\":4294967296"), SIGIL_NET_MAINNET, SIGIL_E_OUT_OF_RANGE,
            "client_metadata");
    refused(PLACE(ORDER ",\"time_in_force\":4"), SIGIL_NET_MAINNET, SIGIL_E_OUT_OF_RANGE,
            "time_in_force");
    refused(PLACE(ORDER ",\"reduce_only\":1"), SIGIL_NET_MAINNET, SIGIL_E_BAD_FIELD, "reduce_only");
    refused(PLACE(ORDER ",\"good_til_block_time\":5"), SIGIL_NET_MAINNET, SIGIL_E_BAD_FIELD,
            "good_til_block_time");
    refused(PLACE(ORDER ",\"condition_type\":1"), SIGIL_NET_MAINNET, SIGIL_E_BAD_FIELD,
            "conditional");
    refused("{" BASE ",\"place_order\":{" ID(ADDR0, 64) ",\"good_til_block\":10," ORDER "}}",
            SIGIL_NET_MAINNET, SIGIL_E_MISSING_FIELD, "good_til_block_time");
    refused("{" BASE ",\"place_order\":{" ID(ADDR0, 128) ",\"good_til_block\":10," ORDER "}}",
            SIGIL_NET_MAINNET, SIGIL_E_BAD_FIELD, "order_flags");
    refused("{" BASE ",\"place_order\":{" ID(ADDR0, 32) ",\"good_til_block_time\":10," ORDER "}}",
            SIGIL_NET_MAINNET, SIGIL_E_MISSING_FIELD, "condition_type");
    /* another owner without an authenticator; a malformed owner */
    refused("{" BASE ",\"place_order\":{" ID(ADDR1, 0) ",\"good_til_block\":10," ORDER "}}",
            SIGIL_NET_MAINNET, SIGIL_E_BAD_ADDRESS, "owner");
    refused("{" BASE ",\"place_order\":{" ID("dydx1abc", 0) ",\"good_til_block\":10," ORDER "}}",
            SIGIL_NET_MAINNET, SIGIL_E_BAD_ADDRESS, "owner");
    /* both messages, none, envelope fields */
    refused("{" BASE ",\"place_order\":{" ID(ADDR0, 0) ",\"good_til_block\":10," ORDER
                                                       "},\"cancel_order\":{" ID(
                                                           ADDR0, 0) ",\"good_til_block\":10}}",
            SIGIL_NET_MAINNET, SIGIL_E_BAD_REQUEST, "exactly one");
    refused("{" BASE "}", SIGIL_NET_MAINNET, SIGIL_E_MISSING_FIELD, "place_order");
    refused("{\"chain_id\":\"dydx-mainnet-1\",\"sequence\":0,\"place_order\":{}}",
            SIGIL_NET_MAINNET, SIGIL_E_MISSING_FIELD, "account_number");
    refused("{" BASE ",\"authenticators\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17],"
            "\"place_order\":{" ID(ADDR0, 0) ",\"good_til_block\":10," ORDER "}}",
            SIGIL_NET_MAINNET, SIGIL_E_OUT_OF_RANGE, "authenticators");
    refused("{" BASE ",\"authenticators\":[-1],\"place_order\":{" ID(
                ADDR0, 0) ",\"good_til_block\":10," ORDER "}}",
            SIGIL_NET_MAINNET, SIGIL_E_OUT_OF_RANGE, "authenticators");
    refused("{" BASE ",\"fee\":{\"amount\":[{\"denom\":\"u\",\"amount\":\"1\"}]},"
            "\"place_order\":{" ID(ADDR0, 0) ",\"good_til_block\":10," ORDER "}}",
            SIGIL_NET_MAINNET, SIGIL_E_BAD_FIELD, "denom");
    refused("{" BASE ",\"fee\":{\"amount\":[{\"denom\":\"uusdc\",\"amount\":\"01\"}]},"
            "\"place_order\":{" ID(ADDR0, 0) ",\"good_til_block\":10," ORDER "}}",
            SIGIL_NET_MAINNET, SIGIL_E_BAD_FIELD, "amount");
    refused("{" BASE ",\"timestamp\":1700000000,\"place_order\":{" ID(
                ADDR0, 0) ",\"good_til_block\":10," ORDER "}}",
            SIGIL_NET_MAINNET, SIGIL_E_OUT_OF_RANGE, "timestamp");
}

/* A permissioned key signs for another owner through an authenticator; the
 * fee, memo, builder code and router address land in the bytes. */
static void test_permissioned_extras(void **state)
{
    char out[4096];
    (void)state;
    const char *req =
        "{" BASE ",\"authenticators\":[5,300],\"memo\":\"héllo\","
        "\"fee\":{\"amount\":[{\"denom\":\"ibc/8E27BA2D5493AF5636760E354E46004562C46AB7"
        "EC0CC4C1CA14E9E20E2545B5\",\"amount\":\"5000\"}],\"gas\":200000},"
        "\"place_order\":{" ID(
            ADDR0, 32) ",\"good_til_block_time\":1700000000,"
                       "\"side\":2,\"quantums\":10,\"subticks\":10,\"condition_type\":1,"
                       "\"conditional_order_trigger_subticks\":9,\"builder_code\":{"
                       "\"builder_address\":\"" ADDR1 "\",\"fee_ppm\":100},"
                       "\"order_router_address\":\"" ADDR1 "\"}}";
    uint8_t raw[2048];
    size_t n = 0;
    assert_int_equal(sign_text(out, sizeof(out), KEY1, SIGIL_NET_MAINNET, req), 0);
    assert_memory_equal(out, "{\"tx_bytes\":\"", 13);
    const char *end = strchr(out + 13, '"');
    assert_non_null(end);
    assert_int_equal(sigil_b64_decode(raw, sizeof(raw), &n, out + 13, (size_t)(end - out - 13),
                                      SIGIL_B64_STD, "tx_bytes"),
                     0);
    /* memo (field 2), packed authenticators 5 and 300, the fee coin, gas
     * 200000, the trigger (field 11) and the builder code (field 13). */
    static const char *const NEEDLES[] = {"\x12\x06h\xc3\xa9llo",
                                          "\x0a\x03\x05\xac\x02",
                                          "\x12\x04"
                                          "5000",
                                          "\x10\xc0\x9a\x0c",
                                          "\x58\x09",
                                          "\x6a\x2f\x0a\x2b" ADDR1 "\x10\x64"};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(NEEDLES); i++)
        if (memmem(raw, n, NEEDLES[i], strlen(NEEDLES[i])) == NULL)
            fail_msg("TxRaw lacks needle %zu", i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_protobuf),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_permissioned_extras),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
