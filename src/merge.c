/* patron — merge plans, applying them, the journal and undo.
 * SPDX-License-Identifier: MIT
 *
 * A plan is built from records loaded once; it remembers their revisions, and
 * applying it refuses if any record changed since (PATRON_E_CONFLICT), so the
 * preview a person approved is exactly what is written.
 *
 * The journal payload of a merge is a small text format of the core's own:
 *   patron-merge 1
 *   summary <one line for people>
 *   survivor <id>
 *   record <id> <revision after the merge> <hex of the packed before-image>
 *   ref <from id> <hex kind> <hex ref id>
 * Before-images hold password hashes, so payloads are never shown: the
 * journal listing gives the summary only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define NOT_MERGED PATRON_MERGE_NOT_MERGED

struct patron_merge_plan {
    size_t n;              /* records: [0] survivor, [1..] duplicates */
    patron_customer **rec;
    int policy;
    int choice[PATRON_F__END];
    char *custom[PATRON_F__END];
    int conflict[PATRON_F__END];
    patron_customer *lists; /* united addresses, tags, properties */
    int lock;               /* a patron_merge_lock */
    int activate;
    bool login_conflict, login_explicit;
    char *problems;
    /* The united addresses (the addresses of `lists`): per address, which
     * records hold a form of it (n_addr * n flags), whether it is kept,
     * and the default the caller chose (-1: as the records have it). */
    size_t n_addr;
    unsigned char *addr_from, *addr_keep;
    long addr_default;
    /* The united properties, in the order of `lists`: the record each
     * value comes from and whether the records disagree. */
    size_t n_prop;
    int *prop_choice;
    unsigned char *prop_conflict;
    /* Advisory lines of the problems list (the matcher calls two of the
     * records distinct): shown, never a reason to refuse. */
    char *notes;
    char errmsg[512];
};

static patron_status plan_error(patron_merge_plan *p, patron_status st, const char *fmt, ...)
    PATRON_PRINTF(3, 4);
static patron_status plan_error(patron_merge_plan *p, patron_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->errmsg, sizeof p->errmsg, fmt, ap);
    va_end(ap);
    return st;
}

/* Fields a plan decides.  System fields are the library's; the external
 * reference stays with its record (a merged record's reference leads to the
 * survivor); the password hash follows the login name. */
static bool is_merged_field(int f)
{
    const patron__field_info *fi = patron__field(f);
    /* the consent's source follows the consent (with its time) */
    return fi && fi->kind != PK_SYSTEM && f != PATRON_F_NUMBER && f != PATRON_F_LOGIN_HASH &&
           f != PATRON_F_EXTERNAL_SOURCE && f != PATRON_F_EXTERNAL_ID && f != PATRON_F_NEWSLETTER_SOURCE;
}

/* ---- loose comparison: case, spacing, punctuation, umlaut spelling ----- */

static void loose_norm(const char *s, patron_strbuf *out)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        unsigned c = *p;
        if (c < 0x80) {
            if (c >= 'A' && c <= 'Z')
                patron__sb_putc(out, (char)(c - 'A' + 'a'));
            else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '@')
                patron__sb_putc(out, (char)c);
            p++;
            continue;
        }
        if (c == 0xC3 && p[1]) {
            /* Latin-1 supplement: German folding, other accents stripped */
            static const char *const map[64] = {
                "a", "a", "a", "a", "ae", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
                "d", "n", "o", "o", "o", "o", "oe", "", "o", "u", "u", "u", "ue", "y", "th", "ss",
                "a", "a", "a", "a", "ae", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
                "d", "n", "o", "o", "o", "o", "oe", "", "o", "u", "u", "u", "ue", "y", "th", "y",
            };
            unsigned t = p[1];
            if (t >= 0x80 && t <= 0xBF)
                patron__sb_puts(out, map[t - 0x80]);
            p += 2;
            continue;
        }
        /* other non-ASCII characters: kept as they are */
        patron__sb_putc(out, (char)c);
        p++;
    }
}

/* Out of memory sets *oom (and the answer means nothing): a plan must not
 * differ because memory ran short. */
static bool loose_equal(const char *a, const char *b, bool *oom)
{
    patron_strbuf x, y;
    bool eq;
    patron__sb_init(&x);
    patron__sb_init(&y);
    loose_norm(a, &x);
    loose_norm(b, &y);
    if (x.oom || y.oom)
        *oom = true;
    eq = !x.oom && !y.oom && x.len == y.len && (x.len == 0 || memcmp(x.buf, y.buf, x.len) == 0);
    patron__sb_free(&x);
    patron__sb_free(&y);
    return eq;
}

static bool nonempty(const char *v)
{
    return v && *v;
}

/* ---- building a plan ----------------------------------------------------- */

static int64_t updated_at(const patron_customer *c)
{
    const char *v = patron_customer_get(c, PATRON_F_UPDATED_AT);
    return v ? strtoll(v, NULL, 10) : 0;
}

static const char *login_of(const patron_customer *c)
{
    return patron_customer_get(c, PATRON_F_LOGIN_USER);
}

static bool same_login(const patron_customer *a, const patron_customer *b)
{
    const char *ua = login_of(a), *ub = login_of(b);
    const char *ha = patron_customer_get(a, PATRON_F_LOGIN_HASH),
               *hb = patron_customer_get(b, PATRON_F_LOGIN_HASH);
    return ua && ub && strcmp(ua, ub) == 0 && ((!ha && !hb) || (ha && hb && strcmp(ha, hb) == 0));
}

/* How many records hold a value loosely equal to record k's value of f. */
static size_t holders(const patron_merge_plan *p, int f, size_t k, bool *oom)
{
    const char *v = patron_customer_get(p->rec[k], f);
    size_t n = 0;
    for (size_t j = 0; j < p->n; j++) {
        const char *w = patron_customer_get(p->rec[j], f);
        if (nonempty(w) && loose_equal(v, w, oom))
            n++;
    }
    return n;
}

/* Two values that differ by a typo: at most two edits (one for short
 * values) between their loose forms, which are not equal. */
static bool typo_of(const char *a, const char *b, bool *oom)
{
    patron_strbuf x, y;
    bool near = false;
    patron__sb_init(&x);
    patron__sb_init(&y);
    loose_norm(a, &x);
    loose_norm(b, &y);
    if (x.oom || y.oom) {
        *oom = true;
    } else if (x.len && y.len) {
        size_t d = patron__match_osa(x.buf, x.len, y.buf, y.len), shorter = x.len < y.len ? x.len : y.len;
        near = d > 0 && d <= (shorter >= 6 ? 2u : 1u) && shorter >= 3;
    }
    patron__sb_free(&x);
    patron__sb_free(&y);
    return near;
}

/* A given name as the matcher normalises it ("H." → "h", "Hans-Peter" →
 * "hans peter"). */
static void norm_first(char out[PATRON__MATCH_BUF], const char *v)
{
    char last[PATRON__MATCH_BUF];
    /* a last name keeps a lone given name from being read as a full name */
    patron__match_norm_name(out, last, NULL, v, "x");
}

/* The proposal for a name field, refined where the policy's pick is the
 * weaker of two forms of one value: a full given name beats initials that
 * fit it ("H." / "Holger" → "Holger"), and a value more records share
 * beats a typo of it ("Lena", "Lena", "Lhna" → "Lena"). */
static int better_value(const patron_merge_plan *p, int f, int pick, bool *oom)
{
    const char *v = patron_customer_get(p->rec[pick], f);
    size_t n = holders(p, f, (size_t)pick, oom), best_n = n;
    int best = pick;
    for (size_t k = 0; k < p->n; k++) {
        const char *w = patron_customer_get(p->rec[k], f);
        size_t m;
        if (!nonempty(w) || (int)k == best)
            continue;
        m = holders(p, f, k, oom);
        if (m > best_n && typo_of(v, w, oom)) {
            best = (int)k;
            best_n = m;
        }
    }
    if (f == PATRON_F_FIRST_NAME) {
        char a[PATRON__MATCH_BUF], b[PATRON__MATCH_BUF];
        norm_first(a, patron_customer_get(p->rec[best], f));
        if (a[0] && patron__match_is_initials(a)) {
            for (size_t k = 0; k < p->n; k++) {
                const char *w = patron_customer_get(p->rec[k], f);
                if (!nonempty(w))
                    continue;
                norm_first(b, w);
                if (b[0] && !patron__match_is_initials(b) && patron__match_initials_fit(a, b)) {
                    best = (int)k;
                    break;
                }
            }
        }
    }
    return best;
}

static void decide_field(patron_merge_plan *p, int f, bool *oom)
{
    int pick = -1;
    size_t distinct = 0;
    for (size_t k = 0; k < p->n; k++) {
        const char *v = patron_customer_get(p->rec[k], f);
        bool seen = false;
        if (!nonempty(v))
            continue;
        for (size_t j = 0; j < k; j++)
            if (nonempty(patron_customer_get(p->rec[j], f)) &&
                loose_equal(patron_customer_get(p->rec[j], f), v, oom))
                seen = true;
        if (!seen)
            distinct++;
        if (pick < 0 ||
            (p->policy == PATRON_MERGE_NEWEST && updated_at(p->rec[k]) > updated_at(p->rec[pick])))
            pick = (int)k;
    }
    if (pick >= 0 && distinct > 1 && (f == PATRON_F_FIRST_NAME || f == PATRON_F_LAST_NAME || f == PATRON_F_COMPANY))
        pick = better_value(p, f, pick, oom);
    p->choice[f] = pick < 0 ? 0 : pick;
    p->conflict[f] = distinct > 1;
}

/* Notes are joined: every distinct note, in record order. */
static patron_status decide_notes(patron_merge_plan *p)
{
    patron_strbuf sb;
    size_t distinct = 0;
    int only = 0;
    bool oom = false;
    patron__sb_init(&sb);
    for (size_t k = 0; k < p->n; k++) {
        const char *v = patron_customer_get(p->rec[k], PATRON_F_NOTES);
        bool seen = false;
        if (!nonempty(v))
            continue;
        for (size_t j = 0; j < k; j++)
            seen |= nonempty(patron_customer_get(p->rec[j], PATRON_F_NOTES)) &&
                    loose_equal(patron_customer_get(p->rec[j], PATRON_F_NOTES), v, &oom);
        if (seen)
            continue;
        if (distinct++)
            patron__sb_putc(&sb, '\n');
        else
            only = (int)k;
        patron__sb_puts(&sb, v);
    }
    if (oom || sb.oom) {
        patron__sb_free(&sb);
        return PATRON_E_NOMEM;
    }
    p->conflict[PATRON_F_NOTES] = distinct > 1;
    if (distinct <= 1) {
        p->choice[PATRON_F_NOTES] = only;
        patron__sb_free(&sb);
        return PATRON_OK;
    }
    p->choice[PATRON_F_NOTES] = PATRON_MERGE_CUSTOM;
    p->custom[PATRON_F_NOTES] = patron__sb_detach(&sb, NULL);
    return p->custom[PATRON_F_NOTES] ? PATRON_OK : PATRON_E_NOMEM;
}

/* The login: an online customer's login is never replaced by an offline
 * record's (one without a login); two different logins need a decision. */
static void decide_login(patron_merge_plan *p)
{
    int pick = -1;
    p->login_conflict = false;
    for (size_t k = 0; k < p->n; k++) {
        if (!nonempty(login_of(p->rec[k])))
            continue;
        if (pick < 0)
            pick = (int)k;
        else if (!same_login(p->rec[pick], p->rec[k]))
            p->login_conflict = true;
    }
    p->choice[PATRON_F_LOGIN_USER] = pick < 0 ? 0 : pick;
    p->conflict[PATRON_F_LOGIN_USER] = p->login_conflict;
}

/* Two addresses are one when they agree after the matcher's normalisation
 * of street and house number ("Lindenstr 144 b" / "Lindenstraße 144b"),
 * postal code, city and country, and loosely (case, spacing, umlaut
 * spelling) in names, company and addition. */
static bool same_address(const patron_customer *a, size_t i, const patron_customer *b, size_t j, bool *oom)
{
    static const int loose[] = { PATRON_A_FIRST_NAME, PATRON_A_LAST_NAME, PATRON_A_COMPANY, PATRON_A_ADDITION };
    char sa[PATRON__MATCH_BUF], na[PATRON__MATCH_BUF], sb[PATRON__MATCH_BUF], nb[PATRON__MATCH_BUF];
    char ca[3], cb[3];
    for (size_t k = 0; k < sizeof loose / sizeof loose[0]; k++)
        if (!loose_equal(patron_customer_address_get(a, i, loose[k]), patron_customer_address_get(b, j, loose[k]),
                         oom))
            return false;
    patron__match_norm_country(ca, patron_customer_address_get(a, i, PATRON_A_COUNTRY), "DE");
    patron__match_norm_country(cb, patron_customer_address_get(b, j, PATRON_A_COUNTRY), "DE");
    if (strcmp(ca, cb) != 0)
        return false;
    patron__match_norm_street(sa, na, patron_customer_address_get(a, i, PATRON_A_STREET),
                              patron_customer_address_get(a, i, PATRON_A_HOUSE_NUMBER));
    patron__match_norm_street(sb, nb, patron_customer_address_get(b, j, PATRON_A_STREET),
                              patron_customer_address_get(b, j, PATRON_A_HOUSE_NUMBER));
    if (strcmp(sa, sb) != 0 || strcmp(na, nb) != 0)
        return false;
    patron__match_norm_postal(sa, patron_customer_address_get(a, i, PATRON_A_POSTAL_CODE), ca);
    patron__match_norm_postal(sb, patron_customer_address_get(b, j, PATRON_A_POSTAL_CODE), cb);
    if (strcmp(sa, sb) != 0)
        return false;
    patron__match_norm_city(sa, patron_customer_address_get(a, i, PATRON_A_CITY));
    patron__match_norm_city(sb, patron_customer_address_get(b, j, PATRON_A_CITY));
    return strcmp(sa, sb) == 0;
}

/* Addresses, tags, properties: the survivor's first, then what the
 * duplicates add; a duplicate's default address is not the default.
 * PATRON_E_INVALID, with a message naming the list and its limit, when the
 * united list would be longer than one customer may have. */
static patron_status unite_lists(patron_db *db, patron_merge_plan *p)
{
    patron_customer *l;
    bool oom = false;
    const char *list = NULL;
    size_t total = 0;
    patron_status st = patron_customer_new(&l);
    if (st)
        return st;
    for (size_t k = 0; k < p->n; k++)
        total += patron_customer_address_count(p->rec[k]);
    /* at most `total` united addresses; calloc(0) may give NULL */
    p->addr_from = patron__calloc(total * p->n + 1, 1);
    p->addr_keep = patron__calloc(total + 1, 1);
    if (!p->addr_from || !p->addr_keep)
        st = PATRON_E_NOMEM;
    for (size_t k = 0; k < p->n && !st; k++) {
        const patron_customer *r = p->rec[k];
        for (size_t i = 0; i < patron_customer_address_count(r) && !st; i++) {
            bool dup = false;
            size_t idx, j;
            for (j = 0; j < patron_customer_address_count(l) && !dup; j++)
                dup = same_address(l, j, r, i, &oom);
            if (oom) {
                st = PATRON_E_NOMEM;
                break;
            }
            if (dup) {
                p->addr_from[(j - 1) * p->n + k] = 1;
                continue;
            }
            if ((st = patron_customer_address_add(l, &idx)) != 0) {
                list = "addresses";
                break;
            }
            p->addr_from[idx * p->n + k] = 1;
            p->addr_keep[idx] = 1;
            for (int f = 1; f < PATRON_A__END; f++) {
                const char *v = patron_customer_address_get(r, i, f);
                if (f == PATRON_A_DEFAULT && k > 0)
                    v = NULL;
                if ((st = patron__cust_put_addr(l, idx, f, v)) != 0)
                    break;
            }
        }
        for (size_t i = 0; i < patron_customer_tag_count(r) && !st; i++)
            if ((st = patron_customer_tag_add(l, patron_customer_tag_get(r, i))) != 0)
                list = "tags";
        for (size_t i = 0; i < patron_customer_prop_count(r) && !st; i++) {
            const char *key, *val;
            patron_customer_prop_at(r, &key, &val, i);
            if (!patron_customer_prop_get(l, key) && (st = patron_customer_prop_set(l, key, val)) != 0)
                list = "properties";
        }
    }
    if (!st) {
        /* per united property the record its value comes from (the first
         * that has it) and whether another record holds a different one */
        p->n_addr = patron_customer_address_count(l);
        p->n_prop = patron_customer_prop_count(l);
        p->prop_choice = patron__calloc(p->n_prop + 1, sizeof *p->prop_choice);
        p->prop_conflict = patron__calloc(p->n_prop + 1, 1);
        if (!p->prop_choice || !p->prop_conflict)
            st = PATRON_E_NOMEM;
        for (size_t i = 0; i < p->n_prop && !st; i++) {
            const char *key, *val;
            int first = -1;
            patron_customer_prop_at(l, &key, &val, i);
            for (size_t k = 0; k < p->n; k++) {
                const char *v = patron_customer_prop_get(p->rec[k], key);
                if (!v)
                    continue;
                if (first < 0)
                    first = (int)k;
                else if (!loose_equal(patron_customer_prop_get(p->rec[first], key), v, &oom))
                    p->prop_conflict[i] = 1;
            }
            p->prop_choice[i] = first < 0 ? 0 : first;
        }
        if (oom)
            st = PATRON_E_NOMEM;
    }
    if (st) {
        patron_customer_free(l);
        if (st == PATRON_E_NOMEM)
            return patron__db_error(db, st, "out of memory");
        /* the values were valid on their records: only the count can fail */
        return patron__db_error(db, PATRON_E_INVALID,
                                "merged, the %zu records would have more than 1000 %s, the most one "
                                "customer may have: remove some %s from the records first",
                                p->n, list ? list : "list entries", list ? list : "entries");
    }
    p->lists = l;
    return PATRON_OK;
}

/* Whether the plan can be applied as it stands: the notes of the problems
 * list never stop it. */
static bool plan_blocked(const patron_merge_plan *p)
{
    return p->login_conflict && !p->login_explicit;
}

/* The notes: each duplicate the matcher calls distinct from the survivor.
 * Merging them is the person's call; the plan says so. */
static patron_status plan_notes(patron_db *db, patron_merge_plan *p)
{
    patron_strbuf sb;
    patron__sb_init(&sb);
    for (size_t k = 1; k < p->n; k++) {
        int decision = PATRON_DECISION_DISTINCT;
        double score = 0;
        patron_status st = patron__pair_verdict_in_tx(db, p->rec[0], p->rec[k], &decision, &score);
        if (st) {
            patron__sb_free(&sb);
            return st;
        }
        if (decision == PATRON_DECISION_DISTINCT || decision == PATRON_DECISION_HOUSEHOLD)
            patron__sb_printf(&sb, "%snote: the matcher calls customer #%lld and customer #%lld %s (score %.2f); "
                                   "merging them is allowed",
                              sb.len ? "\n" : "", (long long)patron_customer_id(p->rec[0]),
                              (long long)patron_customer_id(p->rec[k]),
                              decision == PATRON_DECISION_HOUSEHOLD ? "two people of one household" : "distinct",
                              score);
    }
    if (sb.oom) {
        patron__sb_free(&sb);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    p->notes = sb.len ? patron__sb_detach(&sb, NULL) : NULL;
    patron__sb_free(&sb);
    return PATRON_OK;
}

static void update_problems(patron_merge_plan *p)
{
    patron_strbuf sb;
    patron__free(p->problems);
    p->problems = NULL;
    patron__sb_init(&sb);
    if (plan_blocked(p))
        patron__sb_puts(&sb, "the records have different logins: choose one with patron_merge_plan_take(plan, "
                             "PATRON_F_LOGIN_USER, k)");
    if (p->notes)
        patron__sb_printf(&sb, "%s%s", sb.len ? "\n" : "", p->notes);
    if (sb.len)
        p->problems = patron__sb_detach(&sb, NULL);
    patron__sb_free(&sb);
}

patron_status patron__plan_new_in_tx(patron_db *db, patron_merge_plan **out, int64_t survivor_id,
                                     const int64_t *dup_ids, size_t n_dups, int policy)
{
    patron_merge_plan *p;
    patron_status st = PATRON_OK;
    bool oom = false;
    *out = NULL;
    if (!dup_ids || n_dups == 0)
        return patron__db_error(db, PATRON_E_INVALID, "a merge needs at least one duplicate");
    if (policy != PATRON_MERGE_SURVIVOR && policy != PATRON_MERGE_NEWEST)
        return patron__db_error(db, PATRON_E_INVALID, "unknown merge policy %d", policy);
    for (size_t i = 0; i < n_dups; i++) {
        if (dup_ids[i] == survivor_id)
            return patron__db_error(db, PATRON_E_INVALID,
                                    "customer #%lld cannot be merged into itself", (long long)survivor_id);
        for (size_t j = 0; j < i; j++)
            if (dup_ids[j] == dup_ids[i])
                return patron__db_error(db, PATRON_E_INVALID, "customer #%lld is given twice",
                                        (long long)dup_ids[i]);
    }
    p = patron__calloc(1, sizeof *p);
    if (!p)
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    p->n = n_dups + 1;
    p->policy = policy;
    p->lock = PATRON_MERGE_LOCK_ANY;
    p->rec = patron__calloc(p->n, sizeof *p->rec);
    if (!p->rec) {
        patron_merge_plan_free(p);
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    }
    for (size_t k = 0; k < p->n && !st; k++) {
        int64_t id = k == 0 ? survivor_id : dup_ids[k - 1];
        st = patron__load_in_tx(db, &p->rec[k], id);
        if (!st && patron_customer_state(p->rec[k]) == PATRON_STATE_MERGED)
            st = patron__db_error(db, PATRON_E_STATE,
                                  "customer #%lld is already merged into another customer",
                                  (long long)id);
        if (!st && patron_customer_state(p->rec[k]) == PATRON_STATE_ERASED)
            st = patron__db_error(db, PATRON_E_STATE, "customer #%lld was erased", (long long)id);
    }
    if (st) {
        patron_merge_plan_free(p);
        return st;
    }
    for (int f = 1; f < PATRON_F__END; f++)
        p->choice[f] = NOT_MERGED;
    for (int f = 1; f < PATRON_F__END; f++)
        if (is_merged_field(f) && f != PATRON_F_NOTES && f != PATRON_F_LOGIN_USER)
            decide_field(p, f, &oom);
    decide_login(p);
    if (oom)
        st = PATRON_E_NOMEM;
    if (st || (st = decide_notes(p)) != 0) {
        patron_merge_plan_free(p);
        return patron__db_error(db, st, "out of memory");
    }
    p->addr_default = -1;
    if ((st = unite_lists(db, p)) != 0 || (st = plan_notes(db, p)) != 0) {
        patron_merge_plan_free(p);
        return st;
    }
    update_problems(p);
    *out = p;
    return PATRON_OK;
}

patron_status patron_merge_plan_new(patron_db *db, patron_merge_plan **out, int64_t survivor_id,
                                    const int64_t *dup_ids, size_t n_dups, patron_merge_policy policy)
{
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the plan (NULL)");
    *out = NULL;
    if ((st = patron__tx_begin_read(db)) != 0)
        return st;
    st = patron__tx_end(db, patron__plan_new_in_tx(db, out, survivor_id, dup_ids, n_dups, (int)policy));
    if (st) {
        patron_merge_plan_free(*out);
        *out = NULL;
        return st;
    }
    return patron__db_ok(db);
}

void patron_merge_plan_free(patron_merge_plan *p)
{
    if (!p)
        return;
    for (size_t k = 0; p->rec && k < p->n; k++)
        patron_customer_free(p->rec[k]);
    patron__free(p->rec);
    for (int f = 0; f < PATRON_F__END; f++)
        patron__free(p->custom[f]);
    patron_customer_free(p->lists);
    patron__free(p->problems);
    patron__free(p->notes);
    patron__free(p->addr_from);
    patron__free(p->addr_keep);
    patron__free(p->prop_choice);
    patron__free(p->prop_conflict);
    patron__free(p);
}

const char *patron_merge_plan_errmsg(const patron_merge_plan *p)
{
    return p ? p->errmsg : "no plan (NULL)";
}

size_t patron_merge_plan_count(const patron_merge_plan *p)
{
    return p ? p->n : 0;
}

const patron_customer *patron_merge_plan_record(const patron_merge_plan *p, size_t k)
{
    return p && k < p->n ? p->rec[k] : NULL;
}

patron_status patron_merge_plan_choice(const patron_merge_plan *p, int *out, int f)
{
    if (out)
        *out = NOT_MERGED;
    if (!p || !out)
        return PATRON_E_INVALID;
    if (f <= 0 || f >= PATRON_F__END)
        return PATRON_E_RANGE;
    *out = p->choice[f];
    return PATRON_OK;
}

const char *patron_merge_plan_value(const patron_merge_plan *p, int f)
{
    int c;
    if (!p || f <= 0 || f >= PATRON_F__END)
        return NULL;
    if (f == PATRON_F_LOGIN_HASH)
        return NULL; /* never handed out through a plan */
    c = p->choice[f];
    if (c == NOT_MERGED)
        return patron_customer_get(p->rec[0], f);
    if (c == PATRON_MERGE_CUSTOM)
        return p->custom[f];
    return patron_customer_get(p->rec[c], f);
}

int patron_merge_plan_conflict(const patron_merge_plan *p, int f)
{
    if (!p || f <= 0 || f >= PATRON_F__END)
        return 0;
    return p->conflict[f];
}

patron_status patron_merge_plan_take(patron_merge_plan *p, int f, size_t k)
{
    if (!p)
        return PATRON_E_INVALID;
    if (f <= 0 || f >= PATRON_F__END || p->choice[f] == NOT_MERGED)
        return plan_error(p, PATRON_E_INVALID, "field %s is not chosen in a merge",
                          patron_field_name(f) ? patron_field_name(f) : "(unknown)");
    if (k >= p->n)
        return plan_error(p, PATRON_E_RANGE, "the plan has no record at position %zu", k);
    if (f == PATRON_F_LOGIN_USER) {
        if (!nonempty(login_of(p->rec[k]))) {
            for (size_t j = 0; j < p->n; j++)
                if (nonempty(login_of(p->rec[j])))
                    return plan_error(p, PATRON_E_INVALID,
                                      "record %zu has no login; an online customer's login is never "
                                      "replaced by an offline record's", k);
        }
        p->login_explicit = true;
    }
    patron__free(p->custom[f]);
    p->custom[f] = NULL;
    p->choice[f] = (int)k;
    update_problems(p);
    p->errmsg[0] = '\0';
    return PATRON_OK;
}

patron_status patron_merge_plan_set(patron_merge_plan *p, int f, const char *value)
{
    const patron__field_info *fi;
    const char *canon;
    char cbuf[256], *copy = NULL;
    patron_status st;
    if (!p)
        return PATRON_E_INVALID;
    if (f <= 0 || f >= PATRON_F__END || p->choice[f] == NOT_MERGED)
        return plan_error(p, PATRON_E_INVALID, "field %s is not chosen in a merge",
                          patron_field_name(f) ? patron_field_name(f) : "(unknown)");
    if (f == PATRON_F_LOGIN_USER)
        return plan_error(p, PATRON_E_INVALID,
                          "the login moves as a unit: take it from a record, do not set it");
    fi = patron__field(f);
    if (nonempty(value)) {
        st = patron__check_value(fi->name, fi, value, p->errmsg, sizeof p->errmsg, &canon, cbuf,
                                 sizeof cbuf);
        if (st)
            return st;
        if (!(copy = patron__strdup(canon ? canon : value)))
            return plan_error(p, PATRON_E_NOMEM, "out of memory");
    }
    patron__free(p->custom[f]);
    p->custom[f] = copy;
    p->choice[f] = PATRON_MERGE_CUSTOM;
    p->errmsg[0] = '\0';
    return PATRON_OK;
}

patron_status patron_merge_plan_set_lock(patron_merge_plan *p, patron_merge_lock lock)
{
    if (!p)
        return PATRON_E_INVALID;
    if ((int)lock < PATRON_MERGE_LOCK_ANY || (int)lock > PATRON_MERGE_LOCK_LOCKED)
        return plan_error(p, PATRON_E_INVALID,
                          "lock must be PATRON_MERGE_LOCK_ANY, _UNLOCKED or _LOCKED, not %d", (int)lock);
    p->lock = (int)lock;
    return PATRON_OK;
}

patron_status patron_merge_plan_set_activate(patron_merge_plan *p, int activate)
{
    if (!p)
        return PATRON_E_INVALID;
    p->activate = activate != 0;
    return PATRON_OK;
}

const char *patron_merge_plan_problems(const patron_merge_plan *p)
{
    return p && p->problems ? p->problems : "";
}

int patron_merge_plan_blocked(const patron_merge_plan *p)
{
    return p ? plan_blocked(p) : 1;
}

size_t patron_merge_plan_address_count(const patron_merge_plan *p)
{
    return p ? p->n_addr : 0;
}

const char *patron_merge_plan_address_get(const patron_merge_plan *p, size_t i, int field)
{
    if (!p || i >= p->n_addr)
        return NULL;
    return patron_customer_address_get(p->lists, i, field);
}

int patron_merge_plan_address_from(const patron_merge_plan *p, size_t i, size_t k)
{
    if (!p || i >= p->n_addr || k >= p->n)
        return 0;
    return p->addr_from[i * p->n + k];
}

int patron_merge_plan_address_kept(const patron_merge_plan *p, size_t i)
{
    if (!p || i >= p->n_addr)
        return 0;
    return p->addr_keep[i];
}

patron_status patron_merge_plan_address_keep(patron_merge_plan *p, size_t i, int keep)
{
    if (!p)
        return PATRON_E_INVALID;
    if (i >= p->n_addr)
        return plan_error(p, PATRON_E_RANGE, "the plan has no address at position %zu (it has %zu)", i,
                          p->n_addr);
    p->addr_keep[i] = keep != 0;
    if (!keep && p->addr_default == (long)i)
        p->addr_default = -1;
    p->errmsg[0] = '\0';
    return PATRON_OK;
}

patron_status patron_merge_plan_address_set_default(patron_merge_plan *p, size_t i)
{
    if (!p)
        return PATRON_E_INVALID;
    if (i >= p->n_addr)
        return plan_error(p, PATRON_E_RANGE, "the plan has no address at position %zu (it has %zu)", i,
                          p->n_addr);
    if (!p->addr_keep[i])
        return plan_error(p, PATRON_E_INVALID, "address %zu is dropped: keep it before making it the default", i);
    p->addr_default = (long)i;
    p->errmsg[0] = '\0';
    return PATRON_OK;
}

size_t patron_merge_plan_prop_count(const patron_merge_plan *p)
{
    return p ? p->n_prop : 0;
}

patron_status patron_merge_plan_prop_at(const patron_merge_plan *p, const char **key_out, const char **value_out,
                                        int *choice_out, int *conflict_out, size_t i)
{
    const char *key = NULL, *val = NULL;
    if (!p)
        return PATRON_E_INVALID;
    if (i >= p->n_prop)
        return PATRON_E_RANGE;
    patron_customer_prop_at(p->lists, &key, &val, i);
    if (key_out)
        *key_out = key;
    if (value_out)
        *value_out = val;
    if (choice_out)
        *choice_out = p->prop_choice[i];
    if (conflict_out)
        *conflict_out = p->prop_conflict[i];
    return PATRON_OK;
}

patron_status patron_merge_plan_prop_take(patron_merge_plan *p, const char *key, size_t k)
{
    const char *v;
    patron_status st;
    size_t i;
    if (!p)
        return PATRON_E_INVALID;
    if (!key)
        return plan_error(p, PATRON_E_INVALID, "no property key (NULL)");
    for (i = 0; i < p->n_prop; i++) {
        const char *ki = NULL;
        patron_customer_prop_at(p->lists, &ki, NULL, i);
        if (ki && strcmp(ki, key) == 0)
            break;
    }
    if (i == p->n_prop)
        return plan_error(p, PATRON_E_NOT_FOUND, "no record of the plan has the property '%.100s'", key);
    if (k >= p->n)
        return plan_error(p, PATRON_E_RANGE, "the plan has no record at position %zu", k);
    if (!(v = patron_customer_prop_get(p->rec[k], key)))
        return plan_error(p, PATRON_E_INVALID, "record %zu has no property '%.100s'", k, key);
    /* replacing a value keeps the key's place in the list */
    if ((st = patron_customer_prop_set(p->lists, key, v)) != 0)
        return plan_error(p, st, "out of memory");
    p->prop_choice[i] = (int)k;
    p->errmsg[0] = '\0';
    return PATRON_OK;
}

static bool plan_locks(const patron_merge_plan *p)
{
    if (p->lock != PATRON_MERGE_LOCK_ANY)
        return p->lock == PATRON_MERGE_LOCK_LOCKED;
    for (size_t k = 0; k < p->n; k++)
        if (patron_customer_locked(p->rec[k]))
            return true;
    return false;
}

patron_status patron_merge_plan_to_json(const patron_merge_plan *p, char **out, unsigned flags)
{
    patron_strbuf sb;
    bool pretty = flags & PATRON_JSON_PRETTY;
    const char *nl = pretty ? "\n" : "", *in1 = pretty ? "  " : "", *in2 = pretty ? "    " : "";
    if (!out || !p)
        return PATRON_E_INVALID;
    *out = NULL;
    patron__sb_init(&sb);
    patron__sb_printf(&sb, "{%s%s\"records\": [", nl, in1);
    for (size_t k = 0; k < p->n; k++) {
        patron__sb_printf(&sb, "%s%s%s", k ? "," : "", nl, in2);
        patron__json_customer(&sb, p->rec[k], 0, 0);
    }
    patron__sb_printf(&sb, "%s%s],%s%s\"fields\": {", nl, in1, nl, in1);
    {
        bool first = true;
        for (int f = 1; f < PATRON_F__END; f++) {
            const char *v;
            if (p->choice[f] == NOT_MERGED)
                continue;
            patron__sb_printf(&sb, "%s%s%s", first ? "" : ",", nl, in2);
            first = false;
            patron__json_str(&sb, patron_field_name(f));
            patron__sb_puts(&sb, ": {\"values\": [");
            for (size_t k = 0; k < p->n; k++) {
                const char *rv = patron_customer_get(p->rec[k], f);
                if (k)
                    patron__sb_puts(&sb, ", ");
                if (rv)
                    patron__json_str(&sb, rv);
                else
                    patron__sb_puts(&sb, "null");
            }
            patron__sb_puts(&sb, "], \"choice\": ");
            if (p->choice[f] == PATRON_MERGE_CUSTOM)
                patron__sb_puts(&sb, "\"custom\"");
            else
                patron__sb_printf(&sb, "%d", p->choice[f]);
            patron__sb_puts(&sb, ", \"result\": ");
            v = patron_merge_plan_value(p, f);
            if (v)
                patron__json_str(&sb, v);
            else
                patron__sb_puts(&sb, "null");
            patron__sb_printf(&sb, ", \"conflict\": %s}", p->conflict[f] ? "true" : "false");
        }
    }
    patron__sb_printf(&sb, "%s%s},%s%s\"lists\": ", nl, in1, nl, in1);
    patron__json_customer(&sb, p->lists, 0, 0);
    /* per united address (in the order of lists.addresses): the records
     * holding a form of it and whether it is kept */
    patron__sb_printf(&sb, ",%s%s\"addresses\": [", nl, in1);
    for (size_t i = 0; i < p->n_addr; i++) {
        bool first = true;
        patron__sb_printf(&sb, "%s{\"from\": [", i ? ", " : "");
        for (size_t k = 0; k < p->n; k++)
            if (p->addr_from[i * p->n + k]) {
                patron__sb_printf(&sb, "%s%zu", first ? "" : ", ", k);
                first = false;
            }
        patron__sb_printf(&sb, "], \"kept\": %s, \"default\": %s}", p->addr_keep[i] ? "true" : "false",
                          p->addr_default == (long)i ? "true" : "false");
    }
    patron__sb_printf(&sb, "],%s%s\"properties\": {", nl, in1);
    for (size_t i = 0; i < p->n_prop; i++) {
        const char *key = NULL, *val = NULL;
        patron_customer_prop_at(p->lists, &key, &val, i);
        patron__sb_printf(&sb, "%s%s%s", i ? "," : "", nl, in2);
        patron__json_str(&sb, key);
        patron__sb_puts(&sb, ": {\"values\": [");
        for (size_t k = 0; k < p->n; k++) {
            const char *rv = patron_customer_prop_get(p->rec[k], key);
            if (k)
                patron__sb_puts(&sb, ", ");
            if (rv)
                patron__json_str(&sb, rv);
            else
                patron__sb_puts(&sb, "null");
        }
        patron__sb_printf(&sb, "], \"choice\": %d, \"result\": ", p->prop_choice[i]);
        patron__json_str(&sb, val ? val : "");
        patron__sb_printf(&sb, ", \"conflict\": %s}", p->prop_conflict[i] ? "true" : "false");
    }
    patron__sb_printf(&sb, "%s%s}", p->n_prop ? nl : "", p->n_prop ? in1 : "");
    patron__sb_printf(&sb, ",%s%s\"blocked\": %s", nl, in1, plan_blocked(p) ? "true" : "false");
    patron__sb_printf(&sb, ",%s%s\"locked\": %s,%s%s\"activate\": %s,%s%s\"problems\": ", nl, in1,
                      plan_locks(p) ? "true" : "false", nl, in1, p->activate ? "true" : "false", nl,
                      in1);
    patron__json_str(&sb, p->problems ? p->problems : "");
    patron__sb_printf(&sb, "%s}", nl);
    *out = patron__sb_detach(&sb, NULL);
    return *out ? PATRON_OK : PATRON_E_NOMEM;
}

/* ---- applying a plan ------------------------------------------------------ */

typedef struct reasons {
    patron_strbuf sb;
    size_t n;
} reasons;

static int add_reason(void *ctx, const char *reason)
{
    reasons *r = ctx;
    patron__sb_puts(&r->sb, r->n++ ? "; " : "");
    patron__sb_puts(&r->sb, reason);
    return 0;
}

typedef struct moved {
    patron_strbuf *payload;
    int64_t from;
    size_t n;
} moved;

static void put_hex(patron_strbuf *sb, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char two[2] = { hex[c >> 4], hex[c & 15] };
        patron__sb_putn(sb, two, 2);
    }
    if (n == 0)
        patron__sb_putc(sb, '-');
}

static int add_moved(void *ctx, const char *kind, const char *ref)
{
    moved *m = ctx;
    patron__sb_printf(m->payload, "ref %lld ", (long long)m->from);
    put_hex(m->payload, kind, strlen(kind));
    patron__sb_putc(m->payload, ' ');
    put_hex(m->payload, ref, strlen(ref));
    patron__sb_putc(m->payload, '\n');
    m->n++;
    return m->payload->oom ? 1 : 0;
}

/* The united addresses the caller keeps, with one default: the one chosen,
 * else the survivor's if kept, else — when the survivor's default was
 * dropped — the first kept one.  Untouched when nothing was chosen. */
static patron_status kept_addresses(const patron_merge_plan *p, patron_customer *l)
{
    size_t orig = (size_t)-1, def;
    patron_status st = PATRON_OK;
    for (size_t i = 0; i < p->n_addr && orig == (size_t)-1; i++) {
        const char *d = patron_customer_address_get(l, i, PATRON_A_DEFAULT);
        if (nonempty(d) && strcmp(d, "0") != 0)
            orig = i;
    }
    def = orig;
    if (p->addr_default >= 0)
        def = (size_t)p->addr_default;
    else if (orig != (size_t)-1 && !p->addr_keep[orig])
        for (def = 0; def < p->n_addr && !p->addr_keep[def]; def++)
            ;
    if (def != orig && def < p->n_addr) {
        if (orig != (size_t)-1)
            st = patron__cust_put_addr(l, orig, PATRON_A_DEFAULT, NULL);
        if (!st)
            st = patron__cust_put_addr(l, def, PATRON_A_DEFAULT, "1");
    }
    for (size_t i = p->n_addr; i-- > 0 && !st;)
        if (!p->addr_keep[i])
            st = patron_customer_address_remove(l, i);
    return st;
}

/* The survivor as the plan says. */
static patron_status build_survivor(patron_db *db, const patron_merge_plan *p,
                                    const patron_customer *cur, patron_customer *w, int64_t now)
{
    patron_status st = patron__cust_copy(w, cur);
    int lc;
    if (st)
        return patron__db_error(db, st, "out of memory");
    for (int f = 1; f < PATRON_F__END && !st; f++)
        if (p->choice[f] != NOT_MERGED && f != PATRON_F_LOGIN_USER)
            st = patron__cust_put(w, f, patron_merge_plan_value(p, f));
    /* the consent taken from a record keeps its proof: when and from where */
    lc = p->choice[PATRON_F_NEWSLETTER];
    if (!st && lc > 0 && lc < (int)p->n &&
        (patron__cust_put(w, PATRON_F_NEWSLETTER_AT, patron_customer_get(p->rec[lc], PATRON_F_NEWSLETTER_AT)) ||
         patron__cust_put(w, PATRON_F_NEWSLETTER_SOURCE,
                          patron_customer_get(p->rec[lc], PATRON_F_NEWSLETTER_SOURCE))))
        st = PATRON_E_NOMEM;
    else if (!st && lc > 0 && lc < (int)p->n && w->f[PATRON_F_NEWSLETTER_AT])
        w->consent_carried = true; /* (without a time, stamped as a change) */
    lc = p->choice[PATRON_F_LOGIN_USER];
    if (!st && lc >= 0) {
        st = patron__cust_put(w, PATRON_F_LOGIN_USER, login_of(p->rec[lc]));
        if (!st)
            st = patron__cust_put(w, PATRON_F_LOGIN_HASH,
                                  patron_customer_get(p->rec[lc], PATRON_F_LOGIN_HASH));
    }
    if (!st) {
        /* the lists: replace the survivor's by the united ones */
        patron_customer tmp;
        memset(&tmp, 0, sizeof tmp);
        st = patron__cust_copy(&tmp, p->lists);
        if (!st)
            st = kept_addresses(p, &tmp);
        if (!st) {
            for (int f = 0; f < PATRON_F__END; f++) {
                patron__free(tmp.f[f]);
                tmp.f[f] = w->f[f];
                w->f[f] = NULL;
            }
            tmp.consent_carried = w->consent_carried; /* (with the values it is about) */
            patron__cust_move(w, &tmp);
        }
    }
    if (!st) {
        bool lock = plan_locks(p), was = patron_customer_locked(cur);
        if (lock && !was) {
            char reason[96];
            snprintf(reason, sizeof reason, "merged with a locked customer");
            for (size_t k = 1; k < p->n; k++)
                if (patron_customer_locked(p->rec[k])) {
                    const char *r = patron_customer_get(p->rec[k], PATRON_F_LOCK_REASON);
                    snprintf(reason, sizeof reason, "%.80s", r ? r : "merged with a locked customer");
                    break;
                }
            st = patron__cust_put(w, PATRON_F_LOCKED, "1");
            if (!st)
                st = patron__cust_put(w, PATRON_F_LOCK_REASON, reason);
            if (!st)
                st = patron__cust_put_i64(w, PATRON_F_LOCKED_AT, now);
        } else if (!lock && was) {
            st = patron__cust_put(w, PATRON_F_LOCKED, "0");
            if (!st)
                st = patron__cust_put(w, PATRON_F_LOCK_REASON, NULL);
            if (!st)
                st = patron__cust_put(w, PATRON_F_LOCKED_AT, NULL);
        }
    }
    if (!st)
        st = patron__cust_put_i64(w, PATRON_F_REVISION, (int64_t)patron_customer_revision(cur) + 1);
    if (!st)
        st = patron__cust_put_i64(w, PATRON_F_UPDATED_AT, now);
    if (st)
        return patron__db_error(db, st, "out of memory");
    if ((st = patron_customer_validate(w)) != 0)
        return patron__db_error(db, st, "the merged record is not valid: %s", w->errmsg);
    return PATRON_OK;
}

static patron_status pack_into(patron_db *db, patron_strbuf *payload, const patron_customer *c,
                               uint64_t after_rev)
{
    char *packed;
    size_t len;
    if (patron_record_pack(&packed, &len, c) != PATRON_OK)
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    patron__sb_printf(payload, "record %lld %llu ", (long long)patron_customer_id(c),
                      (unsigned long long)after_rev);
    put_hex(payload, packed, len);
    patron__sb_putc(payload, '\n');
    patron__free(packed);
    return PATRON_OK;
}

static patron_status apply_in_tx(patron_db *db, patron_merge_plan *p, patron_strbuf *payload,
                                 int64_t *journal_id)
{
    patron_customer **cur = patron__calloc(p->n, sizeof *cur);
    patron_customer w;
    reasons why;
    patron_status st = PATRON_OK;
    int64_t now = (int64_t)time(NULL), sid = patron_customer_id(p->rec[0]);
    size_t refs = 0;
    memset(&w, 0, sizeof w);
    patron__sb_init(&why.sb);
    why.n = 0;
    if (!cur)
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");

    /* The records as they are now: unchanged since the plan was made? */
    for (size_t k = 0; k < p->n && !st; k++) {
        int64_t id = patron_customer_id(p->rec[k]);
        st = patron__load_in_tx(db, &cur[k], id);
        if (!st && patron_customer_revision(cur[k]) != patron_customer_revision(p->rec[k]))
            st = patron__db_error(db, PATRON_E_CONFLICT,
                                  "customer #%lld was changed since the merge plan was made; "
                                  "make a new plan", (long long)id);
        if (!st && patron_customer_state(cur[k]) == PATRON_STATE_MERGED)
            st = patron__db_error(db, PATRON_E_STATE, "customer #%lld is already merged",
                                  (long long)id);
        if (!st && patron_customer_state(cur[k]) == PATRON_STATE_ERASED)
            st = patron__db_error(db, PATRON_E_STATE, "customer #%lld was erased", (long long)id);
    }
    if (!st && patron_customer_state(cur[0]) == PATRON_STATE_PENDING && !p->activate)
        st = patron__db_error(db, PATRON_E_STATE,
                              "the survivor #%lld is a pending shop customer; allow its activation "
                              "with patron_merge_plan_set_activate() or merge it into an active one",
                              (long long)sid);
    /* References that cannot move */
    for (size_t k = 1; k < p->n && !st && patron__st_has(db, PATRON__CAP_CHECK_REFS); k++) {
        reasons one;
        patron__sb_init(&one.sb);
        one.n = 0;
        st = patron__st_check_refs(db, patron_customer_id(p->rec[k]), add_reason, &one);
        if (!st && one.n) {
            patron__sb_printf(&why.sb, "%scustomer #%lld: %s", why.n ? "; " : "",
                              (long long)patron_customer_id(p->rec[k]), one.sb.buf ? one.sb.buf : "");
            why.n += one.n;
            why.sb.oom |= one.sb.oom;
        }
        patron__sb_free(&one.sb);
    }
    if (!st && why.n)
        st = patron__db_error(db, PATRON_E_STATE, "merge refused: %s", why.sb.buf);
    if (!st && why.sb.oom)
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");

    /* Before-images first: the journal must hold the records as they were. */
    patron__sb_puts(payload, "patron-merge 1\n");
    patron__sb_printf(payload, "summary merged");
    for (size_t k = 1; k < p->n; k++)
        patron__sb_printf(payload, "%s #%lld%s%s", k > 1 ? "," : "",
                          (long long)patron_customer_id(p->rec[k]),
                          patron_customer_get(p->rec[k], PATRON_F_NUMBER) ? " " : "",
                          patron_customer_get(p->rec[k], PATRON_F_NUMBER)
                              ? patron_customer_get(p->rec[k], PATRON_F_NUMBER)
                              : "");
    patron__sb_printf(payload, " into #%lld %s\n", (long long)sid,
                      patron_customer_get(p->rec[0], PATRON_F_NUMBER)
                          ? patron_customer_get(p->rec[0], PATRON_F_NUMBER)
                          : "(pending)");
    patron__sb_printf(payload, "survivor %lld\n", (long long)sid);
    for (size_t k = 0; k < p->n && !st; k++)
        st = pack_into(db, payload, cur[k], patron_customer_revision(cur[k]) + 1);

    /* Each duplicate: its references to the survivor, then marked merged. */
    for (size_t k = 1; k < p->n && !st; k++) {
        patron_customer d;
        int64_t did = patron_customer_id(cur[k]);
        memset(&d, 0, sizeof d);
        if (patron__st_has(db, PATRON__CAP_RELINK)) {
            moved m = { payload, did, 0 };
            st = patron__st_relink(db, did, sid, add_moved, &m);
            refs += m.n;
        }
        if (!st && (st = patron__cust_copy(&d, cur[k])) != 0)
            patron__db_error(db, st, "out of memory");
        if (!st) {
            char into[24];
            snprintf(into, sizeof into, "%lld", (long long)sid);
            if (patron__cust_put(&d, PATRON_F_STATE, "merged") ||
                patron__cust_put(&d, PATRON_F_MERGED_INTO, into) ||
                patron__cust_put(&d, PATRON_F_LOGIN_USER, NULL) ||
                patron__cust_put(&d, PATRON_F_LOGIN_HASH, NULL))
                st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        }
        if (!st)
            st = patron__save_changed(db, &d, cur[k], now);
        patron__cust_clear(&d);
    }

    /* The survivor. */
    if (!st)
        st = build_survivor(db, p, cur[0], &w, now);
    if (!st && patron_customer_state(cur[0]) == PATRON_STATE_PENDING) {
        if (patron__cust_put(&w, PATRON_F_STATE, "active"))
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        if (!st)
            st = patron__assign_number(db, &w);
    }
    /* the one save path: revision, keys, uniqueness, the group */
    if (!st)
        st = patron__save_changed(db, &w, cur[0], now);

    if (!st) {
        patron_journal_entry e;
        if (payload->oom)
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        memset(&e, 0, sizeof e);
        e.time = now;
        e.kind = "merge";
        e.customer_id = sid;
        e.payload = payload->buf;
        if (!st)
            st = patron__st_journal_append(db, &e, journal_id);
    }
    (void)refs;
    patron__cust_clear(&w);
    patron__sb_free(&why.sb);
    for (size_t k = 0; k < p->n; k++)
        patron_customer_free(cur[k]);
    patron__free(cur);
    return st;
}

patron_status patron__merge_in_tx(patron_db *db, patron_merge_plan *p, int64_t *journal_id)
{
    patron_strbuf payload;
    patron_status st;
    if (plan_blocked(p))
        return patron__db_error(db, PATRON_E_STATE, "the plan cannot be applied: %s", p->problems);
    if (!patron__st_has(db, PATRON__CAP_JOURNAL))
        return patron__db_error(db, PATRON_E_UNSUPPORTED,
                                "this store keeps no journal, so a merge could not be undone");
    patron__sb_init(&payload);
    st = apply_in_tx(db, p, &payload, journal_id);
    patron__sb_free(&payload);
    return st;
}

patron_status patron_db_merge(patron_db *db, int64_t *journal_id, patron_merge_plan *p)
{
    int64_t jid = 0;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!p)
        return patron__db_error(db, PATRON_E_INVALID, "no plan given (NULL)");
    if (plan_blocked(p))
        return patron__db_error(db, PATRON_E_STATE, "the plan cannot be applied: %s", p->problems);
    if (!patron__st_has(db, PATRON__CAP_JOURNAL))
        return patron__db_error(db, PATRON_E_UNSUPPORTED,
                                "this store keeps no journal, so a merge could not be undone");
    if ((st = patron__tx_begin(db)) != 0)
        return st;
    st = patron__tx_end(db, patron__merge_in_tx(db, p, &jid));
    if (st)
        return st;
    if (journal_id)
        *journal_id = jid;
    return patron__db_ok(db);
}

/* ---- undo ------------------------------------------------------------------- */

typedef struct jcopy {
    int64_t id, customer_id, undone_by;
    char *kind, *payload;
} jcopy;

static int copy_entry(void *ctx, const patron_journal_entry *e)
{
    jcopy *j = ctx;
    j->id = e->id;
    j->customer_id = e->customer_id;
    j->undone_by = e->undone_by;
    j->kind = patron__strdup(e->kind ? e->kind : "");
    j->payload = patron__strdup(e->payload ? e->payload : "");
    return 0;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : (c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1);
}

typedef struct urec {
    int64_t id;
    uint64_t after_rev;
    uint64_t stored_rev; /* the revision stored when undo checked it */
    patron_customer *before;
} urec;

typedef struct uref {
    int64_t from;
    char *kind, *ref;
} uref;

typedef struct parsed {
    int64_t survivor;
    urec *recs;
    size_t n_recs;
    uref *refs;
    size_t n_refs;
} parsed;

static void parsed_free(parsed *pr)
{
    for (size_t i = 0; i < pr->n_recs; i++)
        patron_customer_free(pr->recs[i].before);
    for (size_t i = 0; i < pr->n_refs; i++) {
        patron__free(pr->refs[i].kind);
        patron__free(pr->refs[i].ref);
    }
    patron__free(pr->recs);
    patron__free(pr->refs);
    memset(pr, 0, sizeof *pr);
}

/* Decode the hex word [w, w + n) into a new NUL-terminated string ("-" is
 * the empty string).  PATRON_E_INVALID if it is not hex or holds a NUL byte
 * where `text` is asked for, PATRON_E_NOMEM if memory ran out. */
static patron_status unhex(const char *w, size_t n, bool text, char **out, size_t *len_out)
{
    char *o;
    *out = NULL;
    if (n == 1 && w[0] == '-')
        n = 0;
    else if (n == 0 || n % 2)
        return PATRON_E_INVALID;
    o = patron__malloc(n / 2 + 1);
    if (!o)
        return PATRON_E_NOMEM;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(w[i]), lo = hexval(w[i + 1]);
        if (hi < 0 || lo < 0 || (text && hi == 0 && lo == 0)) {
            patron__free(o);
            return PATRON_E_INVALID;
        }
        o[i / 2] = (char)(hi << 4 | lo);
    }
    o[n / 2] = '\0';
    *out = o;
    if (len_out)
        *len_out = n / 2;
    return PATRON_OK;
}

/* The next space-separated word of the line [*p, end): its start and length;
 * *p moves past it and the one space after it.  false at the end of the
 * line, or on an empty word (two spaces, a trailing space). */
static bool next_word(const char **p, const char *end, const char **w, size_t *n)
{
    const char *s = *p, *e = s;
    while (e < end && *e != ' ')
        e++;
    if (e == s)
        return false;
    *w = s;
    *n = (size_t)(e - s);
    if (e < end) {
        e++; /* the space; a word must follow it */
        if (e == end)
            return false;
    }
    *p = e;
    return true;
}

/* A decimal number of 1 to 19 digits, nothing else. */
static bool word_u64(const char *w, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 19)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (w[i] < '0' || w[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(w[i] - '0');
    }
    *out = v;
    return true;
}

/* A customer id: a number > 0 that fits int64_t. */
static bool word_id(const char *w, size_t n, int64_t *out)
{
    uint64_t v;
    if (!word_u64(w, n, &v) || v == 0 || v > (uint64_t)INT64_MAX)
        return false;
    *out = (int64_t)v;
    return true;
}

/* One "record <id> <revision> <hex>" line, [p, end) after "record ". */
static patron_status parse_record(const char *p, const char *end, urec *r, const char **why)
{
    const char *w[3];
    size_t n[3], len;
    char *packed;
    patron_status st;
    memset(r, 0, sizeof *r);
    for (int i = 0; i < 3; i++)
        if (!next_word(&p, end, &w[i], &n[i])) {
            *why = "a record line has too few fields";
            return PATRON_E_INVALID;
        }
    if (p != end) {
        *why = "a record line has too many fields";
        return PATRON_E_INVALID;
    }
    if (!word_id(w[0], n[0], &r->id) || !word_u64(w[1], n[1], &r->after_rev)) {
        *why = "a record line has a bad id or revision";
        return PATRON_E_INVALID;
    }
    if ((st = unhex(w[2], n[2], false, &packed, &len)) != 0) {
        *why = "a record line's before-image is not hex";
        return st;
    }
    st = patron_customer_new(&r->before);
    if (!st)
        st = patron_record_unpack(r->before, packed, len);
    patron__free(packed);
    if (!st && patron_customer_id(r->before) != r->id)
        st = PATRON_E_INVALID;
    if (st) {
        if (st != PATRON_E_NOMEM)
            st = PATRON_E_INVALID;
        *why = "a record line's before-image is not a record of that id";
        patron_customer_free(r->before);
        r->before = NULL;
    }
    return st;
}

/* One "ref <from id> <hex kind> <hex ref>" line, [p, end) after "ref ". */
static patron_status parse_ref(const char *p, const char *end, uref *f, const char **why)
{
    const char *w[3];
    size_t n[3];
    patron_status st;
    memset(f, 0, sizeof *f);
    for (int i = 0; i < 3; i++)
        if (!next_word(&p, end, &w[i], &n[i])) {
            *why = "a reference line has too few fields";
            return PATRON_E_INVALID;
        }
    if (p != end) {
        *why = "a reference line has too many fields";
        return PATRON_E_INVALID;
    }
    if (!word_id(w[0], n[0], &f->from)) {
        *why = "a reference line has a bad customer id";
        return PATRON_E_INVALID;
    }
    st = unhex(w[1], n[1], true, &f->kind, NULL);
    if (!st)
        st = unhex(w[2], n[2], true, &f->ref, NULL);
    if (!st && (!f->kind[0] || !f->ref[0]))
        st = PATRON_E_INVALID;
    if (st) {
        *why = "a reference line's kind or id is not hex text";
        patron__free(f->kind);
        patron__free(f->ref);
        f->kind = f->ref = NULL;
    }
    return st;
}

/* Read a merge payload.  Every byte of it came from the store, so nothing
 * is trusted: each line is read within its own bounds, numbers and hex are
 * checked in full, the before-images are unpacked (which checks them), and
 * the whole must name a survivor among at least two distinct records.
 * PATRON_E_INVALID (with *why) if the payload is damaged, PATRON_E_NOMEM if
 * memory ran out reading it. */
static patron_status parse_payload(const char *s, parsed *pr, const char **why)
{
    size_t cap_r = 0, cap_f = 0;
    patron_status st = PATRON_OK;
    bool have_survivor = false, survivor_listed = false;
    memset(pr, 0, sizeof *pr);
    *why = "it does not begin with \"patron-merge 1\"";
    if (strncmp(s, "patron-merge 1\n", 15) != 0)
        return PATRON_E_INVALID;
    for (const char *line = s + 15; *line && !st;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        const char *next = nl ? nl + 1 : end;
        size_t n = (size_t)(end - line);
        if (n >= 9 && memcmp(line, "survivor ", 9) == 0) {
            const char *p = line + 9, *w;
            size_t wn;
            if (have_survivor || !next_word(&p, end, &w, &wn) || p != end ||
                !word_id(w, wn, &pr->survivor)) {
                *why = "its survivor line is bad or repeated";
                st = PATRON_E_INVALID;
            }
            have_survivor = true;
        } else if (n >= 7 && memcmp(line, "record ", 7) == 0) {
            urec r;
            if ((st = parse_record(line + 7, end, &r, why)) != 0)
                break;
            for (size_t i = 0; i < pr->n_recs && !st; i++)
                if (pr->recs[i].id == r.id) {
                    *why = "it names a record twice";
                    st = PATRON_E_INVALID;
                }
            if (!st && pr->n_recs == cap_r) {
                size_t nc = cap_r ? cap_r * 2 : 4;
                urec *nr = patron__realloc(pr->recs, nc * sizeof *nr);
                if (nr) {
                    pr->recs = nr;
                    cap_r = nc;
                } else {
                    st = PATRON_E_NOMEM;
                }
            }
            if (st) {
                patron_customer_free(r.before);
                break;
            }
            pr->recs[pr->n_recs++] = r;
        } else if (n >= 4 && memcmp(line, "ref ", 4) == 0) {
            uref f;
            if ((st = parse_ref(line + 4, end, &f, why)) != 0)
                break;
            if (pr->n_refs == cap_f) {
                size_t nc = cap_f ? cap_f * 2 : 8;
                uref *nf = patron__realloc(pr->refs, nc * sizeof *nf);
                if (!nf) {
                    patron__free(f.kind);
                    patron__free(f.ref);
                    st = PATRON_E_NOMEM;
                    break;
                }
                pr->refs = nf;
                cap_f = nc;
            }
            pr->refs[pr->n_refs++] = f;
        } else if (!(n >= 8 && memcmp(line, "summary ", 8) == 0)) {
            /* version 1 has these lines only; a later format changes the first line */
            *why = "it has a line of unknown kind";
            st = PATRON_E_INVALID;
        }
        line = next;
    }
    if (!st) {
        for (size_t i = 0; i < pr->n_recs; i++)
            survivor_listed |= pr->recs[i].id == pr->survivor;
        for (size_t i = 0; i < pr->n_refs && !st; i++) {
            bool known = false;
            for (size_t k = 0; k < pr->n_recs; k++)
                known |= pr->recs[k].id == pr->refs[i].from && pr->refs[i].from != pr->survivor;
            if (!known) {
                *why = "a reference line names no duplicate of the merge";
                st = PATRON_E_INVALID;
            }
        }
        if (!st && (!have_survivor || !survivor_listed || pr->n_recs < 2)) {
            *why = "it lacks the survivor or a duplicate";
            st = PATRON_E_INVALID;
        }
    }
    if (st)
        parsed_free(pr);
    return st;
}

/* Undo writes new revisions, so a record undone by a later merge's undo
 * has the content it had at `rev` under a higher revision.  Each undo entry
 * says so in lines "restored <id> <image revision> <new revision>": follow
 * them, in journal order after entry `jid`, from `rev` on. */
typedef struct revmap {
    int64_t id;
    uint64_t rev;
} revmap;

static int follow_restored(void *ctx, const patron_journal_entry *e)
{
    revmap *m = ctx;
    const char *s = e->payload;
    if (!e->kind || strcmp(e->kind, "undo") != 0 || !s)
        return 0;
    for (const char *line = s; *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        if ((size_t)(end - line) > 9 && memcmp(line, "restored ", 9) == 0) {
            const char *p = line + 9, *w[3];
            size_t n[3];
            int64_t id;
            uint64_t from, to;
            bool ok = true;
            for (int i = 0; i < 3 && ok; i++)
                ok = next_word(&p, end, &w[i], &n[i]);
            if (ok && p == end && word_id(w[0], n[0], &id) && word_u64(w[1], n[1], &from) &&
                word_u64(w[2], n[2], &to) && id == m->id && from == m->rev)
                m->rev = to;
        }
        line = nl ? nl + 1 : end;
    }
    return 0;
}

static patron_status revision_now(patron_db *db, int64_t jid, int64_t id, uint64_t rev, uint64_t *out)
{
    revmap m = { id, rev };
    patron_status st = patron__st_has(db, PATRON__CAP_JOURNAL_SCAN)
        ? patron__st_journal_scan(db, jid, SIZE_MAX, follow_restored, &m) : PATRON_OK;
    *out = m.rev;
    return st;
}

static bool same_str(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

/* A before-image must be what a merge could have written for the record
 * stored now: an active or pending customer (a merge takes no merged one),
 * with the customer number the record has now (numbers never change; only
 * a pending survivor gets one by the merge).  Anything else is a damaged
 * or forged journal entry, which would otherwise restore a record with
 * another customer's number or a number never claimed. */
static patron_status check_image(patron_db *db, int64_t jid, const urec *r, const patron_customer *now,
                                 bool survivor)
{
    const patron_customer *b = r->before;
    const char *bn = patron_customer_get(b, PATRON_F_NUMBER), *nn = patron_customer_get(now, PATRON_F_NUMBER);
    patron_state s = patron_customer_state(b);
    const char *why = NULL;
    if (s != PATRON_STATE_ACTIVE && s != PATRON_STATE_PENDING)
        why = "is not of an active or pending customer";
    else if ((s == PATRON_STATE_ACTIVE) != (bn != NULL))
        why = "has a customer number that does not fit its state";
    else if (!same_str(bn, nn) && !(survivor && !bn && s == PATRON_STATE_PENDING))
        why = "has another customer number than the record";
    if (!why)
        return PATRON_OK;
    return patron__db_error(db, PATRON_E_STORE, "corrupt journal entry %lld: the before-image of customer "
                            "#%lld %s", (long long)jid, (long long)r->id, why);
}

static patron_status undo_in_tx(patron_db *db, int64_t jid, unsigned flags, int64_t *undo_id)
{
    jcopy j;
    parsed pr;
    patron_status st;
    int64_t now = (int64_t)time(NULL);
    memset(&j, 0, sizeof j);
    memset(&pr, 0, sizeof pr);
    st = patron__st_journal_get(db, jid, copy_entry, &j, PASS_NOT_FOUND);
    if (st == PATRON_E_NOT_FOUND)
        patron__db_error(db, st, "no journal entry %lld", (long long)jid);
    if (!st && (!j.kind || !j.payload))
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if (!st && strcmp(j.kind, "merge") != 0)
        st = patron__db_error(db, PATRON_E_INVALID, "journal entry %lld is a %s, not a merge",
                              (long long)jid, j.kind);
    if (!st && j.undone_by)
        st = patron__db_error(db, PATRON_E_STATE, "merge %lld was undone already (by entry %lld)",
                              (long long)jid, (long long)j.undone_by);
    if (!st && strncmp(j.payload, "patron-erased ", 14) == 0) {
        /* an erasure scrubbed its before-images (privacy.c) */
        const char *by = strstr(j.payload, "\nerased-by ");
        st = patron__db_error(db, PATRON_E_STATE,
                              "merge %lld cannot be undone: the personal data of its customers was erased "
                              "(journal entry %lld), and with it the records as they were before the merge",
                              (long long)jid, by ? strtoll(by + 11, NULL, 10) : 0LL);
    }
    if (!st) {
        const char *why = "";
        patron_status pst = parse_payload(j.payload, &pr, &why);
        if (pst == PATRON_E_NOMEM)
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        else if (pst)
            st = patron__db_error(db, PATRON_E_STORE, "corrupt journal entry %lld: %s",
                                  (long long)jid, why);
    }

    /* Nothing later may depend on the merge. */
    for (size_t i = 0; i < pr.n_recs && !st; i++) {
        patron_customer *c = NULL;
        bool surv = pr.recs[i].id == pr.survivor;
        st = patron__load_in_tx(db, &c, pr.recs[i].id);
        if (st == PATRON_E_NOT_FOUND)
            st = patron__db_error(db, PATRON_E_STATE, "customer #%lld was deleted after the merge",
                                  (long long)pr.recs[i].id);
        if (!st && surv && patron_customer_state(c) == PATRON_STATE_MERGED)
            st = patron__db_error(db, PATRON_E_STATE,
                                  "the survivor #%lld was merged again since; undo that merge first",
                                  (long long)pr.recs[i].id);
        if (!st)
            st = check_image(db, jid, &pr.recs[i], c, surv);
        if (!st)
            pr.recs[i].stored_rev = patron_customer_revision(c);
        if (!st && pr.recs[i].stored_rev != pr.recs[i].after_rev)
            st = revision_now(db, jid, pr.recs[i].id, pr.recs[i].after_rev, &pr.recs[i].after_rev);
        if (!st && !surv && patron_customer_revision(c) != pr.recs[i].after_rev)
            st = patron__db_error(db, PATRON_E_STATE, "customer #%lld changed after the merge",
                                  (long long)pr.recs[i].id);
        if (!st && surv && patron_customer_revision(c) != pr.recs[i].after_rev &&
            !(flags & PATRON_UNDO_FORCE))
            st = patron__db_error(db, PATRON_E_STATE,
                                  "the survivor #%lld was edited after the merge; undo with "
                                  "PATRON_UNDO_FORCE to restore its fields as before the merge "
                                  "(later edits are lost)",
                                  (long long)pr.recs[i].id);
        patron_customer_free(c);
    }
    if (!st && pr.n_refs && !patron__st_has(db, PATRON__CAP_MOVE_REF))
        st = patron__db_error(db, PATRON_E_UNSUPPORTED,
                              "the store cannot move references back (no move_ref callback)");
    for (size_t i = 0; i < pr.n_refs && !st; i++)
        st = patron__st_move_ref(db, pr.refs[i].kind, pr.refs[i].ref, pr.refs[i].from);
    /* Duplicates first, so the survivor's keys (login) are free again. */
    for (size_t pass = 0; pass < 2 && !st; pass++)
        for (size_t i = 0; i < pr.n_recs && !st; i++) {
            bool surv = pr.recs[i].id == pr.survivor;
            if (surv != (pass == 1))
                continue;
            st = patron__save_restore(db, pr.recs[i].before, pr.recs[i].stored_rev, now);
        }
    /* No login or external reference of a restored record may now be
     * another customer's (one taken since the merge, or a damaged image). */
    for (size_t i = 0; i < pr.n_recs && !st; i++) {
        keyset ks;
        if ((st = patron__keys_for(db, &ks, pr.recs[i].before)) != 0)
            break;
        st = patron__check_all_unique(db, &ks, pr.recs[i].id);
        patron__keys_free(&ks);
        if (st == PATRON_E_EXISTS) {
            char why[sizeof db->errmsg];
            snprintf(why, sizeof why, "%s", db->errmsg);
            st = patron__db_error(db, PATRON_E_EXISTS, "merge %lld cannot be undone: customer #%lld "
                                  "would get back a key that is no longer its own (%s)",
                                  (long long)jid, (long long)pr.recs[i].id, why);
        }
    }
    if (!st) {
        patron_journal_entry e;
        patron_strbuf payload;
        patron__sb_init(&payload);
        patron__sb_printf(&payload, "patron-undo 1\nsummary undid merge %lld\n", (long long)jid);
        for (size_t i = 0; i < pr.n_recs; i++)
            patron__sb_printf(&payload, "restored %lld %llu %llu\n", (long long)pr.recs[i].id,
                              (unsigned long long)patron_customer_revision(pr.recs[i].before),
                              (unsigned long long)pr.recs[i].stored_rev + 1);
        memset(&e, 0, sizeof e);
        e.time = now;
        e.kind = "undo";
        e.customer_id = pr.survivor;
        e.payload = payload.buf;
        if (payload.oom)
            st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
        else
            st = patron__st_journal_append(db, &e, undo_id);
        patron__sb_free(&payload);
    }
    if (!st)
        st = patron__st_journal_set_undone(db, jid, *undo_id);
    if (!st) /* a merge of the review queue: its case is open again */
        st = patron__review_undone(db, jid, now);
    parsed_free(&pr);
    patron__free(j.kind);
    patron__free(j.payload);
    return st;
}

patron_status patron_db_undo(patron_db *db, int64_t *undo_id, int64_t journal_id, unsigned flags)
{
    int64_t uid = 0;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!patron__st_has(db, PATRON__CAP_JOURNAL_UNDO))
        return patron__db_error(db, PATRON_E_UNSUPPORTED, "this store keeps no journal");
    if ((st = patron__tx_begin(db)) != 0)
        return st;
    st = patron__tx_end(db, undo_in_tx(db, journal_id, flags, &uid));
    if (st)
        return st;
    if (undo_id)
        *undo_id = uid;
    return patron__db_ok(db);
}

/* ---- journal listing and export ------------------------------------------- */

typedef struct jlist {
    patron_strbuf *sb;
    size_t n;
} jlist;

static int list_entry(void *ctx, const patron_journal_entry *e)
{
    jlist *l = ctx;
    const char *sum = e->payload ? strstr(e->payload, "\nsummary ") : NULL;
    patron__sb_printf(l->sb,
                      "%s{\"id\":%lld,\"time\":%lld,\"kind\":", l->n++ ? "," : "",
                      (long long)e->id, (long long)e->time);
    patron__json_str(l->sb, e->kind ? e->kind : "");
    patron__sb_printf(l->sb, ",\"customer_id\":%lld,\"undone_by\":%lld,\"summary\":",
                      (long long)e->customer_id, (long long)e->undone_by);
    if (sum) {
        const char *s = sum + 9, *end = strchr(s, '\n');
        char *one = patron__strndup(s, end ? (size_t)(end - s) : strlen(s));
        patron__json_str(l->sb, one ? one : "");
        patron__free(one);
    } else {
        patron__sb_puts(l->sb, "\"\"");
    }
    patron__sb_putc(l->sb, '}');
    return 0;
}

patron_status patron_db_journal_to_json(patron_db *db, char **out, int64_t after_id, size_t limit)
{
    patron_strbuf sb;
    jlist l;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    *out = NULL;
    if (!patron__st_has(db, PATRON__CAP_JOURNAL_SCAN))
        return patron__db_error(db, PATRON_E_UNSUPPORTED, "this store keeps no journal");
    patron__sb_init(&sb);
    patron__sb_putc(&sb, '[');
    l.sb = &sb;
    l.n = 0;
    if ((st = patron__tx_begin_read(db)) != 0) {
        patron__sb_free(&sb);
        return st;
    }
    st = patron__tx_end(db, patron__st_journal_scan(db, after_id, limit, list_entry, &l));
    patron__sb_putc(&sb, ']');
    if (st) {
        patron__sb_free(&sb);
        return st;
    }
    *out = patron__sb_detach(&sb, NULL);
    return *out ? patron__db_ok(db) : patron__db_error(db, PATRON_E_NOMEM, "out of memory");
}

patron_status patron_db_export_to_json(patron_db *db, char **out, const int64_t *ids, size_t n,
                                       unsigned flags)
{
    patron_strbuf sb;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!out || (!ids && n))
        return patron__db_error(db, PATRON_E_INVALID, "no ids or no place for the result (NULL)");
    *out = NULL;
    if ((st = patron__tx_begin_read(db)) != 0)
        return st;
    patron__sb_init(&sb);
    patron__sb_putc(&sb, '[');
    for (size_t i = 0; i < n && !st; i++) {
        patron_customer *c = NULL;
        st = patron__load_in_tx(db, &c, ids[i]);
        if (!st) {
            if (i)
                patron__sb_putc(&sb, ',');
            if (flags & PATRON_JSON_PRETTY)
                patron__sb_puts(&sb, "\n  ");
            patron__json_customer(&sb, c, flags, 1);
        }
        patron_customer_free(c);
    }
    st = patron__tx_end(db, st);
    if (flags & PATRON_JSON_PRETTY)
        patron__sb_putc(&sb, '\n');
    patron__sb_putc(&sb, ']');
    if (st) {
        patron__sb_free(&sb);
        return st;
    }
    *out = patron__sb_detach(&sb, NULL);
    return *out ? patron__db_ok(db) : patron__db_error(db, PATRON_E_NOMEM, "out of memory");
}

/* ---- the journal as structs ------------------------------------------ */

struct patron_journal_item {
    int64_t id, time, customer_id, undone_by;
    char *kind, *summary;
};

struct patron_journal {
    patron_journal_item *e;
    size_t n, cap;
    bool oom;
};

char *patron__journal_summary(const char *payload)
{
    const char *sum = payload ? strstr(payload, "\nsummary ") : NULL;
    const char *s, *end;
    if (!sum)
        return patron__strdup("");
    s = sum + 9;
    end = strchr(s, '\n');
    return patron__strndup(s, end ? (size_t)(end - s) : strlen(s));
}

static int keep_entry(void *ctx, const patron_journal_entry *e)
{
    patron_journal *j = ctx;
    patron_journal_item *it;
    if (j->n == j->cap) {
        size_t nc = j->cap ? j->cap * 2 : 16;
        patron_journal_item *ne = patron__realloc(j->e, nc * sizeof *ne);
        if (!ne) {
            j->oom = true;
            return 1;
        }
        j->e = ne;
        j->cap = nc;
    }
    it = &j->e[j->n];
    memset(it, 0, sizeof *it);
    it->id = e->id;
    it->time = e->time;
    it->customer_id = e->customer_id;
    it->undone_by = e->undone_by;
    it->kind = patron__strdup(e->kind ? e->kind : "");
    it->summary = patron__journal_summary(e->payload);
    j->n++;
    if (!it->kind || !it->summary) {
        j->oom = true;
        return 1;
    }
    return 0;
}

void patron_journal_free(patron_journal *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->n; i++) {
        patron__free(j->e[i].kind);
        patron__free(j->e[i].summary);
    }
    patron__free(j->e);
    patron__free(j);
}

patron_status patron_db_journal_list(patron_db *db, patron_journal **out, int64_t after_id, size_t limit)
{
    patron_journal *j;
    patron_status st;
    if (!db)
        return PATRON_E_INVALID;
    if (!out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    *out = NULL;
    if (!patron__st_has(db, PATRON__CAP_JOURNAL_SCAN))
        return patron__db_error(db, PATRON_E_UNSUPPORTED, "this store keeps no journal");
    if (!(j = patron__calloc(1, sizeof *j)))
        return patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    if ((st = patron__tx_begin_read(db)) != 0) {
        patron_journal_free(j);
        return st;
    }
    st = patron__st_journal_scan(db, after_id, limit, keep_entry, j);
    if (j->oom)
        st = patron__db_error(db, PATRON_E_NOMEM, "out of memory");
    st = patron__tx_end(db, st);
    if (st) {
        patron_journal_free(j);
        return st;
    }
    *out = j;
    return patron__db_ok(db);
}

size_t patron_journal_count(const patron_journal *j)
{
    return j ? j->n : 0;
}

const patron_journal_item *patron_journal_at(const patron_journal *j, size_t i)
{
    return j && i < j->n ? &j->e[i] : NULL;
}

int64_t patron_journal_item_id(const patron_journal_item *e)
{
    return e ? e->id : 0;
}

int64_t patron_journal_item_time(const patron_journal_item *e)
{
    return e ? e->time : 0;
}

const char *patron_journal_item_kind(const patron_journal_item *e)
{
    return e ? e->kind : NULL;
}

int64_t patron_journal_item_customer(const patron_journal_item *e)
{
    return e ? e->customer_id : 0;
}

int64_t patron_journal_item_undone_by(const patron_journal_item *e)
{
    return e ? e->undone_by : 0;
}

const char *patron_journal_item_summary(const patron_journal_item *e)
{
    return e ? e->summary : NULL;
}
