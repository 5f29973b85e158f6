/*
 * The gateway's IMDSv2 client (src/gateway/imds.c, compiled in here: the
 * gateway's objects are not in a library): the --imds URL, the credentials
 * document, the Expiration timestamp, the identity document's region and
 * the refresh schedule. The HTTP exchanges run in tests/e2e/test_e2e_imds.py
 * against tests/e2e/imds_twin.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/imds.c"

static void test_urls(void **state)
{
    static const char *const OK[] = {"http://169.254.169.254", "http://169.254.169.254/",
                                     "http://127.0.0.1:8080", "http://[fd00:ec2::254]",
                                     "http://[::1]:9000/"};
    static const char *const BAD[] = {"https://169.254.169.254",
                                      "169.254.169.254",
                                      "http://",
                                      "http://h/latest",
                                      "http://h:0",
                                      "http://h:70000",
                                      "http://h:80x",
                                      "http://user@h",
                                      "http://[::1",
                                      "http://[::1]x"};
    imds_base b;
    (void)state;
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(OK); i++)
        if (gw_imds_check_url(OK[i]) != 0)
            fail_msg("refused %s: %s", OK[i], sigil_errmsg());
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++)
        if (gw_imds_check_url(BAD[i]) != -1)
            fail_msg("accepted %s", BAD[i]);
    assert_int_equal(parse_base(&b, "http://[fd00:ec2::254]"), 0);
    assert_string_equal(b.host, "fd00:ec2::254");
    assert_string_equal(b.port, "80");
    assert_string_equal(b.hostport, "[fd00:ec2::254]");
    assert_int_equal(parse_base(&b, "http://127.0.0.1:8080/"), 0);
    assert_string_equal(b.host, "127.0.0.1");
    assert_string_equal(b.port, "8080");
}

static void test_credentials_document(void **state)
{
    static const char DOC[] =
        "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2025-01-01T00:00:00Z\",\n"
        "  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \"ASIAIOSFODNN7EXAMPLE\",\n"
        "  \"SecretAccessKey\" : \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\",\n"
        "  \"Token\" : \"IQoJb3JpZ2luX2VjEXAMPLE==\",\n"
        "  \"Expiration\" : \"2025-01-01T06:00:00Z\"\n}";
    gw_imds_creds c;
    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(gw_imds_parse_creds(&c, DOC, sizeof(DOC) - 1), 0);
    assert_string_equal(c.access_key_id, "ASIAIOSFODNN7EXAMPLE");
    assert_string_equal(c.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    assert_string_equal(c.session_token, "IQoJb3JpZ2luX2VjEXAMPLE==");
    assert_int_equal(c.expiration, 1735711200);
    static const char *const BAD[] = {
        "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":"
        "\"S\",\"Token\":\"T\",\"Expiration\":\"2025-01-01T06:00:00Z\"}",
        "{\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":\"2025-01-01T06:00:00Z\"}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":\"2025-01-01T06:00:00Z\"}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\"}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T x\",\"Expiration\":"
        "\"2025-01-01T06:00:00Z\"}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":"
        "\"2025-01-01 06:00:00\"}",
        "{\"AccessKeyId\":\"\",\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":"
        "\"2025-01-01T06:00:00Z\"}",
        "[]",
        "not json",
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++)
        if (gw_imds_parse_creds(&c, BAD[i], strlen(BAD[i])) != -1)
            fail_msg("accepted %s", BAD[i]);
}

static void test_times_and_region(void **state)
{
    time_t t;
    char region[64];
    (void)state;
    assert_int_equal(gw_imds_parse_time(&t, "1970-01-01T00:00:00Z", 20), 0);
    assert_int_equal(t, 0);
    assert_int_equal(gw_imds_parse_time(&t, "2024-02-29T23:59:59Z", 20), 0);
    assert_int_equal(t, 1709251199);
    static const char *const BAD[] = {"2024-02-29T23:59:59", "2024-02-29T23:59:59+00:00",
                                      "2024-13-01T00:00:00Z", "2024-02-29t23:59:59Z",
                                      "20240229T235959Z"};
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++)
        assert_int_equal(gw_imds_parse_time(&t, BAD[i], strlen(BAD[i])), -1);
    static const char DOC[] = "{\"accountId\":\"123456789012\",\"billingProducts\":null,"
                              "\"marketplaceProductCodes\":[\"x\"],\"region\":\"eu-west-3\","
                              "\"version\":\"2017-09-30\"}";
    assert_int_equal(gw_imds_parse_region(region, sizeof(region), DOC, sizeof(DOC) - 1), 0);
    assert_string_equal(region, "eu-west-3");
    assert_int_equal(gw_imds_parse_region(region, sizeof(region), "{}", 2), -1);
}

static void test_refresh_schedule(void **state)
{
    (void)state;
    /* 6 hours: at 80 % (4.8 h), well before the last 15 minutes */
    assert_int_equal(gw_imds_refresh_delay_ms(0, 6 * 3600), 17280u * 1000u);
    /* 1 hour: 15 minutes ahead beats 80 % (48 min) */
    assert_int_equal(gw_imds_refresh_delay_ms(1000, 1000 + 3600), 2700u * 1000u);
    /* 20 minutes: 80 % (16 min); the 15-minute rule only above 30 */
    assert_int_equal(gw_imds_refresh_delay_ms(0, 1200), 960u * 1000u);
    /* short-lived (tests): 80 % */
    assert_int_equal(gw_imds_refresh_delay_ms(100, 110), 8000u);
    /* expired or about to: soon, never a busy loop */
    assert_int_equal(gw_imds_refresh_delay_ms(100, 101), 1000u);
    assert_int_equal(gw_imds_refresh_delay_ms(100, 50), 1000u);
}

static void test_responses(void **state)
{
    http_resp r;
    (void)state;
    static const char OK[] = "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello, and more";
    assert_int_equal(parse_response(&r, OK, sizeof(OK) - 1), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 5);
    assert_memory_equal(r.body, "hello", 5);
    static const char *const BAD[] = {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
        "SSH-2.0-OpenSSH\r\n\r\n",
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++)
        assert_int_equal(parse_response(&r, BAD[i], strlen(BAD[i])), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_credentials_document),
        cmocka_unit_test(test_times_and_region),
        cmocka_unit_test(test_refresh_schedule),
        cmocka_unit_test(test_responses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
