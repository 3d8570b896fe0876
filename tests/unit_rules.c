// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for per-path rules: globs, first match, policies, and the
 * [rule NAME] groups of the config file with their errors. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "harness.h"
#include "memmapfs/config.h"
#include "memmapfs/rules.h"

static int glob_matches(const char *glob, const char *path)
{
	struct mmfs_rules rules;
	const char *globs[] = {glob, NULL};
	char *why = NULL;
	int hit;

	mmfs_rules_init(&rules);
	ck_assert_msg(mmfs_rules_add(&rules, "r", globs, 1, &why), "%s", why);
	hit = mmfs_rules_match(&rules, path) != NULL;
	mmfs_rules_clear(&rules);
	return hit;
}

START_TEST(test_glob_without_slash_matches_a_name_anywhere)
{
	ck_assert(glob_matches("*.db", "a.db"));
	ck_assert(glob_matches("*.db", "deep/down/a.db"));
	ck_assert(!glob_matches("*.db", "a.db.bak"));
	ck_assert(!glob_matches("*.db", "a.dbx"));
	ck_assert(glob_matches("data?.bin", "x/data7.bin"));
	ck_assert(!glob_matches("data?.bin", "data/.bin"));
}
END_TEST

START_TEST(test_glob_with_slash_matches_from_the_top)
{
	ck_assert(glob_matches("logs/*.log", "logs/a.log"));
	ck_assert(!glob_matches("logs/*.log", "logs/old/a.log"));
	ck_assert(!glob_matches("logs/*.log", "x/logs/a.log"));
	ck_assert(glob_matches("/logs/*.log", "logs/a.log"));
	ck_assert(glob_matches("logs/**", "logs/a/b/c"));
	ck_assert(glob_matches("logs/**", "logs/a"));
	ck_assert(!glob_matches("logs/**", "logsx/a"));
	ck_assert(glob_matches("**/cache/*", "a/b/cache/x"));
	ck_assert(glob_matches("**/cache/*", "cache/x"));
}
END_TEST

START_TEST(test_glob_sets_and_special_characters)
{
	ck_assert(glob_matches("[ab]*.txt", "a1.txt"));
	ck_assert(!glob_matches("[ab]*.txt", "c1.txt"));
	ck_assert(glob_matches("[!ab]*.txt", "c1.txt"));
	ck_assert(glob_matches("a+b(1).txt", "a+b(1).txt"));
	ck_assert(!glob_matches("a.b", "axb"));
}
END_TEST

START_TEST(test_bad_globs_are_refused_with_a_reason)
{
	GRegex *re;
	char *why = NULL;

	ck_assert_int_eq(mmfs_glob_compile("[abc", &re, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "unterminated"));
	g_free(why);
	ck_assert_int_eq(mmfs_glob_compile("", &re, &why), -EINVAL);
	g_free(why);
}
END_TEST

START_TEST(test_first_matching_rule_wins)
{
	struct mmfs_rules rules;
	const char *a[] = {"*.db", NULL}, *b[] = {"data/**", NULL};
	struct mmfs_rule *ra, *rb;
	struct mmfs_policy pol = {MMFS_SYNC_PERIODIC, MMFS_ADVICE_NORMAL,
				  MMFS_PRELOAD_NONE, 1};
	char *why = NULL;

	mmfs_rules_init(&rules);
	ra = mmfs_rules_add(&rules, "dbs", a, 1, &why);
	rb = mmfs_rules_add(&rules, "data", b, 5, &why);
	ra->policy.sync = MMFS_SYNC_IMMEDIATE;
	ra->set = MMFS_SET_SYNC;
	rb->policy.mmap = 0;
	rb->policy.advice = MMFS_ADVICE_SEQUENTIAL;
	rb->set = MMFS_SET_MMAP | MMFS_SET_ADVICE;
	ck_assert_ptr_eq(mmfs_rules_match(&rules, "data/x.db"), ra);
	ck_assert_ptr_eq(mmfs_rules_match(&rules, "data/x.log"), rb);
	ck_assert_ptr_null(mmfs_rules_match(&rules, "x.log"));
	mmfs_policy_apply(&pol, rb);
	ck_assert_int_eq(pol.sync, MMFS_SYNC_PERIODIC); /* not set by rb */
	ck_assert_int_eq(pol.advice, MMFS_ADVICE_SEQUENTIAL);
	ck_assert_int_eq(pol.mmap, 0);
	ck_assert_ptr_null(mmfs_rules_add(&rules, "dbs", a, 9, &why));
	ck_assert_ptr_nonnull(strstr(why, "duplicate"));
	g_free(why);
	mmfs_rules_clear(&rules);
}
END_TEST

/* ---- the config file ---- */

static char conf[] = "/tmp/mmfs-rules.XXXXXX";

static int parse_conf(struct mmfs_config *cfg, const char *text,
		      const char *extra)
{
	char opt[64];
	const char *argv[] = {"memmapfs",	   "-o",  opt, "/a", "/b",
			      extra ? "-o" : NULL, extra, NULL};
	int fd, rc;

	strcpy(conf, "/tmp/mmfs-rules.XXXXXX");
	fd = mkstemp(conf);
	ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	snprintf(opt, sizeof(opt), "config=%s", conf);
	rc = mmfs_config_parse(extra ? 7 : 5, argv, cfg);
	unlink(conf);
	return rc;
}

static void assert_error(struct mmfs_config *cfg, int line, const char *words)
{
	char *where = g_strdup_printf("%s:%d:", conf, line);

	ck_assert_ptr_nonnull(cfg->error);
	ck_assert_msg(strstr(cfg->error, where), "want %s in: %s", where,
		      cfg->error);
	ck_assert_msg(strstr(cfg->error, words), "want '%s' in: %s", words,
		      cfg->error);
	g_free(where);
}

START_TEST(test_rule_groups_are_read_in_order)
{
	struct mmfs_config cfg;

	ck_assert_int_eq(parse_conf(&cfg,
				    "[global]\nsync = periodic\n\n"
				    "[rule databases]\nmatch = *.db; *.sqlite\n"
				    "sync = immediate\n\n"
				    "[rule logs]\nmatch=logs/**\n"
				    "advice=sequential\nmmap=no\n"
				    "preload = willneed\n",
				    NULL),
			 0);
	ck_assert_uint_eq(cfg.rules.list->len, 2);
	const struct mmfs_rule *db = mmfs_rules_match(&cfg.rules, "x/y.sqlite");
	ck_assert_ptr_nonnull(db);
	ck_assert_str_eq(db->name, "databases");
	ck_assert_int_eq(db->policy.sync, MMFS_SYNC_IMMEDIATE);
	const struct mmfs_rule *logs = mmfs_rules_match(&cfg.rules, "logs/a");
	ck_assert_str_eq(logs->name, "logs");
	ck_assert_int_eq(logs->policy.mmap, 0);
	ck_assert_int_eq(logs->policy.preload, MMFS_PRELOAD_WILLNEED);
	ck_assert(!(logs->set & MMFS_SET_SYNC));
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_config_errors_name_file_line_and_reason)
{
	static const struct {
		const char *text;
		int line;
		const char *words;
	} bad[] = {
	    {"[global]\nwindow = 3Q\n", 2, "'window'"},
	    {"[global]\nsync_interval = soon\n", 2, "'sync_interval'"},
	    {"[global]\nmode = sideways\n", 2, "'mode'"},
	    {"[rule a]\nmatch = *.db\nsync = sometimes\n", 3, "'sync'"},
	    {"[rule a]\nmatch = [oops\n", 2, "unterminated"},
	    {"[rule a]\nsync = close\n", 1, "no globs"},
	    {"[rule a]\nmatch = x\ncolour = red\n", 3, "unknown key"},
	    {"[rule a]\nmatch=x\n\n[rule a]\nmatch=y\n", 4, "twice"},
	    {"[rule]\nmatch=x\n", 1, "needs a name"},
	    {"[global]\nthreads=2\n[extra]\nx=1\n", 3, "unknown group"},
	    {"[rule a]\nmatch = x\nmmap = maybe\n", 3, "'mmap'"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct mmfs_config cfg;

		ck_assert_msg(parse_conf(&cfg, bad[i].text, NULL) == -EINVAL,
			      "accepted: %s", bad[i].text);
		assert_error(&cfg, bad[i].line, bad[i].words);
		mmfs_config_free(&cfg);
	}
}
END_TEST

START_TEST(test_unreadable_config_file_is_refused)
{
	const char *argv[] = {"memmapfs", "-o", "config=/proc/self/mem", "/a",
			      "/b"};
	struct mmfs_config cfg;

	ck_assert_int_eq(mmfs_config_parse(5, argv, &cfg), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cfg.error, "config file"));
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_precedence_defaults_file_command_line)
{
	struct mmfs_config cfg;

	ck_assert_int_eq(parse_conf(&cfg,
				    "[global]\nsync = close\nwindow = 1M\n"
				    "mode = cow\nmax_private = 64M\n",
				    "sync=never,cache=none,writeback"),
			 0);
	ck_assert_int_eq(cfg.sync_mode, MMFS_SYNC_NEVER); /* command line */
	ck_assert_uint_eq(cfg.map.window, 1 << 20);	  /* file */
	ck_assert_int_eq(cfg.mode, MMFS_MODE_COW);
	ck_assert_uint_eq(cfg.max_private, 64 << 20);
	ck_assert_int_eq(cfg.cache, MMFS_CACHE_NONE);
	ck_assert(cfg.writeback);
	ck_assert_int_eq(cfg.map.advice, MMFS_ADVICE_NORMAL); /* default */
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_print_config_takes_source_and_paths)
{
	const char *argv[] = {"memmapfs",    "--print-config", "-o",
			      "sync=close",  "/data",	       "x.db",
			      "/data/logs/a"};
	struct mmfs_config cfg;
	char *out = NULL;
	size_t len;
	FILE *f;

	ck_assert_int_eq(mmfs_config_parse(7, argv, &cfg), 0);
	ck_assert(cfg.print_config);
	ck_assert_uint_eq(cfg.paths->len, 2);
	f = open_memstream(&out, &len);
	mmfs_config_print(&cfg, f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(out, "sync = close\n"));
	ck_assert_ptr_nonnull(strstr(out, "x.db: no rule (sync=close"));
	ck_assert_ptr_nonnull(strstr(out, "logs/a: no rule"));
	free(out);
	mmfs_config_free(&cfg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("rules");

	tcase_add_test(tc, test_glob_without_slash_matches_a_name_anywhere);
	tcase_add_test(tc, test_glob_with_slash_matches_from_the_top);
	tcase_add_test(tc, test_glob_sets_and_special_characters);
	tcase_add_test(tc, test_bad_globs_are_refused_with_a_reason);
	tcase_add_test(tc, test_first_matching_rule_wins);
	tcase_add_test(tc, test_rule_groups_are_read_in_order);
	tcase_add_test(tc, test_config_errors_name_file_line_and_reason);
	tcase_add_test(tc, test_unreadable_config_file_is_refused);
	tcase_add_test(tc, test_precedence_defaults_file_command_line);
	tcase_add_test(tc, test_print_config_takes_source_and_paths);
	suite_add_tcase(s, tc);
	return harness_run_suite(s);
}
