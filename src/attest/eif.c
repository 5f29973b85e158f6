/*
 * EIF v4 enclave images (nitro.md §4.2): strict header and section-table
 * parse, CRC-32 check, and the production PCR0/1/2 the Nitro hypervisor
 * measures. libsigil-core, untrusted input (an image file from anywhere);
 * runs on the host or a build machine, never in the enclave.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sigil/attest.h"

#define EIF_CRC_OFFSET 544u /* the CRC field: the only bytes not covered by it */
#define EIF_CHUNK 16384u

/* Where the bytes come from: memory or a file descriptor. read_at reads
 * exactly n bytes at off or fails. */
typedef struct {
    int (*read_at)(void *ctx, uint64_t off, uint8_t *out, size_t n);
    void *ctx;
    uint64_t size;
} eif_source;

enum { H_IMAGE = 1u, H_BOOTSTRAP = 2u, H_APP = 4u };

enum {
    T_KERNEL = 1,
    T_CMDLINE = 2,
    T_RAMDISK = 3,
    T_SIGNATURE = 4,
    T_METADATA = 5,
};

/* Section kinds in the builder's order (the index is the rank): how many,
 * how large, and which PCR hashes each feeds (the first ramdisk is the
 * bootstrap one and feeds PCR1 instead of PCR2). */
enum { K_KERNEL, K_CMDLINE, K_METADATA, K_RAMDISK, K_SIGNATURE, K_COUNT_ };

typedef struct {
    const char *name;
    uint64_t max_size;
    unsigned max_count;
    unsigned hashes;
    uint16_t type;
} section_kind;

#define KIND(t, n, count, size, h)                                                                 \
    {                                                                                              \
        .name = (n), .max_size = (size), .max_count = (count), .hashes = (h), .type = (t)          \
    }
static const section_kind SECTION_KINDS[K_COUNT_] = {
    [K_KERNEL] = KIND(T_KERNEL, "kernel", 1, SIGIL_EIF_KERNEL_MAX, H_IMAGE | H_BOOTSTRAP),
    [K_CMDLINE] = KIND(T_CMDLINE, "cmdline", 1, SIGIL_EIF_CMDLINE_MAX, H_IMAGE | H_BOOTSTRAP),
    [K_METADATA] = KIND(T_METADATA, "metadata", 1, SIGIL_EIF_METADATA_MAX, 0),
    [K_RAMDISK] =
        KIND(T_RAMDISK, "ramdisk", SIGIL_EIF_MAX_SECTIONS, SIGIL_EIF_FILE_MAX, H_IMAGE | H_APP),
    [K_SIGNATURE] = KIND(T_SIGNATURE, "signature", 1, SIGIL_EIF_SIGNATURE_MAX, 0),
};
#undef KIND

typedef struct {
    EVP_MD_CTX *md[3]; /* image, bootstrap, app */
    uint32_t crc_table[256];
    uint32_t crc;
    unsigned count[K_COUNT_];
    size_t last_kind;
} eif_state;

/* CRC-32/ISO-HDLC (zlib's crc32), reflected polynomial 0xEDB88320. */
static void crc_init(eif_state *st)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        st->crc_table[i] = c;
    }
    st->crc = 0xFFFFFFFFu;
}

static void crc_update(eif_state *st, const uint8_t *p, size_t n)
{
    uint32_t c = st->crc;
    for (size_t i = 0; i < n; i++)
        c = st->crc_table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
    st->crc = c;
}

static void state_free(eif_state *st)
{
    for (size_t i = 0; i < 3; i++)
        EVP_MD_CTX_free(st->md[i]);
}

static int state_init(eif_state *st)
{
    memset(st, 0, sizeof(*st));
    crc_init(st);
    for (size_t i = 0; i < 3; i++) {
        st->md[i] = EVP_MD_CTX_new();
        ENSURE(st->md[i] != NULL && EVP_DigestInit_ex(st->md[i], EVP_sha384(), NULL) == 1,
               SIGIL_E_CRYPTO, "eif: SHA-384 unavailable");
    }
    return 0;
}

static int hash_chunk(eif_state *st, unsigned hashes, const uint8_t *p, size_t n)
{
    for (unsigned i = 0; i < 3; i++)
        if ((hashes & (1u << i)) != 0)
            ENSURE(EVP_DigestUpdate(st->md[i], p, n) == 1, SIGIL_E_CRYPTO, "eif: SHA-384 failed");
    return 0;
}

/* PCR = SHA384(0^48 || SHA384(data)). */
static int finish_pcr(uint8_t pcr[48], EVP_MD_CTX *md)
{
    uint8_t digest[48];
    unsigned int n = 0;
    ENSURE(EVP_DigestFinal_ex(md, digest, &n) == 1 && n == 48, SIGIL_E_CRYPTO,
           "eif: SHA-384 failed");
    memset(pcr, 0, 48);
    return sigil_pcr_extend(pcr, digest, sizeof(digest));
}

static int read_be16(sigil_cursor *c, uint16_t *out)
{
    uint8_t b[2];
    GUARD(sigil_cursor_read(c, b, 2));
    *out = (uint16_t)((b[0] << 8) | b[1]);
    return 0;
}

typedef struct {
    uint16_t reserved;
    uint32_t unused;
    uint32_t crc;
    uint64_t offsets[SIGIL_EIF_MAX_SECTIONS];
    uint64_t sizes[SIGIL_EIF_MAX_SECTIONS];
} eif_header;

static int read_header_fields(sigil_eif_measurement *m, eif_header *h, sigil_cursor *c)
{
    uint8_t magic[4];
    GUARD(sigil_cursor_read(c, magic, 4));
    ENSURE(memcmp(magic, ".eif", 4) == 0, SIGIL_E_BAD_FIELD, "eif: bad magic (not an EIF image)");
    GUARD(read_be16(c, &m->version));
    GUARD(read_be16(c, &m->flags));
    GUARD(sigil_cursor_read_be64(c, &m->default_mem));
    GUARD(sigil_cursor_read_be64(c, &m->default_cpus));
    GUARD(read_be16(c, &h->reserved));
    GUARD(read_be16(c, &m->num_sections));
    for (size_t i = 0; i < SIGIL_EIF_MAX_SECTIONS; i++)
        GUARD(sigil_cursor_read_be64(c, &h->offsets[i]));
    for (size_t i = 0; i < SIGIL_EIF_MAX_SECTIONS; i++)
        GUARD(sigil_cursor_read_be64(c, &h->sizes[i]));
    GUARD(sigil_cursor_read_be32(c, &h->unused));
    return sigil_cursor_read_be32(c, &h->crc);
}

static int check_header(const sigil_eif_measurement *m, const eif_header *h)
{
    ENSURE(m->version == SIGIL_EIF_VERSION, SIGIL_E_BAD_FIELD,
           "eif: version %u is not supported (only %u)", m->version, SIGIL_EIF_VERSION);
    ENSURE((m->flags & ~1u) == 0, SIGIL_E_BAD_FIELD, "eif: unknown header flags 0x%04x", m->flags);
    ENSURE(h->reserved == 0 && h->unused == 0, SIGIL_E_BAD_FIELD,
           "eif: reserved header fields are not zero");
    ENSURE(m->num_sections >= 1 && m->num_sections <= SIGIL_EIF_MAX_SECTIONS, SIGIL_E_BAD_FIELD,
           "eif: num_sections %u is outside 1..%u", m->num_sections, SIGIL_EIF_MAX_SECTIONS);
    for (size_t i = m->num_sections; i < SIGIL_EIF_MAX_SECTIONS; i++)
        ENSURE(h->offsets[i] == 0 && h->sizes[i] == 0, SIGIL_E_BAD_FIELD,
               "eif: section table entry %zu is beyond num_sections but not zero", i);
    return 0;
}

static int read_header(sigil_eif_measurement *m, eif_header *h, eif_state *st,
                       const eif_source *src)
{
    uint8_t raw[SIGIL_EIF_HEADER_LEN];
    sigil_cursor c;
    ENSURE(src->size >= SIGIL_EIF_HEADER_LEN, SIGIL_E_BAD_FIELD,
           "eif: %llu bytes is shorter than the %u-byte header", (unsigned long long)src->size,
           SIGIL_EIF_HEADER_LEN);
    ENSURE(src->size <= SIGIL_EIF_FILE_MAX, SIGIL_E_TOO_LARGE, "eif: image larger than %llu bytes",
           (unsigned long long)SIGIL_EIF_FILE_MAX);
    GUARD(src->read_at(src->ctx, 0, raw, sizeof(raw)));
    sigil_cursor_init(&c, raw, sizeof(raw));
    GUARD(read_header_fields(m, h, &c));
    GUARD(check_header(m, h));
    crc_update(st, raw, EIF_CRC_OFFSET);
    return 0;
}

static const section_kind *find_kind(uint16_t type, size_t *idx)
{
    for (size_t i = 0; i < K_COUNT_; i++)
        if (SECTION_KINDS[i].type == type) {
            *idx = i;
            return &SECTION_KINDS[i];
        }
    return NULL;
}

/* Type, order, count and size of section i (header already read). */
static int check_section(eif_state *st, const section_kind **kind, unsigned i, uint16_t type,
                         uint16_t flags, uint64_t size, const eif_header *h)
{
    size_t k;
    const section_kind *sk = find_kind(type, &k);
    ENSURE(sk != NULL, SIGIL_E_BAD_FIELD, "eif: section %u has unknown type %u", i, type);
    ENSURE(flags == 0, SIGIL_E_BAD_FIELD, "eif: section %u (%s) has flags 0x%04x", i, sk->name,
           flags);
    ENSURE(size == h->sizes[i], SIGIL_E_BAD_FIELD,
           "eif: section %u (%s) size %llu disagrees with the header's %llu", i, sk->name,
           (unsigned long long)size, (unsigned long long)h->sizes[i]);
    ENSURE(size <= sk->max_size, SIGIL_E_TOO_LARGE,
           "eif: section %u (%s) is %llu bytes, over its %llu-byte limit", i, sk->name,
           (unsigned long long)size, (unsigned long long)sk->max_size);
    ENSURE(k >= st->last_kind, SIGIL_E_BAD_FIELD,
           "eif: section %u (%s) is out of order (kernel, cmdline, metadata, ramdisks, "
           "signature)",
           i, sk->name);
    ENSURE(st->count[k] < sk->max_count, SIGIL_E_BAD_FIELD, "eif: more than %u %s section(s)",
           sk->max_count, sk->name);
    st->last_kind = k;
    st->count[k]++;
    *kind = sk;
    return 0;
}

/* Streams one section's data into the CRC and its hashes. */
static int hash_section_data(eif_state *st, const eif_source *src, const section_kind *sk,
                             uint64_t off, uint64_t size, unsigned i)
{
    uint8_t buf[EIF_CHUNK];
    unsigned hashes = sk->hashes;
    if (sk->type == T_RAMDISK && st->count[K_RAMDISK] == 1)
        hashes = H_IMAGE | H_BOOTSTRAP; /* the first ramdisk is the bootstrap one */
    while (size > 0) {
        size_t n = size < EIF_CHUNK ? (size_t)size : EIF_CHUNK;
        GUARD(src->read_at(src->ctx, off, buf, n));
        ENSURE(sk->type != T_CMDLINE || memchr(buf, 0, n) == NULL, SIGIL_E_BAD_FIELD,
               "eif: section %u (cmdline) contains a NUL byte", i);
        crc_update(st, buf, n);
        GUARD(hash_chunk(st, hashes, buf, n));
        off += n;
        size -= n;
    }
    return 0;
}

static int read_section(eif_state *st, const eif_source *src, const eif_header *h, unsigned i,
                        uint64_t *off)
{
    uint8_t raw[SIGIL_EIF_SECTION_HEADER_LEN];
    sigil_cursor c;
    uint16_t type, flags;
    uint64_t size;
    const section_kind *sk;
    ENSURE(h->offsets[i] == *off, SIGIL_E_BAD_FIELD,
           "eif: section %u at offset %llu, expected %llu (sections must be contiguous)", i,
           (unsigned long long)h->offsets[i], (unsigned long long)*off);
    ENSURE(src->size - *off >= SIGIL_EIF_SECTION_HEADER_LEN, SIGIL_E_BAD_FIELD,
           "eif: section %u header is past the end of the image", i);
    GUARD(src->read_at(src->ctx, *off, raw, sizeof(raw)));
    sigil_cursor_init(&c, raw, sizeof(raw));
    GUARD(read_be16(&c, &type));
    GUARD(read_be16(&c, &flags));
    GUARD(sigil_cursor_read_be64(&c, &size));
    GUARD(check_section(st, &sk, i, type, flags, size, h));
    *off += SIGIL_EIF_SECTION_HEADER_LEN;
    ENSURE(size <= src->size - *off, SIGIL_E_BAD_FIELD,
           "eif: section %u (%s) runs %llu bytes past the end of the image", i, sk->name,
           (unsigned long long)(size - (src->size - *off)));
    crc_update(st, raw, sizeof(raw));
    GUARD(hash_section_data(st, src, sk, *off, size, i));
    *off += size;
    return 0;
}

/* Exactly one kernel and one cmdline, and the bootstrap ramdisk plus at
 * least one application ramdisk (nitro-cli always writes both). */
static int check_composition(const eif_state *st, sigil_eif_measurement *m)
{
    ENSURE(st->count[K_KERNEL] == 1, SIGIL_E_BAD_FIELD, "eif: no kernel section");
    ENSURE(st->count[K_CMDLINE] == 1, SIGIL_E_BAD_FIELD, "eif: no cmdline section");
    ENSURE(st->count[K_RAMDISK] >= 2, SIGIL_E_BAD_FIELD,
           "eif: %u ramdisk(s); a bootstrap and at least one application ramdisk are required",
           st->count[K_RAMDISK]);
    m->has_metadata = st->count[K_METADATA] == 1;
    m->ramdisks = st->count[K_RAMDISK];
    m->has_signature = st->count[K_SIGNATURE] == 1;
    return 0;
}

static int measure_source(sigil_eif_measurement *m, eif_state *st, const eif_source *src)
{
    eif_header h;
    uint64_t off = SIGIL_EIF_HEADER_LEN;
    GUARD(read_header(m, &h, st, src));
    for (unsigned i = 0; i < m->num_sections; i++)
        GUARD(read_section(st, src, &h, i, &off));
    ENSURE(off == src->size, SIGIL_E_BAD_FIELD, "eif: %llu bytes after the last section",
           (unsigned long long)(src->size - off));
    GUARD(check_composition(st, m));
    m->crc32 = st->crc ^ 0xFFFFFFFFu;
    ENSURE(m->crc32 == h.crc, SIGIL_E_BAD_FIELD,
           "eif: CRC-32 mismatch (header 0x%08x, computed 0x%08x)", h.crc, m->crc32);
    GUARD(finish_pcr(m->pcr0, st->md[0]));
    GUARD(finish_pcr(m->pcr1, st->md[1]));
    return finish_pcr(m->pcr2, st->md[2]);
}

static int measure(sigil_eif_measurement *m, const eif_source *src)
{
    eif_state st;
    sigil_eif_measurement out;
    memset(&out, 0, sizeof(out));
    int rc = state_init(&st);
    if (rc == 0)
        rc = measure_source(&out, &st, src);
    state_free(&st);
    if (rc == 0)
        *m = out;
    else
        memset(m, 0, sizeof(*m));
    return rc;
}

typedef struct {
    const uint8_t *p;
    size_t len;
} mem_ctx;

static int mem_read_at(void *ctx, uint64_t off, uint8_t *out, size_t n)
{
    const mem_ctx *mc = ctx;
    ENSURE(off <= mc->len && n <= mc->len - off, SIGIL_E_INTERNAL, "eif: read past the buffer");
    memcpy(out, mc->p + off, n);
    return 0;
}

int sigil_eif_measure(sigil_eif_measurement *m, const uint8_t *p, size_t len)
{
    mem_ctx mc = {p, len};
    eif_source src = {mem_read_at, &mc, len};
    return measure(m, &src);
}

typedef struct {
    int fd;
    const char *path;
} fd_ctx;

static int fd_read_at(void *ctx, uint64_t off, uint8_t *out, size_t n)
{
    const fd_ctx *fc = ctx;
    while (n > 0) {
        ssize_t r = pread(fc->fd, out, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        ENSURE(r >= 0, SIGIL_E_IO, "eif: cannot read %s: %s", fc->path, strerror(errno));
        ENSURE(r > 0, SIGIL_E_IO, "eif: %s shrank while being read", fc->path);
        out += r;
        off += (uint64_t)r;
        n -= (size_t)r;
    }
    return 0;
}

int sigil_eif_measure_file(sigil_eif_measurement *m, const char *path)
{
    struct stat st;
    memset(m, 0, sizeof(*m));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ENSURE(fd >= 0, SIGIL_E_IO, "eif: cannot open %s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0) {
        close(fd);
        BAIL(SIGIL_E_IO, "eif: %s is not a regular file", path);
    }
    fd_ctx fc = {fd, path};
    eif_source src = {fd_read_at, &fc, (uint64_t)st.st_size};
    int rc = measure(m, &src);
    close(fd);
    return rc;
}
