/*
 * patron — the duplicate review queue (issue 12): review, review show,
 * review merge, review distinct, review household, review defer,
 * review reopen, review scan; review --html writes the page (review_html.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"
#include "plan.h"
#include "review.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared with the page ------------------------------------------------ */

size_t review_name_len(const char *first, size_t lf, const char *last, size_t ll, const char *company, size_t lc,
                       const char *none, char *buf, size_t cap)
{
    /* by hand, as snprintf would write it (cut to cap - 1 bytes): dedupe
     * names every row of its file */
    const char *part[3];
    size_t len[3], np = 0, at = 0;
    if (!cap)
        return 0;
    if (!first && !last) {
        part[np] = company ? company : none;
        len[np++] = company ? lc : strlen(none);
    } else {
        if (first) {
            part[np] = first;
            len[np++] = lf;
        }
        if (first && last) {
            part[np] = " ";
            len[np++] = 1;
        }
        if (last) {
            part[np] = last;
            len[np++] = ll;
        }
    }
    for (size_t i = 0; i < np && at < cap - 1; i++) {
        size_t k = len[i];
        if (k > cap - 1 - at)
            k = cap - 1 - at;
        if (k == 1) /* (the space between the names: no call) */
            buf[at] = part[i][0];
        else
            memcpy(buf + at, part[i], k);
        at += k;
    }
    buf[at] = '\0';
    return at;
}

const char *review_name_of(const char *first, const char *last, const char *company, const char *none, char *buf,
                           size_t cap)
{
    /* (the company measured only where it is the name) */
    review_name_len(first, first ? strlen(first) : 0, last, last ? strlen(last) : 0, company,
                    company && !first && !last ? strlen(company) : 0, none, buf, cap);
    return buf;
}

const char *review_name(const patron_customer *c, const char *none, char *buf, size_t cap)
{
    return review_name_of(patron_customer_get(c, PATRON_F_FIRST_NAME), patron_customer_get(c, PATRON_F_LAST_NAME),
                          patron_customer_get(c, PATRON_F_COMPANY), none, buf, cap);
}

int review_members(cli *ctx, const patron_case *c, patron_customer ***out, size_t *n_out)
{
    size_t n = patron_case_member_count(c), i;
    patron_customer **m = calloc(n + 1, sizeof *m);
    patron_status st;

    *out = NULL;
    *n_out = 0;
    if (!m)
        return cli_fail(ctx, "out of memory");
    for (i = 0; i < n; i++) {
        int64_t id = 0;
        patron_case_member(c, &id, i);
        if ((st = patron_db_load(ctx->db, &m[i], id)) != PATRON_OK) {
            review_members_free(m, i);
            return cli_fail_db(ctx, st, "review");
        }
    }
    *out = m;
    *n_out = n;
    return CLI_OK;
}

void review_members_free(patron_customer **m, size_t n)
{
    size_t i;
    if (!m)
        return;
    for (i = 0; i < n; i++)
        patron_customer_free(m[i]);
    free(m);
}

/* ---- arguments ------------------------------------------------------------ */

static const cli_opt review_opts[] = {
    PLAN_OPTS,
    { .name = "--json", .kind = CLI_OPT_FLAG, .target = offsetof(plan_args, json), .value = 1,
      .help = "list, show: JSON (the cases as the library gives them)" },
    { .name = "--html", .kind = CLI_OPT_TEXT, .target = offsetof(plan_args, html), .arg = "FILE",
      .needs = "a file name", .help = "list: write the open cases as one self-contained\nHTML page to FILE" },
    { .name = "--all", .kind = CLI_OPT_FLAG, .target = offsetof(plan_args, all), .value = 1,
      .help = "list: the cases in every state, not only the open ones" },
    { .name = "--note", .kind = CLI_OPT_TEXT, .target = offsetof(plan_args, note), .arg = "TEXT",
      .help = "distinct, household, defer: a note kept with the decision" },
    { .name = "--by", .kind = CLI_OPT_TEXT, .target = offsetof(plan_args, by), .arg = "NAME",
      .help = "who decides (default: $USER, else 'patron')" },
    { .name = "--full", .kind = CLI_OPT_FLAG, .target = offsetof(plan_args, full), .value = 1,
      .help = "scan: every customer, not only those changed since the\nlast scan" },
    CLI_OPT_TABLE_END,
};

static int parse_case(cli *ctx, const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (s[0] == '#')
        s++;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v <= 0)
        return cli_usage(ctx, "CASE is the number of a case (as 'patron review' lists them), not '%s'", s);
    *out = v;
    return -1;
}

static const char *who(const plan_args *a)
{
    const char *u = getenv("USER");
    if (a->by)
        return a->by;
    return u && u[0] ? u : "patron";
}

/* ---- list ------------------------------------------------------------------- */

static int review_list(cli *ctx, const plan_args *a)
{
    patron_cases *l = NULL;
    patron_status st;
    size_t i, n;
    int rc = CLI_OK;
    unsigned states = a->all ? PATRON_REVIEW_ALL : PATRON_REVIEW_STATE(PATRON_CASE_OPEN);

    if (a->html)
        return review_write_html(ctx, states, a->html);
    st = patron_db_review_list(ctx->db, &l, states);
    if (st != PATRON_OK)
        return cli_fail_db(ctx, st, "review");
    if (a->json) {
        char *text = NULL;
        if (patron_cases_to_json(l, &text, PATRON_JSON_PRETTY) != PATRON_OK)
            rc = cli_fail(ctx, "review: out of memory");
        else
            printf("%s\n", text);
        patron_free(text);
        patron_cases_free(l);
        return rc;
    }
    n = patron_cases_count(l);
    if (n == 0)
        printf("no %scases (fill the queue with 'patron dedupe' or 'patron review scan')\n", a->all ? "" : "open ");
    for (i = 0; i < n && rc == CLI_OK; i++) {
        const patron_case *c = patron_cases_at(l, i);
        patron_customer **m = NULL;
        size_t nm = 0, k;
        char key[32], name[200];

        if ((rc = review_members(ctx, c, &m, &nm)) != CLI_OK)
            break;
        /* "3  merge   21.64  K000001 Max Müller / K000002 Max Mueller: email exact +7.90, ..." */
        printf("%-4" PRId64 " %-8s %6.2f  ", patron_case_id(c), patron_decision_name(patron_case_verdict(c)),
               patron_case_score(c));
        if (a->all)
            printf("%-13s ", patron_case_state_name(patron_case_state_of(c)));
        for (k = 0; k < nm; k++)
            printf("%s%s %s", k ? " / " : "", cli_customer_key(m[k], key, sizeof key),
                   review_name(m[k], "(no name)", name, sizeof name));
        printf(": %s\n", patron_case_reason(c));
        review_members_free(m, nm);
    }
    patron_cases_free(l);
    return rc;
}

/* ---- show ------------------------------------------------------------------ */

/* The reason per customer field: the best pair's level and weight. */
static const char *field_reason(void *payload, int field)
{
    const patron_case *c = payload;
    static char buf[96];
    const char *fname = patron_field_name(field);
    size_t k, nf = patron_case_field_count(c, 0);

    for (k = 0; fname && k < nf; k++) {
        const char *name = "", *level = "";
        double w = 0;
        if (patron_case_explain(c, &name, NULL, NULL, &level, &w, 0, k) == PATRON_OK && !strcmp(name, fname) &&
            strcmp(level, "missing") != 0) {
            snprintf(buf, sizeof buf, "(%s %+.2f)", level, w);
            return buf;
        }
    }
    return NULL;
}

static int review_show(cli *ctx, const plan_args *a, int64_t id)
{
    patron_case *c = NULL;
    patron_merge_plan *plan = NULL;
    patron_status st;
    patron_customer **m = NULL;
    size_t nm = 0, i, k, np;
    int rc;
    char key[32], kb[32], name[200];
    patron_case_state state;

    if ((st = patron_db_review_get(ctx->db, &c, id)) != PATRON_OK)
        return cli_fail_db(ctx, st, "review show");
    if (a->json) {
        char *text = NULL;
        rc = patron_case_to_json(c, &text, PATRON_JSON_PRETTY) == PATRON_OK ? (printf("%s\n", text), CLI_OK)
                                                                            : cli_fail(ctx, "out of memory");
        patron_free(text);
        patron_case_free(c);
        return rc;
    }
    state = patron_case_state_of(c);
    printf("case %" PRId64 ": %s, verdict %s, score %.2f\n", id, patron_case_state_name(state),
           patron_decision_name(patron_case_verdict(c)), patron_case_score(c));
    printf("reason: %s\n", patron_case_reason(c));
    if (patron_case_decided_by(c))
        printf("decided by %s%s%s\n", patron_case_decided_by(c), patron_case_note(c) ? ": " : "",
               patron_case_note(c) ? patron_case_note(c) : "");
    if (patron_case_change(c))
        printf("reopened: %s\n", patron_case_change(c));
    if (patron_case_journal(c))
        printf("merged: journal %" PRId64 " (patron undo %" PRId64 " reopens the case)\n", patron_case_journal(c),
               patron_case_journal(c));
    if ((rc = review_members(ctx, c, &m, &nm)) != CLI_OK) {
        patron_case_free(c);
        return rc;
    }
    /* the pairs, each with the matcher's reason per field */
    np = patron_case_pair_count(c);
    printf("\npairs:\n");
    for (i = 0; i < np; i++) {
        int64_t ia = 0, ib = 0;
        double score = 0;
        patron_decision d = PATRON_DECISION_REVIEW;
        size_t nf = patron_case_field_count(c, i);
        patron_case_pair(c, &ia, &ib, &score, &d, i);
        key[0] = kb[0] = '\0';
        for (k = 0; k < nm; k++) {
            if (patron_customer_id(m[k]) == ia)
                cli_customer_key(m[k], key, sizeof key);
            if (patron_customer_id(m[k]) == ib)
                cli_customer_key(m[k], kb, sizeof kb);
        }
        printf("  %s - %s  %s  score %.2f\n", key, kb, patron_decision_name(d), score);
        for (k = 0; k < nf; k++) {
            const char *fname = "", *va = "", *vb = "", *level = "";
            double w = 0;
            if (patron_case_explain(c, &fname, &va, &vb, &level, &w, i, k) != PATRON_OK || (!va[0] && !vb[0] &&
                                                                                             strcmp(fname, "rule")))
                continue;
            if (!strcmp(fname, "rule"))
                printf("    rule %s\n", level);
            else
                printf("    %-16s %-10s %+6.2f  %s | %s\n", fname, level, w, va, vb);
        }
    }
    printf("\n");
    if (state != PATRON_CASE_MERGED) {
        st = patron_db_review_plan(ctx->db, &plan, id, a->policy);
        if (st != PATRON_OK) {
            rc = cli_fail_db(ctx, st, "review show");
        } else if ((rc = plan_apply_choices(ctx, a, plan)) == CLI_OK) {
            rc = plan_print_table(ctx, plan, field_reason, c);
            printf("\ndecide: patron review merge %" PRId64 " [--take FIELD=N]... | patron review distinct %" PRId64
                   " [--note TEXT] | patron review household %" PRId64 " | patron review defer %" PRId64 "\n",
                   id, id, id, id);
        }
        patron_merge_plan_free(plan);
    } else {
        for (k = 0; k < nm; k++)
            printf("[%zu] %s %s\n", k + 1, cli_customer_key(m[k], key, sizeof key),
                   review_name(m[k], "(no name)", name, sizeof name));
    }
    review_members_free(m, nm);
    patron_case_free(c);
    return rc;
}

/* ---- decisions --------------------------------------------------------------- */

static int review_merge(cli *ctx, const plan_args *a, int64_t id)
{
    patron_merge_plan *plan = NULL;
    patron_status st;
    int64_t jid = 0;
    int rc;
    size_t k;
    char key[32];

    st = patron_db_review_plan(ctx->db, &plan, id, a->policy);
    if (st != PATRON_OK)
        return cli_fail_db(ctx, st, "review merge");
    if ((rc = plan_apply_choices(ctx, a, plan)) == CLI_OK && (rc = plan_check(ctx, plan)) == CLI_OK) {
        st = patron_db_review_merge(ctx->db, &jid, id, plan, who(a));
        if (st != PATRON_OK) {
            rc = cli_fail_db(ctx, st, "review merge");
        } else {
            printf("case %" PRId64 ": merged", id);
            for (k = 1; k < patron_merge_plan_count(plan); k++)
                printf("%s %s", k > 1 ? "," : "", cli_customer_key(patron_merge_plan_record(plan, k), key, sizeof key));
            {
                patron_customer *s = NULL;
                if (patron_db_load(ctx->db, &s, patron_customer_id(patron_merge_plan_record(plan, 0))) == PATRON_OK)
                    printf(" into %s", cli_customer_key(s, key, sizeof key));
                patron_customer_free(s);
            }
            printf(": journal %" PRId64 "\n", jid);
        }
    }
    patron_merge_plan_free(plan);
    return rc;
}

static int review_decide(cli *ctx, const plan_args *a, int64_t id, patron_case_state state, const char *what)
{
    patron_status st = patron_db_review_decide(ctx->db, id, state, who(a), a->note);
    if (st != PATRON_OK)
        return cli_fail_db(ctx, st, what);
    printf("case %" PRId64 ": %s\n", id, patron_case_state_name(state));
    return CLI_OK;
}

int review_scan(cli *ctx, int full, int quiet)
{
    patron_review_scan_stats s = PATRON_REVIEW_SCAN_STATS_INIT;
    patron_review_scan_options o = PATRON_REVIEW_SCAN_OPTIONS_INIT;
    patron_status st;

    if (full)
        o.flags |= PATRON_REVIEW_SCAN_FULL;
    st = patron_db_review_scan(ctx->db, &s, &o);
    if (st != PATRON_OK)
        return cli_fail_db(ctx, st, "review scan");
    fprintf(quiet ? stderr : stdout,
            "%sreview queue: %zu open case%s (%zu new, %zu refreshed, %zu reopened, %zu closed; %s scan of %zu "
            "customer%s)%s\n",
            quiet ? "patron: " : "", s.open, s.open == 1 ? "" : "s", s.opened, s.refreshed, s.reopened, s.closed,
            s.full ? "full" : "incremental", s.customers, s.customers == 1 ? "" : "s",
            quiet && s.open ? ": patron review" : "");
    return CLI_OK;
}

static int cmd_review(cli *ctx, int argc, char **argv)
{
    plan_args a;
    const char **ops;
    size_t n = 0;
    int rc;
    int64_t id = 0;
    const char *sub;

    memset(&a, 0, sizeof a);
    a.lock = -1;
    a.policy = PATRON_MERGE_SURVIVOR;
    if ((rc = cli_parse(ctx, argc, argv, &a, &ops, &n)) >= 0)
        return rc;
    sub = n ? ops[0] : "list";
    if (strcmp(sub, "list") != 0 && strcmp(sub, "scan") != 0) {
        if (n != 2)
            return cli_usage(ctx, "usage: review %s CASE", sub);
        if ((rc = parse_case(ctx, ops[1], &id)) >= 0)
            return rc;
    } else if (n > 1) {
        return cli_usage(ctx, "'review %s' takes no arguments", sub);
    }
    if ((a.html || a.all) && strcmp(sub, "list") != 0)
        return cli_usage(ctx, "--html and --all are for the list of cases");
    if (a.json && strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0)
        return cli_usage(ctx, "--json is for 'review list' and 'review show'");
    if (a.note && strcmp(sub, "distinct") != 0 && strcmp(sub, "household") != 0 && strcmp(sub, "defer") != 0)
        return cli_usage(ctx, "--note is for distinct, household and defer");
    if (a.full && strcmp(sub, "scan") != 0)
        return cli_usage(ctx, "--full is for 'review scan'");
    if ((a.takes.n || a.drops.n || a.sets.n || a.lock >= 0 || a.activate) && strcmp(sub, "merge") != 0 &&
        strcmp(sub, "show") != 0)
        return cli_usage(ctx, "--take, --drop, --set, --lock, --unlock and --activate are for 'review merge' "
                              "(and 'review show', to preview them)");
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
        return rc;
    if (!strcmp(sub, "list"))
        return review_list(ctx, &a);
    if (!strcmp(sub, "scan")) {
        cli_warn_stale_index(ctx);
        return review_scan(ctx, a.full, 0);
    }
    if (!strcmp(sub, "show"))
        return review_show(ctx, &a, id);
    if (!strcmp(sub, "merge"))
        return review_merge(ctx, &a, id);
    if (!strcmp(sub, "distinct"))
        return review_decide(ctx, &a, id, PATRON_CASE_NOT_DUPLICATE, "review distinct");
    if (!strcmp(sub, "household"))
        return review_decide(ctx, &a, id, PATRON_CASE_HOUSEHOLD, "review household");
    if (!strcmp(sub, "defer"))
        return review_decide(ctx, &a, id, PATRON_CASE_DEFERRED, "review defer");
    if (!strcmp(sub, "reopen"))
        return review_decide(ctx, &a, id, PATRON_CASE_OPEN, "review reopen");
    return cli_usage(ctx, "unknown subcommand '%s' (list, show, merge, distinct, household, defer, reopen, scan)",
                     sub);
}

const cli_command cli_cmd_review = {
    "review", cmd_review, "the duplicate review queue: list, look, decide",
    "review [list] [--all] [--json] [--html FILE] | show CASE | merge CASE [--take FIELD=N]...\n"
    "                          | distinct CASE [--note TEXT] | household CASE | defer CASE\n"
    "                          | reopen CASE | scan [--full]",
    "Suspected duplicates are kept as cases in the database: a cluster of\n"
    "customers, the matcher's verdict and reason, and a state (open, merged,\n"
    "not_duplicate, household, deferred).  'patron dedupe' (on the database)\n"
    "and 'patron review scan' fill the queue; a decided case is never proposed\n"
    "again - not by match, dedupe, activation or a scan - until one of its\n"
    "customers changes in a field the matcher compares.\n"
    "\n"
    "  review [list]          the open cases, best first, one line each: case,\n"
    "                         verdict, score, the customers and the reason\n"
    "                         (--all: every state; --json; --html FILE: one\n"
    "                         self-contained page to look at in a browser)\n"
    "  review show CASE       the pairs with the reason per field, and the merge\n"
    "                         plan side by side as 'merge-plan' shows it\n"
    "  review merge CASE      merge the case's customers (the plan options as for\n"
    "                         'merge'), in one transaction with closing the case;\n"
    "                         'patron undo JOURNAL' reopens it\n"
    "  review distinct CASE   not duplicates: never proposed again\n"
    "  review household CASE  different people of one household\n"
    "  review defer CASE      put aside; scans leave it alone\n"
    "  review reopen CASE     take a decision back\n"
    "  review scan            match the customers changed since the last scan\n"
    "                         (--full: all) and update the queue\n",
    review_opts, NULL, 0, 2, NULL,
};
