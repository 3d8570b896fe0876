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

int mmfs_glob_compile(const char *glob, GRegex **out, char **why)
{
	GString *re = g_string_new("^");
	const char *p = glob;
	GError *err = NULL;

	if (!*glob || strcmp(glob, "/") == 0) {
		*why = g_strdup_printf("empty glob '%s'", glob);
		g_string_free(re, TRUE);
		return -EINVAL;
	}
	if (*p == '/')
		p++;
	else if (!strchr(glob, '/'))
		g_string_append(re, "(?:.*/)?"); /* a name, in any directory */
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
			const char *end = p + 1;

			if (*end == '!' || *end == '^')
				end++;
			if (*end == ']')
				end++;
			while (*end && *end != ']')
				end++;
			if (!*end) {
				*why = g_strdup_printf(
					"unterminated '[' in glob '%s'", glob);
				g_string_free(re, TRUE);
				return -EINVAL;
			}
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
			p = end;
		} else {
			char one[2] = { *p, 0 };
			char *q = g_regex_escape_string(one, 1);

			g_string_append(re, q);
			g_free(q);
		}
	}
	g_string_append_c(re, '$');
	*out = g_regex_new(re->str, G_REGEX_DOTALL | G_REGEX_OPTIMIZE, 0, &err);
	if (!*out) {
		*why = g_strdup_printf("bad glob '%s': %s", glob, err->message);
		g_error_free(err);
		g_string_free(re, TRUE);
		return -EINVAL;
	}
	g_string_free(re, TRUE);
	return 0;
}

struct mmfs_rule *mmfs_rules_add(struct mmfs_rules *rules, const char *name,
				 const char *const *globs, int line,
				 char **why)
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
		*why = g_strdup_printf("rule '%s' has no globs in 'match'", name);
		return NULL;
	}
	r = g_new0(struct mmfs_rule, 1);
	r->name = g_strdup(name);
	r->globs = g_strdupv((char **)globs);
	r->regexes = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_regex_unref);
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

static const char *const advice_names[] = { "normal", "sequential", "random" };
static const char *const preload_names[] = { "none", "willneed", "populate" };

char *mmfs_policy_describe(const struct mmfs_policy *p)
{
	return g_strdup_printf("sync=%s advice=%s preload=%s mmap=%s",
			       mmfs_sync_mode_name(p->sync),
			       advice_names[p->advice], preload_names[p->preload],
			       p->mmap ? "yes" : "no");
}

char *mmfs_rule_describe(const struct mmfs_rule *r)
{
	GString *s = g_string_new(NULL);

	if (r->set & MMFS_SET_SYNC)
		g_string_append_printf(s, " sync=%s",
				       mmfs_sync_mode_name(r->policy.sync));
	if (r->set & MMFS_SET_ADVICE)
		g_string_append_printf(s, " advice=%s",
				       advice_names[r->policy.advice]);
	if (r->set & MMFS_SET_PRELOAD)
		g_string_append_printf(s, " preload=%s",
				       preload_names[r->policy.preload]);
	if (r->set & MMFS_SET_MMAP)
		g_string_append_printf(s, " mmap=%s",
				       r->policy.mmap ? "yes" : "no");
	if (s->len)
		g_string_erase(s, 0, 1);
	return g_string_free(s, FALSE);
}
