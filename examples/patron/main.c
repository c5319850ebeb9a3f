/*
 * patron — the command-line tool: global options and the command table.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* The commands, in the order of `patron --help`. */
static const cli_command *const commands[] = {
    &cli_cmd_import,   &cli_cmd_export,   &cli_cmd_show,          &cli_cmd_list,     &cli_cmd_create,
    &cli_cmd_update,   &cli_cmd_delete,   &cli_cmd_register,      &cli_cmd_activate, &cli_cmd_release,
    &cli_cmd_lock,     &cli_cmd_unlock,   &cli_cmd_can_login,     &cli_cmd_groups,   &cli_cmd_merge_plan,
    &cli_cmd_merge,    &cli_cmd_journal,  &cli_cmd_undo,          &cli_cmd_import_orders,
    &cli_cmd_orders,   &cli_cmd_dedupe,   &cli_cmd_review,        &cli_cmd_match,    &cli_cmd_estimate,
    &cli_cmd_model,    &cli_cmd_reindex, &cli_cmd_export_person, &cli_cmd_erase,
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void print_usage(void)
{
    size_t i;

    printf("Usage: patron [--db PATH] COMMAND [ARGS...]\n"
           "       patron COMMAND --help\n"
           "\n"
           "Customer master data in a SQLite file or a PostgreSQL database.\n"
           "\n"
           "Commands:\n");
    for (i = 0; i < N_COMMANDS; i++)
        printf("  %-13s  %s\n", commands[i]->name, commands[i]->summary);
    printf("\n"
           "Options:\n"
           "  --db PATH   the database file, or a postgresql:// URI\n"
           "              (default: $PATRON_DB, else patron.db)\n"
           "  --help      this text\n"
           "  --version   the versions of the tool and the library\n"
           "\n"
           "Exit status: 0 success, 1 error (with a message on stderr), 2 wrong usage.\n"
           "See patron(1).\n");
}

static const cli_command *find_command(const char *name)
{
    size_t i;

    for (i = 0; i < N_COMMANDS; i++) {
        if (!strcmp(commands[i]->name, name))
            return commands[i];
    }
    return NULL;
}

/* The options before the command. */
typedef struct global_args {
    int version;
} global_args;

static const cli_opt global_opts[] = {
    { .name = "--version", .kind = CLI_OPT_FLAG, .target = offsetof(global_args, version), .value = 1,
      .help = "the versions of the tool and the library" },
    CLI_OPT_TABLE_END,
};

int main(int argc, char **argv)
{
    cli ctx;
    global_args g = { 0 };
    int i, rc;
    size_t k;
    const char *env = getenv("PATRON_DB");

    memset(&ctx, 0, sizeof ctx);
    ctx.db_path = env && env[0] ? env : "patron.db";

    rc = cli_parse_global(&ctx, global_opts, argc, argv, &g, &i);
    if (rc == CLI_HELP) {
        print_usage();
        return CLI_OK;
    }
    if (rc >= 0)
        return rc;
    if (g.version) {
        printf("patron %s (libpatron %s)\n", PATRON_VERSION_STRING, patron_version_string());
        return CLI_OK;
    }
    if (i >= argc)
        return cli_usage(&ctx, "no command given");
    if (!strcmp(argv[i], "help")) {
        /* "patron help" and "patron help COMMAND" */
        if (i + 1 < argc) {
            ctx.cmd = find_command(argv[i + 1]);
            if (!ctx.cmd)
                return cli_usage(NULL, "unknown command '%s'", argv[i + 1]);
            return cli_print_help(ctx.cmd);
        }
        print_usage();
        return CLI_OK;
    }
    ctx.cmd = find_command(argv[i]);
    if (!ctx.cmd)
        return cli_usage(NULL, "unknown command '%s'", argv[i]);

    rc = ctx.cmd->run(&ctx, argc - i, argv + i);

    patron_db_close(ctx.db);
    for (k = 0; k < ctx.n_owned; k++)
        free(ctx.owned[k]);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (rc == CLI_OK)
            rc = cli_fail(&ctx, "cannot write the output");
    }
    return rc;
}
