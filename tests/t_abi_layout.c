/*
 * t_abi_layout.c: the plugin ABI's structs keep their layout.  sizeof and
 * offsetof of every struct a plugin and the host exchange (sp_plugin.h, and
 * the engine's sp_cell.h) are frozen, for this SP_ABI_VERSION, in
 * tests/abi_layout.<model>.txt (model: lp64 or ilp32).  A change that moves
 * a member breaks every plugin built before it: bump SP_ABI_VERSION.  A
 * change that only appends to an ops table (its size grows) is allowed
 * within one ABI; then regenerate the file and add the new member below:
 *
 *     tests/t_abi_layout --print > ../tests/abi_layout.lp64.txt
 *
 * Run with no argument, it compares and prints TAP.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_cell.h"
#include "sp_plugin.h"
#include "tap.h"

/* S(struct): its size; F(struct, member): the member's offset */
#define LAYOUT \
	S(sp_param_spec) \
	F(sp_param_spec, key) \
	F(sp_param_spec, type) \
	F(sp_param_spec, def) \
	F(sp_param_spec, doc) \
	F(sp_param_spec, choices) \
	S(sp_component) \
	F(sp_component, size) \
	F(sp_component, kind) \
	F(sp_component, name) \
	F(sp_component, doc) \
	F(sp_component, params) \
	S(sp_seq) \
	F(sp_seq, T) \
	F(sp_seq, B) \
	F(sp_seq, D) \
	F(sp_seq, x) \
	F(sp_seq, ids) \
	F(sp_seq, mask) \
	F(sp_seq, len) \
	S(sp_chars) \
	F(sp_chars, size) \
	F(sp_chars, T) \
	F(sp_chars, B) \
	F(sp_chars, C) \
	F(sp_chars, cp) \
	F(sp_chars, n) \
	S(sp_labels) \
	F(sp_labels, T) \
	F(sp_labels, B) \
	F(sp_labels, id) \
	F(sp_labels, mask) \
	S(sp_weight) \
	F(sp_weight, name) \
	F(sp_weight, ndim) \
	F(sp_weight, dim) \
	S(sp_tokenizer_ops) \
	F(sp_tokenizer_ops, base) \
	F(sp_tokenizer_ops, create) \
	F(sp_tokenizer_ops, destroy) \
	F(sp_tokenizer_ops, tokenize) \
	S(sp_encoder_ops) \
	F(sp_encoder_ops, base) \
	F(sp_encoder_ops, create) \
	F(sp_encoder_ops, destroy) \
	F(sp_encoder_ops, observe) \
	F(sp_encoder_ops, finish) \
	F(sp_encoder_ops, attach) \
	F(sp_encoder_ops, encode) \
	F(sp_encoder_ops, unknown) \
	S(sp_model_ops) \
	F(sp_model_ops, base) \
	F(sp_model_ops, create) \
	F(sp_model_ops, destroy) \
	F(sp_model_ops, out_dim) \
	F(sp_model_ops, weights) \
	F(sp_model_ops, bind) \
	F(sp_model_ops, init) \
	F(sp_model_ops, forward) \
	F(sp_model_ops, backward) \
	F(sp_model_ops, carry) \
	F(sp_model_ops, trace) \
	F(sp_model_ops, instruments) \
	F(sp_model_ops, sees_future) \
	F(sp_model_ops, carry_at) \
	F(sp_model_ops, embedding) \
	F(sp_model_ops, chars) \
	S(sp_head_env) \
	F(sp_head_env, size) \
	F(sp_head_env, input) \
	F(sp_head_env, labels) \
	F(sp_head_env, n_outputs) \
	S(sp_head_ops) \
	F(sp_head_ops, base) \
	F(sp_head_ops, target) \
	F(sp_head_ops, create) \
	F(sp_head_ops, destroy) \
	F(sp_head_ops, weights) \
	F(sp_head_ops, bind) \
	F(sp_head_ops, init) \
	F(sp_head_ops, forward) \
	F(sp_head_ops, backward) \
	F(sp_head_ops, metrics_reset) \
	F(sp_head_ops, metrics) \
	F(sp_head_ops, predict) \
	F(sp_head_ops, sample) \
	F(sp_head_ops, trace) \
	F(sp_head_ops, task) \
	F(sp_head_ops, metric_state) \
	F(sp_head_ops, epoch) \
	F(sp_head_ops, generate) \
	S(sp_gen_opts) \
	F(sp_gen_opts, size) \
	F(sp_gen_opts, beam) \
	F(sp_gen_opts, max_ratio) \
	F(sp_gen_opts, len_alpha) \
	F(sp_gen_opts, attention) \
	S(sp_plugin) \
	F(sp_plugin, abi) \
	F(sp_plugin, name) \
	F(sp_plugin, version) \
	F(sp_plugin, doc) \
	F(sp_plugin, components) \
	S(sp_rnn_config) \
	F(sp_rnn_config, name) \
	F(sp_rnn_config, prefix) \
	F(sp_rnn_config, cell) \
	F(sp_rnn_config, in_dim) \
	F(sp_rnn_config, hidden) \
	F(sp_rnn_config, layers) \
	F(sp_rnn_config, bidirectional) \
	F(sp_rnn_config, embed) \
	F(sp_rnn_config, dropout) \
	F(sp_rnn_config, embed_dropout) \
	F(sp_rnn_config, forget_bias) \
	F(sp_rnn_config, init) \
	F(sp_rnn_config, threads) \
	F(sp_rnn_config, reference) \
	F(sp_rnn_config, word_dropout) \
	F(sp_rnn_config, update_bias) \
	S(sp_rnn_sizes) \
	F(sp_rnn_sizes, gates) \
	F(sp_rnn_sizes, dgates) \
	F(sp_rnn_sizes, dgates_h) \
	F(sp_rnn_sizes, h) \
	F(sp_rnn_sizes, c) \
	F(sp_rnn_sizes, tc) \
	F(sp_rnn_sizes, hn) \
	F(sp_rnn_sizes, dh_norm) \
	F(sp_rnn_sizes, y) \
	F(sp_rnn_sizes, dy) \
	F(sp_rnn_sizes, drop) \
	F(sp_rnn_sizes, x0) \
	F(sp_rnn_sizes, dx0) \
	F(sp_rnn_sizes, drop0) \
	F(sp_rnn_sizes, step) \
	F(sp_rnn_sizes, ids) \
	F(sp_rnn_sizes, mask) \
	F(sp_rnn_sizes, len) \
	F(sp_rnn_sizes, bytes) \
	F(sp_rnn_sizes, wh_pack) \
	F(sp_rnn_sizes, wx_pack) \
	F(sp_rnn_sizes, dg_pack) \
	F(sp_rnn_sizes, part) \
	F(sp_rnn_sizes, at_pack) \
	S(sp_cell_view) \
	F(sp_cell_view, cell) \
	F(sp_cell_view, T) \
	F(sp_cell_view, B) \
	F(sp_cell_view, H) \
	F(sp_cell_view, G) \
	F(sp_cell_view, reverse) \
	F(sp_cell_view, gates) \
	F(sp_cell_view, h) \
	F(sp_cell_view, c) \
	F(sp_cell_view, dh_norm) \
	F(sp_cell_view, mask) \
	S(sp_example) \
	F(sp_example, size) \
	F(sp_example, line) \
	F(sp_example, text) \
	F(sp_example, text_len) \
	F(sp_example, tokens) \
	F(sp_example, tags) \
	F(sp_example, n_tokens) \
	F(sp_example, label) \
	F(sp_example, target) \
	F(sp_example, target_len) \
	S(sp_read_env) \
	F(sp_read_env, size) \
	F(sp_read_env, split) \
	F(sp_read_env, seed) \
	F(sp_read_env, max_line_bytes) \
	F(sp_read_env, max_file_bytes) \
	F(sp_read_env, emit) \
	F(sp_read_env, skip) \
	F(sp_read_env, payload) \
	S(sp_reader_ops) \
	F(sp_reader_ops, base) \
	F(sp_reader_ops, fields) \
	F(sp_reader_ops, generated) \
	F(sp_reader_ops, check) \
	F(sp_reader_ops, read) \
	/* end */

typedef struct entry {
	const char *name;
	size_t value;
} entry;

#define S(s) {#s, sizeof(s)},
#define F(s, m) {#s "." #m, offsetof(s, m)},
static const entry layout_[] = {LAYOUT};
#undef S
#undef F

static const char *model_(void)
{
	return sizeof(void *) == 8 && sizeof(long) == 8 ? "lp64"
	       : sizeof(void *) == 4 ? "ilp32" : "other";
}

int main(int argc, char **argv)
{
	const size_t n = sizeof(layout_) / sizeof(layout_[0]);
	const char *src = getenv("top_srcdir");
	char path[4096], line[256];
	size_t matched = 0;
	FILE *f;

	if (argc > 1 && strcmp(argv[1], "--print") == 0) {
		printf("# seqpipe plugin ABI %d layout (%s): name value; regenerate with "
		       "tests/t_abi_layout --print\n", SP_ABI_VERSION, model_());
		printf("SP_ABI_VERSION %d\n", SP_ABI_VERSION);
		for (size_t i = 0; i < n; i++)
			printf("%s %zu\n", layout_[i].name, layout_[i].value);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/tests/abi_layout.%s.txt", src ? src : ".",
		 model_());
	if (!(f = fopen(path, "r"))) {
		printf("1..0 # SKIP no frozen layout for this data model (%s)\n", path);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		char name[200];
		size_t value;
		if (line[0] == '#' || sscanf(line, "%199s %zu", name, &value) != 2)
			continue;
		if (strcmp(name, "SP_ABI_VERSION") == 0) {
			ok(value == (size_t)SP_ABI_VERSION,
			   "frozen for ABI %zu, the header says %d (bump: regenerate)",
			   value, SP_ABI_VERSION);
			continue;
		}
		for (size_t i = 0; i < n; i++)
			if (strcmp(layout_[i].name, name) == 0) {
				ok(layout_[i].value == value, "%s = %zu (frozen %zu)", name,
				   layout_[i].value, value);
				matched++;
				break;
			}
	}
	fclose(f);
	ok(matched == n, "every struct and member is frozen (%zu of %zu)", matched, n);
	return tap_done();
}
