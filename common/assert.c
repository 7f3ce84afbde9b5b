#include "common/assert.h"

#include <stdio.h>
#include <stdlib.h>

void cd__assert_fail(const char *expr, const char *file, int line, const char *func)
{
    fprintf(stderr, "contactd: %s:%d: %s: invariant '%s' failed\n", file, line, func, expr);
    fflush(stderr);
    abort();
}
