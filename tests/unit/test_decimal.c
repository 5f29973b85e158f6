/*
 * Unit tests for exact decimals (src/codec/decimal.c): the comparison and
 * notional vectors of the prior system (reference/prior-system.md §7.4.2),
 * malformed text, limits, and every operation's arithmetic and formatting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "sigil/decimal.h"

static sigil_dec dec(const char *s)
{
    sigil_dec d;
    if (sigil_dec_parse(&d, s, strlen(s), "test") != 0)
        fail_msg("%s: %s", s, sigil_errmsg());
    return d;
}

static void assert_format(const sigil_dec *d, const char *want)
{
    char buf[700];
    assert_int_equal(sigil_dec_format(buf, sizeof(buf), d), 0);
    assert_string_equal(buf, want);
}

/* ---- §7.4.2 comparisons ---- */

typedef struct {
    const char *a, *b;
    int want;
} cmp_case;

static void test_cmp_prior_system_vectors(void **state)
{
    static const cmp_case CASES[] = {
        {"0.01", "0.1", -1},
        {"0.1", "0.10", 0},
        {"0.00000002", "0.00000001", 1},
        {"10", "2", 1},
        {"1.5", "1.500", 0},
        {"0", "0.0", 0},
        {".5", "0.5", 0},
        {"5.", "5", 0},
        {"007", "7", 0},
        {"0.000", "0", 0},
        {"1000000000", "999999999.999999999", 1},
        {"123456789.1", "123456789.01", 1},
    };
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CASES); i++) {
        sigil_dec a = dec(CASES[i].a), b = dec(CASES[i].b);
        if (sigil_dec_cmp(&a, &b) != CASES[i].want || sigil_dec_cmp(&b, &a) != -CASES[i].want)
            fail_msg("cmp(%s, %s) != %d", CASES[i].a, CASES[i].b, CASES[i].want);
    }
}

/* ---- §7.4.2 notionals: a x b compared with a cap ---- */

typedef struct {
    const char *a, *b, *cap;
    int want; /* cmp(a x b, cap) */
} notional_case;

static void test_mul_prior_system_notionals(void **state)
{
    static const notional_case CASES[] = {
        {"2", "3", "5", 1},
        {"2", "3", "6", 0},
        {"0.1", "0.1", "0.01", 0},
        {"0.1", "0.1", "0.009999999999", 1},
        {"0.05", "100", "6", -1},
        {"0.05", "100", "4.99", 1},
        {"0.012", "67450.5", "809.406", 0},
        {"0.012", "67450.5", "809.405", 1},
        {"0.1", "0.2", "0.02", 0},
        {"0", "99999", "0", 0},
        {"1.50", "2.0", "3", 0},
        {"1.50", "2.0", "2.999999", 1},
        {"99999999999999", "99999999999999", "9999999999999700000000000001", 1},
        {"99999999999999", "99999999999999", "9999999999999800000000000001", 0},
    };
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CASES); i++) {
        sigil_dec a = dec(CASES[i].a), b = dec(CASES[i].b), cap = dec(CASES[i].cap), p;
        assert_int_equal(sigil_dec_mul(&p, &a, &b), 0);
        if (sigil_dec_cmp(&p, &cap) != CASES[i].want)
            fail_msg("%s x %s vs %s: want %d", CASES[i].a, CASES[i].b, CASES[i].cap, CASES[i].want);
    }
}

static void test_operand_of_64_accepted_65_refused(void **state)
{
    char s[66];
    sigil_dec d;
    (void)state;
    memset(s, '9', 64);
    s[64] = '\0';
    assert_int_equal(sigil_dec_parse(&d, s, 64, "q"), 0);
    assert_format(&d, s);
    s[0] = '0';
    s[1] = '.';
    assert_int_equal(sigil_dec_parse(&d, s, 64, "q"), 0);
    memset(s, '1', 65);
    s[65] = '\0';
    sigil_clear_error();
    assert_int_equal(sigil_dec_parse(&d, s, 65, "q"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
    assert_non_null(strstr(sigil_errmsg(), "q:"));
}

static void test_malformed_text_refused(void **state)
{
    static const char *const BAD[] = {"",   ".",   "1e5", "-1",  "+1",  "1.2.3", " 1",
                                      "1 ", "0x1", "1,5", "..1", "1..", "١",     "1_000"};
    sigil_dec d;
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++) {
        sigil_clear_error();
        if (sigil_dec_parse(&d, BAD[i], strlen(BAD[i]), "policy.symbols.X.max_qty") != -1)
            fail_msg("accepted \"%s\"", BAD[i]);
        assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
        assert_non_null(strstr(sigil_errmsg(), "policy.symbols.X.max_qty: not a decimal"));
    }
}

static void test_embedded_nul_refused(void **state)
{
    sigil_dec d;
    (void)state;
    assert_int_equal(sigil_dec_parse(&d,
                                     "1\0"
                                     "2",
                                     3, "q"),
                     -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
}

static void test_valid_forms(void **state)
{
    static const struct {
        const char *in, *out;
    } CASES[] = {
        {"5", "5"},
        {"0.5", "0.5"},
        {".5", "0.5"},
        {"5.", "5"},
        {"0", "0"},
        {"000", "0"},
        {"0.0", "0"},
        {"1.50", "1.5"},
        {"0010.0100", "10.01"},
        {"0.000000001", "0.000000001"},
        {"1000000000", "1000000000"},
        {"123456789012345678901234567890.123456789012345678901234567890",
         "123456789012345678901234567890.12345678901234567890123456789"},
    };
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CASES); i++) {
        sigil_dec d = dec(CASES[i].in);
        assert_format(&d, CASES[i].out);
    }
}

/* ---- add, shift, from_u64 ---- */

static void test_add(void **state)
{
    static const struct {
        const char *a, *b, *sum;
    } CASES[] = {
        {"0", "0", "0"},
        {"0.1", "0.2", "0.3"},
        {"999999999", "1", "1000000000"},
        {"0.999999999", "0.000000001", "1"},
        {"1.5", "2.25", "3.75"},
        {"123456789.123456789", "876543210.876543211", "1000000000"},
        {"0.00000000000000000001", "100000000000000000000",
         "100000000000000000000.00000000000000000001"},
    };
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CASES); i++) {
        sigil_dec a = dec(CASES[i].a), b = dec(CASES[i].b), s;
        assert_int_equal(sigil_dec_add(&s, &a, &b), 0);
        assert_format(&s, CASES[i].sum);
        assert_int_equal(sigil_dec_add(&a, &a, &b), 0); /* aliasing */
        assert_format(&a, CASES[i].sum);
    }
}

static void test_mul_aliasing_and_results(void **state)
{
    sigil_dec a = dec("1.5"), b = dec("4");
    (void)state;
    assert_int_equal(sigil_dec_mul(&a, &a, &b), 0);
    assert_format(&a, "6");
    assert_int_equal(sigil_dec_mul(&a, &a, &a), 0);
    assert_format(&a, "36");
    sigil_dec c = dec("0.012"), d = dec("67450.5"), p;
    assert_int_equal(sigil_dec_mul(&p, &c, &d), 0);
    assert_format(&p, "809.406");
}

static void test_shift(void **state)
{
    sigil_dec a = dec("12345"), s;
    (void)state;
    assert_int_equal(sigil_dec_shift(&s, &a, 0), 0);
    assert_format(&s, "12345");
    assert_int_equal(sigil_dec_shift(&s, &a, 2), 0);
    assert_format(&s, "123.45");
    assert_int_equal(sigil_dec_shift(&s, &a, 8), 0);
    assert_format(&s, "0.00012345");
    assert_int_equal(sigil_dec_shift(&a, &a, 5), 0); /* aliasing */
    assert_format(&a, "0.12345");
    sigil_dec z = dec("0");
    assert_int_equal(sigil_dec_shift(&s, &z, 100000), 0);
    assert_true(sigil_dec_is_zero(&s));
    sigil_clear_error();
    assert_int_equal(sigil_dec_shift(&s, &a, 100000), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
}

static void test_from_u64(void **state)
{
    sigil_dec d;
    (void)state;
    sigil_dec_from_u64(&d, 0);
    assert_true(sigil_dec_is_zero(&d));
    assert_format(&d, "0");
    sigil_dec_from_u64(&d, UINT64_MAX);
    assert_format(&d, "18446744073709551615");
    sigil_dec b = dec("18446744073709551615.0");
    assert_int_equal(sigil_dec_cmp(&d, &b), 0);
    sigil_dec_from_u64(&d, 1000000000);
    assert_format(&d, "1000000000");
}

static void test_fraction_digits(void **state)
{
    static const struct {
        const char *in;
        unsigned want;
    } CASES[] = {
        {"1", 0},   {"1.50", 1}, {"1.05", 2},          {"0.000", 0},
        {"100", 0}, {"0.1", 1},  {"0.0000000001", 10}, {"12.000000000100", 10},
    };
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CASES); i++) {
        sigil_dec d = dec(CASES[i].in);
        assert_int_equal(sigil_dec_fraction_digits(&d), CASES[i].want);
    }
    sigil_dec raw = {.limb = {1500}, .n = 1, .scale = 3}; /* not normalised: 1.500 */
    assert_int_equal(sigil_dec_fraction_digits(&raw), 1);
    assert_format(&raw, "1.5");
}

static void test_is_zero(void **state)
{
    sigil_dec z = {0};
    (void)state;
    assert_true(sigil_dec_is_zero(&z));
    sigil_dec a = dec("0.0000");
    assert_true(sigil_dec_is_zero(&a));
    a = dec("0.0001");
    assert_false(sigil_dec_is_zero(&a));
}

/* ---- overflow ---- */

static void test_overflow_is_out_of_range(void **state)
{
    char s[65];
    sigil_dec big, p;
    (void)state;
    memset(s, '9', 64);
    s[64] = '\0';
    big = dec(s);
    /* 64 x 64 x 64 digits = 192 digits: fits (the header's three operands). */
    assert_int_equal(sigil_dec_mul(&p, &big, &big), 0);
    assert_int_equal(sigil_dec_mul(&p, &p, &big), 0);
    /* x 64 x 64 more: 320 digits do not fit 288. */
    assert_int_equal(sigil_dec_mul(&p, &p, &big), 0); /* 256 digits */
    sigil_dec keep = p;
    sigil_clear_error();
    assert_int_equal(sigil_dec_mul(&p, &p, &big), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
    assert_memory_equal(&p, &keep, sizeof(p)); /* unchanged on failure */
    /* Sums: the largest value plus itself carries past the last limb. */
    sigil_dec max = {.n = SIGIL_DEC_LIMBS};
    for (size_t i = 0; i < SIGIL_DEC_LIMBS; i++)
        max.limb[i] = 999999999;
    sigil_clear_error();
    assert_int_equal(sigil_dec_add(&p, &max, &max), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
    /* Tiny times tiny: the scale overflows. */
    s[0] = '0';
    s[1] = '.';
    memset(s + 2, '0', 61);
    s[63] = '1';
    s[64] = '\0';
    sigil_dec tiny = dec(s); /* scale 62 */
    assert_int_equal(sigil_dec_mul(&p, &tiny, &tiny), 0);
    assert_int_equal(sigil_dec_mul(&p, &p, &tiny), 0);
    assert_int_equal(sigil_dec_mul(&p, &p, &tiny), 0); /* scale 248 */
    sigil_clear_error();
    assert_int_equal(sigil_dec_mul(&p, &p, &tiny), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
}

static void test_extremes_compare_and_format(void **state)
{
    sigil_dec max = {.n = SIGIL_DEC_LIMBS}, tiny = {.limb = {1}, .n = 1, .scale = 288}, s;
    char buf[700];
    (void)state;
    for (size_t i = 0; i < SIGIL_DEC_LIMBS; i++)
        max.limb[i] = 999999999;
    assert_int_equal(sigil_dec_cmp(&max, &tiny), 1);
    assert_int_equal(sigil_dec_cmp(&tiny, &max), -1);
    assert_int_equal(sigil_dec_cmp(&max, &max), 0);
    assert_int_equal(sigil_dec_format(buf, sizeof(buf), &max), 0);
    assert_int_equal(strlen(buf), 288);
    assert_int_equal(sigil_dec_format(buf, sizeof(buf), &tiny), 0);
    assert_int_equal(strlen(buf), 290);
    assert_int_equal(buf[289], '1');
    /* max + tiny is exact but needs more than 32 limbs. */
    sigil_clear_error();
    assert_int_equal(sigil_dec_add(&s, &max, &tiny), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_OUT_OF_RANGE);
}

/* ---- format ---- */

static void test_format_round_trip(void **state)
{
    static const char *const TEXT[] = {
        "0",
        "1",
        "0.1",
        "10.01",
        "67450.5",
        "0.000000001",
        "1000000000",
        "999999999.999999999",
        "3.14159265358979323846264338327950288419716939937510582097494"};
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(TEXT); i++) {
        char buf[128];
        sigil_dec a = dec(TEXT[i]), b;
        assert_int_equal(sigil_dec_format(buf, sizeof(buf), &a), 0);
        assert_string_equal(buf, TEXT[i]);
        assert_int_equal(sigil_dec_parse(&b, buf, strlen(buf), "round"), 0);
        assert_int_equal(sigil_dec_cmp(&a, &b), 0);
        assert_memory_equal(&a, &b, sizeof(a));
    }
}

static void test_format_capacity(void **state)
{
    char buf[4];
    sigil_dec a = dec("1.25");
    (void)state;
    sigil_clear_error();
    assert_int_equal(sigil_dec_format(buf, sizeof(buf), &a), -1); /* needs 5 bytes */
    assert_int_equal(sigil_errno(), SIGIL_E_TOO_LARGE);
    char ok[5];
    assert_int_equal(sigil_dec_format(ok, sizeof(ok), &a), 0);
    assert_string_equal(ok, "1.25");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmp_prior_system_vectors),
        cmocka_unit_test(test_mul_prior_system_notionals),
        cmocka_unit_test(test_operand_of_64_accepted_65_refused),
        cmocka_unit_test(test_malformed_text_refused),
        cmocka_unit_test(test_embedded_nul_refused),
        cmocka_unit_test(test_valid_forms),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_mul_aliasing_and_results),
        cmocka_unit_test(test_shift),
        cmocka_unit_test(test_from_u64),
        cmocka_unit_test(test_fraction_digits),
        cmocka_unit_test(test_is_zero),
        cmocka_unit_test(test_overflow_is_out_of_range),
        cmocka_unit_test(test_extremes_compare_and_format),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_format_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
