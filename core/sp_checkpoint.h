/*
 * sp_checkpoint.h: model files and checkpoints: writing the model of a
 * job (its configuration, vocabularies and weights; for a checkpoint also
 * the optimizer, RNG and best-epoch state), resuming from a checkpoint,
 * finding the model of the latest finished run, and rebuilding a job
 * from a model file.
 *
 * Host-only (not installed).
 */
#ifndef SP_CHECKPOINT_H
#define SP_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "sp_modelfile.h"
#include "sp_optim.h"

typedef struct sp_job sp_job;

/* What a checkpoint adds to a model file so that training can go on
 * exactly where it stopped. */
typedef struct sp_train_state {
	size_t next_epoch;       /* first epoch still to run */
	double best;             /* best dev metric so far (NaN = none) */
	size_t best_epoch, bad_epochs;
	int saved;               /* the best model file exists */
	sp_optim *opt;           /* when saving: its state goes in */
	const void *opt_blob;    /* when resuming: the state to restore */
	size_t opt_size;
	uint64_t rng[4];
	int have_rng;
	size_t rollbacks;        /* train.on_diverge rollbacks so far */
	double lr_scale;         /* the lr factor they left (0 = 1) */
} sp_train_state;

/* Writes the model file: configuration, vocabularies, weights; with st,
 * also the optimizer and RNG state (a checkpoint to resume from). */
int sp_checkpoint_save(sp_job *j, const char *path, int64_t epoch,
		       const sp_train_state *st);
/* The training state checkpoint ck holds (borrowing its blobs); the best
 * model it names is copied to j->files.model. */
int sp_checkpoint_resume_state(sp_job *j, sp_modelfile *ck, const char *path,
			       sp_train_state *st);
/* Where a run's files go: train.save or models/<name>-run<id>.spm (into
 * out[n], its folders made) and the checkpoint beside it. */
int sp_checkpoint_paths(sp_job *j, char *out, size_t n);
/* Finds the model file: --model, else the latest finished run's (the
 * job is left empty, to be configured from the model). */
int sp_checkpoint_find_model(sp_job *j, const char *pipe_path, char *out,
			     size_t n);
/* Refuses an override (--set) that would change what a trained model
 * computes without changing a weight's shape (which loading catches):
 * any `plugin`, [tokenize] and [encode] keys, [model*] keys but
 * `threads`.  [data], [head] decoding keys, [train] and [pipeline] pass. */
int sp_checkpoint_overrides_ok(sp_ctx *ctx, const char *const *overrides,
			       size_t n_overrides);
/* Rebuilds the job from a model file: its configuration with the
 * overrides (--set) on top (sp_checkpoint_overrides_ok), vocabularies
 * and weights. */
int sp_checkpoint_load_job(sp_job *j, const char *path,
			   const char *const *overrides, size_t n_overrides);

#endif /* SP_CHECKPOINT_H */
