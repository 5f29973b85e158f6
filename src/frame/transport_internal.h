/* Back-ends of the transport table (one file each). */
#ifndef SIGIL_FRAME_TRANSPORT_INTERNAL_H
#define SIGIL_FRAME_TRANSPORT_INTERNAL_H

#include "sigil/frame.h"

#define SIGIL_LISTEN_BACKLOG 64

int sigil_unix_listen(const sigil_addr *a, int *fd);
int sigil_unix_connect(const sigil_addr *a, int *fd);
int sigil_vsock_listen(const sigil_addr *a, int *fd);
int sigil_vsock_connect(const sigil_addr *a, int *fd);

#endif
