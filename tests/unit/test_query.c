/*
 * Unit tests for strict query strings (src/codec/query.c). The policy and the
 * venue must read the same parameters, so every way two readers could
 * disagree on a query has a test that it is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "sigil/codec.h"

static sigil_query g_q;

static int parse(const char *text)
{
    sigil_clear_error();
    return sigil_query_parse(&g_q, text, strlen(text), "request.query");
}

#define ACCEPT(text)                                                                               \
    do {                                                                                           \
        if (parse(text) != 0)                                                                      \
            fail_msg("refused %s: %s", (text), sigil_errmsg());                                    \
    } while (0)
#define REFUSE(text, code)                                                                         \
    do {                                                                                           \
        if (parse(text) == 0)                                                                      \
            fail_msg("accepted %s", (text));                                                       \
        assert_string_equal(sigil_err_code(sigil_errno()), sigil_err_code(code));                  \
        assert_non_null(strstr(sigil_errmsg(), "request.query"));                                  \
    } while (0)

static void test_splits_names_and_values_raw(void **state)
{
    (void)state;
    ACCEPT("symbol=BTC%2FUSDT&side=BUY&price=0.10");
    assert_int_equal(g_q.n, 3);
    assert_true(sigil_slice_eq(g_q.params[0].key, "symbol"));
    assert_true(sigil_slice_eq(g_q.params[0].value, "BTC%2FUSDT")); /* still encoded */
    assert_true(sigil_slice_eq(g_q.params[1].key, "side"));
    assert_true(sigil_slice_eq(g_q.params[1].value, "BUY"));
    assert_true(sigil_slice_eq(g_q.params[2].value, "0.10"));
}

static void test_empty_string_is_zero_params(void **state)
{
    (void)state;
    g_q.n = 99;
    ACCEPT("");
    assert_int_equal(g_q.n, 0);
}

static void test_accepts_a_value_without_equals(void **state)
{
    (void)state;
    ACCEPT("flag&b=2&c=");
    assert_int_equal(g_q.n, 3);
    assert_true(sigil_slice_eq(g_q.params[0].key, "flag"));
    assert_int_equal(g_q.params[0].value.len, 0);
    assert_int_equal(g_q.params[2].value.len, 0);
}

static void test_value_keeps_later_equals_signs(void **state)
{
    (void)state;
    ACCEPT("a=b=c");
    assert_int_equal(g_q.n, 1);
    assert_true(sigil_slice_eq(g_q.params[0].key, "a"));
    assert_true(sigil_slice_eq(g_q.params[0].value, "b=c"));
}

static void test_refuses_literal_duplicates(void **state)
{
    (void)state;
    REFUSE("a=1&a=2", SIGIL_E_DUPLICATE_KEY);
    REFUSE("a=1&b=2&a=1", SIGIL_E_DUPLICATE_KEY);
    REFUSE("flag&flag", SIGIL_E_DUPLICATE_KEY);
}

static void test_refuses_duplicates_after_decoding(void **state)
{
    (void)state;
    REFUSE("a=1&%61=2", SIGIL_E_DUPLICATE_KEY);
    REFUSE("symbol=X&sym%62ol=Y", SIGIL_E_DUPLICATE_KEY);
    REFUSE("%73ymbol=X&symbol=Y", SIGIL_E_DUPLICATE_KEY);
    REFUSE("a%5Bb=1&a%5bb=2", SIGIL_E_DUPLICATE_KEY); /* hex digits in either case */
}

static void test_refuses_case_variants(void **state)
{
    (void)state;
    REFUSE("symbol=X&Symbol=Y", SIGIL_E_DUPLICATE_KEY);
    REFUSE("timestamp=1&TIMESTAMP=2", SIGIL_E_DUPLICATE_KEY);
    REFUSE("recvWindow=1&recvwindow=2", SIGIL_E_DUPLICATE_KEY);
    REFUSE("symbol=X&%53ymbol=Y", SIGIL_E_DUPLICATE_KEY); /* encoded and upper case */
}

static void test_refuses_plus_and_pct20_as_the_same_name(void **state)
{
    (void)state;
    REFUSE("a+b=1&a%20b=2", SIGIL_E_DUPLICATE_KEY);
    REFUSE("a%20b=1&a+b=2", SIGIL_E_DUPLICATE_KEY);
}

static void test_accepts_names_that_differ(void **state)
{
    (void)state;
    ACCEPT("a=1&b=1&ab=1&a_b=1&a.b=1");
    assert_int_equal(g_q.n, 5);
}

static void test_refuses_malformed_percent_encoding(void **state)
{
    (void)state;
    REFUSE("a=%", SIGIL_E_BAD_ENCODING);
    REFUSE("a=%4", SIGIL_E_BAD_ENCODING);
    REFUSE("a=%zz", SIGIL_E_BAD_ENCODING);
    REFUSE("a=%g1", SIGIL_E_BAD_ENCODING);
    REFUSE("a=%1g", SIGIL_E_BAD_ENCODING);
    REFUSE("a=1%", SIGIL_E_BAD_ENCODING);
    REFUSE("a=%4&b=1", SIGIL_E_BAD_ENCODING);
    REFUSE("%=1", SIGIL_E_BAD_ENCODING);
    REFUSE("a%2=1", SIGIL_E_BAD_ENCODING);
    REFUSE("a=%%41", SIGIL_E_BAD_ENCODING);
}

static void test_refuses_encoded_bytes_that_are_not_utf8(void **state)
{
    (void)state;
    REFUSE("a=%ff", SIGIL_E_BAD_ENCODING);
    REFUSE("a=%c0%80", SIGIL_E_BAD_ENCODING);
    REFUSE("a=%ed%a0%80", SIGIL_E_BAD_ENCODING);
    REFUSE("a=%e2%82", SIGIL_E_BAD_ENCODING);
    REFUSE("a=%e2%82&b=%ac", SIGIL_E_BAD_ENCODING); /* a sequence cannot span parameters */
    REFUSE("%80=1", SIGIL_E_BAD_ENCODING);
    REFUSE("a=%f4%90%80%80", SIGIL_E_BAD_ENCODING);
}

static void test_accepts_encoded_utf8(void **state)
{
    (void)state;
    ACCEPT("symbol=%EF%BC%91%EF%BC%92&x=%e2%82%ac&y=%F0%9F%98%80");
    assert_int_equal(g_q.n, 3);
}

static void test_refuses_empty_names(void **state)
{
    (void)state;
    REFUSE("=1", SIGIL_E_BAD_REQUEST);
    REFUSE("a=1&&b=2", SIGIL_E_BAD_REQUEST);
    REFUSE("&a=1", SIGIL_E_BAD_REQUEST);
    REFUSE("a=1&", SIGIL_E_BAD_REQUEST);
    REFUSE("&", SIGIL_E_BAD_REQUEST);
    REFUSE("a=1&=2", SIGIL_E_BAD_REQUEST);
}

/* "p0=1&p1=1&…" with n parameters. */
static const char *many_params(size_t n)
{
    static char text[4096];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(text + k, sizeof(text) - k, "%sp%zu=1", i > 0 ? "&" : "", i);
        assert_true(w > 0 && (size_t)w < sizeof(text) - k);
        k += (size_t)w;
    }
    return text;
}

static void test_accepts_128_params(void **state)
{
    (void)state;
    ACCEPT(many_params(SIGIL_QUERY_MAX_PARAMS));
    assert_int_equal(g_q.n, SIGIL_QUERY_MAX_PARAMS);
}

static void test_refuses_more_than_128_params(void **state)
{
    (void)state;
    REFUSE(many_params(SIGIL_QUERY_MAX_PARAMS + 1), SIGIL_E_TOO_LARGE);
}

static void test_refuses_names_longer_than_128_bytes(void **state)
{
    char text[300];
    (void)state;
    memset(text, 'n', 128);
    memcpy(text + 128, "=1", 3);
    ACCEPT(text);
    memset(text, 'n', 129);
    memcpy(text + 129, "=1", 3);
    REFUSE(text, SIGIL_E_BAD_REQUEST);
}

static void test_find_matches_the_exact_decoded_name(void **state)
{
    (void)state;
    ACCEPT("%61=1&B=2&a+b=3&c%2Bd=4");
    const sigil_query_param *p = sigil_query_find(&g_q, "a");
    assert_non_null(p);
    assert_true(sigil_slice_eq(p->value, "1"));
    assert_null(sigil_query_find(&g_q, "%61")); /* raw text is not the name */
    assert_null(sigil_query_find(&g_q, "b"));   /* no case folding when finding */
    assert_non_null(sigil_query_find(&g_q, "B"));
    p = sigil_query_find(&g_q, "a b");
    assert_non_null(p);
    assert_true(sigil_slice_eq(p->value, "3"));
    assert_non_null(sigil_query_find(&g_q, "c+d"));
    assert_null(sigil_query_find(&g_q, "c d"));
    assert_null(sigil_query_find(&g_q, ""));
    assert_null(sigil_query_find(&g_q, "ab"));
}

static int group_setup(void **state)
{
    (void)state;
    return sigil_init() == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splits_names_and_values_raw),
        cmocka_unit_test(test_empty_string_is_zero_params),
        cmocka_unit_test(test_accepts_a_value_without_equals),
        cmocka_unit_test(test_value_keeps_later_equals_signs),
        cmocka_unit_test(test_refuses_literal_duplicates),
        cmocka_unit_test(test_refuses_duplicates_after_decoding),
        cmocka_unit_test(test_refuses_case_variants),
        cmocka_unit_test(test_refuses_plus_and_pct20_as_the_same_name),
        cmocka_unit_test(test_accepts_names_that_differ),
        cmocka_unit_test(test_refuses_malformed_percent_encoding),
        cmocka_unit_test(test_refuses_encoded_bytes_that_are_not_utf8),
        cmocka_unit_test(test_accepts_encoded_utf8),
        cmocka_unit_test(test_refuses_empty_names),
        cmocka_unit_test(test_accepts_128_params),
        cmocka_unit_test(test_refuses_more_than_128_params),
        cmocka_unit_test(test_refuses_names_longer_than_128_bytes),
        cmocka_unit_test(test_find_matches_the_exact_decoded_name),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
