// SPDX-License-Identifier: GPL-2.0-or-later
/* Logging: one helper, two sinks (stderr in the foreground, syslog when
 * daemonized). FUSE-free; fuselog.c routes libfuse's messages here. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "memmapfs/log.h"

static volatile int use_syslog;
static volatile int show_debug;

void mmfs_log_to_syslog(void)
{
	openlog("memmapfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	use_syslog = 1;
}

void mmfs_log_set_debug(int on)
{
	show_debug = on;
}

static void vlog(int level, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t len;

	if (level == LOG_DEBUG && !show_debug)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strlen(msg);
	while (len > 0 && msg[len - 1] == '\n')
		msg[--len] = '\0';
	if (use_syslog) {
		syslog(level, "%s", msg);
		return;
	}
	/* One fprintf per message so lines from several threads do not mix. */
	fprintf(stderr, "memmapfs: %s%s\n",
		level <= LOG_ERR       ? "error: "
		: level == LOG_WARNING ? "warning: "
				       : "",
		msg);
}

void mmfs_log(int level, const char *fmt, ...)
{
	va_list ap;
	int saved = errno; /* keep %m meaningful for the caller */

	va_start(ap, fmt);
	errno = saved;
	vlog(level, fmt, ap);
	va_end(ap);
	errno = saved;
}

int mmfs_log_is_syslog(void)
{
	return use_syslog;
}
