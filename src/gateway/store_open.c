/*
 * The store a URL names (store_pg.h): a table of URL prefixes; without a
 * URL and no state directory named, $SIGIL_STORE; else the SQLite file of
 * the state directory.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/store_pg.h"

static int open_sqlite(sigil_store **out, const char *path, bool full_sync)
{
    GUARD(sigil_store_open_sqlite(out, path));
    if (sigil_store_sqlite_set_sync(*out, full_sync) != 0) {
        (*out)->ops->close(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static int open_sqlite_url(sigil_store **out, const char *url, bool full_sync)
{
    const char *path = url + strlen("sqlite:");
    ENSURE(path[0] != '\0', SIGIL_E_USAGE, "--store: sqlite:PATH needs a path");
    return open_sqlite(out, path, full_sync);
}

static const struct {
    const char *prefix;
    int (*open)(sigil_store **out, const char *url, bool full_sync);
} SCHEMES[] = {
    {"postgresql://", sigil_store_open_pg},
    {"postgres://", sigil_store_open_pg},
    {"sqlite:", open_sqlite_url},
};

int sigil_store_open_url(sigil_store **out, const char *url, const char *home, bool full_sync)
{
    char db[4096];
    *out = NULL;
    if ((url == NULL || url[0] == '\0') && home == NULL)
        url = getenv("SIGIL_STORE"); /* an explicit --home wins over the environment */
    if (url == NULL || url[0] == '\0') {
        GUARD(sigil_store_home(db, sizeof(db), home));
        return open_sqlite(out, db, full_sync);
    }
    for (size_t i = 0; i < SIGIL_ARRAY_LEN(SCHEMES); i++)
        if (strncmp(url, SCHEMES[i].prefix, strlen(SCHEMES[i].prefix)) == 0)
            return SCHEMES[i].open(out, url, full_sync);
    BAIL(SIGIL_E_USAGE, "--store: expected postgresql://... or sqlite:PATH");
}
