/*
 * Unit tests for the EIF v4 parser and production PCR0/1/2
 * (src/attest/eif.c): the synthetic vector gives its .expected.json, every
 * truncation and every byte flip of it is refused, and images built here
 * (an independent writer and CRC) exercise each structural rule and the
 * PCR formulas of nitro.md §4.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sigil/attest.h"
#include "sigil/codec.h"
#include "sigil/crypto.h"
#include "test_util.h"

#define VECTOR "nitro/eif/eif_synthetic_v4.eif"
#define IMG_CAP 8192

#include "test_util.h"

static void vector_path(char *out, size_t cap, const char *name)
{
    test_vector_path(out, cap, name);
}

static size_t load_vector(uint8_t *buf, size_t cap)
{
    size_t n = test_vector_load(buf, cap, VECTOR);
    assert_int_equal(n, 967);
    return n;
}

#define ASSERT_REFUSED(img, len, code, needle)                                                     \
    do {                                                                                           \
        sigil_eif_measurement m_;                                                                  \
        sigil_clear_error();                                                                       \
        if (sigil_eif_measure(&m_, (img), (len)) == 0)                                             \
            fail_msg("accepted: %s", needle);                                                      \
        assert_string_equal(sigil_err_code(sigil_errno()), sigil_err_code(code));                  \
        if (strstr(sigil_errmsg(), (needle)) == NULL)                                              \
            fail_msg("message \"%s\" lacks \"%s\"", sigil_errmsg(), (needle));                     \
    } while (0)

/* ---- an independent writer: big-endian fields, bitwise CRC-32 ---- */

static uint32_t crc32_bitwise(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Recomputes the CRC field after an edit (so the structural check, not the
 * CRC, is what refuses). */
static void fix_crc(uint8_t *img, size_t len)
{
    uint32_t c = crc32_bitwise(0, img, 544);
    c = crc32_bitwise(c, img + 548, len - 548);
    put_be(img + 544, c, 4);
}

typedef struct {
    uint16_t type;
    const char *data;
} sec;

enum { KERNEL = 1, CMDLINE = 2, RAMDISK = 3, SIGNATURE = 4, METADATA = 5 };

/* The builder's layout: header, then each section (12-byte header + data). */
static size_t build(uint8_t *img, const sec *s, size_t n)
{
    size_t off = 548;
    memset(img, 0, 548);
    memcpy(img, ".eif", 4);
    put_be(img + 4, 4, 2);
    put_be(img + 8, 1ull << 30, 8);
    put_be(img + 16, 2, 8);
    put_be(img + 26, n, 2);
    for (size_t i = 0; i < n; i++) {
        size_t dl = strlen(s[i].data);
        assert_true(off + 12 + dl <= IMG_CAP);
        if (i < 32) {
            put_be(img + 28 + 8 * i, off, 8);
            put_be(img + 284 + 8 * i, dl, 8);
        }
        put_be(img + off, s[i].type, 2);
        put_be(img + off + 2, 0, 2);
        put_be(img + off + 4, dl, 8);
        memcpy(img + off + 12, s[i].data, dl);
        off += 12 + dl;
    }
    fix_crc(img, off);
    return off;
}

static const sec VECTOR_SECTIONS[] = {
    {KERNEL, "KERNEL-IMAGE-BYTES"},
    {CMDLINE, "reboot=k panic=30 pci=off nomodules console=ttyS0"},
    {METADATA,
     "{\"ImageName\":\"test\",\"ImageVersion\":\"1.0\",\"BuildMetadata\":{\"BuildTime\":"
     "\"2020-01-01T00:00:00Z\",\"BuildTool\":\"eif_build\",\"BuildToolVersion\":\"0.2.0\","
     "\"OperatingSystem\":\"Linux\",\"KernelVersion\":\"x\"},\"DockerInfo\":{},"
     "\"CustomMetadata\":{}}"},
    {RAMDISK, "BOOTSTRAP-RAMDISK"},
    {RAMDISK, "CUSTOMER-RAMDISK-1"},
    {RAMDISK, "CUSTOMER-RAMDISK-2"},
};

/* SHA384(0^48 || SHA384(a || b || c)), from the formula, not the parser. */
static void formula_pcr(uint8_t out[48], const char *a, const char *b, const char *c)
{
    char cat[1024];
    uint8_t ext[96] = {0};
    snprintf(cat, sizeof(cat), "%s%s%s", a, b, c);
    sigil_sha384(ext + 48, cat, strlen(cat));
    sigil_sha384(out, ext, sizeof(ext));
}

static void measure_ok(sigil_eif_measurement *m, const uint8_t *img, size_t len)
{
    if (sigil_eif_measure(m, img, len) != 0)
        fail_msg("refused: %s", sigil_errmsg());
}

/* ---- the synthetic vector ---- */

static void expected_pcr(uint8_t out[48], const char *key)
{
    static char text[2048];
    static sigil_json_tok toks[64];
    sigil_json d;
    uint32_t t;
    char name[64];
    uint8_t mem[128];
    sigil_buf b;
    test_load_vectors("nitro/eif/eif_synthetic_v4.expected.json", text, sizeof(text), &d, toks, 64);
    snprintf(name, sizeof(name), "%s", key);
    assert_int_equal(sigil_json_get_str(&d, 0, name, true, &t, "expected"), 0);
    sigil_buf_init(&b, mem, sizeof(mem));
    assert_int_equal(sigil_json_str(&d, t, &b), 0);
    assert_int_equal(b.len, 96);
    assert_int_equal(sigil_hex_decode_exact(out, 48, (const char *)b.data, 96, false, key), 0);
}

static void assert_vector_measurement(const sigil_eif_measurement *m)
{
    uint8_t want[48];
    expected_pcr(want, "PCR0");
    assert_memory_equal(m->pcr0, want, 48);
    expected_pcr(want, "PCR1");
    assert_memory_equal(m->pcr1, want, 48);
    expected_pcr(want, "PCR2");
    assert_memory_equal(m->pcr2, want, 48);
    assert_int_equal(m->version, 4);
    assert_int_equal(m->flags, 0);
    assert_int_equal(m->default_mem, 1073741824ull);
    assert_int_equal(m->default_cpus, 2);
    assert_int_equal(m->num_sections, 6);
    assert_int_equal(m->ramdisks, 3);
    assert_true(m->has_metadata);
    assert_false(m->has_signature);
}

static void test_vector_from_memory_and_file(void **state)
{
    static uint8_t img[IMG_CAP];
    char path[4096];
    sigil_eif_measurement m;
    (void)state;
    size_t n = load_vector(img, sizeof(img));
    measure_ok(&m, img, n);
    assert_vector_measurement(&m);
    assert_int_equal(m.crc32, (uint32_t)get_be(img + 544, 4));
    vector_path(path, sizeof(path), VECTOR);
    if (sigil_eif_measure_file(&m, path) != 0)
        fail_msg("%s: %s", path, sigil_errmsg());
    assert_vector_measurement(&m);
}

/* The writer here reproduces the vector byte for byte, and the PCRs equal
 * the nitro.md §4.1 formulas computed from the section contents. */
static void test_independent_writer_and_formulas(void **state)
{
    static uint8_t img[IMG_CAP], vec[IMG_CAP];
    sigil_eif_measurement m;
    uint8_t want[48];
    (void)state;
    size_t vn = load_vector(vec, sizeof(vec));
    size_t n = build(img, VECTOR_SECTIONS, SIGIL_ARRAY_LEN(VECTOR_SECTIONS));
    assert_int_equal(n, vn);
    assert_memory_equal(img, vec, n);
    measure_ok(&m, img, n);
    char image[512];
    snprintf(image, sizeof(image), "%s%s%s", VECTOR_SECTIONS[0].data, VECTOR_SECTIONS[1].data,
             VECTOR_SECTIONS[3].data);
    formula_pcr(want, image, VECTOR_SECTIONS[4].data, VECTOR_SECTIONS[5].data);
    assert_memory_equal(m.pcr0, want, 48);
    formula_pcr(want, VECTOR_SECTIONS[0].data, VECTOR_SECTIONS[1].data, VECTOR_SECTIONS[3].data);
    assert_memory_equal(m.pcr1, want, 48);
    formula_pcr(want, VECTOR_SECTIONS[4].data, VECTOR_SECTIONS[5].data, "");
    assert_memory_equal(m.pcr2, want, 48);
}

/* Metadata and signature sections feed no PCR; a bootstrap change moves
 * PCR0 and PCR1 only, an application change PCR0 and PCR2 only. */
static void test_what_each_pcr_covers(void **state)
{
    static uint8_t img[IMG_CAP];
    sigil_eif_measurement base, m;
    sec s[7];
    (void)state;
    memcpy(s, VECTOR_SECTIONS, sizeof(VECTOR_SECTIONS));
    measure_ok(&base, img, build(img, s, 6));

    s[2].data = "{\"ImageName\":\"other\"}";
    measure_ok(&m, img, build(img, s, 6));
    assert_memory_equal(m.pcr0, base.pcr0, 48);
    assert_memory_equal(m.pcr1, base.pcr1, 48);
    assert_memory_equal(m.pcr2, base.pcr2, 48);
    /* No metadata at all, and a trailing signature section: same PCRs. */
    memcpy(s, VECTOR_SECTIONS, sizeof(VECTOR_SECTIONS));
    sec nometa[6] = {s[0], s[1], s[3], s[4], s[5], {SIGNATURE, "\x81\xa2sig"}};
    measure_ok(&m, img, build(img, nometa, 6));
    assert_false(m.has_metadata);
    assert_true(m.has_signature);
    assert_memory_equal(m.pcr0, base.pcr0, 48);
    assert_memory_equal(m.pcr1, base.pcr1, 48);
    assert_memory_equal(m.pcr2, base.pcr2, 48);

    s[3].data = "BOOTSTRAP-RAMDISX";
    measure_ok(&m, img, build(img, s, 6));
    assert_memory_not_equal(m.pcr0, base.pcr0, 48);
    assert_memory_not_equal(m.pcr1, base.pcr1, 48);
    assert_memory_equal(m.pcr2, base.pcr2, 48);

    memcpy(s, VECTOR_SECTIONS, sizeof(VECTOR_SECTIONS));
    s[5].data = "CUSTOMER-RAMDISK-3";
    measure_ok(&m, img, build(img, s, 6));
    assert_memory_not_equal(m.pcr0, base.pcr0, 48);
    assert_memory_equal(m.pcr1, base.pcr1, 48);
    assert_memory_not_equal(m.pcr2, base.pcr2, 48);

    /* Moving a byte across a ramdisk boundary changes PCR1 and PCR2 even
     * though the concatenation of all ramdisks (and so PCR0) is the same. */
    memcpy(s, VECTOR_SECTIONS, sizeof(VECTOR_SECTIONS));
    s[3].data = "BOOTSTRAP-RAMDISKC";
    s[4].data = "USTOMER-RAMDISK-1";
    measure_ok(&m, img, build(img, s, 6));
    assert_memory_equal(m.pcr0, base.pcr0, 48);
    assert_memory_not_equal(m.pcr1, base.pcr1, 48);
    assert_memory_not_equal(m.pcr2, base.pcr2, 48);
}

/* ---- malformed images ---- */

static void test_every_truncation_refused(void **state)
{
    static uint8_t img[IMG_CAP];
    sigil_eif_measurement m;
    (void)state;
    size_t n = load_vector(img, sizeof(img));
    for (size_t len = 0; len < n; len++) {
        sigil_clear_error();
        if (sigil_eif_measure(&m, img, len) == 0)
            fail_msg("truncated to %zu bytes: accepted", len);
        assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    }
    ASSERT_REFUSED(img, 547, SIGIL_E_BAD_FIELD, "shorter than the 548-byte header");
    ASSERT_REFUSED(img, 548 + 11, SIGIL_E_BAD_FIELD, "section 0 header is past the end");
    ASSERT_REFUSED(img, n - 1, SIGIL_E_BAD_FIELD, "section 5 (ramdisk) runs 1 bytes past the end");
}

/* The CRC covers every byte but its own field, so any single flipped byte
 * (CRC field included) is refused. */
static void test_every_byte_flip_refused(void **state)
{
    static uint8_t img[IMG_CAP];
    sigil_eif_measurement m;
    (void)state;
    size_t n = load_vector(img, sizeof(img));
    for (size_t i = 0; i < n; i++) {
        for (unsigned mask = 0x01; mask <= 0x80; mask <<= 7) {
            img[i] ^= (uint8_t)mask;
            sigil_clear_error();
            if (sigil_eif_measure(&m, img, n) == 0)
                fail_msg("byte %zu ^ 0x%02x accepted", i, mask);
            img[i] ^= (uint8_t)mask;
        }
    }
    measure_ok(&m, img, n);
}

static void test_bad_crc(void **state)
{
    static uint8_t img[IMG_CAP];
    (void)state;
    size_t n = load_vector(img, sizeof(img));
    img[n - 1] ^= 0x20; /* inside the last ramdisk */
    ASSERT_REFUSED(img, n, SIGIL_E_BAD_FIELD, "CRC-32 mismatch");
    img[n - 1] ^= 0x20;
    img[544] ^= 0x01; /* the CRC field itself */
    ASSERT_REFUSED(img, n, SIGIL_E_BAD_FIELD, "CRC-32 mismatch");
    img[544] ^= 0x01;
    img[100] = 0x01; /* unused section table entry: caught before the CRC */
    ASSERT_REFUSED(img, n, SIGIL_E_BAD_FIELD, "beyond num_sections but not zero");
}

typedef struct {
    size_t off, width;
    uint64_t value;
    const char *needle;
} header_edit;

/* Each header field edited (CRC recomputed), each refused for its reason. */
static void test_header_fields(void **state)
{
    static uint8_t img[IMG_CAP], orig[IMG_CAP];
    (void)state;
    static const header_edit EDITS[] = {
        {0, 4, 0x2e656967, "bad magic"},
        {0, 4, 0, "bad magic"},
        {4, 2, 3, "version 3 is not supported"},
        {4, 2, 5, "version 5 is not supported"},
        {6, 2, 2, "unknown header flags"},
        {6, 2, 0x8000, "unknown header flags"},
        {24, 2, 1, "reserved header fields"},
        {540, 4, 1, "reserved header fields"},
        {26, 2, 0, "num_sections 0 is outside"},
        {26, 2, 33, "num_sections 33 is outside"},
        {26, 2, 0xffff, "num_sections 65535 is outside"},
        {26, 2, 5, "beyond num_sections but not zero"},
        {26, 2, 7, "section 6 at offset 0, expected 967"},
        {28, 8, 549, "section 0 at offset 549, expected 548"},
        {28 + 8, 8, 0x242 + 1, "sections must be contiguous"},
        {28 + 8 * 5, 8, UINT64_MAX, "sections must be contiguous"},
        {284, 8, 19, "section 0 (kernel) size 18 disagrees with the header's 19"},
    };
    size_t n = load_vector(orig, sizeof(orig));
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(EDITS); i++) {
        memcpy(img, orig, n);
        put_be(img + EDITS[i].off, EDITS[i].value, EDITS[i].width);
        fix_crc(img, n);
        sigil_eif_measurement m;
        sigil_clear_error();
        if (sigil_eif_measure(&m, img, n) == 0)
            fail_msg("edit %zu accepted", i);
        if (strstr(sigil_errmsg(), EDITS[i].needle) == NULL)
            fail_msg("edit %zu: \"%s\" lacks \"%s\"", i, sigil_errmsg(), EDITS[i].needle);
    }
}

/* Section headers: unknown type, flags, a size that disagrees with the
 * table, a size that runs past the end (and a huge one). */
static void test_section_headers(void **state)
{
    static uint8_t img[IMG_CAP], orig[IMG_CAP];
    (void)state;
    size_t n = load_vector(orig, sizeof(orig));
    /* 0x242: the header of section 1 (cmdline). */
    static const header_edit EDITS[] = {
        {0x242, 2, 0, "section 1 has unknown type 0"},
        {0x242, 2, 6, "section 1 has unknown type 6"},
        {0x242 + 2, 2, 1, "section 1 (cmdline) has flags 0x0001"},
        {0x242 + 4, 8, 0x30, "section 1 (cmdline) size 48 disagrees"},
        {0x242 + 4, 8, UINT64_MAX, "disagrees"},
        {0x242, 2, 1, "more than 1 kernel section"},
        {0x242, 2, 3, "section 2 (metadata) is out of order"},
        {0x242, 2, 4, "section 2 (metadata) is out of order"},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(EDITS); i++) {
        memcpy(img, orig, n);
        put_be(img + EDITS[i].off, EDITS[i].value, EDITS[i].width);
        fix_crc(img, n);
        sigil_eif_measurement m;
        sigil_clear_error();
        if (sigil_eif_measure(&m, img, n) == 0)
            fail_msg("edit %zu accepted", i);
        if (strstr(sigil_errmsg(), EDITS[i].needle) == NULL)
            fail_msg("edit %zu: \"%s\" lacks \"%s\"", i, sigil_errmsg(), EDITS[i].needle);
    }
    /* A last section whose size (both copies) runs past the end. */
    memcpy(img, orig, n);
    put_be(img + 284 + 8 * 5, 0x13, 8);
    put_be(img + 0x3a9 + 4, 0x13, 8);
    fix_crc(img, n);
    ASSERT_REFUSED(img, n, SIGIL_E_BAD_FIELD, "section 5 (ramdisk) runs 1 bytes past the end");
    put_be(img + 284 + 8 * 5, UINT64_MAX, 8);
    put_be(img + 0x3a9 + 4, UINT64_MAX, 8);
    fix_crc(img, n);
    ASSERT_REFUSED(img, n, SIGIL_E_TOO_LARGE, "section 5 (ramdisk) is 18446744073709551615 bytes");
    /* Under the cap but past the end (no overflow in the bound). */
    put_be(img + 284 + 8 * 5, SIGIL_EIF_FILE_MAX, 8);
    put_be(img + 0x3a9 + 4, SIGIL_EIF_FILE_MAX, 8);
    fix_crc(img, n);
    ASSERT_REFUSED(img, n, SIGIL_E_BAD_FIELD, "section 5 (ramdisk) runs");
    /* Trailing bytes after the last section. */
    memcpy(img, orig, n);
    img[n] = 0;
    fix_crc(img, n + 1);
    ASSERT_REFUSED(img, n + 1, SIGIL_E_BAD_FIELD, "1 bytes after the last section");
}

typedef struct {
    sec s[8];
    size_t n;
    sigil_err code;
    const char *needle;
} layout_case;

/* Composition and order rules on images built from scratch. */
static void test_layouts(void **state)
{
    static uint8_t img[IMG_CAP];
    (void)state;
    static const layout_case CASES[] = {
        {{{KERNEL, "k"}, {CMDLINE, "c"}, {RAMDISK, "r0"}}, 3, SIGIL_E_BAD_FIELD, "1 ramdisk(s)"},
        {{{KERNEL, "k"}, {CMDLINE, "c"}}, 2, SIGIL_E_BAD_FIELD, "0 ramdisk(s)"},
        {{{CMDLINE, "c"}, {RAMDISK, "r0"}, {RAMDISK, "r1"}},
         3,
         SIGIL_E_BAD_FIELD,
         "no kernel section"},
        {{{KERNEL, "k"}, {RAMDISK, "r0"}, {RAMDISK, "r1"}},
         3,
         SIGIL_E_BAD_FIELD,
         "no cmdline section"},
        {{{CMDLINE, "c"}, {KERNEL, "k"}, {RAMDISK, "r0"}, {RAMDISK, "r1"}},
         4,
         SIGIL_E_BAD_FIELD,
         "section 1 (kernel) is out of order"},
        {{{KERNEL, "k"}, {CMDLINE, "c"}, {RAMDISK, "r0"}, {METADATA, "{}"}, {RAMDISK, "r1"}},
         5,
         SIGIL_E_BAD_FIELD,
         "section 3 (metadata) is out of order"},
        {{{KERNEL, "k"}, {CMDLINE, "c"}, {RAMDISK, "r0"}, {SIGNATURE, "s"}, {RAMDISK, "r1"}},
         5,
         SIGIL_E_BAD_FIELD,
         "section 4 (ramdisk) is out of order"},
        {{{KERNEL, "k"},
          {CMDLINE, "c"},
          {RAMDISK, "r0"},
          {RAMDISK, "r1"},
          {SIGNATURE, "s"},
          {SIGNATURE, "s"}},
         6,
         SIGIL_E_BAD_FIELD,
         "more than 1 signature section"},
        {{{KERNEL, "k"},
          {CMDLINE, "c"},
          {METADATA, "{}"},
          {METADATA, "{}"},
          {RAMDISK, "r0"},
          {RAMDISK, "r1"}},
         6,
         SIGIL_E_BAD_FIELD,
         "more than 1 metadata section"},
        {{{KERNEL, "k"}, {KERNEL, "k"}, {CMDLINE, "c"}, {RAMDISK, "r0"}, {RAMDISK, "r1"}},
         5,
         SIGIL_E_BAD_FIELD,
         "more than 1 kernel section"},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(CASES); i++) {
        size_t len = build(img, CASES[i].s, CASES[i].n);
        sigil_eif_measurement m;
        sigil_clear_error();
        if (sigil_eif_measure(&m, img, len) == 0)
            fail_msg("layout %zu accepted", i);
        assert_int_equal(sigil_errno(), CASES[i].code);
        if (strstr(sigil_errmsg(), CASES[i].needle) == NULL)
            fail_msg("layout %zu: \"%s\" lacks \"%s\"", i, sigil_errmsg(), CASES[i].needle);
    }
    /* The smallest accepted layout. */
    static const sec MIN[] = {{KERNEL, "k"}, {CMDLINE, ""}, {RAMDISK, ""}, {RAMDISK, ""}};
    sigil_eif_measurement m;
    measure_ok(&m, img, build(img, MIN, 4));
    assert_int_equal(m.ramdisks, 2);
}

/* 32 sections is the limit of the table; 33 cannot be described. */
static void test_too_many_sections(void **state)
{
    static uint8_t img[IMG_CAP];
    sec s[33];
    sigil_eif_measurement m;
    (void)state;
    s[0] = (sec){KERNEL, "k"};
    s[1] = (sec){CMDLINE, "c"};
    for (size_t i = 2; i < 33; i++)
        s[i] = (sec){RAMDISK, "r"};
    size_t len = build(img, s, 32);
    measure_ok(&m, img, len);
    assert_int_equal(m.ramdisks, 30);
    len = build(img, s, 33); /* num_sections 33, the 33rd not in the table */
    ASSERT_REFUSED(img, len, SIGIL_E_BAD_FIELD, "num_sections 33 is outside 1..32");
    /* num_sections 32 but a 33rd section appended: trailing bytes. */
    put_be(img + 26, 32, 2);
    fix_crc(img, len);
    ASSERT_REFUSED(img, len, SIGIL_E_BAD_FIELD, "bytes after the last section");
}

static void test_cmdline_rules(void **state)
{
    static uint8_t img[IMG_CAP];
    (void)state;
    sec s[4] = {{KERNEL, "k"}, {CMDLINE, "console=ttyS0?"}, {RAMDISK, "a"}, {RAMDISK, "b"}};
    size_t len = build(img, s, 4);
    /* A NUL inside the command line (CString cannot hold one). */
    img[548 + 12 + 1 + 12 + 13] = 0;
    fix_crc(img, len);
    ASSERT_REFUSED(img, len, SIGIL_E_BAD_FIELD, "section 1 (cmdline) contains a NUL byte");
    /* Over the cap. */
    static char big[SIGIL_EIF_CMDLINE_MAX + 2];
    memset(big, 'x', SIGIL_EIF_CMDLINE_MAX + 1);
    s[1].data = big;
    len = build(img, s, 4);
    ASSERT_REFUSED(img, len, SIGIL_E_TOO_LARGE, "over its 4096-byte limit");
    big[SIGIL_EIF_CMDLINE_MAX] = '\0';
    sigil_eif_measurement m;
    measure_ok(&m, img, build(img, s, 4));
}

static void test_file_errors(void **state)
{
    sigil_eif_measurement m;
    (void)state;
    sigil_clear_error();
    assert_int_equal(sigil_eif_measure_file(&m, "/nonexistent/sigil.eif"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_IO);
    assert_int_equal(sigil_eif_measure_file(&m, "/"), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_IO);
    assert_non_null(strstr(sigil_errmsg(), "not a regular file"));
    /* An empty file is a short header, not an I/O error. */
    char path[] = "/tmp/sigil-test-eif-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(sigil_eif_measure_file(&m, path), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_BAD_FIELD);
    unlink(path);
    /* Failure leaves no partial result. */
    uint8_t zero[48] = {0};
    assert_memory_equal(m.pcr0, zero, 48);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_from_memory_and_file),
        cmocka_unit_test(test_independent_writer_and_formulas),
        cmocka_unit_test(test_what_each_pcr_covers),
        cmocka_unit_test(test_every_truncation_refused),
        cmocka_unit_test(test_every_byte_flip_refused),
        cmocka_unit_test(test_bad_crc),
        cmocka_unit_test(test_header_fields),
        cmocka_unit_test(test_section_headers),
        cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_too_many_sections),
        cmocka_unit_test(test_cmdline_rules),
        cmocka_unit_test(test_file_errors),
    };
    assert_int_equal(sigil_init(), 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
