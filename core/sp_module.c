/*
 * sp_module.c: a plugin module's file before it is opened: the object a
 * `.la` names, its ABI note (read from the ELF section headers, so that a
 * module built for another ABI is refused before any of its code runs),
 * and opening it with every symbol resolved.
 *
 * The note is what SP_PLUGIN_DEFINE (sp_plugin.h) puts in the section
 * ".note.seqpipe": an ELF note of name "seqpipe", type 1, whose 4-byte
 * descriptor is the SP_ABI_VERSION the module was built with.
 */
#define _GNU_SOURCE /* dlerror's text is all we need; RTLD_* are POSIX */
#include "config.h"

#include "sp_module.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOTE_SECTION ".note.seqpipe"

static int is_file_(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The value of `key=` in a .la line, quotes stripped, into buf. */
static int la_value_(const char *line, const char *key, char *buf, size_t n)
{
	size_t k = strlen(key), len;
	const char *v;
	if (strncmp(line, key, k) != 0 || line[k] != '=')
		return 0;
	v = line + k + 1;
	len = strcspn(v, "\n");
	if (len >= 2 && v[0] == '\'' && v[len - 1] == '\'') {
		v++;
		len -= 2;
	}
	if (len >= n)
		return 0;
	memcpy(buf, v, len);
	buf[len] = '\0';
	return 1;
}

static int join_(char **out, sp_ctx *ctx, const char *dir, size_t ndir,
		 const char *mid, const char *name)
{
	size_t n = ndir + strlen(mid) + strlen(name) + 1;
	*out = malloc(n);
	if (!*out)
		return sp_err(ctx, SP_ENOMEM, "plugin registry: out of memory");
	snprintf(*out, n, "%.*s%s%s", (int)ndir, dir, mid, name);
	return SP_OK;
}

int sp_module_resolve(char **out, sp_ctx *ctx, const char *path)
{
	char line[4096], dlname[1024] = "", installed[16] = "";
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	size_t ndir = slash ? (size_t)(slash - path) + 1 : 0;
	int is_la = 0, rc;
	FILE *f;

	*out = NULL;
	if (!dot || strcmp(dot, ".la") != 0) {
		*out = strdup(path);
		return *out ? SP_OK : sp_err(ctx, SP_ENOMEM, "plugin registry: out of memory");
	}
	if (!(f = fopen(path, "r")))
		return sp_err(ctx, SP_EIO, "%s: cannot read the plugin file: %s", path,
			      strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' && strstr(line, "libtool"))
			is_la = 1;
		la_value_(line, "dlname", dlname, sizeof(dlname));
		la_value_(line, "installed", installed, sizeof(installed));
	}
	fclose(f);
	if (!is_la || !dlname[0] || strchr(dlname, '/'))
		return sp_err(ctx, SP_EINPUT,
			      "%s: not a libtool module file, expected a .la written by libtool naming its shared object (dlname)",
			      path);
	/* uninstalled modules live in .libs/ beside their .la */
	if (strcmp(installed, "no") == 0) {
		if ((rc = join_(out, ctx, path, ndir, ".libs/", dlname)) < 0)
			return rc;
		if (is_file_(*out))
			return SP_OK;
		free(*out);
	}
	if ((rc = join_(out, ctx, path, ndir, "", dlname)) < 0)
		return rc;
	if (is_file_(*out))
		return SP_OK;
	free(*out);
	*out = NULL;
	return sp_err(ctx, SP_EINPUT,
		      "%s: names the shared object '%s', which is neither beside it nor in .libs/",
		      path, dlname);
}

static int read_at_(int fd, void *buf, size_t n, off_t off)
{
	return pread(fd, buf, n, off) == (ssize_t)n ? 0 : -1;
}

/* Parses the notes of the section's bytes; 1 and *abi when found. */
static int parse_notes_(const unsigned char *p, size_t n, int *abi)
{
	size_t at = 0;
	while (at + 12 <= n) {
		uint32_t nsz, dsz, type;
		memcpy(&nsz, p + at, 4);
		memcpy(&dsz, p + at + 4, 4);
		memcpy(&type, p + at + 8, 4);
		at += 12;
		if (nsz > n - at)
			return -1;
		{
			size_t name_at = at;
			at += (nsz + 3u) & ~(size_t)3;
			if (at > n || dsz > n - at)
				return -1;
			if (type == 1 && nsz == 8 && dsz == 4 &&
			    memcmp(p + name_at, "seqpipe", 8) == 0) {
				int32_t v;
				memcpy(&v, p + at, 4);
				*abi = v;
				return 1;
			}
		}
		at += (dsz + 3u) & ~(size_t)3;
	}
	return 0;
}

/* Reads the native-class ELF section headers of fd for NOTE_SECTION.
 * 1 found, 0 not there (or not native ELF), -1 malformed. */
static int find_note_(int fd, int *abi)
{
	ElfW(Ehdr) eh;
	ElfW(Shdr) sh, strsh;
	char *names = NULL;
	int found = 0;

	if (read_at_(fd, &eh, sizeof(eh), 0) < 0 ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32))
		return 0; /* not ELF of this machine: dlopen will say why */
	if (eh.e_shentsize != sizeof(sh) || eh.e_shstrndx >= eh.e_shnum ||
	    read_at_(fd, &strsh, sizeof(strsh),
		     (off_t)(eh.e_shoff + (ElfW(Off))eh.e_shstrndx * sizeof(sh))) < 0 ||
	    strsh.sh_size == 0 || strsh.sh_size > (1u << 20))
		return eh.e_shnum == 0 ? 0 : -1;
	if (!(names = malloc(strsh.sh_size + 1)))
		return -2;
	if (read_at_(fd, names, strsh.sh_size, (off_t)strsh.sh_offset) < 0) {
		free(names);
		return -1;
	}
	names[strsh.sh_size] = '\0';
	for (size_t i = 0; i < eh.e_shnum && !found; i++) {
		unsigned char *buf;
		if (read_at_(fd, &sh, sizeof(sh),
			     (off_t)(eh.e_shoff + (ElfW(Off))i * sizeof(sh))) < 0) {
			found = -1;
			break;
		}
		if (sh.sh_name >= strsh.sh_size ||
		    strcmp(names + sh.sh_name, NOTE_SECTION) != 0)
			continue;
		if (sh.sh_size > 4096 || !(buf = malloc(sh.sh_size + 1))) {
			found = sh.sh_size > 4096 ? -1 : -2;
			break;
		}
		found = read_at_(fd, buf, sh.sh_size, (off_t)sh.sh_offset) < 0
				? -1 : parse_notes_(buf, sh.sh_size, abi);
		free(buf);
		if (found == 0)
			found = -1; /* the section without our note */
	}
	free(names);
	return found;
}

int sp_module_abi_note(sp_ctx *ctx, const char *file, int *out_abi)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC), rc;
	*out_abi = 0;
	if (fd < 0)
		return sp_err(ctx, SP_EIO, "%s: cannot read the plugin file: %s", file,
			      strerror(errno));
	rc = find_note_(fd, out_abi);
	close(fd);
	if (rc == -2)
		return sp_err(ctx, SP_ENOMEM, "plugin registry: out of memory");
	if (rc < 0)
		return sp_err(ctx, SP_EABI,
			      "%s: malformed ELF file or %s section, expected a shared object built with SP_PLUGIN_DEFINE",
			      file, NOTE_SECTION);
	return rc;
}

int sp_module_open_now(void **out, sp_ctx *ctx, const char *file)
{
	const char *why, *sym;
	*out = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (*out)
		return SP_OK;
	why = dlerror();
	if (!why)
		why = "(no reason given)";
	/* glibc: "FILE: undefined symbol: NAME" (the symbol is what the
	 * user needs; the file is named by us) */
	if ((sym = strstr(why, "undefined symbol: ")))
		return sp_err(ctx, SP_EABI,
			      "%s: refused: undefined symbol '%s', which neither the module nor a library it links defines (ldd -r shows it; a seqpipe function not in the installed headers is private)",
			      file, sym + strlen("undefined symbol: "));
	return sp_err(ctx, SP_ENOTFOUND, "%s: cannot load plugin (%s); check its dependencies with ldd",
		      file, why);
}

void sp_module_close(void *handle)
{
	if (handle)
		dlclose(handle);
}
