/*
 * t_dna_window.c: how whole records are cut into the windows a DNA tagger
 * reads (sp_genejob_window): the cores tile the record exactly once, each
 * core lies inside its window, with the full context on either side
 * wherever the record has it, and a window never leaves the record.
 */
#include "sp_genejob.h"
#include "tap.h"

#include <stdlib.h>

/* Checks one (len, W, M); returns the number of failures. */
static int check_plan(size_t len, size_t W, size_t M, size_t *nwin)
{
	size_t s, cs, ce, next = 0, k = 0, bad = 0;
	size_t w = W < len ? W : len, m = W < len ? M : 0;
	if (w && 2 * m >= w)
		m = (w - 1) / 2;
	for (; sp_genejob_window(len, W, M, k, &s, &cs, &ce); k++) {
		bad += cs != next || ce <= cs;              /* tiling, no gap */
		bad += s > cs || s + w < ce || s + w > len; /* core inside */
		bad += cs - s < (cs < m ? cs : m);          /* left context */
		bad += s + w - ce < (len - ce < m ? len - ce : m); /* right */
		next = ce;
	}
	*nwin = k;
	return (int)bad + (next != len);
}

int main(void)
{
	static const size_t lens[] = {1, 2, 7, 499, 500, 501, 1999, 2000, 2001,
				      3500, 10007, 118212};
	static const size_t Ws[][2] = {{2000, 250}, {500, 100}, {7, 3}, {9, 4}, {1, 0},
				       {100, 0}};
	size_t bad = 0, n, cases = 0, s = 0, cs = 0, ce = 0;
	for (size_t i = 0; i < sizeof(lens) / sizeof(*lens); i++)
		for (size_t k = 0; k < sizeof(Ws) / sizeof(*Ws); k++, cases++)
			bad += check_plan(lens[i], Ws[k][0], Ws[k][1], &n) != 0;
	ok(bad == 0, "%zu plans: cores tile the record, inside their windows, full context where "
	   "the record has it (%zu bad)", cases, bad);
	check_plan(10000, 2000, 250, &n);
	ok(n == 7, "10 kbp in windows of 2000 with 250 of context: 7 windows (%zu)", n);
	check_plan(1500, 2000, 250, &n);
	ok(n == 1, "a record shorter than a window is one window (%zu)", n);
	ok(!sp_genejob_window(0, 2000, 250, 0, &s, &cs, &ce), "an empty record has no window");
	n = (size_t)sp_genejob_window(10000, 2000, 250, 6, &s, &cs, &ce);
	ok(n == 1 && s == 8000 && cs == 9000 && ce == 10000, "the last window ends at the record's end (%zu, %zu..%zu)", s, cs, ce);
	return tap_done();
}
