// SPDX-License-Identifier: MIT
#include "unprotected.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

bool unprotected_from_env(void)
{
	const char *v = getenv("FAUXTCP_UNPROTECTED");

	if (!v || strcmp(v, "1") != 0)
		return false;
	log_warn("FAUXTCP_UNPROTECTED=1: forged-packet protection is OFF (phantun's rules); for tests only");
	return true;
}
