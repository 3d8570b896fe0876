// SPDX-License-Identifier: GPL-2.0-or-later
/* The mount tests' fixture (see fixture.h). */
#include "fixture.h"

struct harness_mount m;

void harness_fixture_setup(void)
{
	harness_dirs(&m);
}

void harness_fixture_teardown(void)
{
	harness_teardown(&m);
}
