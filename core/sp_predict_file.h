/*
 * sp_predict_file.h: a trained model on a whole file, in batches
 * (`pipeline predict F.pipe --file PATH`), and the conlleval report of a
 * tagger on a labelled file or split (`--report conlleval`).
 *
 * The file is read with the pipeline's own data reader when its first
 * non-blank line holds a tab (a CoNLL file with gold tags, a tsv file
 * with gold labels), else as plain text, one example per line, tokenized
 * by the pipeline's tokenizer (split at white space for CoNLL pipelines,
 * which have none).  What is written:
 *
 *   taggers        one `token [gold] predicted` line per token, fields
 *                  separated by one space (what conlleval reads; spaces
 *                  inside a token become '_'), a blank line after each
 *                  sentence
 *   classifiers    `label<TAB>probability<TAB>text` per example
 *   language       `text<TAB>token<TAB>p<TAB>token<TAB>p...`: the top-k
 *   models         next tokens after the whole line
 *
 * Examples are sorted by length, longest first, and run in batches of up to
 * SP_PREDICT_BATCH, then written in the order of the file.  Errors name
 * the file (or "<stdin>") and line.
 *
 * Host-only (not installed).
 */
#ifndef SP_PREDICT_FILE_H
#define SP_PREDICT_FILE_H

#include "sp_ctx.h"

typedef struct sp_job sp_job;

/* 16, not more: a character stage pads every token of a batch to the
 * batch's longest token, so a small batch wastes less (ner.pipe on the
 * WNUT-17 test file: 0.8 s of CPU and 84 MB at 16, 1.3 s and 226 MB at
 * 64). */
#define SP_PREDICT_BATCH 16

/*
 * The job's model (loaded, as sp_checkpoint_load_job leaves it) on every
 * example of `path` ("-" reads standard input); writes to j->out.  With
 * conlleval != 0 writes conlleval's report instead of the predictions:
 * the model must be a tagger and the file labelled.
 */
int sp_predict_file(sp_job *j, const char *path, int conlleval);

/*
 * An ensemble of taggers: j's model and the n_members loaded members
 * (models of one pipeline, other seeds) on `path`, as sp_predict_file
 * writes one model's.  Each model reads the file with its own encoder;
 * their marginals (the head's probability of every tag at every token)
 * are averaged, and each sentence gets the path of highest summed log
 * mean marginal among those its tag scheme allows (IOBES when a tag has
 * an E or S prefix, else IOB2; any path for labels that are not entity
 * tags).  Models whose tags the first model lacks, or that read the file
 * into other tokens, are refused.
 */
int sp_predict_file_ensemble(sp_job *j, sp_job *members, size_t n_members, const char *path,
			     int conlleval);

/* conlleval's report of the job's model on split `key` ("test") of its
 * configuration, to j->out. */
int sp_predict_split_conlleval(sp_job *j, const char *key);

#endif /* SP_PREDICT_FILE_H */
