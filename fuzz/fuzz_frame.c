/*
 * libFuzzer target: gateway <-> enclave frame payloads (src/frame/frame.c).
 * Either side may be hostile, so: sigil_frame_parse on the input (failures
 * must be SIGIL_E_PROTOCOL), then sigil_frame_read_map over the body with a
 * callback that skips each value, then the frame written again with the
 * frame writer must parse back to the same header.
 */
#include <stdint.h>
#include <string.h>

#include "sigil/frame.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

static uint8_t out_mem[4 + SIGIL_FRAME_MAX];

static int skip_value(void *ctx, const char *key, size_t key_len, sigil_cursor *c)
{
    (void)key;
    (void)key_len;
    (*(size_t *)ctx)++;
    return sigil_cbor_skip(c);
}

static bool inside(const void *p, size_t len, const uint8_t *data, size_t size)
{
    const uint8_t *q = p;
    return q >= data && len <= size && q - data <= (ptrdiff_t)(size - len);
}

/* NUL-terminated copy of a slice, or false when it holds a NUL. */
static bool to_cstr(char *dst, size_t cap, const char *p, size_t len)
{
    if (len >= cap || memchr(p, 0, len) != NULL)
        return false;
    memcpy(dst, p, len);
    dst[len] = '\0';
    return true;
}

/* Writes f again (header and the body bytes as they were) and parses it. */
static void check_rewrite(const sigil_frame *f)
{
    sigil_buf b;
    char text[512];
    sigil_buf_init(&b, out_mem, sizeof(out_mem));
    if (f->kind == SIGIL_FRAME_ERROR) {
        if (!to_cstr(text, sizeof(text), f->message, f->message_len))
            return;
        CHECK(sigil_frame_error(&b, f->version, f->id, f->err, text) == 0);
    } else {
        sigil_cursor body = f->body;
        size_t n;
        CHECK(sigil_cbor_get_map(&body, &n, "body") == 0);
        if (f->kind == SIGIL_FRAME_REQUEST) {
            if (!to_cstr(text, sizeof(text), f->op, f->op_len))
                return;
            CHECK(sigil_frame_begin_request(&b, f->version, f->id, text, n) == 0);
        } else {
            CHECK(sigil_frame_begin_result(&b, f->version, f->id, n) == 0);
        }
        CHECK(sigil_buf_put(&b, body.p + body.off, sigil_cursor_remaining(&body)) == 0);
        CHECK(sigil_frame_finish(&b) == 0);
    }
    sigil_frame g;
    CHECK(sigil_frame_parse(&g, b.data + 4, b.len - 4) == 0);
    CHECK(g.kind == f->kind && g.version == f->version && g.id == f->id);
    if (f->kind == SIGIL_FRAME_REQUEST)
        CHECK(g.op_len == f->op_len && memcmp(g.op, f->op, f->op_len) == 0);
    if (f->kind == SIGIL_FRAME_ERROR) {
        CHECK(g.err == f->err && g.message_len == f->message_len);
        return;
    }
    /* Same pairs; the map head may have been written in a shorter form. */
    sigil_cursor fb = f->body, gb = g.body;
    size_t fn, gn;
    CHECK(sigil_cbor_get_map(&fb, &fn, "body") == 0 && sigil_cbor_get_map(&gb, &gn, "body") == 0);
    CHECK(fn == gn && sigil_cursor_remaining(&fb) == sigil_cursor_remaining(&gb));
    CHECK(memcmp(fb.p + fb.off, gb.p + gb.off, sigil_cursor_remaining(&fb)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sigil_frame f;
    if (size > SIGIL_FRAME_MAX)
        return 0;
    if (sigil_frame_parse(&f, data, size) != 0) {
        CHECK(sigil_errno() == SIGIL_E_PROTOCOL);
        return 0;
    }
    CHECK(f.id >= 1 && f.id <= (uint64_t)INT64_MAX);
    switch (f.kind) {
    case SIGIL_FRAME_REQUEST:
        CHECK(inside(f.op, f.op_len, data, size));
        break;
    case SIGIL_FRAME_RESULT:
        break;
    case SIGIL_FRAME_ERROR:
        CHECK(inside(f.message, f.message_len, data, size));
        CHECK(f.err > SIGIL_OK && f.err < SIGIL_E_COUNT_);
        break;
    default:
        __builtin_trap();
    }
    if (f.kind != SIGIL_FRAME_ERROR) {
        CHECK(inside(f.body.p, f.body.len, data, size) && f.body.off == 0);
        sigil_cursor body = f.body;
        size_t calls = 0;
        if (sigil_frame_read_map(&body, skip_value, &calls) == 0)
            CHECK(sigil_cursor_remaining(&body) == 0 && calls <= 32);
        else /* the body is well-formed CBOR: only key errors remain */
            CHECK(sigil_errno() == SIGIL_E_PROTOCOL || sigil_errno() == SIGIL_E_BAD_FIELD);
    }
    check_rewrite(&f);
    return 0;
}
