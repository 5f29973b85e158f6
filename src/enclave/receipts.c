/*
 * The receipt chain of this boot (trusted; docs/RECEIPTS.md): every
 * decision gets the next sequence number and the hash of the previous
 * receipt under one short lock, then is signed with the boot's Ed25519
 * receipt key outside it. A receipt that cannot be built takes no number,
 * so the chain the host stores has no holes of the enclave's making.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "enclave/enclave.h"
#include "sigil/crypto.h"

static _Thread_local uint8_t tl_canon[SIGIL_RECEIPT_MAX_BYTES];
static _Thread_local uint8_t tl_msg[SIGIL_RECEIPT_SIG_PREFIX_LEN + SIGIL_RECEIPT_MAX_BYTES];

void enclave_receipt_deny(sigil_receipt *r, sigil_err code, const char *message)
{
    char reason[SIGIL_RECEIPT_REASON_MAX + 1];
    int n = snprintf(reason, sizeof(reason), "%s: %s", sigil_err_code(code), message);
    size_t len = n < 0 ? 0 : (size_t)n >= sizeof(reason) ? sizeof(reason) - 1 : (size_t)n;
    /* A cut may split a UTF-8 sequence, and messages may quote input. */
    if (!sigil_utf8_valid((const uint8_t *)reason, len))
        for (size_t i = 0; i < len; i++)
            if ((uint8_t)reason[i] >= 0x80)
                reason[i] = '?';
    for (size_t i = 0; i < len; i++)
        if ((uint8_t)reason[i] < 0x20)
            reason[i] = ' ';
    memcpy(r->reason, reason, len);
    r->reason[len] = '\0';
    r->allow = false;
}

uint64_t enclave_receipt_seq(enclave_state *st)
{
    pthread_mutex_lock(&st->chain_lock);
    uint64_t seq = st->receipt_seq;
    pthread_mutex_unlock(&st->chain_lock);
    return seq;
}

/* Numbers and chains r; canon receives its canonical bytes. */
static int chain_append(enclave_state *st, sigil_receipt *r, sigil_buf *canon)
{
    pthread_mutex_lock(&st->chain_lock);
    r->seq = st->receipt_seq + 1;
    memcpy(r->prev, st->receipt_prev, sizeof(r->prev));
    int rc = sigil_receipt_canonical(canon, r);
    if (rc == 0) {
        st->receipt_seq = r->seq;
        sigil_sha256(st->receipt_prev, canon->data, canon->len);
    }
    pthread_mutex_unlock(&st->chain_lock);
    return rc;
}

int enclave_receipt(enclave_state *st, sigil_buf *wire, sigil_receipt *r)
{
    sigil_buf canon, msg;
    uint8_t sig[crypto_sign_BYTES];
    memcpy(r->boot_id, st->boot_id, sizeof(r->boot_id));
    memcpy(r->measurement, st->measurement, sizeof(r->measurement));
    (void)snprintf(r->mode, sizeof(r->mode), "%s", st->cfg->mode);
    r->time_ms = enclave_now_ms();
    sigil_buf_init(&canon, tl_canon, sizeof(tl_canon));
    GUARD(chain_append(st, r, &canon));
    sigil_buf_init(&msg, tl_msg, sizeof(tl_msg));
    GUARD(sigil_receipt_message(&msg, canon.data, canon.len));
    ENSURE(crypto_sign_detached(sig, NULL, msg.data, msg.len, st->receipt_sk.p) == 0,
           SIGIL_E_CRYPTO, "receipt: signing failed");
    wire->len = 0;
    return sigil_receipt_wire(wire, canon.data, canon.len, sig);
}
