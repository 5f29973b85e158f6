/*
 * Unit tests for the EIP-712 encoder (src/codec/eip712.c), the EIP-191
 * digest, and the eip712 / eip191 venues. Expected values come from the
 * EIP-712 specification's Mail example and from ethers 6.17.0
 * (TypedDataEncoder), never from Sigil itself; every refusal is checked for
 * its error code and the path it names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "venues/venues_internal.h"

#define SL(lit) ((sigil_slice){(lit), sizeof(lit) - 1})
#define DOC_MAX (16 * 1024)

#define EXPECT_ERR(call, code, needle)                                                             \
    do {                                                                                           \
        assert_int_equal((call), -1);                                                              \
        assert_int_equal(sigil_errno(), (code));                                                   \
        if (strstr(sigil_errmsg(), (needle)) == NULL)                                              \
            fail_msg("error message \"%s\" does not name \"%s\"", sigil_errmsg(), (needle));       \
    } while (0)

static sigil_json_tok g_toks[SIGIL_REQUEST_MAX_TOKENS];
static sigil_json g_doc;
static char g_text[DOC_MAX];

static void parse_ok(const char *text)
{
    if (sigil_json_parse(&g_doc, text, strlen(text), g_toks, SIGIL_REQUEST_MAX_TOKENS) != 0)
        fail_msg("test JSON does not parse: %s", sigil_errmsg());
}

static void unhex32(uint8_t out[32], const char *hex)
{
    assert_int_equal(sigil_hex_decode_exact(out, 32, hex, strlen(hex), true, "test"), 0);
}

static void assert_hash(const uint8_t got[32], const char *want_hex)
{
    uint8_t want[32];
    unhex32(want, want_hex);
    assert_memory_equal(got, want, 32);
}

/* hashStruct of {"x": value} as type T(<type> x). */
static int hash_one(uint8_t out[32], const char *type, const char *value)
{
    sigil_eip712_type tm[4];
    sigil_eip712_field fm[8];
    sigil_eip712_types t;
    snprintf(g_text, sizeof(g_text),
             "{\"types\":{\"T\":[{\"name\":\"x\",\"type\":\"%s\"}]},\"v\":{\"x\":%s}}", type,
             value);
    parse_ok(g_text);
    GUARD(
        sigil_eip712_types_from_json(&t, tm, 4, fm, 8, &g_doc, sigil_json_get(&g_doc, 0, "types")));
    return sigil_eip712_hash_struct(out, &t, SL("T"), &g_doc, sigil_json_get(&g_doc, 0, "v"));
}

static int typed(uint8_t digest[32], uint8_t ds[32], const char *text)
{
    parse_ok(text);
    return sigil_eip712_hash_typed_data(digest, ds, &g_doc, 0, NULL, 0);
}

/* ---- the specification's Mail example ---- */
#define PERSON                                                                                     \
    "\"Person\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"wallet\",\"type\":"           \
    "\"address\"}]"
#define MAIL                                                                                       \
    "\"Mail\":[{\"name\":\"from\",\"type\":\"Person\"},{\"name\":\"to\",\"type\":\"Person\"},"     \
    "{\"name\":\"contents\",\"type\":\"string\"}]"
#define MAIL_DOMAIN                                                                                \
    "{\"name\":\"Ether Mail\",\"version\":\"1\",\"chainId\":1,"                                    \
    "\"verifyingContract\":\"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC\"}"
#define COW "{\"name\":\"Cow\",\"wallet\":\"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826\"}"
#define BOB "{\"name\":\"Bob\",\"wallet\":\"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB\"}"
#define MAIL_MESSAGE "{\"from\":" COW ",\"to\":" BOB ",\"contents\":\"Hello, Bob!\"}"
#define MAIL_DIGEST "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
#define MAIL_DS "0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f"

static const char *mail_doc(const char *types, const char *domain, const char *message)
{
    snprintf(g_text, sizeof(g_text),
             "{\"domain\":%s,\"types\":{%s},\"primaryType\":\"Mail\",\"message\":%s}", domain,
             types, message);
    return g_text;
}

static void test_mail_spec(void **state)
{
    (void)state;
    static const char ENCODE_TYPE[] =
        "Mail(Person from,Person to,string contents)Person(string name,address wallet)";
    sigil_eip712_type tm[SIGIL_EIP712_MAX_TYPES];
    sigil_eip712_field fm[SIGIL_EIP712_MAX_FIELDS];
    sigil_eip712_types t;
    uint8_t h[32], want[32], ds[32];
    parse_ok(mail_doc(PERSON "," MAIL, MAIL_DOMAIN, MAIL_MESSAGE));
    uint32_t types = sigil_json_get(&g_doc, 0, "types");
    assert_int_equal(sigil_eip712_types_from_json(&t, tm, SIGIL_EIP712_MAX_TYPES, fm,
                                                  SIGIL_EIP712_MAX_FIELDS, &g_doc, types),
                     0);
    assert_int_equal(sigil_eip712_type_hash(h, &t, SL("Mail")), 0);
    sigil_keccak256(want, ENCODE_TYPE, sizeof(ENCODE_TYPE) - 1);
    assert_memory_equal(h, want, 32);
    assert_hash(h, "0xa0cedeb2dc280ba39b857546d74f5549c3a1d7bdc2dd96bf881f76108e23dac2");
    assert_int_equal(sigil_eip712_type_hash(h, &t, SL("Person")), 0);
    assert_hash(h, "0xb9d8c78acf9b987311de6c7b45bb6a9c8e1bf361fa7fd3467a2163f994c79500");
    assert_int_equal(
        sigil_eip712_hash_struct(h, &t, SL("Mail"), &g_doc, sigil_json_get(&g_doc, 0, "message")),
        0);
    assert_hash(h, "0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e");
    assert_int_equal(sigil_eip712_hash_typed_data(h, ds, &g_doc, 0, NULL, 0), 0);
    assert_hash(h, MAIL_DIGEST);
    assert_hash(ds, MAIL_DS);
}

/* An EIP712Domain type in "types" is used as given; derived otherwise. */
static void test_domain_type(void **state)
{
    (void)state;
    uint8_t h[32], ds[32];
    assert_int_equal(
        typed(h, ds,
              mail_doc("\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"},"
                       "{\"name\":\"version\",\"type\":\"string\"},"
                       "{\"name\":\"chainId\",\"type\":\"uint256\"},"
                       "{\"name\":\"verifyingContract\",\"type\":\"address\"}]," PERSON "," MAIL,
                       MAIL_DOMAIN, MAIL_MESSAGE)),
        0);
    assert_hash(h, MAIL_DIGEST);
    assert_int_equal(
        typed(h, ds,
              mail_doc("\"EIP712Domain\":[{\"name\":\"chainId\",\"type\":\"uint256\"},"
                       "{\"name\":\"name\",\"type\":\"string\"},"
                       "{\"name\":\"version\",\"type\":\"string\"},"
                       "{\"name\":\"verifyingContract\",\"type\":\"address\"}]," PERSON "," MAIL,
                       MAIL_DOMAIN, MAIL_MESSAGE)),
        0);
    assert_hash(ds, "0x46b67a37b1191b4edd438d92ef7bd8989a836ceb3893cd30851fef854a141033");
    /* derived: present members in canonical order, whatever the JSON order */
    assert_int_equal(typed(h, ds,
                           mail_doc(PERSON "," MAIL, "{\"chainId\":1,\"name\":\"X\",\"salt\":null}",
                                    MAIL_MESSAGE)),
                     0);
    assert_hash(ds, "0x0d98beb382308955b6e8410f596228527c4b44a9a7b8dd20ee862af465c2d6cd");
    EXPECT_ERR(
        typed(h, ds, mail_doc(PERSON "," MAIL, "{\"name\":\"X\",\"chain\":1}", MAIL_MESSAGE)),
        SIGIL_E_UNKNOWN_FIELD, "domain.chain");
    EXPECT_ERR(typed(h, ds,
                     mail_doc("\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"}]," PERSON
                              "," MAIL,
                              MAIL_DOMAIN, MAIL_MESSAGE)),
               SIGIL_E_UNKNOWN_FIELD, "domain.version");
    EXPECT_ERR(typed(h, ds,
                     mail_doc(PERSON "," MAIL,
                              "{\"name\":\"X\",\"verifyingContract\":"
                              "\"0xccccccccccccccccccccccccccccccccccccccCC\"}",
                              MAIL_MESSAGE)),
               SIGIL_E_BAD_ADDRESS, "domain.verifyingContract");
}

/* Members the type does not declare are ignored, as ethers does. */
static void test_extra_message_members_ignored(void **state)
{
    (void)state;
    uint8_t h[32], ds[32];
    assert_int_equal(typed(h, ds,
                           mail_doc(PERSON "," MAIL, MAIL_DOMAIN,
                                    "{\"cc\":[1,2],\"from\":{\"name\":\"Cow\",\"age\":3,\"wallet\":"
                                    "\"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826\"},\"to\":" BOB
                                    ",\"contents\":\"Hello, Bob!\"}")),
                     0);
    assert_hash(h, MAIL_DIGEST);
    /* escaped member names are the same names */
    assert_int_equal(typed(h, ds,
                           mail_doc(PERSON "," MAIL, MAIL_DOMAIN,
                                    "{\"\\u0066rom\":" COW ",\"to\":" BOB
                                    ",\"contents\":\"Hello, \\u0042ob!\"}")),
                     0);
    assert_hash(h, MAIL_DIGEST);
}

/* ---- everything at once, against ethers 6.17.0 ---- */
#define BAG_TYPES                                                                                  \
    "\"Item\":[{\"name\":\"id\",\"type\":\"uint16\"},{\"name\":\"tag\",\"type\":\"bytes3\"}],"     \
    "\"Bag\":[{\"name\":\"grid\",\"type\":\"uint256[][]\"},{\"name\":\"pair\",\"type\":\"Item[2]"  \
    "\"},"                                                                                         \
    "{\"name\":\"items\",\"type\":\"Item[]\"},{\"name\":\"flags\",\"type\":\"bool[2][]\"},"        \
    "{\"name\":\"neg\",\"type\":\"int8\"},{\"name\":\"big\",\"type\":\"uint256\"},"                \
    "{\"name\":\"blob\",\"type\":\"bytes\"},{\"name\":\"owner\",\"type\":\"address\"},"            \
    "{\"name\":\"note\",\"type\":\"string\"},{\"name\":\"min\",\"type\":\"int256\"},"              \
    "{\"name\":\"hexnum\",\"type\":\"uint64\"},{\"name\":\"b32\",\"type\":\"bytes32[2]\"}]"
#define UINT256_MAX_DEC                                                                            \
    "115792089237316195423570985008687907853269984665640564039457584007913129639935"
#define INT256_MIN_DEC                                                                             \
    "-57896044618658097711785492504343953926634992332820282019728792003956564819968"

static char g_fill_x[1021], g_fill_y[2001], g_zeros[3001];

static const char *bag_doc(void)
{
    memset(g_fill_x, 'x', 1020);
    memset(g_fill_y, 'y', 2000);
    memset(g_zeros, '0', 3000);
    snprintf(g_text, sizeof(g_text),
             "{\"domain\":{\"name\":\"Sigil Test\",\"version\":\"2\",\"chainId\":42161,"
             "\"verifyingContract\":\"0x000000000000000000000000000000000000dEaD\",\"salt\":\"0x"
             "abababababababababababababababababababababababababababababababab\"},"
             "\"types\":{" BAG_TYPES "},\"primaryType\":\"Bag\",\"message\":{"
             "\"grid\":[[1,\"2\"],[],[\"0x03\"]],"
             "\"pair\":[{\"id\":1,\"tag\":\"0x010203\"},{\"id\":65535,\"tag\":\"0xaabbcc\"}],"
             "\"items\":[{\"id\":7,\"tag\":\"0x000000\"}],\"flags\":[[true,false],[false,true]],"
             "\"neg\":-1,\"big\":\"" UINT256_MAX_DEC "\",\"blob\":\"0xdeadbeef%s\","
             "\"owner\":\"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826\","
             "\"note\":\"%scaf\\u00e9 \\\"q\\\" \\u2713 \\ud83d\\ude00%s\","
             "\"min\":\"" INT256_MIN_DEC "\",\"hexnum\":\"0xFFFFFFFFFFFFFFFF\",\"b32\":["
             "\"0x1111111111111111111111111111111111111111111111111111111111111111\","
             "\"0x0000000000000000000000000000000000000000000000000000000000000001\"]}}",
             g_zeros, g_fill_x, g_fill_y);
    return g_text;
}

static void test_nested_and_fixed_arrays(void **state)
{
    (void)state;
    sigil_eip712_type tm[SIGIL_EIP712_MAX_TYPES];
    sigil_eip712_field fm[SIGIL_EIP712_MAX_FIELDS];
    sigil_eip712_types t;
    uint8_t h[32], ds[32];
    assert_int_equal(typed(h, ds, bag_doc()), 0);
    assert_hash(h, "0xc47fd39023e10c91a7c8c1d3c80ffe241e325e604172ce40df914a25a54b6f5b");
    assert_hash(ds, "0xd643a62db0d628dcca577899b5439afc273791c49c54a860eacf2409f1aca7b2");
    assert_int_equal(sigil_eip712_types_from_json(&t, tm, SIGIL_EIP712_MAX_TYPES, fm,
                                                  SIGIL_EIP712_MAX_FIELDS, &g_doc,
                                                  sigil_json_get(&g_doc, 0, "types")),
                     0);
    assert_int_equal(sigil_eip712_type_hash(h, &t, SL("Bag")), 0);
    assert_hash(h, "0x08a8f63d40f1b8b790a66efc712953c9ac1ab45be1a7dd0fb16aa834af990fb4");
    assert_int_equal(
        sigil_eip712_hash_struct(h, &t, SL("Bag"), &g_doc, sigil_json_get(&g_doc, 0, "message")),
        0);
    assert_hash(h, "0xd85a47199ff8f4b198831dd5d4122c0e15e58e64e2bbb42773acd7a2bf98b16a");
    assert_int_equal(hash_one(h, "uint8[3]", "[1,2,3]"), 0);
    assert_hash(h, "0x1982675315ff65753f41fec4a0df051ca7644afe8d211103728ec9d64c4d747b");
    EXPECT_ERR(hash_one(h, "uint8[3]", "[1,2]"), SIGIL_E_BAD_FIELD, "message.x: expected 3 items");
    EXPECT_ERR(hash_one(h, "uint8[][2]", "[[1],[2,300]]"), SIGIL_E_OUT_OF_RANGE, "message.x[1][1]");
}

/* Referenced structs, direct or transitive, sorted by name bytewise. */
static void test_encode_type_order(void **state)
{
    (void)state;
    static const char ENCODE_TYPE[] = "Top(Zeta z,aardvark[] a,Mid[2] m)Leaf(uint8 v)Mid(Leaf l)"
                                      "Zeta(bool b)aardvark(string s)";
    sigil_eip712_type tm[8];
    sigil_eip712_field fm[16];
    sigil_eip712_types t;
    uint8_t h[32], want[32];
    parse_ok("{\"types\":{\"Top\":[{\"name\":\"z\",\"type\":\"Zeta\"},"
             "{\"name\":\"a\",\"type\":\"aardvark[]\"},{\"name\":\"m\",\"type\":\"Mid[2]\"}],"
             "\"Mid\":[{\"name\":\"l\",\"type\":\"Leaf\"}],\"Leaf\":[{\"name\":\"v\",\"type\":"
             "\"uint8\"}],"
             "\"Zeta\":[{\"name\":\"b\",\"type\":\"bool\"}],"
             "\"aardvark\":[{\"name\":\"s\",\"type\":\"string\"}]},"
             "\"v\":{\"z\":{\"b\":true},\"a\":[{\"s\":\"x\"}],\"m\":[{\"l\":{\"v\":1}},{\"l\":{"
             "\"v\":2}}]}}");
    assert_int_equal(
        sigil_eip712_types_from_json(&t, tm, 8, fm, 16, &g_doc, sigil_json_get(&g_doc, 0, "types")),
        0);
    assert_int_equal(sigil_eip712_type_hash(h, &t, SL("Top")), 0);
    sigil_keccak256(want, ENCODE_TYPE, sizeof(ENCODE_TYPE) - 1);
    assert_memory_equal(h, want, 32);
    assert_int_equal(
        sigil_eip712_hash_struct(h, &t, SL("Top"), &g_doc, sigil_json_get(&g_doc, 0, "v")), 0);
    assert_hash(h, "0x0596ca4f0dc743c6596ea89ec0024dcf8de3b292a9047ff9f63e05af0e1b9421");
}

/* ---- atomic types ---- */
static void test_atoms_against_ethers(void **state)
{
    (void)state;
    static const struct {
        const char *type, *value, *want;
    } CASES[] = {
        {"int8", "-1", "0x0a88804764eddb109c3e71689ec7198dd77eb6dc246baf6ce96a1e8fce899904"},
        {"int8", "\"-1\"", "0x0a88804764eddb109c3e71689ec7198dd77eb6dc246baf6ce96a1e8fce899904"},
        {"int8", "-128", "0x1a12d2dc501b19d89a8ae4f7ae8bff45f6c19041e1c866b97becaee480e525fe"},
        {"uint256", "\"" UINT256_MAX_DEC "\"",
         "0x73ab23bbe210c58646bede60db011cd8221887856ec1b25c3ff5a5fcd9245eef"},
        {"uint256", "\"0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\"",
         "0x73ab23bbe210c58646bede60db011cd8221887856ec1b25c3ff5a5fcd9245eef"},
        {"int256", "\"" INT256_MIN_DEC "\"",
         "0xd0093bc30d1f2cbee7a81ef65c8b55a9fae29d54edabbfd45c756164de89b68b"},
        {"bytes3", "\"0x010203\"",
         "0xca658eb08348c9dc37e6959950d501c528482915efff65f1966aebc0a52217cc"},
        {"uint32", "\"0xdeadBEEF\"",
         "0x75020a488164ca361e0fd6f89682ef605c68b4ca588d4141286561822eba5ac3"},
        {"int16", "\"-0x10\"",
         "0xbc440ea1fcaec2dd21f896eddba602d79c73c5d0e552dcfcf4d4d5987c17a759"},
    };
    uint8_t h[32];
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CASES); i++) {
        if (hash_one(h, CASES[i].type, CASES[i].value) != 0)
            fail_msg("%s %s: %s", CASES[i].type, CASES[i].value, sigil_errmsg());
        assert_hash(h, CASES[i].want);
    }
}

/* The same encodings built by hand: typeHash ‖ 32-byte word. */
static void expect_word(const char *type, const char *value, const uint8_t word[32])
{
    char enc_type[64];
    uint8_t buf[64], want[32], got[32];
    int n = snprintf(enc_type, sizeof(enc_type), "T(%s x)", type);
    sigil_keccak256(buf, enc_type, (size_t)n);
    memcpy(buf + 32, word, 32);
    sigil_keccak256(want, buf, sizeof(buf));
    if (hash_one(got, type, value) != 0)
        fail_msg("%s %s: %s", type, value, sigil_errmsg());
    assert_memory_equal(got, want, 32);
}

static void test_atoms_by_hand(void **state)
{
    (void)state;
    uint8_t w[32];
    memset(w, 0xff, 32); /* int8 -1: two's complement over 256 bits */
    expect_word("int8", "-1", w);
    expect_word("uint256", "\"" UINT256_MAX_DEC "\"", w);
    memset(w, 0, 32); /* bytes3: left-aligned, right-padded */
    w[0] = 0xab, w[1] = 0xcd, w[2] = 0xef;
    expect_word("bytes3", "\"0xabCDef\"", w);
    memset(w, 0, 32);
    w[31] = 1;
    expect_word("bool", "true", w);
    expect_word("uint8", "1", w);
    expect_word("uint8", "\"1\"", w);
    expect_word("uint8", "\"0x01\"", w);
    expect_word("uint8", "\"0X1\"", w);
    w[31] = 0;
    expect_word("bool", "false", w);
    expect_word("uint64", "\"-0\"", w);
    memset(w, 0, 32);
    memset(w + 25, 0xff, 7);
    w[25] = 0x1f; /* 2^53 - 1 = 0x1fffffffffffff, the largest JSON number accepted */
    expect_word("uint64", "9007199254740991", w);
    memset(w, 0, 32);
    uint8_t addr[20];
    assert_int_equal(
        sigil_eth_address_parse(addr, "0xcd2a3d9f938e13cd947ec05abc7fe734df8dd826", 42, "test"), 0);
    memcpy(w + 12, addr, 20); /* lowercase and checksummed forms are the same address */
    expect_word("address", "\"0xcd2a3d9f938e13cd947ec05abc7fe734df8dd826\"", w);
    expect_word("address", "\"0xCD2A3D9F938E13CD947EC05ABC7FE734DF8DD826\"", w);
    expect_word("address", "\"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826\"", w);
    sigil_keccak256(w, "\xde\xad", 2);
    expect_word("bytes", "\"0xdead\"", w);
    expect_word("bytes", "\"\\u0030xDEAD\"", w); /* the JSON string is "0xDEAD" */
    sigil_keccak256(w, "", 0);
    expect_word("bytes", "\"0x\"", w);
    expect_word("string", "\"\"", w);
}

/* Long escaped strings are hashed in chunks cut between escapes: sweep a
 * surrogate pair and a two-byte escape across the 1024-byte chunk edge. */
static void test_long_escaped_string(void **state)
{
    (void)state;
    static char value[2100], utf8[2100];
    for (size_t pad = 995; pad < 1030; pad++) {
        uint8_t word[32];
        memset(value, 'x', pad);
        memset(utf8, 'x', pad);
        int n =
            snprintf(value + pad, sizeof(value) - pad, "\\ud83d\\ude00\\u00e9\\n\\\"%s", "tail");
        int m = snprintf(utf8 + pad, sizeof(utf8) - pad, "\xf0\x9f\x98\x80\xc3\xa9\n\"tail");
        assert_true(n > 0 && m > 0);
        sigil_keccak256(word, utf8, pad + (size_t)m);
        char quoted[2200];
        snprintf(quoted, sizeof(quoted), "\"%s\"", value);
        expect_word("string", quoted, word);
    }
}

static void test_integer_ranges(void **state)
{
    (void)state;
    uint8_t h[32];
    EXPECT_ERR(hash_one(h, "uint8", "256"), SIGIL_E_OUT_OF_RANGE,
               "message.x: value out of range for uint8");
    EXPECT_ERR(hash_one(h, "uint8", "-1"), SIGIL_E_OUT_OF_RANGE, "message.x");
    EXPECT_ERR(hash_one(h, "int8", "128"), SIGIL_E_OUT_OF_RANGE, "int8");
    EXPECT_ERR(hash_one(h, "int8", "-129"), SIGIL_E_OUT_OF_RANGE, "int8");
    EXPECT_ERR(
        hash_one(
            h, "int256",
            "\"57896044618658097711785492504343953926634992332820282019728792003956564819968\""),
        SIGIL_E_OUT_OF_RANGE, "int256");
    EXPECT_ERR(
        hash_one(
            h, "uint256",
            "\"115792089237316195423570985008687907853269984665640564039457584007913129639936\""),
        SIGIL_E_OUT_OF_RANGE, "256 bits");
    EXPECT_ERR(hash_one(h, "uint64", "\"0x10000000000000000\""), SIGIL_E_OUT_OF_RANGE, "uint64");
    EXPECT_ERR(hash_one(h, "uint64", "9007199254740992"), SIGIL_E_OUT_OF_RANGE, "2^53-1");
    EXPECT_ERR(hash_one(h, "int64", "-9007199254740992"), SIGIL_E_OUT_OF_RANGE, "2^53-1");
    assert_int_equal(hash_one(h, "uint64", "\"9007199254740992\""), 0);
}

/* Forms BigInt() takes but readers disagree on are refused. */
static void test_integer_forms(void **state)
{
    (void)state;
    static const char *const BAD[] = {
        "\"007\"", "\" 7\"", "\"7 \"", "\"+7\"", "\"0b1\"",  "\"0o7\"",
        "\"1_0\"", "\"\"",   "\"0x\"", "\"-\"",  "\"--1\"",  "1e3",
        "1.5",     "1.0",    "true",   "[1]",    "\"0x-1\"",
    };
    uint8_t h[32];
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++) {
        if (hash_one(h, "uint64", BAD[i]) != -1 || sigil_errno() != SIGIL_E_BAD_FIELD)
            fail_msg("uint64 %s: expected bad_field, got %s", BAD[i],
                     sigil_err_code(sigil_errno()));
    }
    uint8_t a[32], b[32];
    assert_int_equal(hash_one(a, "uint64", "12345"), 0);
    assert_int_equal(hash_one(b, "uint64", "\"12345\""), 0);
    assert_memory_equal(a, b, 32);
    assert_int_equal(hash_one(b, "uint64", "\"0x3039\""), 0);
    assert_memory_equal(a, b, 32);
}

static void test_other_atom_refusals(void **state)
{
    (void)state;
    uint8_t h[32];
    EXPECT_ERR(hash_one(h, "address", "\"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD827\""),
               SIGIL_E_BAD_ADDRESS, "message.x: EIP-55 checksum mismatch");
    EXPECT_ERR(hash_one(h, "address", "\"0xcD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826\""),
               SIGIL_E_BAD_ADDRESS, "EIP-55");
    EXPECT_ERR(hash_one(h, "address", "\"cd2a3d9f938e13cd947ec05abc7fe734df8dd826\""),
               SIGIL_E_BAD_ADDRESS, "message.x");
    EXPECT_ERR(hash_one(h, "address", "\"0xcd2a3d9f938e13cd947ec05abc7fe734df8dd8\""),
               SIGIL_E_BAD_ADDRESS, "message.x");
    EXPECT_ERR(hash_one(h, "bytes3", "\"0x0102\""), SIGIL_E_BAD_FIELD, "bytes3 needs exactly 3");
    EXPECT_ERR(hash_one(h, "bytes3", "\"0x01020304\""), SIGIL_E_BAD_FIELD, "bytes3");
    EXPECT_ERR(hash_one(h, "bytes3", "\"010203\""), SIGIL_E_BAD_ENCODING, "0x-prefixed");
    EXPECT_ERR(hash_one(h, "bytes", "\"0x123\""), SIGIL_E_BAD_ENCODING, "odd number");
    EXPECT_ERR(hash_one(h, "bytes", "\"0xzz\""), SIGIL_E_BAD_ENCODING, "not hexadecimal");
    EXPECT_ERR(hash_one(h, "bytes", "\"dead\""), SIGIL_E_BAD_ENCODING, "0x-prefixed");
    EXPECT_ERR(hash_one(h, "bool", "\"true\""), SIGIL_E_BAD_FIELD, "expected true or false");
    EXPECT_ERR(hash_one(h, "bool", "1"), SIGIL_E_BAD_FIELD, "message.x");
    EXPECT_ERR(hash_one(h, "string", "7"), SIGIL_E_BAD_FIELD, "expected a string");
    EXPECT_ERR(hash_one(h, "uint8[]", "{}"), SIGIL_E_BAD_FIELD, "expected an array");
}

static void test_missing_field(void **state)
{
    (void)state;
    uint8_t h[32], ds[32];
    EXPECT_ERR(typed(h, ds,
                     mail_doc(PERSON "," MAIL, MAIL_DOMAIN,
                              "{\"from\":" COW ",\"to\":{\"name\":\"Bob\"},\"contents\":\"x\"}")),
               SIGIL_E_MISSING_FIELD, "message.to.wallet: required field missing");
    EXPECT_ERR(typed(h, ds,
                     mail_doc(PERSON "," MAIL, MAIL_DOMAIN,
                              "{\"from\":" COW ",\"to\":" BOB ",\"contents\":null}")),
               SIGIL_E_MISSING_FIELD, "message.contents");
    EXPECT_ERR(hash_one(h, "bool", "null"), SIGIL_E_MISSING_FIELD, "message.x");
    parse_ok("{\"types\":{\"I\":[{\"name\":\"id\",\"type\":\"uint8\"}],"
             "\"T\":[{\"name\":\"items\",\"type\":\"I[]\"}]},"
             "\"v\":{\"items\":[{\"id\":1},{\"di\":2}]}}");
    sigil_eip712_type tm[4];
    sigil_eip712_field fm[8];
    sigil_eip712_types t;
    assert_int_equal(
        sigil_eip712_types_from_json(&t, tm, 4, fm, 8, &g_doc, sigil_json_get(&g_doc, 0, "types")),
        0);
    EXPECT_ERR(sigil_eip712_hash_struct(h, &t, SL("T"), &g_doc, sigil_json_get(&g_doc, 0, "v")),
               SIGIL_E_MISSING_FIELD, "message.items[1].id");
}

/* ---- type tables ---- */
static int types_rc(const char *types_json)
{
    sigil_eip712_type tm[SIGIL_EIP712_MAX_TYPES];
    sigil_eip712_field fm[SIGIL_EIP712_MAX_FIELDS];
    sigil_eip712_types t;
    snprintf(g_text, sizeof(g_text), "{%s}", types_json);
    parse_ok(g_text);
    return sigil_eip712_types_from_json(&t, tm, SIGIL_EIP712_MAX_TYPES, fm, SIGIL_EIP712_MAX_FIELDS,
                                        &g_doc, 0);
}

#define F(n, t) "{\"name\":\"" n "\",\"type\":\"" t "\"}"

static void test_type_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *types, *needle;
    } BAD[] = {
        {"\"A\":[" F("x", "Missing") "]", "unknown type Missing"},
        {"\"A\":[" F("b", "B") "],\"B\":[" F("a", "A[]") "]", "circular reference"},
        {"\"A\":[" F("b", "B") "],\"B\":[" F("c", "C") "],\"C\":[" F("a", "A") "]", "circular"},
        {"\"A\":[" F("me", "A[2]") "]", "circular"},
        {"\"A\":[" F("x", "uint8") "," F("x", "bool") "]", "duplicate field name x"},
        {"\"A\":[" F("1x", "uint8") "]", "types.A[0].name"},
        {"\"A\":[" F("a b", "uint8") "]", "types.A[0].name"},
        {"\"A\":[" F("", "uint8") "]", "types.A[0].name"},
        {"\"A\":[" F("x", "uint7") "]", "invalid atomic type uint7"},
        {"\"A\":[" F("x", "uint") "]", "write uint256"},
        {"\"A\":[" F("x", "int") "]", "invalid atomic type int"},
        {"\"A\":[" F("x", "bytes33") "]", "invalid atomic type"},
        {"\"A\":[" F("x", "bytes0") "]", "invalid atomic type"},
        {"\"A\":[" F("x", "uint008") "]", "invalid atomic type"},
        {"\"A\":[" F("x", "uint8[0]") "]", "malformed type"},
        {"\"A\":[" F("x", "uint8[01]") "]", "malformed type"},
        {"\"A\":[" F("x", "uint8[") "]", "malformed type"},
        {"\"A\":[" F("x", "uint8[]x") "]", "malformed type"},
        {"\"A\":[" F("x", "uint 8") "]", "malformed type"},
        {"\"address\":[" F("x", "uint8") "]", "atomic type name"},
        {"\"A-B\":[" F("x", "uint8") "]", "must be an identifier"},
        {"\"A\":[" F("x", "uint8") "],\"\\u0042\":[]", "must be an identifier"},
        {"\"A\":[{\"name\":\"x\",\"type\":\"uint8\",\"extra\":1}]", "types.A[0].extra"},
        {"\"A\":[{\"name\":\"x\"}]", "types.A[0].type"},
        {"\"A\":{}", "types.A"},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++) {
        int rc = types_rc(BAD[i].types);
        if (rc != -1 || strstr(sigil_errmsg(), BAD[i].needle) == NULL)
            fail_msg("types {%s}: rc %d, error \"%s\", expected \"%s\"", BAD[i].types, rc,
                     sigil_errmsg(), BAD[i].needle);
        sigil_err e = sigil_errno();
        if (e != SIGIL_E_BAD_FIELD && e != SIGIL_E_UNKNOWN_FIELD && e != SIGIL_E_MISSING_FIELD)
            fail_msg("types {%s}: unexpected code %s", BAD[i].types, sigil_err_code(e));
    }
    assert_int_equal(types_rc("\"A\":[" F("b", "B[2][]") "," F(
                         "c", "B") "],\"B\":[],"
                                   "\"C\":[" F("a", "A") "," F("d", "uintX") "],\"uintX\":[]"),
                     0);
}

static void test_typed_data_refusals(void **state)
{
    (void)state;
    uint8_t h[32], ds[32];
    /* ethers derives one root type and refuses unused ones */
    EXPECT_ERR(typed(h, ds,
                     mail_doc(PERSON "," MAIL ",\"Spare\":[" F("x", "uint8") "]", MAIL_DOMAIN,
                              MAIL_MESSAGE)),
               SIGIL_E_BAD_FIELD, "types.Spare: not used by primaryType");
    snprintf(g_text, sizeof(g_text),
             "{\"domain\":{},\"types\":{" PERSON "," MAIL "},\"primaryType\":\"Person\","
             "\"message\":" COW "}");
    EXPECT_ERR(typed(h, ds, g_text), SIGIL_E_BAD_FIELD, "types.Mail: not used");
    snprintf(g_text, sizeof(g_text),
             "{\"domain\":{},\"types\":{" PERSON "},\"primaryType\":\"Nobody\",\"message\":{}}");
    EXPECT_ERR(typed(h, ds, g_text), SIGIL_E_BAD_FIELD, "primaryType: unknown type Nobody");
    snprintf(g_text, sizeof(g_text),
             "{\"domain\":{},\"types\":{\"EIP712Domain\":[]},\"primaryType\":\"EIP712Domain\","
             "\"message\":{}}");
    EXPECT_ERR(typed(h, ds, g_text), SIGIL_E_BAD_FIELD, "must not be EIP712Domain");
    snprintf(g_text, sizeof(g_text),
             "{\"domain\":{},\"types\":{" PERSON "},\"primaryType\":\"Person\"}");
    EXPECT_ERR(typed(h, ds, g_text), SIGIL_E_MISSING_FIELD, "message");
    snprintf(g_text, sizeof(g_text),
             "{\"domain\":{},\"types\":{" PERSON "},\"primaryType\":\"Person\",\"message\":" COW
             ",\"extra\":1}");
    EXPECT_ERR(typed(h, ds, g_text), SIGIL_E_UNKNOWN_FIELD, "extra");
    /* an empty domain is EIP712Domain() */
    snprintf(g_text, sizeof(g_text),
             "{\"domain\":{},\"types\":{" PERSON "},\"primaryType\":\"Person\",\"message\":" COW
             "}");
    assert_int_equal(typed(h, ds, g_text), 0);
    uint8_t th[32], want[32];
    sigil_keccak256(th, "EIP712Domain()", 14);
    sigil_keccak256(want, th, 32);
    assert_memory_equal(ds, want, 32);
}

/* Tables built in C: slices into larger buffers, not NUL-terminated. */
static void test_c_built_table(void **state)
{
    (void)state;
    static const char NAMES[] = "MessageXmsgYstringZ";
    const sigil_eip712_field fields[] = {{{NAMES + 8, 3}, {NAMES + 12, 6}}};
    const sigil_eip712_type type = {{NAMES, 7}, fields, 1};
    const sigil_eip712_types t = {&type, 1};
    uint8_t th[32], enc[64], want[32], h[32];
    assert_int_equal(sigil_eip712_type_hash(th, &t, (sigil_slice){"MessageQ", 7}), 0);
    sigil_keccak256(enc, "Message(string msg)", 19);
    assert_memory_equal(th, enc, 32);
    parse_ok("{\"msg\":\"hi\",\"other\":1}");
    assert_int_equal(sigil_eip712_hash_struct(h, &t, SL("Message"), &g_doc, 0), 0);
    sigil_keccak256(enc + 32, "hi", 2);
    sigil_keccak256(want, enc, 64);
    assert_memory_equal(h, want, 32);
    EXPECT_ERR(sigil_eip712_type_hash(th, &t, SL("Messag")), SIGIL_E_BAD_FIELD, "unknown type");
    const sigil_eip712_field bad[] = {{{"msg", 3}, {"Nope", 4}}};
    const sigil_eip712_type bad_type = {{"Message", 7}, bad, 1};
    const sigil_eip712_types bt = {&bad_type, 1};
    EXPECT_ERR(sigil_eip712_type_hash(th, &bt, SL("Message")), SIGIL_E_BAD_FIELD,
               "unknown type Nope");
}

/* ---- EIP-191 ---- */
static void test_eip191_digest(void **state)
{
    (void)state;
    uint8_t h[32], raw[32];
    sigil_eip191_digest(h, (const uint8_t *)"Hello World", 11);
    assert_hash(h, "0xa1de988600a42c4b4ab089b619297c17d53cffae5d5120d82d8a92d0bb3b78f2");
    unhex32(raw, "9e0273fc91323f5cdbcb00c358be3dee2854afb2d3e4c68497364a2f27a377fc");
    sigil_eip191_digest(h, raw, sizeof(raw)); /* length prefix "32", not 66 */
    assert_hash(h, "0x99cb91c2b4e571d25de6a632997be07a5cad645ef0e99c5d854de097966be58f");
    sigil_eip191_digest(h, raw, 0);
    assert_hash(h, "0x5f35dce98ba4fba25530a026ed80b2cecdaa31091ba4958b99b52ea1d068adad");
}

/* ---- the venues ---- */
static const char KEY[] = "0x0123456789012345678901234567890123456789012345678901234567890123";

static int sign_with(const char *venue, const char *req, char *out, size_t cap)
{
    char cred[128];
    sigil_credentials c;
    sigil_buf b;
    const sigil_venue *v = sigil_venue_find(venue);
    assert_non_null(v);
    snprintf(cred, sizeof(cred), "{\"private_key\":\"%s\"}", KEY);
    assert_int_equal(sigil_credentials_parse(&c, v, cred, strlen(cred)), 0);
    sigil_buf_init(&b, out, cap - 1);
    int rc = sigil_sign(&b, v, &c, SIGIL_NET_MAINNET, req, strlen(req));
    sigil_credentials_free(&c);
    out[rc == 0 ? b.len : 0] = '\0';
    assert_null(strstr(sigil_errmsg(), KEY + 2));
    return rc;
}

static void test_venues(void **state)
{
    (void)state;
    static char out[1024];
    static char req[DOC_MAX];
    assert_int_equal(sign_with("eip191", "{\"message\":\"Hello World\"}", out, sizeof(out)), 0);
    assert_string_equal(out, "{\"signature\":\"0xe0ed34fbbe927a58267ce2e8067a611c69869e20e731bc99"
                             "187a8bc97058664c16de07f7660f06ce0985d1d8e063726783033fda59b30789"
                             "7f26a21392d62b3a1c\"}");
    assert_int_equal(
        sign_with("eip191", "{\"message_hex\":\"0x48656c6C6f20576f726c64\"}", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "0xe0ed34fbbe927a58"));
    EXPECT_ERR(
        sign_with("eip191", "{\"message\":\"a\",\"message_hex\":\"0x61\"}", out, sizeof(out)),
        SIGIL_E_BAD_REQUEST, "exactly one");
    EXPECT_ERR(sign_with("eip191", "{}", out, sizeof(out)), SIGIL_E_BAD_REQUEST, "exactly one");
    EXPECT_ERR(sign_with("eip191", "{\"message_hex\":\"48\"}", out, sizeof(out)),
               SIGIL_E_BAD_ENCODING, "request.message_hex");
    EXPECT_ERR(sign_with("eip191", "{\"message_hex\":\"0x486\"}", out, sizeof(out)),
               SIGIL_E_BAD_ENCODING, "request.message_hex");
    EXPECT_ERR(sign_with("eip191", "{\"msg\":\"a\"}", out, sizeof(out)), SIGIL_E_UNKNOWN_FIELD,
               "request.msg");

    snprintf(req, sizeof(req), "%s", mail_doc(PERSON "," MAIL, MAIL_DOMAIN, MAIL_MESSAGE));
    assert_int_equal(sign_with("eip712", req, out, sizeof(out)), 0);
    assert_string_equal(out, "{\"digest\":\"" MAIL_DIGEST "\",\"signature\":\"0x92c9e07ab60b5a25"
                             "a23fef145f6a2980ae14c37352e18eefa88392c628fccb436128e9115de4f056"
                             "f9445677dd5c6e030df6f798adeca163a26d16a68e1b61a61b\"}");
    snprintf(req, sizeof(req), "%s", mail_doc(PERSON "," MAIL, MAIL_DOMAIN, "{\"from\":" COW "}"));
    EXPECT_ERR(sign_with("eip712", req, out, sizeof(out)), SIGIL_E_MISSING_FIELD, "message.to");
}

/* The unsigned request.timestamp (Unix ms) the service's freshness check
 * reads: the signature is byte for byte the one without it; a bad one, or
 * any other extra member, is refused. */
#define EIP191_HELLO                                                                               \
    "{\"signature\":\"0xe0ed34fbbe927a58267ce2e8067a611c69869e20e731bc99187a8bc97058664c16de07f7"  \
    "660f06ce0985d1d8e063726783033fda59b307897f26a21392d62b3a1c\"}"

static const struct {
    const char *ts, *needle;
    int code;
} BAD_TIMESTAMPS[] = {
    {"\"1767225600000\"", "request.timestamp: expected an integer", SIGIL_E_BAD_FIELD},
    {"1767225600000.5", "request.timestamp: expected an integer", SIGIL_E_BAD_FIELD},
    {"true", "request.timestamp: expected an integer", SIGIL_E_BAD_FIELD},
    {"-1767225600000", "request.timestamp: must not be negative", SIGIL_E_OUT_OF_RANGE},
    {"1767225600", "request.timestamp: expected Unix time in milliseconds", SIGIL_E_OUT_OF_RANGE},
    {"999999999999", "request.timestamp: expected Unix time in milliseconds", SIGIL_E_OUT_OF_RANGE},
    {"100000000000000", "request.timestamp: expected Unix time in milliseconds",
     SIGIL_E_OUT_OF_RANGE},
    {"18446744073709551616", "request.timestamp", SIGIL_E_OUT_OF_RANGE},
};

/* The Mail document, its members in this order, with a top-level tail. */
static const char *mail_with(const char *head, const char *tail)
{
    snprintf(g_text, sizeof(g_text),
             "{%s\"domain\":" MAIL_DOMAIN ",\"types\":{" PERSON "," MAIL "},"
             "\"primaryType\":\"Mail\",\"message\":" MAIL_MESSAGE "%s}",
             head, tail);
    return g_text;
}

static void test_venue_timestamp(void **state)
{
    (void)state;
    static char out[1024], plain[1024], req[DOC_MAX];
    assert_int_equal(sign_with("eip191",
                               "{\"message\":\"Hello World\",\"timestamp\":1767225600000}", out,
                               sizeof(out)),
                     0);
    assert_string_equal(out, EIP191_HELLO);
    assert_int_equal(sign_with("eip191",
                               "{\"timestamp\":99999999999999,\"message_hex\":"
                               "\"0x48656c6c6f20576f726c64\"}",
                               out, sizeof(out)),
                     0);
    assert_string_equal(out, EIP191_HELLO);
    assert_int_equal(
        sign_with("eip191", "{\"message\":\"Hello World\",\"timestamp\":null}", out, sizeof(out)),
        0);
    assert_string_equal(out, EIP191_HELLO);

    snprintf(req, sizeof(req), "%s", mail_with("", ""));
    assert_int_equal(sign_with("eip712", req, plain, sizeof(plain)), 0);
    assert_non_null(strstr(plain, MAIL_DIGEST));
    snprintf(req, sizeof(req), "%s", mail_with("", ",\"timestamp\":1767225600000"));
    assert_int_equal(sign_with("eip712", req, out, sizeof(out)), 0);
    assert_string_equal(out, plain);
    snprintf(req, sizeof(req), "%s", mail_with("\"timestamp\":1000000000000,", ""));
    assert_int_equal(sign_with("eip712", req, out, sizeof(out)), 0);
    assert_string_equal(out, plain);

    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD_TIMESTAMPS); i++) {
        char tail[64];
        snprintf(req, sizeof(req), "{\"message\":\"Hello World\",\"timestamp\":%s}",
                 BAD_TIMESTAMPS[i].ts);
        EXPECT_ERR(sign_with("eip191", req, out, sizeof(out)), BAD_TIMESTAMPS[i].code,
                   BAD_TIMESTAMPS[i].needle);
        snprintf(tail, sizeof(tail), ",\"timestamp\":%s", BAD_TIMESTAMPS[i].ts);
        snprintf(req, sizeof(req), "%s", mail_with("", tail));
        EXPECT_ERR(sign_with("eip712", req, out, sizeof(out)), BAD_TIMESTAMPS[i].code,
                   BAD_TIMESTAMPS[i].needle);
    }
    /* Still strict: other extra members, and timestamp in the wrong place. */
    EXPECT_ERR(sign_with("eip191",
                         "{\"message\":\"Hello World\",\"timestamp\":1767225600000,\"nonce\":1}",
                         out, sizeof(out)),
               SIGIL_E_UNKNOWN_FIELD, "request.nonce");
    snprintf(req, sizeof(req), "%s", mail_with("", ",\"timestamp\":1767225600000,\"nonce\":1"));
    EXPECT_ERR(sign_with("eip712", req, out, sizeof(out)), SIGIL_E_UNKNOWN_FIELD,
               "typed data.nonce: unknown field");
    snprintf(req, sizeof(req), "%s", mail_with("", ",\"Timestamp\":1767225600000"));
    EXPECT_ERR(sign_with("eip712", req, out, sizeof(out)), SIGIL_E_UNKNOWN_FIELD,
               "typed data.Timestamp");
    /* The bare codec takes no extra member: timestamp is the venue's. */
    uint8_t h[32], ds[32];
    EXPECT_ERR(typed(h, ds, mail_with("", ",\"timestamp\":1767225600000")), SIGIL_E_UNKNOWN_FIELD,
               "typed data.timestamp: unknown field");
    /* A member allowed as extra is not hashed: the digest is the spec's. */
    const sigil_json_field extra[] = {{"timestamp", false}};
    parse_ok(mail_with("", ",\"timestamp\":1767225600000"));
    assert_int_equal(sigil_eip712_hash_typed_data(h, ds, &g_doc, 0, extra, 1), 0);
    assert_hash(h, MAIL_DIGEST);
    assert_hash(ds, MAIL_DS);
}

int main(void)
{
    if (sigil_init() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mail_spec),
        cmocka_unit_test(test_domain_type),
        cmocka_unit_test(test_extra_message_members_ignored),
        cmocka_unit_test(test_nested_and_fixed_arrays),
        cmocka_unit_test(test_encode_type_order),
        cmocka_unit_test(test_atoms_against_ethers),
        cmocka_unit_test(test_atoms_by_hand),
        cmocka_unit_test(test_long_escaped_string),
        cmocka_unit_test(test_integer_ranges),
        cmocka_unit_test(test_integer_forms),
        cmocka_unit_test(test_other_atom_refusals),
        cmocka_unit_test(test_missing_field),
        cmocka_unit_test(test_type_refusals),
        cmocka_unit_test(test_typed_data_refusals),
        cmocka_unit_test(test_c_built_table),
        cmocka_unit_test(test_eip191_digest),
        cmocka_unit_test(test_venues),
        cmocka_unit_test(test_venue_timestamp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
