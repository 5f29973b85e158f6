/*
 * Dev measurement: PCR0 as sigil-launch reports it for an enclave
 * executable, SHA384(0^48 || SHA384(file)), the same extend-of-a-digest rule
 * nitro-cli uses for EIF sections. libsigil-core. The file is read in one
 * pass through one descriptor, so what is hashed is one consistent stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sigil/attest.h"

int sigil_pcr_extend(uint8_t pcr[48], const void *data, size_t len)
{
    uint8_t out[48];
    unsigned int n = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha384(), NULL) == 1 &&
             EVP_DigestUpdate(md, pcr, 48) == 1 && EVP_DigestUpdate(md, data, len) == 1 &&
             EVP_DigestFinal_ex(md, out, &n) == 1 && n == 48;
    EVP_MD_CTX_free(md);
    ENSURE(ok, SIGIL_E_CRYPTO, "pcr extend: SHA-384 failed");
    memcpy(pcr, out, 48);
    return 0;
}

static int hash_fd(uint8_t digest[48], int fd, const char *path)
{
    uint8_t buf[16384];
    unsigned int n = 0;
    int ok;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    ENSURE(md != NULL && EVP_DigestInit_ex(md, EVP_sha384(), NULL) == 1, SIGIL_E_CRYPTO,
           "measure: SHA-384 unavailable");
    for (;;) {
        ssize_t r = read(fd, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int err = errno;
            EVP_MD_CTX_free(md);
            BAIL(SIGIL_E_IO, "measure: cannot read %s: %s", path, strerror(err));
        }
        if (r == 0)
            break;
        if (EVP_DigestUpdate(md, buf, (size_t)r) != 1) {
            EVP_MD_CTX_free(md);
            BAIL(SIGIL_E_CRYPTO, "measure: SHA-384 failed");
        }
    }
    ok = EVP_DigestFinal_ex(md, digest, &n) == 1 && n == 48;
    EVP_MD_CTX_free(md);
    ENSURE(ok, SIGIL_E_CRYPTO, "measure: SHA-384 failed");
    return 0;
}

int sigil_attest_measure_file(uint8_t pcr0[48], const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ENSURE(fd >= 0, SIGIL_E_IO, "measure: cannot open %s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        BAIL(SIGIL_E_IO, "measure: %s is not a regular file", path);
    }
    int rc = sigil_attest_measure_fd(pcr0, fd, path);
    close(fd);
    return rc;
}

int sigil_attest_measure_fd(uint8_t pcr0[48], int fd, const char *what)
{
    uint8_t digest[48];
    GUARD(hash_fd(digest, fd, what));
    memset(pcr0, 0, 48);
    return sigil_pcr_extend(pcr0, digest, sizeof(digest));
}
