// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for the notifier (kernel cache invalidations off the worker
 * threads), with a stand-in for the kernel call that can be made to block. */
#include <check.h>
#include <errno.h>
#include <glib.h>

#include "harness.h"
#include "memmapfs/lock.h"
#include "memmapfs/notify.h"

/* The stand-in kernel: records calls, blocks while `blocked` is set. */
static struct {
	GMutex lock;
	GCond cond;
	int blocked;
	int calls;
	uint64_t ino;
	int64_t off, len;
	int rc;
	int echo; /* answer -ino instead of rc */
} k;

static int fake_inval(void *ctx, uint64_t ino, int64_t off, int64_t len)
{
	int rc;

	ck_assert_ptr_eq(ctx, &k);
	mmfs_lock(&k.lock);
	while (k.blocked)
		mmfs_cond_wait(&k.cond, &k.lock);
	k.calls++;
	k.ino = ino;
	k.off = off;
	k.len = len;
	rc = k.echo ? -(int)ino : k.rc;
	mmfs_unlock(&k.lock);
	return rc;
}

static void unblock(void)
{
	mmfs_lock(&k.lock);
	k.blocked = 0;
	g_cond_broadcast(&k.cond);
	mmfs_unlock(&k.lock);
}

static int calls(void)
{
	int c;

	mmfs_lock(&k.lock);
	c = k.calls;
	mmfs_unlock(&k.lock);
	return c;
}

static void setup(void)
{
	g_mutex_init(&k.lock);
	g_cond_init(&k.cond);
	k.blocked = 0;
	k.calls = 0;
	k.rc = 0;
	k.echo = 0;
}

START_TEST(test_the_call_runs_with_the_range_and_its_result_is_returned)
{
	struct mmfs_notifier *n = mmfs_notifier_new(fake_inval, &k);

	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(mmfs_notifier_inval(n, 42, 65536, 4096, 5000000), 0);
	ck_assert_int_eq(calls(), 1);
	ck_assert_uint_eq(k.ino, 42);
	ck_assert_int_eq(k.off, 65536);
	ck_assert_int_eq(k.len, 4096);
	k.rc = -ENOENT; /* the kernel had forgotten the node */
	ck_assert_int_eq(mmfs_notifier_inval(n, 7, 0, 1, 5000000), -ENOENT);
	ck_assert_int_eq(calls(), 2);
	ck_assert_int_eq(mmfs_notifier_free(n, 5000000), 0);
}
END_TEST

/* The deadlock the notifier exists for: the kernel call waits for
 * something only the waiting worker would do. The worker must go on. */
START_TEST(test_a_blocked_call_lets_the_worker_go_on_and_completes_later)
{
	struct mmfs_notifier *n = mmfs_notifier_new(fake_inval, &k);
	gint64 t0;

	k.blocked = 1;
	t0 = g_get_monotonic_time();
	ck_assert_int_eq(mmfs_notifier_inval(n, 1, 0, 4096, 50000), -ETIMEDOUT);
	ck_assert_int_ge(g_get_monotonic_time() - t0, 50000);
	ck_assert_int_lt(g_get_monotonic_time() - t0, 2000000);
	/* a second job queues behind the blocked one and times out too */
	ck_assert_int_eq(mmfs_notifier_inval(n, 2, 0, 4096, 20000), -ETIMEDOUT);
	ck_assert_int_eq(calls(), 0);
	unblock();
	/* both still run, in order; a third is served at once */
	ck_assert_int_eq(mmfs_notifier_inval(n, 3, 0, 4096, 5000000), 0);
	ck_assert_int_eq(calls(), 3);
	ck_assert_uint_eq(k.ino, 3);
	ck_assert_int_eq(mmfs_notifier_free(n, 5000000), 0);
}
END_TEST

/* Stopping with the thread stuck in the call: the stopper is not held,
 * queued work is dropped, and the thread ends once the call returns. */
START_TEST(test_stopping_while_a_call_is_stuck_leaves_the_thread_to_finish)
{
	struct mmfs_notifier *n = mmfs_notifier_new(fake_inval, &k);

	k.blocked = 1;
	ck_assert_int_eq(mmfs_notifier_inval(n, 1, 0, 4096, 10000), -ETIMEDOUT);
	ck_assert_int_eq(mmfs_notifier_inval(n, 2, 0, 4096, 10000), -ETIMEDOUT);
	ck_assert_int_eq(mmfs_notifier_free(n, 50000), -EBUSY);
	unblock();
	/* the first call returns; the queued second is never made */
	for (int i = 0; i < 200 && calls() < 1; i++)
		g_usleep(10000);
	g_usleep(100000);
	ck_assert_int_eq(calls(), 1);
}
END_TEST

struct worker {
	struct mmfs_notifier *n;
	int first;
	int wrong;
};

static gpointer worker_main(gpointer arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 200; i++) {
		int ino = w->first + i;

		if (mmfs_notifier_inval(w->n, (uint64_t)ino, 0, 4096,
					10000000) != -ino)
			w->wrong++;
	}
	return NULL;
}

START_TEST(test_many_workers_at_once_each_get_their_own_answer)
{
	struct mmfs_notifier *n = mmfs_notifier_new(fake_inval, &k);
	struct worker w[8];
	GThread *t[8];

	k.echo = 1;
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){.n = n, .first = 1 + i * 1000};
		t[i] = g_thread_new("worker", worker_main, &w[i]);
	}
	for (int i = 0; i < 8; i++) {
		g_thread_join(t[i]);
		ck_assert_int_eq(w[i].wrong, 0);
	}
	ck_assert_int_eq(calls(), 8 * 200);
	ck_assert_int_eq(mmfs_notifier_free(n, 5000000), 0);
	k.echo = 0;
}
END_TEST

int main(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("notifier");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_test(
	    tc, test_the_call_runs_with_the_range_and_its_result_is_returned);
	tcase_add_test(
	    tc, test_a_blocked_call_lets_the_worker_go_on_and_completes_later);
	tcase_add_test(
	    tc,
	    test_stopping_while_a_call_is_stuck_leaves_the_thread_to_finish);
	tcase_add_test(tc, test_many_workers_at_once_each_get_their_own_answer);
	suite_add_tcase(s, tc);
	return harness_run_suite(s);
}
