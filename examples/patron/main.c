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
      "  --pending          import as pending shop customers without numbers, as\n"
      "                     'patron register' does for one: a row with the email\n"
      "                     of a locked customer, or of one registered already,\n"
      "                     is rejected.  Activate them with 'patron activate'.\n"
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
      "The number of a customer merged into another shows the survivor, and a\n"
      "note on standard error says so ('K000002 was merged into K000001').\n"
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
    { "register", cmd_register, "register a pending shop customer",
      "register FIELD=VALUE...",
      "Register a customer from the online shop: saved as pending, without a\n"
      "customer number (it gets one on activation), in the default customer group\n"
      "if none is given.  Prints its internal id (#ID).\n" FIELDS_HELP
      "\n"
      "Refused (exit 1) when the email belongs to a locked customer - a locked\n"
      "customer cannot come back under a new account - and reported when it\n"
      "belongs to a pending or active customer already.  Emails are compared\n"
      "normalised (case, plus tags, gmail dots).\n"
      "\n"
      "Example:\n"
      "  patron register first_name=Max last_name=Muster email=max@example.de \\\n"
      "      login_user=max 'street=Hauptstraße 1' postal_code=10115 city=Berlin\n" },
    { "activate", cmd_activate, "activate pending shop customers",
      "activate KEY|--all-pending [--mode interactive|auto|email] [--locked-survivors]",
      "Activate one pending customer, or all of them, looking for an existing\n"
      "customer first, and print per customer what happened:\n"
      "  #12 activated as K000123\n"
      "  #13 merged into K000007 (journal 5)\n"
      "  #14 needs review: ...        (followed by the candidates)\n"
      "With --all-pending a summary line follows; each customer is its own\n"
      "transaction, so an interrupted run keeps what it did.\n" KEY_HELP
      "\n"
      "Options:\n"
      "  --mode interactive (default) with candidates, change nothing and list\n"
      "                     them: compare with 'patron merge-plan', then\n"
      "                     'patron merge' or 'patron release'; without,\n"
      "                     activate with a new number\n"
      "  --mode auto        merge into the best MERGE-level active candidate (it\n"
      "                     keeps its number); REVIEW-level candidates are\n"
      "                     listed, not merged; otherwise activate\n"
      "  --mode email       merge when an active customer has the same\n"
      "                     normalised email; otherwise activate\n"
      "  --locked-survivors let automatic merges keep a locked customer as the\n"
      "                     survivor (by default they never do)\n"
      "\n"
      "Exit status: 0 also for customers that need review; 1 if any failed.\n" },
    { "release", cmd_release, "activate a pending customer regardless of the matcher",
      "release KEY",
      "Manual release: activate a pending customer with a new customer number,\n"
      "without looking for duplicates.\n" KEY_HELP },
    { "lock", cmd_lock, "lock a customer",
      "lock KEY --reason TEXT",
      "Lock a customer: it can neither log in nor order, and its email cannot\n"
      "register again.  The reason and the time are kept on the record and in\n"
      "the journal.  Locking a locked customer updates the reason.\n" KEY_HELP
      "\n"
      "Options:\n"
      "  --reason TEXT      why (required)\n" },
    { "unlock", cmd_unlock, "lift a customer's lock",
      "unlock KEY",
      "Lift the lock of a customer (journalled).  Unlocking a customer that is\n"
      "not locked changes nothing.\n" KEY_HELP },
    { "can-login", cmd_can_login, "may this login log in?",
      "can-login LOGIN",
      "Answer whether a shop login may log in.  LOGIN is a login user name or,\n"
      "for customers without one, their email.\n"
      "\n"
      "Exit status: 0 when the customer may log in (its number is printed);\n"
      "1 with the reason otherwise: locked (with the lock reason), not yet\n"
      "activated, unknown, or merged into another customer (naming the\n"
      "survivor, whose login to use).\n" },
    { "groups", cmd_groups, "list and change customer groups",
      "groups [list] [--json] | add NAME | rename OLD NEW | set NAME ATTR=VALUE... |\n"
      "                          assign NAME KEY... | delete NAME",
      "Customer groups carry price conditions.  There is exactly one default\n"
      "group once any exists (the first one made); new and registered customers\n"
      "without a group join it.\n"
      "\n"
      "  groups [list]          a table: name, default, discount, price category,\n"
      "                         number of active customers (--json: JSON array)\n"
      "  groups add NAME        make a group\n"
      "  groups rename OLD NEW  rename a group; its customers follow\n"
      "  groups set NAME ATTR=VALUE...\n"
      "                         discount_percent=N (0..100, two decimals),\n"
      "                         price_category=TEXT ('' clears), default=1 (makes\n"
      "                         it the default group); all in one transaction\n"
      "  groups assign NAME KEY...\n"
      "                         put customers into the group (one transaction)\n"
      "  groups delete NAME     delete a group: refused while an active customer\n"
      "                         is in it (the message says how many) and for the\n"
      "                         default group; merged and pending members move\n"
      "                         to the default group\n" },
    { "merge-plan", cmd_merge_plan, "preview a merge of duplicates, side by side",
      "merge-plan SURVIVOR DUP... [--take FIELD=N]... [--set FIELD=VALUE]... [--json]",
      "Show what 'patron merge' with the same arguments would do, changing\n"
      "nothing: a table with a row per field that has a value anywhere - the\n"
      "field, each record's value ([1] is the survivor, [2]... the duplicates in\n"
      "the order given), the result and the record it comes from; '!' marks\n"
      "fields whose values conflict after normalisation.  Then the addresses,\n"
      "tags and properties of the survivor after the merge (united without\n"
      "repeats), and the problems that would refuse the merge (e.g. two\n"
      "different logins: choose one with --take login_user=N).\n" KEY_HELP
      "\n"
      "Options: as for 'patron merge', and\n"
      "  --json             the plan as JSON: records (without password hashes),\n"
      "                     per field values, choice (0-based), result and\n"
      "                     conflict, the united lists, locked, problems\n" },
    { "merge", cmd_merge, "merge duplicates into a survivor",
      "merge SURVIVOR DUP... [--take FIELD=N]... [--set FIELD=VALUE]... [--lock|--unlock] [--activate]",
      "Merge the duplicates into the survivor, in one transaction: the survivor\n"
      "gets the planned values (see 'patron merge-plan'), the duplicates' orders\n"
      "move to it, and each duplicate is marked merged - its number then leads to\n"
      "the survivor.  Prints the journal id, to undo it with 'patron undo'.\n"
      "By default the survivor's non-empty values win and its empty fields are\n"
      "filled from the duplicates; addresses, tags and properties are united; an\n"
      "online customer's login is kept.\n" KEY_HELP
      "\n"
      "Options:\n"
      "  --take FIELD=N     take FIELD from record N, the 1-based position in\n"
      "                     this command's list (1 = the survivor); for\n"
      "                     login_user the login (name and password) moves as one\n"
      "  --set FIELD=VALUE  give FIELD a value of your own ('' empties it)\n"
      "  --policy survivor|newest\n"
      "                     who wins by default: the survivor (default) or the\n"
      "                     most recently updated record\n"
      "  --lock, --unlock   the survivor's lock (default: locked if any record is)\n"
      "  --activate         allow a pending survivor, activating it\n" },
    { "journal", cmd_journal, "list the journal of merges, undos and locks",
      "journal [--json] [--after ID] [--limit N]",
      "List journal entries, oldest first: id, time, kind (merge, undo, lock,\n"
      "unlock, release), customer, the entry that undid it, and a summary.\n"
      "\n"
      "Options:\n"
      "  --json             a JSON array of {id, time, kind, customer_id,\n"
      "                     undone_by, summary}\n"
      "  --after ID         only entries after ID\n"
      "  --limit N          at most N entries\n" },
    { "undo", cmd_undo, "undo a merge",
      "undo JOURNAL_ID [--force]",
      "Undo a merge from the journal, in one transaction: every record, its\n"
      "number and its orders are restored exactly as before.  Refused with the\n"
      "reason if it was undone already, if the survivor was merged again since,\n"
      "or if a record was edited after the merge.  Prints the journal id of the\n"
      "undo.\n"
      "\n"
      "Options:\n"
      "  --force            undo although the survivor was edited after the\n"
      "                     merge: its fields go back to before the merge\n"
      "                     (later edits are lost)\n" },
    { "import-orders", cmd_import_orders, "load orders into the example orders table",
      "import-orders FILE.csv [--rejects FILE]",
      "Load orders into the store's example table orders(order_id, customer_id,\n"
      "total), which merges re-link and undo restores.  The CSV has the columns\n"
      "order_id, customer (a KEY) and optionally total, by header name.  All\n"
      "good rows are loaded in one transaction; rows with an unknown customer, an\n"
      "order id that is there already or a malformed line are written, with the\n"
      "line number and the reason, to the rejects file.\n"
      "\n"
      "Options:\n"
      "  --rejects FILE     where rejected rows go (default: FILE.rejects.csv\n"
      "                     beside the input)\n"
      "\n"
      "Exit status: 0 if every row was loaded, 1 if any was rejected.\n" },
    { "orders", cmd_orders, "list a customer's orders",
      "orders KEY",
      "List the orders of a customer: order id and total, separated by a tab,\n"
      "sorted by order id.\n" KEY_HELP },
    { "dedupe", cmd_dedupe, "find duplicates in a CSV file",
      "dedupe FILE.csv [--mode fields|email]",
      "Read a CSV file in the import layout (see 'patron import --help') into a\n"
      "memory store - no database is used or written - and write to standard\n"
      "output the pairs of rows judged duplicates, as CSV:\n"
      "  id_a,id_b,score,decision\n"
      "one line per pair judged merge or review (distinct pairs are left out),\n"
      "id_a and id_b being the rows' 'id' column (required), sorted by input\n"
      "order.  FILE may be '-' for standard input.  Rows the library refuses\n"
      "are skipped; a note on standard error counts them and names the first.\n"
      "\n"
      "Options:\n"
      "  --mode fields      names, address, email, phone, birth date (default)\n"
      "  --mode email       the normalised email only\n" },
    { "match", cmd_match, "show the duplicate candidates of a customer",
      "match KEY [--mode fields|email] [--json]",
      "Match one stored customer against the others and print the candidates,\n"
      "best first, with number, decision (merge or review), score and, per\n"
      "field, the two normalised values compared, the comparison level and the\n"
      "weight it added.\n" KEY_HELP
      "\n"
      "Options:\n"
      "  --mode fields|email  as for 'patron dedupe'\n"
      "  --json             the candidates as JSON (internal ids)\n" },
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
        printf("  %-13s  %s\n", commands[i].name, commands[i].summary);
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
