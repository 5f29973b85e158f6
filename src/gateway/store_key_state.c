/*
 * Key states as the store writes them (docs/API.md "Key lifecycle").
 * Untrusted host code; one table for both back-ends and the handlers.
 */
#include <string.h>

#include "gateway/store.h"

static const char *const NAMES[SIGIL_KEY_STATE_COUNT_] = {
    [SIGIL_KEY_ACTIVE] = "active",
    [SIGIL_KEY_DISABLED] = "disabled",
    [SIGIL_KEY_REVOKED] = "revoked",
};

const char *sigil_key_state_name(sigil_key_state s)
{
    return (unsigned)s < SIGIL_KEY_STATE_COUNT_ ? NAMES[s] : "unknown";
}

int sigil_key_state_parse(sigil_key_state *out, const char *text)
{
    for (unsigned i = 0; i < SIGIL_KEY_STATE_COUNT_; i++) {
        if (strcmp(text, NAMES[i]) == 0) {
            *out = (sigil_key_state)i;
            return 0;
        }
    }
    BAIL(SIGIL_E_INTERNAL, "store: key state is not one the store writes");
}
