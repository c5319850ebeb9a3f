/*
 * patron — the CSV column layout of the command-line tool.
 *
 * SPDX-License-Identifier: MIT
 */
#include "columns.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"

#define TAG_SEP '|'
#define DEFAULT_SOURCE "import"
#define DEFAULT_COUNTRY "DE"

static const struct {
    const char *name;
    int id;
} address_columns[] = {
    { "street", PATRON_A_STREET },
    { "house_number", PATRON_A_HOUSE_NUMBER },
    { "address_addition", PATRON_A_ADDITION },
    { "postal_code", PATRON_A_POSTAL_CODE },
    { "city", PATRON_A_CITY },
    { "state", PATRON_A_STATE },
    { "country", PATRON_A_COUNTRY },
};

static const char *const export_names[] = {
    "number", "id", "external_source",
    "salutation", "title", "first_name", "last_name", "company",
    "street", "house_number", "address_addition", "postal_code", "city", "state", "country",
    "email", "phone", "birth_date",
    "mobile", "fax", "language", "b2b", "vat_id", "payment_terms", "price_category", "group",
    "newsletter", "newsletter_source", "newsletter_at", "notes", "order_text", "login_user", "tags",
    NULL
};

const char *const *layout_export_names(void)
{
    return export_names;
}

static int is_system_field(int f)
{
    switch (f) {
    case PATRON_F_ID:
    case PATRON_F_STATE:
    case PATRON_F_LOCKED:
    case PATRON_F_LOCK_REASON:
    case PATRON_F_LOCKED_AT:
    case PATRON_F_CREATED_AT:
    case PATRON_F_UPDATED_AT:
    case PATRON_F_REVISION:
    case PATRON_F_MERGED_INTO:
        return 1;
    default:
        /* and those the library added since (newsletter_at, erased_at, ...) */
        return (patron_field_flags(f) & PATRON_FIELD_SYSTEM) != 0;
    }
}

/* A system field a file may still give: the time of the newsletter
 * consent, which an import carries in (patron_customer_set_consent_time)
 * so that an export imported again keeps the proof's time. */
static int carried_field(int f)
{
    return f == PATRON_F_NEWSLETTER_AT;
}

/* May a column give field f? */
static int column_field(int f)
{
    return !is_system_field(f) || carried_field(f);
}

static int is_space(int c)
{
    return c == ' ' || c == '\t';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int valid_property_key(const char *k)
{
    size_t n = strlen(k), i;

    if (n < 1 || n > 64)
        return 0;
    for (i = 0; i < n; i++) {
        int c = (unsigned char)k[i];
        if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '-' && c != '.')
            return 0;
    }
    return 1;
}

static const char *skip_spaces(const char *s)
{
    while (is_space((unsigned char)*s))
        s++;
    return s;
}

/* An optional single letter suffix: "12a", "12 a" (not "12 Apt"). */
static const char *letter_suffix(const char *s)
{
    const char *t = skip_spaces(s);
    if (is_alpha((unsigned char)t[0]) && !is_alpha((unsigned char)t[1]))
        return t + 1;
    return s;
}

/* Does s hold exactly a house number: 12, 12a, 12 a, 12-14, 12/1, 12a-12c? */
static int is_house_number(const char *s)
{
    if (!is_digit((unsigned char)*s))
        return 0;
    while (is_digit((unsigned char)*s))
        s++;
    s = letter_suffix(s);
    s = skip_spaces(s);
    if (*s == '-' || *s == '/') {
        s = skip_spaces(s + 1);
        if (!is_digit((unsigned char)*s))
            return 0;
        while (is_digit((unsigned char)*s))
            s++;
        s = letter_suffix(s);
    }
    return *skip_spaces(s) == '\0';
}

/* The first digit of s[i, len) at i or after it; len if none.  Eight
 * bytes at a time where the word's bytes are in memory order: a byte b
 * of w is flagged (bit 7) when b < 0x80, (b & 0x7F) < '9' + 1 and
 * (b & 0x7F) > '0' - 1, each step within the byte (no borrow, no carry:
 * "hasbetween" of Bit Twiddling Hacks), so that the lowest flag is the
 * first digit. */
static size_t next_digit(const char *s, size_t len, size_t i)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = UINT64_C(0x0101010101010101), low7 = ones * 0x7F, highs = ones * 0x80;
    for (; len - i >= 8; i += 8) {
        uint64_t w, x, hit;
        memcpy(&w, s + i, 8);
        x = w & low7;
        hit = (ones * (127 + '9' + 1) - x) & ~w & (x + ones * (127 - ('0' - 1))) & highs;
        if (hit)
            return i + (unsigned)__builtin_ctzll(hit) / 8;
    }
#endif
    while (i < len && (unsigned)(unsigned char)s[i] - '0' > 9u)
        i++;
    return i;
}

/* split_street() of s, of length len (no NUL inside).  A house number
 * begins with a digit: only the digits are tried, in order (the street's
 * letters passed eight at a time: this runs for every row of 'patron
 * dedupe FILE'). */
static int split_street_n(const char *s, size_t len, size_t *street_len, size_t *number_at, size_t *number_len)
{
    size_t i, n;

    for (i = len > 1 ? next_digit(s, len, 1) : len; i < len; i = next_digit(s, len, i + 1)) {
        if (is_space((unsigned char)s[i - 1]) && is_house_number(s + i)) {
            size_t end = i;
            while (end > 0 && is_space((unsigned char)s[end - 1]))
                end--;
            if (end == 0)
                return 0;
            n = len - i;
            while (n > 0 && is_space((unsigned char)s[i + n - 1]))
                n--;
            *street_len = end;
            *number_at = i;
            *number_len = n;
            return 1;
        }
    }
    return 0;
}

int split_street(const char *s, size_t *street_len, size_t *number_at, size_t *number_len)
{
    return split_street_n(s, strlen(s), street_len, number_at, number_len);
}

static char *trimmed_copy(const char *s)
{
    size_t n;
    char *r;

    s = skip_spaces(s);
    n = strlen(s);
    while (n > 0 && is_space((unsigned char)s[n - 1]))
        n--;
    r = malloc(n + 1);
    if (r) {
        memcpy(r, s, n);
        r[n] = '\0';
    }
    return r;
}

/* The columns seen so far, for the check that none is given twice in one
 * pass over the header (a header of 60 000 columns took 7.5 s when each was
 * compared with all before it): fields and address fields by kind and id,
 * properties by key in an open-addressing table of at least 2n slots.  Each
 * holds the index + 1 of the column that gave it first. */
#define SEEN_IDS 256
typedef struct seen_cols {
    size_t fixed[COL_PROPERTY][SEEN_IDS];
    size_t *slots;
    const column *cols;
    size_t mask;
} seen_cols;

static size_t name_hash(const char *s)
{
    size_t h = 14695981039346656037u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* The index + 1 of the column that gave `cols[i]`'s meaning before, 0 if
 * none did (it is noted), -1 if out of memory. */
static long seen_before(seen_cols *sc, const column *cols, size_t i, size_t n)
{
    const column *col = &cols[i];

    if (col->kind != COL_PROPERTY) {
        unsigned id = col->id >= 0 && col->id < SEEN_IDS ? (unsigned)col->id : 0;
        if (sc->fixed[col->kind][id])
            return (long)sc->fixed[col->kind][id];
        sc->fixed[col->kind][id] = i + 1;
        return 0;
    }
    if (!sc->slots) {
        size_t cap = 16;
        while (cap < 2 * n)
            cap *= 2;
        if (!(sc->slots = calloc(cap, sizeof *sc->slots)))
            return -1;
        sc->mask = cap - 1;
        sc->cols = cols;
    }
    for (size_t h = name_hash(col->key) & sc->mask;; h = (h + 1) & sc->mask) {
        if (!sc->slots[h]) {
            sc->slots[h] = i + 1;
            return 0;
        }
        if (strcmp(cols[sc->slots[h] - 1].key, col->key) == 0)
            return (long)sc->slots[h];
    }
}

/* ---- names ---------------------------------------------------------------- */

/* A header name folded for comparison: ASCII letters in lower case, digits
 * kept, ä ö ü (either case) as ae oe ue, ß as ss, spaces, '_', '-', '.' and
 * '/' dropped; other bytes kept as they are.  "E-Mail" and "e_mail" are
 * "email", "Straße" and "Str." are "strasse" and "str".  Returns 0 when the
 * name is too long for any known one. */
static int fold_name(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;

    for (; *p; p++) {
        const char *add = NULL;
        char one[2] = { 0, 0 };
        unsigned char c = *p;

        if (c == ' ' || c == '_' || c == '-' || c == '.' || c == '/' || c == '\t')
            continue;
        if (c == 0xC3 && p[1]) {
            switch (p[1]) {
            case 0xA4: case 0x84: add = "ae"; break;
            case 0xB6: case 0x96: add = "oe"; break;
            case 0xBC: case 0x9C: add = "ue"; break;
            case 0x9F: add = "ss"; break;
            default: break;
            }
            if (add)
                p++;
        }
        if (!add) {
            one[0] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
            add = one;
        }
        while (*add) {
            if (o + 1 >= cap)
                return 0;
            out[o++] = *add++;
        }
    }
    out[o] = '\0';
    return 1;
}

/* Header names in German and English, folded (fold_name), and the column
 * they mean.  The layout's own names (first_name, ...) are found besides. */
static const struct {
    const char *alias;
    const char *name;
} aliases[] = {
    { "vorname", "first_name" }, { "firstname", "first_name" }, { "givenname", "first_name" },
    { "rufname", "first_name" },
    { "nachname", "last_name" }, { "name", "last_name" }, { "lastname", "last_name" },
    { "familienname", "last_name" }, { "familyname", "last_name" }, { "surname", "last_name" },
    { "zuname", "last_name" },
    { "strasse", "street" }, { "str", "street" }, { "street", "street" }, { "strassehausnummer", "street" },
    { "strasseundhausnummer", "street" }, { "strassenr", "street" }, { "anschrift", "street" },
    { "adresse", "street" }, { "address", "street" },
    { "hausnummer", "house_number" }, { "hausnr", "house_number" }, { "housenumber", "house_number" },
    { "houseno", "house_number" },
    { "adresszusatz", "address_addition" }, { "zusatz", "address_addition" },
    { "addressaddition", "address_addition" }, { "address2", "address_addition" },
    { "plz", "postal_code" }, { "postleitzahl", "postal_code" }, { "zip", "postal_code" },
    { "zipcode", "postal_code" }, { "postalcode", "postal_code" }, { "postcode", "postal_code" },
    { "ort", "city" }, { "stadt", "city" }, { "wohnort", "city" }, { "city", "city" }, { "town", "city" },
    { "bundesland", "state" }, { "region", "state" },
    { "land", "country" }, { "country", "country" }, { "staat", "country" },
    { "email", "email" }, { "mail", "email" }, { "emailadresse", "email" }, { "emailaddress", "email" },
    { "telefon", "phone" }, { "tel", "phone" }, { "telefonnummer", "phone" }, { "telnr", "phone" },
    { "phone", "phone" }, { "telephone", "phone" }, { "phonenumber", "phone" },
    { "mobil", "mobile" }, { "mobile", "mobile" }, { "handy", "mobile" }, { "mobiltelefon", "mobile" },
    { "mobilnummer", "mobile" }, { "mobilephone", "mobile" }, { "cellphone", "mobile" },
    { "telefax", "fax" }, { "faxnummer", "fax" },
    { "geburtsdatum", "birth_date" }, { "geburtstag", "birth_date" }, { "birthdate", "birth_date" },
    { "birthday", "birth_date" }, { "dateofbirth", "birth_date" }, { "gebdatum", "birth_date" },
    { "firma", "company" }, { "unternehmen", "company" }, { "firmenname", "company" },
    { "company", "company" }, { "companyname", "company" },
    { "anrede", "salutation" }, { "salutation", "salutation" },
    { "titel", "title" },
    { "kundennummer", "number" }, { "kundennr", "number" }, { "kdnr", "number" },
    { "customernumber", "number" }, { "customerno", "number" },
    { "sprache", "language" },
    { "ustidnr", "vat_id" }, { "ustid", "vat_id" }, { "umsatzsteuerid", "vat_id" },
    { "vatnumber", "vat_id" },
    { "zahlungsbedingungen", "payment_terms" }, { "zahlungsziel", "payment_terms" },
    { "preiskategorie", "price_category" }, { "preisgruppe", "price_category" },
    { "kundengruppe", "group" }, { "gruppe", "group" }, { "customergroup", "group" },
    { "notiz", "notes" }, { "notizen", "notes" }, { "bemerkung", "notes" }, { "bemerkungen", "notes" },
    { "anmerkung", "notes" }, { "anmerkungen", "notes" }, { "note", "notes" },
    { "auftragstext", "order_text" }, { "bestelltext", "order_text" },
    { "benutzername", "login_user" }, { "login", "login_user" }, { "username", "login_user" },
    { "schlagworte", "tags" }, { "schlagwoerter", "tags" },
    { "externeid", "id" }, { "externalid", "id" }, { "quelle", "external_source" },
};

/* The layout's own names: the address columns, the customer fields, id
 * and tags; `f` gets the field for a customer field. */
static int own_name(const char *lower, column *col)
{
    size_t k;
    int f;

    if (!strcmp(lower, "id") || !strcmp(lower, "external_id")) {
        col->kind = COL_EXTERNAL;
        return 1;
    }
    if (!strcmp(lower, "tags")) {
        col->kind = COL_TAGS;
        return 1;
    }
    for (k = 0; k < sizeof address_columns / sizeof address_columns[0]; k++) {
        if (!strcmp(lower, address_columns[k].name)) {
            col->kind = COL_ADDRESS;
            col->id = address_columns[k].id;
            return 1;
        }
    }
    if ((f = patron_field_from_name(lower)) != 0) {
        col->kind = COL_FIELD;
        col->id = f;
        return 1;
    }
    return 0;
}

/* Find what `name` means: an alias, a layout name in any case and with any
 * spacing ("First Name", "house-number").  1 found, 0 unknown. */
static int resolve_name(const char *name, column *col)
{
    char key[80], other[80];
    size_t k;
    int f, n = patron_field_count();

    if (!fold_name(name, key, sizeof key))
        return 0;
    for (k = 0; k < sizeof aliases / sizeof aliases[0]; k++)
        if (!strcmp(key, aliases[k].alias))
            return own_name(aliases[k].name, col);
    if (!strcmp(key, "id") || !strcmp(key, "externalid") || !strcmp(key, "tags"))
        return own_name(key[0] == 'e' ? "external_id" : key, col);
    for (k = 0; k < sizeof address_columns / sizeof address_columns[0]; k++) {
        if (fold_name(address_columns[k].name, other, sizeof other) && !strcmp(key, other))
            return own_name(address_columns[k].name, col);
    }
    for (f = 1; f <= n; f++) {
        const char *fn = patron_field_name(f);
        if (fn && fold_name(fn, other, sizeof other) && !strcmp(key, other))
            return own_name(fn, col);
    }
    return 0;
}

/* Damerau-Levenshtein distance (optimal string alignment) of two short
 * folded names; 99 when either is too long. */
static unsigned edit_distance(const char *a, const char *b)
{
    unsigned d[24][24];
    size_t n = strlen(a), m = strlen(b), i, j;

    if (n > 22 || m > 22)
        return 99;
    for (i = 0; i <= n; i++)
        d[i][0] = (unsigned)i;
    for (j = 0; j <= m; j++)
        d[0][j] = (unsigned)j;
    for (i = 1; i <= n; i++) {
        for (j = 1; j <= m; j++) {
            unsigned best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[n][m];
}

const char *layout_suggest(const char *name)
{
    char key[80], other[80];
    const char *best = NULL;
    unsigned best_d = 99, limit;
    size_t k;
    int f, n = patron_field_count();

    if (!fold_name(name, key, sizeof key) || !key[0])
        return NULL;
    limit = strlen(key) >= 8 ? 2 : 1;
    for (k = 0; k < sizeof aliases / sizeof aliases[0]; k++) {
        unsigned d = edit_distance(key, aliases[k].alias);
        if (d < best_d) {
            best_d = d;
            best = aliases[k].name;
        }
    }
    for (f = 1; f <= n; f++) {
        const char *fn = patron_field_name(f);
        if (fn && column_field(f) && fold_name(fn, other, sizeof other)) {
            unsigned d = edit_distance(key, other);
            if (d < best_d) {
                best_d = d;
                best = fn;
            }
        }
    }
    for (k = 0; k < sizeof address_columns / sizeof address_columns[0]; k++) {
        if (fold_name(address_columns[k].name, other, sizeof other)) {
            unsigned d = edit_distance(key, other);
            if (d < best_d) {
                best_d = d;
                best = address_columns[k].name;
            }
        }
    }
    return best_d <= limit ? best : NULL;
}

/* ---- the user's names: --map and --map-file ------------------------------- */

static int map_push(col_map *m, const char *from, size_t flen, const char *to, size_t tlen)
{
    char *a, *b;

    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 8;
        char **f = realloc(m->from, cap * sizeof *f);
        if (!f)
            return -1;
        m->from = f;
        f = realloc(m->to, cap * sizeof *f);
        if (!f)
            return -1;
        m->to = f;
        m->cap = cap;
    }
    while (flen && is_space((unsigned char)*from))
        from++, flen--;
    while (flen && is_space((unsigned char)from[flen - 1]))
        flen--;
    while (tlen && is_space((unsigned char)*to))
        to++, tlen--;
    while (tlen && is_space((unsigned char)to[tlen - 1]))
        tlen--;
    a = malloc(flen + 1);
    b = malloc(tlen + 1);
    if (!a || !b) {
        free(a);
        free(b);
        return -1;
    }
    memcpy(a, from, flen);
    a[flen] = '\0';
    memcpy(b, to, tlen);
    b[tlen] = '\0';
    m->from[m->n] = a;
    m->to[m->n] = b;
    m->n++;
    return 0;
}

/* One "COLUMN=NAME" of `len` bytes. */
static int map_entry(col_map *m, const char *s, size_t len, const char *where, char *err, size_t errlen)
{
    const char *eq = NULL;
    size_t i;

    for (i = 0; i < len; i++)
        if (s[i] == '=')
            eq = s + i; /* the last '=': a name of ours has none */
    if (!eq || eq == s || eq == s + len - 1) {
        snprintf(err, errlen, "%s: '%.*s' is not COLUMN=NAME", where, (int)(len > 200 ? 200 : len), s);
        return -1;
    }
    if (map_push(m, s, (size_t)(eq - s), eq + 1, len - (size_t)(eq - s) - 1) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int col_map_add(col_map *m, const char *spec, char *err, size_t errlen)
{
    while (*spec) {
        const char *end = strchr(spec, ',');
        size_t len = end ? (size_t)(end - spec) : strlen(spec);
        if (len && map_entry(m, spec, len, "--map", err, errlen) < 0)
            return -1;
        spec += len + (end ? 1 : 0);
    }
    return 0;
}

int col_map_load(col_map *m, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL, *text = NULL, where[300];
    size_t len = 0, cap = 0, n, tlen, i, line = 1;
    csv_sniffer sn;
    csv_decoder dec;
    csv_encoding enc;
    int rc = -1;

    if (!f) {
        snprintf(err, errlen, "--map-file: cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (len + 4096 > cap) {
            char *p = cap > (1u << 20) ? NULL : realloc(data, cap = cap ? 2 * cap : 8192);
            if (!p) {
                snprintf(err, errlen, "--map-file: '%s' is too big for a mapping", path);
                goto out;
            }
            data = p;
        }
        n = fread(data + len, 1, 4096, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "--map-file: cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    /* written in Notepad or Excel: any encoding the CSV may have */
    csv_sniff_init(&sn, CSV_ENC_AUTO);
    csv_sniff_feed(&sn, data, len);
    if (csv_sniff_end(&sn, &enc, where, sizeof where) < 0) {
        snprintf(err, errlen, "--map-file '%s': %s", path, where);
        goto out;
    }
    csv_decoder_init(&dec, enc);
    if (!(text = malloc(CSV_DECODE_MAX(len) + 1))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    tlen = csv_decode(&dec, data, len, 1, text);
    i = tlen >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3) ? 3 : 0;
    snprintf(where, sizeof where, "--map-file %s", path);
    while (i < tlen) {
        size_t e = i, k;
        while (e < tlen && text[e] != '\n')
            e++;
        k = e;
        while (k > i && (text[k - 1] == '\r' || is_space((unsigned char)text[k - 1])))
            k--;
        while (i < k && is_space((unsigned char)text[i]))
            i++;
        if (k > i && text[i] != '#') {
            char w[340];
            snprintf(w, sizeof w, "%s, line %zu", where, line);
            if (map_entry(m, text + i, k - i, w, err, errlen) < 0)
                goto out;
        }
        i = e + 1;
        line++;
    }
    rc = 0;
out:
    free(data);
    free(text);
    fclose(f);
    return rc;
}

void col_map_free(col_map *m)
{
    size_t i;

    for (i = 0; i < m->n; i++) {
        free(m->from[i]);
        free(m->to[i]);
    }
    free(m->from);
    free(m->to);
    memset(m, 0, sizeof *m);
}

/* The map's name for header `name`: compared as given (trimmed), else
 * folded; NULL if the map has none. */
static const char *mapped(const col_map *m, const char *name)
{
    char a[80], b[80];
    size_t i;

    if (!m)
        return NULL;
    for (i = m->n; i-- > 0;)
        if (!strcmp(m->from[i], name))
            return m->to[i];
    if (!fold_name(name, a, sizeof a) || !a[0])
        return NULL;
    for (i = m->n; i-- > 0;)
        if (fold_name(m->from[i], b, sizeof b) && !strcmp(a, b))
            return m->to[i];
    return NULL;
}

/* ---- the layout ------------------------------------------------------------- */

/* A message of several parts, each added with "; " between, cut at `cap`. */
typedef struct msgbuf {
    char *s;
    size_t cap, len;
    unsigned parts;
} msgbuf;

static void msg_add(msgbuf *m, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void msg_add(msgbuf *m, const char *fmt, ...)
{
    va_list ap;
    int k;

    if (m->len + 1 >= m->cap)
        return;
    if (m->parts++ && m->len + 3 < m->cap) {
        memcpy(m->s + m->len, "; ", 3);
        m->len += 2;
    }
    va_start(ap, fmt);
    k = vsnprintf(m->s + m->len, m->cap - m->len, fmt, ap);
    va_end(ap);
    if (k > 0)
        m->len += (size_t)k < m->cap - m->len ? (size_t)k : m->cap - m->len - 1;
}

/* Name `what` (as given) for column `col`: an own name or alias, prop.KEY,
 * or "-" (mapped only).  0, or -1 with *why: 1 unknown, 2 bad property key,
 * 3 system field, 4 out of memory. */
static int make_column(column *col, const char *what, int allow_skip, int *why)
{
    if (allow_skip && !strcmp(what, "-")) {
        col->kind = COL_IGNORE;
        return 0;
    }
    if (!strncasecmp(what, "prop.", 5)) {
        if (!valid_property_key(what + 5)) {
            *why = 2;
            return -1;
        }
        col->kind = COL_PROPERTY;
        if (!(col->key = strdup(what + 5))) {
            *why = 4;
            return -1;
        }
        return 0;
    }
    if (!resolve_name(what, col)) {
        *why = 1;
        return -1;
    }
    if (col->kind == COL_FIELD && !column_field(col->id)) {
        *why = 3;
        return -1;
    }
    return 0;
}

/* The name the layout gives column `col` ("last_name", "prop.x"). */
static const char *column_meaning(const column *col, char *buf, size_t cap)
{
    size_t k;

    switch (col->kind) {
    case COL_EXTERNAL:
        return "id";
    case COL_TAGS:
        return "tags";
    case COL_ADDRESS:
        for (k = 0; k < sizeof address_columns / sizeof address_columns[0]; k++)
            if (address_columns[k].id == col->id)
                return address_columns[k].name;
        return "?";
    case COL_FIELD:
        return patron_field_name(col->id);
    case COL_PROPERTY:
        snprintf(buf, cap, "prop.%s", col->key);
        return buf;
    default:
        return "-";
    }
}

/* ---- values ------------------------------------------------------------ */

/* Country names, folded (fold_name), and their ISO 3166-1 codes: the
 * countries a German-speaking shop sells to most, in German and English. */
static const struct {
    const char *name;
    const char *code;
} countries[] = {
    { "deutschland", "DE" }, { "germany", "DE" }, { "bundesrepublikdeutschland", "DE" }, { "brd", "DE" },
    { "d", "DE" }, { "oesterreich", "AT" }, { "osterreich", "AT" }, { "austria", "AT" }, { "a", "AT" },
    { "schweiz", "CH" }, { "switzerland", "CH" }, { "suisse", "CH" }, { "svizzera", "CH" },
    { "liechtenstein", "LI" }, { "fl", "LI" }, { "luxemburg", "LU" }, { "luxembourg", "LU" },
    { "niederlande", "NL" }, { "netherlands", "NL" }, { "thenetherlands", "NL" }, { "holland", "NL" },
    { "belgien", "BE" }, { "belgium", "BE" }, { "belgique", "BE" },
    { "frankreich", "FR" }, { "france", "FR" }, { "italien", "IT" }, { "italy", "IT" }, { "italia", "IT" },
    { "spanien", "ES" }, { "spain", "ES" }, { "espana", "ES" }, { "portugal", "PT" },
    { "polen", "PL" }, { "poland", "PL" }, { "polska", "PL" },
    { "daenemark", "DK" }, { "danemark", "DK" }, { "denmark", "DK" },
    { "schweden", "SE" }, { "sweden", "SE" }, { "norwegen", "NO" }, { "norway", "NO" },
    { "finnland", "FI" }, { "finland", "FI" },
    { "tschechien", "CZ" }, { "tschechischerepublik", "CZ" }, { "czechia", "CZ" }, { "czechrepublic", "CZ" },
    { "slowakei", "SK" }, { "slovakia", "SK" }, { "slowenien", "SI" }, { "slovenia", "SI" },
    { "ungarn", "HU" }, { "hungary", "HU" }, { "kroatien", "HR" }, { "croatia", "HR" },
    { "rumaenien", "RO" }, { "rumanien", "RO" }, { "romania", "RO" }, { "bulgarien", "BG" }, { "bulgaria", "BG" },
    { "griechenland", "GR" }, { "greece", "GR" }, { "tuerkei", "TR" }, { "turkei", "TR" }, { "turkey", "TR" },
    { "irland", "IE" }, { "ireland", "IE" },
    { "grossbritannien", "GB" }, { "vereinigteskoenigreich", "GB" }, { "unitedkingdom", "GB" },
    { "greatbritain", "GB" }, { "england", "GB" }, { "uk", "GB" },
    { "usa", "US" }, { "vereinigtestaaten", "US" }, { "unitedstates", "US" }, { "unitedstatesofamerica", "US" },
};

const char *country_code(const char *name)
{
    static const char *const iso[] = { "DE", "AT", "CH", "LI", "LU", "NL", "BE", "FR", "IT", "ES", "PT", "PL",
                                       "DK", "SE", "NO", "FI", "CZ", "SK", "SI", "HU", "HR", "RO", "BG", "GR",
                                       "TR", "IE", "GB", "US" };
    char key[64];
    size_t k;

    if (!fold_name(name, key, sizeof key) || !key[0])
        return NULL;
    for (k = 0; k < sizeof countries / sizeof countries[0]; k++)
        if (key[0] == countries[k].name[0] && !strcmp(key, countries[k].name)) /* (a row's address: cheap) */
            return countries[k].code;
    if (strlen(key) == 2) {
        /* "de" -> "DE" (the library takes any case, but says it back) */
        for (k = 0; k < sizeof iso / sizeof iso[0]; k++)
            if (!strcasecmp(key, iso[k]))
                return iso[k];
    }
    return NULL;
}

int german_date(const char *s, char out[11])
{
    unsigned d = 0, m = 0, y = 0;
    int nd = 0, nm = 0, ny = 0;

    s = skip_spaces(s);
    while (is_digit((unsigned char)*s) && nd < 3)
        d = d * 10 + (unsigned)(*s++ - '0'), nd++;
    if (nd < 1 || nd > 2 || *s++ != '.')
        return 0;
    while (is_digit((unsigned char)*s) && nm < 3)
        m = m * 10 + (unsigned)(*s++ - '0'), nm++;
    if (nm < 1 || nm > 2 || *s++ != '.')
        return 0;
    while (is_digit((unsigned char)*s) && ny < 5)
        y = y * 10 + (unsigned)(*s++ - '0'), ny++;
    if (ny != 4 || *skip_spaces(s))
        return 0;
    snprintf(out, 11, "%04u-%02u-%02u", y % 10000, m % 100, d % 100);
    return 1;
}

int layout_init(layout *l, const char *const *names, size_t n, char *err, size_t errlen)
{
    return layout_init_ex(l, names, n, NULL, 0, err, errlen);
}

#define MAX_LISTED 20

int layout_init_ex(layout *l, const char *const *names, size_t n, const col_map *map, int operands, char *err,
                   size_t errlen)
{
    size_t i, n_unknown = 0, listed = 0;
    long dup;
    seen_cols *sc = calloc(1, sizeof *sc);
    msgbuf msg = { err, errlen, 0, 0 };
    char unknown[1200] = "", buf[80];
    size_t ulen = 0;
    const char *col_word = operands ? "field" : "column";

    err[0] = '\0';
    memset(l, 0, sizeof *l);
    l->street = l->house_number = l->source = l->login_hash = l->external = -1;
    l->cols = calloc(n ? n : 1, sizeof *l->cols);
    if (!l->cols || !sc) {
        free(l->cols);
        l->cols = NULL;
        free(sc);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (i = 0; i < n; i++) {
        column *col = &l->cols[i];
        const char *to;
        int why = 0;

        col->name = trimmed_copy(names[i]);
        l->n = i + 1;
        if (!col->name) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        if (!col->name[0]) {
            msg_add(&msg, "%s %zu has no name", col_word, i + 1);
            col->kind = COL_IGNORE;
            continue;
        }
        to = mapped(map, col->name);
        if (make_column(col, to ? to : col->name, to != NULL, &why) < 0) {
            col->kind = COL_IGNORE;
            if (why == 4) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            if (to && why != 3) {
                msg_add(&msg, "--map '%.64s=%.64s': '%.64s' is %s", col->name, to, to,
                        why == 2 ? "not a valid property key after 'prop.' (1 to 64 letters, digits, '_', '-', '.')"
                                 : "no field (a field of 'patron import --help', prop.NAME or -)");
            } else if (why == 3) {
                msg_add(&msg, "%s '%.64s' is kept by the library and cannot be set", col_word, col->name);
            } else if (why == 2) {
                msg_add(&msg, "%s '%.64s': not a valid property key after 'prop.' (1 to 64 letters, digits, '_', "
                        "'-', '.')", col_word, col->name);
            } else {
                /* unknown: listed together below */
                if (listed < MAX_LISTED && ulen + 200 < sizeof unknown) {
                    const char *s = layout_suggest(col->name);
                    int k = snprintf(unknown + ulen, sizeof unknown - ulen, "%s'%.64s'%s%s%s", listed ? ", " : "",
                                     col->name, s ? (operands ? " (did you mean '" : " (") : "", s ? s : "",
                                     s ? (operands ? "'?)" : "?)") : "");
                    if (k > 0)
                        ulen += (size_t)k;
                    listed++;
                }
                n_unknown++;
            }
            continue;
        }
        if (col->kind == COL_IGNORE)
            continue;
        if ((dup = seen_before(sc, l->cols, i, n)) != 0) {
            if (dup < 0) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            {
                const column *first = &l->cols[dup - 1];
                char fa[80], fb[80];
                if (!strcmp(first->name, col->name) ||
                    (fold_name(first->name, fa, sizeof fa) && fold_name(col->name, fb, sizeof fb) && !strcmp(fa, fb)))
                    msg_add(&msg, "%s '%.64s' is given twice", col_word, col->name);
                else
                    msg_add(&msg, "%ss '%.64s' and '%.64s' both give %s", col_word, first->name, col->name,
                            column_meaning(col, buf, sizeof buf));
            }
            continue;
        }
        if (col->kind == COL_ADDRESS && col->id == PATRON_A_STREET)
            l->street = (long)i;
        else if (col->kind == COL_ADDRESS && col->id == PATRON_A_HOUSE_NUMBER)
            l->house_number = (long)i;
        else if (col->kind == COL_FIELD && col->id == PATRON_F_EXTERNAL_SOURCE)
            l->source = (long)i;
        else if (col->kind == COL_FIELD && col->id == PATRON_F_LOGIN_HASH)
            l->login_hash = (long)i;
        else if (col->kind == COL_EXTERNAL)
            l->external = (long)i;
    }
    if (n_unknown) {
        if (operands)
            msg_add(&msg, "unknown field%s %s%s: a custom property is written prop.NAME=VALUE", n_unknown > 1 ? "s" : "",
                    unknown, n_unknown > listed ? " and more" : "");
        else
            msg_add(&msg,
                    "%zu unknown column%s: %s%s; name %s with --map 'COLUMN=FIELD,...' or --map-file FILE "
                    "(FIELD: a column of 'patron import --help', prop.NAME for a custom property, - to skip it)",
                    n_unknown, n_unknown > 1 ? "s" : "", unknown, n_unknown > listed ? ", ..." : "",
                    n_unknown > 1 ? "them" : "it");
    }
    if (msg.parts)
        goto fail;
    free(sc->slots);
    free(sc);
    return 0;

fail:
    free(sc->slots);
    free(sc);
    layout_free(l);
    return -1;
}

void layout_free(layout *l)
{
    size_t i;

    if (l->cols) {
        for (i = 0; i < l->n; i++) {
            free(l->cols[i].name);
            free(l->cols[i].key);
        }
        free(l->cols);
    }
    memset(l, 0, sizeof *l);
}

size_t layout_address(const patron_customer *c)
{
    size_t n = patron_customer_address_count(c), i;

    for (i = 0; i < n; i++) {
        const char *d = patron_customer_address_get(c, i, PATRON_A_DEFAULT);
        if (d && !strcmp(d, "1"))
            return i;
    }
    return n ? 0 : (size_t)-1;
}

static patron_status fail_col(const column *col, const patron_customer *c, patron_status st, char *err,
                              size_t errlen)
{
    const char *msg = patron_customer_errmsg(c);

    /* The library's messages name the field themselves. */
    if (msg && msg[0] && st != PATRON_E_NOMEM)
        snprintf(err, errlen, "%s", msg);
    else
        snprintf(err, errlen, "%s: %s", col->name, patron_status_message(st));
    return st;
}

static patron_status set_tags(const column *col, patron_customer *c, const char *v, char *err, size_t errlen)
{
    patron_status st;

    while (patron_customer_tag_count(c) > 0) {
        st = patron_customer_tag_remove(c, patron_customer_tag_get(c, 0));
        if (st != PATRON_OK)
            return fail_col(col, c, st, err, errlen);
    }
    while (v && *v) {
        const char *end = strchr(v, TAG_SEP);
        size_t len = end ? (size_t)(end - v) : strlen(v);
        char *tag = malloc(len + 1), *t;

        if (!tag)
            return fail_col(col, c, PATRON_E_NOMEM, err, errlen);
        memcpy(tag, v, len);
        tag[len] = '\0';
        t = trimmed_copy(tag);
        free(tag);
        if (!t)
            return fail_col(col, c, PATRON_E_NOMEM, err, errlen);
        st = t[0] ? patron_customer_tag_add(c, t) : PATRON_OK;
        free(t);
        if (st != PATRON_OK)
            return fail_col(col, c, st, err, errlen);
        v = end ? end + 1 : NULL;
    }
    return PATRON_OK;
}

patron_status layout_apply(const layout *l, patron_customer *c, const char *const *values, int update,
                           char *err, size_t errlen)
{
    patron_status st;
    size_t i, addr = layout_address(c);
    int want_address = 0;
    const char *house = l->house_number >= 0 ? values[l->house_number] : NULL;
    char date[11];

    /* Does the row touch the address? */
    for (i = 0; i < l->n; i++) {
        if (l->cols[i].kind == COL_ADDRESS && values[i][0])
            want_address = 1;
    }
    if (want_address && addr == (size_t)-1) {
        st = patron_customer_address_add(c, &addr);
        if (st == PATRON_OK)
            st = patron_customer_address_set(c, addr, PATRON_A_DEFAULT, "1");
        if (st != PATRON_OK) {
            snprintf(err, errlen, "%s", patron_customer_errmsg(c));
            return st;
        }
    }

    for (i = 0; i < l->n; i++) {
        const column *col = &l->cols[i];
        const char *v = values[i];

        if (!v[0] && !update)
            continue;
        switch (col->kind) {
        case COL_IGNORE:
            continue;
        case COL_FIELD:
            if (col->id == PATRON_F_EXTERNAL_SOURCE && l->external >= 0) {
                if (v[0] && !values[l->external][0]) {
                    snprintf(err, errlen, "%s: given without an id", col->name);
                    return PATRON_E_INVALID;
                }
                continue; /* set with the external id */
            }
            if (col->id == PATRON_F_BIRTH_DATE && german_date(v, date))
                v = date; /* 24.12.1980 */
            if (carried_field(col->id)) {
                /* a saved customer's consent time is the library's: an
                 * update that leaves it empty changes nothing, one that
                 * gives it is refused by the library with a message */
                if (update && !v[0])
                    continue;
                st = patron_customer_set_consent_time(c, v);
                break;
            }
            st = patron_customer_set(c, col->id, v);
            break;
        case COL_EXTERNAL: {
            const char *src = l->source >= 0 ? values[l->source] : NULL;
            if (!src || !src[0]) {
                const char *old = patron_customer_get(c, PATRON_F_EXTERNAL_SOURCE);
                src = (l->source < 0 && old) ? old : DEFAULT_SOURCE;
            }
            st = patron_customer_set(c, PATRON_F_EXTERNAL_SOURCE, v[0] ? src : NULL);
            if (st == PATRON_OK)
                st = patron_customer_set(c, PATRON_F_EXTERNAL_ID, v);
            break;
        }
        case COL_ADDRESS:
            if (addr == (size_t)-1)
                continue; /* update clearing an address that is not there */
            if (col->id == PATRON_A_HOUSE_NUMBER && !v[0] && l->street >= 0) {
                size_t sl, at, nl;
                if (split_street(values[l->street], &sl, &at, &nl))
                    continue; /* the street column gives the number */
            }
            if (col->id == PATRON_A_STREET && (!house || !house[0])) {
                size_t sl, at, nl;
                if (split_street(v, &sl, &at, &nl)) {
                    char small[256]; /* (a street of the usual length: no allocation) */
                    char *buf = sl + nl + 2 <= sizeof small ? small : malloc(sl + nl + 2);
                    if (!buf)
                        return fail_col(col, c, PATRON_E_NOMEM, err, errlen);
                    memcpy(buf, v, sl);
                    buf[sl] = '\0';
                    memcpy(buf + sl + 1, v + at, nl);
                    buf[sl + 1 + nl] = '\0';
                    st = patron_customer_address_set(c, addr, PATRON_A_STREET, buf);
                    if (st == PATRON_OK)
                        st = patron_customer_address_set(c, addr, PATRON_A_HOUSE_NUMBER, buf + sl + 1);
                    if (buf != small)
                        free(buf);
                    break;
                }
            }
            if (col->id == PATRON_A_COUNTRY && !v[0]) {
                v = DEFAULT_COUNTRY;
            } else if (col->id == PATRON_A_COUNTRY) {
                const char *code = country_code(v); /* Deutschland; looked up once */
                if (code)
                    v = code;
            }
            st = patron_customer_address_set(c, addr, col->id, v);
            break;
        case COL_TAGS:
            st = set_tags(col, c, v, err, errlen);
            if (st != PATRON_OK)
                return st;
            continue;
        case COL_PROPERTY:
            st = patron_customer_prop_set(c, col->key, v[0] ? v : NULL);
            if (st == PATRON_E_NOT_FOUND && !v[0])
                st = PATRON_OK;
            break;
        default:
            continue;
        }
        if (st != PATRON_OK)
            return fail_col(col, c, st, err, errlen);
    }
    return PATRON_OK;
}

/* One value into out[*n] (room checked by the caller's cap). */
static int put_value(patron_batch_value *out, size_t *n, size_t cap, int field, const char *key, const char *v,
                     size_t len)
{
    if (*n >= cap)
        return -1;
    out[*n].field = field;
    out[*n].key = key;
    out[*n].value = v;
    out[*n].len = len;
    (*n)++;
    return 0;
}

/* A copy of s[0, n) made with alloc; NULL when out of memory. */
static const char *alloc_copy(layout_alloc_fn alloc, void *payload, const char *s, size_t n)
{
    char *r = alloc(payload, n + 1);
    if (r) {
        memcpy(r, s, n);
        r[n] = '\0';
    }
    return r;
}

long layout_values(const layout *l, const char *const *values, const size_t *lens, patron_batch_value *out,
                   size_t cap, layout_alloc_fn alloc, void *payload, size_t *n_out, char *err, size_t errlen)
{
    size_t i, n = 0;
    const char *house = l->house_number >= 0 ? values[l->house_number] : NULL;

    *n_out = 0;
    /* the address first, as layout_apply makes it: default, country DE */
    for (i = 0; i < l->n; i++)
        if (l->cols[i].kind == COL_ADDRESS && values[i][0])
            break;
    if (i < l->n && put_value(out, &n, cap, PATRON_BATCH_ADDRESS + PATRON_A_DEFAULT, NULL, "1", 1) < 0)
        return -2;
    for (i = 0; i < l->n; i++) {
        const column *col = &l->cols[i];
        const char *v = values[i];
        int rc = 0;

        if (!v[0])
            continue;
        switch (col->kind) {
        case COL_IGNORE:
            continue;
        case COL_FIELD:
            if (col->id == PATRON_F_EXTERNAL_SOURCE && l->external >= 0) {
                if (!values[l->external][0]) {
                    snprintf(err, errlen, "%s: given without an id", col->name);
                    *n_out = n; /* (the values before: set only here) */
                    return -1;
                }
                continue; /* set with the external id */
            }
            if (carried_field(col->id))
                continue; /* no matched value; a batch row carries no consent time */
            if (col->id == PATRON_F_BIRTH_DATE) {
                char date[11];
                if (german_date(v, date) && !(v = alloc_copy(alloc, payload, date, 10)))
                    return -3;
            }
            rc = put_value(out, &n, cap, col->id, NULL, v, v == values[i] && lens ? lens[i] : strlen(v));
            break;
        case COL_EXTERNAL: {
            const char *src = l->source >= 0 ? values[l->source] : NULL;
            if (!src || !src[0])
                src = DEFAULT_SOURCE; /* (a new customer has no source before) */
            rc = put_value(out, &n, cap, PATRON_F_EXTERNAL_SOURCE, NULL, src, strlen(src));
            if (rc == 0)
                rc = put_value(out, &n, cap, PATRON_F_EXTERNAL_ID, NULL, v, lens ? lens[i] : strlen(v));
            break;
        }
        case COL_ADDRESS:
            if (col->id == PATRON_A_STREET && (!house || !house[0])) {
                size_t sl, at, nl;
                if (split_street_n(v, lens ? lens[i] : strlen(v), &sl, &at, &nl)) {
                    /* (the number is the value's end, as most are, where
                     * nothing trails it: no copy) */
                    const char *st = alloc_copy(alloc, payload, v, sl),
                               *nb = v[at + nl] ? alloc_copy(alloc, payload, v + at, nl) : v + at;
                    if (!st || !nb)
                        return -3;
                    rc = put_value(out, &n, cap, PATRON_BATCH_ADDRESS + PATRON_A_STREET, NULL, st, sl);
                    if (rc == 0)
                        rc = put_value(out, &n, cap, PATRON_BATCH_ADDRESS + PATRON_A_HOUSE_NUMBER, NULL, nb, nl);
                    break;
                }
            }
            if (col->id == PATRON_A_COUNTRY &&
                !(v[0] >= 'A' && v[0] <= 'Z' && v[1] >= 'A' && v[1] <= 'Z' && !v[2] && strcmp(v, "FL") != 0 &&
                  strcmp(v, "UK") != 0)) {
                /* (an upper-case code, the common case, is what country_code
                 * would give back: only "FL" and "UK" are names it maps) */
                const char *code = country_code(v); /* Deutschland */
                if (code)
                    v = code;
            }
            rc = put_value(out, &n, cap, PATRON_BATCH_ADDRESS + col->id, NULL, v,
                           v == values[i] && lens ? lens[i] : strlen(v));
            break;
        case COL_TAGS:
            while (v && *v && rc == 0) {
                const char *end = strchr(v, TAG_SEP), *t = skip_spaces(v);
                size_t len = end ? (size_t)(end - t) : strlen(t);
                if (end && t > end) /* only blanks before the separator */
                    len = 0, t = end;
                while (len > 0 && is_space((unsigned char)t[len - 1]))
                    len--;
                if (len) {
                    const char *tag = alloc_copy(alloc, payload, t, len);
                    if (!tag)
                        return -3;
                    rc = put_value(out, &n, cap, PATRON_BATCH_TAG, NULL, tag, len);
                }
                v = end ? end + 1 : NULL;
            }
            break;
        case COL_PROPERTY:
            rc = put_value(out, &n, cap, PATRON_BATCH_PROPERTY, col->key, v, lens ? lens[i] : strlen(v));
            break;
        default:
            continue;
        }
        if (rc < 0)
            return -2;
    }
    *n_out = n;
    return (long)n;
}

int layout_value(const layout *l, size_t i, const patron_customer *c, const char **out, char **tmp)
{
    const column *col = &l->cols[i];

    *out = NULL;
    switch (col->kind) {
    case COL_FIELD:
        if (col->id != PATRON_F_LOGIN_HASH)
            *out = patron_customer_get(c, col->id);
        return 0;
    case COL_EXTERNAL:
        *out = patron_customer_get(c, PATRON_F_EXTERNAL_ID);
        return 0;
    case COL_ADDRESS: {
        size_t a = layout_address(c);
        if (a != (size_t)-1)
            *out = patron_customer_address_get(c, a, col->id);
        return 0;
    }
    case COL_TAGS: {
        size_t n = patron_customer_tag_count(c), k, len = 0;
        char *p;
        if (!n)
            return 0;
        for (k = 0; k < n; k++)
            len += strlen(patron_customer_tag_get(c, k)) + 1;
        free(*tmp);
        *tmp = p = malloc(len);
        if (!p)
            return -1;
        for (k = 0; k < n; k++) {
            const char *t = patron_customer_tag_get(c, k);
            size_t tl = strlen(t);
            memcpy(p, t, tl);
            p += tl;
            *p++ = k + 1 < n ? TAG_SEP : '\0';
        }
        *out = *tmp;
        return 0;
    }
    case COL_PROPERTY:
        *out = patron_customer_prop_get(c, col->key);
        return 0;
    default:
        return 0;
    }
}
