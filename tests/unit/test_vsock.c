/*
 * The vsock transport (src/frame/transport_vsock.c, addressing in
 * src/frame/transport.c): vsock:CID:PORT parsing against the kernel's
 * constants, error paths, and a live listen/connect/frame round trip over
 * the loopback CID (VMADDR_CID_LOCAL). The live test needs a kernel with a
 * vsock loopback transport (vsock_loopback); where there is none it is
 * reported SKIPPED, never passed. The general address table (unix and
 * vsock, bad inputs) is in tests/unit/test_frame.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "sigil/frame.h"

#ifndef VMADDR_CID_LOCAL
#define VMADDR_CID_LOCAL 1u /* linux >= 5.6 */
#endif

#define ENCLAVE_PORT 5000u /* DESIGN.md §2: the enclave's frame port */
#define PROXY_CID 3u       /* the parent instance, where vsock-proxy runs */

/* ---- addressing ---- */

typedef struct {
    const char *text;
    uint32_t cid, port;
} good_addr;

static void test_vsock_addr_table(void **state)
{
    (void)state;
    static const good_addr GOOD[] = {
        {"vsock:4294967295:5000", VMADDR_CID_ANY, ENCLAVE_PORT}, /* enclave listens */
        {"vsock:16:5000", 16, ENCLAVE_PORT},                     /* gateway -> enclave CID */
        {"vsock:3:8000", PROXY_CID, 8000},                       /* enclave -> vsock-proxy */
        {"vsock:2:5000", VMADDR_CID_HOST, ENCLAVE_PORT},
        {"vsock:1:5000", VMADDR_CID_LOCAL, ENCLAVE_PORT},
        {"vsock:0:0", 0, 0},
        {"vsock:3:65535", PROXY_CID, 65535},
        {"vsock:3:65536", PROXY_CID, 65536}, /* vsock ports are 32-bit, unlike TCP */
        {"vsock:3:4294967295", PROXY_CID, VMADDR_PORT_ANY},
        {"vsock:4294967294:1", 4294967294u, 1},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(GOOD); i++) {
        sigil_addr a;
        memset(&a, 0x5a, sizeof(a));
        if (sigil_addr_parse(&a, GOOD[i].text) != 0)
            fail_msg("%s: %s", GOOD[i].text, sigil_errmsg());
        assert_int_equal(a.kind, SIGIL_TRANSPORT_VSOCK);
        assert_int_equal(a.cid, GOOD[i].cid);
        assert_int_equal(a.port, GOOD[i].port);
        assert_int_equal(a.path[0], '\0'); /* no unix path left over */
    }
    /* The wire constants Sigil relies on are the kernel's. */
    assert_int_equal(VMADDR_CID_ANY, 4294967295u);
    assert_int_equal(VMADDR_PORT_ANY, 4294967295u);
    assert_int_equal(VMADDR_CID_HOST, 2);
}

typedef struct {
    const char *text;
    sigil_err code;
} bad_addr;

static void test_vsock_addr_refused(void **state)
{
    (void)state;
    static const bad_addr BAD[] = {
        {"vsock:4294967296:5000", SIGIL_E_OUT_OF_RANGE},
        {"vsock:18446744073709551616:5000", SIGIL_E_OUT_OF_RANGE},
        {"vsock:3:4294967296", SIGIL_E_OUT_OF_RANGE},
        {"vsock:3:18446744073709551615", SIGIL_E_OUT_OF_RANGE},
        {"VSOCK:3:5000", SIGIL_E_BAD_FIELD},
        {"vsock:3.0:5000", SIGIL_E_BAD_FIELD},
        {"vsock:3:5000.0", SIGIL_E_BAD_FIELD},
        {"vsock:3:5000 ", SIGIL_E_BAD_FIELD},
        {"vsock:3 :5000", SIGIL_E_BAD_FIELD},
        {"vsock:cid:5000", SIGIL_E_BAD_FIELD},
        {"vsock:3:port", SIGIL_E_BAD_FIELD},
        {"vsock:-0:5000", SIGIL_E_BAD_FIELD},
        {"vsock:3:", SIGIL_E_BAD_FIELD},
        {"vsock::", SIGIL_E_BAD_FIELD},
        {"vsock:3::5000", SIGIL_E_BAD_FIELD},
        {"vsock:3:5000:0", SIGIL_E_BAD_FIELD},
        {"vsock:3", SIGIL_E_BAD_FIELD},
        {"vsock:/tmp/x", SIGIL_E_BAD_FIELD},
    };
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(BAD); i++) {
        sigil_addr a;
        sigil_clear_error();
        if (sigil_addr_parse(&a, BAD[i].text) == 0)
            fail_msg("accepted '%s' (cid %u port %u)", BAD[i].text, a.cid, a.port);
        if (sigil_errno() != BAD[i].code)
            fail_msg("'%s': %s (%s), wanted %s", BAD[i].text, sigil_err_code(sigil_errno()),
                     sigil_errmsg(), sigil_err_code(BAD[i].code));
        assert_non_null(strstr(sigil_errmsg(), "address:"));
    }
}

/* ---- the live loopback ---- */

/* Whether this kernel can listen on the vsock loopback CID at all. */
static bool vsock_loopback_available(char *why, size_t cap)
{
    int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        snprintf(why, cap, "socket(AF_VSOCK): %s", strerror(errno));
        return false;
    }
    struct sockaddr_vm sa = {
        .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_LOCAL, .svm_port = VMADDR_PORT_ANY};
    bool ok = bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(s, 1) == 0;
    if (!ok)
        snprintf(why, cap, "bind/listen on VMADDR_CID_LOCAL: %s (no vsock_loopback transport)",
                 strerror(errno));
    close(s);
    return ok;
}

/* Connecting where nothing can answer fails cleanly, whatever the kernel:
 * unavailable when AF_VSOCK exists, an I/O error when it does not. */
static void test_vsock_connect_nobody(void **state)
{
    (void)state;
    sigil_addr a;
    int fd = -1;
    assert_int_equal(sigil_addr_parse(&a, "vsock:1:4294967294"), 0);
    sigil_clear_error();
    assert_int_equal(sigil_transport_connect(&a, &fd), -1);
    assert_int_equal(fd, -1);
    int probe = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0) {
        close(probe);
        assert_int_equal(sigil_errno(), SIGIL_E_UNAVAILABLE);
        assert_non_null(strstr(sigil_errmsg(), "connect to vsock 1:4294967294"));
    } else {
        assert_int_equal(sigil_errno(), SIGIL_E_IO);
        assert_non_null(strstr(sigil_errmsg(), "vsock socket"));
    }
}

static bool is_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    return fl >= 0 && (fl & FD_CLOEXEC) != 0;
}

#define BIG_N 200000u /* larger than one vsock buffer: forces partial writes */

typedef struct {
    int fd;
    int rc;
} writer_arg;

static void *write_big(void *p)
{
    writer_arg *w = p;
    static uint8_t mem[BIG_N + 64];
    static uint8_t blob[BIG_N];
    sigil_buf b;
    memset(blob, 0xa5, sizeof(blob));
    sigil_buf_init(&b, mem, sizeof(mem));
    w->rc = -1;
    if (sigil_frame_begin_request(&b, 1, 7, "sign", 1) != 0 ||
        sigil_cbor_put_cstr(&b, "blob") != 0 || sigil_cbor_put_bytes(&b, blob, sizeof(blob)) != 0 ||
        sigil_frame_finish(&b) != 0)
        return NULL;
    w->rc = sigil_frame_write_all(w->fd, b.data, b.len);
    return NULL;
}

static void test_vsock_loopback_roundtrip(void **state)
{
    (void)state;
    char why[256];
    if (!vsock_loopback_available(why, sizeof(why))) {
        print_message("vsock live test SKIPPED: %s\n", why);
        skip();
        return;
    }
    /* Listen on an ephemeral port of the loopback CID, learn the port. */
    sigil_addr la, ca;
    int lfd, cfd, sfd;
    assert_int_equal(sigil_addr_parse(&la, "vsock:1:4294967295"), 0);
    if (sigil_transport_listen(&la, &lfd) != 0)
        fail_msg("listen: %s", sigil_errmsg());
    assert_true(is_cloexec(lfd));
    struct sockaddr_vm sa;
    socklen_t sl = sizeof(sa);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
    assert_int_not_equal(sa.svm_port, VMADDR_PORT_ANY);
    char text[64];
    snprintf(text, sizeof(text), "vsock:1:%u", sa.svm_port);
    assert_int_equal(sigil_addr_parse(&ca, text), 0);
    if (sigil_transport_connect(&ca, &cfd) != 0)
        fail_msg("connect %s: %s", text, sigil_errmsg());
    assert_true(is_cloexec(cfd));
    sfd = accept(lfd, NULL, NULL);
    assert_true(sfd >= 0);

    /* A big request one way (written from a thread), an error frame back. */
    writer_arg w = {cfd, -1};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, write_big, &w), 0);
    static uint8_t in_mem[SIGIL_FRAME_MAX];
    sigil_buf in;
    sigil_frame f;
    sigil_buf_init(&in, in_mem, sizeof(in_mem));
    assert_int_equal(sigil_frame_read_one(sfd, &in), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(w.rc, 0);
    assert_int_equal(sigil_frame_parse(&f, in.data, in.len), 0);
    assert_int_equal(f.kind, SIGIL_FRAME_REQUEST);
    assert_int_equal(f.id, 7);
    assert_true(in.len > BIG_N);
    uint8_t mem[128];
    sigil_buf out;
    sigil_buf_init(&out, mem, sizeof(mem));
    assert_int_equal(sigil_frame_error(&out, 1, f.id, SIGIL_E_POLICY_DENIED, "no"), 0);
    assert_int_equal(sigil_frame_write_all(sfd, out.data, out.len), 0);
    sigil_buf_init(&in, in_mem, sizeof(in_mem));
    assert_int_equal(sigil_frame_read_one(cfd, &in), 0);
    assert_int_equal(sigil_frame_parse(&f, in.data, in.len), 0);
    assert_int_equal(f.kind, SIGIL_FRAME_ERROR);
    assert_int_equal(f.id, 7);
    assert_int_equal(f.err, SIGIL_E_POLICY_DENIED);

    /* The peer closing is an I/O error on the next read, not a hang. */
    close(sfd);
    sigil_buf_init(&in, in_mem, sizeof(in_mem));
    sigil_clear_error();
    assert_int_equal(sigil_frame_read_one(cfd, &in), -1);
    close(cfd);
    /* A second listener on the same port is refused. */
    int lfd2 = -1;
    la.port = sa.svm_port;
    assert_int_equal(sigil_transport_listen(&la, &lfd2), -1);
    assert_int_equal(sigil_errno(), SIGIL_E_IO);
    close(lfd);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vsock_addr_table),
        cmocka_unit_test(test_vsock_addr_refused),
        cmocka_unit_test(test_vsock_connect_nobody),
        cmocka_unit_test(test_vsock_loopback_roundtrip),
    };
    /* `test_vsock live` runs only the live test, so a ctest entry can map
     * its SKIPPED line to a skipped test (SKIP_REGULAR_EXPRESSION). */
    if (argc > 1 && strcmp(argv[1], "live") == 0)
        cmocka_set_test_filter("test_vsock_loopback_roundtrip");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
