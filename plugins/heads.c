/*
 * heads.c: the heads plugin's descriptor.  The output heads themselves
 * live one per file (heads_impl.h lists them):
 *
 *   lm        language model: a distribution over the input vocabulary
 *             for the next token at every real step (head_lm.c)
 *   tagger    one tag per real step by a softmax (head_tagger.c)
 *   classify  one class per sequence from a pooled h (head_classify.c)
 *   crf       one tag per real step by a linear-chain CRF (head_crf.c)
 *
 * lm, tagger and classify are softmax output layers over one object
 * (head_core.c).  Nothing runs at load time.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "heads_impl.h"

SP_PLUGIN_DEFINE(heads, PACKAGE_VERSION,
		 "output heads: lm, tagger, classify (softmax), crf",
		 &heads_lm_ops.base, &heads_tagger_ops.base,
		 &heads_classify_ops.base, &heads_crf_ops.base)
