/*
 * EIP-712 fixed pieces: the common four-member domain, the final digest and
 * the EIP-191 personal_sign digest. Public data only.
 */
#include <stdio.h>
#include <string.h>

#include "sigil/codec.h"
#include "sigil/crypto.h"

void sigil_eip712_domain_hash(uint8_t out[static 32], const char *name, const char *version,
                              uint64_t chain_id, const uint8_t verifying_contract[static 20])
{
    static const char TYPE[] = "EIP712Domain(string name,string version,uint256 chainId,"
                               "address verifyingContract)";
    uint8_t enc[5 * 32];
    memset(enc, 0, sizeof(enc));
    sigil_keccak256(enc, TYPE, sizeof(TYPE) - 1);
    sigil_keccak256(enc + 32, name, strlen(name));
    sigil_keccak256(enc + 64, version, strlen(version));
    for (int i = 0; i < 8; i++)
        enc[96 + 31 - i] = (uint8_t)(chain_id >> (8 * i));
    memcpy(enc + 128 + 12, verifying_contract, 20);
    sigil_keccak256(out, enc, sizeof(enc));
}

void sigil_eip712_digest(uint8_t out[static 32], const uint8_t domain_separator[static 32],
                         const uint8_t struct_hash[static 32])
{
    uint8_t buf[66] = {0x19, 0x01};
    memcpy(buf + 2, domain_separator, 32);
    memcpy(buf + 34, struct_hash, 32);
    sigil_keccak256(out, buf, sizeof(buf));
}

void sigil_eip191_digest(uint8_t out[static 32], const uint8_t *msg, size_t n)
{
    char prefix[64];
    int plen = snprintf(prefix, sizeof(prefix),
                        "\x19"
                        "Ethereum Signed Message:\n%zu",
                        n);
    sigil_keccak_ctx c;
    sigil_keccak256_init(&c);
    sigil_keccak256_update(&c, prefix, (size_t)plen);
    sigil_keccak256_update(&c, msg, n);
    sigil_keccak256_final(&c, out);
}
