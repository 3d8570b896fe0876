/* Command line and mount options -> struct mmfs_config. FUSE-free apart from
 * libfuse's fuse_opt parser, so it is unit-tested without mounting. */
#ifndef MEMMAPFS_CONFIG_H
#define MEMMAPFS_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include <fuse_opt.h>

#include "memmapfs/map.h"
#include "memmapfs/rules.h"
#include "memmapfs/sync.h"

#define MMFS_VERSION "0.1.0"

/* Defaults, also quoted by --help and the man page. */
#define MMFS_DEFAULT_TIMEOUT 1.0 /* seconds of kernel attr/entry caching */
#define MMFS_DEFAULT_MMAP_MIN 0  /* map files of every size */
#define MMFS_DEFAULT_MAX_PRIVATE ((uint64_t)1 << 30) /* mode=cow */

enum mmfs_mode {
	MMFS_MODE_RW,  /* read and write SOURCE */
	MMFS_MODE_RO,  /* refuse every change with EROFS */
	MMFS_MODE_COW, /* changes to files in private memory, SOURCE intact */
};

enum mmfs_cache {
	MMFS_CACHE_AUTO, /* keep pages while size and mtime are unchanged */
	MMFS_CACHE_KEEP, /* always keep pages across opens */
	MMFS_CACHE_NONE, /* direct I/O: no kernel page cache for the mount */
	MMFS_CACHE_SINGLE, /* as auto, and data read is cached once: a
			    * window's backing pages go once reads have
			    * covered it */
};
/* single: measured as fast as auto everywhere and faster on cold
 * sequential reads, with half the memory (README, levers) */
#define MMFS_DEFAULT_CACHE MMFS_CACHE_SINGLE
#define MMFS_DEFAULT_THREADS 16	 /* upper bound of worker threads */
#define MMFS_MAX_THREADS 1024

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
	int writeback;	      /* FUSE writeback cache */
	uint64_t max_private; /* mode=cow: private memory bound */
	struct mmfs_rules rules;
	int print_config;     /* --print-config: show settings, no mount */
	GPtrArray *paths;     /* --print-config: paths to show rules for */
	char *config_file; /* -o config=FILE, or NULL */
	char *where;	   /* "FILE:LINE" while reading the config file */
	char *error;	   /* set (g_malloc'd) when parsing fails */
};

/* Parse argv into *cfg. Options memmapfs knows are consumed; everything
 * left (generic libfuse/mount options, -d) stays in *args for
 * fuse_session_new(). With -o config=FILE, FILE's [global] group (GLib
 * key-file format, keys named like the -o options) is applied first, so
 * the command line wins. Returns 0, or -1 with cfg->error saying what was
 * wrong (with FILE:LINE for the config file) and what is accepted.
 * Help/version requests succeed with show_help/show_version set and need
 * no SOURCE or MOUNTPOINT. */
int mmfs_config_parse(struct fuse_args *args, struct mmfs_config *cfg);

/* Built-in defaults, then the config file text (named name in messages)
 * as -o config= would read it. 0, or -1 with cfg->error. For tests and
 * fuzzing; free with mmfs_config_free(). */
int mmfs_config_load_text(struct mmfs_config *cfg, const char *name,
			  const char *text);

/* Free what mmfs_config_parse() allocated. */
void mmfs_config_free(struct mmfs_config *cfg);

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

/* --print-config: the effective settings, the rules, and the policy each
 * of cfg->paths gets, in key = value form. */
void mmfs_config_print(const struct mmfs_config *cfg, FILE *out);

/* The usage and option text printed by --help. */
void mmfs_config_print_help(const char *progname);

#endif
