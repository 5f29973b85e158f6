/*
 * The gateway's seccomp allowlist (harden.c). Untrusted host code.
 */
#ifndef SIGIL_GATEWAY_HARDEN_H
#define SIGIL_GATEWAY_HARDEN_H

#include <stdbool.h>

#include "sigil/common.h"

/* Installs the allowlist on every thread once the listener, the store, TLS
 * and the threads are up; dev arms the SIGIL_SECCOMP_SELFTEST hook. */
SIGIL_WARN_UNUSED_RESULT int gw_harden_seccomp(bool dev);

#endif
