/*
 * Group commit of audit records, back-end neutral (store_group.c). A
 * request queues its record; if no commit is running it becomes the
 * leader, hands everything queued to the back-end's commit function (one
 * transaction, one fsync), wakes exactly the requests it committed and
 * passes the lead to the first request that queued meanwhile. No response
 * leaves before its record is committed.
 */
#ifndef SIGIL_GATEWAY_STORE_GROUP_H
#define SIGIL_GATEWAY_STORE_GROUP_H

#include <pthread.h>
#include <semaphore.h>

#include "gateway/store.h"

/* One record waiting for the group commit. The commit function sets seq
 * and, on failure, calls sigil_group_fail. */
typedef struct sigil_group_req {
    const sigil_audit_record *a;
    const sigil_idem_outcome *idem;
    uint64_t seq;
    int rc;
    sigil_err err;
    char msg[256];
    bool done;
    bool leader; /* set (under the queue mutex) when this request is to commit */
    sem_t sem;
    struct sigil_group_req *next;
} sigil_group_req;

/* Writes a batch (a list linked by next, in queue order) and fills each
 * request's outcome. Called by the leader without the queue mutex held. */
typedef void (*sigil_group_commit_fn)(void *ctx, sigil_group_req *batch);

typedef struct {
    pthread_mutex_t mu;
    sigil_group_req *head, *tail;
    bool committing; /* a leader is writing a batch */
    sigil_group_commit_fn commit;
    void *ctx;
} sigil_group;

/* Called by each leader with the number of records it commits in one batch
 * (NULL: nobody listens); set once at start-up (the gateway's metrics). */
extern void (*sigil_group_batch_hook)(size_t n);

void sigil_group_init(sigil_group *g, sigil_group_commit_fn commit, void *ctx);
void sigil_group_destroy(sigil_group *g);
/* Queues a (checked) record and returns once it is committed or failed;
 * the failure's error is set again on this thread. */
SIGIL_WARN_UNUSED_RESULT int sigil_group_submit(sigil_group *g, const sigil_audit_record *a,
                                                const sigil_idem_outcome *idem, uint64_t *seq);
/* Records this thread's error as r's outcome. */
void sigil_group_fail(sigil_group_req *r);

#endif
