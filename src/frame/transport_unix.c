/* Unix-domain stream sockets: the dev-mode transport between gateway and enclave. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "frame/transport_internal.h"

static void unix_sockaddr(struct sockaddr_un *sa, const sigil_addr *a)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, a->path, strlen(a->path) + 1);
}

int sigil_unix_listen(const sigil_addr *a, int *fd)
{
    struct sockaddr_un sa;
    struct stat st;
    unix_sockaddr(&sa, a);
    /* Replace a stale socket left by a previous run, never another file. */
    if (lstat(a->path, &st) == 0) {
        int probe;
        ENSURE(S_ISSOCK(st.st_mode), SIGIL_E_IO, "transport: %s exists and is not a socket",
               a->path);
        if (sigil_unix_connect(a, &probe) == 0) {
            close(probe);
            BAIL(SIGIL_E_IO, "transport: %s is in use by a running process", a->path);
        }
        ENSURE(unlink(a->path) == 0, SIGIL_E_IO, "transport: cannot remove stale %s: %s", a->path,
               strerror(errno));
    }
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ENSURE(s >= 0, SIGIL_E_IO, "transport: socket: %s", strerror(errno));
    if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(s, SIGIL_LISTEN_BACKLOG) != 0) {
        int e = errno;
        close(s);
        BAIL(SIGIL_E_IO, "transport: listen on %s: %s", a->path, strerror(e));
    }
    *fd = s;
    return 0;
}

int sigil_unix_connect(const sigil_addr *a, int *fd)
{
    struct sockaddr_un sa;
    unix_sockaddr(&sa, a);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ENSURE(s >= 0, SIGIL_E_IO, "transport: socket: %s", strerror(errno));
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        close(s);
        BAIL(SIGIL_E_UNAVAILABLE, "transport: connect to %s: %s", a->path, strerror(e));
    }
    *fd = s;
    return 0;
}
