/*
 * Helpers shared by the cmocka tests (include after <cmocka.h>).
 */
#ifndef SIGIL_TEST_UTIL_H
#define SIGIL_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigil/codec.h"

/* Reads tests/vectors/<name> (or $SIGIL_VECTORS_DIR/<name>) into text and
 * parses it strictly into d; fails the test on any error. */
static inline void test_load_vectors(const char *name, char *text, size_t cap, sigil_json *d,
                                     sigil_json_tok *toks, uint32_t ntoks)
{
    char path[4096];
    const char *dir = getenv("SIGIL_VECTORS_DIR");
    const char *slash = strrchr(__FILE__, '/');
    if (dir != NULL)
        snprintf(path, sizeof(path), "%s/%s", dir, name);
    else if (slash != NULL)
        snprintf(path, sizeof(path), "%.*s/../vectors/%s", (int)(slash - __FILE__), __FILE__, name);
    else
        snprintf(path, sizeof(path), "../vectors/%s", name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s (set SIGIL_VECTORS_DIR)", path);
    size_t n = fread(text, 1, cap, f);
    fclose(f);
    assert_true(n > 0 && n < cap);
    if (sigil_json_parse(d, text, n, toks, ntoks) != 0)
        fail_msg("%s: %s", path, sigil_errmsg());
}

#endif
