// SPDX-License-Identifier: GPL-2.0-or-later
/* The option table and the per-type code that parses, checks, prints and
 * explains every option (see options.h). Adding an option is one row here
 * plus its field; the parsers, --help, --print-config and the docs check
 * pick it up. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "memmapfs/options.h"
#include "memmapfs/rules.h"

/* Enum fields are stored through int pointers. */
_Static_assert(sizeof(enum mmfs_sync_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum mmfs_advice) == sizeof(int), "enum size");
_Static_assert(sizeof(enum mmfs_preload) == sizeof(int), "enum size");
_Static_assert(sizeof(enum mmfs_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum mmfs_cache) == sizeof(int), "enum size");

#define CFG(field) offsetof(struct mmfs_config, field)
#define POL(field) offsetof(struct mmfs_policy, field)

/* Rows by kind; only the fields a kind uses are given. The table is laid
 * out by hand, one row per option. */
// clang-format off
#define SWITCH(n, a, field, h)                                          \
	{ .name = n, .alias = a, .type = MMFS_OPT_SWITCH,               \
	  .where = MMFS_IN_CMDLINE, .cfg_off = CFG(field), .pol_off = -1, \
	  .help = h }
#define OWN(n, t, w, field, lo, hi, a, h)                                 \
	{ .name = n, .type = t, .where = w, .cfg_off = CFG(field),        \
	  .pol_off = -1, .min = lo, .max = hi, .arg = a, .help = h }
#define OWN_ENUM(n, w, field, poff, bit, list, h)                         \
	{ .name = n, .type = MMFS_OPT_ENUM, .where = w, .cfg_off = CFG(field), \
	  .pol_off = poff, .rule_bit = bit, .names = list, .arg = "MODE",  \
	  .help = h }
#define GENERIC(n, t, given)                                               \
	{ .name = n, .type = t, .where = MMFS_IN_CMDLINE | MMFS_IN_GLOBAL | \
					  MMFS_TO_LIBFUSE,                  \
	  .cfg_off = given, .pol_off = -1 }
#define IGNORED(n)                                                         \
	{ .name = n, .type = MMFS_OPT_IGNORED, .where = MMFS_IN_CMDLINE,   \
	  .cfg_off = -1, .pol_off = -1 }

#define CLI_FILE (MMFS_IN_CMDLINE | MMFS_IN_GLOBAL)
#define EVERYWHERE (CLI_FILE | MMFS_IN_RULE | MMFS_IN_POLICY)

static const char *const mode_names[] = { "rw", "ro", "cow", NULL };
static const char *const cache_names[] = { "auto", "keep", "none", "single",
					   NULL };

const struct mmfs_option mmfs_options[] = {
	SWITCH("-h", "--help", show_help, "print this help and exit"),
	SWITCH("-V", "--version", show_version, "print the version and exit"),
	SWITCH("-f", NULL, foreground, "stay in the foreground, log to stderr"),
	SWITCH("-d", NULL, debug,
	       "foreground, and trace every request (also -o debug)"),
	SWITCH("-s", NULL, singlethread, "single-threaded request loop"),
	SWITCH("--print-config", NULL, print_config,
	       "print the effective settings and rules (and the rule each "
	       "PATH gets), then exit"),
	OWN("threads", MMFS_OPT_UINT, CLI_FILE, threads, 1, MMFS_MAX_THREADS,
	    "N", "at most N worker threads"),
	OWN("timeout", MMFS_OPT_SECONDS, CLI_FILE, timeout, 0, 86400.0 * 365,
	    "SECS", "kernel caching of names and attributes, fractions "
		    "allowed"),
	OWN("clone_fd", MMFS_OPT_FLAG, CLI_FILE, clone_fd, 0, 0, NULL,
	    "one /dev/fuse fd per worker thread"),
	OWN("window", MMFS_OPT_SIZE, CLI_FILE | MMFS_IN_POLICY, map.window, 0, 0, "SIZE",
	    "map files in windows of SIZE"),
	OWN("max_mapped", MMFS_OPT_SIZE, CLI_FILE, map.max_mapped, 0, 0,
	    "SIZE", "map at most SIZE at once (default half the RAM, at most "
		    "64G; here %D)"),
	OWN("mmap_min", MMFS_OPT_SIZE, CLI_FILE, mmap_min, 0, 0, "SIZE",
	    "files smaller than SIZE use plain read/write (default %D: map "
	    "every file)"),
	OWN_ENUM("sync", EVERYWHERE | MMFS_IN_XATTR, sync_mode, POL(sync),
		 MMFS_SET_SYNC, mmfs_sync_mode_names,
		 "when written data is made durable: immediate (before the "
		 "write returns), periodic (every sync_interval), close (on "
		 "close) or never (kernel writeback); fsync always works"),
	OWN("sync_interval", MMFS_OPT_SECONDS, CLI_FILE, sync_interval, 0.001,
	    86400, "SECS", "periodic sync interval, fractions allowed"),
	OWN_ENUM("advice", EVERYWHERE, map.advice, POL(advice), MMFS_SET_ADVICE,
		 mmfs_advice_names,
		 "normal, sequential or random: how windows are read ahead"),
	OWN_ENUM("preload", EVERYWHERE, map.preload, POL(preload), MMFS_SET_PRELOAD,
		 mmfs_preload_names,
		 "none, willneed (prefetch on open) or populate (read whole "
		 "windows in when mapped)"),
	OWN("lock", MMFS_OPT_FLAG, CLI_FILE, map.lock, 0, 0, NULL,
	    "lock mapped windows in RAM (mlock)"),
	{ .name = "mmap", .type = MMFS_OPT_FLAG,
	  .where = MMFS_IN_RULE | MMFS_IN_POLICY, .cfg_off = -1,
	  .pol_off = POL(mmap), .rule_bit = MMFS_SET_MMAP },
	OWN_ENUM("mode", CLI_FILE | MMFS_IN_POLICY, mode, -1, 0, mode_names,
		 "rw, ro (refuse every change) or cow (changes in private "
		 "memory, SOURCE untouched)"),
	OWN("max_private", MMFS_OPT_SIZE, CLI_FILE, max_private, 0, 0, "SIZE",
	    "mode=cow: most private memory"),
	OWN_ENUM("cache", CLI_FILE, cache, -1, 0, cache_names,
		 "kernel page cache: single (as auto, each byte read cached "
		 "once), auto (keep while unchanged), keep, or none (direct "
		 "I/O)"),
	OWN("writeback", MMFS_OPT_FLAG, CLI_FILE, writeback, 0, 0, NULL,
	    "the FUSE writeback cache (files in sync=immediate bypass it)"),
	OWN("handles", MMFS_OPT_FLAG, CLI_FILE, handles, 0, 0, NULL,
	    "reopen idle files by file handle, so that only fd_cache of them "
	    "hold an fd (false: every file the kernel remembers holds one)"),
	OWN("fd_cache", MMFS_OPT_UINT, CLI_FILE, fd_cache, 0, 1 << 30, "N",
	    "at most N fds held by remembered files nobody has open (0: half "
	    "the fd limit)"),
	{ .name = "default_permissions", .type = MMFS_OPT_GENERIC_FLAG,
	  .where = CLI_FILE | MMFS_TO_LIBFUSE, .cfg_off = -1, .pol_off = -1,
	  .help = "always on: permissions are checked as on SOURCE" },
	{ .name = "config", .type = MMFS_OPT_PATH, .where = MMFS_IN_CMDLINE,
	  .cfg_off = CFG(config_file), .pol_off = -1, .arg = "FILE",
	  .help = "read options from FILE's [global] group (the command line "
		  "wins)" },
	OWN("allow_other", MMFS_OPT_FLAG, CLI_FILE | MMFS_TO_LIBFUSE,
	    allow_other, 0, 0, NULL,
	    "let users other than the mounter in; permissions are always "
	    "checked as on SOURCE"),
	OWN("debug", MMFS_OPT_FLAG, CLI_FILE | MMFS_TO_LIBFUSE, debug, 0, 0,
	    NULL, NULL),
	/* libfuse's and the kernel's own, for [global] (on the command line
	 * any word memmapfs does not know goes to libfuse) */
	GENERIC("fsname", MMFS_OPT_GENERIC, CFG(has_fsname)),
	GENERIC("subtype", MMFS_OPT_GENERIC, CFG(has_subtype)),
	GENERIC("max_read", MMFS_OPT_GENERIC, -1),
	GENERIC("allow_root", MMFS_OPT_GENERIC_FLAG, -1),
	GENERIC("auto_unmount", MMFS_OPT_GENERIC_FLAG, -1),
	GENERIC("ro", MMFS_OPT_GENERIC_FLAG, -1),
	GENERIC("rw", MMFS_OPT_GENERIC_FLAG, -1),
	GENERIC("noatime", MMFS_OPT_GENERIC_FLAG, -1),
	GENERIC("atime", MMFS_OPT_GENERIC_FLAG, -1),
	GENERIC("nodev", MMFS_OPT_GENERIC_FLAG, -1),
	GENERIC("dev", MMFS_OPT_GENERIC_FLAG, -1),
	GENERIC("nosuid", MMFS_OPT_GENERIC_FLAG, -1),
	GENERIC("suid", MMFS_OPT_GENERIC_FLAG, -1),
	GENERIC("noexec", MMFS_OPT_GENERIC_FLAG, -1),
	GENERIC("exec", MMFS_OPT_GENERIC_FLAG, -1),
	/* Words mount(8) and fstab pass along that mean nothing to a FUSE
	 * daemon; accepted so that fstab lines work unchanged. */
	IGNORED("defaults"),
	IGNORED("auto"),
	IGNORED("noauto"),
	IGNORED("nofail"),
	IGNORED("_netdev"),
	IGNORED("user"),
	IGNORED("users"),
	IGNORED("nouser"),
	IGNORED("comment"),
	{ .name = NULL },
};
// clang-format on

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

const struct mmfs_option *mmfs_option_find(const char *name, unsigned int where)
{
	for (const struct mmfs_option *o = mmfs_options; o->name; o++) {
		if ((o->where & where) != where)
			continue;
		if (strcmp(o->name, name) == 0 ||
		    (o->alias && strcmp(o->alias, name) == 0))
			return o;
	}
	return NULL;
}

int mmfs_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; s && i < G_N_ELEMENTS(yes); i++) {
		if (g_ascii_strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (g_ascii_strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

/* "a, b, c or d" */
static char *join_or(const char *const *names)
{
	GString *s = g_string_new(NULL);

	for (int i = 0; names[i]; i++)
		g_string_append_printf(s, "%s%s",
				       i == 0	      ? ""
				       : names[i + 1] ? ", "
						      : " or ",
				       names[i]);
	return g_string_free(s, FALSE);
}

char *mmfs_option_expected(const struct mmfs_option *o)
{
	switch (o->type) {
	case MMFS_OPT_FLAG:
		return g_strdup("true or false (yes/no and on/off work too)");
	case MMFS_OPT_UINT:
		return g_strdup_printf("a whole number from %.0f to %.0f",
				       o->min, o->max);
	case MMFS_OPT_SIZE:
		return g_strdup("a size in bytes with an optional K, M, G or T "
				"suffix (e.g. 2M)");
	case MMFS_OPT_SECONDS:
		if (o->max >= 86400.0 * 365)
			return g_strdup_printf("seconds >= %g (fractions "
					       "allowed, e.g. 0.5 or 250ms)",
					       o->min);
		return g_strdup_printf("seconds from %g to %g (fractions "
				       "allowed, e.g. 0.5 or 250ms)",
				       o->min, o->max);
	case MMFS_OPT_ENUM:
		return join_or(o->names);
	default:
		return g_strdup("a value");
	}
}

static void *field(const struct mmfs_option *o, void *base, int by_policy)
{
	ptrdiff_t off = by_policy ? o->pol_off : o->cfg_off;

	return off < 0 ? NULL : (char *)base + off;
}

/* The value of val for o, into *dst (sized by type). 0 or -EINVAL. */
static int parse_value(const struct mmfs_option *o, const char *val, void *dst)
{
	uint64_t size;
	unsigned int n;
	double d;
	int b;

	switch (o->type) {
	case MMFS_OPT_FLAG:
		if (!val) {
			*(int *)dst = 1;
			return 0;
		}
		if (mmfs_parse_bool(val, &b))
			return -EINVAL;
		*(int *)dst = b;
		return 0;
	case MMFS_OPT_UINT:
		if (!val || mmfs_parse_uint(val, (unsigned int)o->min,
					    (unsigned int)o->max, &n))
			return -EINVAL;
		*(unsigned int *)dst = n;
		return 0;
	case MMFS_OPT_SIZE:
		if (!val || mmfs_parse_size(val, &size))
			return -EINVAL;
		*(uint64_t *)dst = size;
		return 0;
	case MMFS_OPT_SECONDS:
		if (!val || mmfs_parse_duration(val, &d) || d < o->min ||
		    d > o->max)
			return -EINVAL;
		*(double *)dst = d;
		return 0;
	case MMFS_OPT_ENUM:
		for (int i = 0; val && o->names[i]; i++)
			if (strcmp(val, o->names[i]) == 0) {
				*(int *)dst = i;
				return 0;
			}
		return -EINVAL;
	case MMFS_OPT_SWITCH:
		*(int *)dst = 1;
		return 0;
	case MMFS_OPT_PATH:
		if (!val || !*val)
			return -EINVAL;
		g_free(*(char **)dst);
		*(char **)dst = g_strdup(val);
		return 0;
	default:
		return 0;
	}
}

int mmfs_option_set(const struct mmfs_option *o, void *base, int by_policy,
		    const char *val, const char *ctx, char **why)
{
	void *dst = field(o, base, by_policy);
	uint64_t scratch[2] = {0, 0};
	char *expected;

	if (parse_value(o, val, dst ? dst : scratch) == 0)
		return 0;
	expected = mmfs_option_expected(o);
	if (!val)
		*why = g_strdup_printf(
		    "option '%s'%s%s needs a value: expected "
		    "%s",
		    o->name, ctx ? " " : "", ctx ? ctx : "", expected);
	else if (ctx)
		*why = g_strdup_printf("invalid value '%s' for '%s' %s: "
				       "expected %s",
				       val, o->name, ctx, expected);
	else
		*why = g_strdup_printf("invalid value '%s' for option '%s': "
				       "expected %s",
				       val, o->name, expected);
	g_free(expected);
	return -EINVAL;
}

/* A size as the config file spells it: 2M, 64G, 4097. */
static char *format_size(uint64_t v)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (v && v % 1024 == 0 && u < 3) {
		v /= 1024;
		u++;
	}
	return u < 0 ? g_strdup_printf("%" PRIu64, v)
		     : g_strdup_printf("%" PRIu64 "%c", v, units[u]);
}

char *mmfs_option_format(const struct mmfs_option *o, const void *base,
			 int by_policy, int json)
{
	const void *src = field(o, (void *)base, by_policy);

	if (!src)
		return g_strdup(json ? "null" : "");
	switch (o->type) {
	case MMFS_OPT_SWITCH:
	case MMFS_OPT_FLAG:
		return g_strdup(*(const int *)src ? "true" : "false");
	case MMFS_OPT_UINT:
		return g_strdup_printf("%u", *(const unsigned int *)src);
	case MMFS_OPT_SIZE:
		return json
			   ? g_strdup_printf("%" PRIu64, *(const uint64_t *)src)
			   : format_size(*(const uint64_t *)src);
	case MMFS_OPT_SECONDS:
		return g_strdup_printf("%g", *(const double *)src);
	case MMFS_OPT_ENUM:
		return g_strdup_printf(json ? "\"%s\"" : "%s",
				       o->names[*(const int *)src]);
	case MMFS_OPT_PATH: {
		const char *s = *(char *const *)src;

		return g_strdup(s ? s : "");
	}
	default:
		return g_strdup("");
	}
}

char *mmfs_option_list(unsigned int where)
{
	GPtrArray *names = g_ptr_array_new();
	GString *s = g_string_new(NULL);

	for (const struct mmfs_option *o = mmfs_options; o->name; o++)
		if ((o->where & where) == where)
			g_ptr_array_add(names, (gpointer)o->name);
	for (guint i = 0; i < names->len; i++)
		g_string_append_printf(s, "%s%s",
				       i == 0		    ? ""
				       : i + 1 < names->len ? ", "
							    : " and ",
				       (const char *)names->pdata[i]);
	g_ptr_array_free(names, TRUE);
	return g_string_free(s, FALSE);
}

/* Append text to out wrapped at 79 columns, continuation lines indented
 * to column indent; the first line starts at column col. */
static void wrap(GString *out, const char *text, size_t col, size_t indent)
{
	g_auto(GStrv) words = g_strsplit(text, " ", -1);

	for (int i = 0; words[i]; i++) {
		size_t len = strlen(words[i]);

		if (i > 0 && col + 1 + len > 79) {
			g_string_append_printf(out, "\n%*s", (int)indent, "");
			col = indent;
		} else if (i > 0) {
			g_string_append_c(out, ' ');
			col++;
		}
		g_string_append(out, words[i]);
		col += len;
	}
	g_string_append_c(out, '\n');
}

char *mmfs_option_help(unsigned int where, const void *defaults)
{
	GString *out = g_string_new(NULL);

	for (const struct mmfs_option *o = mmfs_options; o->name; o++) {
		g_autofree char *head = NULL, *text = NULL, *deflt = NULL;
		const char *mark;

		if (!o->help || (o->where & where) != where)
			continue;
		if (o->type == MMFS_OPT_SWITCH)
			head = o->alias ? g_strdup_printf("%s, %s", o->name,
							  o->alias)
					: g_strdup(o->name);
		else if (o->arg)
			head = g_strdup_printf("-o %s=%s", o->name, o->arg);
		else
			head = g_strdup_printf("-o %s", o->name);
		deflt = mmfs_option_format(o, defaults, 0, 0);
		mark = strstr(o->help, "%D");
		if (mark)
			text =
			    g_strdup_printf("%.*s%s%s", (int)(mark - o->help),
					    o->help, deflt, mark + 2);
		else if (o->arg && o->type != MMFS_OPT_PATH)
			text =
			    g_strdup_printf("%s (default %s)", o->help, deflt);
		else
			text = g_strdup(o->help);
		g_string_append_printf(out, "    %-22s ", head);
		wrap(out, text, 4 + MAX(strlen(head), 22) + 1, 27);
	}
	return g_string_free(out, FALSE);
}

/* " name=value" for each option a rule may set that set (all of them
 * when set is ~0), from policy. */
static char *describe(const struct mmfs_policy *policy, unsigned int set)
{
	GString *s = g_string_new(NULL);

	for (const struct mmfs_option *o = mmfs_options; o->name; o++) {
		g_autofree char *val = NULL;

		if (!(o->where & MMFS_IN_RULE) || !(set & o->rule_bit))
			continue;
		val = mmfs_option_format(o, policy, 1, 0);
		g_string_append_printf(s, " %s=%s", o->name, val);
	}
	if (s->len)
		g_string_erase(s, 0, 1);
	return g_string_free(s, FALSE);
}

char *mmfs_policy_describe(const struct mmfs_policy *p)
{
	return describe(p, ~0u);
}

char *mmfs_rule_describe(const struct mmfs_rule *r)
{
	return describe(&r->policy, r->set);
}
