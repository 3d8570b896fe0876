// SPDX-License-Identifier: GPL-2.0-or-later
/* Per-path rules (see rules.h): globs compiled to anchored GRegex, matched
 * in file order. */
#include <errno.h>
#include <string.h>

#include "memmapfs/rules.h"

void mmfs_rules_init(struct mmfs_rules *rules)
{
	rules->list = g_ptr_array_new();
}

static void rule_free(struct mmfs_rule *r)
{
	g_free(r->name);
	g_strfreev(r->globs);
	g_ptr_array_free(r->regexes, TRUE);
	g_free(r);
}

void mmfs_rules_clear(struct mmfs_rules *rules)
{
	if (!rules->list)
		return;
	for (guint i = 0; i < rules->list->len; i++)
		rule_free(rules->list->pdata[i]);
	g_ptr_array_free(rules->list, TRUE);
	rules->list = NULL;
}

/* The set [...] starting at p as a regex class appended to re. Returns
 * the set's closing ']', or NULL when it has none. */
static const char *glob_set(GString *re, const char *p)
{
	const char *end = p + 1;

	if (*end == '!' || *end == '^')
		end++;
	if (*end == ']')
		end++;
	while (*end && *end != ']')
		end++;
	if (!*end)
		return NULL;
	g_string_append_c(re, '[');
	for (const char *c = p + 1; c < end; c++) {
		if (c == p + 1 && (*c == '!' || *c == '^'))
			g_string_append_c(re, '^');
		else if (*c == '\\' || *c == '[')
			g_string_append_printf(re, "\\%c", *c);
		else
			g_string_append_c(re, *c);
	}
	g_string_append_c(re, ']');
	return end;
}

/* The glob's body (after its optional leading '/') as regex, appended to
 * re. 0, or -EINVAL for an unterminated set. */
static int glob_body(GString *re, const char *p)
{
	for (; *p; p++) {
		if (p[0] == '*' && p[1] == '*') {
			/* "**" and "**\/": any depth, including none */
			if (p[2] == '/') {
				g_string_append(re, "(?:.*/)?");
				p += 2;
			} else {
				g_string_append(re, ".*");
				p++;
			}
		} else if (*p == '*') {
			g_string_append(re, "[^/]*");
		} else if (*p == '?') {
			g_string_append(re, "[^/]");
		} else if (*p == '[') {
			p = glob_set(re, p);
			if (!p)
				return -EINVAL;
		} else {
			char one[2] = {*p, 0};
			char *q = g_regex_escape_string(one, 1);

			g_string_append(re, q);
			g_free(q);
		}
	}
	return 0;
}

int mmfs_glob_compile(const char *glob, GRegex **out, char **why)
{
	GString *re = g_string_new("^");
	const char *p = glob;
	GError *err = NULL;
	int rc = 0;

	if (!*glob || strcmp(glob, "/") == 0) {
		*why = g_strdup_printf("empty glob '%s'", glob);
		rc = -EINVAL;
		goto out;
	}
	if (*p == '/')
		p++;
	else if (!strchr(glob, '/'))
		g_string_append(re, "(?:.*/)?"); /* a name, in any directory */
	if (glob_body(re, p) != 0) {
		*why = g_strdup_printf("unterminated '[' in glob '%s'", glob);
		rc = -EINVAL;
		goto out;
	}
	g_string_append_c(re, '$');
	*out = g_regex_new(re->str, G_REGEX_DOTALL | G_REGEX_OPTIMIZE, 0, &err);
	if (!*out) {
		*why = g_strdup_printf("bad glob '%s': %s", glob, err->message);
		g_error_free(err);
		rc = -EINVAL;
	}
out:
	g_string_free(re, TRUE);
	return rc;
}

struct mmfs_rule *mmfs_rules_add(struct mmfs_rules *rules, const char *name,
				 const char *const *globs, int line, char **why)
{
	struct mmfs_rule *r;

	for (guint i = 0; i < rules->list->len; i++) {
		const struct mmfs_rule *other = rules->list->pdata[i];

		if (strcmp(other->name, name) == 0) {
			*why = g_strdup_printf("duplicate rule '%s' (first at "
					       "line %d)",
					       name, other->line);
			return NULL;
		}
	}
	if (!globs || !globs[0]) {
		*why =
		    g_strdup_printf("rule '%s' has no globs in 'match'", name);
		return NULL;
	}
	r = g_new0(struct mmfs_rule, 1);
	r->name = g_strdup(name);
	r->globs = g_strdupv((char **)globs);
	r->regexes =
	    g_ptr_array_new_with_free_func((GDestroyNotify)g_regex_unref);
	r->line = line;
	for (int i = 0; globs[i]; i++) {
		GRegex *re;

		if (mmfs_glob_compile(globs[i], &re, why) != 0) {
			rule_free(r);
			return NULL;
		}
		g_ptr_array_add(r->regexes, re);
	}
	g_ptr_array_add(rules->list, r);
	return r;
}

const struct mmfs_rule *mmfs_rules_match(const struct mmfs_rules *rules,
					 const char *path)
{
	if (!rules->list)
		return NULL;
	while (*path == '/')
		path++;
	for (guint i = 0; i < rules->list->len; i++) {
		const struct mmfs_rule *r = rules->list->pdata[i];

		for (guint j = 0; j < r->regexes->len; j++)
			if (g_regex_match(r->regexes->pdata[j], path, 0, NULL))
				return r;
	}
	return NULL;
}

void mmfs_policy_apply(struct mmfs_policy *policy, const struct mmfs_rule *rule)
{
	if (!rule)
		return;
	if (rule->set & MMFS_SET_SYNC)
		policy->sync = rule->policy.sync;
	if (rule->set & MMFS_SET_ADVICE)
		policy->advice = rule->policy.advice;
	if (rule->set & MMFS_SET_PRELOAD)
		policy->preload = rule->policy.preload;
	if (rule->set & MMFS_SET_MMAP)
		policy->mmap = rule->policy.mmap;
}
