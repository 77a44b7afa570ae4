// SPDX-License-Identifier: MIT
/*
 * Overrides: "--set path=value" from the command line, grafted onto the
 * loaded YAML tree before it is read, so that an override is held to the
 * same checks as the file. The nodes an override adds are numbered after the
 * file's; nvr_sc_error() uses that to report against the override instead of a
 * place in the file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/scenario_int.h"

#define MAX_PATH 256		/* an override's path */

static bool utf8_valid(const unsigned char *s)
{
	while (*s) {
		int more = *s < 0x80 ? 0 : (*s & 0xe0) == 0xc0 ? 1 : (*s & 0xf0) == 0xe0 ? 2 :
			   (*s & 0xf8) == 0xf0 ? 3 : -1;

		if (more < 0)
			return false;
		for (s++; more; more--, s++)
			if ((*s & 0xc0) != 0x80)
				return false;
	}
	return true;
}

static int add_scalar(struct sc_ctx *c, const char *s)
{
	return yaml_document_add_scalar(c->doc, NULL, (const yaml_char_t *)s, -1,
					YAML_PLAIN_SCALAR_STYLE);
}

static bool scalar_is(const yaml_node_t *n, const char *s)
{
	return n && n->type == YAML_SCALAR_NODE && !strcmp((const char *)n->data.scalar.value, s);
}

/* The element of sequence @n that @key names: by its name or id, else by index. */
static yaml_node_item_t *seq_find(struct sc_ctx *c, yaml_node_t *n, const char *key)
{
	yaml_node_item_t *items = n->data.sequence.items.start;
	size_t nr = (size_t)(n->data.sequence.items.top - items);
	uint64_t index;

	for (size_t i = 0; i < nr; i++) {
		yaml_node_t *e = nvr_sc_node(c, items[i]);

		if (!e || e->type != YAML_MAPPING_NODE)
			continue;
		for (yaml_node_pair_t *p = e->data.mapping.pairs.start;
		     p < e->data.mapping.pairs.top; p++) {
			yaml_node_t *k = nvr_sc_node(c, p->key);

			if ((scalar_is(k, "name") || scalar_is(k, "id")) &&
			    scalar_is(nvr_sc_node(c, p->value), key))
				return &items[i];
		}
	}
	if (strspn(key, "0123456789") == strlen(key) && !nvr_sc_parse_u64(key, &index) && index < nr)
		return &items[index];
	return NULL;
}

/*
 * Where the walk along @path is when it reaches @part, for messages:
 * "actors.io.steps", "the top level". @path is strtok_r()'s copy of @orig.
 */
static const char *prefix(const char *orig, const char *path, const char *part, char *buf,
			  size_t len)
{
	if (part == path)
		return "the top level";
	snprintf(buf, len, "%.*s", (int)(part - path - 1), orig);
	return buf;
}

/*
 * Walk override @i's @path from the root. On success *@slot is the link to
 * the node the path names; or, when only its last key is missing from a
 * mapping, *@slot is NULL, *@map that mapping and *@key the missing key.
 * Return: false when the path leads nowhere (reported).
 */
static bool resolve(struct sc_ctx *c, size_t i, char *path, int **slot, int *map, char **key)
{
	const char *o = c->ov[i].path;
	char where[MAX_PATH], *part, *save = NULL;
	int cur = 1;	/* the root */

	for (part = strtok_r(path, ".", &save); part; part = strtok_r(NULL, ".", &save)) {
		yaml_node_t *n = nvr_sc_node(c, cur);

		*slot = NULL;
		if (n->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
			     p < n->data.mapping.pairs.top && !*slot; p++)
				if (scalar_is(nvr_sc_node(c, p->key), part))
					*slot = &p->value;
			if (!*slot && !*save) {
				*map = cur;
				*key = part;
				return true;
			}
			if (!*slot) {
				nvr_sc_error_ov(c, i, "no key '%s' in %s", part,
					    prefix(o, path, part, where, sizeof(where)));
				return false;
			}
		} else if (n->type == YAML_SEQUENCE_NODE) {
			*slot = seq_find(c, n, part);
			if (!*slot) {
				nvr_sc_error_ov(c, i, "no element '%s' in %s (give an index, a name or "
					    "an id)", part,
					    prefix(o, path, part, where, sizeof(where)));
				return false;
			}
		} else {
			nvr_sc_error_ov(c, i, "%s is a value; it has no '%s'",
				    prefix(o, path, part, where, sizeof(where)), part);
			return false;
		}
		cur = **slot;
	}
	return true;
}

/*
 * Apply override @i: put a new plain scalar where its path points, or add
 * the path's last key to the mapping that lacks it.
 * Return: -ENOMEM, else 0 (a bad override is reported, not returned).
 */
static int apply_one(struct sc_ctx *c, size_t i)
{
	const struct nvr_override *o = &c->ov[i];
	char path[MAX_PATH], *key = NULL;
	int *slot = NULL, map = 0, k, v;
	size_t len = o->path ? strlen(o->path) : 0;

	if (!len || !o->value) {
		nvr_sc_error_ov(c, i, "an override needs a path and a value");
		return 0;
	}
	if (len >= sizeof(path)) {
		nvr_sc_error_ov(c, i, "the path is too long (at most %zu bytes)", sizeof(path) - 1);
		return 0;
	}
	if (strstr(o->path, "..") || o->path[0] == '.' || o->path[len - 1] == '.') {
		nvr_sc_error_ov(c, i, "an empty key in the path");
		return 0;
	}
	if (!utf8_valid((const unsigned char *)o->value) ||
	    !utf8_valid((const unsigned char *)o->path)) {
		nvr_sc_error_ov(c, i, "not valid UTF-8");
		return 0;
	}
	if (!yaml_document_get_root_node(c->doc)) {
		nvr_sc_error_ov(c, i, "the document is empty");
		return 0;
	}
	memcpy(path, o->path, len + 1);
	if (!resolve(c, i, path, &slot, &map, &key))
		return 0;
	/* @slot points into a pairs or items array, which adding a node leaves alone. */
	if (slot) {
		v = add_scalar(c, o->value);
		if (!v)
			return -ENOMEM;
		*slot = v;
		c->ov_first[i] = (size_t)v;
		return 0;
	}
	k = add_scalar(c, key);
	v = k ? add_scalar(c, o->value) : 0;
	if (!v || !yaml_document_append_mapping_pair(c->doc, map, k, v))
		return -ENOMEM;
	c->ov_first[i] = (size_t)k;
	return 0;
}

/**
 * nvr_sc_apply_overrides() - apply every override of @c, in order, to its document.
 * @c: the context, its document loaded.
 *
 * Return: 0, or -ENOMEM. A path that leads nowhere is reported, not returned.
 */
int nvr_sc_apply_overrides(struct sc_ctx *c)
{
	if (!c->nr_ov)
		return 0;
	c->ov_first = calloc(c->nr_ov, sizeof(*c->ov_first));
	if (!c->ov_first)
		return -ENOMEM;
	for (size_t i = 0; i < c->nr_ov; i++) {
		int ret = apply_one(c, i);

		if (ret)
			return ret;
	}
	return 0;
}
