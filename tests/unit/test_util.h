/*
 * Helpers shared by the cmocka tests (include after <cmocka.h>).
 */
#ifndef SIGIL_TEST_UTIL_H
#define SIGIL_TEST_UTIL_H

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sigil/codec.h"

/* rel is a path under tests/vectors (or $SIGIL_VECTORS_DIR). */
static inline void test_vector_path(char *out, size_t cap, const char *rel)
{
    const char *dir = getenv("SIGIL_VECTORS_DIR");
    const char *slash = strrchr(__FILE__, '/');
    if (dir != NULL)
        snprintf(out, cap, "%s/%s", dir, rel);
    else if (slash != NULL)
        snprintf(out, cap, "%.*s/../vectors/%s", (int)(slash - __FILE__), __FILE__, rel);
    else
        snprintf(out, cap, "../vectors/%s", rel);
}

/* The whole vector file into buf; fails the test unless 0 < size < cap. */
static inline size_t test_vector_load(uint8_t *buf, size_t cap, const char *rel)
{
    char path[4096];
    test_vector_path(path, sizeof(path), rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s (set SIGIL_VECTORS_DIR)", path);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    assert_true(n > 0 && n < cap);
    return n;
}

/* Reads tests/vectors/<name> (or $SIGIL_VECTORS_DIR/<name>) into text and
 * parses it strictly into d; fails the test on any error. */
static inline void test_load_vectors(const char *name, char *text, size_t cap, sigil_json *d,
                                     sigil_json_tok *toks, uint32_t ntoks)
{
    size_t n = test_vector_load((uint8_t *)text, cap, name);
    if (sigil_json_parse(d, text, n, toks, ntoks) != 0)
        fail_msg("%s: %s", name, sigil_errmsg());
}

/* A fresh directory /tmp/sigil-test-<tag>-XXXXXX in buf; 0 or -1. */
static inline int test_tmpdir_make(char *buf, size_t cap, const char *tag)
{
    snprintf(buf, cap, "/tmp/sigil-test-%s-XXXXXX", tag);
    return mkdtemp(buf) == NULL ? -1 : 0;
}

static inline int test_tmpdir_rm_entry(const char *p, const struct stat *st, int flag,
                                       struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* Removes a test directory and everything under it. */
static inline int test_tmpdir_remove(const char *dir)
{
    return nftw(dir, test_tmpdir_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Copies hex text without the spaces tables use to separate items. */
static inline size_t test_strip_spaces(char *dst, size_t cap, const char *src)
{
    size_t k = 0;
    for (; *src != '\0'; src++) {
        if (*src == ' ')
            continue;
        if (k + 1 >= cap)
            fail_msg("test hex too long");
        dst[k++] = *src;
    }
    dst[k] = '\0';
    return k;
}

#endif
