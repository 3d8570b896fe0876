/* Command line and -o option parsing for memmapfs. Options the daemon owns
 * are validated here with messages that name the option, the value and what
 * is accepted; generic libfuse/mount options are passed on untouched. */
#include <ctype.h>
#include <inttypes.h>
#include <stddef.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "memmapfs/config.h"
#include "memmapfs/stats.h"

enum {
	KEY_HELP,
	KEY_VERSION,
	KEY_FOREGROUND,
	KEY_DEBUG,
	KEY_SINGLE,
	KEY_CLONE_FD,
	KEY_THREADS,
	KEY_TIMEOUT,
	KEY_ALLOW_OTHER,
	KEY_FSNAME,
	KEY_SUBTYPE,
	KEY_CONFIG,
	KEY_WINDOW,
	KEY_MAX_MAPPED,
	KEY_MMAP_MIN,
	KEY_PRELOAD,
	KEY_ADVICE,
	KEY_LOCK,
	KEY_SYNC,
	KEY_SYNC_INTERVAL,
	KEY_MODE,
	KEY_CACHE,
	KEY_WRITEBACK,
	KEY_MAX_PRIVATE,
	KEY_PRINT_CONFIG,
	KEY_DISCARD,
};

static const struct fuse_opt option_table[] = {
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_KEY("-f", KEY_FOREGROUND),
	FUSE_OPT_KEY("-d", KEY_DEBUG),
	FUSE_OPT_KEY("debug", KEY_DEBUG),
	FUSE_OPT_KEY("-s", KEY_SINGLE),
	FUSE_OPT_KEY("clone_fd", KEY_CLONE_FD),
	FUSE_OPT_KEY("threads=", KEY_THREADS),
	FUSE_OPT_KEY("timeout=", KEY_TIMEOUT),
	FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
	FUSE_OPT_KEY("fsname=", KEY_FSNAME),
	FUSE_OPT_KEY("subtype=", KEY_SUBTYPE),
	FUSE_OPT_KEY("config=", KEY_CONFIG),
	FUSE_OPT_KEY("window=", KEY_WINDOW),
	FUSE_OPT_KEY("max_mapped=", KEY_MAX_MAPPED),
	FUSE_OPT_KEY("mmap_min=", KEY_MMAP_MIN),
	FUSE_OPT_KEY("preload=", KEY_PRELOAD),
	FUSE_OPT_KEY("advice=", KEY_ADVICE),
	FUSE_OPT_KEY("lock", KEY_LOCK),
	FUSE_OPT_KEY("sync=", KEY_SYNC),
	FUSE_OPT_KEY("sync_interval=", KEY_SYNC_INTERVAL),
	FUSE_OPT_KEY("mode=", KEY_MODE),
	FUSE_OPT_KEY("cache=", KEY_CACHE),
	FUSE_OPT_KEY("writeback", KEY_WRITEBACK),
	FUSE_OPT_KEY("max_private=", KEY_MAX_PRIVATE),
	FUSE_OPT_KEY("--print-config", KEY_PRINT_CONFIG),
	/* Words mount(8) and fstab pass along that mean nothing to a FUSE
	 * daemon; accepted so that fstab lines work unchanged. */
	FUSE_OPT_KEY("defaults", KEY_DISCARD),
	FUSE_OPT_KEY("auto", KEY_DISCARD),
	FUSE_OPT_KEY("noauto", KEY_DISCARD),
	FUSE_OPT_KEY("nofail", KEY_DISCARD),
	FUSE_OPT_KEY("_netdev", KEY_DISCARD),
	FUSE_OPT_KEY("user", KEY_DISCARD),
	FUSE_OPT_KEY("users", KEY_DISCARD),
	FUSE_OPT_KEY("nouser", KEY_DISCARD),
	FUSE_OPT_KEY("comment=", KEY_DISCARD),
	FUSE_OPT_END,
};

static int fail(struct mmfs_config *cfg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct mmfs_config *cfg, const char *fmt, ...)
{
	va_list ap;

	char *msg;

	if (cfg->error)
		return -1; /* keep the first problem */
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	/* inside a config file: say where */
	cfg->error = cfg->where ? g_strdup_printf("%s: %s", cfg->where, msg)
				: g_strdup(msg);
	g_free(msg);
	return -1;
}

static const char *value_of(const char *arg)
{
	const char *eq = strchr(arg, '=');

	return eq ? eq + 1 : "";
}

/* Index of word in the NULL-terminated list, or -1. */
static int pick(const char *word, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(word, list[i]) == 0)
			return i;
	return -1;
}

static const char *const preload_names[] = { "none", "willneed", "populate",
					     NULL };
static const char *const advice_names[] = { "normal", "sequential", "random",
					    NULL };
static const char *const mode_names[] = { "rw", "ro", "cow", NULL };
static const char *const cache_names[] = { "auto", "keep", "none", "single",
					   NULL };

static int size_option(struct mmfs_config *cfg, const char *name,
		       const char *val, uint64_t *out)
{
	if (mmfs_parse_size(val, out) != 0)
		return fail(cfg,
			    "invalid value '%s' for option '%s': expected a "
			    "size in bytes with an optional K, M, G or T "
			    "suffix (e.g. 2M)",
			    val, name);
	return 0;
}

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct mmfs_config *cfg = data;
	const char *val = value_of(arg);
	double d;
	int rc;

	(void)outargs;
	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
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
	case FUSE_OPT_KEY_OPT:
		/* x-systemd.*, x-gvfs-* and friends are for mount(8) and
		 * systemd, never for the filesystem. */
		if (strncmp(arg, "x-", 2) == 0)
			return 0;
		return 1; /* a generic option: libfuse validates it */
	case KEY_HELP:
		cfg->show_help = 1;
		return 0;
	case KEY_VERSION:
		cfg->show_version = 1;
		return 0;
	case KEY_FOREGROUND:
		cfg->foreground = 1;
		return 0;
	case KEY_DEBUG:
		cfg->debug = 1;
		cfg->foreground = 1;
		return 1; /* libfuse prints the request trace */
	case KEY_SINGLE:
		cfg->singlethread = 1;
		return 0;
	case KEY_CLONE_FD:
		cfg->clone_fd = 1;
		return 0;
	case KEY_THREADS:
		if (mmfs_parse_uint(val, 1, MMFS_MAX_THREADS, &cfg->threads))
			return fail(cfg,
				    "invalid value '%s' for option 'threads': "
				    "expected a whole number from 1 to %d",
				    val, MMFS_MAX_THREADS);
		return 0;
	case KEY_TIMEOUT:
		rc = mmfs_parse_duration(val, &d);
		if (rc || d > 86400.0 * 365)
			return fail(cfg,
				    "invalid value '%s' for option 'timeout': "
				    "expected seconds >= 0 (fractions allowed, "
				    "e.g. 0.5 or 250ms)",
				    val);
		cfg->timeout = d;
		return 0;
	case KEY_ALLOW_OTHER:
		cfg->allow_other = 1;
		return 1;
	case KEY_FSNAME:
		cfg->has_fsname = 1;
		return 1;
	case KEY_SUBTYPE:
		cfg->has_subtype = 1;
		return 1;
	case KEY_CONFIG:
		/* read before the command line (see mmfs_config_parse) */
		return 0;
	case KEY_WINDOW:
		return size_option(cfg, "window", val, &cfg->map.window);
	case KEY_MAX_MAPPED:
		return size_option(cfg, "max_mapped", val, &cfg->map.max_mapped);
	case KEY_MMAP_MIN:
		return size_option(cfg, "mmap_min", val, &cfg->mmap_min);
	case KEY_PRELOAD:
		rc = pick(val, preload_names);
		if (rc < 0)
			return fail(cfg,
				    "invalid value '%s' for option 'preload': "
				    "expected none, willneed or populate",
				    val);
		cfg->map.preload = (enum mmfs_preload)rc;
		return 0;
	case KEY_ADVICE:
		rc = pick(val, advice_names);
		if (rc < 0)
			return fail(cfg,
				    "invalid value '%s' for option 'advice': "
				    "expected normal, sequential or random",
				    val);
		cfg->map.advice = (enum mmfs_advice)rc;
		return 0;
	case KEY_LOCK:
		cfg->map.lock = 1;
		return 0;
	case KEY_SYNC:
		if (mmfs_sync_mode_parse(val, &cfg->sync_mode) != 0)
			return fail(cfg,
				    "invalid value '%s' for option 'sync': "
				    "expected immediate, periodic, close or "
				    "never",
				    val);
		return 0;
	case KEY_MODE:
		rc = pick(val, mode_names);
		if (rc < 0)
			return fail(cfg,
				    "invalid value '%s' for option 'mode': "
				    "expected rw, ro or cow",
				    val);
		cfg->mode = (enum mmfs_mode)rc;
		return 0;
	case KEY_CACHE:
		rc = pick(val, cache_names);
		if (rc < 0)
			return fail(cfg,
				    "invalid value '%s' for option 'cache': "
				    "expected auto, keep, none or single",
				    val);
		cfg->cache = (enum mmfs_cache)rc;
		return 0;
	case KEY_WRITEBACK:
		cfg->writeback = 1;
		return 0;
	case KEY_MAX_PRIVATE:
		return size_option(cfg, "max_private", val, &cfg->max_private);
	case KEY_PRINT_CONFIG:
		cfg->print_config = 1;
		return 0;
	case KEY_SYNC_INTERVAL:
		rc = mmfs_parse_duration(val, &d);
		if (rc || d < 0.001 || d > 86400.0)
			return fail(cfg,
				    "invalid value '%s' for option "
				    "'sync_interval': expected seconds from "
				    "0.001 to 86400 (fractions allowed, e.g. "
				    "0.5 or 250ms)",
				    val);
		cfg->sync_interval = d;
		return 0;
	case KEY_DISCARD:
		return 0;
	}
	return 1;
}

/* Generic libfuse options a config file may set, besides our own. */
static const char *const generic_keys[] = {
	"allow_other", "allow_root", "auto_unmount", "default_permissions",
	"fsname",      "subtype",    "max_read",     "ro",
	"rw",	       "noatime",    "atime",	     "nodev",
	"dev",	       "nosuid",     "suid",	     "noexec",
	"exec",	       "debug",	     NULL,
};

/* Keys that are flags: "key = true" sets them, "false" leaves them. */
static const char *const flag_keys[] = {
	"clone_fd", "lock", "writeback", "allow_other", "allow_root",  "auto_unmount",
	"default_permissions", "ro", "rw",	   "noatime",
	"atime",    "nodev",	   "dev",	   "nosuid",
	"suid",	    "noexec",	   "exec",	   "debug",
	NULL,
};

static const char *const own_keys[] = {
	"threads", "timeout", "window",	       "max_mapped", "mmap_min",
	"preload", "advice",  "sync",	       "sync_interval", "mode",
	"cache",   "max_private", NULL,
};

static int in_list(const char *const *list, const char *key)
{
	for (; *list; list++)
		if (strcmp(*list, key) == 0)
			return 1;
	return 0;
}

/* Where each group and key of a key file is, for messages: "group" and
 * "group\nkey" -> line (1-based). A group seen twice (GKeyFile would merge
 * them quietly) is reported through *dup and *dup_line. */
static GHashTable *scan_lines(const char *text, char **dup, int *dup_line)
{
	GHashTable *at = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					       NULL);
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

			g_hash_table_insert(at,
					    g_strdup_printf("%s\n%s", group, key),
					    GINT_TO_POINTER(i + 1));
			g_free(key);
		}
	}
	g_free(group);
	g_strfreev(lines);
	return at;
}

static void set_where(struct mmfs_config *cfg, const char *file,
		      GHashTable *at, const char *group, const char *key)
{
	char *k = key ? g_strdup_printf("%s\n%s", group, key) : g_strdup(group);

	g_free(cfg->where);
	cfg->where = g_strdup_printf("%s:%d", file,
				     GPOINTER_TO_INT(g_hash_table_lookup(at, k)));
	g_free(k);
}

/* One option of [global], through opt_proc like the command line's. */
static int global_option(struct mmfs_config *cfg, GKeyFile *kf,
			 const char *key, struct fuse_args *generic)
{
	g_autofree char *val = g_key_file_get_value(kf, "global", key, NULL);
	g_autofree char *opt = NULL;
	struct fuse_args one = FUSE_ARGS_INIT(0, NULL);
	int rc;

	if (!in_list(own_keys, key) && !in_list(generic_keys, key) &&
	    !in_list(flag_keys, key))
		return fail(cfg, "unknown option '%s'", key);
	if (in_list(flag_keys, key)) {
		gboolean on = g_key_file_get_boolean(kf, "global", key, NULL);

		if (!on && strcmp(val, "false") != 0)
			return fail(cfg,
				    "invalid value '%s' for option '%s': "
				    "expected true or false",
				    val, key);
		if (!on)
			return 0;
		opt = g_strdup(key);
	} else {
		opt = g_strdup_printf("%s=%s", key, val);
	}
	fuse_opt_add_arg(&one, "memmapfs");
	fuse_opt_add_arg(&one, "-o");
	fuse_opt_add_arg(&one, opt);
	rc = fuse_opt_parse(&one, cfg, option_table, opt_proc);
	/* what opt_proc kept is for libfuse */
	for (int j = 1; rc == 0 && j < one.argc; j++)
		fuse_opt_add_arg(generic, one.argv[j]);
	fuse_opt_free_args(&one);
	if (rc && !cfg->error)
		fail(cfg, "invalid option '%s'", opt);
	return rc ? -1 : 0;
}

/* One [rule NAME] group. */
static int rule_group(struct mmfs_config *cfg, GKeyFile *kf,
		      const char *group, const char *file, GHashTable *at)
{
	const char *name = group + 4; /* past "rule" */
	g_auto(GStrv) keys = NULL, globs = NULL;
	struct mmfs_rule *rule;
	char *why = NULL;
	int rc;

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
		return -1;
	}
	keys = g_key_file_get_keys(kf, group, NULL, NULL);
	for (int i = 0; keys[i]; i++) {
		g_autofree char *val =
			g_key_file_get_value(kf, group, keys[i], NULL);
		const char *key = keys[i];

		set_where(cfg, file, at, group, key);
		if (strcmp(key, "match") == 0)
			continue;
		if (strcmp(key, "sync") == 0) {
			if (mmfs_sync_mode_parse(val, &rule->policy.sync) != 0)
				return fail(cfg,
					    "invalid value '%s' for 'sync' in "
					    "[%s]: expected immediate, periodic, "
					    "close or never",
					    val, group);
			rule->set |= MMFS_SET_SYNC;
		} else if (strcmp(key, "advice") == 0) {
			rc = pick(val, advice_names);
			if (rc < 0)
				return fail(cfg,
					    "invalid value '%s' for 'advice' in "
					    "[%s]: expected normal, sequential "
					    "or random",
					    val, group);
			rule->policy.advice = (enum mmfs_advice)rc;
			rule->set |= MMFS_SET_ADVICE;
		} else if (strcmp(key, "preload") == 0) {
			rc = pick(val, preload_names);
			if (rc < 0)
				return fail(cfg,
					    "invalid value '%s' for 'preload' in "
					    "[%s]: expected none, willneed or "
					    "populate",
					    val, group);
			rule->policy.preload = (enum mmfs_preload)rc;
			rule->set |= MMFS_SET_PRELOAD;
		} else if (strcmp(key, "mmap") == 0) {
			static const char *const yn[] = { "no",	   "yes",
							  "false", "true",
							  NULL };

			rc = pick(val, yn);
			if (rc < 0)
				return fail(cfg,
					    "invalid value '%s' for 'mmap' in "
					    "[%s]: expected yes or no",
					    val, group);
			rule->policy.mmap = rc % 2;
			rule->set |= MMFS_SET_MMAP;
		} else {
			return fail(cfg,
				    "unknown key '%s' in [%s]: a rule takes "
				    "match, sync, advice, preload and mmap",
				    key, group);
		}
	}
	return 0;
}

/* Read FILE: [global] options go through opt_proc like command-line ones
 * (so they are checked the same way, and the command line, parsed
 * afterwards, wins); generic ones are collected in *generic for libfuse.
 * [rule NAME] groups become cfg->rules, in file order. */
static int load_config_text(struct mmfs_config *cfg, const char *file,
			    const char *text, struct fuse_args *generic)
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
				rc = global_option(cfg, kf, keys[j], generic);
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
	return rc ? -1 : 0;
}

static int load_config_file(struct mmfs_config *cfg, const char *file,
			    struct fuse_args *generic)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *text = NULL;

	if (!g_file_get_contents(file, &text, NULL, &err))
		return fail(cfg, "cannot read config file: %s", err->message);
	return load_config_text(cfg, file, text, generic);
}

static void config_defaults(struct mmfs_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	mmfs_rules_init(&cfg->rules);
	cfg->paths = g_ptr_array_new_with_free_func(g_free);
	cfg->max_private = MMFS_DEFAULT_MAX_PRIVATE;
	cfg->threads = MMFS_DEFAULT_THREADS;
	cfg->timeout = MMFS_DEFAULT_TIMEOUT;
	mmfs_map_config_defaults(&cfg->map);
	cfg->mmap_min = MMFS_DEFAULT_MMAP_MIN;
	cfg->sync_mode = MMFS_DEFAULT_SYNC;
	cfg->sync_interval = MMFS_DEFAULT_SYNC_INTERVAL;
	cfg->cache = MMFS_DEFAULT_CACHE;
}

int mmfs_config_load_text(struct mmfs_config *cfg, const char *name,
			  const char *text)
{
	struct fuse_args generic = FUSE_ARGS_INIT(0, NULL);
	int rc;

	config_defaults(cfg);
	rc = load_config_text(cfg, name, text, &generic);
	fuse_opt_free_args(&generic);
	return rc;
}

/* Find -o config=FILE on the command line without consuming anything. */
static char *find_config_file(const struct fuse_args *args)
{
	struct prescan {
		char *file;
	} scan = { NULL };
	static const struct fuse_opt only_config[] = {
		{ "config=%s", offsetof(struct prescan, file), 0 },
		FUSE_OPT_END,
	};
	struct fuse_args copy = FUSE_ARGS_INIT(0, NULL);

	for (int i = 0; i < args->argc; i++)
		fuse_opt_add_arg(&copy, args->argv[i]);
	fuse_opt_parse(&copy, &scan, only_config, NULL);
	fuse_opt_free_args(&copy);
	return scan.file;
}

int mmfs_config_parse(struct fuse_args *args, struct mmfs_config *cfg)
{
	struct fuse_args generic = FUSE_ARGS_INIT(0, NULL);
	char *file;
	int rc = 0;

	config_defaults(cfg);

	/* Built-in defaults < config file < command line. */
	file = find_config_file(args);
	if (file) {
		cfg->config_file = g_strdup(file);
		free(file);
		rc = load_config_file(cfg, cfg->config_file, &generic);
		/* the file's generic options go first: the command line
		 * after them wins in libfuse too */
		for (int i = generic.argc - 1; rc == 0 && i >= 0; i--)
			fuse_opt_insert_arg(args, 1, generic.argv[i]);
		fuse_opt_free_args(&generic);
		if (rc)
			return -1;
	}
	if (fuse_opt_parse(args, cfg, option_table, opt_proc) == -1) {
		if (!cfg->error)
			fail(cfg, "could not parse the command line");
		return -1;
	}
	if (cfg->show_help || cfg->show_version)
		return 0;
	{
		const char *why;

		if (mmfs_map_config_check(&cfg->map, &why) != 0)
			return fail(cfg,
				    "%s (window=%" PRIu64 ", max_mapped=%" PRIu64
				    ")",
				    why, cfg->map.window, cfg->map.max_mapped);
	}
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
	memset(cfg, 0, sizeof(*cfg));
}

int mmfs_parse_uint(const char *s, unsigned int min, unsigned int max,
		    unsigned int *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = (unsigned int)v;
	return 0;
}

int mmfs_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	case '\0':
	case 'B':
		break;
	default:
		return -EINVAL;
	}
	if (shift)
		end++;
	if (shift && (end[0] == 'i' || end[0] == 'I'))
		end++;
	if (end[0] == 'b' || end[0] == 'B')
		end++;
	if (*end != '\0')
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int mmfs_parse_duration(const char *s, double *out)
{
	double v, scale = 1.0;
	char *end;

	/* strtod also takes "inf", "nan", hex and leading blanks: refuse
	 * those before it sees them. */
	if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return -EINVAL;
	if (s[0] == '.' && !isdigit((unsigned char)s[1]))
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE || !isfinite(v))
		return -ERANGE;
	if (strcmp(end, "ms") == 0)
		scale = 0.001;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		return -EINVAL;
	*out = v * scale;
	return 0;
}

void mmfs_config_print(const struct mmfs_config *cfg, FILE *out)
{
	char window[32], budget[32], min[32], priv[32];

	fprintf(out,
		"# memmapfs %s: effective settings (built-in defaults, then "
		"%s%s%s, then the command line)\n",
		MMFS_VERSION, cfg->config_file ? "config file " : "",
		cfg->config_file ? cfg->config_file : "no config file",
		cfg->config_file ? "" : "");
	fprintf(out, "source = %s\n", cfg->source ? cfg->source : "");
	fprintf(out, "mode = %s\n", mode_names[cfg->mode]);
	fprintf(out, "sync = %s\n", mmfs_sync_mode_name(cfg->sync_mode));
	fprintf(out, "sync_interval = %g\n", cfg->sync_interval);
	fprintf(out, "window = %s\n", mmfs_format_size(cfg->map.window, window));
	fprintf(out, "max_mapped = %s\n",
		mmfs_format_size(cfg->map.max_mapped, budget));
	fprintf(out, "mmap_min = %s\n", mmfs_format_size(cfg->mmap_min, min));
	fprintf(out, "preload = %s\n", preload_names[cfg->map.preload]);
	fprintf(out, "advice = %s\n", advice_names[cfg->map.advice]);
	fprintf(out, "lock = %s\n", cfg->map.lock ? "true" : "false");
	fprintf(out, "cache = %s\n", cache_names[cfg->cache]);
	fprintf(out, "writeback = %s\n", cfg->writeback ? "true" : "false");
	fprintf(out, "max_private = %s\n",
		mmfs_format_size(cfg->max_private, priv));
	fprintf(out, "threads = %u\n", cfg->threads);
	fprintf(out, "timeout = %g\n", cfg->timeout);
	fprintf(out, "clone_fd = %s\n", cfg->clone_fd ? "true" : "false");
	fprintf(out, "allow_other = %s\n", cfg->allow_other ? "true" : "false");
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
		struct mmfs_policy pol = { cfg->sync_mode, cfg->map.advice,
					   cfg->map.preload, 1 };
		const struct mmfs_rule *r;
		char *desc;
		size_t n = cfg->source ? strlen(cfg->source) : 0;

		/* absolute paths below SOURCE are taken relative to it */
		if (n && strncmp(path, cfg->source, n) == 0 && path[n] == '/')
			rel = path + n + 1;
		r = mmfs_rules_match(&cfg->rules, rel);
		mmfs_policy_apply(&pol, r);
		desc = mmfs_policy_describe(&pol);
		fprintf(out, "%s: %s%s%s (%s)\n", rel, r ? "rule " : "",
			r ? r->name : "no rule", "", desc);
		g_free(desc);
	}
}

void mmfs_config_print_help(const char *progname)
{
	struct mmfs_map_config defaults;
	char window[32], budget[32];

	mmfs_map_config_defaults(&defaults);
	mmfs_format_size(defaults.window, window);
	mmfs_format_size(defaults.max_mapped, budget);
	printf("usage: %s [options] SOURCE MOUNTPOINT\n"
	       "       %s --print-config [options] SOURCE [PATH...]\n"
	       "       %s stats [--json] MOUNTPOINT\n"
	       "\n"
	       "Mount the directory SOURCE on MOUNTPOINT (which may be SOURCE\n"
	       "itself) and serve it through memmapfs.\n"
	       "\n"
	       "general options:\n"
	       "    -h, --help             print this help and exit\n"
	       "    -V, --version          print the version and exit\n"
	       "    -f                     stay in the foreground, log to "
	       "stderr\n"
	       "    -d, -o debug           foreground, and trace every "
	       "request\n"
	       "    -s                     single-threaded request loop\n"
	       "    -o opt[,opt...]        mount options, see below\n"
	       "\n"
	       "memmapfs options:\n"
	       "    -o threads=N           at most N worker threads "
	       "(default %d)\n"
	       "    -o timeout=SECS        kernel caching of names and "
	       "attributes,\n"
	       "                           fractions allowed (default %.1f)\n"
	       "    -o clone_fd            one /dev/fuse fd per worker "
	       "thread\n"
	       "    -o window=SIZE         map files in windows of SIZE "
	       "(default %s)\n"
	       "    -o max_mapped=SIZE     map at most SIZE at once (default "
	       "half the RAM,\n"
	       "                           at most 64G; here %s)\n"
	       "    -o mmap_min=SIZE       files smaller than SIZE use plain "
	       "read/write\n"
	       "                           (default 0: map every file)\n"
	       "    -o preload=MODE        none, willneed (prefetch on open) "
	       "or populate\n"
	       "                           (read whole windows in when "
	       "mapped); default none\n"
	       "    -o advice=MODE         normal, sequential or random: how "
	       "windows are\n"
	       "                           read ahead; default normal\n"
	       "    -o lock                lock mapped windows in RAM "
	       "(mlock)\n"
	       "    -o sync=MODE           when written data is made durable "
	       "(default\n"
	       "                           periodic): immediate (before the "
	       "write returns),\n"
	       "                           periodic (every sync_interval), "
	       "close (on close)\n"
	       "                           or never (kernel writeback); fsync "
	       "always works\n"
	       "    -o sync_interval=SECS  periodic sync interval, fractions "
	       "allowed\n"
	       "                           (default 5)\n"
	       "    -o mode=MODE           rw (default), ro (refuse every "
	       "change) or cow\n"
	       "                           (changes in private memory, SOURCE "
	       "untouched)\n"
	       "    -o max_private=SIZE    mode=cow: most private memory "
	       "(default 1G)\n"
	       "    -o cache=MODE          kernel page cache: single (default: "
	       "as auto, each\n"
	       "                           byte read cached once), auto (keep "
	       "while unchanged),\n"
	       "                           keep, or none (direct I/O)\n"
	       "    -o writeback           the FUSE writeback cache (files in "
	       "sync=immediate\n"
	       "                           bypass it)\n"
	       "    -o default_permissions always on: permissions are checked "
	       "as on SOURCE\n"
	       "    --print-config         print the effective settings and "
	       "rules (and the\n"
	       "                           rule each PATH gets), then exit\n"
	       "    -o config=FILE         read options from FILE's [global] "
	       "group\n"
	       "                           (the command line wins)\n"
	       "    -o allow_other         let users other than the mounter "
	       "in;\n"
	       "                           permissions are always checked as "
	       "on SOURCE\n"
	       "\n"
	       "Generic FUSE options (fsname=, subtype=, max_read=, ro, "
	       "noatime, ...)\n"
	       "are passed to libfuse; see memmapfs(8) and mount.fuse3(8).\n",
	       progname, progname, progname, MMFS_DEFAULT_THREADS,
	       MMFS_DEFAULT_TIMEOUT, window, budget);
}
