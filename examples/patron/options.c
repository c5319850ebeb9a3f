/*
 * patron — the one argument parser of the command-line tool.
 *
 * SPDX-License-Identifier: MIT
 *
 * Every command describes its options in a table of cli_opt (name, kind,
 * target, help); cli_parse() reads argv by that table, reports every usage
 * error in the same words, and prints the options in --help from the same
 * table, so that what a command accepts and what its help says cannot
 * drift apart.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- help ------------------------------------------------------------------ */

#define OPT_COL 19 /* the width of the option column in --help */

/* "csv|json" or "csv or json": the listed choices, joined. */
static void choices_text(const cli_opt *o, char *buf, size_t cap, const char *sep, const char *last_sep)
{
    size_t i, n = 0, len = 0, k = 0;

    buf[0] = '\0';
    for (i = 0; o->choices[i].name; i++)
        n += i == 0 || o->choices[i].value != o->choices[i - 1].value;
    for (i = 0; o->choices[i].name; i++) {
        int w;
        if (i > 0 && o->choices[i].value == o->choices[i - 1].value)
            continue; /* an alias */
        w = snprintf(buf + len, cap - len, "%s%s", k == 0 ? "" : k + 1 == n ? last_sep : sep, o->choices[i].name);
        if (w < 0 || (size_t)w >= cap - len)
            return;
        len += (size_t)w;
        k++;
    }
}

static void option_label(const cli_opt *o, char *buf, size_t cap)
{
    char ch[128];

    if (o->kind == CLI_OPT_CHOICE && !o->arg) {
        choices_text(o, ch, sizeof ch, "|", "|");
        snprintf(buf, cap, "%s %s", o->name, ch);
    } else if (o->arg) {
        snprintf(buf, cap, "%s %s", o->name, o->arg);
    } else {
        snprintf(buf, cap, "%s", o->name);
    }
}

void cli_print_options(const cli_opt *opts)
{
    char label[160];
    const char *h;

    for (; opts && opts->kind != CLI_OPT_END; opts++) {
        if (!opts->help)
            continue;
        option_label(opts, label, sizeof label);
        if (strlen(label) < OPT_COL)
            printf("  %-*s", OPT_COL, label);
        else
            printf("  %s\n%*s", label, OPT_COL + 2, "");
        for (h = opts->help; *h; h++) {
            putchar(*h);
            if (*h == '\n' && h[1])
                printf("%*s", OPT_COL + 2, "");
        }
        putchar('\n');
    }
}

int cli_print_help(const cli_command *cmd)
{
    const cli_opt *o;
    int listed = 0;

    printf("Usage: patron [--db PATH] %s\n\n%s", cmd->usage, cmd->help);
    for (o = cmd->opts; o && o->kind != CLI_OPT_END; o++)
        listed |= o->help != NULL;
    if (listed) {
        printf("\nOptions:\n");
        cli_print_options(cmd->opts);
    }
    if (cmd->epilog)
        printf("\n%s", cmd->epilog);
    return CLI_OK;
}

/* ---- parsing ----------------------------------------------------------------- */

static const cli_opt *find_opt(const cli_opt *opts, const char *name)
{
    for (; opts && opts->kind != CLI_OPT_END; opts++) {
        if (!strcmp(opts->name, name))
            return opts;
    }
    return NULL;
}

/* Remember an allocation of the run, freed by main(). */
static void *owned_alloc(cli *ctx, size_t n, size_t size)
{
    void *p;

    if (ctx->n_owned == sizeof ctx->owned / sizeof ctx->owned[0])
        return NULL;
    p = calloc(n ? n : 1, size);
    if (p)
        ctx->owned[ctx->n_owned++] = p;
    return p;
}

/* "option '--x' needs ..." for a missing or a bad value. */
static int needs_value(cli *ctx, const cli_opt *o, const char *bad)
{
    char what[160];

    if (o->needs)
        snprintf(what, sizeof what, "%s", o->needs);
    else if (o->kind == CLI_OPT_CHOICE)
        choices_text(o, what, sizeof what, ", ", " or ");
    else
        snprintf(what, sizeof what, "%s", o->arg ? o->arg : "a value");
    if (bad && o->kind == CLI_OPT_CHOICE)
        return cli_usage(ctx, "option '%s' needs %s, not '%s'", o->name, what, bad);
    return cli_usage(ctx, "option '%s' needs %s", o->name, what);
}

/* Apply option `o` with its value `v` (NULL: none given) to `args`.
 * Returns -1, or CLI_USAGE after a message. */
static int apply(cli *ctx, const cli_opt *o, const char *v, void *args, int argc, const cli_opt **seen_group)
{
    char *at = (char *)args + o->target;
    size_t i;

    if (o->group) {
        const cli_opt *prev = seen_group[o->group];
        if (prev && prev != o) {
            return cli_usage(ctx, "give only one of %s, %s", prev->name, o->name);
        }
        seen_group[o->group] = o;
    }
    switch (o->kind) {
    case CLI_OPT_FLAG:
        *(int *)at = o->value;
        return -1;
    case CLI_OPT_TEXT:
        if (!v || !v[0])
            return needs_value(ctx, o, NULL);
        *(const char **)at = v;
        return -1;
    case CLI_OPT_CHOICE:
        if (!v)
            return needs_value(ctx, o, NULL);
        for (i = 0; o->choices[i].name; i++) {
            if (!strcmp(o->choices[i].name, v)) {
                *(int *)at = o->choices[i].value;
                return -1;
            }
        }
        return needs_value(ctx, o, v);
    case CLI_OPT_NUMBER: {
        char *end;
        long long n;
        if (!v)
            return needs_value(ctx, o, NULL);
        errno = 0;
        n = strtoll(v, &end, 10);
        if (errno || end == v || *end || n < 0)
            return needs_value(ctx, o, NULL);
        *(int64_t *)at = (int64_t)n;
        return -1;
    }
    case CLI_OPT_ASSIGNS: {
        cli_list *l = (cli_list *)(void *)at;
        const char *eq = v ? strchr(v, '=') : NULL;
        if (!eq || eq == v)
            return needs_value(ctx, o, NULL);
        if (!l->v && !(l->v = owned_alloc(ctx, (size_t)argc, sizeof *l->v)))
            return cli_fail(ctx, "out of memory");
        l->v[l->n++] = v;
        return -1;
    }
    default:
        return cli_fail(ctx, "option '%s': bad table entry", o->name);
    }
}

/* The common options: -1 handled, CLI_HELP, CLI_USAGE, or 0 not common. */
static int common_option(cli *ctx, const char *name, const char *inline_value, int *i, int argc, char **argv)
{
    if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
        if (inline_value)
            return cli_usage(ctx, "option '%s' takes no value", name);
        return CLI_HELP;
    }
    if (!strcmp(name, "--db")) {
        const char *v = inline_value ? inline_value : *i < argc ? argv[(*i)++] : NULL;
        if (!v || !v[0])
            return cli_usage(ctx, "option '--db' needs a path or a postgresql:// URI");
        ctx->db_path = v;
        return -1;
    }
    return 0;
}

/*
 * The walk shared by both parsers: from argv[*i] on, options into `args`
 * by `opts`; an operand goes to `on_operand` (which returns -1 to go on,
 * 0 to stop before it, or an exit code).
 */
typedef int (*operand_fn)(cli *ctx, const char *operand, void *payload);

static int walk(cli *ctx, const cli_opt *opts, int argc, char **argv, int *i, void *args, operand_fn on_operand,
                void *payload)
{
    const cli_opt *seen_group[8] = { NULL };
    int no_more_opts = 0;

    while (*i < argc) {
        const char *arg = argv[*i];
        const char *eq, *inline_value;
        const cli_opt *o;
        char name[64];
        size_t n;
        int rc;

        if (!no_more_opts && !strcmp(arg, "--")) {
            no_more_opts = 1;
            (*i)++;
            continue;
        }
        if (no_more_opts || arg[0] != '-' || arg[1] == '\0') {
            rc = on_operand(ctx, arg, payload);
            if (rc == 0)
                return -1;
            (*i)++;
            if (rc >= 0)
                return rc;
            continue;
        }
        (*i)++;
        eq = arg[1] == '-' ? strchr(arg, '=') : NULL;
        n = eq ? (size_t)(eq - arg) : strlen(arg);
        if (n >= sizeof name)
            n = sizeof name - 1;
        memcpy(name, arg, n);
        name[n] = '\0';
        inline_value = eq ? eq + 1 : NULL;

        o = find_opt(opts, name);
        if (!o) {
            rc = common_option(ctx, name, inline_value, i, argc, argv);
            if (rc == 0)
                return cli_usage(ctx, "unknown option '%s'", name);
            if (rc >= 0)
                return rc;
            continue;
        }
        if (o->kind == CLI_OPT_FLAG) {
            if (inline_value)
                return cli_usage(ctx, "option '%s' takes no value", name);
            rc = apply(ctx, o, NULL, args, argc, seen_group);
        } else {
            const char *v = inline_value ? inline_value : *i < argc ? argv[(*i)++] : NULL;
            rc = apply(ctx, o, v, args, argc, seen_group);
        }
        if (rc >= 0)
            return rc;
    }
    return -1;
}

typedef struct operands {
    const cli_command *cmd;
    const char **v;
    size_t n;
} operands;

static int add_operand(cli *ctx, const char *operand, void *payload)
{
    operands *o = payload;
    const cli_command *cmd = o->cmd;

    if (o->n >= cmd->max_ops) {
        if (cmd->max_ops == 0 || !cmd->operand)
            return cli_usage(ctx, "unexpected argument '%s'", operand);
        if (cmd->max_ops == 1)
            return cli_usage(ctx, "give one %s", cmd->operand);
        return cli_usage(ctx, "give at most %u %ss", cmd->max_ops, cmd->operand);
    }
    o->v[o->n++] = operand;
    return -1;
}

int cli_parse(cli *ctx, int argc, char **argv, void *args, const char ***ops, size_t *n_ops)
{
    const cli_command *cmd = ctx->cmd;
    operands o;
    int i = 1, rc;

    o.cmd = cmd;
    o.n = 0;
    o.v = owned_alloc(ctx, (size_t)argc, sizeof *o.v);
    if (!o.v)
        return cli_fail(ctx, "out of memory");
    rc = walk(ctx, cmd->opts, argc, argv, &i, args, add_operand, &o);
    if (rc == CLI_HELP)
        return cli_print_help(cmd);
    if (rc >= 0)
        return rc;
    if (o.n < cmd->min_ops)
        return cli_usage(ctx, "no %s given", cmd->operand ? cmd->operand : "argument");
    if (ops)
        *ops = o.v;
    if (n_ops)
        *n_ops = o.n;
    return -1;
}

static int stop_at_operand(cli *ctx, const char *operand, void *payload)
{
    (void)ctx;
    (void)operand;
    (void)payload;
    return 0;
}

int cli_parse_global(cli *ctx, const cli_opt *opts, int argc, char **argv, void *args, int *next)
{
    int i = 1, rc = walk(ctx, opts, argc, argv, &i, args, stop_at_operand, NULL);

    *next = i;
    return rc;
}

/* ---- what several commands parse alike ------------------------------------------ */

patron_filter cli_filter(int which)
{
    patron_filter f = PATRON_FILTER_INIT;

    if (which == 1)
        f.state = PATRON_STATE_PENDING;
    else if (which == 2)
        f.state = PATRON_STATE_ACTIVE;
    else if (which == 3)
        f.locked = 1;
    return f;
}

int cli_one_customer(cli *ctx, int argc, char **argv, void *args, patron_customer **c)
{
    const char **ops = NULL; /* (set when cli_parse returns -1) */
    int rc;

    *c = NULL;
    if ((rc = cli_parse(ctx, argc, argv, args, &ops, NULL)) >= 0)
        return rc;
    rc = cli_open_db(ctx, 0);
    if (rc == CLI_OK)
        rc = cli_find_customer(ctx, ops[0], c);
    return rc == CLI_OK ? -1 : rc;
}
