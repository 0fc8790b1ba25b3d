/*
 * cli_report.h: `pipeline report`: one self-contained HTML page of one or
 * more runs (inline SVG and CSS; no script, font or image from elsewhere),
 * readable offline and printable.
 *
 * Sections, each drawn when the runs logged what it needs:
 *   - the runs: pipeline, status, model, key parameters, final metrics;
 *   - learning curves: loss and the task metric per epoch, train vs dev;
 *   - per-type scores: metrics named f1.<TYPE> (the NER tagger logs them);
 *   - a confusion matrix: metrics confusion.<GOLD>.<PRED> (counts);
 *   - the gradient norm per time step, ||dL/dh(t)||, from the instruments
 *     (dh_norm.l<k>.t<t>, train.instruments = true), first and last epoch,
 *     one chart per run side by side and all runs overlaid;
 *   - gate saturation: gate.l<k>.<g>.mean and .sat of the last epoch.
 * Every chart is an <svg class="chart ..."> with a <title>; a series is a
 * <polyline class="series">, a bar a <rect class="bar">, a matrix cell a
 * <rect class="cell">, so tests can check the page's content.
 */
#ifndef CLI_REPORT_H
#define CLI_REPORT_H

#include "cli_run.h"

/* Writes the report of runs[0..n) to path (replaced via a .tmp file). */
int cli_report_write(sp_ctx *ctx, const cli_run *const *runs, size_t n,
		     const char *path);

#endif /* CLI_REPORT_H */
