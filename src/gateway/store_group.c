/*
 * Group commit of audit records (store_group.h): a leader per batch, no
 * committer thread; each waiter sleeps on its own semaphore, so a commit
 * wakes only the requests it concerns.
 */
#include <stdio.h>

#include "gateway/store_group.h"

void (*sigil_group_batch_hook)(size_t n);

void sigil_group_init(sigil_group *g, sigil_group_commit_fn commit, void *ctx)
{
    *g = (sigil_group){.commit = commit, .ctx = ctx};
    (void)pthread_mutex_init(&g->mu, NULL);
}

void sigil_group_destroy(sigil_group *g)
{
    (void)pthread_mutex_destroy(&g->mu);
}

void sigil_group_fail(sigil_group_req *r)
{
    r->rc = -1;
    r->err = sigil_errno();
    snprintf(r->msg, sizeof(r->msg), "%s", sigil_errmsg());
}

static void lead(sigil_group *g, sigil_group_req *self)
{
    (void)pthread_mutex_lock(&g->mu);
    sigil_group_req *batch = g->head;
    g->head = g->tail = NULL;
    (void)pthread_mutex_unlock(&g->mu);
    if (sigil_group_batch_hook != NULL) {
        size_t n = 0;
        for (const sigil_group_req *b = batch; b != NULL; b = b->next)
            n++;
        sigil_group_batch_hook(n);
    }
    g->commit(g->ctx, batch);
    (void)pthread_mutex_lock(&g->mu);
    sigil_group_req *next = g->head;
    if (next != NULL)
        next->leader = true;
    else
        g->committing = false;
    (void)pthread_mutex_unlock(&g->mu);
    for (sigil_group_req *b = batch; b != NULL;) {
        sigil_group_req *after = b->next; /* b's owner may return once posted */
        b->done = true;
        if (b != self)
            (void)sem_post(&b->sem);
        b = after;
    }
    if (next != NULL)
        (void)sem_post(&next->sem);
}

int sigil_group_submit(sigil_group *g, const sigil_audit_record *a, const sigil_idem_outcome *idem,
                       uint64_t *seq)
{
    sigil_group_req r = {.a = a, .idem = idem};
    ENSURE(sem_init(&r.sem, 0, 0) == 0, SIGIL_E_INTERNAL, "store: semaphore");
    /* r lives on this stack until done: the leader unlinks it (takes the
     * whole queue) before it commits, and done is set only after that. */
    (void)pthread_mutex_lock(&g->mu);
    if (g->tail != NULL)
        g->tail->next = &r;
    else
        g->head = &r; /* cppcheck-suppress autoVariables */
    g->tail = &r;     /* cppcheck-suppress autoVariables */
    if (!g->committing) {
        g->committing = true;
        r.leader = true;
    }
    (void)pthread_mutex_unlock(&g->mu);
    while (!r.done) {
        if (!r.leader) {
            while (sem_wait(&r.sem) != 0) /* EINTR */
                ;
            continue; /* committed, or promoted to leader */
        }
        lead(g, &r);
    }
    (void)sem_destroy(&r.sem);
    if (r.rc != 0)
        return sigil_fail(r.err, "%s", r.msg);
    if (seq != NULL)
        *seq = r.seq;
    return 0;
}
