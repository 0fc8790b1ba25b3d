/*
 * sp_paths.c: absolute paths, parent folders and file copies for the
 * files a run writes (model, checkpoint) and logs.
 */
#include "config.h"

#include "sp_paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void sp_path_absolute(char *out, size_t n, const char *path)
{
	char dir[4096], real[4096];
	const char *slash = strrchr(path, '/');
	size_t k = slash ? (size_t)(slash - path) : 0;
	if (realpath(path, real)) {
		snprintf(out, n, "%s", real);
		return;
	}
	snprintf(dir, sizeof(dir), "%.*s", (int)(k ? k : 1), slash ? path : ".");
	if (realpath(dir, real)) {
		const char *base = slash ? slash + 1 : path;
		size_t a = strlen(real), b = strlen(base);
		if (a + 1 + b < n) {
			memcpy(out, real, a);
			out[a] = '/';
			memcpy(out + a + 1, base, b + 1);
			return;
		}
	}
	snprintf(out, n, "%s", path);
}

int sp_path_make_parents(sp_ctx *ctx, const char *path)
{
	char buf[4096];
	size_t n = strlen(path);
	if (n >= sizeof(buf))
		return sp_err(ctx, SP_EINVAL, "%s: path too long", path);
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return sp_err(ctx, SP_EIO, "%s: cannot create folder: %s", buf, strerror(errno));
		*p = '/';
	}
	return SP_OK;
}

int sp_path_copy(sp_ctx *ctx, const char *src, const char *dst)
{
	char buf[65536], tmp[4200];
	size_t n;
	FILE *in, *out;
	/* to "<dst>.tmp", renamed once complete: dst is never half written */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", dst) >= sizeof(tmp))
		return sp_err(ctx, SP_EINVAL, "%s: path too long", dst);
	in = fopen(src, "rb");
	if (!in)
		return sp_err(ctx, SP_EIO, "%s: cannot open: %s", src, strerror(errno));
	out = fopen(tmp, "wb");
	if (!out) {
		fclose(in);
		return sp_err(ctx, SP_EIO, "%s: cannot create: %s", dst, strerror(errno));
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			break;
	if (ferror(in) || ferror(out) | (fclose(out) != 0) || rename(tmp, dst) != 0) {
		int e = errno;
		fclose(in);
		unlink(tmp);
		return sp_err(ctx, SP_EIO, "%s: cannot write: %s", dst, strerror(e));
	}
	fclose(in);
	return SP_OK;
}
