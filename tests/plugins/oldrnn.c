/* The rnn plugin's lstm as a module built before carry_at was appended to
 * sp_model_ops: its table's size ends at sees_future, so the host must
 * treat carry_at as absent (SP_HAS_OP reads the size, never past it), run
 * it as before, and refuse what needs the op (train.bptt_stride < bptt)
 * with an error naming the key.  Built from the plugin's own source. */
#include "../../plugins/rnn.c"

static const sp_model_ops oldrnn_lstm_ops = {
	.base = {offsetof(sp_model_ops, carry_at), SP_KIND_MODEL, "lstm",
		 "the rnn plugin's lstm with the table of an older build",
		 lstm_params},
	.create = lstm_create,
	RNN_MODEL_OPS};

SP_PLUGIN_DEFINE(oldrnn, "1.0", "test plugin: a model without carry_at",
		 &oldrnn_lstm_ops.base)
