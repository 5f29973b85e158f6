/*
 * Hyperliquid L1 actions (trusted): the action is hashed as msgpack with the
 * nonce, vault and expiry appended (the connectionId), and that hash is
 * signed as a "phantom agent" in the fixed Exchange EIP-712 domain.
 */
#include <pthread.h>
#include <string.h>

#include "venues/hyperliquid_internal.h"

static void put_be64(uint8_t out[static 8], uint64_t v)
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(v >> (56 - 8 * i));
}

int sigil_hl_l1_connection_id(uint8_t out[static 32], sigil_buf *scratch, const sigil_json *d,
                              uint32_t action, const sigil_hl_l1_params *p)
{
    uint8_t tail[8 + 1 + 20 + 1 + 8];
    size_t n = 0;
    sigil_buf bytes;
    sigil_buf_init(&bytes, scratch->data + scratch->len, scratch->cap - scratch->len);
    GUARD(sigil_msgpack_from_json(&bytes, d, action, "request.action"));

    put_be64(tail, p->nonce);
    n = 8;
    tail[n++] = p->has_vault ? 0x01 : 0x00;
    if (p->has_vault) {
        memcpy(tail + n, p->vault, 20);
        n += 20;
    }
    if (p->has_expires_after) {
        tail[n++] = 0x00;
        put_be64(tail + n, p->expires_after);
        n += 8;
    }
    GUARD(sigil_buf_put(&bytes, tail, n));
    sigil_keccak256(out, bytes.data, bytes.len);
    return 0;
}

/* Everything but the connectionId is constant: hashed once per process. */
static uint8_t g_domain[32], g_agent_type[32], g_source[2][32];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void init_constants(void)
{
    static const uint8_t ZERO_ADDRESS[20] = {0};
    static const char AGENT_TYPE[] = "Agent(string source,bytes32 connectionId)";
    sigil_eip712_domain_hash(g_domain, "Exchange", "1", 1337, ZERO_ADDRESS);
    sigil_keccak256(g_agent_type, AGENT_TYPE, sizeof(AGENT_TYPE) - 1);
    sigil_keccak256(g_source[0], "a", 1);
    sigil_keccak256(g_source[1], "b", 1);
}

void sigil_hl_l1_domain_separator(uint8_t out[static 32])
{
    pthread_once(&g_once, init_constants);
    memcpy(out, g_domain, 32);
}

void sigil_hl_l1_digest(uint8_t out[static 32], const uint8_t connection_id[static 32],
                        sigil_network net)
{
    uint8_t enc[3 * 32], struct_hash[32];
    pthread_once(&g_once, init_constants);
    memcpy(enc, g_agent_type, 32);
    memcpy(enc + 32, g_source[net == SIGIL_NET_MAINNET ? 0 : 1], 32);
    memcpy(enc + 64, connection_id, 32);
    sigil_keccak256(struct_hash, enc, sizeof(enc));
    sigil_eip712_digest(out, g_domain, struct_hash);
}
