/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The mount tests' fixture: one mount, m, made fresh (harness_dirs) before
 * each test and torn down (harness_teardown) after it. Kept out of
 * harness.h, whose functions take a mount of their own as m. */
#ifndef MEMMAPFS_TEST_FIXTURE_H
#define MEMMAPFS_TEST_FIXTURE_H

#include "harness.h"

extern struct harness_mount m;
void harness_fixture_setup(void);
void harness_fixture_teardown(void);

#endif
