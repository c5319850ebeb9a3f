/* patron — field names, kinds and limits; ISO 3166-1 country codes.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "internal.h"

/* Indexed by patron_field.  Names are the JSON / CSV / CLI names. */
const patron__field_info patron__fields[PATRON_F__END] = {
    [PATRON_F_ID] = { "id", PK_SYSTEM, 20 },
    [PATRON_F_NUMBER] = { "number", PK_NUMBER, 64 },
    [PATRON_F_STATE] = { "state", PK_SYSTEM, 16 },
    [PATRON_F_SALUTATION] = { "salutation", PK_TEXT, 50 },
    [PATRON_F_TITLE] = { "title", PK_TEXT, 50 },
    [PATRON_F_FIRST_NAME] = { "first_name", PK_TEXT, 200 },
    [PATRON_F_LAST_NAME] = { "last_name", PK_TEXT, 200 },
    [PATRON_F_COMPANY] = { "company", PK_TEXT, 200 },
    [PATRON_F_EMAIL] = { "email", PK_EMAIL, 254 },
    [PATRON_F_PHONE] = { "phone", PK_TEXT, 50 },
    [PATRON_F_MOBILE] = { "mobile", PK_TEXT, 50 },
    [PATRON_F_FAX] = { "fax", PK_TEXT, 50 },
    [PATRON_F_BIRTH_DATE] = { "birth_date", PK_DATE, 10 },
    [PATRON_F_LANGUAGE] = { "language", PK_LANG, 16 },
    [PATRON_F_B2B] = { "b2b", PK_BOOL, 5 },
    [PATRON_F_VAT_ID] = { "vat_id", PK_VATID, 32 },
    [PATRON_F_PAYMENT_TERMS] = { "payment_terms", PK_TEXT, 200 },
    [PATRON_F_PRICE_CATEGORY] = { "price_category", PK_TEXT, 64 },
    [PATRON_F_GROUP] = { "group", PK_TEXT, 64 },
    [PATRON_F_NEWSLETTER] = { "newsletter", PK_BOOL, 5 },
    [PATRON_F_NOTES] = { "notes", PK_MULTILINE, 65535 },
    [PATRON_F_ORDER_TEXT] = { "order_text", PK_MULTILINE, 4000 },
    [PATRON_F_LOGIN_USER] = { "login_user", PK_TEXT, 254 },
    [PATRON_F_LOGIN_HASH] = { "login_hash", PK_OPAQUE, 1024 },
    [PATRON_F_EXTERNAL_SOURCE] = { "external_source", PK_TEXT, 64 },
    [PATRON_F_EXTERNAL_ID] = { "external_id", PK_TEXT, 128 },
    [PATRON_F_LOCKED] = { "locked", PK_SYSTEM, 1 },
    [PATRON_F_LOCK_REASON] = { "lock_reason", PK_SYSTEM, 1000 },
    [PATRON_F_LOCKED_AT] = { "locked_at", PK_SYSTEM, 20 },
    [PATRON_F_CREATED_AT] = { "created_at", PK_SYSTEM, 20 },
    [PATRON_F_UPDATED_AT] = { "updated_at", PK_SYSTEM, 20 },
    [PATRON_F_REVISION] = { "revision", PK_SYSTEM, 20 },
    [PATRON_F_MERGED_INTO] = { "merged_into", PK_SYSTEM, 20 },
    [PATRON_F_NEWSLETTER_AT] = { "newsletter_at", PK_SYSTEM, 20 },
    [PATRON_F_NEWSLETTER_SOURCE] = { "newsletter_source", PK_SOURCE, 6 },
    [PATRON_F_ERASED_AT] = { "erased_at", PK_SYSTEM, 20 },
};

const patron__field_info patron__address_fields[PATRON_A__END] = {
    [PATRON_A_LABEL] = { "label", PK_TEXT, 100 },
    [PATRON_A_SALUTATION] = { "salutation", PK_TEXT, 50 },
    [PATRON_A_FIRST_NAME] = { "first_name", PK_TEXT, 200 },
    [PATRON_A_LAST_NAME] = { "last_name", PK_TEXT, 200 },
    [PATRON_A_COMPANY] = { "company", PK_TEXT, 200 },
    [PATRON_A_STREET] = { "street", PK_TEXT, 200 },
    [PATRON_A_HOUSE_NUMBER] = { "house_number", PK_TEXT, 20 },
    [PATRON_A_ADDITION] = { "address_addition", PK_TEXT, 200 },
    [PATRON_A_POSTAL_CODE] = { "postal_code", PK_TEXT, 16 },
    [PATRON_A_CITY] = { "city", PK_TEXT, 100 },
    [PATRON_A_STATE] = { "state", PK_TEXT, 100 },
    [PATRON_A_COUNTRY] = { "country", PK_COUNTRY, 2 },
    [PATRON_A_PHONE] = { "phone", PK_TEXT, 50 },
    [PATRON_A_DEFAULT] = { "default", PK_BOOL, 5 },
    [PATRON_A_BILLING] = { "billing", PK_BILLING, 7 },
    [PATRON_A_VAT_ID] = { "vat_id", PK_VATID, 32 },
};

const patron__field_info *patron__field(int field)
{
    if (field <= 0 || field >= PATRON_F__END)
        return NULL;
    return &patron__fields[field];
}

const patron__field_info *patron__address_field(int field)
{
    if (field <= 0 || field >= PATRON_A__END)
        return NULL;
    return &patron__address_fields[field];
}

const char *patron_field_name(int field)
{
    const patron__field_info *fi = patron__field(field);
    return fi ? fi->name : NULL;
}

int patron_field_from_name(const char *name)
{
    if (!name)
        return 0;
    for (int f = 1; f < PATRON_F__END; f++)
        if (strcmp(patron__fields[f].name, name) == 0)
            return f;
    return 0;
}

const char *patron_address_field_name(int field)
{
    const patron__field_info *fi = patron__address_field(field);
    return fi ? fi->name : NULL;
}

int patron_address_field_from_name(const char *name)
{
    if (!name)
        return 0;
    for (int f = 1; f < PATRON_A__END; f++)
        if (strcmp(patron__address_fields[f].name, name) == 0)
            return f;
    return 0;
}

/* ISO 3166-1 alpha-2, officially assigned codes, in alphabetical order. */
static const char COUNTRIES[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
    "BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
    "DE DJ DK DM DO DZ "
    "EC EE EG EH ER ES ET "
    "FI FJ FK FM FO FR "
    "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY "
    "HK HM HN HR HT HU "
    "ID IE IL IM IN IO IQ IR IS IT "
    "JE JM JO JP "
    "KE KG KH KI KM KN KP KR KW KY KZ "
    "LA LB LC LI LK LR LS LT LU LV LY "
    "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ "
    "NA NC NE NF NG NI NL NO NP NR NU NZ "
    "OM "
    "PA PE PF PG PH PK PL PM PN PR PS PT PW PY "
    "QA "
    "RE RO RS RU RW "
    "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
    "TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ "
    "UA UG UM US UY UZ "
    "VA VC VE VG VI VN VU "
    "WF WS "
    "YE YT "
    "ZA ZM ZW ";

bool patron__country_known(const char *code2)
{
    /* the list is sorted: a binary search over its 3-byte entries (the
     * walk was a seventh of checking a row's values) */
    size_t lo = 0, hi = (sizeof COUNTRIES - 1) / 3;
    if (!code2 || !code2[0] || !code2[1] || code2[2])
        return false;
    /* the codes of most customers, without the search */
    if ((code2[0] == 'D' && code2[1] == 'E') || (code2[0] == 'A' && code2[1] == 'T') ||
        (code2[0] == 'C' && code2[1] == 'H'))
        return true;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *e = COUNTRIES + 3 * mid;
        int d = e[0] != code2[0] ? (unsigned char)e[0] - (unsigned char)code2[0]
                                 : (unsigned char)e[1] - (unsigned char)code2[1];
        if (d == 0)
            return true;
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* ---- public field metadata ------------------------------------------- */

static patron_kind public_kind(int pk)
{
    switch (pk) {
    case PK_TEXT: return PATRON_KIND_TEXT;
    case PK_MULTILINE: return PATRON_KIND_MULTILINE;
    case PK_EMAIL: return PATRON_KIND_EMAIL;
    case PK_DATE: return PATRON_KIND_DATE;
    case PK_BOOL: return PATRON_KIND_BOOL;
    case PK_LANG: return PATRON_KIND_LANGUAGE;
    case PK_NUMBER: return PATRON_KIND_NUMBER;
    case PK_VATID: return PATRON_KIND_VAT_ID;
    case PK_COUNTRY: return PATRON_KIND_COUNTRY;
    case PK_BILLING:
    case PK_SOURCE: return PATRON_KIND_TOKEN;
    case PK_OPAQUE: return PATRON_KIND_OPAQUE;
    default: return PATRON_KIND_NONE;
    }
}

int patron_field_count(void)
{
    return PATRON_F__END - 1;
}

patron_kind patron_field_kind(int field)
{
    const patron__field_info *fi = patron__field(field);
    if (!fi)
        return PATRON_KIND_NONE;
    /* System fields share one internal kind (read-only); their values
     * still have a shape. */
    switch (field) {
    case PATRON_F_ID:
    case PATRON_F_REVISION:
    case PATRON_F_MERGED_INTO: return PATRON_KIND_INTEGER;
    case PATRON_F_STATE: return PATRON_KIND_TOKEN;
    case PATRON_F_LOCKED: return PATRON_KIND_BOOL;
    case PATRON_F_LOCK_REASON: return PATRON_KIND_TEXT;
    case PATRON_F_LOCKED_AT:
    case PATRON_F_NEWSLETTER_AT:
    case PATRON_F_ERASED_AT:
    case PATRON_F_CREATED_AT:
    case PATRON_F_UPDATED_AT: return PATRON_KIND_TIMESTAMP;
    default: return public_kind(fi->kind);
    }
}

unsigned patron_field_flags(int field)
{
    const patron__field_info *fi = patron__field(field);
    unsigned flags = 0;
    if (!fi)
        return 0;
    if (fi->kind == PK_SYSTEM)
        flags |= PATRON_FIELD_SYSTEM;
    if (fi->kind == PK_OPAQUE)
        flags |= PATRON_FIELD_SECRET;
    return flags;
}

int patron_address_field_count(void)
{
    return PATRON_A__END - 1;
}

patron_kind patron_address_field_kind(int field)
{
    const patron__field_info *fi = patron__address_field(field);
    return fi ? public_kind(fi->kind) : PATRON_KIND_NONE;
}

unsigned patron_address_field_flags(int field)
{
    const patron__field_info *fi = patron__address_field(field);
    if (!fi)
        return 0;
    return (fi->kind == PK_SYSTEM ? PATRON_FIELD_SYSTEM : 0u) | (fi->kind == PK_OPAQUE ? PATRON_FIELD_SECRET : 0u);
}
