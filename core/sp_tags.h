/*
 * sp_tags.h: entity tag schemes: reading tags, chunking them into entities
 * (spans), converting between schemes, and which tag may follow which.
 *
 * A tag is "O" (outside) or PREFIX-TYPE with PREFIX one of B (begin),
 * I (inside), E (end), S (single) and TYPE not empty ("B-PER").  Schemes:
 *
 *   IOB1   I-X marks every token of a chunk; B-X appears only where a
 *          chunk of type X starts right after another chunk of type X
 *   IOB2   (BIO) B-X starts every chunk, I-X continues it
 *   IOBES  B-X begins, I-X continues, E-X ends a chunk of 2+ tokens;
 *          S-X is a chunk of one token
 *
 * Chunking follows conlleval (CoNLL-2000) exactly on B/I/O tags, whatever
 * their scheme: a chunk starts at B-X, or at I-X after O or after a tag of
 * another type, and ends before O, B-*, or a tag of another type.  So
 * IOB1 and IOB2 give the same chunks, and malformed sequences ("O I-X")
 * are read as conlleval reads them.  IOBES tags are first mapped to IOB2
 * (S -> B; E and I -> I when they continue an open chunk of their type,
 * else B), then chunked the same way; on well-formed IOBES this is exactly
 * IOBES's own reading.  sp_conlleval uses the same two rules
 * (sp_tag_chunk_end, sp_tag_chunk_start), so the figures a tagger reports
 * and conlleval's report agree on B/I/O tags.
 *
 * Tags are handled as sp_tag_info (a prefix letter and a type index into
 * the caller's list of types), so that every tag string is parsed once.
 * All functions are pure: no allocation, no global state.
 */
#ifndef SP_TAGS_H
#define SP_TAGS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sp_tag_scheme {
	SP_TAGS_NONE = 0, /* plain labels: no chunks */
	SP_TAGS_IOB1 = 1,
	SP_TAGS_IOB2 = 2,
	SP_TAGS_IOBES = 3
} sp_tag_scheme;

/* One tag: prefix 'B', 'I', 'E', 'S' or 'O', and the index of its type
 * (-1 for 'O'). */
typedef struct sp_tag_info {
	char prefix;
	int32_t type;
} sp_tag_info;

/* A chunk: tokens [start, end) of one sequence, of one type. */
typedef struct sp_tag_span {
	size_t start, end;
	int32_t type;
} sp_tag_span;

/* "B-PER" -> ('B', "PER"), "O" -> ('O', ""); 0 when tok is neither O nor
 * [BIES]-TYPE with a non-empty TYPE. */
int sp_tag_parse(const char *tok, char *prefix, const char **type);

/* "iob1", "iob2" (also "bio"), "iobes" (also "bioes"), "none" -> the
 * scheme; -1 for any other name. */
int sp_tag_scheme_from_name(const char *name);
/* The canonical name: "iob1", "iob2", "iobes" or "none". */
const char *sp_tag_scheme_name(sp_tag_scheme s);

/*
 * conlleval's chunk rules between the previous tag and the current one,
 * on prefixes (any byte; conlleval also knows '[', ']' and '.') and
 * whether the two tags have the same type (an O and an O do).  The start
 * of a sequence is the previous tag 'O'.
 */
int sp_tag_chunk_end(char prev, char cur, int same_type);
int sp_tag_chunk_start(char prev, char cur, int same_type);

/*
 * The chunks of tags[0..n) (prefixes B, I, E, S, O; E and S read as
 * IOBES), written to out (room for n) in order; returns how many.
 */
size_t sp_tag_spans(const sp_tag_info *tags, size_t n, sp_tag_span *out);

/* Chunks found in both lists (same start, end and type; both in order, as
 * sp_tag_spans writes them): hit[type]++ for each; returns how many. */
size_t sp_tag_spans_match(const sp_tag_span *gold, size_t ng,
			  const sp_tag_span *pred, size_t np, size_t *hit);

/*
 * Writes the n tags of the chunks spans[0..ns) (in order, disjoint, inside
 * [0, n)) in scheme `to` to out[0..n); tokens outside every chunk get O.
 * Returns 0, or -1 when `to` is SP_TAGS_NONE or a span is out of order.
 */
int sp_tags_from_spans(const sp_tag_span *spans, size_t ns, size_t n,
		       sp_tag_scheme to, sp_tag_info *out);

/* Converts tags[0..n) to scheme `to` through their chunks: the result has
 * the same chunks.  `spans` is scratch room for n spans.  out may be tags.
 * Returns 0, or -1 when `to` is SP_TAGS_NONE. */
int sp_tags_convert(const sp_tag_info *tags, size_t n, sp_tag_scheme to,
		    sp_tag_span *spans, sp_tag_info *out);

/* The scheme tags[0..n) are written in: IOBES when an E or S prefix
 * occurs, IOB1 when some chunk starts with I (after O or another type),
 * else IOB2 (also for a sequence without chunks). */
sp_tag_scheme sp_tags_detect(const sp_tag_info *tags, size_t n);

/*
 * Is `cur` allowed right after `prev` in a well-formed sequence of scheme
 * s?  prev == NULL asks about the first tag of a sequence, and
 * sp_tag_end_ok whether a sequence may end with `last`.  SP_TAGS_NONE
 * allows everything.
 *   IOB2   I-X only after B-X or I-X
 *   IOB1   B-X only after B-X or I-X
 *   IOBES  I-X and E-X only after B-X or I-X; B, S and O only after O,
 *          E or S (or first); the last tag is O, E or S
 */
int sp_tag_transition_ok(sp_tag_scheme s, const sp_tag_info *prev,
			 sp_tag_info cur);
int sp_tag_end_ok(sp_tag_scheme s, sp_tag_info last);

#ifdef __cplusplus
}
#endif
#endif /* SP_TAGS_H */
