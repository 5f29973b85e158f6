/*
 * Frame codec for the gateway <-> enclave protocol (docs/FRAMES.md).
 * Untrusted-input layer: either side may be hostile, so every frame is
 * checked completely (keys, types, trailing bytes) before anyone acts on it.
 */
#include <stdio.h>
#include <string.h>

#include "sigil/codec.h"

#include "sigil/frame.h"

#define FRAME_KEYS_MAX 6u

typedef struct {
    sigil_frame *f;
    unsigned seen; /* bitmask of top-level keys */
} frame_parse;

static int frame_error_body(sigil_frame *f, sigil_cursor *c)
{
    size_t n;
    const char *code = NULL, *msg = NULL, *receipt = NULL;
    size_t code_len = 0, msg_len = 0, receipt_len = 0;
    GUARD(sigil_cbor_get_map(c, &n, "frame error"));
    ENSURE(n == 2 || n == 3, SIGIL_E_PROTOCOL,
           "frame: error map must have code, message and optionally receipt");
    for (size_t i = 0; i < n; i++) {
        const char *k;
        size_t klen;
        GUARD(sigil_cbor_get_text(c, &k, &klen, "frame error key"));
        if (sigil_cbor_text_eq(k, klen, "code") && code == NULL)
            GUARD(sigil_cbor_get_text(c, &code, &code_len, "frame error code"));
        else if (sigil_cbor_text_eq(k, klen, "message") && msg == NULL)
            GUARD(sigil_cbor_get_text(c, &msg, &msg_len, "frame error message"));
        else if (sigil_cbor_text_eq(k, klen, "receipt") && receipt == NULL)
            GUARD(sigil_cbor_get_text(c, &receipt, &receipt_len, "frame error receipt"));
        else
            BAIL(SIGIL_E_PROTOCOL, "frame: unexpected key in error map");
    }
    ENSURE(code != NULL && msg != NULL, SIGIL_E_PROTOCOL,
           "frame: error map must have code and message");
    f->receipt = receipt;
    f->receipt_len = receipt_len;
    f->err = sigil_err_from_code(code, code_len);
    f->message = msg;
    f->message_len = msg_len;
    return 0;
}

/* The args/result body: remember where the map starts, skip it whole. */
static int frame_body(sigil_frame *f, sigil_cursor *c)
{
    sigil_cbor_item it;
    size_t start = c->off;
    GUARD(sigil_cbor_peek(c, &it));
    ENSURE(it.type == SIGIL_CBOR_MAP, SIGIL_E_PROTOCOL, "frame: body must be a map");
    GUARD(sigil_cbor_skip(c));
    sigil_cursor_init(&f->body, c->p + start, c->off - start);
    return 0;
}

static int frame_field(frame_parse *fp, uint64_t key, sigil_cursor *c)
{
    sigil_frame *f = fp->f;
    ENSURE(key < FRAME_KEYS_MAX, SIGIL_E_PROTOCOL, "frame: unknown key %llu",
           (unsigned long long)key);
    ENSURE(!(fp->seen & (1u << key)), SIGIL_E_PROTOCOL, "frame: duplicate key %llu",
           (unsigned long long)key);
    fp->seen |= 1u << key;
    switch (key) {
    case SIGIL_FK_VERSION:
        return sigil_cbor_get_uint(c, &f->version, "frame version");
    case SIGIL_FK_ID:
        GUARD(sigil_cbor_get_uint(c, &f->id, "frame id"));
        ENSURE(f->id != 0 && f->id <= (uint64_t)INT64_MAX, SIGIL_E_PROTOCOL,
               "frame: id out of range");
        return 0;
    case SIGIL_FK_OP:
        return sigil_cbor_get_text(c, &f->op, &f->op_len, "frame op");
    case SIGIL_FK_ARGS:
    case SIGIL_FK_RESULT:
        return frame_body(f, c);
    case SIGIL_FK_ERROR:
        return frame_error_body(f, c);
    default:
        BAIL(SIGIL_E_PROTOCOL, "frame: unknown key");
    }
}

/* The three legal shapes, as key bitmasks. */
static const struct {
    unsigned keys;
    sigil_frame_kind kind;
} FRAME_SHAPES[] = {
    {1u << SIGIL_FK_VERSION | 1u << SIGIL_FK_ID | 1u << SIGIL_FK_OP | 1u << SIGIL_FK_ARGS,
     SIGIL_FRAME_REQUEST},
    {1u << SIGIL_FK_VERSION | 1u << SIGIL_FK_ID | 1u << SIGIL_FK_RESULT, SIGIL_FRAME_RESULT},
    {1u << SIGIL_FK_VERSION | 1u << SIGIL_FK_ID | 1u << SIGIL_FK_ERROR, SIGIL_FRAME_ERROR},
};

static int frame_parse_inner(sigil_frame *f, const uint8_t *p, size_t len)
{
    sigil_cursor c;
    size_t n;
    frame_parse fp = {.f = f, .seen = 0};
    memset(f, 0, sizeof(*f));
    sigil_cursor_init(&c, p, len);
    GUARD(sigil_cbor_get_map(&c, &n, "frame"));
    ENSURE(n <= FRAME_KEYS_MAX, SIGIL_E_PROTOCOL, "frame: too many keys");
    for (size_t i = 0; i < n; i++) {
        uint64_t key;
        GUARD(sigil_cbor_get_uint(&c, &key, "frame key"));
        GUARD(frame_field(&fp, key, &c));
    }
    ENSURE(sigil_cursor_remaining(&c) == 0, SIGIL_E_PROTOCOL, "frame: trailing bytes");
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(FRAME_SHAPES); i++) {
        if (fp.seen == FRAME_SHAPES[i].keys) {
            f->kind = FRAME_SHAPES[i].kind;
            return 0;
        }
    }
    BAIL(SIGIL_E_PROTOCOL, "frame: missing or conflicting keys");
}

int sigil_frame_parse(sigil_frame *f, const uint8_t *p, size_t len)
{
    if (frame_parse_inner(f, p, len) == 0)
        return 0;
    /* Whatever the CBOR layer said, a bad frame is a protocol error. */
    if (sigil_errno() != SIGIL_E_PROTOCOL) {
        char cause[200];
        snprintf(cause, sizeof(cause), "%s", sigil_errmsg());
        (void)sigil_fail(SIGIL_E_PROTOCOL, "frame: %s", cause);
    }
    return -1;
}

static int frame_begin(sigil_buf *b, uint64_t version, uint64_t id, size_t keys)
{
    static const uint8_t placeholder[4] = {0, 0, 0, 0};
    ENSURE(b->len == 0, SIGIL_E_INTERNAL, "frame: buffer not empty");
    ENSURE(id != 0 && id <= (uint64_t)INT64_MAX, SIGIL_E_INTERNAL, "frame: id out of range");
    GUARD(sigil_buf_put(b, placeholder, sizeof(placeholder)));
    GUARD(sigil_cbor_put_map(b, keys));
    GUARD(sigil_cbor_put_uint(b, SIGIL_FK_VERSION));
    GUARD(sigil_cbor_put_uint(b, version));
    GUARD(sigil_cbor_put_uint(b, SIGIL_FK_ID));
    return sigil_cbor_put_uint(b, id);
}

int sigil_frame_begin_request(sigil_buf *b, uint64_t version, uint64_t id, const char *op, size_t n)
{
    GUARD(frame_begin(b, version, id, 4));
    GUARD(sigil_cbor_put_uint(b, SIGIL_FK_OP));
    GUARD(sigil_cbor_put_cstr(b, op));
    GUARD(sigil_cbor_put_uint(b, SIGIL_FK_ARGS));
    return sigil_cbor_put_map(b, n);
}

int sigil_frame_begin_result(sigil_buf *b, uint64_t version, uint64_t id, size_t n)
{
    GUARD(frame_begin(b, version, id, 3));
    GUARD(sigil_cbor_put_uint(b, SIGIL_FK_RESULT));
    return sigil_cbor_put_map(b, n);
}

int sigil_frame_finish(sigil_buf *b)
{
    ENSURE(b->len > 4, SIGIL_E_INTERNAL, "frame: nothing to finish");
    size_t n = b->len - 4;
    ENSURE(n <= SIGIL_FRAME_MAX, SIGIL_E_TOO_LARGE, "frame: %zu bytes over the frame limit", n);
    b->data[0] = (uint8_t)(n >> 24);
    b->data[1] = (uint8_t)(n >> 16);
    b->data[2] = (uint8_t)(n >> 8);
    b->data[3] = (uint8_t)n;
    return 0;
}

int sigil_frame_error(sigil_buf *b, uint64_t version, uint64_t id, sigil_err code,
                      const char *message)
{
    return sigil_frame_error_receipt(b, version, id, code, message, NULL, 0);
}

int sigil_frame_error_receipt(sigil_buf *b, uint64_t version, uint64_t id, sigil_err code,
                              const char *message, const char *receipt, size_t receipt_len)
{
    /* Messages are cut at byte limits upstream and may quote input: never
     * send text the peer's strict parser would refuse. */
    char clean[512];
    size_t n = strlen(message);
    n = n < sizeof(clean) - 1 ? n : sizeof(clean) - 1;
    memcpy(clean, message, n);
    clean[n] = '\0';
    if (!sigil_utf8_valid((const uint8_t *)clean, n))
        for (size_t i = 0; i < n; i++)
            if ((uint8_t)clean[i] >= 0x80)
                clean[i] = '?';
    message = clean;
    GUARD(frame_begin(b, version, id, 3));
    GUARD(sigil_cbor_put_uint(b, SIGIL_FK_ERROR));
    GUARD(sigil_cbor_put_map(b, receipt != NULL ? 3 : 2));
    GUARD(sigil_cbor_put_cstr(b, "code"));
    GUARD(sigil_cbor_put_cstr(b, sigil_err_code(code)));
    GUARD(sigil_cbor_put_cstr(b, "message"));
    GUARD(sigil_cbor_put_cstr(b, message));
    if (receipt != NULL) {
        GUARD(sigil_cbor_put_cstr(b, "receipt"));
        GUARD(sigil_cbor_put_text(b, receipt, receipt_len));
    }
    return sigil_frame_finish(b);
}

/* Keys already seen, for duplicate detection without allocating: frames
 * carry few keys, so a small linear table is enough. */
#define FRAME_MAP_KEYS_MAX 32u

int sigil_frame_read_map(sigil_cursor *c, sigil_frame_field_fn fn, void *ctx)
{
    size_t n;
    struct {
        const char *p;
        size_t len;
    } seen[FRAME_MAP_KEYS_MAX];
    GUARD(sigil_cbor_get_map(c, &n, "frame body"));
    ENSURE(n <= FRAME_MAP_KEYS_MAX, SIGIL_E_PROTOCOL, "frame: body has too many keys");
    for (size_t i = 0; i < n; i++) {
        const char *k;
        size_t klen;
        GUARD(sigil_cbor_get_text(c, &k, &klen, "frame body key"));
        for (size_t j = 0; j < i; j++)
            ENSURE(seen[j].len != klen || memcmp(seen[j].p, k, klen) != 0, SIGIL_E_PROTOCOL,
                   "frame: duplicate key '%.*s'", (int)(klen > 32 ? 32 : klen), k);
        seen[i].p = k;
        seen[i].len = klen;
        size_t before = c->off;
        GUARD(fn(ctx, k, klen, c));
        ENSURE(c->off > before, SIGIL_E_INTERNAL, "frame: field handler consumed nothing");
    }
    return 0;
}
