/* libFuzzer target: strict query-string / form parsing and percent codecs. */
#include <stdint.h>

#include "sigil/codec.h"

static sigil_query q;
static uint8_t mem[1 << 20];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sigil_buf b;
    if (sigil_query_parse(&q, (const char *)data, size, "fuzz") == 0) {
        for (size_t i = 0; i < q.n; i++)
            (void)sigil_query_find(&q, "timestamp");
    }
    sigil_buf_init(&b, mem, sizeof(mem));
    if (sigil_pct_decode(&b, (const char *)data, size, true, "fuzz") == 0) {
        sigil_buf e;
        static uint8_t enc[3 << 20];
        sigil_buf_init(&e, enc, sizeof(enc));
        if (sigil_pct_encode(&e, (const char *)mem, b.len) != 0)
            __builtin_trap();
    }
    return 0;
}
