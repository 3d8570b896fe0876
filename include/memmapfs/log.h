/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One logging helper for the whole daemon: stderr while in the foreground,
 * syslog (the journal under systemd) once daemonized. libfuse's own messages
 * are routed through it too (fuselog.h). */
#ifndef MEMMAPFS_LOG_H
#define MEMMAPFS_LOG_H

#include <syslog.h>

/* Send messages to syslog instead of stderr from now on (call after
 * daemonizing). Thread-safe with respect to mmfs_log(). */
void mmfs_log_to_syslog(void);

/* Show LOG_DEBUG messages (off unless -d). */
void mmfs_log_set_debug(int on);

/* Log one message at a syslog level (LOG_ERR, LOG_WARNING, LOG_INFO,
 * LOG_DEBUG). A trailing newline is added when missing; %m works. */
void mmfs_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Whether messages go to syslog now. */
int mmfs_log_is_syslog(void);

#endif
