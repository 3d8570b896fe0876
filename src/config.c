// SPDX-License-Identifier: GPL-2.0-or-later
/* Command line, -o options and the config file for memmapfs, all through
 * the option table (options.c): options the daemon owns are validated with
 * messages that name the option, the value and what is accepted; generic
 * libfuse/mount options are handed on untouched in cfg->fuse_argv. */
#include <ctype.h>
#include <inttypes.h>
#include <stddef.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "memmapfs/config.h"
#include "memmapfs/options.h"
#include "memmapfs/stats.h"

static int fail(struct mmfs_config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct mmfs_config *cfg, const char *fmt, ...)
{
	va_list ap;

	char *msg;

	if (cfg->error)
		return -EINVAL; /* keep the first problem */
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	/* inside a config file: say where */
	cfg->error = cfg->where ? g_strdup_printf("%s: %s", cfg->where, msg)
				: g_strdup(msg);
	g_free(msg);
	return -EINVAL;
}

/* What a parse collects for libfuse: generic -o options (unescaped; joined
 * with commas, escaped again, at the end) and other words. */
struct generic {
	GPtrArray *opts;
	GPtrArray *words;
};

/* name=value (or name) of a table row whose value goes to libfuse. */
static void pass_on(struct generic *g, const char *name, const char *val)
{
	g_ptr_array_add(g->opts, val ? g_strdup_printf("%s=%s", name, val)
				     : g_strdup(name));
}

/* One option of the command line or of [global] (ctx NULL). in is the
 * place (MMFS_IN_CMDLINE or MMFS_IN_GLOBAL). */
static int apply_option(struct mmfs_config *cfg, const struct mmfs_option *o,
			const char *val, struct generic *g)
{
	char *why = NULL;
	int on = 1;

	switch (o->type) {
	case MMFS_OPT_IGNORED:
	case MMFS_OPT_PATH: /* config=: read before everything else */
		return 0;
	case MMFS_OPT_GENERIC_FLAG:
		if (val && mmfs_parse_bool(val, &on) != 0)
			break;
		if (on)
			pass_on(g, o->name, NULL);
		return 0;
	case MMFS_OPT_GENERIC:
		if (!val)
			break;
		if (o->cfg_off >= 0)
			*(int *)((char *)cfg + o->cfg_off) = 1;
		pass_on(g, o->name, val);
		return 0;
	default:
		if (mmfs_option_set(o, cfg, 0, val, NULL, &why) != 0)
			break;
		return 0;
	}
	if (!why) {
		char *expected = o->type == MMFS_OPT_GENERIC
				     ? g_strdup("a value")
				     : g_strdup("true or false (yes/no "
						"and on/off work too)");

		why =
		    val ? g_strdup_printf("invalid value '%s' for option "
					  "'%s': expected %s",
					  val, o->name, expected)
			: g_strdup_printf("option '%s' needs a value", o->name);
		g_free(expected);
	}
	fail(cfg, "%s", why);
	g_free(why);
	return -EINVAL;
}

/* One word of a -o list: name or name=value. */
static int cmdline_option(struct mmfs_config *cfg, const char *opt,
			  struct generic *g)
{
	const char *eq = strchr(opt, '=');
	g_autofree char *name = eq ? g_strndup(opt, eq - opt) : g_strdup(opt);
	const struct mmfs_option *o;

	/* x-systemd.*, x-gvfs-* and friends are for mount(8) and systemd,
	 * never for the filesystem. */
	if (strncmp(opt, "x-", 2) == 0)
		return 0;
	o = mmfs_option_find(name, MMFS_IN_CMDLINE);
	if (!o || o->type == MMFS_OPT_SWITCH) {
		/* a generic option: libfuse validates it */
		g_ptr_array_add(g->opts, g_strdup(opt));
		return 0;
	}
	return apply_option(cfg, o, eq ? eq + 1 : NULL, g);
}

/* A -o argument's options: split at commas, a backslash escaping the next
 * character (as libfuse's own parser does). Empty ones are dropped. */
static GPtrArray *split_options(const char *list)
{
	GPtrArray *opts = g_ptr_array_new_with_free_func(g_free);
	GString *one = g_string_new(NULL);

	for (const char *p = list;; p++) {
		if (*p == '\\' && p[1]) {
			g_string_append_c(one, *++p);
			continue;
		}
		if (*p && *p != ',') {
			g_string_append_c(one, *p);
			continue;
		}
		if (one->len)
			g_ptr_array_add(opts, g_strdup(one->str));
		g_string_truncate(one, 0);
		if (!*p)
			break;
	}
	g_string_free(one, TRUE);
	return opts;
}

static int cmdline_options(struct mmfs_config *cfg, const char *list,
			   struct generic *g)
{
	GPtrArray *opts = split_options(list);
	int rc = 0;

	for (guint i = 0; i < opts->len && rc == 0; i++)
		rc = cmdline_option(cfg, opts->pdata[i], g);
	g_ptr_array_free(opts, TRUE);
	return rc;
}

/* SOURCE, MOUNTPOINT, and for --print-config more paths. */
static int positional(struct mmfs_config *cfg, const char *arg)
{
	if (!cfg->source) {
		cfg->source = g_strdup(arg);
		return 0;
	}
	if (!cfg->mountpoint) {
		cfg->mountpoint = g_strdup(arg);
		return 0;
	}
	if (cfg->print_config) {
		g_ptr_array_add(cfg->paths, g_strdup(arg));
		return 0;
	}
	return fail(cfg,
		    "unexpected argument '%s': memmapfs takes exactly "
		    "SOURCE and MOUNTPOINT",
		    arg);
}

/* The -o list of argument i (-oLIST or -o LIST), or NULL when it is not
 * one; *i moves past it. */
static const char *o_argument(int argc, const char *const *argv, int *i)
{
	const char *a = argv[*i];

	if (strncmp(a, "-o", 2) != 0)
		return NULL;
	if (a[2])
		return a + 2;
	if (*i + 1 >= argc)
		return "";
	return argv[++*i];
}

static int parse_words(struct mmfs_config *cfg, int argc,
		       const char *const *argv, struct generic *g)
{
	int only_paths = 0;

	for (int i = 1; i < argc && !cfg->error; i++) {
		const char *a = argv[i], *list;
		const struct mmfs_option *o;

		if (only_paths || a[0] != '-' || !a[1]) {
			positional(cfg, a);
		} else if (strcmp(a, "--") == 0) {
			only_paths = 1;
		} else if ((list = o_argument(argc, argv, &i))) {
			if (!*list)
				return fail(cfg, "option -o needs an argument");
			cmdline_options(cfg, list, g);
		} else if ((o = mmfs_option_find(a, MMFS_IN_CMDLINE)) &&
			   o->type == MMFS_OPT_SWITCH) {
			mmfs_option_set(o, cfg, 0, NULL, NULL, NULL);
			if (strcmp(o->name, "-d") == 0)
				g_ptr_array_add(g->words, g_strdup(a));
		} else {
			/* not ours: libfuse says what is wrong with it */
			g_ptr_array_add(g->words, g_strdup(a));
		}
	}
	return cfg->error ? -EINVAL : 0;
}

/* Where each group and key of a key file is, for messages: "group" and
 * "group\nkey" -> line (1-based). A group seen twice (GKeyFile would merge
 * them quietly) is reported through *dup and *dup_line. */
static GHashTable *scan_lines(const char *text, char **dup, int *dup_line)
{
	GHashTable *at =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	char **lines = g_strsplit(text, "\n", -1);
	char *group = g_strdup("");

	*dup = NULL;
	for (int i = 0; lines[i]; i++) {
		char *l = g_strstrip(lines[i]), *eq;

		if (l[0] == '[' && l[strlen(l) - 1] == ']') {
			g_free(group);
			group = g_strndup(l + 1, strlen(l) - 2);
			if (g_hash_table_contains(at, group) && !*dup) {
				*dup = g_strdup(group);
				*dup_line = i + 1;
			}
			g_hash_table_insert(at, g_strdup(group),
					    GINT_TO_POINTER(i + 1));
		} else if (l[0] && l[0] != '#' && (eq = strchr(l, '='))) {
			char *key = g_strstrip(g_strndup(l, eq - l));

			g_hash_table_insert(
			    at, g_strdup_printf("%s\n%s", group, key),
			    GINT_TO_POINTER(i + 1));
			g_free(key);
		}
	}
	g_free(group);
	g_strfreev(lines);
	return at;
}

static void set_where(struct mmfs_config *cfg, const char *file, GHashTable *at,
		      const char *group, const char *key)
{
	char *k = key ? g_strdup_printf("%s\n%s", group, key) : g_strdup(group);

	g_free(cfg->where);
	cfg->where = g_strdup_printf(
	    "%s:%d", file, GPOINTER_TO_INT(g_hash_table_lookup(at, k)));
	g_free(k);
}

/* One key of [global]: a row of the table that may appear there. */
static int global_option(struct mmfs_config *cfg, GKeyFile *kf, const char *key,
			 struct generic *g)
{
	g_autofree char *val = g_key_file_get_value(kf, "global", key, NULL);
	const struct mmfs_option *o = mmfs_option_find(key, MMFS_IN_GLOBAL);

	if (!o)
		return fail(cfg, "unknown option '%s'", key);
	return apply_option(cfg, o, val, g);
}

/* One key of a [rule NAME] group, other than match. */
static int rule_key(struct mmfs_config *cfg, struct mmfs_rule *rule,
		    const char *group, const char *key, const char *val)
{
	const struct mmfs_option *o = mmfs_option_find(key, MMFS_IN_RULE);
	g_autofree char *ctx = g_strdup_printf("in [%s]", group);
	char *why = NULL;

	if (!o) {
		g_autofree char *keys = mmfs_option_list(MMFS_IN_RULE);

		return fail(cfg,
			    "unknown key '%s' in [%s]: a rule takes match, %s",
			    key, group, keys);
	}
	if (mmfs_option_set(o, &rule->policy, 1, val, ctx, &why) != 0) {
		fail(cfg, "%s", why);
		g_free(why);
		return -EINVAL;
	}
	rule->set |= o->rule_bit;
	return 0;
}

/* One [rule NAME] group. */
static int rule_group(struct mmfs_config *cfg, GKeyFile *kf, const char *group,
		      const char *file, GHashTable *at)
{
	const char *name = group + 4; /* past "rule" */
	g_auto(GStrv) keys = NULL, globs = NULL;
	struct mmfs_rule *rule;
	char *why = NULL;

	while (*name == ' ')
		name++;
	set_where(cfg, file, at, group, NULL);
	if (!*name)
		return fail(cfg, "a rule needs a name: [rule NAME]");
	globs = g_key_file_get_string_list(kf, group, "match", NULL, NULL);
	for (int i = 0; globs && globs[i]; i++)
		g_strstrip(globs[i]);
	if (globs)
		set_where(cfg, file, at, group, "match");
	rule = mmfs_rules_add(&cfg->rules, name, (const char *const *)globs,
			      GPOINTER_TO_INT(g_hash_table_lookup(at, group)),
			      &why);
	if (!rule) {
		fail(cfg, "%s", why);
		g_free(why);
		return -EINVAL;
	}
	keys = g_key_file_get_keys(kf, group, NULL, NULL);
	for (int i = 0; keys[i]; i++) {
		g_autofree char *val =
		    g_key_file_get_value(kf, group, keys[i], NULL);

		set_where(cfg, file, at, group, keys[i]);
		if (strcmp(keys[i], "match") != 0 &&
		    rule_key(cfg, rule, group, keys[i], val) != 0)
			return -EINVAL;
	}
	return 0;
}

/* Read FILE: [global] options go through the table like command-line ones
 * (so they are checked the same way, and the command line, parsed
 * afterwards, wins); generic ones are collected in *g for libfuse.
 * [rule NAME] groups become cfg->rules, in file order. */
static int load_config_text(struct mmfs_config *cfg, const char *file,
			    const char *text, struct generic *g)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) err = NULL;
	g_autofree char *dup = NULL;
	g_auto(GStrv) groups = NULL, keys = NULL;
	GHashTable *at;
	int dup_line = 0, rc = 0;

	if (!g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_NONE, &err))
		return fail(cfg, "config file %s: %s", file, err->message);
	at = scan_lines(text, &dup, &dup_line);
	if (dup) {
		cfg->where = g_strdup_printf("%s:%d", file, dup_line);
		rc = fail(cfg, "[%s] appears twice%s", dup,
			  g_str_has_prefix(dup, "rule") ? " (duplicate rule)"
							: "");
		goto out;
	}
	groups = g_key_file_get_groups(kf, NULL);
	for (int i = 0; groups[i] && rc == 0; i++) {
		if (strcmp(groups[i], "global") == 0) {
			keys = g_key_file_get_keys(kf, "global", NULL, NULL);
			for (int j = 0; keys[j] && rc == 0; j++) {
				set_where(cfg, file, at, "global", keys[j]);
				rc = global_option(cfg, kf, keys[j], g);
			}
		} else if (g_str_has_prefix(groups[i], "rule ") ||
			   strcmp(groups[i], "rule") == 0) {
			rc = rule_group(cfg, kf, groups[i], file, at);
		} else {
			set_where(cfg, file, at, groups[i], NULL);
			rc = fail(cfg,
				  "unknown group [%s]: expected [global] or "
				  "[rule NAME]",
				  groups[i]);
		}
	}
out:
	g_hash_table_destroy(at);
	g_free(cfg->where);
	cfg->where = NULL;
	return rc ? -EINVAL : 0;
}

static int load_config_file(struct mmfs_config *cfg, const char *file,
			    struct generic *g)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *text = NULL;

	if (!g_file_get_contents(file, &text, NULL, &err))
		return fail(cfg, "cannot read config file: %s", err->message);
	return load_config_text(cfg, file, text, g);
}

static void config_defaults(struct mmfs_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	mmfs_rules_init(&cfg->rules);
	cfg->paths = g_ptr_array_new_with_free_func(g_free);
	cfg->fuse_argv = g_ptr_array_new_with_free_func(g_free);
	cfg->max_private = MMFS_DEFAULT_MAX_PRIVATE;
	cfg->handles = 1;
	cfg->threads = MMFS_DEFAULT_THREADS;
	cfg->timeout = MMFS_DEFAULT_TIMEOUT;
	mmfs_map_config_defaults(&cfg->map);
	cfg->mmap_min = MMFS_DEFAULT_MMAP_MIN;
	cfg->sync_mode = MMFS_DEFAULT_SYNC;
	cfg->sync_interval = MMFS_DEFAULT_SYNC_INTERVAL;
	cfg->cache = MMFS_DEFAULT_CACHE;
}

static void generic_init(struct generic *g)
{
	g->opts = g_ptr_array_new_with_free_func(g_free);
	g->words = g_ptr_array_new_with_free_func(g_free);
}

/* argv0, the other words, then -o with the options escaped again. */
static void generic_finish(struct generic *g, struct mmfs_config *cfg,
			   const char *argv0)
{
	/* our flags libfuse must see too, as they ended up (a command line
	 * "=false" undoes the file's "true") */
	for (const struct mmfs_option *o = mmfs_options; o->name; o++)
		if ((o->where & MMFS_TO_LIBFUSE) && o->type == MMFS_OPT_FLAG &&
		    *(int *)((char *)cfg + o->cfg_off))
			pass_on(g, o->name, NULL);
	g_ptr_array_add(cfg->fuse_argv, g_strdup(argv0));
	for (guint i = 0; i < g->words->len; i++)
		g_ptr_array_add(cfg->fuse_argv, g_strdup(g->words->pdata[i]));
	if (g->opts->len) {
		GString *s = g_string_new(NULL);

		for (guint i = 0; i < g->opts->len; i++) {
			if (i)
				g_string_append_c(s, ',');
			for (const char *p = g->opts->pdata[i]; *p; p++) {
				if (*p == ',' || *p == '\\')
					g_string_append_c(s, '\\');
				g_string_append_c(s, *p);
			}
		}
		g_ptr_array_add(cfg->fuse_argv, g_strdup("-o"));
		g_ptr_array_add(cfg->fuse_argv, g_string_free(s, FALSE));
	}
	g_ptr_array_free(g->opts, TRUE);
	g_ptr_array_free(g->words, TRUE);
}

int mmfs_config_load_text(struct mmfs_config *cfg, const char *name,
			  const char *text)
{
	struct generic g;
	int rc;

	config_defaults(cfg);
	generic_init(&g);
	rc = load_config_text(cfg, name, text, &g);
	generic_finish(&g, cfg, "memmapfs");
	return rc;
}

/* The last -o config=FILE of the command line, or NULL. */
static char *find_config_file(int argc, const char *const *argv)
{
	char *file = NULL;

	for (int i = 1; i < argc; i++) {
		const char *list;
		GPtrArray *opts;

		if (strcmp(argv[i], "--") == 0)
			break;
		list = o_argument(argc, argv, &i);
		if (!list)
			continue;
		opts = split_options(list);
		for (guint j = 0; j < opts->len; j++)
			if (g_str_has_prefix(opts->pdata[j], "config=")) {
				g_free(file);
				file = g_strdup((char *)opts->pdata[j] + 7);
			}
		g_ptr_array_free(opts, TRUE);
	}
	return file;
}

/* What only the whole command line can tell. */
static int check_parsed(struct mmfs_config *cfg)
{
	const char *why;

	if (cfg->debug)
		cfg->foreground = 1;
	if (cfg->show_help || cfg->show_version)
		return 0;
	if (mmfs_map_config_check(&cfg->map, &why) != 0)
		return fail(cfg,
			    "%s (window=%" PRIu64 ", max_mapped=%" PRIu64 ")",
			    why, cfg->map.window, cfg->map.max_mapped);
	if (!cfg->source)
		return fail(cfg, cfg->print_config
				     ? "--print-config needs SOURCE"
				     : "missing SOURCE and MOUNTPOINT");
	if (cfg->print_config) {
		/* SOURCE [PATH...]: the second word is a path too */
		if (cfg->mountpoint)
			g_ptr_array_insert(cfg->paths, 0,
					   g_strdup(cfg->mountpoint));
		return 0;
	}
	if (!cfg->mountpoint)
		return fail(cfg, "missing MOUNTPOINT");
	if (cfg->source[0] == '\0' || cfg->mountpoint[0] == '\0')
		return fail(cfg, "SOURCE and MOUNTPOINT must not be empty");
	return 0;
}

int mmfs_config_parse(int argc, const char *const *argv,
		      struct mmfs_config *cfg)
{
	struct generic g;
	int rc = 0;

	config_defaults(cfg);
	generic_init(&g);
	/* Built-in defaults < config file < command line. */
	cfg->config_file = find_config_file(argc, argv);
	if (cfg->config_file)
		rc = load_config_file(cfg, cfg->config_file, &g);
	if (rc == 0)
		rc = parse_words(cfg, argc, argv, &g);
	generic_finish(&g, cfg, argc > 0 ? argv[0] : "memmapfs");
	if (rc)
		return -EINVAL;
	return check_parsed(cfg);
}

void mmfs_config_policy(const struct mmfs_config *cfg,
			struct mmfs_policy *policy)
{
	policy->sync = cfg->sync_mode;
	policy->advice = cfg->map.advice;
	policy->preload = cfg->map.preload;
	policy->mmap = 1;
}

void mmfs_config_free(struct mmfs_config *cfg)
{
	g_free(cfg->source);
	g_free(cfg->mountpoint);
	g_free(cfg->config_file);
	g_free(cfg->where);
	g_free(cfg->error);
	mmfs_rules_clear(&cfg->rules);
	if (cfg->paths)
		g_ptr_array_free(cfg->paths, TRUE);
	if (cfg->fuse_argv)
		g_ptr_array_free(cfg->fuse_argv, TRUE);
	memset(cfg, 0, sizeof(*cfg));
}

void mmfs_config_print(const struct mmfs_config *cfg, FILE *out)
{
	fprintf(out,
		"# memmapfs %s: effective settings (built-in defaults, then "
		"%s%s, then the command line)\n",
		MMFS_VERSION, cfg->config_file ? "config file " : "",
		cfg->config_file ? cfg->config_file : "no config file");
	fprintf(out, "source = %s\n", cfg->source ? cfg->source : "");
	for (const struct mmfs_option *o = mmfs_options; o->name; o++) {
		g_autofree char *val = NULL;

		if (!(o->where & MMFS_IN_GLOBAL) || o->cfg_off < 0 ||
		    o->type == MMFS_OPT_GENERIC || o->type == MMFS_OPT_PATH)
			continue;
		val = mmfs_option_format(o, cfg, 0, 0);
		fprintf(out, "%s = %s\n", o->name, val);
	}
	fprintf(out, "\n# rules, first match wins (%u)\n",
		cfg->rules.list->len);
	for (guint i = 0; i < cfg->rules.list->len; i++) {
		const struct mmfs_rule *r = cfg->rules.list->pdata[i];
		char *globs = g_strjoinv(";", r->globs);
		char *what = mmfs_rule_describe(r);

		fprintf(out, "[rule %s] match=%s: %s\n", r->name, globs, what);
		g_free(globs);
		g_free(what);
	}
	if (cfg->paths->len)
		fprintf(out, "\n# paths\n");
	for (guint i = 0; i < cfg->paths->len; i++) {
		const char *path = cfg->paths->pdata[i];
		const char *rel = path;
		struct mmfs_policy pol;
		const struct mmfs_rule *r;
		char *desc;
		size_t n = cfg->source ? strlen(cfg->source) : 0;

		/* absolute paths below SOURCE are taken relative to it */
		if (n && strncmp(path, cfg->source, n) == 0 && path[n] == '/')
			rel = path + n + 1;
		mmfs_config_policy(cfg, &pol);
		r = mmfs_rules_match(&cfg->rules, rel);
		mmfs_policy_apply(&pol, r);
		desc = mmfs_policy_describe(&pol);
		fprintf(out, "%s: %s%s (%s)\n", rel, r ? "rule " : "",
			r ? r->name : "no rule", desc);
		g_free(desc);
	}
}

void mmfs_config_print_help(const char *progname)
{
	struct mmfs_config defaults;
	g_autofree char *general = NULL;

	config_defaults(&defaults);
	general = mmfs_option_help(MMFS_IN_CMDLINE, &defaults);
	printf("usage: %s [options] SOURCE MOUNTPOINT\n"
	       "       %s --print-config [options] SOURCE [PATH...]\n"
	       "       %s stats [--json] MOUNTPOINT\n"
	       "\n"
	       "Mount the directory SOURCE on MOUNTPOINT (which may be SOURCE\n"
	       "itself) and serve it through memmapfs.\n"
	       "\n"
	       "options (-o opt[,opt...]; in a config file's [global] group "
	       "as opt = value):\n"
	       "%s"
	       "\n"
	       "Generic FUSE options (fsname=, subtype=, max_read=, ro, "
	       "noatime, ...)\n"
	       "are passed to libfuse; see memmapfs(8) and mount.fuse3(8).\n",
	       progname, progname, progname, general);
	mmfs_config_free(&defaults);
}
