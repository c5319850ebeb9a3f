"""patron: customer master data for German shops -- Python binding.

Pure ctypes over libpatron.so.1 (``PATRON_LIBRARY`` overrides the path) and,
for :meth:`Db.sqlite`, libpatron-sqlite.so.1 (``PATRON_SQLITE_LIBRARY``), for
:meth:`Db.postgres`, libpatron-pg.so.1 (``PATRON_PG_LIBRARY``), each found
beside libpatron first.

    import patron
    with patron.Db.memory() as db:
        c = db.create(first_name="Max", last_name="Mustermann", email="max@example.de")
        print(c.number)                       # K000001

Stores written in Python: subclass :class:`patron.Store` (see
:class:`patron.SqliteStore` for a complete one) and open
``patron.Db.from_store(store)``.
"""
from __future__ import annotations

from ._ffi import BINDING_FOR_VERSION
from .customer import Address, Addresses, Customer, Properties, Tags, address_field_ids, field_ids
from .db import (CUSTOM, Activation, Batch, Row, RowResult, ActivationCandidate, ActivationResult, ActivationSummary, ActivateMode,
                 Candidate, Db, Decision, Dedupe, EstimateReport, Explanation, FieldPlan, Gate, GateVerdict, Groups,
                 Matches, MatchMode, MemStore, MergePlan, MergePolicy, Outcome, Pair, State, SqliteRefTable,
                 CaseState, CasePair, ReviewCase, ScanStats)
from .errors import (AbiError, AlreadyExists, Ambiguous, Conflict, InvalidValue, LibraryNotFound, Locked,
                     NotFound, OutOfMemory, PatronError, RangeError, StateError, StoreError, Unsupported,
                     VersionMismatch)
from .sqlite_store import SqliteStore
from .store import JournalEntry, Key, Store, StoreFilter, StoreRecord

__version__ = "0.1.0"


def library_version() -> str:
    """The version of the loaded libpatron, e.g. "0.1.0"."""
    from ._ffi import lib
    return lib().version_string


def library_path() -> str:
    from ._ffi import lib
    return lib().path


def has_sqlite() -> bool:
    """True if libpatron-sqlite can be loaded (Db.sqlite works)."""
    from ._ffi import lib
    return lib().has_sqlite()


def has_postgres() -> bool:
    """True if libpatron-pg can be loaded (Db.postgres works)."""
    from ._ffi import lib
    return lib().has_pg()


__all__ = [
    "AbiError", "CasePair", "CaseState", "ReviewCase", "ScanStats", "Activation", "ActivationCandidate", "ActivationResult", "ActivationSummary", "ActivateMode",
    "Address", "Addresses", "AlreadyExists", "Ambiguous", "BINDING_FOR_VERSION", "Batch", "Row", "RowResult", "CUSTOM", "Candidate",
    "Conflict", "Customer", "Db", "Decision", "Dedupe", "EstimateReport", "Explanation", "FieldPlan", "Gate", "GateVerdict",
    "Groups", "InvalidValue", "JournalEntry", "Key", "LibraryNotFound", "Locked", "MatchMode", "Matches",
    "MemStore", "MergePlan", "MergePolicy", "NotFound", "OutOfMemory", "Outcome", "Pair", "PatronError",
    "Properties", "RangeError", "SqliteRefTable", "SqliteStore", "State", "StateError", "Store", "StoreError", "StoreFilter",
    "StoreRecord", "Tags", "Unsupported", "VersionMismatch", "address_field_ids", "field_ids", "has_postgres", "has_sqlite",
    "library_path", "library_version",
]
