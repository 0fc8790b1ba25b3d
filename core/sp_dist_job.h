/*
 * sp_dist_job.h: what the training loop and evaluation of a data-parallel
 * run (sp_dist.h) do with their job: this rank's part of every training
 * batch, the exchanges of a step, the metrics of a split computed in
 * parts, and the checks that keep the ranks in step.  With a group of one
 * (j->dist NULL) nothing here communicates and every batch is whole.
 *
 * How a run stays equal to the one-process run with the same seed: every
 * rank reads the same data and draws the same random numbers (shuffles,
 * and dropout masks drawn for the whole batch, sp_shard.h), so all build
 * the same global batches; a rank computes its block of each batch's
 * fixed parts (train.parts, sp_partsum.h), whose gradients are added in
 * one fixed tree across the ranks and then scaled by the whole batch's
 * target count, so the update has the one-process run's bits; and every
 * rank applies it to the same weights.  (A stream's rows, bptt, are split
 * without fixed parts: equal up to the order of float additions.)
 *
 * Host-only (not installed).
 */
#ifndef SP_DIST_JOB_H
#define SP_DIST_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "sp_batch.h"
#include "sp_shard.h"

typedef struct sp_job sp_job;
typedef struct sp_evalrec sp_evalrec;

/* More than one rank? */
int sp_dist_job_many(const sp_job *j);
/* What a data-parallel run cannot do, refused with a message. */
int sp_dist_job_check(sp_job *j);

/* The epoch's next training batch as sp_batch_next_train cuts it, this
 * rank's part of it in b (its examples, or with k2 = bptt its rows of the
 * stream; possibly none: b->x.B = 0), the whole batch described in *sh
 * (lens: room for B lengths, which *sh points into).  1, 0 at the end of
 * the epoch, or a negative code. */
int sp_dist_job_next(sp_job *j, sp_batcher *batcher, size_t B, size_t k1, size_t k2,
		     size_t *pos, sp_shard *sh, int32_t *lens, sp_batch *b);

/* The step's exchange before the backward pass: in, this rank's summed
 * loss and target count, its result rc and whether it was asked to stop;
 * out, the whole batch's loss and count, or the failure (or stop) of any
 * rank, agreed on by all. */
int sp_dist_job_step(sp_job *j, int rc, int stop, double *loss, size_t *n_loss);
/* The gradients of the step summed across the ranks, the whole gradient
 * arena in one buffer, in the fixed tree of sp_dist_sum_float_tree.  rc: this rank's backward result (a
 * failed rank sends NaN, so that every rank learns of it). */
int sp_dist_job_grads(sp_job *j, int rc);
/* The head's metric accumulators of a split (or epoch) computed in
 * parts, summed across the ranks; rc: this rank's result so far. */
int sp_dist_job_metrics(sp_job *j, int rc);
/* The counts of an evaluation record (sp_evalrec.h; NULL: none) summed
 * across the ranks; rc: this rank's result so far. */
int sp_dist_job_evalrec(sp_job *j, sp_evalrec *rec, int rc);
/* Does this rank evaluate batch k of a split?  (Batches go round.) */
int sp_dist_job_mine(const sp_job *j, size_t k);
/* Unless every rank had a part of the step's batch (every_rank_drew),
 * some drew no dropout masks: rank 0's generator state to all. */
int sp_dist_job_share_rng(sp_job *j, int every_rank_drew);
/* After rank 0 alone (re)loaded the weights (rc its result): the same
 * weights on every rank. */
int sp_dist_job_share_weights(sp_job *j, int rc);
/* Every rank holds the same weights and random generator state (a hash
 * of both), else an error naming the epoch: the ranks drifted apart. */
int sp_dist_job_same_weights(sp_job *j, size_t epoch);

#endif /* SP_DIST_JOB_H */
