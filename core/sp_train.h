/*
 * sp_train.h: the training loop: minibatches (or truncated-BPTT windows)
 * through forward, backward and the optimizer, epoch by epoch, with the
 * dev split picking the best epoch, early stopping, the checkpoint of
 * every epoch, and the teaching instruments.  What it records goes to the
 * job's observer; what it prints to the job's output.
 *
 * Host-only (not installed).
 */
#ifndef SP_TRAIN_H
#define SP_TRAIN_H

#include "sp_checkpoint.h"

typedef struct sp_job sp_job;

/* Trains j from st (a fresh state, or one resumed from a checkpoint); the
 * kept model (the best dev epoch's, else the last) ends up in
 * j->files.model and in the arenas.  SP_EINTR when stopped by the user. */
int sp_train(sp_job *j, sp_train_state *st);

#endif /* SP_TRAIN_H */
