/*
 * sp_cell_pool.c: the recurrent engine's threads: a pool of n-1 workers
 * and the caller, which run one job at a time together, and the teams
 * (all of the pool, or half of it per direction) that meet at a barrier
 * after every step.  See "Threads" in sp_cell.c for how the work is
 * shared.
 */
#include "sp_cell_impl.h"

#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Threads: the engine's pool and the per-step barrier                 */
/* ------------------------------------------------------------------ */

static void cpu_relax_(void)
{
#if SIMD_
	_mm_pause();
#endif
}

/* All n threads wait here until the last one arrives.  What a thread
 * wrote before the barrier is visible to all after it (the arrival is
 * acq_rel, the opening a release, the waiting an acquire).  A step lasts
 * microseconds, so waiters spin, then yield (the machine may be shared). */
static void meet_(atomic_uint *arrived, atomic_uint *phase, size_t n)
{
	unsigned ph;
	if (n < 2)
		return;
	ph = atomic_load_explicit(phase, memory_order_acquire);
	if (atomic_fetch_add_explicit(arrived, 1, memory_order_acq_rel) + 1 ==
	    n) {
		atomic_store_explicit(arrived, 0, memory_order_relaxed);
		atomic_fetch_add_explicit(phase, 1, memory_order_release);
		return;
	}
	for (unsigned spin = 0;
	     atomic_load_explicit(phase, memory_order_acquire) == ph;
	     spin++) {
		if (spin < 256)
			cpu_relax_();
		else
			sched_yield();
	}
}

static void barrier_(pool_ *pl)
{
	meet_(&pl->arrived, &pl->phase, pl->n);
}

void spc_team_barrier(team_ *tm)
{
	meet_(&tm->arrived, &tm->phase, tm->n);
}

void spc_team_init(team_ *tm, size_t p0, size_t n)
{
	tm->p0 = p0;
	tm->n = n;
	atomic_init(&tm->arrived, 0);
	atomic_init(&tm->phase, 0);
}

/* A worker: sleeps until a new job, runs its part, meets the others. */
static void *worker_main_(void *arg)
{
	worker_ *w = arg;
	pool_ *pl = w->pool;
	unsigned long seen = 0;
	for (;;) {
		job_fn_ fn;
		void *job;
		pthread_mutex_lock(&pl->mu);
		while (pl->job == seen && !pl->stop)
			pthread_cond_wait(&pl->cv, &pl->mu);
		if (pl->stop) {
			pthread_mutex_unlock(&pl->mu);
			return NULL;
		}
		seen = pl->job;
		fn = pl->fn;
		job = pl->arg;
		pthread_mutex_unlock(&pl->mu);
		fn(job, w->p);
		barrier_(pl);
	}
}

void spc_run(pool_ *pl, job_fn_ fn, void *arg)
{
	if (pl->n < 2) {
		fn(arg, 0);
		return;
	}
	pthread_mutex_lock(&pl->mu);
	pl->fn = fn;
	pl->arg = arg;
	pl->job++;
	pthread_cond_broadcast(&pl->cv);
	pthread_mutex_unlock(&pl->mu);
	fn(arg, 0);
	barrier_(pl);
}

void spc_pool_stop(pool_ *pl)
{
	if (pl->n < 2)
		return;
	pthread_mutex_lock(&pl->mu);
	pl->stop = 1;
	pthread_cond_broadcast(&pl->cv);
	pthread_mutex_unlock(&pl->mu);
	for (size_t i = 0; i < pl->started; i++)
		pthread_join(pl->tid[i], NULL);
	pthread_cond_destroy(&pl->cv);
	pthread_mutex_destroy(&pl->mu);
	free(pl->tid);
	free(pl->wk);
	pl->n = 1;
}

/* Starts n-1 workers (n <= 1: none).  They block every signal, so that
 * the host's handlers (Ctrl-C) run on its own threads. */
int spc_pool_start(pool_ *pl, sp_ctx *ctx, const char *name, size_t n)
{
	sigset_t all, old;
	int rc = SP_OK;
	memset(pl, 0, sizeof(*pl));
	pl->n = 1;
	if (n < 2)
		return SP_OK;
	pl->tid = calloc(n - 1, sizeof(*pl->tid));
	pl->wk = calloc(n - 1, sizeof(*pl->wk));
	if (!pl->tid || !pl->wk || pthread_mutex_init(&pl->mu, NULL) != 0) {
		free(pl->tid);
		free(pl->wk);
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory for threads",
			      name);
	}
	if (pthread_cond_init(&pl->cv, NULL) != 0) {
		pthread_mutex_destroy(&pl->mu);
		free(pl->tid);
		free(pl->wk);
		return sp_err(ctx, SP_ENOMEM, "%s: out of memory for threads",
			      name);
	}
	atomic_init(&pl->arrived, 0);
	atomic_init(&pl->phase, 0);
	pl->n = n;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; pl->started < n - 1; pl->started++) {
		worker_ *w = &pl->wk[pl->started];
		w->pool = pl;
		w->p = pl->started + 1;
		if (pthread_create(&pl->tid[pl->started], NULL, worker_main_,
				   w) != 0) {
			rc = SP_ERROR;
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		spc_pool_stop(pl);
		return sp_err(ctx, rc, "%s: cannot start %zu threads", name, n);
	}
	return SP_OK;
}

void spc_share(size_t nb, size_t n, size_t p, size_t *j0, size_t *j1)
{
	*j0 = nb * p / n;
	*j1 = nb * (p + 1) / n;
}
