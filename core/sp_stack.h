/*
 * sp_stack.h: stacked model stages ([model], [model2], ... of a .pipe)
 * presented to the rest of the host as ONE model: a stack's self is
 * driven through sp_stack_ops like any model component's, so training,
 * evaluation, prediction and checkpoints need no loop of their own.
 *
 * Stage 0 reads the batch (ids); stage k+1 reads stage k's output as
 * vectors; backward chains the other way (sp_plugin.h, "Stacking").  The
 * stack's weights are every stage's, in stage order, each named
 * "<section>.<name>" ("model2.Wx"), which is already the checkpoint key
 * (sp_stack_is).
 *
 * Host-only (not installed).
 */
#ifndef SP_STACK_H
#define SP_STACK_H

#include <stddef.h>

#include "sp_ctx.h"
#include "sp_kv.h"
#include "sp_plugin.h"

/* The most model stages a .pipe may stack: [model] .. [model4]. */
#define SP_STACK_MAX 4

/* One stage: its component, validated keys and section name (all
 * borrowed; they must outlive the stack). */
typedef struct sp_stack_part {
	const sp_model_ops *ops;
	const sp_kv *kv;
	const char *section;
} sp_stack_part;

/* The ops of a stack.  Its create() refuses (a stack is built with
 * sp_stack_new); every other op chains the stages'. */
extern const sp_model_ops sp_stack_ops;

/* Creates stages parts[0..n) in order (stage k+1's in_dim is stage k's
 * out_dim) into *out (caller owns; destroy with sp_stack_ops.destroy).
 * A failing stage's error is prefixed with its section's where. */
int sp_stack_new(void **out, sp_ctx *ctx, const sp_stack_part *parts,
		 size_t n, size_t in_dim);

/* Runs one batch of 3 steps by 2 rows (ids below in_dim, and characters
 * when a stage reads them) forward and backward through the stack on
 * scratch weights, so that a stage that cannot read its predecessor's
 * vectors, or gives no gradient back, fails at `pipeline check`.  self
 * is left bound to freed memory: destroy it next. */
int sp_stack_probe(void *self, sp_ctx *ctx, size_t in_dim);

/* Is comp the stack's (so its weight names are checkpoint keys)? */
int sp_stack_is(const sp_component *comp);

#endif /* SP_STACK_H */
