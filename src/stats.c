// SPDX-License-Identifier: GPL-2.0-or-later
/* Statistics rendering (see stats.h). */
#include <glib.h>

#include "memmapfs/stats.h"

void mmfs_stat_max(uint64_t *counter, uint64_t v)
{
	uint64_t cur = __atomic_load_n(counter, __ATOMIC_RELAXED);

	while (v > cur &&
	       !__atomic_compare_exchange_n(counter, &cur, v, 1,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

const char *mmfs_format_size(uint64_t bytes, char buf[32])
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		g_snprintf(buf, 32, "%" G_GUINT64_FORMAT " bytes", bytes);
		return buf;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	g_snprintf(buf, 32, "%.1f %s", v, units[u]);
	return buf;
}

char *mmfs_stats_json(const struct mmfs_stats *s)
{
	GString *out = g_string_new("{");
	const char *sep = "";

#define MMFS_STATS_JSON(name, doc)                                             \
	g_string_append_printf(out, "%s\n  \"" #name "\": %" G_GUINT64_FORMAT, \
			       sep, mmfs_stat_get(&s->name));                  \
	sep = ",";
	MMFS_STATS(MMFS_STATS_JSON)
#undef MMFS_STATS_JSON
	g_string_append(out, "\n}\n");
	return g_string_free(out, FALSE);
}
