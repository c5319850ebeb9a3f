/*
 * patron — personal data requests (issue 16): export-person (GDPR Art. 15
 * and 20: everything stored about one person, as JSON) and erase (Art. 17:
 * the personal values go, the customer number and the order links stay for
 * the books).
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the person a KEY names ------------------------------------------------ */

/* A merged-away record's chain of merged_into ends at its survivor; a chain
 * longer than this is a damaged store, not a real history. */
#define MAX_MERGE_HOPS 64

/*
 * The customer a request is about: KEY as everywhere (number, external id,
 * #ID), and besides an email address — a merged-away number or email leads
 * to the survivor, as does #ID of a merged-away record, and stderr says so.
 * Returns CLI_OK with *out set, else CLI_ERR after a message.
 */
static int find_person(cli *ctx, const char *key, patron_customer **out)
{
    patron_customer *c = NULL;
    patron_status st;
    int hops = 0, rc;
    char from[32], to[32];

    *out = NULL;
    if (key[0] != '#' && strchr(key, '@')) {
        st = patron_db_find(ctx->db, &c, PATRON_KEY_EMAIL, key);
        if (st == PATRON_E_AMBIGUOUS)
            return cli_fail(ctx, "the email '%s' belongs to several customers: give the customer number "
                            "(see 'patron list')", key);
        if (st != PATRON_OK && st != PATRON_E_NOT_FOUND)
            return cli_fail_db(ctx, st, key);
        if (st == PATRON_E_NOT_FOUND)
            c = NULL;
    }
    if (!c && (rc = cli_find_customer(ctx, key, &c)) != CLI_OK)
        return rc;

    /* #ID of a merged-away record: its survivor holds its data now. */
    cli_customer_key(c, from, sizeof from);
    while (patron_customer_state(c) == PATRON_STATE_MERGED) {
        const char *into = patron_customer_get(c, PATRON_F_MERGED_INTO);
        int64_t sid = into ? (int64_t)strtoll(into, NULL, 10) : 0;
        patron_customer *s = NULL;
        if (sid <= 0 || ++hops > MAX_MERGE_HOPS) {
            patron_customer_free(c);
            return cli_fail(ctx, "%s is marked merged, but its survivor cannot be found", from);
        }
        st = patron_db_load(ctx->db, &s, sid);
        if (st != PATRON_OK) {
            patron_customer_free(c);
            return cli_fail_db(ctx, st, from);
        }
        patron_customer_free(c);
        c = s;
    }
    if (hops) {
        fflush(stdout);
        fprintf(stderr, "patron: %s was merged into %s\n", from, cli_customer_key(c, to, sizeof to));
    }
    *out = c;
    return CLI_OK;
}

/* ---- export-person ---------------------------------------------------------- */

typedef struct export_person_args {
    const char *output;
    int compact;
} export_person_args;

static const cli_opt export_person_opts[] = {
    { .name = "--output", .kind = CLI_OPT_TEXT, .target = offsetof(export_person_args, output), .arg = "FILE",
      .needs = "a file name",
      .help = "write to FILE (created readable by its owner only;\n"
              "replaced only when the whole export was written)\n"
              "instead of standard output" },
    { .name = "--out", .kind = CLI_OPT_TEXT, .target = offsetof(export_person_args, output), .arg = "FILE",
      .needs = "a file name", .help = NULL /* as 'patron export' spells it */ },
    { .name = "--compact", .kind = CLI_OPT_FLAG, .target = offsetof(export_person_args, compact), .value = 1,
      .help = "one line of JSON (default: indented)" },
    CLI_OPT_TABLE_END,
};

/* Write `text` and a line end to `path` through a temporary file beside it,
 * mode 0600 (the export is personal data), renamed into place when complete. */
static int write_private_file(cli *ctx, const char *path, const char *text)
{
    size_t len = strlen(path), n = strlen(text);
    char *tmp = malloc(len + 16);
    int fd, rc = CLI_OK;
    FILE *f;

    if (!tmp)
        return cli_fail(ctx, "out of memory");
    snprintf(tmp, len + 16, "%s.tmp-XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = cli_fail(ctx, "cannot write '%s': %s", path, strerror(errno));
        free(tmp);
        return rc;
    }
    (void)fchmod(fd, S_IRUSR | S_IWUSR);
    f = fdopen(fd, "wb");
    if (!f) {
        rc = cli_fail(ctx, "cannot write '%s': %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return rc;
    }
    if (fwrite(text, 1, n, f) != n || fputc('\n', f) == EOF || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        rc = cli_fail(ctx, "cannot write '%s': %s", path, strerror(errno));
        fclose(f);
        unlink(tmp);
    } else if (fclose(f) != 0) {
        rc = cli_fail(ctx, "cannot write '%s': %s", path, strerror(errno));
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        rc = cli_fail(ctx, "cannot write '%s': %s", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

static int cmd_export_person(cli *ctx, int argc, char **argv)
{
    export_person_args args = { NULL, 0 };
    const char **ops;
    patron_customer *c = NULL;
    char *text = NULL, key[32];
    patron_status st;
    int rc;

    if ((rc = cli_parse(ctx, argc, argv, &args, &ops, NULL)) >= 0)
        return rc;
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
        return rc;
    if ((rc = find_person(ctx, ops[0], &c)) != CLI_OK)
        return rc;
    cli_customer_key(c, key, sizeof key);
    st = patron_db_export_person(ctx->db, &text, patron_customer_id(c), args.compact ? 0 : PATRON_JSON_PRETTY);
    patron_customer_free(c);
    if (st != PATRON_OK)
        return cli_fail_db(ctx, st, "export-person");
    if (args.output) {
        rc = write_private_file(ctx, args.output, text);
        if (rc == CLI_OK)
            fprintf(stderr, "patron: the data of %s written to %s\n", key, args.output);
    } else {
        printf("%s\n", text);
    }
    patron_free(text);
    return rc;
}

const cli_command cli_cmd_export_person = {
    "export-person", cmd_export_person, "everything stored about one person, as JSON (GDPR Art. 15, 20)",
    "export-person KEY [--output FILE] [--compact]",
    "Write everything stored about one customer as one JSON object, the answer\n"
    "to a data subject's request for access (GDPR Art. 15) in a portable,\n"
    "machine-readable form (Art. 20): every field, the addresses, tags and\n"
    "custom properties, the newsletter consent with when and where it was\n"
    "given or withdrawn, the group, the lock state and reason, the login user\n"
    "name, the numbers and emails that are aliases of the customer, the records\n"
    "merged into it and the journal entries that concern it.  The object has a\n"
    "\"schema_version\"; see patron(1) for the schema.  It never contains a\n"
    "password hash (\"has_password\" says whether there is one).\n"
    "The number or email of a customer merged into another gives the\n"
    "survivor's export (stderr says so).  An erased customer's export shows\n"
    "what is kept: the number, the state and the erasure.\n" CLI_KEY_HELP
    "KEY may also be an email address.\n",
    export_person_opts, "KEY", 1, 1,
    "Exit status: 0 written; 1 no such customer, an email of several\n"
    "customers, or a store or write error; 2 wrong usage.\n",
};

/* ---- erase -------------------------------------------------------------------- */

typedef struct erase_args {
    const char *reason;
    const char *by;
    int yes;
} erase_args;

static const cli_opt erase_opts[] = {
    { .name = "--reason", .kind = CLI_OPT_TEXT, .target = offsetof(erase_args, reason), .arg = "TEXT",
      .needs = "a text",
      .help = "why (required), kept in the journal: say what the\n"
              "request was, not who made it (\"Art. 17 request of\n"
              "2026-11-30, ticket 4711\")" },
    { .name = "--by", .kind = CLI_OPT_TEXT, .target = offsetof(erase_args, by), .arg = "WHO", .needs = "a name",
      .help = "who asked for it or did it, kept in the journal\n"
              "(default: $USER); not the customer's name" },
    { .name = "--yes", .kind = CLI_OPT_FLAG, .target = offsetof(erase_args, yes), .value = 1,
      .help = "do not ask: needed when standard input is not a\n"
              "terminal (scripts); erasure cannot be undone" },
    CLI_OPT_TABLE_END,
};

/* Ask on the terminal; 1 when the answer is the customer's key. */
static int confirmed(const patron_customer *c, const char *key)
{
    char label[400], line[128];
    size_t n;

    fprintf(stderr,
            "Erase the personal data of %s (%s) and of every record merged into it?\n"
            "The number, the state 'erased' and the order links stay; everything else\n"
            "about this person goes, also from the journal.  This cannot be undone.\n"
            "Type %s to erase: ",
            key, cli_customer_label(c, label, sizeof label), key);
    fflush(stderr);
    if (!fgets(line, sizeof line, stdin))
        return 0;
    n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = '\0';
    return !strcmp(line, key);
}

static int cmd_erase(cli *ctx, int argc, char **argv)
{
    erase_args args = { NULL, NULL, 0 };
    const char **ops;
    patron_customer *c = NULL;
    const char *by;
    char key[32];
    int64_t jid = 0;
    patron_status st;
    int rc, again;

    if ((rc = cli_parse(ctx, argc, argv, &args, &ops, NULL)) >= 0)
        return rc;
    if (!args.reason)
        return cli_usage(ctx, "say why with --reason TEXT (it is kept in the journal)");
    if (!args.yes && !isatty(STDIN_FILENO))
        return cli_usage(ctx, "erasure cannot be undone and standard input is not a terminal to confirm on: "
                              "give --yes to erase without asking");
    by = args.by;
    if (!by) {
        const char *user = getenv("USER");
        if (!user || !user[0])
            user = getenv("LOGNAME");
        by = user && user[0] ? user : "patron command line";
    }
    if ((rc = cli_open_db(ctx, 0)) != CLI_OK)
        return rc;
    if ((rc = find_person(ctx, ops[0], &c)) != CLI_OK)
        return rc;
    cli_customer_key(c, key, sizeof key);
    /* Erased before: nothing irreversible is left to do, so no question;
     * the library only asks the store to purge again. */
    again = patron_customer_state(c) == PATRON_STATE_ERASED;
    if (!again && !args.yes && !confirmed(c, key)) {
        patron_customer_free(c);
        return cli_fail(ctx, "not confirmed: nothing was erased");
    }
    st = patron_db_erase(ctx->db, &jid, patron_customer_id(c), args.reason, by);
    patron_customer_free(c);
    if (st != PATRON_OK) {
        char what[64];
        const char *msg = patron_db_errmsg(ctx->db);
        snprintf(what, sizeof what, "erase %s refused", key);
        if (st == PATRON_E_STORE && msg && (strstr(msg, "locked") || strstr(msg, "busy")))
            /* another writer held the store past its busy timeout */
            return cli_fail(ctx, "%s: %s; another process is writing to the database (a merge being "
                            "applied?): nothing was erased, try again", what, msg);
        return cli_fail_db(ctx, st, what);
    }
    if (again)
        printf("%s was erased before: nothing left to erase\n", key);
    else
        printf("erased %s: journal %" PRId64 "\n", key, jid);
    return CLI_OK;
}

const cli_command cli_cmd_erase = {
    "erase", cmd_erase, "erase a person's data, keep the books (GDPR Art. 17)",
    "erase KEY --reason TEXT [--by WHO] [--yes]",
    "Erase the personal data of a customer and of every record merged into it,\n"
    "in one transaction: names, emails, phones, addresses, birth date, login,\n"
    "notes, tags, custom properties and consent go; email aliases are dropped;\n"
    "the match keys go, so the customer is never a duplicate candidate again;\n"
    "the journal entries that hold before-images of this person are scrubbed\n"
    "(undoing those merges is then impossible, and undo says so).  The customer\n"
    "number, the state 'erased', the erasure date and the order links stay, so\n"
    "orders and invoices keep their reference (HGB §257, AO §147); the number\n"
    "and the numbers merged into it keep resolving to it.  The erasure is\n"
    "journalled with the reason, who and when, and no personal data.  It\n"
    "cannot be undone.  A locked customer can be erased; afterwards the email\n"
    "may register again.  Erasing an erased customer changes nothing.\n"
    "Unless --yes is given, the tool asks on the terminal for the customer\n"
    "number; without --yes and without a terminal on standard input it\n"
    "refuses.  Export the data first if the person asked for it too ('patron\n"
    "export-person').\n" CLI_KEY_HELP "KEY may also be an email address.\n",
    erase_opts, "KEY", 1, 1,
    "Exit status: 0 erased (also: erased before, nothing left to do); 1 no\n"
    "such customer, not confirmed, or refused (the message names the\n"
    "customer; while another process writes it, e.g. applies a merge, the\n"
    "store is busy: try again); 2 wrong usage, including no --reason, and\n"
    "no --yes without a terminal.\n",
};
