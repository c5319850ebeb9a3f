/*
 * patron — the review page (issue 12, point 6): every case of the list as a
 * card, its customers side by side, differing values highlighted, the
 * matcher's weight per field as a small bar, verdict, reason and the
 * command that decides it; a filter by verdict and a search box.
 *
 * One self-contained file: the style and the script are inline, nothing is
 * fetched, so it works offline from a file:// URL.  Every value from the
 * store is HTML-escaped (text and attributes alike); the script reads
 * values only through data attributes and textContent, never innerHTML.
 *
 * SPDX-License-Identifier: MIT
 */
#include "review.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* HTML text and attribute values: & < > " ' escaped; control characters
 * other than tab and newline dropped. */
static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if (c >= 0x20 || c == '\t' || c == '\n')
                fputc(c, f);
        }
    }
}

/* Lower-case ASCII for the search attribute (the script lower-cases the
 * query alike; other letters compare as they are). */
static void esc_lower(FILE *f, const char *s)
{
    char buf[512];
    size_t i;
    for (i = 0; s && s[i] && i + 1 < sizeof buf; i++)
        buf[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    buf[i] = '\0';
    esc(f, buf);
}

/* The rows of a card: a customer field or a part of the default address,
 * and the matcher's field of the same name (NULL: none). */
typedef struct row {
    const char *label;
    int field;   /* a patron_field, or 0 */
    int address; /* a patron_address_field, or 0 */
    const char *matcher;
} row;

static const row rows[] = {
    { "salutation", PATRON_F_SALUTATION, 0, NULL },
    { "first name", PATRON_F_FIRST_NAME, 0, "first_name" },
    { "last name", PATRON_F_LAST_NAME, 0, "last_name" },
    { "company", PATRON_F_COMPANY, 0, "company" },
    { "email", PATRON_F_EMAIL, 0, "email" },
    { "phone", PATRON_F_PHONE, 0, "phone" },
    { "birth date", PATRON_F_BIRTH_DATE, 0, "birth_date" },
    { "street", 0, PATRON_A_STREET, "street" },
    { "house number", 0, PATRON_A_HOUSE_NUMBER, "house_number" },
    { "addition", 0, PATRON_A_ADDITION, "address_addition" },
    { "postal code", 0, PATRON_A_POSTAL_CODE, "postal_code" },
    { "city", 0, PATRON_A_CITY, "city" },
    { "country", 0, PATRON_A_COUNTRY, NULL },
};

static const char *value_of(const patron_customer *c, const row *r)
{
    size_t n, i, a = 0;
    if (r->field)
        return patron_customer_get(c, r->field);
    n = patron_customer_address_count(c);
    if (!n)
        return NULL;
    for (i = 0; i < n; i++) {
        const char *d = patron_customer_address_get(c, i, PATRON_A_DEFAULT);
        if (d && !strcmp(d, "1")) {
            a = i;
            break;
        }
    }
    return patron_customer_address_get(c, a, r->address);
}

/* Same after trimming and ASCII case: the highlight is a hint for the eye,
 * the matcher's levels say more. */
static int same_value(const char *a, const char *b)
{
    size_t la, lb, i;
    a = a ? a : "";
    b = b ? b : "";
    while (*a == ' ')
        a++;
    while (*b == ' ')
        b++;
    la = strlen(a);
    lb = strlen(b);
    while (la && a[la - 1] == ' ')
        la--;
    while (lb && b[lb - 1] == ' ')
        lb--;
    if (la != lb)
        return 0;
    for (i = 0; i < la; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return 0;
    }
    return 1;
}

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
    "script-src 'unsafe-inline'\">\n"
    "<title>patron: duplicate review</title>\n<style>\n"
    "body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}\n"
    "header{position:sticky;top:0;background:#1d2330;color:#fff;padding:10px 16px;display:flex;gap:16px;"
    "align-items:center;flex-wrap:wrap;z-index:1}\n"
    "header h1{font-size:17px;margin:0 12px 0 0}\n"
    "header input,header select{font:inherit;padding:4px 6px;border-radius:4px;border:0}\n"
    "header input{width:260px}\n"
    "main{padding:16px;display:grid;gap:16px}\n"
    ".case{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.15);padding:12px 16px;"
    "border-left:6px solid #888}\n"
    ".case.merge{border-left-color:#2e7d32}.case.review{border-left-color:#ef8f00}\n"
    ".case[hidden]{display:none}\n"
    ".case h2{font-size:15px;margin:0 0 4px}\n"
    ".verdict{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;"
    "text-transform:uppercase;margin-right:6px;background:#888}\n"
    ".merge .verdict{background:#2e7d32}.review .verdict{background:#ef8f00}\n"
    ".reason{color:#444;margin:2px 0 8px}\n"
    "table{border-collapse:collapse;width:100%}\n"
    "th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eee;vertical-align:top}\n"
    "th{font-weight:600;color:#555;white-space:nowrap}\n"
    "td.diff{background:#fff3cd;font-weight:600}\n"
    "td.w{white-space:nowrap;width:150px;font-variant-numeric:tabular-nums;color:#555}\n"
    ".bar{display:inline-block;height:8px;vertical-align:middle;margin-right:6px;border-radius:2px}\n"
    ".bar.pos{background:#2e7d32}.bar.neg{background:#c62828}\n"
    ".cmd{margin-top:8px;font-size:13px}\n"
    ".cmd code{background:#eef;padding:2px 6px;border-radius:4px;margin-right:8px;display:inline-block}\n"
    ".none{padding:24px;color:#555}\n"
    "</style>\n</head>\n";

static const char page_script[] =
    "<script>\n"
    "(function () {\n"
    "  var q = document.getElementById('q'), v = document.getElementById('verdict');\n"
    "  var cards = document.querySelectorAll('article.case'), shown = document.getElementById('shown');\n"
    "  function apply() {\n"
    "    var words = q.value.toLowerCase().split(/\\s+/).filter(Boolean), n = 0;\n"
    "    for (var i = 0; i < cards.length; i++) {\n"
    "      var c = cards[i], hay = c.getAttribute('data-search'), ok = !v.value || c.getAttribute('data-verdict') === v.value;\n"
    "      for (var k = 0; ok && k < words.length; k++) ok = hay.indexOf(words[k]) >= 0;\n"
    "      c.hidden = !ok;\n"
    "      if (ok) n++;\n"
    "    }\n"
    "    shown.textContent = n + ' of ' + cards.length + ' shown';\n"
    "    document.body.setAttribute('data-shown', String(n));\n"
    "  }\n"
    "  /* '#q=keller&verdict=merge' in the address fills the filter */\n"
    "  var h = location.hash.replace(/^#/, '').split('&');\n"
    "  for (var i = 0; i < h.length; i++) {\n"
    "    var kv = h[i].split('=');\n"
    "    if (kv[0] === 'q') q.value = decodeURIComponent(kv[1] || '');\n"
    "    if (kv[0] === 'verdict') v.value = decodeURIComponent(kv[1] || '');\n"
    "  }\n"
    "  q.addEventListener('input', apply);\n"
    "  v.addEventListener('change', apply);\n"
    "  apply();\n"
    "  document.body.setAttribute('data-ready', '1');\n"
    "})();\n"
    "</script>\n";

/* The best pair's weight of matcher field `name`, or 0 with *found 0. */
static double weight_of(const patron_case *c, const char *name, const char **level, int *found)
{
    size_t k, nf = patron_case_field_count(c, 0);
    *found = 0;
    for (k = 0; name && k < nf; k++) {
        const char *fname = "", *lv = "";
        double w = 0;
        if (patron_case_explain(c, &fname, NULL, NULL, &lv, &w, 0, k) == PATRON_OK && !strcmp(fname, name)) {
            *found = strcmp(lv, "missing") != 0;
            *level = lv;
            return w;
        }
    }
    return 0;
}

static void write_card(FILE *f, const patron_case *c, patron_customer **m, size_t nm)
{
    int64_t id = patron_case_id(c);
    const char *verdict = patron_decision_name(patron_case_verdict(c));
    char key[32], name[200];
    size_t k, r;

    fprintf(f, "<article class=\"case %s\" id=\"case-%" PRId64 "\" data-case=\"%" PRId64 "\" data-verdict=\"",
            verdict, id, id);
    esc(f, verdict);
    fputs("\" data-search=\"", f);
    for (k = 0; k < nm; k++) {
        esc_lower(f, cli_customer_key(m[k], key, sizeof key));
        fputc(' ', f);
        esc_lower(f, review_name(m[k], name, sizeof name));
        fputc(' ', f);
        esc_lower(f, patron_customer_get(m[k], PATRON_F_EMAIL));
        fputc(' ', f);
        esc_lower(f, value_of(m[k], &rows[11])); /* the city */
        fputc(' ', f);
    }
    fputs("\">\n<h2><span class=\"verdict\">", f);
    esc(f, verdict);
    fprintf(f, "</span>Case %" PRId64 " &middot; score %.2f &middot; ", id, patron_case_score(c));
    for (k = 0; k < nm; k++) {
        if (k)
            fputs(" / ", f);
        fputs("<span class=\"name\">", f);
        esc(f, review_name(m[k], name, sizeof name));
        fputs("</span>", f);
    }
    fputs("</h2>\n<p class=\"reason\">", f);
    esc(f, patron_case_reason(c));
    if (patron_case_change(c)) {
        fputs(" &middot; reopened: ", f);
        esc(f, patron_case_change(c));
    }
    fputs("</p>\n<table>\n<tr><th></th>", f);
    for (k = 0; k < nm; k++) {
        fprintf(f, "<th>[%zu] ", k + 1);
        esc(f, cli_customer_key(m[k], key, sizeof key));
        fputs("</th>", f);
    }
    fputs("<th>weight</th></tr>\n", f);
    for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        int any = 0, differ = 0, found;
        const char *level = "";
        double w;
        for (k = 0; k < nm; k++) {
            const char *v = value_of(m[k], &rows[r]);
            if (v && v[0])
                any = 1;
            if (k && !same_value(v, value_of(m[0], &rows[r])))
                differ = 1;
        }
        if (!any)
            continue;
        fputs("<tr><th>", f);
        esc(f, rows[r].label);
        fputs("</th>", f);
        for (k = 0; k < nm; k++) {
            fputs(differ ? "<td class=\"diff\">" : "<td>", f);
            esc(f, value_of(m[k], &rows[r]));
            fputs("</td>", f);
        }
        w = weight_of(c, rows[r].matcher, &level, &found);
        if (found) {
            /* 4 px per bit, at most 60 */
            double px = (w < 0 ? -w : w) * 4;
            fputs("<td class=\"w\" title=\"", f);
            esc(f, level);
            fprintf(f, "\"><span class=\"bar %s\" style=\"width:%.0fpx\"></span>%+.2f ", w < 0 ? "neg" : "pos",
                    px > 60 ? 60 : px, w);
            esc(f, level);
            fputs("</td>", f);
        } else {
            fputs("<td class=\"w\"></td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n<div class=\"cmd\">decide: ", f);
    fprintf(f, "<code>patron review merge %" PRId64 "</code><code>patron review distinct %" PRId64
               "</code><code>patron review household %" PRId64 "</code><code>patron review defer %" PRId64
               "</code> &middot; look closer: <code>patron review show %" PRId64 "</code></div>\n</article>\n",
            id, id, id, id, id);
}

int review_write_html(cli *ctx, const patron_cases *cases, const char *path)
{
    size_t i, n = patron_cases_count(cases);
    int rc = CLI_OK;
    FILE *f;
    char tmp[4096];

    /* written beside the target and renamed: a reader never sees half a page */
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return cli_fail(ctx, "review --html: the path is too long");
    if (!(f = fopen(tmp, "w")))
        return cli_fail(ctx, "review --html: cannot write '%s': %s", tmp, strerror(errno));
    fputs(page_head, f);
    fprintf(f, "<body data-cases=\"%zu\">\n<header><h1>Duplicate review: %zu case%s</h1>\n", n, n,
            n == 1 ? "" : "s");
    fputs("<label>verdict <select id=\"verdict\"><option value=\"\">all</option>"
          "<option value=\"merge\">merge</option><option value=\"review\">review</option></select></label>\n"
          "<label>search <input id=\"q\" type=\"search\" placeholder=\"name, number, email, city\"></label>\n"
          "<span id=\"shown\"></span></header>\n<main>\n",
          f);
    if (n == 0)
        fputs("<p class=\"none\">No open cases.  Fill the queue with <code>patron dedupe</code> or "
              "<code>patron review scan</code>.</p>\n",
              f);
    for (i = 0; i < n && rc == CLI_OK; i++) {
        const patron_case *c = patron_cases_at(cases, i);
        patron_customer **m = NULL;
        size_t nm = 0;
        if ((rc = review_members(ctx, c, &m, &nm)) != CLI_OK)
            break;
        write_card(f, c, m, nm);
        review_members_free(m, nm);
    }
    fputs("</main>\n", f);
    fputs(page_script, f);
    fputs("</body>\n</html>\n", f);
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
