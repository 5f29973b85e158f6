/*
 * libFuzzer target: the strict CBOR reader (src/codec/cbor.c), which sees
 * NSM responses, attestation documents and frames from untrusted peers.
 * Checks: skip over the input item by item, then a flat walk with the typed
 * getters; every failure leaves the cursor where it was, every success moves
 * it, and each head written back by the writer reads back the same.
 */
#include <stdint.h>
#include <string.h>

#include "sigil/cbor.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

/* A failed read: cursor unchanged and a reader error code. */
static void check_failed(const sigil_cursor *c, size_t before)
{
    CHECK(c->off == before);
    sigil_err e = sigil_errno();
    CHECK(e == SIGIL_E_BAD_ENCODING || e == SIGIL_E_BAD_FIELD || e == SIGIL_E_OUT_OF_RANGE);
}

static void skip_all(const uint8_t *data, size_t size)
{
    sigil_cursor c;
    sigil_cursor_init(&c, data, size);
    while (sigil_cursor_remaining(&c) > 0) {
        size_t before = c.off;
        if (sigil_cbor_skip(&c) != 0) {
            CHECK(c.off == before);
            CHECK(sigil_errno() == SIGIL_E_BAD_ENCODING);
            return;
        }
        CHECK(c.off > before && c.off <= size);
    }
}

/* The writer's shortest form of a head reads back as the same item. */
static void check_head_roundtrip(const sigil_cbor_item *it)
{
    uint8_t mem[16];
    sigil_buf b;
    sigil_cbor_item back;
    sigil_cursor c;
    if (it->type == SIGIL_CBOR_BYTES || it->type == SIGIL_CBOR_TEXT)
        return; /* the content is checked by the getters */
    sigil_buf_init(&b, mem, sizeof(mem));
    unsigned major = it->type <= SIGIL_CBOR_TAG ? (unsigned)it->type : 7u;
    uint64_t arg = it->type <= SIGIL_CBOR_TAG ? it->val : (uint64_t)it->type;
    CHECK(sigil_cbor_put_head(&b, major, arg) == 0);
    sigil_cursor_init(&c, b.data, b.len);
    CHECK(sigil_cbor_next(&c, &back) == 0);
    CHECK(back.type == it->type && sigil_cursor_remaining(&c) == 0);
    if (it->type <= SIGIL_CBOR_TAG)
        CHECK(back.val == it->val);
}

/* Reads the item at c with the getter for its type (and first with a getter
 * for another type, which must refuse with BAD_FIELD and not move). */
static int walk_one(sigil_cursor *c, const sigil_cbor_item *it)
{
    size_t before = c->off;
    uint64_t u;
    int64_t s;
    bool bo;
    const uint8_t *p;
    const char *t;
    size_t len, n;
    switch (it->type) {
    case SIGIL_CBOR_UINT:
        CHECK(sigil_cbor_get_text(c, &t, &len, "fuzz") == -1);
        CHECK(sigil_errno() == SIGIL_E_BAD_FIELD && c->off == before);
        CHECK(sigil_cbor_get_uint(c, &u, "fuzz") == 0 && u == it->val);
        return 0;
    case SIGIL_CBOR_NINT:
        CHECK(sigil_cbor_get_uint(c, &u, "fuzz") == -1 && c->off == before);
        if (sigil_cbor_get_int(c, &s, "fuzz") != 0) {
            CHECK(it->val > (uint64_t)INT64_MAX && sigil_errno() == SIGIL_E_OUT_OF_RANGE);
            CHECK(c->off == before);
            return sigil_cbor_skip(c);
        }
        CHECK(s < 0 && (uint64_t)(-1 - s) == it->val);
        return 0;
    case SIGIL_CBOR_BYTES:
        CHECK(sigil_cbor_get_text(c, &t, &len, "fuzz") == -1 && c->off == before);
        CHECK(sigil_cbor_get_bytes_or_null(c, &p, &len, "fuzz") == 0);
        CHECK(len == it->val && p == it->ptr && p >= c->p && p + len == c->p + c->off);
        return 0;
    case SIGIL_CBOR_TEXT:
        CHECK(sigil_cbor_get_bytes(c, &p, &len, "fuzz") == -1 && c->off == before);
        CHECK(sigil_cbor_get_text(c, &t, &len, "fuzz") == 0);
        CHECK(len == it->val && (const uint8_t *)t + len == c->p + c->off);
        return 0;
    case SIGIL_CBOR_ARRAY:
        if (sigil_cbor_get_array(c, &n, "fuzz") != 0) {
            check_failed(c, before);
            sigil_cbor_item skip;
            return sigil_cbor_next(c, &skip);
        }
        CHECK(n == it->val);
        return 0;
    case SIGIL_CBOR_MAP:
        CHECK(sigil_cbor_get_array(c, &n, "fuzz") == -1 && c->off == before);
        if (sigil_cbor_get_map(c, &n, "fuzz") != 0) {
            check_failed(c, before);
            sigil_cbor_item skip;
            return sigil_cbor_next(c, &skip);
        }
        CHECK(n == it->val);
        return 0;
    case SIGIL_CBOR_TAG: {
        sigil_cbor_item tag;
        CHECK(sigil_cbor_get_map(c, &n, "fuzz") == -1 && c->off == before);
        return sigil_cbor_next(c, &tag);
    }
    case SIGIL_CBOR_FALSE:
    case SIGIL_CBOR_TRUE:
        CHECK(!sigil_cbor_take_null(c) && c->off == before);
        CHECK(sigil_cbor_get_bool(c, &bo, "fuzz") == 0);
        CHECK(bo == (it->type == SIGIL_CBOR_TRUE));
        return 0;
    case SIGIL_CBOR_NULL:
        CHECK(sigil_cbor_get_bool(c, &bo, "fuzz") == -1 && c->off == before);
        CHECK(sigil_cbor_take_null(c));
        return 0;
    default:
        __builtin_trap();
    }
}

static void walk_all(const uint8_t *data, size_t size)
{
    sigil_cursor c;
    sigil_cursor_init(&c, data, size);
    while (sigil_cursor_remaining(&c) > 0) {
        sigil_cbor_item it;
        size_t before = c.off;
        if (sigil_cbor_peek(&c, &it) != 0) {
            CHECK(sigil_errno() == SIGIL_E_BAD_ENCODING);
            /* Every reader refuses the same bytes, without moving. */
            uint64_t u;
            CHECK(sigil_cbor_get_uint(&c, &u, "fuzz") == -1);
            check_failed(&c, before);
            CHECK(sigil_errno() == SIGIL_E_BAD_ENCODING);
            CHECK(sigil_cbor_next(&c, &it) == -1 && c.off == before);
            CHECK(sigil_cbor_skip(&c) == -1 && c.off == before);
            return;
        }
        CHECK(c.off == before);
        check_head_roundtrip(&it);
        CHECK(walk_one(&c, &it) == 0);
        CHECK(c.off > before && c.off <= size);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    skip_all(data, size);
    walk_all(data, size);
    return 0;
}
