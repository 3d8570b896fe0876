/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The settings (struct mmfs_config) and the one table of memmapfs's
 * options. Each row says what an option is
 * called, what type its value has, where it may appear (command line,
 * [global] of the config file, [rule NAME] groups, user.memmapfs.* xattrs),
 * where its value lives and how --help explains it. The command-line and
 * config-file parsers, their error messages, --help, --print-config, rule
 * descriptions and the policy xattr's JSON are all driven by it.
 * FUSE-free. */
#ifndef MEMMAPFS_OPTIONS_H
#define MEMMAPFS_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "memmapfs/map.h"
#include "memmapfs/rules.h"
#include "memmapfs/sync.h"

#define MMFS_VERSION "0.1.0"

/* Defaults, also quoted by --help and the man page. */
#define MMFS_DEFAULT_TIMEOUT	 1.0 /* seconds of kernel attr/entry caching */
#define MMFS_DEFAULT_MMAP_MIN	 0   /* map files of every size */
#define MMFS_DEFAULT_MAX_PRIVATE ((uint64_t)1 << 30) /* mode=cow */

enum mmfs_mode {
	MMFS_MODE_RW,  /* read and write SOURCE */
	MMFS_MODE_RO,  /* refuse every change with EROFS */
	MMFS_MODE_COW, /* changes to files in private memory, SOURCE intact */
};

enum mmfs_cache {
	MMFS_CACHE_AUTO,   /* keep pages while size and mtime are unchanged */
	MMFS_CACHE_KEEP,   /* always keep pages across opens */
	MMFS_CACHE_NONE,   /* direct I/O: no kernel page cache for the mount */
	MMFS_CACHE_SINGLE, /* as auto, and data read is cached once: a
			    * window's backing pages go once reads have
			    * covered it */
};
/* single: measured as fast as auto everywhere and faster on cold
 * sequential reads, with half the memory (README, levers) */
#define MMFS_DEFAULT_CACHE   MMFS_CACHE_SINGLE
#define MMFS_DEFAULT_THREADS 16 /* upper bound of worker threads */
#define MMFS_MAX_THREADS     1024

struct mmfs_config {
	char *source;	  /* SOURCE as given (made absolute by main) */
	char *mountpoint; /* MOUNTPOINT as given */
	int show_help;
	int show_version;
	int foreground;
	int debug;
	int singlethread;
	int clone_fd;
	int allow_other;
	int has_fsname;	 /* user gave -o fsname= */
	int has_subtype; /* user gave -o subtype= */
	unsigned int threads;
	double timeout;
	struct mmfs_map_config map; /* window, max_mapped, preload, ... */
	uint64_t mmap_min;	    /* smaller files use the fd path */
	enum mmfs_sync_mode sync_mode;
	double sync_interval; /* seconds, for periodic */
	enum mmfs_mode mode;
	enum mmfs_cache cache;
	int writeback;	       /* FUSE writeback cache */
	uint64_t max_private;  /* mode=cow: private memory bound */
	unsigned int fd_cache; /* O_PATH fds held at most; 0 = half the limit */
	int handles;	       /* file handles for remembered files */
	struct mmfs_rules rules;
	int print_config;     /* --print-config: show settings, no mount */
	GPtrArray *paths;     /* --print-config: paths to show rules for */
	char *config_file;    /* -o config=FILE, or NULL */
	GPtrArray *fuse_argv; /* argv for libfuse: argv[0], -d, -o OPTS */
	char *where;	      /* "FILE:LINE" while reading the config file */
	char *error;	      /* set (g_malloc'd) when parsing fails */
};

enum mmfs_opt_type {
	MMFS_OPT_SWITCH,  /* a command-line word (-f, --help): sets an int */
	MMFS_OPT_FLAG,	  /* -o name (or name=BOOL); BOOL in files */
	MMFS_OPT_UINT,	  /* whole number in [min, max] */
	MMFS_OPT_SIZE,	  /* bytes, K/M/G/T suffixes */
	MMFS_OPT_SECONDS, /* seconds in [min, max], fractions, s/ms */
	MMFS_OPT_ENUM,	  /* one of names[] */
	MMFS_OPT_PATH,	  /* a file name (config=) */
	MMFS_OPT_GENERIC, /* libfuse's or the kernel's: passed on */
	MMFS_OPT_GENERIC_FLAG, /* the same, without a value */
	MMFS_OPT_IGNORED,      /* fstab words that mean nothing to FUSE */
};

/* Where an option may appear, and what else it does. */
enum {
	MMFS_IN_CMDLINE = 1, /* -o name[=value] (or the word itself) */
	MMFS_IN_GLOBAL = 2,  /* name = value in [global] */
	MMFS_IN_RULE = 4,    /* name = value in [rule NAME] */
	MMFS_IN_XATTR = 8,   /* user.memmapfs.NAME may set it */
	MMFS_IN_POLICY = 16, /* shown in user.memmapfs.policy */
	MMFS_TO_LIBFUSE = 32 /* also handed on to libfuse */
};

struct mmfs_option {
	const char *name;  /* as written after -o, or the switch itself */
	const char *alias; /* a second spelling of a switch, or NULL */
	enum mmfs_opt_type type;
	unsigned int where;	  /* MMFS_IN_* | MMFS_TO_LIBFUSE */
	ptrdiff_t cfg_off;	  /* in struct mmfs_config, or -1 */
	ptrdiff_t pol_off;	  /* in struct mmfs_policy (rules), or -1 */
	unsigned int rule_bit;	  /* MMFS_SET_* a rule records */
	const char *const *names; /* enum: value i is names[i] */
	double min, max;	  /* uint and seconds */
	const char *arg;	  /* --help's placeholder: N, SECS, SIZE... */
	const char *help; /* --help text ("%D": the default); NULL: hidden */
};

/* The table, ended by a row with name NULL. */
extern const struct mmfs_option mmfs_options[];

/* The option called name (or, for switches, alias) that may appear in
 * every place of where, or NULL. */
const struct mmfs_option *mmfs_option_find(const char *name,
					   unsigned int where);

/* Set the option's field in base (a struct mmfs_config for cfg_off, a
 * struct mmfs_policy for pol_off: by_policy says which) from text val
 * (NULL: given without a value, which only flags allow). 0, or -EINVAL
 * with *why (g_free it) saying what was expected; ctx ("option 'x'" is
 * built from it) names the place, e.g. "in [rule db]", or is NULL. */
int mmfs_option_set(const struct mmfs_option *o, void *base, int by_policy,
		    const char *val, const char *ctx, char **why);

/* The value of the option's field in base as the config file would spell
 * it (g_free it). json: as a JSON value (strings quoted, sizes as numbers). */
char *mmfs_option_format(const struct mmfs_option *o, const void *base,
			 int by_policy, int json);

/* "immediate, periodic, close or never"; "a whole number from 1 to 1024"
 * (g_free it). */
char *mmfs_option_expected(const struct mmfs_option *o);

/* The names of the options allowed in where, "a, b and c" (g_free it). */
char *mmfs_option_list(unsigned int where);

/* "sync=immediate advice=normal preload=none mmap=true": every option a
 * rule may set, as policy has it (g_free it). */
char *mmfs_policy_describe(const struct mmfs_policy *policy);

/* The rule's settings, e.g. "sync=immediate mmap=false" (g_free it). */
char *mmfs_rule_describe(const struct mmfs_rule *rule);

/* Parse a byte size: a decimal number with an optional K, M, G or T suffix
 * (powers of 1024, case-insensitive, optional trailing "B" or "iB").
 * Returns 0 and *out, or -EINVAL (junk, empty, negative) or -ERANGE. */
int mmfs_parse_size(const char *s, uint64_t *out);

/* Parse a duration in seconds, fractions allowed ("0.25", "5"), with an
 * optional "s" or "ms" suffix. Returns 0, -EINVAL or -ERANGE (< 0). */
int mmfs_parse_duration(const char *s, double *out);

/* Parse an unsigned decimal integer in [min, max]. 0, -EINVAL or -ERANGE. */
int mmfs_parse_uint(const char *s, unsigned int min, unsigned int max,
		    unsigned int *out);

/* true/false, yes/no, on/off, 1/0 (any case). 0 and *out, or -EINVAL. */
int mmfs_parse_bool(const char *s, int *out);

/* --help's option lines for options that may appear in where, each help
 * text wrapped at 79 columns, defaults taken from defaults (a struct
 * mmfs_config). g_free it. */
char *mmfs_option_help(unsigned int where, const void *defaults);

#endif
