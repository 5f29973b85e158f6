/* AF_VSOCK stream sockets: the Nitro transport (enclave CID, port 5000). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "frame/transport_internal.h"

static void vsock_sockaddr(struct sockaddr_vm *sa, const sigil_addr *a)
{
    memset(sa, 0, sizeof(*sa));
    sa->svm_family = AF_VSOCK;
    sa->svm_cid = a->cid;
    sa->svm_port = a->port;
}

int sigil_vsock_listen(const sigil_addr *a, int *fd)
{
    struct sockaddr_vm sa;
    vsock_sockaddr(&sa, a);
    int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ENSURE(s >= 0, SIGIL_E_IO, "transport: vsock socket: %s", strerror(errno));
    if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(s, SIGIL_LISTEN_BACKLOG) != 0) {
        int e = errno;
        close(s);
        BAIL(SIGIL_E_IO, "transport: listen on vsock %u:%u: %s", a->cid, a->port, strerror(e));
    }
    *fd = s;
    return 0;
}

int sigil_vsock_connect(const sigil_addr *a, int *fd)
{
    struct sockaddr_vm sa;
    vsock_sockaddr(&sa, a);
    int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ENSURE(s >= 0, SIGIL_E_IO, "transport: vsock socket: %s", strerror(errno));
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        close(s);
        BAIL(SIGIL_E_UNAVAILABLE, "transport: connect to vsock %u:%u: %s", a->cid, a->port,
             strerror(e));
    }
    *fd = s;
    return 0;
}
