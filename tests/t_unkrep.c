/*
 * t_unkrep.c: rare training words read as unknown, drawn per epoch
 * (core/sp_unkrep.c): each noted token reads as its unknown id with about
 * its chance, the draw is the same for the same seed and epoch and
 * differs between epochs and seeds, chance 1 always and a restore never,
 * and tokens not noted are left alone.
 */
#include "sp_unkrep.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

#define N 20000

int main(void)
{
	sp_ctx *ctx;
	sp_unkrep r = {0};
	int32_t *ids = malloc(2 * N * sizeof(*ids)), *a = malloc(2 * N * sizeof(*a));
	size_t unk, differ = 0, other = 0, changed = 0;
	int rc = SP_OK;
	if (sp_ctx_new(&ctx, 1) < 0 || !ids || !a)
		return 1;
	/* every second token noted: word 1000 + k, unknown 7, chance 0.3 */
	for (size_t k = 0; k < 2 * N; k++)
		ids[k] = (int32_t)(1000 + k);
	for (size_t k = 0; k < 2 * N && rc == SP_OK; k += 2)
		rc = sp_unkrep_add(&r, ctx, k, (int32_t)(1000 + k), 7, 0.3f);
	ok(rc == SP_OK && r.n == N, "%zu tokens noted", r.n);
	unk = sp_unkrep_epoch(&r, ids, 42, 0);
	ok(unk > 0.28 * N && unk < 0.32 * N, "epoch 0: %zu of %d read as unknown (chance 0.3)", unk, N);
	for (size_t k = 0; k < 2 * N; k++) {
		other += k % 2 && ids[k] != (int32_t)(1000 + k);
		changed += ids[k] == 7;
	}
	ok(other == 0 && changed == unk, "only noted tokens change, to their unknown id (%zu others)", other);
	memcpy(a, ids, 2 * N * sizeof(*ids));
	sp_unkrep_epoch(&r, ids, 42, 1);
	sp_unkrep_epoch(&r, ids, 42, 0);
	ok(!memcmp(a, ids, 2 * N * sizeof(*ids)), "the same seed and epoch draw the same tokens");
	sp_unkrep_epoch(&r, ids, 42, 1);
	for (size_t k = 0; k < 2 * N; k++)
		differ += a[k] != ids[k];
	ok(differ > 0.3 * N, "another epoch draws others (%zu tokens differ)", differ);
	sp_unkrep_epoch(&r, ids, 43, 0);
	differ = 0;
	for (size_t k = 0; k < 2 * N; k++)
		differ += a[k] != ids[k];
	ok(differ > 0.3 * N, "another seed draws others (%zu tokens differ)", differ);
	sp_unkrep_restore(&r, ids);
	changed = 0;
	for (size_t k = 0; k < 2 * N; k++)
		changed += ids[k] != (int32_t)(1000 + k);
	ok(changed == 0, "restore: every token reads as itself (%zu not)", changed);
	for (size_t k = 0; k < r.n; k++)
		r.p[k] = 1;
	ok(sp_unkrep_epoch(&r, ids, 42, 3) == N, "chance 1: every noted token reads as unknown");
	sp_unkrep_fini(&r);
	ok(r.n == 0 && !r.at && sp_unkrep_epoch(&r, ids, 42, 0) == 0, "fini empties it");
	free(ids);
	free(a);
	sp_ctx_free(ctx);
	return tap_done();
}
