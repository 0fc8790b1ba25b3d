/*
 * sp_genejob.c: whole records through a trained DNA tagger, in stitched
 * windows, then the gene Viterbi; GFF3/BED out or the gene evaluation
 * (sp_genejob.h).
 */
#include "sp_genejob.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sp_fasta.h"
#include "sp_genbank.h"
#include "sp_geneeval.h"
#include "sp_geneout.h"
#include "sp_job.h"
#include "sp_report.h"

/* The tagger's label ids as fine labels, and the bases' input ids. */
typedef struct gj_map {
	int fine[SP_NLABEL + 8]; /* label id -> fine label (or -1) */
	size_t K;                /* label ids */
	int32_t base_id[5];      /* A C G T N -> input id */
	int kmer;                /* [data] kmer: tokens are k-mers */
} gj_map;

/* One batch's windows: start, core [cs, ce) on the record. */
typedef struct gj_win {
	size_t s, cs, ce;
} gj_win;

typedef struct gj_fill {
	const gj_map *m;
	const gj_win *w;
	size_t B;
	float *logp;
} gj_fill;

void sp_genejob_opts_of(const sp_job *j, sp_genejob_opts *o)
{
	const sp_kv *d = j->cfg.kv_data;
	long w = sp_kv_int(d, "predict_window");
	long c = sp_kv_int(d, "context");
	long mi = sp_kv_int(d, "min_intron");
	o->window = w > 0 ? (size_t)w : 2000;
	o->context = c >= 0 ? (size_t)c : 250;
	if (2 * o->context >= o->window)
		o->context = (o->window - 1) / 2;
	o->batch = 8;
	o->dec.gene_logp = sp_kv_float(d, "gene_logp");
	o->dec.intron_logp = sp_kv_float(d, "intron_logp");
	o->dec.gc_donor = sp_kv_bool(d, "gc_donor") != 0;
	o->dec.min_intron = mi > 0 ? (size_t)mi : 0;
	o->dec.signals = NULL;
	o->dec.signal_weight = sp_kv_float(d, "signal_weight");
	o->dec.prior_weight = sp_kv_float(d, "prior_weight");
	o->dec.content_weight = sp_kv_float(d, "content_weight");
	o->dec.tagger_weight = sp_kv_float(d, "tagger_weight");
	o->dec.intron_length_weight = sp_kv_float(d, "intron_length_weight");
}

static int map_of_(const sp_job *j, gj_map *m)
{
	static const char *const bases[] = {"A", "C", "G", "T", "N"};
	const sp_encoder_ops *enc = (const sp_encoder_ops *)j->st.enc.comp;
	size_t found = 0;
	if (j->st.task.labels != SP_LABELS_TOKEN || !j->data.labels)
		return 0;
	m->K = sp_vocab_size(j->data.labels);
	if (m->K > sizeof(m->fine) / sizeof(*m->fine))
		return 0;
	for (size_t i = 0; i < m->K; i++) {
		const char *t = sp_vocab_token(j->data.labels, (int32_t)i);
		m->fine[i] = -1;
		for (int l = 0; t && l < SP_NLABEL; l++)
			if (!strcmp(t, sp_label_name(l))) {
				m->fine[i] = l;
				found++;
			}
	}
	if (found != SP_NLABEL)
		return 0;
	for (int b = 0; b < 5; b++)
		if (enc->encode(j->st.enc.self, j->ctx, bases[b], 1, &m->base_id[b]) < 0)
			return 0;
	m->kmer = (int)sp_kv_int(j->cfg.kv_data, "kmer");
	return 1;
}

int sp_genejob_applies(const sp_job *j)
{
	gj_map m;
	return map_of_(j, &m);
}

/* sp_pred_fn: label probabilities into the record's matrix, core only. */
static int fill_(void *payload, size_t t, size_t b, size_t k, int32_t id, float p)
{
	gj_fill *f = payload;
	size_t pos;
	int l;
	(void)k;
	if (b >= f->B || id < 0 || (size_t)id >= f->m->K || (l = f->m->fine[id]) < 0)
		return SP_OK;
	pos = f->w[b].s + t;
	if (pos >= f->w[b].cs && pos < f->w[b].ce)
		f->logp[pos * SP_NLABEL + (size_t)l] = logf(p > 1e-30f ? p : 1e-30f);
	return SP_OK;
}

/* Windows B of them through the model and head; probabilities stitched. */
static int run_batch_(sp_job *j, const gj_map *m, const uint8_t *seq, size_t len, size_t W,
		      const gj_win *w, size_t B, float *logp, int32_t *ids)
{
	const sp_encoder_ops *enc = (const sp_encoder_ops *)j->st.enc.comp;
	sp_dataset d;
	size_t idx[64];
	sp_batch b;
	sp_seq y;
	gj_fill f = {m, w, B, logp};
	int rc = SP_OK;
	memset(&d, 0, sizeof(d));
	for (size_t k = 0; k < B && rc >= 0; k++) {
		for (size_t i = 0; i < W && rc >= 0; i++) {
			size_t p = w[k].s + i;
			char tok[SP_KMER_MAX + 1];
			if (m->kmer <= 1) {
				ids[i] = m->base_id[seq[p] <= SP_BASE_UNKNOWN ? seq[p] : SP_BASE_UNKNOWN];
				continue;
			}
			/* the k-mer as the reader made it in training */
			rc = enc->encode(j->st.enc.self, j->ctx, tok,
					 sp_kmer_token(seq, len, p, m->kmer, tok), &ids[i]);
		}
		if (rc >= 0)
			rc = sp_dataset_add(&d, j->ctx, ids, W, ids, W);
		idx[k] = k;
	}
	if (rc >= 0)
		rc = sp_batch_make(&j->buf, j->ctx, &d, idx, B, &b);
	sp_dataset_fini(&d);
	if (rc >= 0)
		rc = sp_job_forward(j, &b, &y, 0);
	if (rc >= 0)
		rc = sp_head_of(&j->st)->forward(j->st.head.self, j->ctx, &y, NULL, NULL, NULL, 0);
	if (rc >= 0)
		rc = sp_head_of(&j->st)->predict(j->st.head.self, j->ctx, m->K, fill_, &f);
	return rc;
}

int sp_genejob_window(size_t len, size_t W, size_t M, size_t k, size_t *s,
		      size_t *cs, size_t *ce)
{
	size_t C;
	if (W >= len) { /* one window: the whole record */
		W = len;
		M = 0;
	}
	if (2 * M >= W)
		M = (W - 1) / 2;
	C = W - 2 * M;
	if (len == 0 || k > (len - 1) / C)
		return 0;
	*cs = k * C;
	*ce = *cs + C < len ? *cs + C : len;
	*s = *cs > M ? *cs - M : 0;
	if (*s > len - W)
		*s = len - W;
	return 1;
}

int sp_genejob_logp(sp_job *j, const sp_genejob_opts *o, const uint8_t *seq,
		    size_t len, float *logp)
{
	gj_map m;
	gj_win w[64];
	size_t W = o->window < len ? o->window : len, B = 0;
	size_t batch = o->batch > 64 ? 64 : o->batch ? o->batch : 1;
	int32_t *ids;
	int rc = SP_OK;
	if (!map_of_(j, &m))
		return sp_err(j->ctx, SP_EINVAL, "the model is not a tagger of the nine DNA labels "
			      "(train it on format = genbank with labels = fine)");
	if (len == 0)
		return SP_OK;
	if (!(ids = malloc(W * sizeof(*ids))))
		return sp_err(j->ctx, SP_ENOMEM, "out of memory");
	if ((rc = sp_model_of(&j->st)->carry(j->st.model.self, j->ctx, 0, 1)) < 0)
		goto done;
	for (size_t i = 0; i < len * SP_NLABEL; i++)
		logp[i] = -INFINITY;
	for (size_t k = 0; rc >= 0 && sp_genejob_window(len, o->window, o->context, k, &w[B].s,
							 &w[B].cs, &w[B].ce); k++) {
		size_t s, cs, ce;
		if (++B == batch || !sp_genejob_window(len, o->window, o->context, k + 1, &s, &cs, &ce)) {
			rc = run_batch_(j, &m, seq, len, W, w, B, logp, ids);
			B = 0;
		}
	}
done:
	free(ids);
	return rc;
}

/* One record's genes: the model's scores, then the Viterbi. */
static int record_genes_(sp_job *j, const sp_genejob_opts *o, const sp_dna_record *r,
			 sp_gene **genes, size_t *ngene)
{
	float *logp;
	int rc;
	*genes = NULL;
	*ngene = 0;
	if (r->len == 0)
		return SP_OK;
	if (!(logp = malloc(r->len * SP_NLABEL * sizeof(*logp))))
		return sp_err(j->ctx, SP_ENOMEM, "%s: out of memory for %zu bases", r->name, r->len);
	rc = sp_genejob_logp(j, o, r->seq, r->len, logp);
	if (rc >= 0)
		rc = sp_genedecode(j->ctx, r->seq, r->len, logp, &o->dec, genes, ngene, NULL);
	free(logp);
	return rc;
}

/* Records of either format, one at a time. */
typedef struct gj_reader {
	sp_fasta *fa;
	sp_genbank *gb;
} gj_reader;

static int reader_open_(gj_reader *rd, sp_ctx *ctx, const char *path)
{
	sp_dna_record r;
	int rc;
	memset(rd, 0, sizeof(*rd));
	/* GenBank when its first record reads as one, else FASTA (whose
	 * errors are then the ones reported) */
	sp_dna_record_init(&r);
	rc = sp_genbank_open(&rd->gb, ctx, path);
	if (rc >= 0) {
		rc = sp_genbank_next(rd->gb, ctx, &r);
		sp_genbank_close(rd->gb);
		rd->gb = NULL;
		if (rc >= 0)
			rc = sp_genbank_open(&rd->gb, ctx, path);
		else
			rc = sp_fasta_open(&rd->fa, ctx, path);
	}
	sp_dna_record_free(&r);
	return rc;
}

static int reader_next_(gj_reader *rd, sp_ctx *ctx, sp_dna_record *r)
{
	return rd->gb ? sp_genbank_next(rd->gb, ctx, r) : sp_fasta_next(rd->fa, ctx, r);
}

static void reader_close_(gj_reader *rd)
{
	sp_genbank_close(rd->gb);
	sp_fasta_close(rd->fa);
}

#define SENSORS_ "genes.sensors"

/* Adds the sensors' counts of every record of a GenBank file. */
static int count_sensors_(sp_genesig *sig, sp_ctx *ctx, const char *path)
{
	sp_genbank *gb = NULL;
	sp_dna_record r;
	int rc;
	if ((rc = sp_genbank_open(&gb, ctx, path)) < 0)
		return rc;
	sp_dna_record_init(&r);
	while ((rc = sp_genbank_next(gb, ctx, &r)) == 1 &&
	       (rc = sp_genesig_add(sig, ctx, r.seq, r.len, r.gene, r.ngene, r.label)) >= 0)
		;
	sp_dna_record_free(&r);
	sp_genbank_close(gb);
	return rc < 0 ? rc : SP_OK;
}

/* The sensors learned from the [data] train records, into the job's
 * extras (saved with the model). */
static int train_sensors_(sp_job *j)
{
	const char *path = sp_kv_str(j->cfg.kv_data, "train");
	sp_genesig *sig = NULL;
	float *packed = NULL;
	double n[SP_NSIG][2], introns[2];
	int rc;
	if ((rc = sp_genesig_new(&sig, j->ctx)) < 0 ||
	    (rc = count_sensors_(sig, j->ctx, path)) < 0)
		goto out;
	sp_genesig_finish(sig);
	if (!(packed = malloc(sp_genesig_packed_len() * sizeof(*packed)))) {
		rc = sp_err(j->ctx, SP_ENOMEM, "out of memory");
		goto out;
	}
	sp_genesig_pack(sig, packed);
	if ((rc = sp_extras_set(&j->extras, j->ctx, SENSORS_, packed, sp_genesig_packed_len())) < 0)
		goto out;
	for (int k = 0; k < SP_NSIG; k++)
		sp_genesig_counts(sig, k, &n[k][0], &n[k][1]);
	sp_genesig_intron_counts(sig, &introns[0], &introns[1]);
	sp_say(j->out, "gene sensors from %s: %.0f donors, %.0f acceptors, %.0f start and "
	       "%.0f stop codons (against %.0f, %.0f, %.0f, %.0f decoys); %.0f intron lengths "
	       "(%.0f over %d bases)\n", path, n[0][0], n[1][0], n[2][0], n[3][0], n[0][1], n[1][1], n[2][1], n[3][1],
	       introns[0] + introns[1], introns[1], SP_GENESIG_INTRON_MAX);
out:
	free(packed);
	sp_genesig_free(sig);
	return rc < 0 ? rc : SP_OK;
}

/* The decoder's sensors from the model, when its keys weigh them
 * (*sig NULL otherwise; the caller frees). */
static int sensors_of_(sp_job *j, sp_genejob_opts *o, sp_genesig **sig)
{
	const float *v;
	size_t n;
	int rc;
	static const char *const key[5] = {"signal_weight", "prior_weight", "content_weight",
					   "tagger_weight", "intron_length_weight"};
	const double w[5] = {o->dec.signal_weight, o->dec.prior_weight, o->dec.content_weight,
			     o->dec.tagger_weight, o->dec.intron_length_weight};
	*sig = NULL;
	/* the reader checked the keys; this guards callers that set the
	 * options themselves */
	for (int k = 0; k < 5; k++)
		if (!(w[k] >= 0 && w[k] <= 1000))
			return sp_err(j->ctx, SP_EINVAL, "data.%s = %g: expected a weight in 0..1000",
				      key[k], w[k]);
	if (w[0] == 0 && w[1] == 0 && w[2] == 0 && w[4] == 0)
		return SP_OK;
	if (!(v = sp_extras_get(&j->extras, SENSORS_, &n)))
		return sp_err(j->ctx, SP_EINPUT, "the model has no gene sensors (trained before "
			      "seqpipe learned them), expected a model retrained with this "
			      "seqpipe, or --set data.signal_weight=0 --set data.prior_weight=0 "
			      "--set data.content_weight=0 --set data.intron_length_weight=0");
	if ((rc = sp_genesig_unpack(sig, j->ctx, v, n)) < 0)
		return rc;
	o->dec.signals = *sig;
	return SP_OK;
}

int sp_genejob_predict(sp_job *j, const char *path, const char *format, FILE *out)
{
	sp_genejob_opts o;
	gj_reader rd;
	sp_dna_record r;
	sp_genesig *sig = NULL;
	int bed = !strcmp(format, "bed"), rc;
	if (!bed && strcmp(format, "gff3"))
		return sp_err(j->ctx, SP_EINVAL, "--format %s: expected gff3 or bed", format);
	sp_genejob_opts_of(j, &o);
	if ((rc = sensors_of_(j, &o, &sig)) < 0)
		return rc;
	if ((rc = reader_open_(&rd, j->ctx, path)) < 0) {
		sp_genesig_free(sig);
		return rc;
	}
	sp_dna_record_init(&r);
	if (!bed)
		rc = sp_gff3_header(j->ctx, out);
	while (rc >= 0 && (rc = reader_next_(&rd, j->ctx, &r)) == 1) {
		sp_gene *g;
		size_t ng;
		rc = record_genes_(j, &o, &r, &g, &ng);
		if (rc >= 0)
			rc = bed ? sp_bed_write(j->ctx, out, r.name, g, ng)
				 : sp_gff3_write(j->ctx, out, r.name, r.len, g, ng, "seqpipe");
		sp_genes_free(g, ng);
	}
	sp_dna_record_free(&r);
	reader_close_(&rd);
	sp_genesig_free(sig);
	return rc < 0 ? rc : SP_OK;
}

int sp_genejob_eval(sp_job *j, const char *path, FILE *out)
{
	sp_genejob_opts o;
	sp_genbank *gb = NULL;
	sp_dna_record r;
	sp_geneeval ev = SP_GENEEVAL_INIT;
	sp_genesig *sig = NULL;
	int rc;
	sp_genejob_opts_of(j, &o);
	if ((rc = sensors_of_(j, &o, &sig)) < 0)
		return rc;
	if ((rc = sp_genbank_open(&gb, j->ctx, path)) < 0) {
		sp_genesig_free(sig);
		return rc;
	}
	sp_dna_record_init(&r);
	while ((rc = sp_genbank_next(gb, j->ctx, &r)) == 1) {
		sp_gene *g;
		size_t ng;
		rc = record_genes_(j, &o, &r, &g, &ng);
		if (rc >= 0)
			rc = sp_geneeval_add(&ev, j->ctx, r.len, r.gene, r.ngene, g, ng);
		sp_genes_free(g, ng);
		if (rc < 0) {
			sp_err_prefix(j->ctx, rc, "%s", r.name);
			break;
		}
	}
	sp_dna_record_free(&r);
	sp_genbank_close(gb);
	sp_genesig_free(sig);
	if (rc < 0)
		return rc;
	fprintf(out, "gene structures of %s (the gene grammar's Viterbi on the model's "
		"per-base probabilities):\n", path);
	sp_geneeval_print(&ev, out);
	return SP_OK;
}

int sp_genejob_hook(sp_job *j, const char *verb, const char *file, const char *format)
{
	const char *fmt;
	if (!strcmp(verb, "predict"))
		return sp_genejob_predict(j, file, format, stdout);
	if (!sp_genejob_applies(j))
		return SP_OK;
	if (!strcmp(verb, "train")) {
		fmt = sp_kv_str(j->cfg.kv_data, "format");
		return fmt && !strcmp(fmt, "genbank") ? train_sensors_(j) : SP_OK;
	}
	file = sp_kv_str(j->cfg.kv_data, "test");
	if (!file || !*file)
		return SP_OK;
	return sp_genejob_eval(j, file, stdout);
}
