// SPDX-License-Identifier: GPL-2.0-or-later
/* libfuse's messages through mmfs_log(): the daemon's side of logging (the
 * core's log.c knows nothing of FUSE). */
#include <stdarg.h>
#include <stdio.h>

#include <fuse_log.h>

#include "memmapfs/fuselog.h"
#include "memmapfs/log.h"

static void fuse_log_func(enum fuse_log_level level, const char *fmt,
			  va_list ap)
{
	static const int map[] = {
	    [FUSE_LOG_EMERG] = LOG_EMERG,     [FUSE_LOG_ALERT] = LOG_ALERT,
	    [FUSE_LOG_CRIT] = LOG_CRIT,	      [FUSE_LOG_ERR] = LOG_ERR,
	    [FUSE_LOG_WARNING] = LOG_WARNING, [FUSE_LOG_NOTICE] = LOG_NOTICE,
	    [FUSE_LOG_INFO] = LOG_INFO,	      [FUSE_LOG_DEBUG] = LOG_DEBUG,
	};
	/* libfuse sometimes builds one line from several calls: collect
	 * the pieces and log the line once it is complete. */
	static __thread char line[1024];
	static __thread size_t used;
	int lvl = (unsigned)level < sizeof(map) / sizeof(map[0]) ? map[level]
								 : LOG_ERR;

	/* libfuse's -d request trace is printed raw, as users expect it. */
	if (lvl == LOG_DEBUG && !mmfs_log_is_syslog()) {
		vfprintf(stderr, fmt, ap);
		return;
	}
	if (used < sizeof(line) - 1) {
		int n = vsnprintf(line + used, sizeof(line) - used, fmt, ap);

		if (n > 0)
			used += (size_t)n < sizeof(line) - used
				    ? (size_t)n
				    : sizeof(line) - 1 - used;
	}
	if (used > 0 && (line[used - 1] == '\n' || used >= sizeof(line) - 1)) {
		mmfs_log(lvl, "%s", line);
		used = 0;
		line[0] = '\0';
	}
}

void mmfs_log_route_libfuse(void)
{
	fuse_set_log_func(fuse_log_func);
}
