/* patron — version and status strings.  SPDX-License-Identifier: MIT */
#include "patron/patron.h"
#include "util.h"

int patron_version(void)
{
    return PATRON_VERSION_NUMBER;
}

const char *patron_version_string(void)
{
    return PATRON_VERSION_STRING;
}

const char *patron_status_name(patron_status status)
{
    switch (status) {
    case PATRON_OK: return "ok";
    case PATRON_E_NOMEM: return "nomem";
    case PATRON_E_INVALID: return "invalid";
    case PATRON_E_NOT_FOUND: return "not_found";
    case PATRON_E_EXISTS: return "exists";
    case PATRON_E_CONFLICT: return "conflict";
    case PATRON_E_STORE: return "store";
    case PATRON_E_UNSUPPORTED: return "unsupported";
    case PATRON_E_ABI: return "abi";
    case PATRON_E_STATE: return "state";
    case PATRON_E_AMBIGUOUS: return "ambiguous";
    case PATRON_E_RANGE: return "range";
    case PATRON_E_LOCKED: return "locked";
    default: return NULL;
    }
}

const char *patron_status_message(patron_status status)
{
    switch (status) {
    case PATRON_OK: return "ok";
    case PATRON_E_NOMEM: return "out of memory";
    case PATRON_E_INVALID: return "invalid argument or field value";
    case PATRON_E_NOT_FOUND: return "not found";
    case PATRON_E_EXISTS: return "already exists or was used before";
    case PATRON_E_CONFLICT: return "changed by someone else since it was loaded";
    case PATRON_E_STORE: return "a store callback failed";
    case PATRON_E_UNSUPPORTED: return "not supported by this store";
    case PATRON_E_ABI: return "struct version not supported";
    case PATRON_E_STATE: return "not allowed in the current state";
    case PATRON_E_AMBIGUOUS: return "several customers match";
    case PATRON_E_RANGE: return "buffer too small or index out of range";
    case PATRON_E_LOCKED: return "the customer is locked";
    default: return "unknown status";
    }
}
