/* libFuzzer target: the attestation document parser (COSE_Sign1 + payload)
 * and the boot-binding decoder, both fed untrusted bytes by the host. */
#include <stdint.h>
#include <string.h>

#include "sigil/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sigil_attest_doc d;
    sigil_boot_binding bb;
    if (sigil_attest_parse(&d, data, size) == 0) {
        /* Every slice must lie inside the input. */
        const uint8_t *end = data + size;
        if (d.payload < data || d.payload + d.payload_len > end || d.signature + 96 > end ||
            d.certificate + d.certificate_len > end || d.cabundle_n == 0 ||
            d.module_id[0] == '\0' || d.timestamp_ms == 0 || d.pcr_mask == 0)
            __builtin_trap();
        if (d.user_data != NULL && d.user_data + d.user_data_len > end)
            __builtin_trap();
        if (d.user_data != NULL &&
            sigil_boot_binding_decode(&bb, d.user_data, d.user_data_len) == 0)
            (void)bb;
    }
    if (sigil_boot_binding_decode(&bb, data, size) == 0) {
        /* The decoder accepts exactly the encoder's output. */
        uint8_t mem[SIGIL_BOOT_BINDING_LEN];
        sigil_buf b;
        sigil_buf_init(&b, mem, sizeof(mem));
        if (sigil_boot_binding_encode(&b, &bb) != 0 || b.len != size || memcmp(mem, data, size))
            __builtin_trap();
    }
    return 0;
}
