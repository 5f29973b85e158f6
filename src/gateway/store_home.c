/*
 * The gateway's state directory (--home, $SIGIL_HOME or ./var). Untrusted
 * host code; shared by sigil-gateway and `sigil admin`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "gateway/store.h"

int sigil_store_home(char *db_path, size_t cap, const char *dir)
{
    struct stat st;
    if (dir == NULL || dir[0] == '\0')
        dir = getenv("SIGIL_HOME");
    if (dir == NULL || dir[0] == '\0')
        dir = "./var";
    if (mkdir(dir, 0700) != 0)
        ENSURE(errno == EEXIST, SIGIL_E_IO, "home: cannot create the state directory");
    ENSURE(stat(dir, &st) == 0 && S_ISDIR(st.st_mode), SIGIL_E_IO,
           "home: the state path is not a directory");
    int n = snprintf(db_path, cap, "%s/sigil.db", dir);
    ENSURE(n > 0 && (size_t)n < cap, SIGIL_E_USAGE, "home: path too long");
    return 0;
}
