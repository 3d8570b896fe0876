// SPDX-License-Identifier: GPL-2.0-or-later
/* The control interface: user.memmapfs.* extended attributes. stats (on the
 * mount's root) and policy read the daemon's state as JSON; sync reads or
 * sets a file's sync mode (the default's, on the root). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>

#include "memmapfs/control.h"
#include "memmapfs/lock.h"
#include "memmapfs/log.h"
#include "memmapfs/options.h"
#include "memmapfs/policy.h"

/* --- extended attributes, through the /proc link (which reaches a
 * symlink itself, not its target) ---
 *
 * The user.memmapfs. namespace is the daemon's own control interface and
 * never reaches the backing files:
 *   stats   (mount root, read-only) the counters, as JSON
 *   policy  (any file, read-only) its effective policy and where from, JSON
 *   sync    (any file) its sync mode; set it (owner or root) to a mode, or
 *           to "default" (or remove it) to follow rules and the default
 *           again; on the root it is the default for files opened later
 * Read-only names answer EROFS to set/remove, bad values EINVAL, other
 * names ENODATA. */

#define CONTROL_PREFIX "user.memmapfs."

int mmfs_control_is(const char *name)
{
	return strncmp(name, CONTROL_PREFIX, sizeof(CONTROL_PREFIX) - 1) == 0;
}

static const char *control_key(const char *name)
{
	return name + sizeof(CONTROL_PREFIX) - 1;
}

static int is_stats(fuse_ino_t ino, const char *name)
{
	return ino == FUSE_ROOT_ID && strcmp(control_key(name), "stats") == 0;
}

/* A JSON string, quoted and escaped. */
static void json_string(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			g_string_append_printf(out, "\\%c", c);
		else if (c < 0x20)
			g_string_append_printf(out, "\\u%04x", c);
		else
			g_string_append_c(out, (char)c);
	}
	g_string_append_c(out, '"');
}

/* The policy's options (the table's MMFS_IN_POLICY rows) as a JSON object,
 * with where the sync mode came from and the rule that matched. */
static char *policy_json(struct mmfs_fs *fs, struct mmfs_inode *inode)
{
	GString *out = g_string_new("{\n");
	struct mmfs_policy pol;
	const char *rule;
	int overridden;

	mmfs_policy_resolve(fs, inode, &pol, &rule, &overridden);
	for (const struct mmfs_option *o = mmfs_options; o->name; o++) {
		g_autofree char *val = NULL;

		if (!(o->where & MMFS_IN_POLICY))
			continue;
		val = o->pol_off >= 0 ? mmfs_option_format(o, &pol, 1, 1)
				      : mmfs_option_format(o, fs->cfg, 0, 1);
		g_string_append_printf(out, "  \"%s\": %s,\n", o->name, val);
		if (strcmp(o->name, "sync") == 0)
			g_string_append_printf(out,
					       "  \"sync_from\": \"%s\",\n",
					       overridden ? "xattr"
					       : rule	  ? "rule"
							  : "default");
	}
	g_string_append(out, "  \"rule\": ");
	if (rule)
		json_string(out, rule);
	else
		g_string_append(out, "null");
	g_string_append(out, "\n}\n");
	return g_string_free(out, FALSE);
}

void mmfs_control_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			   size_t size)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct mmfs_inode *inode = mmfs_fs_inode(req, ino);
	const char *key = control_key(name);
	char *text;
	size_t len;

	if (is_stats(ino, name)) {
		mmfs_stat_set(
		    &fs->stats.private_bytes,
		    __atomic_load_n(&fs->cows.budget.used, __ATOMIC_RELAXED));
		text = mmfs_stats_json(&fs->stats);
	} else if (strcmp(key, "policy") == 0) {
		text = policy_json(fs, inode);
	} else if (strcmp(key, "sync") == 0) {
		struct mmfs_policy pol;
		const char *rule;
		int ov;

		if (ino == FUSE_ROOT_ID) {
			pol.sync = mmfs_syncer_mode(fs->syncer);
		} else {
			mmfs_policy_resolve(fs, inode, &pol, &rule, &ov);
		}
		text = g_strdup(mmfs_sync_mode_name(pol.sync));
	} else {
		fuse_reply_err(req, ENODATA);
		return;
	}
	len = strlen(text);
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, text, len);
	g_free(text);
}

int mmfs_control_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			  const char *value, size_t size)
{
	struct mmfs_fs *fs = mmfs_fs_of(req);
	struct mmfs_inode *inode = mmfs_fs_inode(req, ino);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	enum mmfs_sync_mode mode = MMFS_SYNC_PERIODIC;
	int deflt = 1;
	struct stat st;

	if (is_stats(ino, name) || strcmp(control_key(name), "policy") == 0)
		return -EROFS;
	if (!mmfs_option_find(control_key(name), MMFS_IN_XATTR))
		return -ENODATA;
	/* only the file's owner (or root) steers it */
	if (mmfs_fs_stat_fd(inode->fd, &st) != 0)
		return -EIO;
	if (ctx->uid != 0 && ctx->uid != st.st_uid)
		return -EPERM;
	if (value && mmfs_sync_parse_value(value, size, &mode, &deflt) != 0)
		return -EINVAL;
	if (ino == FUSE_ROOT_ID) {
		mmfs_syncer_set_default(fs->syncer,
					deflt ? fs->cfg->sync_mode : mode);
		mmfs_log(LOG_INFO, "default sync mode now %s",
			 mmfs_sync_mode_name(mmfs_syncer_mode(fs->syncer)));
		return 0;
	}
	mmfs_lock(&inode->lock);
	inode->sync_override = deflt ? -1 : (int)mode;
	mmfs_unlock(&inode->lock);
	mmfs_policy_refresh(fs, inode); /* at once, for handles already open */
	return 0;
}
