/*
 * sp_registry.c: plugin modules through libltdl.
 *
 * We search the directories ourselves instead of using lt_dlsetsearchpath:
 * libltdl's search path is process-global, and its lt_dlerror() text is
 * nearly always "file not found", so a message that names the directories
 * searched is more use to someone whose plugin does not load.
 */
#include "config.h"

#include "sp_registry.h"

#include <ctype.h>
#include <dirent.h>
#include <stddef.h>
#include <ltdl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sp_module.h"

typedef struct loaded_mod {
	char *name;             /* module (file) name: "rnn" */
	char *path;             /* file it came from */
	lt_dlhandle handle;
	const sp_plugin *plugin;
} loaded_mod;

typedef struct sp_dir {
	char *path;
	char *origin;
} sp_dir;

struct sp_registry {
	sp_dir *dirs;           /* search path, in order */
	size_t n_dirs;
	loaded_mod *mods;       /* loaded modules */
	size_t n_mods, cap_mods;
	int all_loaded;         /* load_all ran */
	char **builtins;        /* modules an unprefixed component is
				   searched in (sp_registry_set_builtins) */
	size_t n_builtins;
	int builtins_loaded;
	int ltdl_ok;            /* lt_dlinit succeeded (it is refcounted) */
	char *search_text;      /* cache for sp_registry_search_path */
};

/* The end of a table whose last member is op (a function pointer). */
#define SP_OPS_END_(type, op) (offsetof(type, op) + sizeof(void (*)(void)))

/* The smallest ops table size this host accepts for each kind: the size
 * of the table in the first ABI version that had the kind, never the
 * current size, so that a module built before a member was appended still
 * loads.  Members appended since are optional: the host reads them only
 * when the table is large enough (SP_HAS_OP). */
static size_t min_ops_size_(sp_kind kind)
{
	switch (kind) {
	case SP_KIND_TOKENIZER: return SP_OPS_END_(sp_tokenizer_ops, tokenize);
	case SP_KIND_ENCODER: return SP_OPS_END_(sp_encoder_ops, encode);
	/* the first tables ended with trace; later ops are optional */
	case SP_KIND_MODEL: return SP_OPS_END_(sp_model_ops, trace);
	case SP_KIND_HEAD: return SP_OPS_END_(sp_head_ops, trace);
	case SP_KIND_READER: return sizeof(sp_reader_ops);
	}
	return (size_t)-1;
}

const char *sp_kind_name(sp_kind kind)
{
	switch (kind) {
	case SP_KIND_TOKENIZER: return "tokenizer";
	case SP_KIND_ENCODER: return "encoder";
	case SP_KIND_MODEL: return "model";
	case SP_KIND_HEAD: return "head";
	case SP_KIND_READER: return "reader";
	}
	return "unknown";
}

int sp_registry_new(sp_registry **out, sp_ctx *ctx)
{
	sp_registry *reg = calloc(1, sizeof(*reg));
	*out = NULL;
	if (!reg)
		return sp_err(ctx, SP_ENOMEM, "plugin registry: out of memory");
	if (lt_dlinit() != 0) {
		free(reg);
		return sp_err(ctx, SP_ERROR, "libltdl: cannot initialise: %s",
			      lt_dlerror());
	}
	reg->ltdl_ok = 1;
	*out = reg;
	return SP_OK;
}

void sp_registry_free(sp_registry *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->n_mods; i++) {
		if (reg->mods[i].handle)
			lt_dlclose(reg->mods[i].handle);
		free(reg->mods[i].name);
		free(reg->mods[i].path);
	}
	for (size_t i = 0; i < reg->n_dirs; i++) {
		free(reg->dirs[i].path);
		free(reg->dirs[i].origin);
	}
	for (size_t i = 0; i < reg->n_builtins; i++)
		free(reg->builtins[i]);
	free(reg->builtins);
	free(reg->mods);
	free(reg->dirs);
	free(reg->search_text);
	if (reg->ltdl_ok)
		lt_dlexit();
	free(reg);
}

int sp_registry_add_dir(sp_registry *reg, sp_ctx *ctx, const char *dir,
			const char *origin)
{
	sp_dir *d = realloc(reg->dirs, (reg->n_dirs + 1) * sizeof(*d));
	if (!d)
		return sp_err(ctx, SP_ENOMEM, "plugin registry: out of memory");
	reg->dirs = d;
	d[reg->n_dirs].path = strdup(dir);
	d[reg->n_dirs].origin = strdup(origin ? origin : "");
	if (!d[reg->n_dirs].path || !d[reg->n_dirs].origin) {
		free(d[reg->n_dirs].path);
		free(d[reg->n_dirs].origin);
		return sp_err(ctx, SP_ENOMEM, "plugin registry: out of memory");
	}
	reg->n_dirs++;
	free(reg->search_text);
	reg->search_text = NULL;
	return SP_OK;
}

const char *sp_registry_search_path(sp_registry *reg)
{
	size_t n = 1;
	if (reg->search_text)
		return reg->search_text;
	for (size_t i = 0; i < reg->n_dirs; i++)
		n += strlen(reg->dirs[i].path) + strlen(reg->dirs[i].origin) + 6;
	reg->search_text = malloc(n);
	if (!reg->search_text)
		return "(out of memory)";
	reg->search_text[0] = '\0';
	for (size_t i = 0; i < reg->n_dirs; i++) {
		if (i)
			strcat(reg->search_text, ", ");
		strcat(reg->search_text, reg->dirs[i].path);
		strcat(reg->search_text, " (");
		strcat(reg->search_text, reg->dirs[i].origin);
		strcat(reg->search_text, ")");
	}
	if (reg->n_dirs == 0)
		strcpy(reg->search_text, "(empty)");
	return reg->search_text;
}

static int file_exists_(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* "dir/rnn.la" -> *out = "rnn" (caller frees).  *out = NULL and SP_OK
 * when the file is not a module; SP_ENOMEM when out of memory. */
static int module_name_of_(char **out, const char *file)
{
	const char *base = strrchr(file, '/');
	const char *dot;
	size_t n;
	char *name;
	*out = NULL;
	base = base ? base + 1 : file;
	dot = strrchr(base, '.');
	if (!dot || (strcmp(dot, ".la") != 0 && strcmp(dot, ".so") != 0))
		return SP_OK;
	n = (size_t)(dot - base);
	if (n == 0)
		return SP_OK;
	name = malloc(n + 1);
	if (!name)
		return SP_ENOMEM;
	memcpy(name, base, n);
	name[n] = '\0';
	*out = name;
	return SP_OK;
}

static loaded_mod *find_loaded_(sp_registry *reg, const char *name)
{
	for (size_t i = 0; i < reg->n_mods; i++)
		if (strcmp(reg->mods[i].name, name) == 0)
			return &reg->mods[i];
	return NULL;
}

/* Are the ops every component of its kind must have set?  (The optional
 * ones, like trace, may be NULL.) */
static int required_ops_set_(const sp_component *c)
{
	switch (c->kind) {
	case SP_KIND_TOKENIZER: {
		const sp_tokenizer_ops *o = (const sp_tokenizer_ops *)c;
		return o->create && o->destroy && o->tokenize;
	}
	case SP_KIND_ENCODER: {
		const sp_encoder_ops *o = (const sp_encoder_ops *)c;
		return o->create && o->destroy && o->observe && o->finish &&
		       o->attach && o->encode;
	}
	case SP_KIND_MODEL: {
		const sp_model_ops *o = (const sp_model_ops *)c;
		return o->create && o->destroy && o->out_dim && o->weights &&
		       o->bind && o->init && o->forward && o->backward && o->carry;
	}
	case SP_KIND_HEAD: {
		const sp_head_ops *o = (const sp_head_ops *)c;
		return o->create && o->destroy && o->weights && o->bind && o->init &&
		       o->forward && o->backward && o->metrics_reset && o->metrics &&
		       o->predict && o->sample;
	}
	case SP_KIND_READER:
		return ((const sp_reader_ops *)c)->read != NULL;
	}
	return 0;
}

/* Checks the descriptor of module `name` loaded from `path`. */
static int check_plugin_(sp_ctx *ctx, const char *path, const char *name,
			 const sp_plugin *p)
{
	if (!p)
		return sp_err(ctx, SP_EABI,
			      "%s: sp_plugin_entry returned NULL, expected a plugin descriptor",
			      path);
	if (p->abi != SP_ABI_VERSION)
		return sp_err(ctx, SP_EABI,
			      "%s: plugin built for seqpipe plugin ABI %d, expected ABI %d: rebuild it against this seqpipe (%s)",
			      path, p->abi, SP_ABI_VERSION, PACKAGE_VERSION);
	if (!p->name || strcmp(p->name, name) != 0)
		return sp_err(ctx, SP_EABI,
			      "%s: plugin calls itself '%s', expected '%s' (the plugin name must equal the module file name)",
			      path, p->name ? p->name : "(null)", name);
	if (!p->components)
		return sp_err(ctx, SP_EABI, "%s: plugin has no component list",
			      path);
	for (size_t i = 0; p->components[i]; i++) {
		const sp_component *c = p->components[i];
		if (c->kind < SP_KIND_TOKENIZER || c->kind > SP_KIND_READER)
			return sp_err(ctx, SP_EABI,
				      "%s: component %zu has unknown kind %d, expected 1..5",
				      path, i, (int)c->kind);
		if (c->size < min_ops_size_(c->kind))
			return sp_err(ctx, SP_EABI,
				      "%s: component '%s' has an ops table of %zu bytes, expected at least %zu for a %s",
				      path, c->name ? c->name : "?", c->size,
				      min_ops_size_(c->kind), sp_kind_name(c->kind));
		if (!c->name || !c->params)
			return sp_err(ctx, SP_EABI,
				      "%s: component %zu lacks a name or a parameter list",
				      path, i);
		if (!required_ops_set_(c))
			return sp_err(ctx, SP_EABI,
				      "%s: component '%s' leaves a required %s operation NULL, expected all of them set",
				      path, c->name, sp_kind_name(c->kind));
	}
	return SP_OK;
}

/* Before any of the module's code runs: the object `path` names, and the
 * ABI recorded in its note (modules built before the note existed have
 * none; their descriptor says it after the module is open).  Then opens
 * that object with every symbol bound, into *now (a missing symbol is an
 * error here rather than a crash in the middle of a run). */
static int preflight_(sp_ctx *ctx, const char *path, void **now)
{
	char *file;
	int abi, rc;
	*now = NULL;
	if ((rc = sp_module_resolve(&file, ctx, path)) < 0)
		return rc;
	rc = sp_module_abi_note(ctx, file, &abi);
	if (rc > 0 && abi != SP_ABI_VERSION) {
		free(file);
		return sp_err(ctx, SP_EABI,
			      "%s: plugin built for seqpipe plugin ABI %d, expected ABI %d: rebuild it against this seqpipe (%s); none of its code was run",
			      path, abi, SP_ABI_VERSION, PACKAGE_VERSION);
	}
	if (rc >= 0)
		rc = sp_module_open_now(now, ctx, file);
	if (rc < 0 && strcmp(file, path) != 0)
		sp_err_prefix(ctx, rc, "%s", path);
	free(file);
	return rc < 0 ? rc : SP_OK;
}

/* Opens `path` (a file with extension) as module `name`. */
static int open_module_(sp_registry *reg, sp_ctx *ctx, const char *path,
			const char *name, const sp_plugin **out)
{
	lt_dlhandle h;
	const sp_plugin *(*entry)(void);
	void *sym, *now;
	loaded_mod *m;
	int rc;

	if ((rc = preflight_(ctx, path, &now)) < 0)
		return rc;
	h = lt_dlopen(path);
	/* libltdl holds the object now (or failed); our bound handle was
	 * only for the check */
	sp_module_close(now);
	if (!h)
		return sp_err(ctx, SP_ENOTFOUND,
			      "%s: cannot load plugin (%s); check its dependencies with ldd",
			      path, lt_dlerror());
	sym = lt_dlsym(h, "sp_plugin_entry");
	if (!sym) {
		lt_dlclose(h);
		return sp_err(ctx, SP_EABI,
			      "%s: not a seqpipe plugin: no symbol %s_LTX_sp_plugin_entry",
			      path, name);
	}
	/* POSIX's blessed way of turning a data pointer into a function
	 * pointer (see dlsym(3)). */
	*(void **)&entry = sym;
	rc = check_plugin_(ctx, path, name, entry());
	if (rc < 0) {
		lt_dlclose(h);
		return rc;
	}
	/* A plugin's libraries (ICU) may keep caches and atexit handlers
	 * pointing into the module; unloading it before the process ends
	 * turns those into leaks or crashes, so accepted modules stay. */
	lt_dlmakeresident(h);
	if (reg->n_mods == reg->cap_mods) {
		size_t cap = reg->cap_mods ? 2 * reg->cap_mods : 8;
		loaded_mod *mods = realloc(reg->mods, cap * sizeof(*mods));
		if (!mods) {
			lt_dlclose(h);
			return sp_err(ctx, SP_ENOMEM, "plugin registry: out of memory");
		}
		reg->mods = mods;
		reg->cap_mods = cap;
	}
	m = &reg->mods[reg->n_mods];
	m->name = strdup(name);
	m->path = strdup(path);
	if (!m->name || !m->path) {
		free(m->name);
		free(m->path);
		lt_dlclose(h);
		return sp_err(ctx, SP_ENOMEM, "plugin registry: out of memory");
	}
	m->handle = h;
	m->plugin = entry();
	reg->n_mods++;
	*out = m->plugin;
	return SP_OK;
}

int sp_registry_load(sp_registry *reg, sp_ctx *ctx, const char *name,
		     const sp_plugin **out)
{
	static const char *const exts[] = {".la", ".so"};
	loaded_mod *m;
	char *path = NULL, *modname;
	int rc;

	*out = NULL;
	if (strchr(name, '/')) {
		if (module_name_of_(&modname, name) < 0)
			return sp_err(ctx, SP_ENOMEM, "plugin registry: out of memory");
		if (!modname)
			return sp_err(ctx, SP_EINVAL,
				      "%s: expected a plugin file ending in .la or .so",
				      name);
		if ((m = find_loaded_(reg, modname))) {
			free(modname);
			*out = m->plugin;
			return SP_OK;
		}
		if (!file_exists_(name)) {
			free(modname);
			return sp_err(ctx, SP_ENOTFOUND, "%s: no such plugin file",
				      name);
		}
		rc = open_module_(reg, ctx, name, modname, out);
		free(modname);
		return rc;
	}
	if ((m = find_loaded_(reg, name))) {
		*out = m->plugin;
		return SP_OK;
	}
	for (size_t i = 0; i < reg->n_dirs; i++) {
		for (size_t e = 0; e < 2; e++) {
			size_t n = strlen(reg->dirs[i].path) + strlen(name) + 8;
			path = malloc(n);
			if (!path)
				return sp_err(ctx, SP_ENOMEM, "plugin registry: out of memory");
			snprintf(path, n, "%s/%s%s", reg->dirs[i].path, name, exts[e]);
			if (file_exists_(path)) {
				rc = open_module_(reg, ctx, path, name, out);
				free(path);
				return rc;
			}
			free(path);
		}
	}
	return sp_err(ctx, SP_ENOTFOUND,
		      "no plugin module '%s' in the plugin search path: %s",
		      name, sp_registry_search_path(reg));
}

static int name_cmp_(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Warns about every component name two open modules share; returns how
 * many such pairs there are. */
static int warn_clashes_(sp_registry *reg, sp_ctx *ctx)
{
	int n = 0;
	for (size_t i = 0; i < reg->n_mods; i++) {
		const sp_plugin *a = reg->mods[i].plugin;
		for (size_t k = 0; a->components[k]; k++)
			for (size_t j = i + 1; j < reg->n_mods; j++) {
				const sp_plugin *b = reg->mods[j].plugin;
				for (size_t l = 0; b->components[l]; l++) {
					if (strcmp(a->components[k]->name,
						   b->components[l]->name) != 0)
						continue;
					sp_log(ctx, SP_LOG_WARN,
					       "plugin '%s' is defined by two modules, %s and %s: a .pipe names the one meant as %s.%s or %s.%s",
					       a->components[k]->name, reg->mods[i].path,
					       reg->mods[j].path, a->name,
					       a->components[k]->name, b->name,
					       a->components[k]->name);
					n++;
				}
			}
	}
	return n;
}

int sp_registry_load_all(sp_registry *reg, sp_ctx *ctx)
{
	int failures = 0, oom = 0;
	for (size_t i = 0; i < reg->n_dirs && !oom; i++) {
		DIR *d = opendir(reg->dirs[i].path);
		struct dirent *e;
		char **names = NULL;
		size_t n = 0, cap = 0;
		if (!d)
			continue;
		while (!oom && (e = readdir(d))) {
			char *nm;
			if (module_name_of_(&nm, e->d_name) < 0) {
				oom = 1;
				break;
			}
			if (!nm)
				continue;
			if (n == cap) {
				char **nn;
				cap = cap ? 2 * cap : 16;
				nn = realloc(names, cap * sizeof(*nn));
				if (!nn) {
					free(nm);
					oom = 1;
					break;
				}
				names = nn;
			}
			names[n++] = nm;
		}
		closedir(d);
		/* sorted, so listings and "first match wins" are stable */
		if (n && !oom)
			qsort(names, n, sizeof(*names), name_cmp_);
		for (size_t k = 0; k < n && !oom; k++) {
			const sp_plugin *p;
			int rc;
			if (find_loaded_(reg, names[k]) ||
			    (k > 0 && strcmp(names[k], names[k - 1]) == 0))
				continue;
			rc = sp_registry_load(reg, ctx, names[k], &p);
			/* a bad module is skipped; running out of memory
			 * is not the module's fault and stops the listing */
			if (rc == SP_ENOMEM) {
				oom = 1;
			} else if (rc < 0) {
				sp_log(ctx, SP_LOG_WARN, "skipping plugin: %s",
				       sp_errmsg(ctx));
				failures++;
			}
		}
		for (size_t k = 0; k < n; k++)
			free(names[k]);
		free(names);
	}
	if (oom)
		return sp_err(ctx, SP_ENOMEM, "plugin registry: out of memory");
	reg->all_loaded = 1;
	return failures + warn_clashes_(reg, ctx);
}

int sp_registry_set_builtins(sp_registry *reg, sp_ctx *ctx, const char *names)
{
	const char *p = names;
	while (*p) {
		size_t n;
		char **b, *nm;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		for (n = 0; p[n] && !isspace((unsigned char)p[n]); n++)
			;
		b = realloc(reg->builtins, (reg->n_builtins + 1) * sizeof(*b));
		if (!b)
			return sp_err(ctx, SP_ENOMEM, "plugin registry: out of memory");
		reg->builtins = b;
		if (!(nm = strndup(p, n)))
			return sp_err(ctx, SP_ENOMEM, "plugin registry: out of memory");
		reg->builtins[reg->n_builtins++] = nm;
		p += n;
	}
	reg->builtins_loaded = 0;
	return SP_OK;
}

/* Opens the built-in modules not open yet.  One that fails is a warning
 * (its components are then simply not there); out of memory stops. */
static int load_builtins_(sp_registry *reg, sp_ctx *ctx)
{
	if (reg->builtins_loaded)
		return SP_OK;
	for (size_t i = 0; i < reg->n_builtins; i++) {
		const sp_plugin *p;
		int rc;
		if (find_loaded_(reg, reg->builtins[i]))
			continue;
		rc = sp_registry_load(reg, ctx, reg->builtins[i], &p);
		if (rc == SP_ENOMEM)
			return rc;
		if (rc < 0)
			sp_log(ctx, SP_LOG_WARN, "skipping built-in plugin: %s",
			       sp_errmsg(ctx));
	}
	reg->builtins_loaded = 1;
	return SP_OK;
}

/* Is `name` an item of the ", "-separated list? */
static int listed_(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/* Appends "a, b" of the module files on the search path that are not
 * open, by file name only (opening them is what this avoids). */
static void unopened_modules_(sp_registry *reg, char *list, size_t cap)
{
	size_t used = strlen(list);
	for (size_t i = 0; i < reg->n_dirs && used + 1 < cap; i++) {
		DIR *d = opendir(reg->dirs[i].path);
		struct dirent *e;
		if (!d)
			continue;
		while ((e = readdir(d)) && used + 1 < cap) {
			char *nm;
			int w;
			if (module_name_of_(&nm, e->d_name) < 0 || !nm)
				continue;
			if (!find_loaded_(reg, nm) && !listed_(list, nm)) {
				w = snprintf(list + used, cap - used, "%s%s",
					     used ? ", " : "", nm);
				if (w > 0)
					used += (size_t)w;
			}
			free(nm);
		}
		closedir(d);
	}
}

/* Error for an unknown component: the components of this kind that do
 * exist, and the modules not searched. */
static int not_found_(sp_registry *reg, sp_ctx *ctx, sp_kind kind,
		      const char *name, int prefixed)
{
	char list[512] = "", others[512] = "";
	size_t used = 0;
	for (size_t i = 0; i < reg->n_mods; i++) {
		const sp_plugin *p = reg->mods[i].plugin;
		for (size_t k = 0; p->components[k]; k++) {
			const sp_component *c = p->components[k];
			int w;
			if (c->kind != kind || used >= sizeof(list))
				continue;
			w = snprintf(list + used, sizeof(list) - used, "%s%s",
				     used ? ", " : "", c->name);
			if (w > 0)
				used += (size_t)w;
		}
	}
	if (!prefixed)
		unopened_modules_(reg, others, sizeof(others));
	if (others[0])
		return sp_err(ctx, SP_ENOTFOUND,
			      "no %s plugin '%s', expected one of: %s; the modules %s are opened only when named: MODULE.%s (search path: %s)",
			      sp_kind_name(kind), name, used ? list : "(none found)",
			      others, name, sp_registry_search_path(reg));
	return sp_err(ctx, SP_ENOTFOUND,
		      "no %s plugin '%s', expected one of: %s (search path: %s)",
		      sp_kind_name(kind), name, used ? list : "(none found)",
		      sp_registry_search_path(reg));
}

int sp_registry_find(sp_registry *reg, sp_ctx *ctx, sp_kind kind,
		     const char *name, const sp_component **out,
		     const sp_plugin **out_plugin)
{
	const char *dot = strchr(name, '.');
	const sp_plugin *only = NULL;
	const sp_component *hit = NULL;
	size_t hit_mod = 0;
	*out = NULL;
	if (out_plugin)
		*out_plugin = NULL;
	if (dot) {
		/* "module.component": load just that module */
		char mod[256];
		size_t n = (size_t)(dot - name);
		int rc;
		if (n >= sizeof(mod))
			return sp_err(ctx, SP_EINVAL, "plugin name '%s' is too long", name);
		memcpy(mod, name, n);
		mod[n] = '\0';
		rc = sp_registry_load(reg, ctx, mod, &only);
		if (rc < 0)
			return rc;
		name = dot + 1;
	} else {
		/* "component": the built-in modules and those already open,
		 * never a module nobody asked for */
		int rc = load_builtins_(reg, ctx);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < reg->n_mods; i++) {
		const sp_plugin *p = reg->mods[i].plugin;
		if (only && p != only)
			continue;
		for (size_t k = 0; p->components[k]; k++) {
			const sp_component *c = p->components[k];
			if (strcmp(c->name, name) != 0)
				continue;
			if (hit)
				return sp_err(ctx, SP_EINVAL,
					      "plugin '%s' is defined by two modules, %s and %s: name the one meant with its module, %s.%s or %s.%s",
					      name, reg->mods[hit_mod].path, reg->mods[i].path,
					      reg->mods[hit_mod].name, name, reg->mods[i].name, name);
			hit = c;
			hit_mod = i;
			break;
		}
	}
	if (!hit)
		return not_found_(reg, ctx, kind, name, only != NULL);
	if (hit->kind != kind)
		return sp_err(ctx, SP_EINVAL, "plugin '%s' is a %s, expected a %s",
			      name, sp_kind_name(hit->kind), sp_kind_name(kind));
	*out = hit;
	if (out_plugin)
		*out_plugin = reg->mods[hit_mod].plugin;
	return SP_OK;
}

size_t sp_registry_count(const sp_registry *reg)
{
	return reg->n_mods;
}

const sp_plugin *sp_registry_plugin_at(const sp_registry *reg, size_t i)
{
	return i < reg->n_mods ? reg->mods[i].plugin : NULL;
}

const char *sp_registry_path_at(const sp_registry *reg, size_t i)
{
	return i < reg->n_mods ? reg->mods[i].path : NULL;
}
