/*
 * Unit tests for src/crypto: Keccak-256, SHA-2, EIP-55 addresses, HMAC,
 * Ed25519, secp256k1 and RSA, each against published vectors or an
 * independent implementation (libsecp256k1's own recovery, OpenSSL verify).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/codec.h"
#include "sigil/crypto.h"

/* Local hex decoder, so the vectors do not depend on the codec under test. */
static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = strlen(hex) / 2;
    assert_true(strlen(hex) % 2 == 0 && n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void assert_hex(const uint8_t *got, size_t n, const char *want)
{
    char hex[2 * 256 + 1];
    assert_true(n <= 256);
    sigil_hex_encode(hex, got, n);
    assert_string_equal(hex, want);
}

/* ---- Keccak-256 ---- */
static void keccak_hex(const void *p, size_t n, const char *want)
{
    uint8_t h[32];
    sigil_keccak256(h, p, n);
    assert_hex(h, 32, want);
}

static void test_keccak256_of_empty_input(void **state)
{
    (void)state;
    keccak_hex("", 0, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
}

/* Keccak-256 pads with 0x01; SHA3-256 (0x06) of "" is a7ffc6f8…434a. */
static void test_keccak256_is_not_sha3_256(void **state)
{
    uint8_t h[32], sha3_empty[32];
    (void)state;
    unhex(sha3_empty, 32, "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
    sigil_keccak256(h, "", 0);
    assert_memory_not_equal(h, sha3_empty, 32);
}

static void test_keccak256_of_short_strings(void **state)
{
    (void)state;
    keccak_hex("abc", 3, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    keccak_hex("\xcc", 1, "eead6dbfc7340a56caedc044696a168870549a6a7f6f56961e84a54bd9970b8a");
    keccak_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
               "45d3b367a6904e6e8d502ee04999a7c27647f91fa845d456525fd352ae3d7371");
    keccak_hex(
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmno"
        "pqrlmnopqrsmnopqrstnopqrstu",
        112, "f519747ed599024f3882238e5ab43960132572b7345fbeb9a90769dafd21ad67");
}

/* ShortMsgKAT_256.txt of KeccakKAT-3 (the Keccak team's pre-NIST
 * submission, 0x01 padding), at the 136-byte rate boundary and beyond. */
static const struct {
    size_t len;
    const char *msg;
    const char *md;
} KECCAK_KAT[] = {
    {135,
     "b771d5cef5d1a41a93d15643d7181d2a2ef0a8e84d91812f20ed21f147bef732bf3a60ef4067c3734b85bc8c"
     "d471780f10dc9e8291b58339a677b960218f71e793f2797aea349406512829065d37bb55ea796fa4f56fd889"
     "6b49b2cd19b43215ad967c712b24e5032d065232e02c127409d2ed4146b9d75d763d52db98d949d3b0fed6a8"
     "052fbb",
     "bd6f5492582a7c1b116304de28314df9fffe95b0da11af52fe9440a717a34859"},
    {136,
     "b32d95b0b9aad2a8816de6d06d1f86008505bd8c14124f6e9a163b5a2ade55f835d0ec3880ef50700d3b25e4"
     "2cc0af050ccd1be5e555b23087e04d7bf9813622780c7313a1954f8740b6ee2d3f71f768dd417f520482bd3a"
     "08d4f222b4ee9dbd015447b33507dd50f3ab4247c5de9a8abd62a8decea01e3b87c8b927f5b08beb37674c6f"
     "8e380c04",
     "e717a7769448abbe5fef8187954a88ac56ded1d22e63940ab80d029585a21921"},
    {137,
     "04410e31082a47584b406f051398a6abe74e4da59bb6f85e6b49e8a1f7f2ca00dfba5462c2cd2bfde8b64fb2"
     "1d70c083f11318b56a52d03b81cac5eec29eb31bd0078b6156786da3d6d8c33098c5c47bb67ac64db14165af"
     "65b44544d806dde5f487d5373c7f9792c299e9686b7e5821e7c8e2458315b996b5677d926dac57b3f22da873"
     "c601016a0d",
     "a95d50b50b4545f0947441df74a1e9d74622eb3baa49c1bbfc3a0cce6619c1aa"},
    {255,
     "3a3a819c48efde2ad914fbf00e18ab6bc4f14513ab27d0c178a188b61431e7f5623cb66b23346775d386b50e"
     "982c493adbbfc54b9a3cd383382336a1a0b2150a15358f336d03ae18f666c7573d55c4fd181c29e6ccfde63e"
     "a35f0adf5885cfc0a3d84a2b2e4dd24496db789e663170cef74798aa1bbcd4574ea0bba40489d764b2f83aad"
     "c66b148b4a0cd95246c127d5871c4f11418690a5ddf01246a0c80a43c70088b6183639dcfda4125bd113a8f4"
     "9ee23ed306faac576c3fb0c1e256671d817fc2534a52f5b439f72e424de376f4c565cca82307dd9ef76da5b7"
     "c4eb7e085172e328807c02d011ffbf33785378d79dc266f6a5be6bb0e4a92eceebaeb1",
     "348fb774adc970a16b1105669442625e6adaa8257a89effdb5a802f161b862ea"},
};

static void test_keccak256_known_answers_around_the_rate(void **state)
{
    uint8_t msg[256];
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(KECCAK_KAT); i++) {
        size_t n = unhex(msg, sizeof(msg), KECCAK_KAT[i].msg);
        assert_int_equal(n, KECCAK_KAT[i].len);
        keccak_hex(msg, n, KECCAK_KAT[i].md);
    }
}

static void test_keccak256_of_a_million_a(void **state)
{
    char *m = malloc(1000000);
    (void)state;
    assert_non_null(m);
    memset(m, 'a', 1000000);
    keccak_hex(m, 1000000, "fadae6b49f129bbb812be8407b7b2894f34aecf6dbd1f9b0f0c7e9853098fc96");
    free(m);
}

/* A message long enough for three permutations, in a fixed pattern. */
static size_t pattern(uint8_t *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        m[i] = (uint8_t)(i * 131 + 7);
    return n;
}

static void test_keccak256_incremental_matches_one_shot_at_every_split(void **state)
{
    uint8_t m[3 * 136 + 5], want[32], got[32];
    sigil_keccak_ctx c;
    (void)state;
    size_t n = pattern(m, sizeof(m));
    sigil_keccak256(want, m, n);
    for (size_t i = 0; i <= n; i++) {
        sigil_keccak256_init(&c);
        sigil_keccak256_update(&c, m, i);
        sigil_keccak256_update(&c, m + i, n - i);
        sigil_keccak256_final(&c, got);
        if (memcmp(got, want, 32) != 0)
            fail_msg("split at %zu differs from one-shot", i);
    }
}

static void test_keccak256_incremental_matches_one_shot_in_three_parts(void **state)
{
    uint8_t m[2 * 136 + 9], want[32], got[32];
    sigil_keccak_ctx c;
    (void)state;
    size_t n = pattern(m, sizeof(m));
    sigil_keccak256(want, m, n);
    for (size_t i = 0; i <= n; i += 3) {
        for (size_t j = i; j <= n; j += 5) {
            sigil_keccak256_init(&c);
            sigil_keccak256_update(&c, m, i);
            sigil_keccak256_update(&c, m + i, j - i);
            sigil_keccak256_update(&c, m + j, n - j);
            sigil_keccak256_final(&c, got);
            if (memcmp(got, want, 32) != 0)
                fail_msg("split at %zu and %zu differs from one-shot", i, j);
        }
    }
}

static void test_keccak256_byte_at_a_time_matches_the_kat(void **state)
{
    uint8_t msg[256], h[32];
    sigil_keccak_ctx c;
    (void)state;
    for (size_t k = 0; k < SIGIL_ARRAY_LEN(KECCAK_KAT); k++) {
        size_t n = unhex(msg, sizeof(msg), KECCAK_KAT[k].msg);
        sigil_keccak256_init(&c);
        for (size_t i = 0; i < n; i++)
            sigil_keccak256_update(&c, msg + i, 1);
        sigil_keccak256_final(&c, h);
        assert_hex(h, 32, KECCAK_KAT[k].md);
    }
}

static void test_keccak256_empty_updates_change_nothing(void **state)
{
    uint8_t h[32];
    sigil_keccak_ctx c;
    (void)state;
    sigil_keccak256_init(&c);
    sigil_keccak256_update(&c, "", 0);
    sigil_keccak256_update(&c, "ab", 2);
    sigil_keccak256_update(&c, NULL, 0);
    sigil_keccak256_update(&c, "c", 1);
    sigil_keccak256_final(&c, h);
    assert_hex(h, 32, "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
}

/* ---- SHA-2 (FIPS 180-2 "abc") ---- */
static void test_sha2_of_abc(void **state)
{
    uint8_t h[64];
    (void)state;
    sigil_sha256(h, "abc", 3);
    assert_hex(h, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sigil_sha384(h, "abc", 3);
    assert_hex(h, 48,
               "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358"
               "baeca134c825a7");
    sigil_sha512(h, "abc", 3);
    assert_hex(h, 64,
               "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836"
               "ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

/* ---- EIP-55 ---- */
/* The test cases of the EIP-55 specification. */
static const char *const EIP55[] = {
    "0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
};

static void test_eip55_checksums_match_the_spec(void **state)
{
    uint8_t addr[20];
    char cs[43];
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(EIP55); i++) {
        unhex(addr, 20, EIP55[i] + 2); /* sscanf reads either case */
        sigil_eth_address_checksum(cs, addr);
        assert_string_equal(cs, EIP55[i]);
    }
}

static void test_address_parse_accepts_checksummed_form(void **state)
{
    uint8_t addr[20], want[20];
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(EIP55); i++) {
        unhex(want, 20, EIP55[i] + 2);
        if (sigil_eth_address_parse(addr, EIP55[i], 42, "addr") != 0)
            fail_msg("refused %s: %s", EIP55[i], sigil_errmsg());
        assert_memory_equal(addr, want, 20);
    }
}

static void test_address_parse_accepts_all_lower_and_all_upper(void **state)
{
    static const char lower[] = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed";
    static const char upper[] = "0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED";
    uint8_t addr[20], want[20];
    (void)state;
    unhex(want, 20, lower + 2);
    assert_int_equal(sigil_eth_address_parse(addr, lower, 42, "addr"), 0);
    assert_memory_equal(addr, want, 20);
    assert_int_equal(sigil_eth_address_parse(addr, upper, 42, "addr"), 0);
    assert_memory_equal(addr, want, 20);
}

static void test_address_parse_refuses_a_bad_checksum(void **state)
{
    uint8_t addr[20];
    (void)state;
    for (size_t i = 4; i < SIGIL_ARRAY_LEN(EIP55); i++) { /* the mixed-case ones */
        char s[43];
        memcpy(s, EIP55[i], 43);
        for (size_t k = 2; k < 42; k++) { /* flip the case of the first letter */
            if ((s[k] >= 'a' && s[k] <= 'f') || (s[k] >= 'A' && s[k] <= 'F')) {
                s[k] ^= 0x20;
                break;
            }
        }
        sigil_clear_error();
        if (sigil_eth_address_parse(addr, s, 42, "request.vault_address") == 0)
            fail_msg("accepted bad checksum %s", s);
        assert_int_equal(sigil_errno(), SIGIL_E_BAD_ADDRESS);
        assert_non_null(strstr(sigil_errmsg(), "request.vault_address"));
    }
}

static void test_address_parse_refuses_malformed_text(void **state)
{
    static const char *const bad[] = {
        "",
        "0x",
        "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",     /* no prefix */
        "0X5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",   /* upper-case prefix */
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae",    /* 39 digits */
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed0",  /* 41 digits */
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00", /* 21 bytes */
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg",   /* not hex */
        "0x 5aaeb6053f3e94c9b9a09f33669435e7ef1beae",
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea d",
        "xx5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
    };
    uint8_t addr[20];
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(bad); i++) {
        sigil_clear_error();
        if (sigil_eth_address_parse(addr, bad[i], strlen(bad[i]), "addr") == 0)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(sigil_errno(), SIGIL_E_BAD_ADDRESS);
    }
}

/* ---- HMAC, RFC 4231 ---- */
static const struct {
    const char *key, *data, *sha256, *sha384, *sha512;
} RFC4231[] = {
    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
     "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa"
     "9cb6",
     "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3"
     "f4e4be9d914eeb61f1702e696c203a126854"},
    {"4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
     "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab2"
     "1649",
     "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0"
     "e6fdcaeab1a34d4a6b4b636e070a38bce737"},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
     "dddddddddd",
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
     "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a3"
     "4f27",
     "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67"
     "c807b946a337bee8942674278859e13292fb"},
    {"0102030405060708090a0b0c0d0e0f10111213141516171819",
     "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
     "cdcdcdcdcd",
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
     "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674"
     "cffb",
     "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc578"
     "8063a5f19741120c4f2de2adebeb10a298dd"},
    /* Test case 5: the RFC gives only the first 128 bits. */
    {"0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "546573742057697468205472756e636174696f6e",
     "a3b6167473100ee06e0c796c2955552b", "3abf34c3503b2a23a46efc619baef897",
     "415fad6271580a531d4179bc891d87a6"},
    /* Test cases 6 and 7: a 131-byte key, hashed first. */
    {NULL,
     "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d20486173"
     "68204b6579204669727374",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
     "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f4"
     "4952",
     "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a"
     "1e5295e64f73f63f0aec8b915a985d786598"},
    {NULL,
     "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d73697a65"
     "206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174612e20546865206b"
     "6579206e6565647320746f20626520686173686564206265666f7265206265696e6720757365642062792074686"
     "520484d414320616c676f726974686d2e",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
     "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46"
     "523e",
     "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4"
     "de15134676fb6de0446065c97440fa8c6a58"},
};

typedef enum { H256, H384, H512 } hmac_kind;

static void check_rfc4231(hmac_kind kind)
{
    uint8_t key[131], data[160], mac[64];
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(RFC4231); i++) {
        size_t klen = 131;
        if (RFC4231[i].key != NULL)
            klen = unhex(key, sizeof(key), RFC4231[i].key);
        else
            memset(key, 0xaa, klen);
        size_t dlen = unhex(data, sizeof(data), RFC4231[i].data);
        const char *want = kind == H256   ? RFC4231[i].sha256
                           : kind == H384 ? RFC4231[i].sha384
                                          : RFC4231[i].sha512;
        switch (kind) {
        case H256:
            sigil_hmac_sha256(mac, key, klen, data, dlen);
            break;
        case H384:
            assert_int_equal(sigil_hmac_sha384(mac, key, klen, data, dlen), 0);
            break;
        case H512:
            sigil_hmac_sha512(mac, key, klen, data, dlen);
            break;
        }
        assert_hex(mac, strlen(want) / 2, want); /* test case 5 compares a prefix */
    }
}

static void test_hmac_sha256_rfc4231(void **state)
{
    (void)state;
    check_rfc4231(H256);
}

static void test_hmac_sha384_rfc4231(void **state)
{
    (void)state;
    check_rfc4231(H384);
}

static void test_hmac_sha512_rfc4231(void **state)
{
    (void)state;
    check_rfc4231(H512);
}

/* ---- Ed25519, RFC 8032 section 7.1 ---- */
static void test_ed25519_rfc8032_test1(void **state)
{
    uint8_t seed[32], sig[64];
    (void)state;
    unhex(seed, 32, "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    assert_int_equal(sigil_ed25519_sign(sig, seed, "", 0), 0);
    assert_hex(sig, 64,
               "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc6"
               "1e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
}

static void test_ed25519_rfc8032_test2(void **state)
{
    uint8_t seed[32], sig[64];
    (void)state;
    unhex(seed, 32, "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
    assert_int_equal(sigil_ed25519_sign(sig, seed, "\x72", 1), 0);
    assert_hex(sig, 64,
               "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e45"
               "8f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
}

/* PKCS#8 of the RFC 8032 test 1 key. */
static const char ED25519_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";

static void test_ed25519_seed_from_pkcs8_pem(void **state)
{
    uint8_t seed[32];
    (void)state;
    assert_int_equal(sigil_ed25519_seed_from_pem(seed, ED25519_PEM, sizeof(ED25519_PEM) - 1), 0);
    assert_hex(seed, 32, "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
}

/* The layouts read in constant time (one base64 line, LF or CRLF, with or
 * without a final line break) and one OpenSSL reads (the body on two
 * lines) give the same seed; an X25519 key in the fixed layout and a bad
 * base64 character in it are refused. */
static void test_ed25519_pem_layouts(void **state)
{
#define BODY "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g"
#define BEGIN "-----BEGIN PRIVATE KEY-----"
#define END "-----END PRIVATE KEY-----"
    /* each element in parentheses: one string made of several literals */
    static const char *const GOOD[] = {
        (BEGIN "\n" BODY "\n" END),
        (BEGIN "\r\n" BODY "\r\n" END "\r\n"),
        (BEGIN "\r\n" BODY "\r\n" END),
        (BEGIN "\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/Vpg\nuoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n" END "\n"),
    };
    static const char *const BAD[] = {
        (BEGIN "\nMC4CAQAwBQYDK2VuBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n" END "\n"),
        (BEGIN "\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9*\n" END "\n"),
    };
#undef END
#undef BEGIN
#undef BODY
    uint8_t seed[32];
    (void)state;
    for (size_t i = 0; i < sizeof(GOOD) / sizeof(GOOD[0]); i++) {
        memset(seed, 0, sizeof(seed));
        assert_int_equal(sigil_ed25519_seed_from_pem(seed, GOOD[i], strlen(GOOD[i])), 0);
        assert_hex(seed, 32, "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    }
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        sigil_clear_error();
        assert_int_equal(sigil_ed25519_seed_from_pem(seed, BAD[i], strlen(BAD[i])), -1);
        assert_int_equal(sigil_errno(), SIGIL_E_BAD_CREDENTIALS);
    }
}

static char *rsa_pem(int bits, size_t *len);

static void test_ed25519_seed_from_pem_refuses_other_keys(void **state)
{
    static const char garbage[] = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n"
                                  "-----END PRIVATE KEY-----\n";
    static const char truncated[] = "-----BEGIN PRIVATE KEY-----\n"
                                    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMc\n"
                                    "-----END PRIVATE KEY-----\n";
    uint8_t seed[32];
    size_t n;
    (void)state;
    sigil_clear_error();
    assert_int_equal(sigil_ed25519_seed_from_pem(seed, garbage, sizeof(garbage) - 1), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_CREDENTIALS);
    assert_int_equal(sigil_ed25519_seed_from_pem(seed, truncated, sizeof(truncated) - 1), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_CREDENTIALS);
    assert_int_equal(sigil_ed25519_seed_from_pem(seed, "", 0), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_CREDENTIALS);
    char *rsa = rsa_pem(2048, &n);
    assert_int_equal(sigil_ed25519_seed_from_pem(seed, rsa, n), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_CREDENTIALS);
    free(rsa);
}

/* ---- secp256k1 ---- */
/* The Hyperliquid SDK's test key and its address. */
static const char TEST_KEY[] = "0123456789012345678901234567890123456789012345678901234567890123";
static const char TEST_ADDR[] = "0x14791697260E4c9A71f18484C9f997B308e59325";
/* Group order n and n/2. */
static const char ORDER_N[] = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
static const char HALF_N[] = "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0";

static void test_secp256k1_address_of_the_well_known_key(void **state)
{
    uint8_t sk[32], addr[20];
    char cs[43];
    (void)state;
    unhex(sk, 32, TEST_KEY);
    assert_int_equal(sigil_secp256k1_address(addr, sk), 0);
    sigil_eth_address_checksum(cs, addr);
    assert_string_equal(cs, TEST_ADDR);
}

static void test_secp256k1_check_key_bounds(void **state)
{
    uint8_t k[32];
    (void)state;
    memset(k, 0, 32);
    sigil_clear_error();
    assert_int_equal(sigil_secp256k1_check_key(k), -1); /* zero */
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_CREDENTIALS);
    k[31] = 1;
    assert_int_equal(sigil_secp256k1_check_key(k), 0); /* one */
    unhex(k, 32, ORDER_N);
    assert_int_equal(sigil_secp256k1_check_key(k), -1); /* n */
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_CREDENTIALS);
    k[31] = 0x40;
    assert_int_equal(sigil_secp256k1_check_key(k), 0); /* n - 1 */
    memset(k, 0xff, 32);
    assert_int_equal(sigil_secp256k1_check_key(k), -1); /* above n */
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_CREDENTIALS);
}

static void test_secp256k1_refuses_invalid_keys_when_deriving(void **state)
{
    uint8_t k[32], addr[20];
    (void)state;
    memset(k, 0, 32);
    sigil_clear_error();
    assert_int_equal(sigil_secp256k1_address(addr, k), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_CREDENTIALS);
    unhex(k, 32, ORDER_N);
    assert_int_equal(sigil_secp256k1_address(addr, k), -1);
}

/* RFC 6979 signatures from ethers 6.17 (@noble/curves) for the test key. */
static void test_secp256k1_sign_known_answers(void **state)
{
    static const struct {
        const char *msg, *r, *s;
        int recid;
    } KAT[] = {
        {"sigil unit test", "130f9b8144893c6bb0acd83fda21feb7fa148c3c30c608157bf8c5049ac636cf",
         "76acaff0b9717d4c3d78f58476b5177276d94dc52412e2f0a6ec6978fac2b8ec", 0},
        {"", "3104628ae288438a82b6955db28c88a43406fdf4bdca7ea1e65387d89764980e",
         "06333dc86ba4a078d78432483c1a3bf9efe404aa8a27c06b142b53ffd56136cd", 1},
    };
    uint8_t sk[32], digest[32], sig[64];
    int recid = -1;
    (void)state;
    unhex(sk, 32, TEST_KEY);
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(KAT); i++) {
        sigil_keccak256(digest, KAT[i].msg, strlen(KAT[i].msg));
        assert_int_equal(sigil_secp256k1_sign(sig, &recid, sk, digest), 0);
        assert_hex(sig, 32, KAT[i].r);
        assert_hex(sig + 32, 32, KAT[i].s);
        assert_int_equal(recid, KAT[i].recid);
    }
}

static void test_secp256k1_sign_is_deterministic(void **state)
{
    uint8_t sk[32], digest[32], a[64], b[64];
    int ra, rb;
    (void)state;
    unhex(sk, 32, TEST_KEY);
    sigil_keccak256(digest, "determinism", 11);
    assert_int_equal(sigil_secp256k1_sign(a, &ra, sk, digest), 0);
    assert_int_equal(sigil_secp256k1_sign(b, &rb, sk, digest), 0);
    assert_memory_equal(a, b, 64);
    assert_int_equal(ra, rb);
}

/* Signs many digests; each must be low-S and recover to the key's address
 * through libsecp256k1's own recovery, with its own context. */
static void test_secp256k1_signatures_are_low_s_and_recover(void **state)
{
    uint8_t sk[32], addr[20], half[32], digest[32], sig[64], ser[65], h[32];
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    (void)state;
    assert_non_null(ctx);
    unhex(sk, 32, TEST_KEY);
    unhex(half, 32, HALF_N);
    assert_int_equal(sigil_secp256k1_address(addr, sk), 0);
    for (uint32_t i = 0; i < 64; i++) {
        secp256k1_ecdsa_recoverable_signature rs;
        secp256k1_pubkey pub;
        size_t len = sizeof(ser);
        int recid;
        sigil_keccak256(digest, &i, sizeof(i));
        assert_int_equal(sigil_secp256k1_sign(sig, &recid, sk, digest), 0);
        assert_true(memcmp(sig + 32, half, 32) <= 0); /* s <= n/2 */
        assert_true(recid == 0 || recid == 1);
        assert_int_equal(secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rs, sig, recid),
                         1);
        assert_int_equal(secp256k1_ecdsa_recover(ctx, &pub, &rs, digest), 1);
        secp256k1_ec_pubkey_serialize(ctx, ser, &len, &pub, SECP256K1_EC_UNCOMPRESSED);
        sigil_keccak256(h, ser + 1, 64);
        assert_memory_equal(h + 12, addr, 20);
    }
    secp256k1_context_destroy(ctx);
}

static void test_secp256k1_sign_refuses_an_invalid_key(void **state)
{
    uint8_t k[32], digest[32], sig[64];
    int recid;
    (void)state;
    memset(k, 0, 32);
    memset(digest, 1, 32);
    assert_int_equal(sigil_secp256k1_sign(sig, &recid, k, digest), -1);
}

/* ---- RSA ---- */
static char *rsa_pem(int bits, size_t *len)
{
    EVP_PKEY *pkey = EVP_RSA_gen((unsigned)bits);
    BIO *bio = BIO_new(BIO_s_mem());
    char *p;
    assert_non_null(pkey);
    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL), 1);
    long n = BIO_get_mem_data(bio, &p);
    assert_true(n > 0);
    char *out = malloc((size_t)n);
    assert_non_null(out);
    memcpy(out, p, (size_t)n);
    *len = (size_t)n;
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return out;
}

static void test_rsa_signature_verifies_with_openssl(void **state)
{
    sigil_rsa_key *k = NULL;
    uint8_t sig[512], sig2[512];
    size_t n, n2, len;
    (void)state;
    char *pem = rsa_pem(2048, &len);
    assert_int_equal(sigil_rsa_key_from_pem(&k, pem, len), 0);
    assert_int_equal(sigil_rsa_sign_sha256(sig, sizeof(sig), &n, k, "payload", 7), 0);
    assert_int_equal(n, 256);
    assert_int_equal(sigil_rsa_sign_sha256(sig2, sizeof(sig2), &n2, k, "payload", 7), 0);
    assert_memory_equal(sig, sig2, n); /* PKCS#1 v1.5 is deterministic */

    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_non_null(pkey);
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey), 1);
    assert_int_equal(EVP_DigestVerify(md, sig, n, (const uint8_t *)"payload", 7), 1);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    sigil_rsa_key_free(k);
    free(pem);
}

static void test_rsa_sign_refuses_a_short_output_buffer(void **state)
{
    sigil_rsa_key *k = NULL;
    uint8_t sig[128];
    size_t n, len;
    (void)state;
    char *pem = rsa_pem(2048, &len);
    assert_int_equal(sigil_rsa_key_from_pem(&k, pem, len), 0);
    assert_int_equal(sigil_rsa_sign_sha256(sig, sizeof(sig), &n, k, "x", 1), -1);
    sigil_rsa_key_free(k);
    free(pem);
}

static void test_rsa_key_from_pem_refuses_short_and_foreign_keys(void **state)
{
    sigil_rsa_key *k = (sigil_rsa_key *)&k;
    size_t len;
    (void)state;
    char *pem = rsa_pem(1024, &len);
    sigil_clear_error();
    assert_int_equal(sigil_rsa_key_from_pem(&k, pem, len), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_CREDENTIALS);
    assert_null(k);
    free(pem);
    assert_int_equal(sigil_rsa_key_from_pem(&k, ED25519_PEM, sizeof(ED25519_PEM) - 1), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_CREDENTIALS);
    assert_int_equal(sigil_rsa_key_from_pem(&k, "not a pem", 9), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_CREDENTIALS);
    assert_null(k);
}

static int group_setup(void **state)
{
    (void)state;
    return sigil_init() == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keccak256_of_empty_input),
        cmocka_unit_test(test_keccak256_is_not_sha3_256),
        cmocka_unit_test(test_keccak256_of_short_strings),
        cmocka_unit_test(test_keccak256_known_answers_around_the_rate),
        cmocka_unit_test(test_keccak256_of_a_million_a),
        cmocka_unit_test(test_keccak256_incremental_matches_one_shot_at_every_split),
        cmocka_unit_test(test_keccak256_incremental_matches_one_shot_in_three_parts),
        cmocka_unit_test(test_keccak256_byte_at_a_time_matches_the_kat),
        cmocka_unit_test(test_keccak256_empty_updates_change_nothing),
        cmocka_unit_test(test_sha2_of_abc),
        cmocka_unit_test(test_eip55_checksums_match_the_spec),
        cmocka_unit_test(test_address_parse_accepts_checksummed_form),
        cmocka_unit_test(test_address_parse_accepts_all_lower_and_all_upper),
        cmocka_unit_test(test_address_parse_refuses_a_bad_checksum),
        cmocka_unit_test(test_address_parse_refuses_malformed_text),
        cmocka_unit_test(test_hmac_sha256_rfc4231),
        cmocka_unit_test(test_hmac_sha384_rfc4231),
        cmocka_unit_test(test_hmac_sha512_rfc4231),
        cmocka_unit_test(test_ed25519_rfc8032_test1),
        cmocka_unit_test(test_ed25519_rfc8032_test2),
        cmocka_unit_test(test_ed25519_seed_from_pkcs8_pem),
        cmocka_unit_test(test_ed25519_seed_from_pem_refuses_other_keys),
        cmocka_unit_test(test_ed25519_pem_layouts),
        cmocka_unit_test(test_secp256k1_address_of_the_well_known_key),
        cmocka_unit_test(test_secp256k1_check_key_bounds),
        cmocka_unit_test(test_secp256k1_refuses_invalid_keys_when_deriving),
        cmocka_unit_test(test_secp256k1_sign_known_answers),
        cmocka_unit_test(test_secp256k1_sign_is_deterministic),
        cmocka_unit_test(test_secp256k1_signatures_are_low_s_and_recover),
        cmocka_unit_test(test_secp256k1_sign_refuses_an_invalid_key),
        cmocka_unit_test(test_rsa_signature_verifies_with_openssl),
        cmocka_unit_test(test_rsa_sign_refuses_a_short_output_buffer),
        cmocka_unit_test(test_rsa_key_from_pem_refuses_short_and_foreign_keys),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
