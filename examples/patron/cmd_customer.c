/*
 * patron — the commands on single customers and lists: show, list,
 * create, register, update, delete.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"
#include "columns.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- shared with export -------------------------------------------------- */

int cli_filter_option(cli *ctx, cli_args *a, patron_filter *f, int *given)
{
    int state = 0, locked = PATRON_FILTER_ANY;

    if (cli_args_is(a, "--pending"))
        state = PATRON_STATE_PENDING;
    else if (cli_args_is(a, "--active"))
        state = PATRON_STATE_ACTIVE;
    else if (cli_args_is(a, "--locked"))
        locked = 1;
    else
        return 0;
    if (a->inline_value)
        return cli_args_flag_ok(ctx, a);
    if (*given)
        return cli_usage(ctx, "give only one of --pending, --active, --locked");
    *given = 1;
    f->state = state;
    f->locked = locked;
    return -1;
}

int cli_collect_ids(cli *ctx, const patron_filter *f, int64_t **ids_out, size_t *n_out)
{
    enum { PAGE = 4096 };
    int64_t *ids = NULL, after = 0;
    size_t n = 0, cap = 0, got;
    patron_status st;

    *ids_out = NULL;
    *n_out = 0;
    for (;;) {
        if (cap - n < PAGE) {
            int64_t *p = realloc(ids, (cap + PAGE) * 2 * sizeof *ids);
            if (!p) {
                free(ids);
                return cli_fail(ctx, "out of memory");
            }
            ids = p;
            cap = (cap + PAGE) * 2;
        }
        st = patron_db_list(ctx->db, ids + n, &got, PAGE, f, after);
        if (st != PATRON_OK) {
            free(ids);
            return cli_fail_db(ctx, st, "list");
        }
        n += got;
        if (got < PAGE)
            break;
        after = ids[n - 1];
    }
    *ids_out = ids;
    *n_out = n;
    return CLI_OK;
}

/* ---- show ---------------------------------------------------------------- */

static void print_line(const char *indent, const char *label, const char *value)
{
    size_t width = 18 - strlen(indent);

    printf("%s%-*s ", indent, (int)width, label);
    for (; *value; value++) {
        putchar(*value);
        if (*value == '\n' && value[1])
            printf("%*s", 19, "");
    }
    putchar('\n');
}

static int is_timestamp(int f)
{
    return f == PATRON_F_CREATED_AT || f == PATRON_F_UPDATED_AT || f == PATRON_F_LOCKED_AT;
}

static void print_customer(const patron_customer *c)
{
    size_t i, n, a, na;
    int f;

    for (f = 1; f < PATRON_F__END; f++) {
        const char *name = patron_field_name(f);
        const char *v = patron_customer_get(c, f);

        if (!name || !v)
            continue;
        if (f == PATRON_F_LOGIN_HASH) {
            print_line("", "has_password", "yes"); /* the hash itself is never shown */
        } else if (is_timestamp(f)) {
            char buf[64];
            struct tm tm;
            time_t t = (time_t)strtoll(v, NULL, 10);
            if (gmtime_r(&t, &tm) && strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm))
                print_line("", name, buf);
            else
                print_line("", name, v);
        } else {
            print_line("", name, v);
        }
    }

    na = patron_customer_address_count(c);
    for (a = 0; a < na; a++) {
        const char *def = patron_customer_address_get(c, a, PATRON_A_DEFAULT);
        printf("address %zu%s\n", a + 1, def && !strcmp(def, "1") ? " (default)" : "");
        for (f = 1; f < PATRON_A__END; f++) {
            const char *name = patron_address_field_name(f);
            const char *v = patron_customer_address_get(c, a, f);
            if (name && v && f != PATRON_A_DEFAULT)
                print_line("  ", name, v);
        }
    }

    n = patron_customer_tag_count(c);
    if (n) {
        printf("%-18s ", "tags");
        for (i = 0; i < n; i++)
            printf("%s%s", i ? " | " : "", patron_customer_tag_get(c, i));
        putchar('\n');
    }

    n = patron_customer_prop_count(c);
    if (n)
        printf("properties\n");
    for (i = 0; i < n; i++) {
        const char *k, *v;
        if (patron_customer_prop_at(c, &k, &v, i) == PATRON_OK)
            print_line("  ", k, v);
    }
}

static int print_json(cli *ctx, const patron_customer *c, unsigned flags)
{
    char *json = NULL;
    patron_status st = patron_customer_to_json(c, &json, flags);

    if (st != PATRON_OK)
        return cli_fail(ctx, "JSON: %s", patron_customer_errmsg(c));
    fputs(json, stdout);
    patron_free(json);
    return CLI_OK;
}

int cmd_show(cli *ctx, int argc, char **argv)
{
    cli_args a;
    const char *key = NULL;
    int json = 0, rc, k;
    patron_customer *c;

    cli_args_init(&a, argc, argv);
    while ((k = cli_args_next(&a)) != CLI_ARG_END) {
        if (k == CLI_ARG_POS) {
            if (key)
                return cli_usage(ctx, "give one KEY");
            key = a.operand;
        } else if (cli_args_is(&a, "--json")) {
            if ((rc = cli_args_flag_ok(ctx, &a)) >= 0)
                return rc;
            json = 1;
        } else if ((rc = cli_args_common(ctx, &a)) >= 0) {
            return rc;
        }
    }
    if (!key)
        return cli_usage(ctx, "no KEY given");
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
        return rc;
    if ((rc = cli_find_customer(ctx, key, &c)) != CLI_OK)
        return rc;
    if (json) {
        rc = print_json(ctx, c, PATRON_JSON_PRETTY);
        if (rc == CLI_OK)
            putchar('\n');
    } else {
        print_customer(c);
    }
    patron_customer_free(c);
    return rc;
}

/* ---- list ---------------------------------------------------------------- */

static const char *state_name(const patron_customer *c)
{
    switch (patron_customer_state(c)) {
    case PATRON_STATE_PENDING:
        return "pending";
    case PATRON_STATE_ACTIVE:
        return "active";
    case PATRON_STATE_MERGED:
        return "merged";
    default:
        return "new";
    }
}

static void print_list_line(const patron_customer *c)
{
    char buf[32];
    const char *first = patron_customer_get(c, PATRON_F_FIRST_NAME);
    const char *last = patron_customer_get(c, PATRON_F_LAST_NAME);
    const char *company = patron_customer_get(c, PATRON_F_COMPANY);
    const char *email = patron_customer_get(c, PATRON_F_EMAIL);
    size_t a = layout_address(c);
    const char *pc = a != (size_t)-1 ? patron_customer_address_get(c, a, PATRON_A_POSTAL_CODE) : NULL;
    const char *city = a != (size_t)-1 ? patron_customer_address_get(c, a, PATRON_A_CITY) : NULL;

    printf("%s\t%s%s\t", cli_customer_key(c, buf, sizeof buf), state_name(c),
           patron_customer_locked(c) ? ",locked" : "");
    if (first || last) {
        printf("%s%s%s", first ? first : "", first && last ? " " : "", last ? last : "");
        if (company)
            printf(" (%s)", company);
    } else if (company) {
        fputs(company, stdout);
    }
    printf("\t%s\t%s%s%s\n", email ? email : "", pc ? pc : "", pc && city ? " " : "", city ? city : "");
}

int cmd_list(cli *ctx, int argc, char **argv)
{
    cli_args a;
    patron_filter filter = PATRON_FILTER_INIT;
    int json = 0, given = 0, rc, k;
    int64_t *ids;
    size_t n, i, shown = 0;

    cli_args_init(&a, argc, argv);
    while ((k = cli_args_next(&a)) != CLI_ARG_END) {
        if (k == CLI_ARG_POS)
            return cli_usage(ctx, "unexpected argument '%s'", a.operand);
        if (cli_args_is(&a, "--json")) {
            if ((rc = cli_args_flag_ok(ctx, &a)) >= 0)
                return rc;
            json = 1;
        } else if ((rc = cli_filter_option(ctx, &a, &filter, &given)) > 0) {
            return rc;
        } else if (rc == 0 && (rc = cli_args_common(ctx, &a)) >= 0) {
            return rc;
        }
    }
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
        return rc;
    if ((rc = cli_collect_ids(ctx, &filter, &ids, &n)) != CLI_OK)
        return rc;
    if (json)
        fputs("[", stdout);
    for (i = 0; i < n && rc == CLI_OK; i++) {
        patron_customer *c;
        patron_status st = patron_db_load(ctx->db, &c, ids[i]);
        if (st == PATRON_E_NOT_FOUND)
            continue; /* deleted meanwhile */
        if (st != PATRON_OK) {
            rc = cli_fail_db(ctx, st, "load");
            break;
        }
        if (patron_customer_state(c) != PATRON_STATE_MERGED) {
            if (json) {
                fputs(shown ? ",\n" : "\n", stdout);
                rc = print_json(ctx, c, 0);
            } else {
                print_list_line(c);
            }
            shown++;
        }
        patron_customer_free(c);
    }
    if (json && rc == CLI_OK)
        fputs(shown ? "\n]\n" : "]\n", stdout);
    free(ids);
    return rc;
}

/* ---- create, update ------------------------------------------------------ */

/* FIELD=VALUE operands into a layout and its values. */
typedef struct assignments {
    layout l;
    char **names;
    const char **values;
    size_t n;
} assignments;

static void assignments_free(assignments *as)
{
    size_t i;

    layout_free(&as->l);
    for (i = 0; i < as->n; i++)
        free(as->names[i]);
    free(as->names);
    free(as->values);
    memset(as, 0, sizeof *as);
}

static int assignments_parse(cli *ctx, assignments *as, char **ops, size_t n)
{
    size_t i;
    char err[256];

    memset(as, 0, sizeof *as);
    as->names = calloc(n ? n : 1, sizeof *as->names);
    as->values = calloc(n ? n : 1, sizeof *as->values);
    if (!as->names || !as->values) {
        assignments_free(as);
        return cli_fail(ctx, "out of memory");
    }
    for (i = 0; i < n; i++) {
        const char *eq = strchr(ops[i], '=');
        size_t len;
        if (!eq || eq == ops[i]) {
            assignments_free(as);
            return cli_usage(ctx, "'%s' is not FIELD=VALUE", ops[i]);
        }
        len = (size_t)(eq - ops[i]);
        as->names[i] = malloc(len + 1);
        if (!as->names[i]) {
            assignments_free(as);
            return cli_fail(ctx, "out of memory");
        }
        memcpy(as->names[i], ops[i], len);
        as->names[i][len] = '\0';
        as->values[i] = eq + 1;
        as->n = i + 1;
    }
    if (layout_init(&as->l, (const char *const *)as->names, n, err, sizeof err) < 0) {
        assignments_free(as);
        return cli_fail(ctx, "%s", err);
    }
    return CLI_OK;
}

int cli_operands(cli *ctx, int argc, char **argv, char ***ops, size_t *n)
{
    cli_args a;
    int k, rc;

    *ops = calloc((size_t)argc, sizeof **ops);
    *n = 0;
    if (!*ops)
        return cli_fail(ctx, "out of memory");
    cli_args_init(&a, argc, argv);
    while ((k = cli_args_next(&a)) != CLI_ARG_END) {
        if (k == CLI_ARG_POS) {
            (*ops)[(*n)++] = (char *)a.operand;
        } else if ((rc = cli_args_common(ctx, &a)) >= 0) {
            free(*ops);
            *ops = NULL;
            return rc;
        }
    }
    return -1;
}

static int create_or_register(cli *ctx, int argc, char **argv, int pending)
{
    int64_t existing = 0;
    char **ops;
    size_t n;
    int rc;
    assignments as;
    patron_customer *c = NULL;
    patron_status st;
    char err[512];

    if ((rc = cli_operands(ctx, argc, argv, &ops, &n)) >= 0)
        return rc;
    if (n == 0) {
        free(ops);
        return cli_usage(ctx, "no FIELD=VALUE given");
    }
    rc = assignments_parse(ctx, &as, ops, n);
    free(ops);
    if (rc != CLI_OK)
        return rc;
    if ((rc = cli_open_db(ctx, 1)) != CLI_OK)
        goto out;
    if (patron_customer_new(&c) != PATRON_OK) {
        rc = cli_fail(ctx, "out of memory");
        goto out;
    }
    st = layout_apply(&as.l, c, as.values, 0, err, sizeof err);
    if (st != PATRON_OK) {
        rc = cli_fail(ctx, "%s", err);
        goto out;
    }
    st = pending ? patron_db_register(ctx->db, &existing, c) : patron_db_create(ctx->db, c);
    if (st != PATRON_OK) {
        rc = cli_fail_db(ctx, st, pending ? "register" : "create");
        goto out;
    }
    if (pending && existing)
        printf("registered #%" PRId64 " (pending); the email belongs to active customer #%" PRId64
               ": activation will offer the merge\n",
               patron_customer_id(c), existing);
    else if (pending)
        printf("registered #%" PRId64 " (pending)\n", patron_customer_id(c));
    else
        printf("%s\n", patron_customer_get(c, PATRON_F_NUMBER));
out:
    patron_customer_free(c);
    assignments_free(&as);
    return rc;
}

int cmd_create(cli *ctx, int argc, char **argv)
{
    return create_or_register(ctx, argc, argv, 0);
}

int cmd_register(cli *ctx, int argc, char **argv)
{
    return create_or_register(ctx, argc, argv, 1);
}

int cmd_update(cli *ctx, int argc, char **argv)
{
    char **ops;
    size_t n;
    int rc;
    assignments as;
    patron_customer *c = NULL;
    patron_status st;
    char err[512], buf[32];

    if ((rc = cli_operands(ctx, argc, argv, &ops, &n)) >= 0)
        return rc;
    if (n < 2) {
        free(ops);
        return cli_usage(ctx, n ? "no FIELD=VALUE given" : "no KEY given");
    }
    rc = assignments_parse(ctx, &as, ops + 1, n - 1);
    if (rc != CLI_OK) {
        free(ops);
        return rc;
    }
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK || (rc = cli_find_customer(ctx, ops[0], &c)) != CLI_OK)
        goto out;
    st = layout_apply(&as.l, c, as.values, 1, err, sizeof err);
    if (st != PATRON_OK) {
        rc = cli_fail(ctx, "%s", err);
        goto out;
    }
    st = patron_db_update(ctx->db, c);
    if (st != PATRON_OK) {
        rc = cli_fail_db(ctx, st, "update");
        goto out;
    }
    printf("updated %s\n", cli_customer_key(c, buf, sizeof buf));
out:
    free(ops);
    patron_customer_free(c);
    assignments_free(&as);
    return rc;
}

/* ---- delete -------------------------------------------------------------- */

int cmd_delete(cli *ctx, int argc, char **argv)
{
    char **ops;
    size_t n;
    int rc;
    patron_customer *c = NULL;
    patron_status st;
    char buf[32];

    if ((rc = cli_operands(ctx, argc, argv, &ops, &n)) >= 0)
        return rc;
    if (n != 1) {
        free(ops);
        return cli_usage(ctx, n ? "give one KEY" : "no KEY given");
    }
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK || (rc = cli_find_customer(ctx, ops[0], &c)) != CLI_OK)
        goto out;
    st = patron_db_delete(ctx->db, patron_customer_id(c), patron_customer_revision(c));
    if (st != PATRON_OK) {
        rc = cli_fail_db(ctx, st, "delete");
        goto out;
    }
    printf("deleted %s\n", cli_customer_key(c, buf, sizeof buf));
out:
    free(ops);
    patron_customer_free(c);
    return rc;
}
