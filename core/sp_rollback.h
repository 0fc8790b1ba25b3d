/*
 * sp_rollback.h: what training does when it diverges (train.on_diverge).
 * With `stop` the run ends there as diverged.  With `rollback` the run
 * goes back to the last good checkpoint: the state at the start of the
 * latest epoch whose first step still gave a finite loss within the bound
 * (the checkpoint of the epoch before it, or the initial weights).  A
 * state that is saved but gives a diverged loss at once is not good: the
 * last update before it blew up.  Weights, optimizer state, RNG and the
 * best-epoch bookkeeping are restored, the learning rate is multiplied by
 * train.rollback_lr_factor, and training goes on from that epoch, at most
 * train.max_rollbacks times in a run.  Each rollback is an event in the
 * run log.
 *
 * Host-only (not installed).
 */
#ifndef SP_ROLLBACK_H
#define SP_ROLLBACK_H

#include <stddef.h>

#include "sp_checkpoint.h"
#include "sp_optim.h"

typedef struct sp_job sp_job;
typedef struct sp_rollback sp_rollback;

/* *out = NULL when train.on_diverge is stop.  `done` rollbacks happened
 * before (a resumed run; its checkpoint restores the lowered rate). */
int sp_rollback_new(sp_rollback **out, sp_job *j, sp_optim *opt, size_t done);
void sp_rollback_free(sp_rollback *rb);
/* At the start of an epoch: keeps the weights, opt's state, the RNG and
 * `at` (its next_epoch = this epoch, and the best-epoch fields) as a
 * candidate to come back to. */
int sp_rollback_mark(sp_rollback *rb, sp_job *j, const sp_optim *opt,
		     const sp_train_state *at);
/* A step from the candidate gave a finite loss within the bound: it is
 * now the last good state. */
void sp_rollback_passed(sp_rollback *rb);
/* After the divergence `rc` (its message in j->ctx): SP_OK when the
 * weights, opt and RNG are back at the last good state, with a lower
 * learning rate, and *at holds its epoch and bookkeeping; else rc (no
 * good state, or no rollback left, which the message then says). */
int sp_rollback_restore(sp_rollback *rb, sp_job *j, sp_optim *opt, int rc,
			sp_train_state *at);
/* Rollbacks so far, those of the run's earlier part included (0 for NULL). */
size_t sp_rollback_count(const sp_rollback *rb);

#endif /* SP_ROLLBACK_H */
