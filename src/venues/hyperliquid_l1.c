/*
 * Hyperliquid L1 actions (trusted): the action is hashed as msgpack with the
 * nonce, vault and expiry appended (the connectionId), and that hash is
 * signed as a "phantom agent" in the fixed Exchange EIP-712 domain.
 */
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

void sigil_hl_l1_domain_separator(uint8_t out[static 32])
{
    static const uint8_t ZERO_ADDRESS[20] = {0};
    sigil_eip712_domain_hash(out, "Exchange", "1", 1337, ZERO_ADDRESS);
}

void sigil_hl_l1_digest(uint8_t out[static 32], const uint8_t connection_id[static 32],
                        sigil_network net)
{
    static const char AGENT_TYPE[] = "Agent(string source,bytes32 connectionId)";
    const char *source = net == SIGIL_NET_MAINNET ? "a" : "b";
    uint8_t enc[3 * 32], struct_hash[32], domain[32];
    sigil_keccak256(enc, AGENT_TYPE, sizeof(AGENT_TYPE) - 1);
    sigil_keccak256(enc + 32, source, 1);
    memcpy(enc + 64, connection_id, 32);
    sigil_keccak256(struct_hash, enc, sizeof(enc));
    sigil_hl_l1_domain_separator(domain);
    sigil_eip712_digest(out, domain, struct_hash);
}
