/*
 * sp_ptb.h: Penn-Treebank-style bracketed trees, one per line, as the
 * Stanford Sentiment Treebank (SST) ships them:
 *
 *     (3 (2 It) (4 (4 (2 's) (4 (3 (2 a) (4 (3 lovely) (2 film)))) ...)) (2 .)))
 *
 * A tree is "(LABEL LEAF)" or "(LABEL TREE TREE ...)"; the example's
 * tokens are the leaves in order, its label the root's.  For SST the
 * labels are 0-4 (very negative .. very positive) at every node; the
 * sentence label is the root's, and SST-2 (binary) maps 0, 1 to "neg",
 * 3, 4 to "pos" and drops the neutral 2 (Socher et al. 2013; Tai et al.
 * 2015).
 *
 * This module parses; it keeps no state.  It will back a `ptb` reader
 * component; until then sp_ptb_write_tsv turns a tree file into the
 * `text<TAB>label` lines the `tsv` reader reads.
 */
#ifndef SP_PTB_H
#define SP_PTB_H

#include <stddef.h>
#include <stdio.h>

#include "sp_ctx.h"
#include "sp_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What becomes of SST's root labels 0-4. */
typedef enum sp_ptb_classes {
	SP_PTB_RAW = 0,     /* the root label as written */
	SP_PTB_FINE = 1,    /* SST-5: "0".."4"; anything else is an error */
	SP_PTB_BINARY = 2   /* SST-2: 0,1 -> "neg", 3,4 -> "pos", 2 dropped */
} sp_ptb_classes;

/*
 * Parses the tree text[0..len) (one line, without its "\n").  Calls emit
 * for every leaf in order (the token is not NUL-terminated; its offset is
 * into text) and sets *label, *label_len to the root's label (into
 * text).  Bad input is SP_EINPUT with "FILE:LINE:COL: expected ..." in
 * the context (COL counts bytes from 1).
 */
int sp_ptb_parse(sp_ctx *ctx, const char *text, size_t len, const char *file,
		 size_t line, sp_token_fn emit, void *payload,
		 const char **label, size_t *label_len);

/* A node of a tree: its label (into the text) and its leaves,
 * first..first+count in the order emit saw them. */
typedef struct sp_ptb_node {
	const char *label;
	size_t label_len, first, count;
} sp_ptb_node;

/* The nodes of the last tree sp_ptb_parse_nodes read, in document order
 * (each node before its children, left to right: the root first).  Zero
 * it before the first use; it grows as needed; sp_ptb_nodes_fini frees
 * it. */
typedef struct sp_ptb_nodes {
	sp_ptb_node *node;
	size_t n, cap;
	size_t *open;            /* the nodes still open while parsing */
	size_t depth, open_cap;
} sp_ptb_nodes;

/*
 * sp_ptb_parse (emit, which may be NULL, for every leaf) that also lists
 * every node in *nodes.  SST labels every phrase, not only the sentence:
 * these are Socher et al.'s phrase labels.
 */
int sp_ptb_parse_nodes(sp_ctx *ctx, const char *text, size_t len,
		       const char *file, size_t line, sp_token_fn emit,
		       void *payload, sp_ptb_nodes *nodes);
void sp_ptb_nodes_fini(sp_ptb_nodes *nodes);

/*
 * The class of a node's label (the root's, for a sentence) under `classes`: *out is a static string
 * ("neg", "pos", "0".."4") or the label itself (RAW, not NUL-terminated:
 * use label_len), or NULL when the example is dropped (the neutral 2 of
 * SST-2).  A label that is not 0-4 under FINE or BINARY is SP_EINPUT.
 */
int sp_ptb_class(sp_ctx *ctx, const char *label, size_t label_len,
		 sp_ptb_classes classes, const char **out, const char *file,
		 size_t line);

/*
 * Reads a tree file (one tree per line; empty lines skipped) and writes
 * one `leaf leaf ...<TAB>class` line per kept tree to out; *kept and
 * *dropped (may be NULL) count the trees.  With `phrases`, every node is
 * a line of its own (its leaves and its label under `classes`, in
 * document order: the root first) and the counts are of nodes:
 * training on SST's phrase labels.  A leaf with a tab or a newline cannot
 * occur (the parser splits on spaces and parentheses).
 */
int sp_ptb_write_tsv(sp_ctx *ctx, FILE *in, const char *name,
		     sp_ptb_classes classes, int phrases, FILE *out,
		     size_t *kept, size_t *dropped);

#ifdef __cplusplus
}
#endif
#endif /* SP_PTB_H */
