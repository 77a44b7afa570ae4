// SPDX-License-Identifier: MIT
/*
 * Typed access to the YAML nodes of a scenario. Every accessor either gives
 * a value or records one message at the node's place and returns false; the
 * caller goes on with the next field. Values are typed by their text, not by
 * their quoting: qd: 8 and qd: "8" are the same.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "scenario/scenario_int.h"

#define QUOTE_MAX 40		/* characters of a value shown in a message */

/* --- errors --- */

static bool err_before(const struct sc_err *a, const struct sc_err *b)
{
	if (a->is_ov != b->is_ov)
		return a->is_ov;	/* what the user just typed comes first */
	if (a->is_ov && a->ov != b->ov)
		return a->ov < b->ov;
	if (a->line != b->line)
		return a->line < b->line;
	if (a->col != b->col)
		return a->col < b->col;
	return a->seq < b->seq;
}

/* Keep the SC_MAX_ERRS earliest errors, sorted; drop exact repeats (aliases). */
static void add_err(struct sc_ctx *c, struct sc_err *e)
{
	unsigned int i;

	for (i = 0; i < c->nr_errs; i++) {
		const struct sc_err *o = &c->errs[i];

		if (o->is_ov == e->is_ov && o->ov == e->ov && o->line == e->line &&
		    o->col == e->col && !strcmp(o->msg, e->msg))
			return;
	}
	e->seq = c->seq++;
	for (i = c->nr_errs; i > 0 && err_before(e, &c->errs[i - 1]); i--)
		if (i < SC_MAX_ERRS)
			c->errs[i] = c->errs[i - 1];
	if (i >= SC_MAX_ERRS)
		return;
	c->errs[i] = *e;
	if (c->nr_errs < SC_MAX_ERRS)
		c->nr_errs++;
}

/* The override that added node @n, or -1 when @n comes from the file. */
static long node_override(const struct sc_ctx *c, const yaml_node_t *n)
{
	size_t index = (size_t)(n - c->doc->nodes.start) + 1;
	long ov = -1;

	if (index <= c->nr_orig_nodes || !c->ov_first)
		return -1;
	for (size_t i = 0; i < c->nr_ov; i++)
		if (c->ov_first[i] && c->ov_first[i] <= index)
			ov = (long)i;
	return ov;
}

static void __attribute__((format(printf, 5, 0)))
verror(struct sc_ctx *c, bool is_ov, size_t ov, yaml_mark_t m, const char *fmt, va_list ap)
{
	struct sc_err e = { .is_ov = is_ov, .ov = ov, .line = m.line, .col = m.column };

	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	add_err(c, &e);
}

/**
 * nvr_sc_error() - record a message about node @n (at its place in the file, or
 * against the override that wrote it).
 */
void nvr_sc_error(struct sc_ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	long ov = node_override(c, n);
	va_list ap;

	va_start(ap, fmt);
	verror(c, ov >= 0, ov >= 0 ? (size_t)ov : 0, n->start_mark, fmt, ap);
	va_end(ap);
}

void nvr_sc_error_mark(struct sc_ctx *c, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(c, false, 0, m, fmt, ap);
	va_end(ap);
}

void nvr_sc_error_ov(struct sc_ctx *c, size_t ov, const char *fmt, ...)
{
	yaml_mark_t m = { 0 };
	va_list ap;

	va_start(ap, fmt);
	verror(c, true, ov, m, fmt, ap);
	va_end(ap);
}

bool nvr_sc_visit(struct sc_ctx *c, const yaml_node_t *n)
{
	if (c->abort)
		return false;
	if (++c->visits <= SC_BUDGET)
		return true;
	c->abort = true;
	nvr_sc_error(c, n, "the document is too complex: more than %lu nodes to read (aliases?)",
		 SC_BUDGET);
	return false;
}

yaml_node_t *nvr_sc_node(struct sc_ctx *c, int index)
{
	return yaml_document_get_node(c->doc, index);
}

/* --- showing values in messages --- */

/**
 * nvr_sc_quote() - @s in single quotes for a message: at most QUOTE_MAX bytes,
 * cut on a character boundary, control characters shown as '?'.
 * Return: @buf.
 */
const char *nvr_sc_quote(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s), take = NVR_MIN(n, (size_t)QUOTE_MAX), o = 0;

	if (len < QUOTE_MAX + 8)
		return "'...'";
	/* Do not cut a UTF-8 sequence: back up over continuation bytes. */
	while (take < n && take > 0 && ((unsigned char)s[take] & 0xc0) == 0x80)
		take--;
	buf[o++] = '\'';
	for (size_t i = 0; i < take; i++) {
		unsigned char ch = (unsigned char)s[i];

		buf[o++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (take < n) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return buf;
}

static bool scalar_clean(const yaml_node_t *n)
{
	return strlen((const char *)n->data.scalar.value) == n->data.scalar.length;
}

/* What a node is, for "expected X, got Y". */
const char *nvr_sc_describe(const yaml_node_t *n, char *buf, size_t len)
{
	if (!n)
		return "nothing";
	switch (n->type) {
	case YAML_SCALAR_NODE:
		if (!n->data.scalar.length)
			return "an empty value";
		if (!scalar_clean(n))
			return "a value with a NUL character";
		return nvr_sc_quote((const char *)n->data.scalar.value, buf, len);
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* --- did you mean --- */

/* Edit distance with transpositions (optimal string alignment), short words only. */
static unsigned int distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned int d[3][33];
	unsigned int *pp = d[0], *p = d[1], *cur = d[2];

	if (la > 32 || lb > 32)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		p[j] = (unsigned int)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned int *t;

		cur[0] = (unsigned int)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned int cost = a[i - 1] != b[j - 1];
			unsigned int v = NVR_MIN(p[j] + 1, cur[j - 1] + 1);

			v = NVR_MIN(v, p[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
				v = NVR_MIN(v, pp[j - 2] + 1);
			cur[j] = v;
		}
		t = pp;
		pp = p;
		p = cur;
		cur = t;
	}
	return p[lb];
}

/**
 * nvr_sc_suggest() - the candidate @word was probably meant to be: within two
 * edits (and not a rewrite of a whole short word), else one that @word
 * begins with or is the beginning of (two characters at least).
 * Return: a member of @cands, or NULL.
 */
const char *nvr_sc_suggest(const char *word, const char *const *cands, size_t n)
{
	size_t lw = strlen(word);
	const char *best = NULL;
	unsigned int bestd = 3;

	for (size_t i = 0; i < n; i++) {
		size_t lc = strlen(cands[i]);
		unsigned int d;

		if ((lw > lc ? lw - lc : lc - lw) > 2)
			continue;
		d = distance(word, cands[i]);
		if (d < bestd && d < lw && d < lc) {
			best = cands[i];
			bestd = d;
		}
	}
	if (best)
		return best;
	for (size_t i = 0; i < n; i++) {
		size_t lc = strlen(cands[i]), m = NVR_MIN(lw, lc);

		if (m >= 2 && !strncmp(word, cands[i], m))
			return cands[i];
	}
	return NULL;
}

/*
 * "unknown key 'qdepth' in submit; did you mean 'qd'?"
 * Return: the suggestion, a member of @cands, or NULL.
 */
const char *nvr_sc_unknown(struct sc_ctx *c, const yaml_node_t *n, const char *what,
		       const char *word, const char *where, const char *const *cands, size_t nr)
{
	const char *s = nvr_sc_suggest(word, cands, nr);
	char q[QUOTE_MAX + 8];

	nvr_sc_error(c, n, "unknown %s %s%s%s%s%s%s", what, nvr_sc_quote(word, q, sizeof(q)),
		 where ? " " : "", where ? where : "", s ? "; did you mean '" : "", s ? s : "",
		 s ? "'?" : "");
	return s;
}

/* --- mappings and sequences --- */

static bool want_type(struct sc_ctx *c, yaml_node_t *n, const char *name, yaml_node_type_t t,
		      const char *want)
{
	char q[QUOTE_MAX + 8];

	if (!n || !nvr_sc_visit(c, n))
		return false;
	if (n->type == t)
		return true;
	nvr_sc_error(c, n, "%s: expected %s, got %s", name, want, nvr_sc_describe(n, q, sizeof(q)));
	return false;
}

bool nvr_sc_is_map(struct sc_ctx *c, yaml_node_t *n, const char *name)
{
	return want_type(c, n, name, YAML_MAPPING_NODE, "a mapping");
}

bool nvr_sc_is_seq(struct sc_ctx *c, yaml_node_t *n, const char *name)
{
	return want_type(c, n, name, YAML_SEQUENCE_NODE, "a sequence");
}

static int key_index(const yaml_node_t *k, const struct sc_key *keys, size_t nr)
{
	if (k->type != YAML_SCALAR_NODE || !scalar_clean(k))
		return -1;
	for (size_t i = 0; i < nr; i++)
		if (!strcmp((const char *)k->data.scalar.value, keys[i].name))
			return (int)i;
	return -1;
}

/**
 * nvr_sc_map() - read mapping @n against the keys allowed there.
 * @name: the mapping's name, for a type error; @where: "in submit" and the like.
 * @vals: filled with the value node of each key in @keys (NULL: absent).
 *
 * Unknown keys (with a did-you-mean), duplicate keys, keys that are not
 * scalars and missing required keys are reported.
 * Return: false only when @n is not a mapping (or the walk stops).
 */
bool nvr_sc_map(struct sc_ctx *c, yaml_node_t *n, const char *name, const char *where,
	    const struct sc_key *keys, size_t nr, yaml_node_t **vals)
{
	return nvr_sc_map_of(c, n, name, where, "key", keys, nr, vals);
}

/* nvr_sc_map() where the keys are not called keys: "unknown fault 'x' in ...". */
bool nvr_sc_map_of(struct sc_ctx *c, yaml_node_t *n, const char *name, const char *where,
	       const char *what, const struct sc_key *keys, size_t nr, yaml_node_t **vals)
{
	const yaml_node_t *knodes[SC_MAX_KEYS] = { 0 };
	bool meant[SC_MAX_KEYS] = { 0 };
	const char *names[SC_MAX_KEYS];
	char q[QUOTE_MAX + 8];

	if (nr > SC_MAX_KEYS)
		return false;
	memset(vals, 0, nr * sizeof(*vals));
	if (!nvr_sc_is_map(c, n, name))
		return false;
	for (size_t i = 0; i < nr; i++)
		names[i] = keys[i].name;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = nvr_sc_node(c, p->key), *v = nvr_sc_node(c, p->value);
		int i;

		if (!k || !v || !nvr_sc_visit(c, k))
			return !c->abort;
		if (k->type != YAML_SCALAR_NODE || !scalar_clean(k)) {
			nvr_sc_error(c, k, "a key must be a scalar, got %s",
				 nvr_sc_describe(k, q, sizeof(q)));
			continue;
		}
		i = key_index(k, keys, nr);
		if (i < 0) {
			const char *sug = nvr_sc_unknown(c, k, what, (const char *)k->data.scalar.value,
						     where, names, nr);

			/* The misspelt key is the error; "missing 'queues'" would repeat it. */
			for (size_t j = 0; sug && j < nr; j++)
				if (names[j] == sug)
					meant[j] = true;
			continue;
		}
		if (vals[i]) {
			const yaml_mark_t *m = &knodes[i]->start_mark;

			nvr_sc_error(c, k, "duplicate %s '%s' %s (first at %zu:%zu)", what,
				 keys[i].name, where, m->line + 1, m->column + 1);
			continue;
		}
		vals[i] = v;
		knodes[i] = k;
	}
	for (size_t i = 0; i < nr; i++)
		if (keys[i].required && !vals[i] && !meant[i])
			nvr_sc_error(c, n, "missing key '%s' %s", keys[i].name, where);
	return true;
}

/* --- scalars --- */

/* @n is a scalar without NUL characters; @want names the type for the message. */
bool nvr_sc_scalar(struct sc_ctx *c, yaml_node_t *n, const char *name, const char *want,
	       const char **out)
{
	char q[QUOTE_MAX + 8];

	if (!n || !nvr_sc_visit(c, n))
		return false;
	if (n->type != YAML_SCALAR_NODE || !scalar_clean(n)) {
		nvr_sc_error(c, n, "%s: expected %s, got %s", name, want, nvr_sc_describe(n, q, sizeof(q)));
		return false;
	}
	*out = (const char *)n->data.scalar.value;
	return true;
}

/**
 * nvr_sc_parse_u64() - a decimal integer; '_' may separate digits (200_000).
 * Return: 0, -EINVAL when @s is not an integer, -ERANGE when it is negative
 * or does not fit 64 bits.
 */
int nvr_sc_parse_u64(const char *s, uint64_t *out)
{
	bool neg = *s == '-', digit = false;
	uint64_t v = 0;
	int ret = 0;

	if (neg)
		s++;
	for (; *s; s++) {
		if (*s == '_' && digit && s[1] >= '0' && s[1] <= '9')
			continue;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		digit = true;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			ret = -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (!digit)
		return -EINVAL;
	*out = v;
	return neg && v ? -ERANGE : ret;
}

bool nvr_sc_uint(struct sc_ctx *c, yaml_node_t *n, const char *name, uint64_t lo, uint64_t hi,
	     uint64_t *out)
{
	char q[QUOTE_MAX + 8];
	const char *s;
	uint64_t v = 0;
	int ret;

	if (!nvr_sc_scalar(c, n, name, "an integer", &s))
		return false;
	ret = nvr_sc_parse_u64(s, &v);
	if (ret == -EINVAL) {
		nvr_sc_error(c, n, "%s: expected an integer, got %s", name,
			 nvr_sc_describe(n, q, sizeof(q)));
		return false;
	}
	if (ret || v < lo || v > hi) {
		/* Only digits, '-' and '_' got here: no quoting needed. */
		nvr_sc_error(c, n, "%s %.40s is out of range (%llu..%llu)", name, s,
			 (unsigned long long)lo, (unsigned long long)hi);
		return false;
	}
	*out = v;
	return true;
}

bool nvr_sc_bool(struct sc_ctx *c, yaml_node_t *n, const char *name, bool *out)
{
	char q[QUOTE_MAX + 8];
	const char *s;

	if (!nvr_sc_scalar(c, n, name, "true or false", &s))
		return false;
	if (!strcmp(s, "true") || !strcmp(s, "false")) {
		*out = s[0] == 't';
		return true;
	}
	nvr_sc_error(c, n, "%s: expected true or false, got %s", name, nvr_sc_describe(n, q, sizeof(q)));
	return false;
}

/*
 * Free text of at most @size - 1 bytes. With @word, it must be one word of
 * printable ASCII (a file name); without, trailing newlines are dropped.
 */
bool nvr_sc_text(struct sc_ctx *c, yaml_node_t *n, const char *name, char *buf, size_t size,
	     bool word)
{
	char q[QUOTE_MAX + 8];
	const char *s;
	size_t len;

	if (!nvr_sc_scalar(c, n, name, word ? "a word" : "a string", &s))
		return false;
	len = strlen(s);
	while (!word && len && (s[len - 1] == '\n' || s[len - 1] == ' '))
		len--;
	for (size_t i = 0; word && i < len; i++) {
		if (s[i] <= ' ' || s[i] > '~') {
			nvr_sc_error(c, n, "%s: expected one word of printable ASCII, got %s", name,
				 nvr_sc_describe(n, q, sizeof(q)));
			return false;
		}
	}
	if (word && !len) {
		nvr_sc_error(c, n, "%s: expected a word, got an empty value", name);
		return false;
	}
	if (len >= size) {
		nvr_sc_error(c, n, "%s is too long (%zu bytes; at most %zu)", name, len, size - 1);
		return false;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	return true;
}

/* A name: letters, digits, '-' and '_', at most @size - 1 of them. */
bool nvr_sc_ident(struct sc_ctx *c, yaml_node_t *n, const char *name, char *buf, size_t size)
{
	char q[QUOTE_MAX + 8];
	const char *s;
	size_t len;

	if (!nvr_sc_scalar(c, n, name, "a name", &s))
		return false;
	len = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");
	if (!len || s[len]) {
		nvr_sc_error(c, n, "%s: expected a name (letters, digits, - and _), got %s", name,
			 nvr_sc_describe(n, q, sizeof(q)));
		return false;
	}
	if (len >= size) {
		nvr_sc_error(c, n, "%s %s is too long (at most %zu characters)", name,
			 nvr_sc_quote(s, q, sizeof(q)), size - 1);
		return false;
	}
	memcpy(buf, s, len + 1);
	return true;
}

/* "read, write, flush or mix" */
static void list_names(char *buf, size_t len, const char *const *names, size_t nr)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < nr && off < len; i++) {
		const char *sep = !i ? "" : i + 1 == nr ? " or " : ", ";
		int w = snprintf(buf + off, len - off, "%s%s", sep, names[i]);

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

/**
 * nvr_sc_choice() - one word out of @names.
 * Return: its index, or -1 (reported, with a did-you-mean).
 */
int nvr_sc_choice(struct sc_ctx *c, yaml_node_t *n, const char *name, const char *const *names,
	      size_t nr)
{
	char q[QUOTE_MAX + 8], list[160];
	const char *s, *sug;

	list_names(list, sizeof(list), names, nr);
	if (!nvr_sc_scalar(c, n, name, list, &s))
		return -1;
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	sug = nvr_sc_suggest(s, names, nr);
	nvr_sc_error(c, n, "%s: expected %s, got %s%s%s%s", name, list, nvr_sc_describe(n, q, sizeof(q)),
		 sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
	return -1;
}
