// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for command-line and option parsing (no FUSE, no mount). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>

#include <glib.h>

#include "harness.h"
#include "memmapfs/config.h"

/* Parse a NULL-terminated argv; returns the rc, leaves cfg and args set. */
static int parse(struct mmfs_config *cfg, const char *const *argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return mmfs_config_parse(argc, argv, cfg);
}

/* Whether a word handed on to libfuse contains needle. */
static int args_contain(const struct mmfs_config *cfg, const char *needle)
{
	for (guint i = 0; i < cfg->fuse_argv->len; i++)
		if (strstr(cfg->fuse_argv->pdata[i], needle))
			return 1;
	return 0;
}

START_TEST(test_source_and_mountpoint_are_taken_in_order)
{
	const char *argv[] = {"memmapfs", "/data", "/mnt", NULL};
	struct mmfs_config cfg;

	ck_assert_int_eq(parse(&cfg, argv), 0);
	ck_assert_str_eq(cfg.source, "/data");
	ck_assert_str_eq(cfg.mountpoint, "/mnt");
	ck_assert_int_eq(cfg.threads, MMFS_DEFAULT_THREADS);
	ck_assert(cfg.timeout == MMFS_DEFAULT_TIMEOUT);
	/* the documented default (README, --help, man page) */
	ck_assert_int_eq(cfg.cache, MMFS_CACHE_SINGLE);
	ck_assert(!args_contain(&cfg, "/data"));
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_options_may_come_before_or_after_paths)
{
	const char *argv[] = {"memmapfs", "-o", "threads=4",
			      "/a",	  "/b", "-f",
			      "-s",	  "-o", "timeout=0.25,clone_fd",
			      NULL};
	struct mmfs_config cfg;

	ck_assert_int_eq(parse(&cfg, argv), 0);
	ck_assert_int_eq(cfg.threads, 4);
	ck_assert(cfg.timeout == 0.25);
	ck_assert(cfg.foreground && cfg.singlethread && cfg.clone_fd);
	ck_assert_str_eq(cfg.source, "/a");
	ck_assert_str_eq(cfg.mountpoint, "/b");
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_generic_options_are_left_for_libfuse)
{
	const char *argv[] = {"memmapfs", "-o", "allow_other,max_read=65536",
			      "-d",	  "/a", "/b",
			      NULL};
	struct mmfs_config cfg;

	ck_assert_int_eq(parse(&cfg, argv), 0);
	ck_assert(cfg.allow_other && cfg.debug && cfg.foreground);
	ck_assert(args_contain(&cfg, "allow_other"));
	ck_assert(args_contain(&cfg, "max_read=65536"));
	ck_assert(args_contain(&cfg, "-d"));
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_fstab_words_are_accepted_and_dropped)
{
	const char *argv[] = {
	    "memmapfs",
	    "/a",
	    "/b",
	    "-o",
	    "defaults,noauto,nofail,_netdev,x-systemd.automount,users",
	    NULL};
	struct mmfs_config cfg;

	ck_assert_int_eq(parse(&cfg, argv), 0);
	ck_assert(!args_contain(&cfg, "defaults"));
	ck_assert(!args_contain(&cfg, "x-systemd"));
	ck_assert(!args_contain(&cfg, "_netdev"));
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_missing_mountpoint_is_an_error)
{
	const char *argv[] = {"memmapfs", "/a", NULL};
	struct mmfs_config cfg;

	ck_assert_int_eq(parse(&cfg, argv), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cfg.error, "MOUNTPOINT"));
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_no_arguments_is_an_error)
{
	const char *argv[] = {"memmapfs", NULL};
	struct mmfs_config cfg;

	ck_assert_int_eq(parse(&cfg, argv), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cfg.error, "SOURCE"));
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_third_path_is_an_error)
{
	const char *argv[] = {"memmapfs", "/a", "/b", "/c", NULL};
	struct mmfs_config cfg;

	ck_assert_int_eq(parse(&cfg, argv), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cfg.error, "/c"));
	mmfs_config_free(&cfg);
}
END_TEST

static const char *const bad_threads[] = {"0", "1025", "abc", "-1",
					  "",  "4x",   " 4"};

START_TEST(test_bad_threads_value_names_option_and_value)
{
	char opt[64];
	const char *argv[] = {"memmapfs", "/a", "/b", "-o", opt, NULL};
	struct mmfs_config cfg;

	snprintf(opt, sizeof(opt), "threads=%s", bad_threads[_i]);
	ck_assert_int_eq(parse(&cfg, argv), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cfg.error, "'threads'"));
	ck_assert_ptr_nonnull(strstr(cfg.error, "1 to 1024"));
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_cache_modes_parse_and_bad_one_lists_them)
{
	static const char *const names[] = {"auto", "keep", "none", "single"};
	static const enum mmfs_cache want[] = {MMFS_CACHE_AUTO, MMFS_CACHE_KEEP,
					       MMFS_CACHE_NONE,
					       MMFS_CACHE_SINGLE};
	char opt[32];
	const char *argv[] = {"memmapfs", "/a", "/b", "-o", opt, NULL};
	struct mmfs_config cfg;

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		snprintf(opt, sizeof(opt), "cache=%s", names[i]);
		ck_assert_int_eq(parse(&cfg, argv), 0);
		ck_assert_int_eq(cfg.cache, want[i]);
		mmfs_config_free(&cfg);
	}
	snprintf(opt, sizeof(opt), "cache=double");
	ck_assert_int_eq(parse(&cfg, argv), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cfg.error, "'cache'"));
	ck_assert_ptr_nonnull(strstr(cfg.error, "double"));
	ck_assert_ptr_nonnull(strstr(cfg.error, "single"));
	mmfs_config_free(&cfg);
}
END_TEST

static const char *const bad_timeouts[] = {"-1",  "inf", "nan", "1e999",
					   "abc", "",	 "1h",	"0x10"};

START_TEST(test_bad_timeout_value_names_option_and_value)
{
	char opt[64];
	const char *argv[] = {"memmapfs", "/a", "/b", "-o", opt, NULL};
	struct mmfs_config cfg;

	snprintf(opt, sizeof(opt), "timeout=%s", bad_timeouts[_i]);
	ck_assert_int_eq(parse(&cfg, argv), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cfg.error, "'timeout'"));
	ck_assert_ptr_nonnull(strstr(cfg.error, bad_timeouts[_i]));
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_help_and_version_need_no_paths)
{
	const char *h[] = {"memmapfs", "--help", NULL};
	const char *v[] = {"memmapfs", "-V", NULL};
	struct mmfs_config cfg;

	ck_assert_int_eq(parse(&cfg, h), 0);
	ck_assert(cfg.show_help);
	mmfs_config_free(&cfg);
	ck_assert_int_eq(parse(&cfg, v), 0);
	ck_assert(cfg.show_version);
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_size_parser_accepts_suffixes)
{
	uint64_t v;

	ck_assert_int_eq(mmfs_parse_size("0", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(mmfs_parse_size("4096", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(mmfs_parse_size("4K", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(mmfs_parse_size("1m", &v), 0);
	ck_assert_uint_eq(v, 1 << 20);
	ck_assert_int_eq(mmfs_parse_size("2G", &v), 0);
	ck_assert_uint_eq(v, 2ull << 30);
	ck_assert_int_eq(mmfs_parse_size("3T", &v), 0);
	ck_assert_uint_eq(v, 3ull << 40);
	ck_assert_int_eq(mmfs_parse_size("8MiB", &v), 0);
	ck_assert_uint_eq(v, 8ull << 20);
	ck_assert_int_eq(mmfs_parse_size("8MB", &v), 0);
	ck_assert_uint_eq(v, 8ull << 20);
	ck_assert_int_eq(mmfs_parse_size("512B", &v), 0);
	ck_assert_uint_eq(v, 512);
}
END_TEST

START_TEST(test_size_parser_rejects_junk_and_overflow)
{
	uint64_t v = 7;

	ck_assert_int_eq(mmfs_parse_size("", &v), -EINVAL);
	ck_assert_int_eq(mmfs_parse_size("-1", &v), -EINVAL);
	ck_assert_int_eq(mmfs_parse_size("1.5G", &v), -EINVAL);
	ck_assert_int_eq(mmfs_parse_size("12Q", &v), -EINVAL);
	ck_assert_int_eq(mmfs_parse_size("K", &v), -EINVAL);
	ck_assert_int_eq(mmfs_parse_size("4KK", &v), -EINVAL);
	ck_assert_int_eq(mmfs_parse_size(" 4K", &v), -EINVAL);
	ck_assert_int_eq(mmfs_parse_size("99999999999999999999", &v), -ERANGE);
	ck_assert_int_eq(mmfs_parse_size("17179869184T", &v), -ERANGE);
	ck_assert_uint_eq(v, 7); /* untouched on error */
}
END_TEST

START_TEST(test_duration_parser_accepts_fractions_and_units)
{
	double d;

	ck_assert_int_eq(mmfs_parse_duration("5", &d), 0);
	ck_assert(d == 5.0);
	ck_assert_int_eq(mmfs_parse_duration("0.25", &d), 0);
	ck_assert(d == 0.25);
	ck_assert_int_eq(mmfs_parse_duration(".5", &d), 0);
	ck_assert(d == 0.5);
	ck_assert_int_eq(mmfs_parse_duration("2s", &d), 0);
	ck_assert(d == 2.0);
	ck_assert_int_eq(mmfs_parse_duration("250ms", &d), 0);
	ck_assert(d > 0.2499 && d < 0.2501);
	ck_assert_int_eq(mmfs_parse_duration("0", &d), 0);
	ck_assert(d == 0.0);
}
END_TEST

START_TEST(test_duration_parser_rejects_junk)
{
	double d;

	ck_assert_int_eq(mmfs_parse_duration("", &d), -EINVAL);
	ck_assert_int_eq(mmfs_parse_duration("-1", &d), -EINVAL);
	ck_assert_int_eq(mmfs_parse_duration("inf", &d), -EINVAL);
	ck_assert_int_eq(mmfs_parse_duration("nan", &d), -EINVAL);
	ck_assert_int_eq(mmfs_parse_duration(".", &d), -EINVAL);
	ck_assert_int_eq(mmfs_parse_duration("5m", &d), -EINVAL);
	ck_assert_int_eq(mmfs_parse_duration("0x1p3", &d), -EINVAL);
	ck_assert_int_eq(mmfs_parse_duration("1e999", &d), -ERANGE);
}
END_TEST

START_TEST(test_uint_parser_checks_range)
{
	unsigned int v;

	ck_assert_int_eq(mmfs_parse_uint("7", 1, 10, &v), 0);
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(mmfs_parse_uint("0", 1, 10, &v), -ERANGE);
	ck_assert_int_eq(mmfs_parse_uint("11", 1, 10, &v), -ERANGE);
	ck_assert_int_eq(mmfs_parse_uint("99999999999999999999999", 1, 10, &v),
			 -ERANGE);
	ck_assert_int_eq(mmfs_parse_uint("+3", 1, 10, &v), -EINVAL);
	ck_assert_int_eq(mmfs_parse_uint("3 ", 1, 10, &v), -EINVAL);
}
END_TEST

/* ---- config file ---- */

static char conf[] = "/tmp/mmfs-conf.XXXXXX";

static const char *write_conf(const char *text)
{
	int fd;

	strcpy(conf, "/tmp/mmfs-conf.XXXXXX");
	fd = mkstemp(conf);
	ck_assert(fd >= 0);
	ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	return conf;
}

/* Parse "memmapfs -o config=FILE [extra] /a /b". */
static int parse_with_conf(struct mmfs_config *cfg, const char *text,
			   const char *extra)
{
	char opt[64];
	const char *argv[] = {"memmapfs",	   "-o",  opt, "/a", "/b",
			      extra ? "-o" : NULL, extra, NULL};
	int rc;

	snprintf(opt, sizeof(opt), "config=%s", write_conf(text));
	rc = parse(cfg, argv);
	unlink(conf);
	return rc;
}

START_TEST(test_config_file_sets_options)
{
	struct mmfs_config cfg;

	ck_assert_int_eq(parse_with_conf(&cfg,
					 "# comment\n[global]\nthreads = 3\n"
					 "timeout=0.5\nallow_other=true\n"
					 "clone_fd=false\n",
					 NULL),
			 0);
	ck_assert_int_eq(cfg.threads, 3);
	ck_assert(cfg.timeout == 0.5);
	ck_assert(cfg.allow_other);
	ck_assert(!cfg.clone_fd);
	ck_assert(args_contain(&cfg, "allow_other"));
	ck_assert_str_eq(cfg.source, "/a");
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_command_line_beats_config_file)
{
	struct mmfs_config cfg;

	ck_assert_int_eq(parse_with_conf(&cfg,
					 "[global]\nthreads=3\ntimeout=9\n",
					 "threads=7"),
			 0);
	ck_assert_int_eq(cfg.threads, 7);
	ck_assert(cfg.timeout == 9.0);
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_config_unknown_key_names_file_and_line)
{
	struct mmfs_config cfg;
	char *where;

	ck_assert_int_eq(
	    parse_with_conf(&cfg, "[global]\nthreads=3\n\nthredas=4\n", NULL),
	    -EINVAL);
	where = g_strdup_printf("%s:4:", conf);
	ck_assert_ptr_nonnull(strstr(cfg.error, where));
	ck_assert_ptr_nonnull(strstr(cfg.error, "'thredas'"));
	g_free(where);
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_config_bad_value_names_file_line_and_option)
{
	struct mmfs_config cfg;
	char *where;

	ck_assert_int_eq(
	    parse_with_conf(&cfg, "[global]\ntimeout = soon\n", NULL), -EINVAL);
	where = g_strdup_printf("%s:2:", conf);
	ck_assert_ptr_nonnull(strstr(cfg.error, where));
	ck_assert_ptr_nonnull(strstr(cfg.error, "'timeout'"));
	g_free(where);
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_config_bad_flag_value_is_rejected)
{
	struct mmfs_config cfg;

	ck_assert_int_eq(
	    parse_with_conf(&cfg, "[global]\nallow_other = maybe\n", NULL),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(cfg.error, "true or false"));
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_config_unknown_group_is_rejected_with_line)
{
	struct mmfs_config cfg;
	char *where;

	ck_assert_int_eq(
	    parse_with_conf(&cfg, "[global]\nthreads=2\n[other]\nx=1\n", NULL),
	    -EINVAL);
	where = g_strdup_printf("%s:3:", conf);
	ck_assert_ptr_nonnull(strstr(cfg.error, where));
	ck_assert_ptr_nonnull(strstr(cfg.error, "[other]"));
	g_free(where);
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_config_syntax_error_is_rejected)
{
	struct mmfs_config cfg;

	ck_assert_int_eq(
	    parse_with_conf(&cfg, "[global]\nthis is not a key file\n", NULL),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(cfg.error, "config file"));
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_config_missing_file_is_rejected)
{
	const char *argv[] = {"memmapfs", "-o", "config=/nonexistent.conf",
			      "/a",	  "/b", NULL};
	struct mmfs_config cfg;

	ck_assert_int_eq(parse(&cfg, argv), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cfg.error, "/nonexistent.conf"));
	mmfs_config_free(&cfg);
}
END_TEST

START_TEST(test_shipped_example_config_parses)
{
	const char *example = getenv("EXAMPLE_CONF");
	char opt[PATH_MAX + 16];
	const char *argv[] = {"memmapfs", "-o", opt, "/a", "/b", NULL};
	struct mmfs_config cfg;

	snprintf(opt, sizeof(opt), "config=%s",
		 example ? example : "config/memmapfs.conf");
	ck_assert_msg(parse(&cfg, argv) == 0, "%s", cfg.error);
	mmfs_config_free(&cfg);
}
END_TEST

/* One spelling of yes/no printed, the usual ones accepted everywhere. */
START_TEST(test_booleans_take_the_usual_words_everywhere)
{
	const char *cli[] = {"memmapfs", "-o", "lock=on,writeback=no,clone_fd",
			     "/a",	 "/b", NULL};
	struct mmfs_config cfg;

	ck_assert_int_eq(parse(&cfg, cli), 0);
	ck_assert(cfg.map.lock && !cfg.writeback && cfg.clone_fd);
	mmfs_config_free(&cfg);
	ck_assert_int_eq(parse_with_conf(&cfg,
					 "[global]\nlock = YES\nwriteback = 1\n"
					 "clone_fd = off\n"
					 "[rule r]\nmatch = *.x\nmmap = no\n",
					 NULL),
			 0);
	ck_assert(cfg.map.lock && cfg.writeback && !cfg.clone_fd);
	ck_assert_int_eq(
	    ((struct mmfs_rule *)cfg.rules.list->pdata[0])->policy.mmap, 0);
	mmfs_config_free(&cfg);
	ck_assert_int_eq(
	    parse_with_conf(&cfg, "[rule r]\nmatch = *.x\nmmap = perhaps\n",
			    NULL),
	    -EINVAL);
	ck_assert_ptr_nonnull(strstr(cfg.error, "'perhaps'"));
	ck_assert_ptr_nonnull(strstr(cfg.error, "true or false"));
	mmfs_config_free(&cfg);
}
END_TEST

/* -o lists escape commas with a backslash; config= is read before the
 * rest of the command line, and must be split the same way. */
START_TEST(test_config_path_with_an_escaped_comma)
{
	char dir[] = "/tmp/mmfs-comma.XXXXXX", path[64], opt[80];
	const char *argv[] = {"memmapfs", "-o", opt, "/a", "/b", NULL};
	struct mmfs_config cfg;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a,b.conf", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("[global]\nthreads = 5\n", f);
	fclose(f);
	snprintf(opt, sizeof(opt), "threads=2,config=%s/a\\,b.conf,clone_fd",
		 dir);
	ck_assert_msg(parse(&cfg, argv) == 0, "%s", cfg.error);
	ck_assert_int_eq(cfg.threads, 2); /* the command line wins */
	ck_assert_str_eq(cfg.config_file, path);
	ck_assert(cfg.clone_fd);
	mmfs_config_free(&cfg);
	snprintf(opt, sizeof(opt), "config=%s/a\\,b.conf", dir);
	ck_assert_int_eq(parse(&cfg, argv), 0);
	ck_assert_int_eq(cfg.threads, 5);
	mmfs_config_free(&cfg);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* What libfuse is given follows the final setting, not every word seen. */
START_TEST(test_command_line_false_undoes_the_files_true_for_libfuse)
{
	struct mmfs_config cfg;

	ck_assert_int_eq(parse_with_conf(&cfg, "[global]\nallow_other = true\n",
					 "allow_other=false"),
			 0);
	ck_assert(!cfg.allow_other);
	ck_assert(!args_contain(&cfg, "allow_other"));
	mmfs_config_free(&cfg);
	ck_assert_int_eq(parse_with_conf(&cfg, "[global]\nallow_other = no\n",
					 "allow_other"),
			 0);
	ck_assert(cfg.allow_other && args_contain(&cfg, "allow_other"));
	mmfs_config_free(&cfg);
}
END_TEST

/* "-o threads" is ours, so the message is ours too. */
START_TEST(test_value_option_without_value_names_it)
{
	const char *argv[] = {"memmapfs", "-o", "threads", "/a", "/b", NULL};
	struct mmfs_config cfg;

	ck_assert_int_eq(parse(&cfg, argv), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cfg.error, "'threads' needs a value"));
	ck_assert_ptr_nonnull(strstr(cfg.error, "1 to 1024"));
	mmfs_config_free(&cfg);
}
END_TEST

/* --print-config's settings, pasted into [global], give the same
 * settings: what it prints is what the file would say. */
START_TEST(test_print_config_output_reads_back_as_the_same_config)
{
	const char *argv[] = {"memmapfs",
			      "--print-config",
			      "-o",
			      "window=1M,max_mapped=3G,sync=close,"
			      "sync_interval=0.25,lock,preload=willneed,"
			      "mmap_min=4097,cache=auto,mode=cow",
			      "/src",
			      NULL};
	struct mmfs_config a, b;
	GString *text = g_string_new("[global]\n");
	char *out = NULL, *line, *save = NULL;
	size_t len;
	FILE *f;

	ck_assert_int_eq(parse(&a, argv), 0);
	f = open_memstream(&out, &len);
	mmfs_config_print(&a, f);
	fclose(f);
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		if (line[0] == '[' || strstr(line, ": "))
			break; /* the rules and paths sections */
		if (!g_str_has_prefix(line, "source ="))
			g_string_append_printf(text, "%s\n", line);
	}
	ck_assert_msg(mmfs_config_load_text(&b, "printed", text->str) == 0,
		      "%s\n%s", b.error, text->str);
	ck_assert_uint_eq(b.map.window, a.map.window);
	ck_assert_uint_eq(b.map.max_mapped, a.map.max_mapped);
	ck_assert_uint_eq(b.mmap_min, 4097);
	ck_assert_int_eq(b.sync_mode, MMFS_SYNC_CLOSE);
	ck_assert(b.sync_interval == 0.25);
	ck_assert(b.map.lock);
	ck_assert_int_eq(b.map.preload, MMFS_PRELOAD_WILLNEED);
	ck_assert_int_eq(b.cache, MMFS_CACHE_AUTO);
	ck_assert_int_eq(b.mode, MMFS_MODE_COW);
	ck_assert_int_eq(b.threads, a.threads);
	ck_assert(b.timeout == a.timeout);
	mmfs_config_free(&a);
	mmfs_config_free(&b);
	g_string_free(text, TRUE);
	free(out);
}
END_TEST

/* --help comes from the table: every option that may be given on the
 * command line and has help is there, with the built-in default. */
START_TEST(test_help_lists_every_option_with_its_default)
{
	struct mmfs_config d;
	char *help, threads[64];

	ck_assert_int_eq(mmfs_config_load_text(&d, "empty", ""), 0);
	help = mmfs_option_help(MMFS_IN_CMDLINE, &d);
	for (const struct mmfs_option *o = mmfs_options; o->name; o++) {
		char *want;

		if (!o->help || !(o->where & MMFS_IN_CMDLINE))
			continue;
		want = o->type == MMFS_OPT_SWITCH
			   ? g_strdup(o->name)
			   : g_strdup_printf("-o %s%s", o->name,
					     o->arg ? "=" : "");
		ck_assert_msg(strstr(help, want), "%s missing:\n%s", want,
			      help);
		g_free(want);
	}
	snprintf(threads, sizeof(threads), "(default %d)",
		 MMFS_DEFAULT_THREADS);
	ck_assert_ptr_nonnull(strstr(help, threads));
	ck_assert_ptr_nonnull(strstr(help, "(default periodic)"));
	g_free(help);
	mmfs_config_free(&d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_source_and_mountpoint_are_taken_in_order);
	tcase_add_test(tc, test_options_may_come_before_or_after_paths);
	tcase_add_test(tc, test_generic_options_are_left_for_libfuse);
	tcase_add_test(tc, test_fstab_words_are_accepted_and_dropped);
	tcase_add_test(tc, test_missing_mountpoint_is_an_error);
	tcase_add_test(tc, test_no_arguments_is_an_error);
	tcase_add_test(tc, test_third_path_is_an_error);
	tcase_add_loop_test(tc, test_bad_threads_value_names_option_and_value,
			    0, sizeof(bad_threads) / sizeof(bad_threads[0]));
	tcase_add_loop_test(tc, test_bad_timeout_value_names_option_and_value,
			    0, sizeof(bad_timeouts) / sizeof(bad_timeouts[0]));
	tcase_add_test(tc, test_help_and_version_need_no_paths);
	tcase_add_test(tc, test_size_parser_accepts_suffixes);
	tcase_add_test(tc, test_size_parser_rejects_junk_and_overflow);
	tcase_add_test(tc, test_duration_parser_accepts_fractions_and_units);
	tcase_add_test(tc, test_duration_parser_rejects_junk);
	tcase_add_test(tc, test_uint_parser_checks_range);
	tcase_add_test(tc, test_config_file_sets_options);
	tcase_add_test(tc, test_command_line_beats_config_file);
	tcase_add_test(tc, test_config_unknown_key_names_file_and_line);
	tcase_add_test(tc, test_config_bad_value_names_file_line_and_option);
	tcase_add_test(tc, test_config_bad_flag_value_is_rejected);
	tcase_add_test(tc, test_config_unknown_group_is_rejected_with_line);
	tcase_add_test(tc, test_config_syntax_error_is_rejected);
	tcase_add_test(tc, test_config_missing_file_is_rejected);
	tcase_add_test(tc, test_shipped_example_config_parses);
	tcase_add_test(tc, test_cache_modes_parse_and_bad_one_lists_them);
	tcase_add_test(tc, test_booleans_take_the_usual_words_everywhere);
	tcase_add_test(tc, test_value_option_without_value_names_it);
	tcase_add_test(
	    tc, test_command_line_false_undoes_the_files_true_for_libfuse);
	tcase_add_test(tc, test_config_path_with_an_escaped_comma);
	tcase_add_test(tc,
		       test_print_config_output_reads_back_as_the_same_config);
	tcase_add_test(tc, test_help_lists_every_option_with_its_default);
	suite_add_tcase(s, tc);
	return harness_run_suite(s);
}
