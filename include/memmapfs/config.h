/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Command line, mount options and the config file -> struct mmfs_config,
 * driven by the option table (options.h). FUSE-free: what is for libfuse
 * is handed back as words, so it is unit-tested without mounting. */
#ifndef MEMMAPFS_CONFIG_H
#define MEMMAPFS_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#include "memmapfs/options.h"

/* Parse argv into *cfg. Options memmapfs knows are consumed; everything
 * left (generic libfuse/mount options, -d) goes to cfg->fuse_argv for
 * fuse_session_new(), with -o options in one comma-separated word. With -o
 * config=FILE, FILE's [global] group (GLib key-file format, keys named like the
 * -o options) is applied first, so the command line wins. Returns 0, or -EINVAL
 * with cfg->error saying what was wrong (with FILE:LINE for the config file)
 * and what is accepted. Help/version requests succeed with
 * show_help/show_version set and need no SOURCE or MOUNTPOINT. */
int mmfs_config_parse(int argc, const char *const *argv,
		      struct mmfs_config *cfg);

/* Built-in defaults, then the config file text (named name in messages)
 * as -o config= would read it. 0, or -EINVAL with cfg->error. For tests and
 * fuzzing; free with mmfs_config_free(). */
int mmfs_config_load_text(struct mmfs_config *cfg, const char *name,
			  const char *text);

/* The policy a file gets from the mount's settings alone (no rule). */
void mmfs_config_policy(const struct mmfs_config *cfg,
			struct mmfs_policy *policy);

/* Free what mmfs_config_parse() allocated. */
void mmfs_config_free(struct mmfs_config *cfg);

/* --print-config: the effective settings, the rules, and the policy each
 * of cfg->paths gets, in key = value form. */
void mmfs_config_print(const struct mmfs_config *cfg, FILE *out);

/* The usage and option text printed by --help. */
void mmfs_config_print_help(const char *progname);

#endif
