/*
 * patron — review --html: the review page (issue 12, point 6) is the
 * library's (patron_db_review_html()); the tool writes it to a file,
 * beside the target first and renamed, so a reader never sees half a page.
 *
 * SPDX-License-Identifier: MIT
 */
#include "review.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int review_write_html(cli *ctx, unsigned states, const char *path)
{
    char *page = NULL, tmp[4096];
    const char *p;
    size_t n = 0, len;
    patron_status st;
    int rc = CLI_OK;
    FILE *f;

    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return cli_fail(ctx, "review --html: the path is too long");
    if ((st = patron_db_review_html(ctx->db, &page, states)) != PATRON_OK)
        return cli_fail_db(ctx, st, "review");
    /* the page counts its cards in <body data-cases="N"> */
    if ((p = strstr(page, "data-cases=\"")))
        n = (size_t)strtoull(p + strlen("data-cases=\""), NULL, 10);
    if (!(f = fopen(tmp, "w"))) {
        patron_free(page);
        return cli_fail(ctx, "review --html: cannot write '%s': %s", tmp, strerror(errno));
    }
    len = strlen(page);
    if (fwrite(page, 1, len, f) != len && rc == CLI_OK)
        rc = cli_fail(ctx, "review --html: cannot write '%s': %s", tmp, strerror(errno));
    patron_free(page);
    if (fclose(f) != 0 && rc == CLI_OK)
        rc = cli_fail(ctx, "review --html: cannot write '%s': %s", tmp, strerror(errno));
    if (rc == CLI_OK && rename(tmp, path) != 0)
        rc = cli_fail(ctx, "review --html: cannot write '%s': %s", path, strerror(errno));
    if (rc != CLI_OK)
        remove(tmp);
    else
        printf("wrote %zu case%s to %s\n", n, n == 1 ? "" : "s", path);
    return rc;
}
