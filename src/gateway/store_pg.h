/*
 * The PostgreSQL back-end of the gateway store (store_pg*.c) and the
 * choice of back-end by URL (store_open.c). Several gateways may share one
 * database: the audit chain, idempotency reservations and key updates stay
 * consistent across them (docs/OPERATIONS.md "PostgreSQL").
 */
#ifndef SIGIL_GATEWAY_STORE_PG_H
#define SIGIL_GATEWAY_STORE_PG_H

#include "gateway/store.h"

/* Connects to url (a libpq URL, postgresql://...) and applies every
 * pending migration. full_sync false sets synchronous_commit=off (a
 * committed record survives a crash of the gateway, not of the database
 * server). A small connection pool: safe to use from many threads.
 * Unreachable server: SIGIL_E_UNAVAILABLE. */
SIGIL_WARN_UNUSED_RESULT int sigil_store_open_pg(sigil_store **out, const char *url,
                                                 bool full_sync);
/* The schema version this build migrates to (the same as SQLite's). */
int sigil_store_pg_schema_version(void);

/* Opens the store named by url (NULL or "": $SIGIL_STORE; that unset or
 * empty too: the SQLite file of the state directory home, as
 * sigil_store_home finds it): "postgres://" or "postgresql://" is
 * PostgreSQL; "sqlite:PATH" is the SQLite file PATH. full_sync as in
 * sigil_store_sqlite_set_sync. */
SIGIL_WARN_UNUSED_RESULT int sigil_store_open_url(sigil_store **out, const char *url,
                                                  const char *home, bool full_sync);

#endif
