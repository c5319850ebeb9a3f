/*
 * patron — merging duplicates (issue 5): merge-plan, merge, journal, undo,
 * and the example orders table that merges re-link: import-orders, orders.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"
#include "csv.h"
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sqlite3.h>

/* ---- plan options, shared by merge-plan and merge ----------------------- */

typedef struct plan_args {
    const char **keys; /* SURVIVOR DUP... */
    size_t n_keys;
    const char **takes; /* FIELD=N */
    size_t n_takes;
    const char **sets; /* FIELD=VALUE */
    size_t n_sets;
    int json;
    int policy;
    int lock;     /* -1 default, 0, 1 */
    int activate; /* merge into a pending survivor */
} plan_args;

static void plan_args_free(plan_args *p)
{
    free(p->keys);
    free(p->takes);
    free(p->sets);
}

static int parse_plan_args(cli *ctx, int argc, char **argv, plan_args *p, int allow_json)
{
    cli_args a;
    int k, rc;
    size_t cap = (size_t)argc;

    memset(p, 0, sizeof *p);
    p->lock = -1;
    p->policy = PATRON_MERGE_SURVIVOR;
    p->keys = calloc(cap, sizeof *p->keys);
    p->takes = calloc(cap, sizeof *p->takes);
    p->sets = calloc(cap, sizeof *p->sets);
    if (!p->keys || !p->takes || !p->sets)
        return cli_fail(ctx, "out of memory");
    cli_args_init(&a, argc, argv);
    while ((k = cli_args_next(&a)) != CLI_ARG_END) {
        if (k == CLI_ARG_POS) {
            p->keys[p->n_keys++] = a.operand;
        } else if (cli_args_is(&a, "--take") || cli_args_is(&a, "--set")) {
            int take = cli_args_is(&a, "--take");
            const char *v = cli_args_value(&a);
            const char *eq = v ? strchr(v, '=') : NULL;
            if (!eq || eq == v)
                return cli_usage(ctx, "option '%s' needs FIELD=%s", take ? "--take" : "--set",
                                 take ? "N" : "VALUE");
            if (take)
                p->takes[p->n_takes++] = v;
            else
                p->sets[p->n_sets++] = v;
        } else if (cli_args_is(&a, "--policy")) {
            const char *v = cli_args_value(&a);
            if (v && !strcmp(v, "survivor"))
                p->policy = PATRON_MERGE_SURVIVOR;
            else if (v && !strcmp(v, "newest"))
                p->policy = PATRON_MERGE_NEWEST;
            else
                return cli_usage(ctx, "option '--policy' needs survivor or newest");
        } else if (cli_args_is(&a, "--lock") || cli_args_is(&a, "--unlock") || cli_args_is(&a, "--activate")) {
            if ((rc = cli_args_flag_ok(ctx, &a)) >= 0)
                return rc;
            if (cli_args_is(&a, "--activate"))
                p->activate = 1;
            else
                p->lock = cli_args_is(&a, "--lock");
        } else if (allow_json && cli_args_is(&a, "--json")) {
            if ((rc = cli_args_flag_ok(ctx, &a)) >= 0)
                return rc;
            p->json = 1;
        } else if ((rc = cli_args_common(ctx, &a)) >= 0) {
            return rc;
        }
    }
    if (p->n_keys == 0)
        return cli_usage(ctx, "no SURVIVOR given");
    if (p->n_keys == 1)
        return cli_usage(ctx, "no DUPLICATE given");
    return -1;
}

/* A field name for --take and --set: a customer field, "login" for the login. */
static int plan_field(const char *name, size_t len)
{
    char buf[64];

    if (len >= sizeof buf)
        return 0;
    memcpy(buf, name, len);
    buf[len] = '\0';
    if (!strcmp(buf, "login"))
        return PATRON_F_LOGIN_USER;
    return patron_field_from_name(buf);
}

/* Resolve the keys, build the plan and apply the caller's choices. */
static int build_plan(cli *ctx, const plan_args *p, patron_merge_plan **plan)
{
    int64_t *ids = calloc(p->n_keys, sizeof *ids);
    size_t i;
    int rc = CLI_OK;
    patron_status st;

    *plan = NULL;
    if (!ids)
        return cli_fail(ctx, "out of memory");
    for (i = 0; i < p->n_keys && rc == CLI_OK; i++) {
        patron_customer *c;
        if ((rc = cli_find_customer(ctx, p->keys[i], &c)) == CLI_OK) {
            ids[i] = patron_customer_id(c);
            patron_customer_free(c);
        }
    }
    if (rc != CLI_OK)
        goto out;
    st = patron_merge_plan_new(ctx->db, plan, ids[0], ids + 1, p->n_keys - 1, p->policy);
    if (st != PATRON_OK) {
        *plan = NULL;
        rc = cli_fail_db(ctx, st, "merge plan");
        goto out;
    }
    for (i = 0; i < p->n_takes && rc == CLI_OK; i++) {
        const char *eq = strchr(p->takes[i], '=');
        int f = plan_field(p->takes[i], (size_t)(eq - p->takes[i]));
        char *end;
        long n;
        errno = 0;
        n = strtol(eq + 1, &end, 10);
        if (!f)
            rc = cli_fail(ctx, "--take %s: no such field", p->takes[i]);
        else if (errno || end == eq + 1 || *end || n < 1 || (size_t)n > p->n_keys)
            rc = cli_fail(ctx, "--take %s: N is the position of a record in the command, 1 to %zu", p->takes[i],
                          p->n_keys);
        else if ((st = patron_merge_plan_take(*plan, f, (size_t)n - 1)) != PATRON_OK)
            rc = cli_fail_msg(ctx, "--take", patron_merge_plan_errmsg(*plan));
    }
    for (i = 0; i < p->n_sets && rc == CLI_OK; i++) {
        const char *eq = strchr(p->sets[i], '=');
        int f = plan_field(p->sets[i], (size_t)(eq - p->sets[i]));
        if (!f)
            rc = cli_fail(ctx, "--set %s: no such field", p->sets[i]);
        else if ((st = patron_merge_plan_set(*plan, f, eq + 1)) != PATRON_OK)
            rc = cli_fail_msg(ctx, "--set", patron_merge_plan_errmsg(*plan));
    }
    if (rc == CLI_OK && p->lock >= 0 && patron_merge_plan_set_lock(*plan, p->lock) != PATRON_OK)
        rc = cli_fail_msg(ctx, "--lock", patron_merge_plan_errmsg(*plan));
    if (rc == CLI_OK && p->activate && patron_merge_plan_set_activate(*plan, 1) != PATRON_OK)
        rc = cli_fail_msg(ctx, "--activate", patron_merge_plan_errmsg(*plan));
    if (rc != CLI_OK) {
        patron_merge_plan_free(*plan);
        *plan = NULL;
    }
out:
    free(ids);
    return rc;
}

/* ---- merge-plan ------------------------------------------------------------- */

#define CELL_MAX 28

/* A value for a table cell: one line, at most CELL_MAX columns. */
static void cell(char *out, size_t cap, const char *v)
{
    size_t o = 0, w = 0;

    if (!v)
        v = "";
    for (; *v && o + 8 < cap; v++) {
        unsigned char ch = (unsigned char)*v;
        if ((ch & 0xC0) != 0x80) {
            if (w == CELL_MAX - 1 && cli_width(v) > 1) {
                memcpy(out + o, "\xe2\x80\xa6", 3); /* … */
                o += 3;
                break;
            }
            w++;
        }
        if (ch == '\n' || ch == '\r' || ch == '\t')
            out[o++] = ' ';
        else
            out[o++] = (char)ch;
    }
    out[o] = '\0';
}

static void print_address(const json *ad)
{
    const char *def = patron_address_field_name(PATRON_A_DEFAULT);
    static const int parts[] = { PATRON_A_LABEL, PATRON_A_COMPANY, PATRON_A_FIRST_NAME, PATRON_A_LAST_NAME,
                                 PATRON_A_STREET, PATRON_A_HOUSE_NUMBER, PATRON_A_ADDITION,
                                 PATRON_A_POSTAL_CODE, PATRON_A_CITY, PATRON_A_COUNTRY };
    size_t i;
    int any = 0;

    for (i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        const char *name = patron_address_field_name(parts[i]);
        const char *v = name ? json_get_str(ad, name) : "";
        if (!v[0])
            continue;
        /* "Hauptstraße 12a, 10115 Berlin" */
        if (any)
            fputs(parts[i] == PATRON_A_HOUSE_NUMBER || parts[i] == PATRON_A_CITY ? " " : ", ", stdout);
        fputs(v, stdout);
        any = 1;
    }
    if (def && json_get_true(ad, def))
        fputs(" (default)", stdout);
    putchar('\n');
}

static int print_plan_table(cli *ctx, patron_merge_plan *plan)
{
    size_t n = patron_merge_plan_count(plan), k, i;
    size_t *w = calloc(n + 2, sizeof *w), wf = 5;
    char key[32], buf[CELL_MAX * 4 + 16], head[64];
    char *text = NULL;
    json *j = NULL;
    const json *lists;
    const char *problems;
    int f, conflicts = 0;

    if (!w)
        return cli_fail(ctx, "out of memory");
    /* Column widths: field | record 1..n | result. */
    for (k = 0; k < n; k++) {
        snprintf(head, sizeof head, "[%zu] %s", k + 1,
                 cli_customer_key(patron_merge_plan_record(plan, k), key, sizeof key));
        w[k] = cli_width(head);
    }
    w[n] = 6;
    for (f = 1; f < PATRON_F__END; f++) {
        int any = 0;
        int choice;
        if (patron_merge_plan_choice(plan, &choice, f) != PATRON_OK || choice == PATRON_MERGE_NOT_MERGED)
            continue;
        for (k = 0; k < n; k++) {
            const char *v = patron_customer_get(patron_merge_plan_record(plan, k), f);
            if (v) {
                cell(buf, sizeof buf, v);
                if (cli_width(buf) > w[k])
                    w[k] = cli_width(buf);
                any = 1;
            }
        }
        if (patron_merge_plan_value(plan, f)) {
            cell(buf, sizeof buf, patron_merge_plan_value(plan, f));
            if (cli_width(buf) > w[n])
                w[n] = cli_width(buf);
            any = 1;
        }
        if (any && strlen(patron_field_name(f)) > wf)
            wf = strlen(patron_field_name(f));
    }

    printf("merge into %s:", cli_customer_key(patron_merge_plan_record(plan, 0), key, sizeof key));
    for (k = 1; k < n; k++)
        printf(" %s", cli_customer_key(patron_merge_plan_record(plan, k), key, sizeof key));
    printf("\n\n  ");
    cli_pad(stdout, "field", wf + 2);
    for (k = 0; k < n; k++) {
        snprintf(head, sizeof head, "[%zu] %s", k + 1,
                 cli_customer_key(patron_merge_plan_record(plan, k), key, sizeof key));
        cli_pad(stdout, head, w[k] + 2);
    }
    printf("result\n");
    for (f = 1; f < PATRON_F__END; f++) {
        int choice, any = 0, conflict;
        const char *res = patron_merge_plan_value(plan, f);
        if (patron_merge_plan_choice(plan, &choice, f) != PATRON_OK || choice == PATRON_MERGE_NOT_MERGED)
            continue;
        for (k = 0; k < n; k++)
            any |= patron_customer_get(patron_merge_plan_record(plan, k), f) != NULL;
        if (!any && !res)
            continue;
        conflict = patron_merge_plan_conflict(plan, f);
        conflicts += conflict;
        printf("%s ", conflict ? "!" : " ");
        cli_pad(stdout, patron_field_name(f), wf + 2);
        for (k = 0; k < n; k++) {
            const char *v = patron_customer_get(patron_merge_plan_record(plan, k), f);
            cell(buf, sizeof buf, v);
            cli_pad(stdout, buf, w[k] + 2);
        }
        cell(buf, sizeof buf, res);
        fputs(buf, stdout);
        if (choice == PATRON_MERGE_CUSTOM)
            printf("  (%s)", f == PATRON_F_NOTES ? "joined" : "set");
        else if (res && n > 1)
            printf("  [%d]", choice + 1);
        putchar('\n');
    }
    if (conflicts)
        printf("\n! the records disagree on %d field%s; [N] is the record the result comes from\n", conflicts,
               conflicts == 1 ? "" : "s");

    /* The united lists: only the JSON form of the plan holds them. */
    if (patron_merge_plan_to_json(plan, &text, 0) == PATRON_OK && (j = json_parse(text)) != NULL &&
        (lists = json_get(j, "lists")) != NULL) {
        const json *ads = json_get(lists, "addresses"), *tags = json_get(lists, "tags");
        const json *props = json_get(lists, "properties");
        if (ads && ads->type == JSON_ARRAY && ads->n) {
            printf("\naddresses (united):\n");
            for (i = 0; i < ads->n; i++) {
                printf("  %zu. ", i + 1);
                print_address(ads->items[i]);
            }
        }
        if (tags && tags->type == JSON_ARRAY && tags->n) {
            printf("tags (united):");
            for (i = 0; i < tags->n; i++)
                printf("%s %s", i ? "," : "", tags->items[i]->str ? tags->items[i]->str : "");
            putchar('\n');
        }
        if (props && props->type == JSON_OBJECT && props->n) {
            printf("properties (united):");
            for (i = 0; i < props->n; i++)
                printf("%s %s=%s", i ? "," : "", props->keys[i], props->items[i]->str ? props->items[i]->str : "");
            putchar('\n');
        }
        if (json_get_true(j, "locked"))
            printf("the survivor will be locked (a record is locked; --unlock to decide otherwise)\n");
    }
    json_free(j);
    patron_free(text);

    problems = patron_merge_plan_problems(plan);
    if (problems[0]) {
        const char *p = problems;
        printf("\nproblems (the merge is refused until they are resolved):\n");
        while (*p) {
            const char *e = strchr(p, '\n');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            printf("  - %.*s\n", (int)len, p);
            p += len + (e ? 1 : 0);
        }
        if (patron_merge_plan_conflict(plan, PATRON_F_LOGIN_USER))
            printf("  choose the login with --take login_user=N\n");
    } else {
        printf("\nno problems\n");
    }
    free(w);
    return CLI_OK;
}

int cmd_merge_plan(cli *ctx, int argc, char **argv)
{
    plan_args p;
    patron_merge_plan *plan = NULL;
    int rc;

    if ((rc = parse_plan_args(ctx, argc, argv, &p, 1)) >= 0) {
        plan_args_free(&p);
        return rc;
    }
    if ((rc = cli_open_db(ctx, 0)) == CLI_OK && (rc = build_plan(ctx, &p, &plan)) == CLI_OK) {
        if (p.json) {
            char *text = NULL;
            if (patron_merge_plan_to_json(plan, &text, PATRON_JSON_PRETTY) != PATRON_OK)
                rc = cli_fail(ctx, "merge plan: out of memory");
            else
                printf("%s\n", text);
            patron_free(text);
        } else {
            rc = print_plan_table(ctx, plan);
        }
    }
    patron_merge_plan_free(plan);
    plan_args_free(&p);
    return rc;
}

/* ---- merge -------------------------------------------------------------------- */

int cmd_merge(cli *ctx, int argc, char **argv)
{
    plan_args p;
    patron_merge_plan *plan = NULL;
    int64_t jid = 0;
    patron_status st;
    int rc;
    size_t k;
    char key[32];

    if ((rc = parse_plan_args(ctx, argc, argv, &p, 0)) >= 0) {
        plan_args_free(&p);
        return rc;
    }
    if ((rc = cli_open_db(ctx, 0)) == CLI_OK && (rc = build_plan(ctx, &p, &plan)) == CLI_OK) {
        const char *problems = patron_merge_plan_problems(plan);
        if (problems[0]) {
            char *msg = malloc(strlen(problems) + 100);
            if (msg) {
                sprintf(msg, "%s%s", problems,
                        patron_merge_plan_conflict(plan, PATRON_F_LOGIN_USER)
                            ? "\n(choose the login with --take login_user=N)" : "");
                rc = cli_fail_msg(ctx, "merge refused", msg);
                free(msg);
            } else {
                rc = cli_fail_msg(ctx, "merge refused", problems);
            }
            goto done;
        }
        st = patron_db_merge(ctx->db, &jid, plan);
        if (st != PATRON_OK) {
            rc = cli_fail_db(ctx, st, "merge");
        } else {
            printf("merged");
            for (k = 1; k < patron_merge_plan_count(plan); k++)
                printf("%s %s", k > 1 ? "," : "",
                       cli_customer_key(patron_merge_plan_record(plan, k), key, sizeof key));
            /* A pending survivor got its number now: show the stored one. */
            {
                patron_customer *s = NULL;
                int64_t sid = patron_customer_id(patron_merge_plan_record(plan, 0));
                if (patron_db_load(ctx->db, &s, sid) == PATRON_OK)
                    printf(" into %s", cli_customer_key(s, key, sizeof key));
                patron_customer_free(s);
            }
            printf(": journal %" PRId64 "\n", jid);
        }
    }
done:
    patron_merge_plan_free(plan);
    plan_args_free(&p);
    return rc;
}

/* ---- journal, undo -------------------------------------------------------------- */

static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return -1;
    *out = (int64_t)v;
    return 0;
}

int cmd_journal(cli *ctx, int argc, char **argv)
{
    cli_args a;
    int k, rc, as_json = 0;
    int64_t after = 0, limit = 0;
    char *text = NULL;
    patron_status st;
    json *j;
    size_t i;

    cli_args_init(&a, argc, argv);
    while ((k = cli_args_next(&a)) != CLI_ARG_END) {
        if (k == CLI_ARG_POS)
            return cli_usage(ctx, "unexpected argument '%s'", a.operand);
        if (cli_args_is(&a, "--json")) {
            if ((rc = cli_args_flag_ok(ctx, &a)) >= 0)
                return rc;
            as_json = 1;
        } else if (cli_args_is(&a, "--after") || cli_args_is(&a, "--limit")) {
            int is_after = cli_args_is(&a, "--after");
            const char *v = cli_args_value(&a);
            if (!v || parse_i64(v, is_after ? &after : &limit) < 0)
                return cli_usage(ctx, "option '%s' needs a number", is_after ? "--after" : "--limit");
        } else if ((rc = cli_args_common(ctx, &a)) >= 0) {
            return rc;
        }
    }
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
        return rc;
    st = patron_db_journal_to_json(ctx->db, &text, after, limit > 0 ? (size_t)limit : (size_t)-1);
    if (st != PATRON_OK)
        return cli_fail_db(ctx, st, "journal");
    if (as_json) {
        printf("%s\n", text);
        patron_free(text);
        return CLI_OK;
    }
    j = json_parse(text);
    patron_free(text);
    if (!j || j->type != JSON_ARRAY) {
        json_free(j);
        return cli_fail(ctx, "journal: the library's answer is no JSON array");
    }
    if (j->n)
        printf("%-5s %-20s %-8s %-9s %-9s %s\n", "ID", "TIME (UTC)", "KIND", "CUSTOMER", "UNDONE BY", "SUMMARY");
    for (i = 0; i < j->n; i++) {
        const json *e = j->items[i];
        time_t t = (time_t)strtoll(json_get_str(e, "time"), NULL, 10);
        struct tm tm;
        char when[32] = "?", cust[32];
        const char *undone = json_get_str(e, "undone_by");
        if (gmtime_r(&t, &tm))
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        snprintf(cust, sizeof cust, "#%s", json_get_str(e, "customer_id"));
        printf("%-5s %-20s %-8s %-9s %-9s %s\n", json_get_str(e, "id"), when, json_get_str(e, "kind"), cust,
               strcmp(undone, "0") ? undone : "-", json_get_str(e, "summary"));
    }
    if (!j->n)
        printf("the journal is empty\n");
    json_free(j);
    return CLI_OK;
}

int cmd_undo(cli *ctx, int argc, char **argv)
{
    cli_args a;
    int k, rc;
    unsigned flags = 0;
    const char *arg = NULL;
    int64_t jid, undo_id = 0;
    patron_status st;

    cli_args_init(&a, argc, argv);
    while ((k = cli_args_next(&a)) != CLI_ARG_END) {
        if (k == CLI_ARG_POS) {
            if (arg)
                return cli_usage(ctx, "give one JOURNAL_ID");
            arg = a.operand;
        } else if (cli_args_is(&a, "--force")) {
            if ((rc = cli_args_flag_ok(ctx, &a)) >= 0)
                return rc;
            flags |= PATRON_UNDO_FORCE;
        } else if ((rc = cli_args_common(ctx, &a)) >= 0) {
            return rc;
        }
    }
    if (!arg)
        return cli_usage(ctx, "no JOURNAL_ID given");
    if (parse_i64(arg, &jid) < 0 || jid == 0)
        return cli_usage(ctx, "'%s' is no journal id (see 'patron journal')", arg);
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
        return rc;
    st = patron_db_undo(ctx->db, &undo_id, jid, flags);
    if (st != PATRON_OK)
        return cli_fail_db(ctx, st, "undo");
    printf("undid merge %" PRId64 ": journal %" PRId64 "\n", jid, undo_id);
    return CLI_OK;
}

/* ---- orders (the SQLite store's example reference table) ---------------------- */

static int sql_fail(cli *ctx, sqlite3 *h, const char *what)
{
    return cli_fail(ctx, "%s: %s", what, sqlite3_errmsg(h));
}

/* "dir/orders.csv" -> "dir/orders.rejects.csv" */
static char *rejects_path_for(const char *input)
{
    size_t n = strlen(input);
    char *p;

    if (n > 4 && !strcasecmp(input + n - 4, ".csv"))
        n -= 4;
    p = malloc(n + sizeof ".rejects.csv");
    if (p) {
        memcpy(p, input, n);
        memcpy(p + n, ".rejects.csv", sizeof ".rejects.csv");
    }
    return p;
}

int cmd_import_orders(cli *ctx, int argc, char **argv)
{
    cli_args a;
    int k, rc = CLI_OK, sep = ',';
    const char *path = NULL, *rejects_path = NULL;
    char *default_rejects = NULL;
    FILE *in = NULL, *rj = NULL;
    csv_reader *r = NULL;
    csv_record rec;
    long col_order = -1, col_customer = -1, col_total = -1;
    size_t i, n_header = 0, imported = 0, rejected = 0, rows = 0;
    char **header = NULL;
    sqlite3 *h;
    sqlite3_stmt *ins = NULL;
    int in_tx = 0;

    cli_args_init(&a, argc, argv);
    while ((k = cli_args_next(&a)) != CLI_ARG_END) {
        if (k == CLI_ARG_POS) {
            if (path)
                return cli_usage(ctx, "give one FILE");
            path = a.operand;
        } else if (cli_args_is(&a, "--rejects")) {
            rejects_path = cli_args_value(&a);
            if (!rejects_path || !rejects_path[0])
                return cli_usage(ctx, "option '--rejects' needs a file name");
        } else if ((rc = cli_args_common(ctx, &a)) >= 0) {
            return rc;
        }
    }
    if (!path)
        return cli_usage(ctx, "no FILE given");
    if (!rejects_path)
        rejects_path = default_rejects = rejects_path_for(path);
    if (!rejects_path)
        return cli_fail(ctx, "out of memory");
    in = fopen(path, "rb");
    if (!in) {
        rc = cli_fail(ctx, "cannot open '%s': %s", path, strerror(errno));
        goto out;
    }
    if (csv_reader_open(&r, in, 0) < 0 || (k = csv_read(r, &rec)) < 0) {
        rc = cli_fail(ctx, "cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    if (k == 0 || rec.error) {
        rc = cli_fail(ctx, "%s: %s", path, k == 0 ? "empty: a header line is needed" : rec.error);
        goto out;
    }
    sep = csv_reader_sep(r);
    if (!(header = calloc(rec.n, sizeof *header))) {
        rc = cli_fail(ctx, "out of memory");
        goto out;
    }
    n_header = rec.n;
    for (i = 0; i < rec.n; i++) {
        if (!(header[i] = strdup(rec.fields[i]))) {
            rc = cli_fail(ctx, "out of memory");
            goto out;
        }
    }
    for (i = 0; i < rec.n; i++) {
        const char *hname = rec.fields[i];
        if (!strcasecmp(hname, "order_id"))
            col_order = (long)i;
        else if (!strcasecmp(hname, "customer"))
            col_customer = (long)i;
        else if (!strcasecmp(hname, "total"))
            col_total = (long)i;
    }
    if (col_order < 0 || col_customer < 0) {
        rc = cli_fail(ctx, "%s: the header needs the columns order_id and customer (total is optional)", path);
        goto out;
    }
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
        goto out;
    h = patron_sqlite_handle(ctx->store);
    /* One transaction: every good row, or nothing. */
    if (patron_sqlite_begin(ctx->store) != PATRON_OK) {
        rc = cli_fail(ctx, "cannot begin a transaction: %s", patron_sqlite_errmsg(ctx->store));
        goto out;
    }
    in_tx = 1;
    if (sqlite3_prepare_v2(h, "INSERT INTO orders(order_id, customer_id, total) VALUES (?1, ?2, ?3)", -1, &ins,
                           NULL) != SQLITE_OK) {
        rc = sql_fail(ctx, h, "prepare");
        goto out;
    }
    for (;;) {
        char reason[700] = "";
        patron_customer *c = NULL;

        k = csv_read(r, &rec);
        if (k < 0) {
            rc = cli_fail(ctx, "cannot read '%s' at line %lu: %s", path, csv_reader_line(r), strerror(errno));
            goto out;
        }
        if (k == 0)
            break;
        rows++;
        if (rec.error)
            snprintf(reason, sizeof reason, "%s", rec.error);
        else if (rec.n != n_header)
            snprintf(reason, sizeof reason, "the row has %zu fields, the header %zu", rec.n, n_header);
        else if (!rec.fields[col_order][0])
            snprintf(reason, sizeof reason, "no order_id");
        else if (cli_resolve_customer(ctx, rec.fields[col_customer], &c, NULL, reason, sizeof reason) == CLI_OK &&
                 patron_customer_state(c) == PATRON_STATE_MERGED)
            snprintf(reason, sizeof reason, "customer '%s' was merged into another; give the survivor",
                     rec.fields[col_customer]);
        if (!reason[0]) {
            int src;
            sqlite3_bind_text(ins, 1, rec.fields[col_order], -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(ins, 2, patron_customer_id(c));
            if (col_total >= 0 && rec.fields[col_total][0])
                sqlite3_bind_text(ins, 3, rec.fields[col_total], -1, SQLITE_TRANSIENT);
            else
                sqlite3_bind_null(ins, 3);
            src = sqlite3_step(ins);
            if (src == SQLITE_DONE)
                imported++;
            else if (src == SQLITE_CONSTRAINT)
                snprintf(reason, sizeof reason, "order '%s' is there already", rec.fields[col_order]);
            else
                snprintf(reason, sizeof reason, "%s", sqlite3_errmsg(h));
            sqlite3_reset(ins);
            sqlite3_clear_bindings(ins);
            if (src != SQLITE_DONE && src != SQLITE_CONSTRAINT) {
                patron_customer_free(c);
                rc = cli_fail(ctx, "line %lu: %s", rec.line, reason);
                goto out;
            }
        }
        patron_customer_free(c);
        if (reason[0]) {
            char line[32];
            if (!rj) {
                if (!(rj = fopen(rejects_path, "wb"))) {
                    rc = cli_fail(ctx, "cannot write '%s': %s", rejects_path, strerror(errno));
                    goto out;
                }
                fprintf(rj, "line%creason", sep);
                for (i = 0; i < n_header; i++) {
                    putc(sep, rj);
                    csv_write_str(rj, sep, header[i]);
                }
                putc('\n', rj);
            }
            snprintf(line, sizeof line, "%lu", rec.line);
            csv_write_str(rj, sep, line);
            putc(sep, rj);
            csv_write_str(rj, sep, reason);
            for (i = 0; i < rec.n; i++) {
                putc(sep, rj);
                csv_write_field(rj, sep, rec.fields[i], rec.lens[i]);
            }
            putc('\n', rj);
            rejected++;
        }
    }
    sqlite3_finalize(ins);
    ins = NULL;
    in_tx = 0;
    if (patron_sqlite_commit(ctx->store) != PATRON_OK) {
        patron_sqlite_rollback(ctx->store);
        rc = cli_fail(ctx, "cannot commit: %s", patron_sqlite_errmsg(ctx->store));
        goto out;
    }
    if (rj && fclose(rj) != 0) {
        rj = NULL;
        rc = cli_fail(ctx, "cannot write '%s': %s", rejects_path, strerror(errno));
        goto out;
    }
    rj = NULL;
    printf("imported %zu orders, rejected %zu rows%s%s%s\n", imported, rejected, rejected ? " (see " : "",
           rejected ? rejects_path : "", rejected ? ")" : "");
    if (rejected)
        rc = cli_fail(ctx, "%zu of %zu rows rejected, see '%s'", rejected, rows, rejects_path);
out:
    sqlite3_finalize(ins);
    if (in_tx)
        patron_sqlite_rollback(ctx->store);
    if (rj)
        fclose(rj);
    csv_reader_free(r);
    if (in)
        fclose(in);
    free(default_rejects);
    if (header) {
        for (i = 0; i < n_header; i++)
            free(header[i]);
        free(header);
    }
    return rc;
}

int cmd_orders(cli *ctx, int argc, char **argv)
{
    char **ops;
    size_t n;
    int rc, src;
    patron_customer *c = NULL;
    sqlite3 *h;
    sqlite3_stmt *q = NULL;

    if ((rc = cli_operands(ctx, argc, argv, &ops, &n)) >= 0)
        return rc;
    if (n != 1) {
        free(ops);
        return cli_usage(ctx, n ? "give one KEY" : "no KEY given");
    }
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK || (rc = cli_find_customer(ctx, ops[0], &c)) != CLI_OK)
        goto out;
    h = patron_sqlite_handle(ctx->store);
    if (sqlite3_prepare_v2(h, "SELECT order_id, total FROM orders WHERE customer_id = ?1 ORDER BY order_id", -1,
                           &q, NULL) != SQLITE_OK) {
        rc = sql_fail(ctx, h, "orders");
        goto out;
    }
    sqlite3_bind_int64(q, 1, patron_customer_id(c));
    while ((src = sqlite3_step(q)) == SQLITE_ROW) {
        const unsigned char *total = sqlite3_column_text(q, 1);
        printf("%s\t%s\n", (const char *)sqlite3_column_text(q, 0), total ? (const char *)total : "");
    }
    if (src != SQLITE_DONE)
        rc = sql_fail(ctx, h, "orders");
out:
    sqlite3_finalize(q);
    patron_customer_free(c);
    free(ops);
    return rc;
}
