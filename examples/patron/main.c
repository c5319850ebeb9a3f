/*
 * patron — the command-line tool: global options and the command table.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#define KEY_HELP \
    "KEY is a customer number (K000001), an external id (the 'id' column of an\n" \
    "import), SOURCE:ID for an external id of another source, or #ID for the\n" \
    "internal id.\n"

#define FIELDS_HELP \
    "FIELD names are the column names of the CSV layout (see 'patron import\n" \
    "--help'); a name that is no field sets a custom property.  An empty VALUE\n" \
    "clears the field.\n"

static const cli_command commands[] = {
    { "import", cmd_import, "import customers from a CSV file",
      "import FILE.csv [--pending] [--rejects FILE]",
      "Import customers from a CSV file.  Every good row becomes an active customer\n"
      "with a new customer number (or the one in its 'number' column); every row\n"
      "the library refuses is written, with its line number and the reason, to the\n"
      "rejects file.  A summary says how many rows were imported and rejected.\n"
      "\n"
      "The file is UTF-8, with or without byte order mark; the separator (',' or\n"
      "';') is taken from the header line; quoting follows RFC 4180 (separators,\n"
      "line breaks and doubled quotes inside double quotes).  Columns by header\n"
      "name, in any order, case-insensitive:\n"
      "  id                 external reference (source 'import', or the\n"
      "                     external_source column)\n"
      "  number             customer number to keep (else a new one is drawn)\n"
      "  salutation title first_name last_name company email phone birth_date\n"
      "                     (YYYY-MM-DD), and every other customer field by its\n"
      "                     name: mobile fax language b2b vat_id payment_terms\n"
      "                     price_category group newsletter notes order_text\n"
      "                     login_user\n"
      "  street             may hold the house number too ('Hauptstraße 12a')\n"
      "  house_number address_addition postal_code city state\n"
      "  country            ISO code, default DE\n"
      "  tags               tags separated by '|'\n"
      "Any other column becomes a custom property named after its header.\n"
      "\n"
      "Options:\n"
      "  --rejects FILE     where rejected rows go (default: FILE.rejects.csv\n"
      "                     beside the input).  Written only if a row is\n"
      "                     rejected: a header 'line,reason,' followed by the\n"
      "                     input's header, then per rejected row its first\n"
      "                     line number, the reason and its original fields,\n"
      "                     with the input's separator.\n"
      "  --pending          import as pending shop customers without numbers\n"
      "                     (not supported yet)\n"
      "\n"
      "Each row is saved in its own transaction: an interrupted import keeps the\n"
      "rows before the interruption, complete, and nothing after it.\n"
      "Exit status: 0 if every row was imported, 1 if any was rejected or the\n"
      "import stopped (the message says at which line).\n" },
    { "export", cmd_export, "write all customers as CSV or JSON",
      "export [--format csv|json] [--out FILE] [--pending|--active|--locked]",
      "Write customers to standard output or a file.  CSV has the import layout\n"
      "(one address per customer: the default one), so that an export imports\n"
      "again unchanged; custom properties follow as columns of their own, sorted\n"
      "by name.  JSON is an array of customer objects with snake_case names and\n"
      "all addresses.  Neither ever contains a password hash.  Merged-away\n"
      "customers are left out.\n"
      "\n"
      "Options:\n"
      "  --format csv|json  default csv\n"
      "  --out FILE         write to FILE instead of standard output\n"
      "  --pending, --active, --locked\n"
      "                     only customers in that state\n" },
    { "show", cmd_show, "show one customer",
      "show KEY [--json]",
      "Show every field of one customer.\n" KEY_HELP
      "\n"
      "Options:\n"
      "  --json             print the customer as a JSON object\n" },
    { "list", cmd_list, "list customers",
      "list [--pending|--active|--locked] [--json]",
      "List customers, one a line: number (or #ID), state, name, email, postal\n"
      "code and city, separated by tabs.  Merged-away customers are left out.\n"
      "\n"
      "Options:\n"
      "  --pending          only pending shop customers\n"
      "  --active           only active customers\n"
      "  --locked           only locked customers\n"
      "  --json             a JSON array of customer objects\n" },
    { "create", cmd_create, "create a customer and print its number",
      "create FIELD=VALUE...",
      "Create an active customer and print its new customer number.\n" FIELDS_HELP
      "\n"
      "Example:\n"
      "  patron create first_name=Max last_name=Mustermann \\\n"
      "      'street=Hauptstraße 12a' postal_code=10115 city=Berlin\n" },
    { "update", cmd_update, "change fields of a customer",
      "update KEY FIELD=VALUE...",
      "Change fields of one customer.\n" KEY_HELP FIELDS_HELP },
    { "delete", cmd_delete, "delete a customer",
      "delete KEY",
      "Delete one customer.  Its customer number is never given again.\n" KEY_HELP },
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void print_usage(void)
{
    size_t i;

    printf("Usage: patron [--db PATH] COMMAND [ARGS...]\n"
           "       patron COMMAND --help\n"
           "\n"
           "Customer master data in a SQLite file.\n"
           "\n"
           "Commands:\n");
    for (i = 0; i < N_COMMANDS; i++)
        printf("  %-8s  %s\n", commands[i].name, commands[i].summary);
    printf("\n"
           "Options:\n"
           "  --db PATH   the database file (default: $PATRON_DB, else patron.db)\n"
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
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    }
    return NULL;
}

int main(int argc, char **argv)
{
    cli ctx;
    int i, rc;
    const char *env = getenv("PATRON_DB");

    memset(&ctx, 0, sizeof ctx);
    ctx.db_path = env && env[0] ? env : "patron.db";

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            print_usage();
            return CLI_OK;
        }
        if (!strcmp(a, "--version")) {
            printf("patron %s (libpatron %s)\n", PATRON_VERSION_STRING, patron_version_string());
            return CLI_OK;
        }
        if (!strcmp(a, "--db")) {
            if (i + 1 >= argc || !argv[i + 1][0])
                return cli_usage(&ctx, "option '--db' needs a path");
            ctx.db_path = argv[++i];
        } else if (!strncmp(a, "--db=", 5)) {
            if (!a[5])
                return cli_usage(&ctx, "option '--db' needs a path");
            ctx.db_path = a + 5;
        } else if (a[0] == '-') {
            return cli_usage(&ctx, "unknown option '%s'", a);
        } else {
            break;
        }
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
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (rc == CLI_OK)
            rc = cli_fail(&ctx, "cannot write the output");
    }
    return rc;
}
