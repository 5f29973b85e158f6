/* libFuzzer target: the EIF v4 parser and PCR computation (src/attest/eif.c),
 * fed image files of unknown origin by `sigil measure --eif`. */
#include <stdint.h>
#include <string.h>

#include "sigil/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sigil_eif_measurement m, again;
    if (sigil_eif_measure(&m, data, size) != 0)
        return 0;
    /* An accepted image obeys the rules the parser promises. */
    if (size < SIGIL_EIF_HEADER_LEN || m.version != SIGIL_EIF_VERSION || (m.flags & ~1u) != 0 ||
        m.num_sections < 4 || m.num_sections > SIGIL_EIF_MAX_SECTIONS || m.ramdisks < 2 ||
        m.ramdisks > m.num_sections)
        __builtin_trap();
    /* Deterministic: the same bytes measure the same. */
    if (sigil_eif_measure(&again, data, size) != 0 || memcmp(m.pcr0, again.pcr0, 48) != 0 ||
        memcmp(m.pcr1, again.pcr1, 48) != 0 || memcmp(m.pcr2, again.pcr2, 48) != 0 ||
        m.crc32 != again.crc32)
        __builtin_trap();
    return 0;
}
