/*
 * sp_tags.c: tag schemes, chunking and conversion (see sp_tags.h).
 *
 * The chunk rules are those of conlleval's endOfChunk and startOfChunk
 * (Tjong Kim Sang, CoNLL-2000, version 2004-01-26), written as two
 * predicates so that the tagger's metrics and the conlleval scorer cannot
 * drift apart.
 */
#include "sp_tags.h"

#include <string.h>

int sp_tag_parse(const char *tok, char *prefix, const char **type)
{
	if (strcmp(tok, "O") == 0) {
		*prefix = 'O';
		*type = "";
		return 1;
	}
	if (tok[0] && strchr("BIES", tok[0]) && tok[1] == '-' && tok[2]) {
		*prefix = tok[0];
		*type = tok + 2;
		return 1;
	}
	return 0;
}

int sp_tag_scheme_from_name(const char *name)
{
	if (!strcmp(name, "none"))
		return SP_TAGS_NONE;
	if (!strcmp(name, "iob1"))
		return SP_TAGS_IOB1;
	if (!strcmp(name, "iob2") || !strcmp(name, "bio"))
		return SP_TAGS_IOB2;
	if (!strcmp(name, "iobes") || !strcmp(name, "bioes"))
		return SP_TAGS_IOBES;
	return -1;
}

const char *sp_tag_scheme_name(sp_tag_scheme s)
{
	switch (s) {
	case SP_TAGS_IOB1: return "iob1";
	case SP_TAGS_IOB2: return "iob2";
	case SP_TAGS_IOBES: return "iobes";
	default: return "none";
	}
}

/* conlleval endOfChunk: did a chunk end between prev and cur? */
int sp_tag_chunk_end(char prev, char cur, int same_type)
{
	if ((prev == 'B' || prev == 'I') && (cur == 'B' || cur == 'O'))
		return 1;
	if (prev == 'E' && (cur == 'E' || cur == 'I' || cur == 'O'))
		return 1;
	if (prev != 'O' && prev != '.' && !same_type)
		return 1;
	/* '[' and ']' are chunks of one token */
	return prev == ']' || prev == '[';
}

/* conlleval startOfChunk: did a chunk start between prev and cur? */
int sp_tag_chunk_start(char prev, char cur, int same_type)
{
	if ((prev == 'B' || prev == 'I' || prev == 'O') && cur == 'B')
		return 1;
	if (prev == 'O' && (cur == 'I' || cur == 'E'))
		return 1;
	if (prev == 'E' && (cur == 'E' || cur == 'I'))
		return 1;
	if (cur != 'O' && cur != '.' && !same_type)
		return 1;
	return cur == '[' || cur == ']';
}

/* The IOB2 reading of tag cur after the tag prev (as written): S -> B;
 * I and E continue a chunk of their type that prev leaves open (prev B or
 * I of that type), else they begin one. */
static sp_tag_info as_iob2_(sp_tag_info prev, sp_tag_info cur)
{
	const int open = (prev.prefix == 'B' || prev.prefix == 'I') &&
			 prev.type == cur.type;
	if (cur.prefix == 'S')
		cur.prefix = 'B';
	else if (cur.prefix == 'I' || cur.prefix == 'E')
		cur.prefix = open ? 'I' : 'B';
	return cur;
}

size_t sp_tag_spans(const sp_tag_info *tags, size_t n, sp_tag_span *out)
{
	sp_tag_info prev = {'O', -1}, prev_raw = {'O', -1};
	size_t ns = 0;
	int open = 0;
	for (size_t t = 0; t < n; t++) {
		const sp_tag_info cur = as_iob2_(prev_raw, tags[t]);
		const int same = cur.type == prev.type;
		if (open && sp_tag_chunk_end(prev.prefix, cur.prefix, same)) {
			out[ns - 1].end = t;
			open = 0;
		}
		if (sp_tag_chunk_start(prev.prefix, cur.prefix, same)) {
			out[ns].start = t;
			out[ns].type = cur.type;
			ns++;
			open = 1;
		}
		prev = cur;
		prev_raw = tags[t];
	}
	if (open)
		out[ns - 1].end = n;
	return ns;
}

size_t sp_tag_spans_match(const sp_tag_span *g, size_t ng,
			  const sp_tag_span *p, size_t np, size_t *hit)
{
	size_t i = 0, j = 0, count = 0;
	while (i < ng && j < np) {
		if (g[i].start == p[j].start && g[i].end == p[j].end) {
			if (g[i].type == p[j].type) {
				if (hit)
					hit[g[i].type]++;
				count++;
			}
			i++;
			j++;
		} else if (g[i].start < p[j].start ||
			   (g[i].start == p[j].start && g[i].end < p[j].end)) {
			i++;
		} else {
			j++;
		}
	}
	return count;
}

int sp_tags_from_spans(const sp_tag_span *spans, size_t ns, size_t n,
		       sp_tag_scheme to, sp_tag_info *out)
{
	size_t pos = 0;
	if (to == SP_TAGS_NONE)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = (sp_tag_info){'O', -1};
	for (size_t i = 0; i < ns; i++) {
		const sp_tag_span *s = &spans[i];
		const int after_same = i > 0 && spans[i - 1].end == s->start &&
				       spans[i - 1].type == s->type;
		if (s->start < pos || s->end <= s->start || s->end > n)
			return -1;
		for (size_t t = s->start; t < s->end; t++)
			out[t] = (sp_tag_info){'I', s->type};
		switch (to) {
		case SP_TAGS_IOB1:
			if (after_same)
				out[s->start].prefix = 'B';
			break;
		case SP_TAGS_IOB2:
			out[s->start].prefix = 'B';
			break;
		default: /* IOBES */
			if (s->end - s->start == 1) {
				out[s->start].prefix = 'S';
			} else {
				out[s->start].prefix = 'B';
				out[s->end - 1].prefix = 'E';
			}
			break;
		}
		pos = s->end;
	}
	return 0;
}

int sp_tags_convert(const sp_tag_info *tags, size_t n, sp_tag_scheme to,
		    sp_tag_span *spans, sp_tag_info *out)
{
	size_t ns;
	if (to == SP_TAGS_NONE)
		return -1;
	ns = sp_tag_spans(tags, n, spans);
	return sp_tags_from_spans(spans, ns, n, to, out);
}

sp_tag_scheme sp_tags_detect(const sp_tag_info *tags, size_t n)
{
	int iob1 = 0;
	for (size_t t = 0; t < n; t++) {
		const char c = tags[t].prefix;
		if (c == 'E' || c == 'S')
			return SP_TAGS_IOBES;
		if (c == 'I' && (t == 0 || tags[t - 1].prefix == 'O' ||
				 tags[t - 1].type != tags[t].type))
			iob1 = 1;
	}
	return iob1 ? SP_TAGS_IOB1 : SP_TAGS_IOB2;
}

int sp_tag_transition_ok(sp_tag_scheme s, const sp_tag_info *prev,
			 sp_tag_info cur)
{
	const int inside = prev && (prev->prefix == 'B' || prev->prefix == 'I');
	const int same = inside && prev->type == cur.type;
	switch (s) {
	case SP_TAGS_IOB1:
		return cur.prefix != 'B' || same;
	case SP_TAGS_IOB2:
		return cur.prefix != 'I' || same;
	case SP_TAGS_IOBES:
		if (cur.prefix == 'I' || cur.prefix == 'E')
			return same;
		return !inside;
	default:
		return 1;
	}
}

int sp_tag_end_ok(sp_tag_scheme s, sp_tag_info last)
{
	return s != SP_TAGS_IOBES || (last.prefix != 'B' && last.prefix != 'I');
}
