/*
 * Paradex's StarkNet typed data, revision 0 (trusted): every field a felt,
 * hashStruct = computeHashOnElements([typeHash, fields…]) with Pedersen, and
 * the message hash h("StarkNet Message", domain, account, hashStruct). The
 * type strings are fixed, so the type hashes and the two domain hashes are
 * computed once.
 */
#include <pthread.h>
#include <string.h>

#include "venues/paradex_internal.h"

typedef struct {
    const char *type; /* encodeType(primaryType): every member is a felt */
    size_t nfields;
} paradex_type;

static const paradex_type TYPES[SIGIL_PARADEX_KIND_COUNT_] = {
    [SIGIL_PARADEX_ORDER] = {"Order(timestamp:felt,market:felt,side:felt,orderType:felt,"
                             "size:felt,price:felt)",
                             6},
    [SIGIL_PARADEX_MODIFY] = {"ModifyOrder(timestamp:felt,market:felt,side:felt,orderType:felt,"
                              "size:felt,price:felt,id:felt)",
                              7},
    [SIGIL_PARADEX_AUTH] = {"Request(method:felt,path:felt,body:felt,timestamp:felt,"
                            "expiration:felt)",
                            5},
    [SIGIL_PARADEX_ONBOARDING] = {"Constant(action:felt)", 1},
};

static const char DOMAIN_TYPE[] = "StarkNetDomain(name:felt,chainId:felt,version:felt)";
static const char MESSAGE_PREFIX[] = "StarkNet Message";
static const char DOMAIN_NAME[] = "Paradex";
/* Paraclear's StarkNet chain ids (short strings), by network. */
static const char *const CHAIN_IDS[] = {
    [SIGIL_NET_MAINNET] = "PRIVATE_SN_PARACLEAR_MAINNET",
    [SIGIL_NET_TESTNET] = "PRIVATE_SN_POTC_SEPOLIA",
};

static sigil_u256 g_type_hash[SIGIL_PARADEX_KIND_COUNT_];
static sigil_u256 g_domain_hash[SIGIL_ARRAY_LEN(CHAIN_IDS)];
static sigil_u256 g_prefix;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* A constant short string (known to be valid). */
static void short_const(sigil_u256 *out, const char *s)
{
    if (sigil_paradex_short_string(out, s, strlen(s), "constant") != 0)
        sigil_u256_from_u64(out, 0);
}

static void init_once(void)
{
    sigil_u256 e[4];
    for (size_t k = 0; k < SIGIL_PARADEX_KIND_COUNT_; k++)
        sigil_stark_keccak(&g_type_hash[k], TYPES[k].type, strlen(TYPES[k].type));
    short_const(&g_prefix, MESSAGE_PREFIX);
    for (size_t n = 0; n < SIGIL_ARRAY_LEN(CHAIN_IDS); n++) {
        sigil_stark_keccak(&e[0], DOMAIN_TYPE, sizeof(DOMAIN_TYPE) - 1);
        short_const(&e[1], DOMAIN_NAME);
        short_const(&e[2], CHAIN_IDS[n]);
        sigil_u256_from_u64(&e[3], 1);
        sigil_stark_hash_elements(&g_domain_hash[n], e, 4);
    }
}

void sigil_paradex_type_hash(sigil_u256 *out, sigil_paradex_kind kind)
{
    (void)pthread_once(&g_once, init_once);
    *out = g_type_hash[kind];
}

void sigil_paradex_domain_hash(sigil_u256 *out, sigil_network net)
{
    (void)pthread_once(&g_once, init_once);
    *out = g_domain_hash[net == SIGIL_NET_TESTNET ? SIGIL_NET_TESTNET : SIGIL_NET_MAINNET];
}

void sigil_paradex_struct_hash(sigil_u256 *out, const sigil_paradex_message *m)
{
    sigil_u256 e[1 + SIGIL_PARADEX_MAX_FIELDS];
    size_t n = TYPES[m->kind].nfields;
    sigil_paradex_type_hash(&e[0], m->kind);
    memcpy(&e[1], m->fields, n * sizeof(e[0]));
    sigil_stark_hash_elements(out, e, 1 + n);
}

void sigil_paradex_message_hash(sigil_u256 *out, sigil_network net, const sigil_u256 *account,
                                const sigil_paradex_message *m)
{
    sigil_u256 e[4];
    (void)pthread_once(&g_once, init_once);
    e[0] = g_prefix;
    sigil_paradex_domain_hash(&e[1], net);
    e[2] = *account;
    sigil_paradex_struct_hash(&e[3], m);
    sigil_stark_hash_elements(out, e, 4);
}
