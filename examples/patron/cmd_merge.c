/*
 * patron — merging duplicates (issue 5): merge-plan, merge, journal, undo.
 * (The example orders table that merges re-link is cmd_orders.c.)
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"
#include "columns.h"
#include "json.h"
#include "plan.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- plan options, shared by merge-plan, merge and review merge -------- */

const cli_choice plan_policies[] = {
    { "survivor", PATRON_MERGE_SURVIVOR }, { "newest", PATRON_MERGE_NEWEST }, { NULL, 0 }
};

static const cli_opt merge_opts[] = {
    PLAN_OPTS,
    CLI_OPT_TABLE_END,
};

static const cli_opt merge_plan_opts[] = {
    PLAN_OPTS,
    { .name = "--json", .kind = CLI_OPT_FLAG, .target = offsetof(plan_args, json), .value = 1,
      .help = "the plan as JSON: records (without password hashes),\n"
              "per field values, choice (0-based), result and\n"
              "conflict, the united lists, locked, problems" },
    CLI_OPT_TABLE_END,
};

static int parse_plan_args(cli *ctx, int argc, char **argv, plan_args *p)
{
    int rc;

    memset(p, 0, sizeof *p);
    p->lock = -1;
    p->policy = PATRON_MERGE_SURVIVOR;
    if ((rc = cli_parse(ctx, argc, argv, p, &p->keys, &p->n_keys)) >= 0)
        return rc;
    if (p->n_keys == 0)
        return cli_usage(ctx, "no SURVIVOR given");
    if (p->n_keys == 1)
        return cli_usage(ctx, "no DUPLICATE given");
    return -1;
}

/* "no such field", with the closest field when one is near. */
static int no_such_field(cli *ctx, const char *opt, const char *assign)
{
    char name[64];
    const char *eq = strchr(assign, '='), *near;
    size_t len = eq ? (size_t)(eq - assign) : strlen(assign);

    snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), assign);
    near = layout_suggest(name);
    if (near)
        return cli_fail(ctx, "%s %s: no such field (did you mean '%s'?)", opt, assign, near);
    return cli_fail(ctx, "%s %s: no such field", opt, assign);
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

/* 1-based N of "N" in 1..max, else 0. */
static size_t position(const char *s, size_t max)
{
    char *end;
    long n;
    errno = 0;
    n = strtol(s, &end, 10);
    if (errno || end == s || *end || n < 1 || (size_t)n > max)
        return 0;
    return (size_t)n;
}

int plan_apply_choices(cli *ctx, const plan_args *p, patron_merge_plan *plan)
{
    size_t i, n = patron_merge_plan_count(plan), na = patron_merge_plan_address_count(plan);
    int rc = CLI_OK;

    for (i = 0; i < p->takes.n && rc == CLI_OK; i++) {
        const char *t = p->takes.v[i], *eq = strchr(t, '=');
        size_t k;
        int f;
        if (!strncmp(t, "address=", 8) || !strncmp(t, "addresses=", 10)) {
            /* keep exactly these united addresses, the first as default */
            const char *q = eq + 1;
            unsigned char *keep = calloc(na + 1, 1);
            size_t first = 0;
            if (!keep)
                return cli_fail(ctx, "out of memory");
            while (rc == CLI_OK) {
                char num[24];
                size_t len = strcspn(q, ","), a;
                snprintf(num, sizeof num, "%.*s", (int)(len < 23 ? len : 23), q);
                if (!(a = position(num, na)))
                    rc = cli_fail(ctx, "--take %s: N is the number of a united address, 1 to %zu", t, na);
                else {
                    keep[a - 1] = 1;
                    if (!first)
                        first = a;
                }
                if (!q[len])
                    break;
                q += len + 1;
            }
            for (k = 0; k < na && rc == CLI_OK; k++)
                if (patron_merge_plan_address_keep(plan, k, keep[k]) != PATRON_OK)
                    rc = cli_fail_msg(ctx, "--take", patron_merge_plan_errmsg(plan));
            if (rc == CLI_OK && patron_merge_plan_address_set_default(plan, first - 1) != PATRON_OK)
                rc = cli_fail_msg(ctx, "--take", patron_merge_plan_errmsg(plan));
            free(keep);
            continue;
        }
        if (!strncmp(t, "prop.", 5) || !strncmp(t, "property:", 9) || !strncmp(t, "prop:", 5)) {
            /* prop.KEY as the CLI names properties elsewhere */
            const char *key0 = t + (t[4] == ':' || t[4] == '.' ? 5 : 9);
            char key[80];
            if (!(k = position(eq + 1, n)))
                rc = cli_fail(ctx, "--take %s: N is the position of a record in the plan, 1 to %zu", t, n);
            else {
                snprintf(key, sizeof key, "%.*s", (int)((size_t)(eq - key0) < 79 ? (size_t)(eq - key0) : 79), key0);
                if (patron_merge_plan_prop_take(plan, key, k - 1) != PATRON_OK)
                    rc = cli_fail_msg(ctx, "--take", patron_merge_plan_errmsg(plan));
            }
            continue;
        }
        f = plan_field(t, (size_t)(eq - t));
        if (!f)
            rc = no_such_field(ctx, "--take", t);
        else if (!(k = position(eq + 1, n)))
            rc = cli_fail(ctx, "--take %s: N is the position of a record in the plan, 1 to %zu", t, n);
        else if (patron_merge_plan_take(plan, f, k - 1) != PATRON_OK)
            rc = cli_fail_msg(ctx, "--take", patron_merge_plan_errmsg(plan));
    }
    for (i = 0; i < p->drops.n && rc == CLI_OK; i++) {
        const char *t = p->drops.v[i];
        size_t a;
        if (strncmp(t, "address=", 8) != 0)
            rc = cli_fail(ctx, "--drop %s: only address=N can be dropped", t);
        else if (!(a = position(t + 8, na)))
            rc = cli_fail(ctx, "--drop %s: N is the number of a united address, 1 to %zu", t, na);
        else if (patron_merge_plan_address_keep(plan, a - 1, 0) != PATRON_OK)
            rc = cli_fail_msg(ctx, "--drop", patron_merge_plan_errmsg(plan));
    }
    for (i = 0; i < p->sets.n && rc == CLI_OK; i++) {
        const char *eq = strchr(p->sets.v[i], '=');
        int f = plan_field(p->sets.v[i], (size_t)(eq - p->sets.v[i]));
        if (!f)
            rc = no_such_field(ctx, "--set", p->sets.v[i]);
        else if (patron_merge_plan_set(plan, f, eq + 1) != PATRON_OK)
            rc = cli_fail_msg(ctx, "--set", patron_merge_plan_errmsg(plan));
    }
    if (rc == CLI_OK && p->lock >= 0 && patron_merge_plan_set_lock(plan, p->lock) != PATRON_OK)
        rc = cli_fail_msg(ctx, "--lock", patron_merge_plan_errmsg(plan));
    if (rc == CLI_OK && p->activate && patron_merge_plan_set_activate(plan, 1) != PATRON_OK)
        rc = cli_fail_msg(ctx, "--activate", patron_merge_plan_errmsg(plan));
    return rc;
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
    rc = plan_apply_choices(ctx, p, *plan);
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

int plan_print_table(cli *ctx, patron_merge_plan *plan, plan_reason_fn reasons, void *payload)
{
    size_t n = patron_merge_plan_count(plan), k, i;
    size_t *w = calloc(n + 2, sizeof *w), wf = 5;
    char key[32], buf[CELL_MAX * 4 + 16], head[64];
    char *text = NULL;
    json *j = NULL;
    const json *lists;
    const char *problems;
    int f, conflicts = 0;
    size_t na, np;

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
        if (reasons) {
            const char *why = reasons(payload, f);
            if (why && why[0])
                printf("  %s", why);
        }
        putchar('\n');
    }
    if (conflicts)
        printf("\n! the records disagree on %d field%s; [N] is the record the result comes from\n", conflicts,
               conflicts == 1 ? "" : "s");

    /* The united addresses, as the plan has them: which records hold a
     * form of each, kept or dropped, the default. */
    na = patron_merge_plan_address_count(plan);
    if (na) {
        printf("\naddresses (united; equal ones after normalisation are one; --drop address=N,\n"
               "--take address=N,M... keeps only those, the first the default):\n");
        for (i = 0; i < na; i++) {
            static const int parts[] = { PATRON_A_LABEL, PATRON_A_COMPANY, PATRON_A_FIRST_NAME, PATRON_A_LAST_NAME,
                                         PATRON_A_STREET, PATRON_A_HOUSE_NUMBER, PATRON_A_ADDITION,
                                         PATRON_A_POSTAL_CODE, PATRON_A_CITY, PATRON_A_COUNTRY };
            size_t q;
            int any = 0, first = 1;
            const char *def = patron_merge_plan_address_get(plan, i, PATRON_A_DEFAULT);
            printf("  %zu. ", i + 1);
            for (q = 0; q < sizeof parts / sizeof parts[0]; q++) {
                const char *v = patron_merge_plan_address_get(plan, i, parts[q]);
                if (!v || !v[0])
                    continue;
                if (any)
                    fputs(parts[q] == PATRON_A_HOUSE_NUMBER || parts[q] == PATRON_A_CITY ? " " : ", ", stdout);
                fputs(v, stdout);
                any = 1;
            }
            printf("  [");
            for (k = 0; k < n; k++)
                if (patron_merge_plan_address_from(plan, i, k)) {
                    printf("%s%zu", first ? "" : ",", k + 1);
                    first = 0;
                }
            printf("]");
            if (!patron_merge_plan_address_kept(plan, i))
                printf(" (dropped)");
            else if (def && !strcmp(def, "1"))
                printf(" (default)");
            putchar('\n');
        }
    }

    /* Tags and whether the survivor is locked: from the JSON form. */
    if (patron_merge_plan_to_json(plan, &text, 0) == PATRON_OK && (j = json_parse(text)) != NULL &&
        (lists = json_get(j, "lists")) != NULL) {
        const json *tags = json_get(lists, "tags");
        if (tags && tags->type == JSON_ARRAY && tags->n) {
            printf("tags (united):");
            for (i = 0; i < tags->n; i++)
                printf("%s %s", i ? "," : "", tags->items[i]->str ? tags->items[i]->str : "");
            putchar('\n');
        }
        if (json_get_true(j, "locked"))
            printf("the survivor will be locked (a record is locked; --unlock to decide otherwise)\n");
    }
    json_free(j);
    patron_free(text);

    /* Custom properties: every key kept; a conflict shown with its values. */
    np = patron_merge_plan_prop_count(plan);
    if (np) {
        int pc = 0;
        printf("\nproperties (united; '!' the records disagree: --take prop.KEY=N):\n");
        for (i = 0; i < np; i++) {
            const char *pk = NULL, *pv = NULL;
            int choice = 0, conflict = 0;
            if (patron_merge_plan_prop_at(plan, &pk, &pv, &choice, &conflict, i) != PATRON_OK)
                continue;
            pc += conflict;
            printf("%s %s", conflict ? "!" : " ", pk);
            if (conflict)
                for (k = 0; k < n; k++) {
                    const char *rv = patron_customer_prop_get(patron_merge_plan_record(plan, k), pk);
                    cell(buf, sizeof buf, rv);
                    if (rv)
                        printf("  [%zu] %s", k + 1, buf);
                }
            cell(buf, sizeof buf, pv);
            printf("  -> %s  [%d]\n", buf, choice + 1);
        }
        (void)pc;
    }

    problems = patron_merge_plan_problems(plan);
    if (problems[0]) {
        const char *p = problems;
        int blocked = patron_merge_plan_blocked(plan);
        printf(blocked ? "\nproblems (the merge is refused until they are resolved):\n" : "\nto know:\n");
        while (*p) {
            const char *e = strchr(p, '\n');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            printf("  - %.*s\n", (int)len, p);
            p += len + (e ? 1 : 0);
        }
        if (blocked && patron_merge_plan_conflict(plan, PATRON_F_LOGIN_USER))
            printf("  choose the login with --take login_user=N\n");
    } else {
        printf("\nno problems\n");
    }
    free(w);
    return CLI_OK;
}

static int cmd_merge_plan(cli *ctx, int argc, char **argv)
{
    plan_args p;
    patron_merge_plan *plan = NULL;
    int rc;

    if ((rc = parse_plan_args(ctx, argc, argv, &p)) >= 0)
        return rc;
    if ((rc = cli_open_db(ctx, 0)) == CLI_OK && (rc = build_plan(ctx, &p, &plan)) == CLI_OK) {
        if (p.json) {
            char *text = NULL;
            if (patron_merge_plan_to_json(plan, &text, PATRON_JSON_PRETTY) != PATRON_OK)
                rc = cli_fail(ctx, "merge plan: out of memory");
            else
                printf("%s\n", text);
            patron_free(text);
        } else {
            rc = plan_print_table(ctx, plan, NULL, NULL);
        }
    }
    patron_merge_plan_free(plan);
    return rc;
}

const cli_command cli_cmd_merge_plan = {
    "merge-plan", cmd_merge_plan, "preview a merge of duplicates, side by side",
    "merge-plan SURVIVOR DUP... [--take FIELD=N]... [--drop address=N]... [--set FIELD=VALUE]... [--json]",
    "Show what 'patron merge' with the same arguments would do, changing\n"
    "nothing: a table with a row per field that has a value anywhere - the\n"
    "field, each record's value ([1] is the survivor, [2]... the duplicates in\n"
    "the order given), the result and the record it comes from; '!' marks\n"
    "fields whose values conflict after normalisation.  Then the addresses\n"
    "of the survivor after the merge, united (equal after normalisation:\n"
    "'Lindenstr 144 b' and 'Lindenstraße 144b' are one), numbered for --drop\n"
    "address=N and --take address=N,M..., with the records that hold each;\n"
    "the tags; the custom properties, every key kept, '!' where the records\n"
    "disagree (choose with --take prop.KEY=N); and the problems that\n"
    "would refuse the merge (two different logins: choose one with --take\n"
    "login_user=N) or that the merge is allowed despite (the matcher calls\n"
    "two of the records distinct).\n" CLI_KEY_HELP,
    merge_plan_opts, NULL, 0, CLI_MANY, NULL,
};

/* ---- merge -------------------------------------------------------------------- */

int plan_check(cli *ctx, patron_merge_plan *plan)
{
    const char *problems = patron_merge_plan_problems(plan);
    int rc;

    if (!patron_merge_plan_blocked(plan)) {
        /* notes: said, not a reason to stop */
        const char *p = problems;
        while (*p) {
            const char *e = strchr(p, '\n');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            fprintf(stderr, "patron: %.*s\n", (int)len, p);
            p += len + (e ? 1 : 0);
        }
        return CLI_OK;
    }
    {
        char *msg = malloc(strlen(problems) + 100);
        if (msg) {
            sprintf(msg, "%s%s", problems,
                    patron_merge_plan_conflict(plan, PATRON_F_LOGIN_USER) ? "\n(choose the login with --take login_user=N)"
                                                                          : "");
            rc = cli_fail_msg(ctx, "merge refused", msg);
            free(msg);
        } else {
            rc = cli_fail_msg(ctx, "merge refused", problems);
        }
    }
    return rc;
}

static int cmd_merge(cli *ctx, int argc, char **argv)
{
    plan_args p;
    patron_merge_plan *plan = NULL;
    int64_t jid = 0;
    patron_status st;
    int rc;
    size_t k;
    char key[32];

    if ((rc = parse_plan_args(ctx, argc, argv, &p)) >= 0)
        return rc;
    if ((rc = cli_open_db(ctx, 0)) == CLI_OK && (rc = build_plan(ctx, &p, &plan)) == CLI_OK) {
        if ((rc = plan_check(ctx, plan)) != CLI_OK)
            goto done;
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
    return rc;
}

const cli_command cli_cmd_merge = {
    "merge", cmd_merge, "merge duplicates into a survivor",
    "merge SURVIVOR DUP... [--take FIELD=N]... [--drop address=N]... [--set FIELD=VALUE]... [--lock|--unlock] [--activate]",
    "Merge the duplicates into the survivor, in one transaction: the survivor\n"
    "gets the planned values (see 'patron merge-plan'), the duplicates' orders\n"
    "move to it, and each duplicate is marked merged - its number then leads to\n"
    "the survivor.  Prints the journal id, to undo it with 'patron undo'.\n"
    "By default the survivor's non-empty values win and its empty fields are\n"
    "filled from the duplicates; addresses, tags and properties are united; an\n"
    "online customer's login is kept.\n" CLI_KEY_HELP,
    merge_opts, NULL, 0, CLI_MANY, NULL,
};

/* ---- journal, undo -------------------------------------------------------------- */

typedef struct journal_args {
    int json;
    int64_t after, limit;
} journal_args;

static const cli_opt journal_opts[] = {
    { .name = "--json", .kind = CLI_OPT_FLAG, .target = offsetof(journal_args, json), .value = 1,
      .help = "a JSON array of {id, time, kind, customer_id,\n"
              "undone_by, summary}" },
    { .name = "--after", .kind = CLI_OPT_NUMBER, .target = offsetof(journal_args, after), .arg = "ID", .needs = "a number",
      .help = "only entries after ID" },
    { .name = "--limit", .kind = CLI_OPT_NUMBER, .target = offsetof(journal_args, limit), .arg = "N", .needs = "a number",
      .help = "at most N entries" },
    CLI_OPT_TABLE_END,
};

static int cmd_journal(cli *ctx, int argc, char **argv)
{
    journal_args args = { 0, 0, 0 };
    int rc, as_json;
    int64_t after, limit;
    char *text = NULL;
    patron_status st;
    json *j;
    size_t i;

    if ((rc = cli_parse(ctx, argc, argv, &args, NULL, NULL)) >= 0)
        return rc;
    as_json = args.json;
    after = args.after;
    limit = args.limit;
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
        return rc;
    st = patron_db_journal_to_json(ctx->db, &text, after, limit > 0 ? (size_t)limit : (size_t)-1);
    if (st != PATRON_OK)
        return cli_fail_db(ctx, st, "journal");
    if ((rc = cli_json_array(ctx, text, as_json, "journal", &j)) >= 0)
        return rc;
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

typedef struct undo_args {
    int force;
} undo_args;

static const cli_opt undo_opts[] = {
    { .name = "--force", .kind = CLI_OPT_FLAG, .target = offsetof(undo_args, force), .value = 1,
      .help = "undo although the survivor was edited after the\n"
              "merge: its fields go back to before the merge\n"
              "(later edits are lost)" },
    CLI_OPT_TABLE_END,
};

static int cmd_undo(cli *ctx, int argc, char **argv)
{
    undo_args args = { 0 };
    const char **ops;
    int rc;
    char *end;
    long long v;
    int64_t jid, undo_id = 0;
    patron_status st;

    if ((rc = cli_parse(ctx, argc, argv, &args, &ops, NULL)) >= 0)
        return rc;
    errno = 0;
    v = strtoll(ops[0], &end, 10);
    if (errno || end == ops[0] || *end || v <= 0)
        return cli_usage(ctx, "'%s' is no journal id (see 'patron journal')", ops[0]);
    jid = (int64_t)v;
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
        return rc;
    st = patron_db_undo(ctx->db, &undo_id, jid, args.force ? PATRON_UNDO_FORCE : 0);
    if (st != PATRON_OK)
        return cli_fail_db(ctx, st, "undo");
    printf("undid merge %" PRId64 ": journal %" PRId64 "\n", jid, undo_id);
    return CLI_OK;
}

const cli_command cli_cmd_journal = {
    "journal", cmd_journal, "list the journal of merges, undos and locks",
    "journal [--json] [--after ID] [--limit N]",
    "List journal entries, oldest first: id, time, kind (merge, undo, lock,\n"
    "unlock, release, erase), customer, the entry that undid it, and a summary.\n",
    journal_opts, NULL, 0, 0, NULL,
};

const cli_command cli_cmd_undo = {
    "undo", cmd_undo, "undo a merge",
    "undo JOURNAL_ID [--force]",
    "Undo a merge from the journal, in one transaction: every record, its\n"
    "number and its orders are restored exactly as before.  Refused with the\n"
    "reason if it was undone already, if the survivor was merged again since,\n"
    "or if a record was edited after the merge.  Prints the journal id of the\n"
    "undo.\n",
    undo_opts, "JOURNAL_ID", 1, 1, NULL,
};
