/* Reading known-answer vector files from tests/vectors/ (or from
 * $SIGIL_VECTORS_DIR) in the cmocka tests. Include after <cmocka.h>. */
#ifndef SIGIL_TEST_VECTORS_H
#define SIGIL_TEST_VECTORS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* rel is a path under tests/vectors, e.g. "nitro/MANIFEST.json". */
static inline void test_vector_path(char *out, size_t cap, const char *rel)
{
    const char *dir = getenv("SIGIL_VECTORS_DIR");
    const char *slash = strrchr(__FILE__, '/');
    if (dir != NULL)
        snprintf(out, cap, "%s/%s", dir, rel);
    else
        snprintf(out, cap, "%.*s/../vectors/%s", (int)(slash - __FILE__), __FILE__, rel);
}

/* The whole file into buf; fails the test unless 0 < size < cap. */
static inline size_t test_vector_load(uint8_t *buf, size_t cap, const char *rel)
{
    char path[4096];
    test_vector_path(path, sizeof(path), rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    assert_true(n > 0 && n < cap);
    return n;
}

#endif
