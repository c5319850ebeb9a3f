/* patron — personal data requests: the export of a person and its erasure
 * (issue 16; include/patron/privacy.h).
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

patron_status patron_db_export_person(patron_db *db, char **out, int64_t id, unsigned flags)
{
    (void)id;
    (void)flags;
    if (!db)
        return PATRON_E_INVALID;
    if (!out)
        return patron__db_error(db, PATRON_E_INVALID, "no place for the result (NULL)");
    *out = NULL;
    return patron__db_error(db, PATRON_E_UNSUPPORTED, "not implemented yet");
}

patron_status patron_db_erase(patron_db *db, int64_t *journal_id_out, int64_t id, const char *reason,
                              const char *who)
{
    (void)id;
    (void)reason;
    (void)who;
    if (!db)
        return PATRON_E_INVALID;
    if (journal_id_out)
        *journal_id_out = 0;
    return patron__db_error(db, PATRON_E_UNSUPPORTED, "not implemented yet");
}
