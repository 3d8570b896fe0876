/* Logging: one helper, two sinks (stderr in the foreground, syslog when
 * daemonized), and libfuse's messages routed through the same helper. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <fuse_log.h>

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
		level <= LOG_ERR       ? "error: " :
		level == LOG_WARNING ? "warning: " : "",
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

static void fuse_log_func(enum fuse_log_level level, const char *fmt,
			  va_list ap)
{
	static const int map[] = {
		[FUSE_LOG_EMERG] = LOG_EMERG,	[FUSE_LOG_ALERT] = LOG_ALERT,
		[FUSE_LOG_CRIT] = LOG_CRIT,	[FUSE_LOG_ERR] = LOG_ERR,
		[FUSE_LOG_WARNING] = LOG_WARNING, [FUSE_LOG_NOTICE] = LOG_NOTICE,
		[FUSE_LOG_INFO] = LOG_INFO,	[FUSE_LOG_DEBUG] = LOG_DEBUG,
	};
	/* libfuse sometimes builds one line from several calls: collect
	 * the pieces and log the line once it is complete. */
	static __thread char line[1024];
	static __thread size_t used;
	int lvl = (unsigned)level < sizeof(map) / sizeof(map[0]) ? map[level]
								  : LOG_ERR;

	/* libfuse's -d request trace is printed raw, as users expect it. */
	if (lvl == LOG_DEBUG && !use_syslog) {
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
