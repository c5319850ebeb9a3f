/*
 * patron — the review page (issue 12, point 6).
 *
 * SPDX-License-Identifier: MIT
 */
#include "review.h"

int review_write_html(cli *ctx, const patron_cases *cases, const char *path)
{
    (void)cases;
    return cli_fail(ctx, "review --html %s: not built yet", path);
}
