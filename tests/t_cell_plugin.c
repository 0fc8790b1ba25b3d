/*
 * t_cell_plugin.c: the rnn plugin (plugins/rnn.c) driven through its
 * descriptor as the host does.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cellnet.h"
#include "sp_kv_host.h"
#include "sp_plugin.h"
#include "tap.h"

const sp_plugin *rnn_LTX_sp_plugin_entry(void);

/* ------------------------------------------------------------------ */
/* The plugin, through its descriptor                                  */
/* ------------------------------------------------------------------ */
static const sp_model_ops *find_(const char *name)
{
	const sp_plugin *pl = rnn_LTX_sp_plugin_entry();
	for (size_t i = 0; pl->components[i]; i++)
		if (strcmp(pl->components[i]->name, name) == 0)
			return (const sp_model_ops *)pl->components[i];
	return NULL;
}

/* Creates component `name` with key=value pairs (NULL-terminated). */
static int make_(sp_ctx *ctx, const sp_model_ops *ops, const char *const *kvs,
		 size_t in_dim, void **self)
{
	sp_kv *kv = NULL;
	int rc;
	*self = NULL;
	if ((rc = sp_kv_new(&kv, ops->base.name)) < 0)
		return rc;
	for (size_t i = 0; kvs[i]; i += 2)
		if ((rc = sp_kv_set(kv, ctx, kvs[i], kvs[i + 1], 0, "test")) <
		    0)
			goto out;
	if ((rc = sp_kv_validate(kv, ctx, ops->base.params, ".")) < 0)
		goto out;
	rc = ops->create(self, ctx, kv, in_dim);
out:
	sp_kv_free(kv);
	return rc;
}

static int has_weight_(const sp_weight *w, size_t n, const char *name,
		       size_t d0, size_t d1)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w[i].name, name) == 0)
			return w[i].dim[0] == d0 && w[i].dim[1] == d1;
	return 0;
}

static void test_plugin_(void)
{
	const sp_plugin *pl = rnn_LTX_sp_plugin_entry();
	const sp_model_ops *rnn = find_("rnn"), *lstm = find_("lstm"),
			   *gru = find_("gru");
	sp_ctx *ctx;
	void *self;
	const sp_weight *w;
	size_t nw;
	sp_ctx_new(&ctx, 3);
	ok(pl->abi == SP_ABI_VERSION && strcmp(pl->name, "rnn") == 0,
	   "descriptor: abi %d, name %s, version %s", pl->abi, pl->name,
	   pl->version);
	ok(rnn && lstm && gru && !pl->components[3],
	   "components rnn, lstm, gru");
	for (size_t i = 0; pl->components[i]; i++) {
		const sp_component *cp = pl->components[i];
		size_t k = 0;
		int documented = 1;
		for (; cp->params[k].key; k++)
			documented &= cp->params[k].doc && cp->params[k].doc[0];
		ok(cp->size == sizeof(sp_model_ops) &&
		   cp->kind == SP_KIND_MODEL && documented && k >= 7,
		   "%s: model ops, %zu documented keys", cp->name, k);
	}
	ok(rnn && lstm && gru && SP_HAS_OP(sp_model_ops, rnn, carry_at) &&
	   SP_HAS_OP(sp_model_ops, lstm, carry_at) &&
	   SP_HAS_OP(sp_model_ops, gru, carry_at),
	   "rnn, lstm, gru have the optional carry_at op (TBPTT(k1, k2))");

	{
		const char *kv[] = {"hidden", "3", NULL};
		ok(make_(ctx, rnn, kv, 4, &self) == 0, "rnn hidden=3: %s",
		   sp_errmsg(ctx));
		rnn->weights(self, &w, &nw);
		ok(nw == 3 && has_weight_(w, nw, "Wxh", 4, 3) &&
		   has_weight_(w, nw, "Whh", 3, 3) && has_weight_(w, nw, "b", 3, 0),
		   "rnn: Wxh (V,H) stored input-major, Whh (H,H), b (H)");
		ok(rnn->out_dim(self) == 3, "rnn out_dim 3");
		rnn->destroy(self);
	}
	{
		const char *kv[] = {"hidden", "4", "layers", "2",
				    "bidirectional", "true", "embed", "6",
				    NULL};
		ok(make_(ctx, lstm, kv, 10, &self) == 0,
		   "lstm layers=2 bidirectional embed=6: %s", sp_errmsg(ctx));
		lstm->weights(self, &w, &nw);
		ok(nw == 13 && has_weight_(w, nw, "embed", 10, 6) &&
		   has_weight_(w, nw, "l0.Wx", 6, 16) &&
		   has_weight_(w, nw, "l0r.Wh", 4, 16) &&
		   has_weight_(w, nw, "l1.Wx", 8, 16) &&
		   has_weight_(w, nw, "l1r.b", 16, 0),
		   "lstm names: embed l0.Wx l0r.Wh l1.Wx(2H,4H) l1r.b");
		ok(lstm->out_dim(self) == 8, "bidirectional out_dim 2H");
		{
			/* one training step through the ops table */
			size_t tot = 0, off = 0;
			float *vb, *gb, *vp[16], *gp[16];
			int32_t ids[6] = {1, 2, 3, 4, 5, 0};
			sp_seq x = {3, 2, 10, NULL, ids, NULL, NULL}, y, dx,
			       dxd;
			for (size_t i = 0; i < nw; i++)
				tot += numel_(&w[i]);
			vb = calloc(tot, sizeof(float));
			gb = calloc(tot, sizeof(float));
			for (size_t i = 0; i < nw; i++) {
				vp[i] = vb + off;
				gp[i] = gb + off;
				off += numel_(&w[i]);
			}
			lstm->bind(self, vp, gp);
			lstm->init(self, ctx);
			ok(lstm->forward(self, ctx, &x, &y, 1) == 0 &&
			   y.D == 8 && y.T == 3 && y.B == 2,
			   "lstm forward through the ops table");
			dxd = y;
			ok(lstm->backward(self, ctx, &dxd, &dx) == 0 &&
			   dx.x == NULL && dx.D == 10,
			   "lstm backward: no dx for ids input");
			{
				double s = 0;
				for (size_t i = 0; i < 10 * 6; i++)
					s += fabs(gp[0][i]);
				ok(s > 0, "embedding gradient scattered");
			}
			x.x = vb;
			x.ids = NULL;
			ok(lstm->forward(self, ctx, &x, &y, 1) == SP_EINVAL,
			   "embed with dense input is SP_EINVAL: %s",
			   sp_errmsg(ctx));
			free(vb);
			free(gb);
		}
		lstm->destroy(self);
	}
	{
		const char *kv[] = {"hidden", "5", NULL};
		ok(make_(ctx, gru, kv, 4, &self) == 0, "gru hidden=5");
		gru->weights(self, &w, &nw);
		ok(nw == 4 && has_weight_(w, nw, "l0.bx", 15, 0) &&
		   has_weight_(w, nw, "l0.bh", 15, 0) &&
		   has_weight_(w, nw, "l0.Wh", 5, 15),
		   "gru: l0.Wx l0.Wh l0.bx l0.bh (two biases, as PyTorch)");
		gru->destroy(self);
	}
	{
		/* xavier's biases are 0: bx = [r 0 | z 3 | n 0] */
		const char *kv[] = {"hidden", "2", "init", "xavier",
				    "update_bias", "3", NULL};
		float v[4][32], g[4][32], *vp[4], *gp[4]; /* Wx is 3 x 6 */
		int zb = 1;
		ok(make_(ctx, gru, kv, 3, &self) == 0,
		   "gru update_bias=3 accepted");
		if (self) {
			for (size_t i = 0; i < 4; i++) {
				vp[i] = v[i];
				gp[i] = g[i];
			}
			gru->weights(self, &w, &nw);
			ok(nw == 4 && gru->bind(self, vp, gp) == 0 &&
			   gru->init(self, ctx) == 0,
			   "gru update_bias=3: bind and init");
			for (size_t j = 0; j < 6; j++)
				zb &= v[2][j] == (j >= 2 && j < 4 ? 3.0f : 0.0f);
			ok(zb, "update_bias=3 sets bx's z block (xavier init): "
			   "%g %g | %g %g | %g %g", (double)v[2][0],
			   (double)v[2][1], (double)v[2][2], (double)v[2][3],
			   (double)v[2][4], (double)v[2][5]);
			gru->destroy(self);
		}
	}
	{
		const char *kv[] = {"hidden", "2", "update_bias", "3", NULL};
		ok(make_(ctx, lstm, kv, 3, &self) < 0 && !self &&
		   strstr(sp_errmsg(ctx), "update_bias") != NULL,
		   "update_bias is the gru's only: %s", sp_errmsg(ctx));
	}
	{
		const char *kv[] = {"hidden", "0", NULL};
		ok(make_(ctx, gru, kv, 4, &self) == SP_EINVAL && !self,
		   "hidden=0 refused: %s", sp_errmsg(ctx));
		gru->destroy(NULL);
	}
	{
		const char *kv[] = {"hidden", "3", "dropout", "1.5", NULL};
		ok(make_(ctx, rnn, kv, 4, &self) == SP_EINVAL && !self,
		   "dropout=1.5 refused: %s", sp_errmsg(ctx));
	}
	{
		const char *kv[] = {"hidden", "3", "nonlinearity", "relu",
				    "init", "orthogonal", NULL};
		ok(make_(ctx, rnn, kv, 4, &self) == 0,
		   "rnn nonlinearity=relu init=orthogonal");
		rnn->destroy(self);
	}
	sp_ctx_free(ctx);
}
int main(void)
{
	test_plugin_();
	return tap_done();
}
