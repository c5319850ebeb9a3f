"""The C library: loading, version check, and every function declared once.

Nothing here is public.  The rest of the package calls ``lib().name(...)``;
every function that returns a ``patron_status`` has an errcheck that raises
the matching :class:`patron.PatronError` subclass with the library's message
(``patron_db_errmsg`` / ``patron_customer_errmsg`` /
``patron_merge_plan_errmsg`` of the handle the call was made on).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double, c_int, c_int64, c_size_t,
                    c_uint, c_uint64, c_void_p)
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .errors import LibraryNotFound, PatronError, VersionMismatch, error_for

#: The version of libpatron this binding was written for (major must match,
#: the loaded minor must be at least this one).
BINDING_FOR_VERSION = (0, 1, 0)
SONAME = "libpatron.so.1"
SQLITE_SONAME = "libpatron-sqlite.so.1"
PG_SONAME = "libpatron-pg.so.1"
ENV_LIBRARY = "PATRON_LIBRARY"
ENV_SQLITE_LIBRARY = "PATRON_SQLITE_LIBRARY"
ENV_PG_LIBRARY = "PATRON_PG_LIBRARY"

PATRON_OK = 0
E_NOMEM = -1
E_INVALID = -2
E_NOT_FOUND = -3
E_EXISTS = -4
E_CONFLICT = -5
E_STORE = -6
E_UNSUPPORTED = -7
E_ABI = -8
E_STATE = -9
E_AMBIGUOUS = -10
E_RANGE = -11
E_LOCKED = -12

#: The version of patron_store_ops that STORE_CALLBACKS below describes.
PATRON_STORE_VERSION = 6
FILTER_ANY = -1


# ---- structs and callback types (patron/store.h) ---------------------------

class patron_key(Structure):
    _fields_ = [("kind", c_int), ("value", c_char_p)]


class patron_filter(Structure):
    _fields_ = [("state", c_int), ("locked", c_int), ("group", c_char_p)]


class patron_journal_entry(Structure):
    _fields_ = [
        ("id", c_int64),
        ("time", c_int64),
        ("kind", c_char_p),
        ("customer_id", c_int64),
        ("undone_by", c_int64),
        ("payload", c_char_p),
    ]


class patron_review_scan_options(Structure):
    _fields_ = [("version", c_uint), ("flags", c_uint)]


class patron_review_scan_stats(Structure):
    _fields_ = [("version", c_uint), ("full", c_int), ("customers", c_size_t), ("pairs", c_size_t),
                ("opened", c_size_t), ("refreshed", c_size_t), ("reopened", c_size_t), ("closed", c_size_t),
                ("open", c_size_t)]


emit_id_fn = CFUNCTYPE(c_int, c_void_p, c_int64)
emit_ref_fn = CFUNCTYPE(c_int, c_void_p, c_char_p, c_char_p)
emit_reason_fn = CFUNCTYPE(c_int, c_void_p, c_char_p)
emit_journal_fn = CFUNCTYPE(c_int, c_void_p, POINTER(patron_journal_entry))
emit_meta_fn = CFUNCTYPE(c_int, c_void_p, c_char_p, c_char_p)
activation_fn = CFUNCTYPE(c_int, c_void_p, c_void_p)

# One entry per member of patron_store_ops after `version`, in order.
STORE_CALLBACKS: List[Tuple[str, Any]] = [
    ("begin", CFUNCTYPE(c_int, c_void_p)),
    ("commit", CFUNCTYPE(c_int, c_void_p)),
    ("rollback", CFUNCTYPE(c_int, c_void_p)),
    ("load", CFUNCTYPE(c_int, c_void_p, c_int64, c_void_p)),
    ("insert", CFUNCTYPE(c_int, c_void_p, c_void_p, POINTER(patron_key), c_size_t, POINTER(c_int64))),
    ("update", CFUNCTYPE(c_int, c_void_p, c_void_p, POINTER(patron_key), c_size_t)),
    ("remove", CFUNCTYPE(c_int, c_void_p, c_int64)),
    ("lookup", CFUNCTYPE(c_int, c_void_p, c_int, c_char_p, emit_id_fn, c_void_p)),
    ("scan", CFUNCTYPE(c_int, c_void_p, POINTER(patron_filter), c_int64, c_size_t, emit_id_fn, c_void_p)),
    ("next_number", CFUNCTYPE(c_int, c_void_p, POINTER(c_uint64))),
    ("claim_number", CFUNCTYPE(c_int, c_void_p, c_char_p)),
    ("relink", CFUNCTYPE(c_int, c_void_p, c_int64, c_int64, emit_ref_fn, c_void_p)),
    ("move_ref", CFUNCTYPE(c_int, c_void_p, c_char_p, c_char_p, c_int64)),
    ("check_refs", CFUNCTYPE(c_int, c_void_p, c_int64, emit_reason_fn, c_void_p)),
    ("journal_append", CFUNCTYPE(c_int, c_void_p, POINTER(patron_journal_entry), POINTER(c_int64))),
    ("journal_get", CFUNCTYPE(c_int, c_void_p, c_int64, emit_journal_fn, c_void_p)),
    ("journal_scan", CFUNCTYPE(c_int, c_void_p, c_int64, c_size_t, emit_journal_fn, c_void_p)),
    ("journal_set_undone", CFUNCTYPE(c_int, c_void_p, c_int64, c_int64)),
    # errmsg returns a pointer into a buffer the binding keeps (c_void_p:
    # a c_char_p result of a Python callback would not stay alive).
    ("errmsg", CFUNCTYPE(c_void_p, c_void_p)),
    ("destroy", CFUNCTYPE(None, c_void_p)),
    ("meta_get", CFUNCTYPE(c_int, c_void_p, c_char_p, emit_meta_fn, c_void_p)),
    ("meta_put", CFUNCTYPE(c_int, c_void_p, c_char_p, c_char_p)),
    ("meta_scan", CFUNCTYPE(c_int, c_void_p, c_char_p, emit_meta_fn, c_void_p)),
    # version 2: the match form (a Python store leaves them NULL: the core loads records)
    ("match_form_put", CFUNCTYPE(c_int, c_void_p, c_int64, c_void_p, c_size_t)),
    ("match_form_get", CFUNCTYPE(c_int, c_void_p, c_int64, POINTER(c_void_p), POINTER(c_size_t))),
    # version 3: key counts (NULL: the core counts through lookup)
    ("count", CFUNCTYPE(c_int, c_void_p, c_int, c_char_p, POINTER(c_uint64))),
    # version 4: read-only transactions (NULL: begin)
    ("begin_read", CFUNCTYPE(c_int, c_void_p)),
    # version 5: erasure of personal data
    ("journal_rewrite", CFUNCTYPE(c_int, c_void_p, c_int64, c_char_p)),
    ("purge", CFUNCTYPE(c_int, c_void_p)),
    # version 6: the batched creates' hint (a Python store leaves it NULL)
    ("prefetch", CFUNCTYPE(c_int, c_void_p, POINTER(patron_key), c_size_t, POINTER(c_char_p), c_size_t,
                           c_size_t)),
]
CALLBACK_TYPES: Dict[str, Any] = dict(STORE_CALLBACKS)


class patron_store_ops(Structure):
    _fields_ = [("version", c_uint)] + STORE_CALLBACKS


class patron_sqlite_ref_table(Structure):
    _fields_ = [("kind", c_char_p), ("table", c_char_p), ("customer_column", c_char_p),
                ("id_column", c_char_p), ("flags", c_uint)]


class patron_sqlite_options(Structure):
    _fields_ = [("version", c_uint), ("flags", c_uint), ("table_prefix", c_char_p),
                ("ref_tables", POINTER(patron_sqlite_ref_table)), ("n_ref_tables", c_size_t)]


PATRON_SQLITE_OPTIONS_VERSION = 1


class patron_pg_ref_table(Structure):
    _fields_ = [("kind", c_char_p), ("table", c_char_p), ("customer_column", c_char_p),
                ("id_column", c_char_p), ("flags", c_uint)]


class patron_pg_options(Structure):
    """patron_pg_options of <patron/postgres.h>, version 1."""
    _fields_ = [("version", c_uint), ("flags", c_uint), ("schema", c_char_p), ("table_prefix", c_char_p),
                ("ref_tables", POINTER(patron_pg_ref_table)), ("n_ref_tables", c_size_t),
                ("retry_budget", c_int)]


PATRON_PG_OPTIONS_VERSION = 1
PATRON_PG_READONLY = 1
PATRON_PG_NOCREATE = 2
PATRON_PG_REF_PINNED = 1
PATRON_SQLITE_REF_PINNED = 1


# Versioned structs of patron.h: the binding fills `version` with the
# version whose members it declares here.
ACTIVATE_OPTIONS_VERSION = 1
ACTIVATION_SUMMARY_VERSION = 1


class patron_activate_options(Structure):
    _fields_ = [
        ("version", c_uint),
        ("mode", c_int),
        ("flags", c_uint),
        ("fn", activation_fn),
        ("payload", c_void_p),
    ]


class patron_match_detail(Structure):
    _fields_ = [
        ("version", c_uint),
        ("score", c_double),
        ("probability", c_double),
        ("prior", c_double),
        ("adjustment", c_double),
        ("decision", c_int),
        ("rule", c_char_p),
    ]


class patron_match_field_detail(Structure):
    _fields_ = [
        ("version", c_uint),
        ("field", c_char_p),
        ("value_a", c_char_p),
        ("value_b", c_char_p),
        ("level", c_char_p),
        ("weight", c_double),
        ("level_weight", c_double),
        ("frequency", c_int),
        ("holders", c_uint64),
        ("customers", c_uint64),
    ]


class patron_match_settings(Structure):
    _fields_ = [
        ("version", c_uint),
        ("merge_probability", c_double),
        ("review_probability", c_double),
        ("prior", c_double),
        ("default_country", c_char * 3),
    ]


class patron_estimate_options(Structure):
    _fields_ = [
        ("version", c_uint),
        ("seed", c_uint64),
        ("random_pairs", c_size_t),
        ("max_iterations", c_int),
        ("flags", c_uint),
    ]


class patron_estimate_report(Structure):
    _fields_ = [
        ("version", c_uint),
        ("stored", c_int),
        ("converged", c_int),
        ("flags", c_uint),
        ("customers", c_size_t),
        ("candidate_pairs", c_size_t),
        ("random_pairs", c_size_t),
        ("iterations", c_int),
        ("matches", c_double),
        ("prior", c_double),
        ("seconds", c_double),
        ("message", c_char * 256),
    ]


ESTIMATE_DRY_RUN = 1


class patron_activation_summary(Structure):
    _fields_ = [
        ("version", c_uint),
        ("activated", c_size_t),
        ("merged", c_size_t),
        ("review", c_size_t),
        ("failed", c_size_t),
    ]


# Batches of rows (patron/batch.h).
BATCH_ROW_VERSION = 1
BATCH_ADDRESS = 0x100
BATCH_TAG = 0x200
BATCH_PROPERTY = 0x201
BATCH_BIRTH_AS_GIVEN = 0x202


class patron_batch_value(Structure):
    _fields_ = [("field", c_int), ("key", c_char_p), ("value", c_char_p), ("len", c_size_t)]


class patron_batch_row(Structure):
    _fields_ = [
        ("version", c_uint),
        ("values", POINTER(patron_batch_value)),
        ("n_values", c_size_t),
        ("status", c_int),
        ("refused", c_size_t),
        ("id", c_int64),
        ("number", c_char * 72),
        ("errmsg", c_char * 256),
    ]


# Field kinds and flags (patron_kind, PATRON_FIELD_*).
FIELD_SYSTEM = 1 << 0
FIELD_SECRET = 1 << 1


# ---- declarations -------------------------------------------------------------

# Where the message of a failed call comes from: the kind of handle and the
# index of the argument that holds it.
_DB, _CUST, _PLAN, _BATCH = "db", "customer", "plan", "batch"

P = c_void_p  # opaque handles
S = "patron_status"  # c_int, with an errcheck that raises
_STR = c_char_p
_OUTSTR = POINTER(c_void_p)  # char ** to free with patron_free

# name: (restype, argtypes, (handle kind, arg index) for the message or None)
_CORE: Dict[str, Tuple[Any, Sequence[Any], Optional[Tuple[str, int]]]] = {
    "patron_version": (c_int, [], None),
    "patron_version_string": (_STR, [], None),
    "patron_status_name": (_STR, [c_int], None),
    "patron_status_message": (_STR, [c_int], None),
    "patron_state_name": (_STR, [c_int], None),
    "patron_outcome_name": (_STR, [c_int], None),
    "patron_free": (None, [c_void_p], None),
    "patron_field_count": (c_int, [], None),
    "patron_field_name": (_STR, [c_int], None),
    "patron_field_from_name": (c_int, [_STR], None),
    "patron_field_kind": (c_int, [c_int], None),
    "patron_field_flags": (c_uint, [c_int], None),
    "patron_address_field_count": (c_int, [], None),
    "patron_address_field_name": (_STR, [c_int], None),
    "patron_address_field_from_name": (c_int, [_STR], None),
    "patron_address_field_kind": (c_int, [c_int], None),
    "patron_address_field_flags": (c_uint, [c_int], None),
    # customer
    "patron_customer_new": (S, [POINTER(P)], None),
    "patron_customer_clone": (S, [P, POINTER(P)], (_CUST, 0)),
    "patron_customer_free": (None, [P], None),
    "patron_customer_errmsg": (_STR, [P], None),
    "patron_customer_get": (_STR, [P, c_int], None),
    "patron_customer_set": (S, [P, c_int, _STR], (_CUST, 0)),
    "patron_customer_set_consent_time": (S, [P, _STR], (_CUST, 0)),
    "patron_customer_id": (c_int64, [P], None),
    "patron_customer_revision": (c_uint64, [P], None),
    "patron_customer_state": (c_int, [P], None),
    "patron_customer_locked": (c_int, [P], None),
    "patron_customer_address_count": (c_size_t, [P], None),
    "patron_customer_address_add": (S, [P, POINTER(c_size_t)], (_CUST, 0)),
    "patron_customer_address_remove": (S, [P, c_size_t], (_CUST, 0)),
    "patron_customer_address_get": (_STR, [P, c_size_t, c_int], None),
    "patron_customer_address_set": (S, [P, c_size_t, c_int, _STR], (_CUST, 0)),
    "patron_customer_tag_count": (c_size_t, [P], None),
    "patron_customer_tag_get": (_STR, [P, c_size_t], None),
    "patron_customer_tag_add": (S, [P, _STR], (_CUST, 0)),
    "patron_customer_tag_remove": (S, [P, _STR], (_CUST, 0)),
    "patron_customer_prop_count": (c_size_t, [P], None),
    "patron_customer_prop_at": (S, [P, POINTER(c_char_p), POINTER(c_char_p), c_size_t], (_CUST, 0)),
    "patron_customer_prop_get": (_STR, [P, _STR], None),
    "patron_customer_prop_set": (S, [P, _STR, _STR], (_CUST, 0)),
    "patron_customer_validate": (S, [P], (_CUST, 0)),
    "patron_customer_to_json": (S, [P, _OUTSTR, c_uint], (_CUST, 0)),
    # records (store.h)
    "patron_record_set": (S, [P, c_int, _STR], (_CUST, 0)),
    "patron_record_pack": (S, [_OUTSTR, POINTER(c_size_t), P], (_CUST, 2)),
    "patron_record_unpack": (S, [P, c_void_p, c_size_t], (_CUST, 0)),
    # db
    "patron_memstore_new": (S, [POINTER(P)], None),
    "patron_memstore_free": (None, [P], None),
    "patron_memstore_set_ref": (S, [P, _STR, _STR, c_int64, c_uint], None),
    "patron_memstore_ref_owner": (c_int64, [P, _STR, _STR], None),
    "patron_memstore_ops": (S, [POINTER(patron_store_ops), POINTER(P), P], None),
    "patron_db_open_memory": (S, [POINTER(P), P], None),
    "patron_db_open": (S, [POINTER(P), POINTER(patron_store_ops), c_void_p], None),
    "patron_db_close": (None, [P], None),
    "patron_db_errmsg": (_STR, [P], None),
    "patron_db_set_number_format": (S, [P, _STR, c_uint], (_DB, 0)),
    "patron_db_create": (S, [P, P], (_DB, 0)),
    "patron_db_load": (S, [P, POINTER(P), c_int64], (_DB, 0)),
    "patron_db_find": (S, [P, POINTER(P), c_int, _STR], (_DB, 0)),
    "patron_db_lookup": (S, [P, POINTER(c_int64), POINTER(c_size_t), c_size_t, c_int, _STR], (_DB, 0)),
    "patron_db_update": (S, [P, P], (_DB, 0)),
    "patron_db_delete": (S, [P, c_int64, c_uint64], (_DB, 0)),
    "patron_db_list": (S, [P, POINTER(c_int64), POINTER(c_size_t), c_size_t, POINTER(patron_filter), c_int64],
                       (_DB, 0)),
    # merge
    "patron_merge_plan_new": (S, [P, POINTER(P), c_int64, POINTER(c_int64), c_size_t, c_int], (_DB, 0)),
    "patron_merge_plan_free": (None, [P], None),
    "patron_merge_plan_errmsg": (_STR, [P], None),
    "patron_merge_plan_count": (c_size_t, [P], None),
    "patron_merge_plan_record": (P, [P, c_size_t], None),
    "patron_merge_plan_choice": (S, [P, POINTER(c_int), c_int], (_PLAN, 0)),
    "patron_merge_plan_value": (_STR, [P, c_int], None),
    "patron_merge_plan_conflict": (c_int, [P, c_int], None),
    "patron_merge_plan_take": (S, [P, c_int, c_size_t], (_PLAN, 0)),
    "patron_merge_plan_set": (S, [P, c_int, _STR], (_PLAN, 0)),
    "patron_merge_plan_set_lock": (S, [P, c_int], (_PLAN, 0)),
    "patron_merge_plan_set_activate": (S, [P, c_int], (_PLAN, 0)),
    "patron_merge_plan_problems": (_STR, [P], None),
    "patron_merge_plan_blocked": (c_int, [P], None),
    "patron_merge_plan_address_count": (c_size_t, [P], None),
    "patron_merge_plan_address_keep": (S, [P, c_size_t, c_int], (_PLAN, 0)),
    "patron_merge_plan_address_set_default": (S, [P, c_size_t], (_PLAN, 0)),
    "patron_merge_plan_prop_take": (S, [P, _STR, c_size_t], (_PLAN, 0)),
    # the review queue (patron/review.h)
    "patron_db_review_scan": (S, [P, POINTER(patron_review_scan_stats), POINTER(patron_review_scan_options)],
                              (_DB, 0)),
    "patron_db_review_list": (S, [P, POINTER(P), c_uint], (_DB, 0)),
    "patron_db_review_html": (S, [P, _OUTSTR, c_uint], (_DB, 0)),
    "patron_cases_to_json": (S, [P, _OUTSTR, c_uint], None),
    "patron_cases_free": (None, [P], None),
    "patron_db_review_get": (S, [P, POINTER(P), c_int64], (_DB, 0)),
    "patron_case_to_json": (S, [P, _OUTSTR, c_uint], None),
    "patron_case_free": (None, [P], None),
    "patron_db_review_decide": (S, [P, c_int64, c_int, _STR, _STR], (_DB, 0)),
    "patron_db_review_plan": (S, [P, POINTER(P), c_int64, c_int], (_DB, 0)),
    "patron_db_review_merge": (S, [P, POINTER(c_int64), c_int64, P, _STR], (_DB, 0)),
    "patron_merge_plan_to_json": (S, [P, _OUTSTR, c_uint], (_PLAN, 0)),
    "patron_db_merge": (S, [P, POINTER(c_int64), P], (_DB, 0)),
    "patron_db_undo": (S, [P, POINTER(c_int64), c_int64, c_uint], (_DB, 0)),
    "patron_db_journal_to_json": (S, [P, _OUTSTR, c_int64, c_size_t], (_DB, 0)),
    "patron_db_journal_list": (S, [P, POINTER(P), c_int64, c_size_t], (_DB, 0)),
    "patron_journal_count": (c_size_t, [P], None),
    "patron_journal_at": (P, [P, c_size_t], None),
    "patron_journal_free": (None, [P], None),
    "patron_journal_item_id": (c_int64, [P], None),
    "patron_journal_item_time": (c_int64, [P], None),
    "patron_journal_item_kind": (_STR, [P], None),
    "patron_journal_item_customer": (c_int64, [P], None),
    "patron_journal_item_undone_by": (c_int64, [P], None),
    "patron_journal_item_summary": (_STR, [P], None),
    "patron_db_export_to_json": (S, [P, _OUTSTR, POINTER(c_int64), c_size_t, c_uint], (_DB, 0)),
    # personal data requests (patron/privacy.h)
    "patron_db_export_person": (S, [P, _OUTSTR, c_int64, c_uint], (_DB, 0)),
    "patron_db_erase": (S, [P, POINTER(c_int64), c_int64, _STR, _STR], (_DB, 0)),
    # matching
    "patron_decision_name": (_STR, [c_int], None),
    "patron_db_match": (S, [P, POINTER(P), P, c_int], (_DB, 0)),
    "patron_matches_count": (c_size_t, [P], None),
    "patron_matches_get": (S, [P, POINTER(c_int64), POINTER(c_double), POINTER(c_int), c_size_t], None),
    "patron_matches_field_count": (c_size_t, [P], None),
    "patron_matches_explain": (S, [P, POINTER(c_char_p), POINTER(c_char_p), POINTER(c_char_p),
                                   POINTER(c_char_p), POINTER(c_double), c_size_t, c_size_t], None),
    "patron_matches_to_json": (S, [P, _OUTSTR, c_uint], None),
    "patron_matches_detail": (S, [P, POINTER(patron_match_detail), c_size_t], None),
    "patron_matches_field_detail": (S, [P, POINTER(patron_match_field_detail), c_size_t, c_size_t], None),
    "patron_db_match_config_get": (S, [P, POINTER(patron_match_settings)], (_DB, 0)),
    "patron_db_match_config_set": (S, [P, POINTER(patron_match_settings)], (_DB, 0)),
    "patron_db_match_config_probability": (S, [P, POINTER(c_double), POINTER(c_double), c_char_p, c_char_p],
                                           (_DB, 0)),
    "patron_db_match_config_set_probability": (S, [P, c_char_p, c_char_p, c_double, c_double], (_DB, 0)),
    "patron_db_match_config_identifier_add": (S, [P, c_char_p], (_DB, 0)),
    "patron_db_match_config_identifier_remove": (S, [P, c_char_p], (_DB, 0)),
    "patron_db_match_config_identifiers": (S, [P, _OUTSTR], (_DB, 0)),
    "patron_db_match_config_reset": (S, [P], (_DB, 0)),
    # the index generation
    "patron_index_state_name": (_STR, [c_int], None),
    "patron_db_index_state": (S, [P, POINTER(c_int), POINTER(c_uint), POINTER(c_uint)], (_DB, 0)),
    "patron_db_reindex": (S, [P, POINTER(c_size_t)], (_DB, 0)),
    "patron_db_estimate": (S, [P, POINTER(patron_estimate_report), POINTER(patron_estimate_options)], (_DB, 0)),
    "patron_matches_free": (None, [P], None),
    "patron_db_dedupe": (S, [P, POINTER(P), c_int], (_DB, 0)),
    "patron_pairs_count": (c_size_t, [P], None),
    "patron_pairs_get": (S, [P, POINTER(c_int64), POINTER(c_int64), POINTER(c_double), POINTER(c_int), c_size_t],
                         None),
    "patron_pairs_cluster": (c_int64, [P, c_int64], None),
    "patron_pairs_household": (c_int64, [P, c_int64], None),
    "patron_pairs_free": (None, [P], None),
    # batches (patron/batch.h)
    "patron_batch_new": (S, [POINTER(P), P], (_DB, 1)),
    "patron_batch_add": (S, [P, P], (_BATCH, 0)),
    "patron_batch_add_rows": (S, [P, POINTER(patron_batch_row), c_size_t], (_BATCH, 0)),
    "patron_batch_add_rows_until": (S, [P, POINTER(c_size_t), POINTER(patron_batch_row), c_size_t, c_uint],
                                    (_BATCH, 0)),
    # returns the row's own status (written to the row): no errcheck
    "patron_batch_check_row": (c_int, [P, POINTER(patron_batch_row)], None),
    "patron_batch_count": (c_size_t, [P], None),
    "patron_batch_run": (S, [P, POINTER(P), c_int], (_BATCH, 0)),
    "patron_batch_errmsg": (_STR, [P], None),
    "patron_batch_free": (None, [P], None),
    # lifecycle
    "patron_db_register": (S, [P, P, P], (_DB, 0)),
    "patron_db_activate": (S, [P, POINTER(P), c_int64, c_int, c_uint], (_DB, 0)),
    "patron_db_activate_pending": (S, [P, POINTER(patron_activation_summary), POINTER(patron_activate_options)],
                                   (_DB, 0)),
    "patron_activation_outcome": (c_int, [P], None),
    "patron_activation_customer": (c_int64, [P], None),
    "patron_activation_number": (_STR, [P], None),
    "patron_activation_merged_into": (c_int64, [P], None),
    "patron_activation_journal": (c_int64, [P], None),
    "patron_activation_message": (_STR, [P], None),
    "patron_activation_candidate_count": (c_size_t, [P], None),
    "patron_activation_candidate": (S, [P, POINTER(c_int64), POINTER(c_double), POINTER(c_int), c_size_t], None),
    "patron_activation_plan": (P, [P, c_size_t], None),
    "patron_activation_free": (None, [P], None),
    "patron_db_release": (S, [P, _OUTSTR, c_int64], (_DB, 0)),
    "patron_db_lock": (S, [P, c_int64, _STR], (_DB, 0)),
    "patron_db_unlock": (S, [P, c_int64], (_DB, 0)),
    "patron_gate_name": (_STR, [c_int], None),
    "patron_db_can_login": (S, [P, POINTER(c_int), POINTER(c_int64), _STR], (_DB, 0)),
    "patron_db_can_order": (S, [P, POINTER(c_int), POINTER(c_int64), c_int64], (_DB, 0)),
    # groups
    "patron_db_group_add": (S, [P, _STR], (_DB, 0)),
    "patron_db_group_rename": (S, [P, _STR, _STR], (_DB, 0)),
    "patron_db_group_set": (S, [P, _STR, _STR, _STR], (_DB, 0)),
    "patron_db_group_assign": (S, [P, _STR, c_int64], (_DB, 0)),
    "patron_db_group_delete": (S, [P, _STR], (_DB, 0)),
    "patron_db_groups_to_json": (S, [P, _OUTSTR], (_DB, 0)),
    "patron_db_group_get": (S, [P, POINTER(P), _STR], (_DB, 0)),
    "patron_group_free": (None, [P], None),
    "patron_db_group_list": (S, [P, POINTER(P)], (_DB, 0)),
    "patron_groups_count": (c_size_t, [P], None),
    "patron_groups_at": (P, [P, c_size_t], None),
    "patron_groups_free": (None, [P], None),
    "patron_group_name": (_STR, [P], None),
    "patron_group_discount_percent": (_STR, [P], None),
    "patron_group_price_category": (_STR, [P], None),
    "patron_group_is_default": (c_int, [P], None),
    "patron_group_customers": (c_size_t, [P], None),
}

_SQLITE: Dict[str, Tuple[Any, Sequence[Any], Optional[Tuple[str, int]]]] = {
    "patron_sqlite_store_open": (S, [POINTER(patron_store_ops), POINTER(P), _OUTSTR, _STR,
                                     POINTER(patron_sqlite_options)], None),
    "patron_sqlite_close": (None, [P], None),
    "patron_db_open_sqlite": (S, [POINTER(P), POINTER(P), _OUTSTR, _STR, POINTER(patron_sqlite_options)], None),
    "patron_sqlite_options_init": (None, [POINTER(patron_sqlite_options)], None),
    "patron_sqlite_begin": (S, [P], ("sqlite", 0)),
    "patron_sqlite_commit": (S, [P], ("sqlite", 0)),
    "patron_sqlite_rollback": (S, [P], ("sqlite", 0)),
    "patron_sqlite_errmsg": (_STR, [P], None),
}

_PG: Dict[str, Tuple[Any, Sequence[Any], Optional[Tuple[str, int]]]] = {
    "patron_db_open_postgres": (S, [POINTER(P), POINTER(P), _OUTSTR, _STR, POINTER(patron_pg_options)], None),
    "patron_pg_options_init": (None, [POINTER(patron_pg_options)], None),
    "patron_pg_begin": (S, [P], ("pg", 0)),
    "patron_pg_commit": (S, [P], ("pg", 0)),
    "patron_pg_rollback": (S, [P], ("pg", 0)),
    "patron_pg_errmsg": (_STR, [P], None),
    "patron_pg_lock_key": (c_int64, [P], None),
}


def _handle(arg: Any) -> Any:
    """The raw pointer of an argument (a c_void_p, an int or a byref())."""
    if isinstance(arg, c_void_p):
        return arg.value
    return arg


def _mapped_path(soname: str) -> Optional[str]:
    """The file a library loaded by its soname came from, read from
    /proc/self/maps (Linux): the mapping whose file is `soname` or, with
    symlinks resolved, `soname` plus a version suffix."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].startswith("/"):
            base = os.path.basename(parts[5])
            if base == soname or base.startswith(soname + "."):
                return parts[5]
    return None


class _Library:
    """The loaded libpatron (and, lazily, libpatron-sqlite and libpatron-pg)."""

    def __init__(self, path: str) -> None:
        self.cdll = ctypes.CDLL(path)
        #: the file the library was loaded from (for a soname: as the loader found it)
        self.path = path if os.sep in path else (_mapped_path(os.path.basename(path)) or path)
        self._declare(self.cdll, _CORE)
        version = self.cdll.patron_version()
        major, minor = version // 10000, (version // 100) % 100
        if major != BINDING_FOR_VERSION[0] or minor < BINDING_FOR_VERSION[1]:
            raise VersionMismatch(
                "%s is version %s; this binding was written for %d.%d.x (the major version must "
                "match and the minor be at least %d)" % (path, self.cdll.patron_version_string().decode(),
                                                         BINDING_FOR_VERSION[0], BINDING_FOR_VERSION[1],
                                                         BINDING_FOR_VERSION[1]))
        self.version = version
        self.version_string: str = self.cdll.patron_version_string().decode()
        self.sqlite: Optional[ctypes.CDLL] = None
        self.sqlite_error: Optional[str] = None
        self._sqlite_tried = False
        self.pg: Optional[ctypes.CDLL] = None
        self.pg_error: Optional[str] = None
        self._pg_tried = False

    def __getattr__(self, name: str) -> Any:
        if name.startswith("patron_sqlite") or name == "patron_db_open_sqlite":
            return getattr(self.load_sqlite(), name)
        if name.startswith("patron_pg") or name.startswith("patron_db_open_postgres"):
            return getattr(self.load_pg(), name)
        return getattr(self.cdll, name)

    # -- declarations and errors --

    def _declare(self, dll: ctypes.CDLL, table: Dict[str, Tuple[Any, Sequence[Any], Optional[Tuple[str, int]]]]
                 ) -> None:
        for name, (restype, argtypes, msg) in table.items():
            try:
                fn = getattr(dll, name)
            except AttributeError as e:
                raise LibraryNotFound("%s has no function %s: the library is too old or not libpatron"
                                      % (self.path, name)) from e
            fn.argtypes = list(argtypes)
            if restype == S:
                fn.restype = c_int
                fn.errcheck = self._checker(name, msg)
            else:
                fn.restype = restype

    def _checker(self, name: str, msg: Optional[Tuple[str, int]]) -> Callable[..., Any]:
        def errcheck(result: int, func: Any, args: Tuple[Any, ...]) -> Any:
            if result == PATRON_OK:
                return result
            raise error_for(result, self.message(msg, args, result), function=name)

        return errcheck

    def message(self, msg: Optional[Tuple[str, int]], args: Tuple[Any, ...], status: int) -> str:
        text = b""
        if msg is not None:
            kind, index = msg
            h = _handle(args[index])
            if h:
                if kind == _DB:
                    text = self.cdll.patron_db_errmsg(h) or b""
                elif kind == _CUST:
                    text = self.cdll.patron_customer_errmsg(h) or b""
                elif kind == _PLAN:
                    text = self.cdll.patron_merge_plan_errmsg(h) or b""
                elif kind == _BATCH:
                    text = self.cdll.patron_batch_errmsg(h) or b""
                elif kind == "sqlite" and self.sqlite is not None:
                    text = self.sqlite.patron_sqlite_errmsg(h) or b""
                elif kind == "pg" and self.pg is not None:
                    text = self.pg.patron_pg_errmsg(h) or b""
        if not text:
            text = self.cdll.patron_status_message(status) or b""
        return text.decode("utf-8", "replace")

    # -- the SQLite store library --

    def sqlite_candidates(self) -> List[str]:
        """Where libpatron-sqlite is looked for, in order: $PATRON_SQLITE_LIBRARY;
        beside libpatron (the directory of the path it was loaded from, and of
        that path with symlinks resolved); the soname (the loader's search)."""
        out: List[str] = []
        env = os.environ.get(ENV_SQLITE_LIBRARY)
        if env:
            out.append(env)
        if os.sep in self.path:
            for d in (os.path.dirname(self.path), os.path.dirname(os.path.realpath(self.path))):
                cand = os.path.join(d, SQLITE_SONAME)
                if cand not in out and os.path.exists(cand):
                    out.append(cand)
        out.append(SQLITE_SONAME)
        return out

    def load_sqlite(self) -> ctypes.CDLL:
        if self.sqlite is not None:
            return self.sqlite
        if not self._sqlite_tried:
            self._sqlite_tried = True
            errors = []
            for path in self.sqlite_candidates():
                try:
                    dll = ctypes.CDLL(path)
                    self._declare(dll, _SQLITE)
                    self.sqlite = dll
                    return dll
                except (OSError, LibraryNotFound) as e:
                    errors.append("%s: %s" % (path, e))
                if path == os.environ.get(ENV_SQLITE_LIBRARY):
                    break  # an explicit path is not second-guessed
            self.sqlite_error = (
                "the SQLite store library could not be loaded (%s).  Install libpatron-sqlite beside "
                "libpatron (%s; meson builds it when it finds sqlite3) or set %s to its path; or use "
                "Db.memory() or a Python store such as patron.SqliteStore"
                % ("; ".join(errors), os.path.dirname(self.path) or "the loader's search path", ENV_SQLITE_LIBRARY))
        from .errors import Unsupported
        raise Unsupported(self.sqlite_error or "the SQLite store library is not available")

    def has_sqlite(self) -> bool:
        try:
            self.load_sqlite()
            return True
        except PatronError:
            return False

    # -- the PostgreSQL store library, found the same way --

    def pg_candidates(self) -> List[str]:
        """Where libpatron-pg is looked for, in order: $PATRON_PG_LIBRARY;
        beside libpatron (as :meth:`sqlite_candidates`); the soname."""
        out: List[str] = []
        env = os.environ.get(ENV_PG_LIBRARY)
        if env:
            out.append(env)
        if os.sep in self.path:
            for d in (os.path.dirname(self.path), os.path.dirname(os.path.realpath(self.path))):
                cand = os.path.join(d, PG_SONAME)
                if cand not in out and os.path.exists(cand):
                    out.append(cand)
        out.append(PG_SONAME)
        return out

    def load_pg(self) -> ctypes.CDLL:
        if self.pg is not None:
            return self.pg
        if not self._pg_tried:
            self._pg_tried = True
            errors = []
            for path in self.pg_candidates():
                try:
                    dll = ctypes.CDLL(path)
                    self._declare(dll, _PG)
                    self.pg = dll
                    return dll
                except (OSError, LibraryNotFound) as e:
                    errors.append("%s: %s" % (path, e))
                if path == os.environ.get(ENV_PG_LIBRARY):
                    break  # an explicit path is not second-guessed
            self.pg_error = (
                "the PostgreSQL store library could not be loaded (%s).  Install libpatron-pg beside "
                "libpatron (%s; meson builds it when it finds libpq) or set %s to its path"
                % ("; ".join(errors), os.path.dirname(self.path) or "the loader's search path", ENV_PG_LIBRARY))
        from .errors import Unsupported
        raise Unsupported(self.pg_error or "the PostgreSQL store library is not available")

    def has_pg(self) -> bool:
        try:
            self.load_pg()
            return True
        except PatronError:
            return False


_lib: Optional[_Library] = None
_lock = threading.Lock()


def lib() -> _Library:
    """The library, loaded on first use: $PATRON_LIBRARY, else the soname."""
    global _lib
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is None:
            path = os.environ.get(ENV_LIBRARY) or SONAME
            try:
                _lib = _Library(path)
            except OSError as e:
                raise LibraryNotFound(
                    "cannot load libpatron (%s): %s.  Install libpatron.so.1 or set %s to the path "
                    "of the built library (e.g. build/src/libpatron.so.1)" % (path, e, ENV_LIBRARY)) from e
    return _lib


def take_string(ptr: c_void_p) -> Optional[str]:
    """Copy a string the library allocated, then free it with patron_free."""
    if not ptr.value:
        return None
    try:
        return ctypes.string_at(ptr.value).decode("utf-8")
    finally:
        lib().patron_free(ptr.value)


def enc(s: Optional[str]) -> Optional[bytes]:
    if s is None:
        return None
    if isinstance(s, bytes):
        return s
    return str(s).encode("utf-8")


def dec(b: Optional[bytes]) -> Optional[str]:
    return None if b is None else b.decode("utf-8", "replace")
