/*
 * Venue test helpers shared by the cmocka venue suites. The including file
 * defines `static const char *const SECRETS[]` (known secrets that must never
 * appear in an error) before including this header.
 */
#ifndef SIGIL_TEST_VENUE_UTIL_H
#define SIGIL_TEST_VENUE_UTIL_H

#include <string.h>

#include "sigil/venues.h"

static char g_out[64 * 1024];

static inline void assert_no_secret(const char *text, const char *allowed)
{
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(SECRETS); i++) {
        if (allowed == NULL || strcmp(SECRETS[i], allowed) != 0)
            assert_null(strstr(text, SECRETS[i]));
    }
}

static inline int sign(const char *venue, const char *cred, sigil_network net, const char *req)
{
    const sigil_venue *v = sigil_venue_find(venue);
    sigil_credentials c;
    sigil_buf out;
    assert_non_null(v);
    assert_int_equal(sigil_credentials_parse(&c, v, cred, strlen(cred)), 0);
    sigil_buf_init(&out, g_out, sizeof(g_out) - 1);
    int rc = sigil_sign(&out, v, &c, net, req, strlen(req));
    sigil_credentials_free(&c);
    g_out[out.len] = '\0';
    return rc;
}

static inline void expect_refused(const char *venue, const char *cred, sigil_network net,
                                  const char *req, sigil_err code, const char *field)
{
    assert_int_equal(sign(venue, cred, net, req), -1);
    assert_int_equal(g_out[0], '\0'); /* nothing half-written */
    if (sigil_errno() != code || strstr(sigil_errmsg(), field) == NULL)
        fail_msg("%s: want %s naming %s, got %s: %s", venue, sigil_err_code(code), field,
                 sigil_err_code(sigil_errno()), sigil_errmsg());
    assert_no_secret(sigil_errmsg(), NULL);
}

static inline void expect_cred_refused(const char *venue, const char *cred, sigil_err code,
                                       const char *field)
{
    sigil_credentials c;
    const sigil_venue *v = sigil_venue_find(venue);
    assert_non_null(v);
    assert_int_equal(sigil_credentials_parse(&c, v, cred, strlen(cred)), -1);
    if (sigil_errno() != code || strstr(sigil_errmsg(), field) == NULL)
        fail_msg("%s: want %s naming %s, got %s: %s", venue, sigil_err_code(code), field,
                 sigil_err_code(sigil_errno()), sigil_errmsg());
    assert_no_secret(sigil_errmsg(), NULL);
}

#endif
