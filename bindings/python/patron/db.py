"""The database handle and everything it hands out."""
from __future__ import annotations

import contextlib
import enum
import json
import weakref
from ctypes import byref, c_char_p, c_double, c_int, c_int64, c_size_t, c_uint, c_void_p
from dataclasses import dataclass, field
import os
from typing import (Any, Callable, Dict, Iterator, List, Literal, Mapping, NamedTuple, Optional, Sequence, Tuple,
                    Union, overload)

from . import _ffi
from ._ffi import dec, enc, lib, take_string
from .customer import Customer, field_id, field_ids, field_name, to_text
from .errors import InvalidValue, PatronError, StateError, StoreError, Unsupported
from .store import Store, StoreAdapter


class SqliteRefTable(NamedTuple):
    """A table of the host whose rows belong to a customer, for
    ``Db.sqlite(ref_tables=...)``: a merge moves the duplicate's rows to the
    survivor and reports each as (``kind``, value of ``id_column``); undo
    moves them back.  ``pinned``: the rows cannot move, and a merge of a
    customer that has any is refused.  Names: letters, digits and ``_``."""

    kind: str
    table: str
    customer_column: str
    id_column: str
    pinned: bool = False



# ---- enums ------------------------------------------------------------------

class State(enum.IntEnum):
    NONE = 0
    PENDING = 1
    ACTIVE = 2
    MERGED = 3
    ERASED = 4


class ActivateMode(enum.IntEnum):
    INTERACTIVE = 0
    AUTO = 1
    EMAIL = 2


class MatchMode(enum.IntEnum):
    FIELDS = 0
    EMAIL = 1


class MergePolicy(enum.IntEnum):
    SURVIVOR = 0
    NEWEST = 1


class _Named(enum.IntEnum):
    """An enum of the library whose members also compare equal to their
    stable token (patron_<enum>_name()): ``Decision.REVIEW == "review"``."""

    def __str__(self) -> str:
        return self.name.lower()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.name.lower() == other
        return int.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = enum.IntEnum.__hash__


class Decision(_Named):
    DISTINCT = 0
    REVIEW = 1
    MERGE = 2
    HOUSEHOLD = 3


class Outcome(_Named):
    ACTIVATED = 1
    MERGED = 2
    REVIEW = 3
    FAILED = 4


class GateVerdict(_Named):
    ALLOWED = 0
    LOCKED = 1
    PENDING = 2
    UNKNOWN = 3
    MERGED = 4
    ERASED = 5


def _enum(cls: Any, value: Union[str, int]) -> int:
    if isinstance(value, str):
        try:
            return int(cls[value.upper()])
        except KeyError:
            raise InvalidValue("unknown %s %r (one of: %s)" % (cls.__name__, value,
                                                               ", ".join(m.name.lower() for m in cls)),
                               code=_ffi.E_INVALID) from None
    return int(value)


def _decision(v: int) -> Union[Decision, int]:
    try:
        return Decision(v)
    except ValueError:
        return v


class CaseState(str, enum.Enum):
    """The state of a review case (patron_case_state).  A ``str``: every
    member compares equal to its token, ``CaseState.NOT_DUPLICATE ==
    "not_duplicate"``, and the decisions take either."""
    OPEN = "open"
    MERGED = "merged"
    NOT_DUPLICATE = "not_duplicate"
    HOUSEHOLD = "household"
    DEFERRED = "deferred"

    def __str__(self) -> str:
        return self.value

    @property
    def code(self) -> int:
        """The C value (PATRON_CASE_*)."""
        return _CASE_CODES[self.value]


_CASE_CODES = {"open": 0, "merged": 1, "not_duplicate": 2, "household": 3, "deferred": 4}


def _case_state(value: Union[str, CaseState]) -> int:
    v = value.value if isinstance(value, CaseState) else value
    if v == "distinct":
        v = "not_duplicate"
    if not isinstance(v, str) or v not in _CASE_CODES:
        raise InvalidValue("unknown case state %r (one of: %s)" % (value, ", ".join(_CASE_CODES)),
                           code=_ffi.E_INVALID)
    return _CASE_CODES[v]


@dataclass(frozen=True)
class CasePair:
    """A pair of a case: two customer ids, score, verdict, the explanation
    per field as the scan saw it."""
    a: int
    b: int
    score: float
    decision: Union[Decision, int]
    fields: List[Dict[str, Any]]


@dataclass(frozen=True)
class ReviewCase:
    """A duplicate case of the review queue (a snapshot): the cluster is
    ``members``, a list of customer ids, as in the PHP binding."""
    id: int
    state: CaseState
    verdict: Union[Decision, int]
    score: float
    members: List[int]
    pairs: List[CasePair]
    reason: str
    decided_by: Optional[str]
    decided_at: int
    note: Optional[str]
    journal: int
    change: Optional[str]
    created_at: int
    updated_at: int

    @staticmethod
    def _from(d: Mapping[str, Any]) -> "ReviewCase":
        dec_of = {"distinct": Decision.DISTINCT, "review": Decision.REVIEW, "merge": Decision.MERGE,
                  "household": Decision.HOUSEHOLD}
        return ReviewCase(
            id=int(d["id"]), state=CaseState(d["state"]), verdict=dec_of.get(d["verdict"], d["verdict"]),
            score=float(d["score"]), members=[int(m) for m in d["members"]],
            pairs=[CasePair(int(p["a"]), int(p["b"]), float(p["score"]), dec_of.get(p["decision"], p["decision"]),
                            list(p.get("fields", []))) for p in d.get("pairs", [])],
            reason=d.get("reason") or "", decided_by=d.get("decided_by"), decided_at=int(d.get("decided_at") or 0),
            note=d.get("note"), journal=int(d.get("journal") or 0), change=d.get("change"),
            created_at=int(d.get("created_at") or 0), updated_at=int(d.get("updated_at") or 0))


class ScanStats(NamedTuple):
    """What patron_db_review_scan() did."""
    full: bool
    customers: int
    pairs: int
    opened: int
    refreshed: int
    reopened: int
    closed: int
    open: int


KEY_NUMBER, KEY_EXTERNAL, KEY_EMAIL, KEY_LOGIN = 1, 2, 3, 4
#: Special answers of patron_merge_plan_choice(): PATRON_MERGE_CUSTOM, _NOT_MERGED
CUSTOM = -1
NOT_MERGED = -2
#: patron_merge_lock
LOCK_ANY, LOCK_UNLOCKED, LOCK_LOCKED = -1, 0, 1


def _key(number: Optional[str], external: Union[str, Tuple[str, str], None], email: Optional[str],
         login: Optional[str]) -> Tuple[int, str]:
    given = [(k, v) for k, v in ((KEY_NUMBER, number), (KEY_EXTERNAL, external), (KEY_EMAIL, email),
                                 (KEY_LOGIN, login)) if v is not None]
    if len(given) != 1:
        raise InvalidValue("give exactly one of number=, external=, email=, login=", code=_ffi.E_INVALID)
    kind, value = given[0]
    if kind == KEY_EXTERNAL and isinstance(value, tuple):
        source, ext = value
        value = "%s\x1f%s" % (source, ext) if source else ext
    return kind, str(value)


def _ids(values: Sequence[Union[int, Customer]]) -> List[int]:
    return [v.id if isinstance(v, Customer) else int(v) for v in values]


def _id(v: Union[int, Customer]) -> int:
    return v.id if isinstance(v, Customer) else int(v)


class _Handle:
    """A pointer the library handed out, freed once by close()."""

    _free_name = ""

    def __init__(self, ptr: Optional[int]) -> None:
        self._ptr = ptr

    @property
    def _p(self) -> int:
        if self._ptr is None:
            raise StateError("%s was closed" % type(self).__name__, code=_ffi.E_STATE)
        return self._ptr

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def close(self) -> None:
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            getattr(lib(), self._free_name)(ptr)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


# ---- the memory store -----------------------------------------------------------

class MemStore(_Handle):
    """A memory store shared by several Db handles (patron_memstore), which
    also keeps references of the host (orders) that merges re-link."""

    _free_name = "patron_memstore_free"

    def __init__(self) -> None:
        out = c_void_p()
        lib().patron_memstore_new(byref(out))
        super().__init__(out.value)
        self._dbs: "weakref.WeakSet[Db]" = weakref.WeakSet()

    def close(self) -> None:
        if self._ptr is not None and any(not db.closed for db in self._dbs):
            raise StateError("close every Db on this MemStore first", code=_ffi.E_STATE)
        super().close()

    def set_ref(self, kind: str, ref_id: str, customer_id: int, pinned: bool = False) -> None:
        """Keep a host reference (``customer_id`` 0 removes it); a pinned
        reference cannot move, so a merge of its customer is refused."""
        lib().patron_memstore_set_ref(self._p, enc(kind), enc(ref_id), int(customer_id), 1 if pinned else 0)

    def ref_owner(self, kind: str, ref_id: str) -> int:
        """The customer a reference belongs to (0: unknown)."""
        return int(lib().patron_memstore_ref_owner(self._p, enc(kind), enc(ref_id)))


# ---- results ---------------------------------------------------------------------

@dataclass
class Explanation:
    """One field of a match explanation.  ``weight`` is what it added to the
    score; for an exact agreement on a value many customers hold,
    ``frequency`` is True, ``holders`` of ``customers`` hold the value and
    ``level_weight`` is the level's weight it replaced."""
    field: str
    value_a: str
    value_b: str
    level: str
    weight: float
    level_weight: float = 0.0
    frequency: bool = False
    holders: int = 0
    customers: int = 0

    def frequency_note(self) -> str:
        """"mueller: 60 of 20000 customers, +3.10 instead of +6.41" ("" if not adjusted)."""
        if not self.frequency:
            return ""
        return "%s: %d of %d customers, %+.2f instead of %+.2f" % (self.value_a, self.holders, self.customers,
                                                                     self.weight, self.level_weight)


@dataclass
class Candidate:
    """A match candidate: the stored customer ``id``, its score and decision,
    and why (one Explanation per compared field)."""
    id: int
    score: float
    decision: Union[Decision, int]
    explanation: List[Explanation] = field(default_factory=list)
    probability: float = 0.0
    #: the safety rule that decided ("household", "other_names",
    #: "shared_email", "name_only", "name_change", "own_evidence",
    #: "other_building"), "" when the probability alone decided
    rule: str = ""
    prior: float = 0.0
    adjustment: float = 0.0

    def __repr__(self) -> str:
        return "<Candidate #%d %s score=%.2f, %d fields explained>" % (self.id, self.decision, self.score,
                                                                       len(self.explanation))

    def explain(self) -> str:
        return "\n".join("%-12s %-24s %-24s %-10s %+.2f" % (e.field, e.value_a, e.value_b, e.level, e.weight)
                         for e in self.explanation)


class Matches(List[Candidate]):
    """The candidates of :meth:`Db.match`, best first (a list), with the
    library's JSON in ``json``."""
    json: str = "[]"

    def to_dict(self) -> List[Dict[str, Any]]:
        data: List[Dict[str, Any]] = json.loads(self.json)
        return data

    def __repr__(self) -> str:
        shown = ", ".join("#%d %s %.1f" % (c.id, c.decision, c.score) for c in self[:5])
        more = ", ..." if len(self) > 5 else ""
        return "<Matches %d candidates%s%s%s>" % (len(self), ": " if self else "", shown, more)


@dataclass
class Pair:
    id_a: int
    id_b: int
    score: float
    decision: Union[Decision, int]


@dataclass
class Dedupe:
    """Pairs judged MERGE or REVIEW, and clusters (transitive closure of the
    MERGE pairs) keyed by their stable cluster id."""
    pairs: List[Pair]
    clusters: Dict[int, List[int]]
    #: households: the closure of the MERGE and HOUSEHOLD pairs ("one
    #: catalogue per household"), keyed by their smallest id
    households: Dict[int, List[int]] = field(default_factory=dict)

    def cluster_of(self, id: int) -> int:
        for cid, members in self.clusters.items():
            if id in members:
                return cid
        return 0

    def __repr__(self) -> str:
        merge = sum(1 for p in self.pairs if p.decision == Decision.MERGE)
        return "<Dedupe %d pairs (%d merge, %d review), %d clusters of %d customers>" % (
            len(self.pairs), merge, len(self.pairs) - merge, len(self.clusters),
            sum(len(m) for m in self.clusters.values()))


def _take_pairs(p: Optional[int]) -> Dedupe:
    """A patron_pairs as a Dedupe; the pairs are freed."""
    L = lib()
    try:
        pairs = []
        for i in range(L.patron_pairs_count(p)):
            a, b, s, d = c_int64(), c_int64(), c_double(), c_int()
            L.patron_pairs_get(p, byref(a), byref(b), byref(s), byref(d), i)
            pairs.append(Pair(a.value, b.value, s.value, _decision(d.value)))
        clusters: Dict[int, List[int]] = {}
        households: Dict[int, List[int]] = {}
        for id in sorted({x for pr in pairs for x in (pr.id_a, pr.id_b)}):
            cid = int(L.patron_pairs_cluster(p, id))
            if cid:
                clusters.setdefault(cid, []).append(id)
            hid = int(L.patron_pairs_household(p, id))
            if hid:
                households.setdefault(hid, []).append(id)
        return Dedupe(pairs, clusters, households)
    finally:
        L.patron_pairs_free(p)


# ---- batches: customers deduplicated without a store (patron/batch.h) ------------

#: A row for :meth:`Batch.add_rows`: customer field names to values, in the
#: order they are set, and "address" (a dict of address fields: a row has at
#: most one address), "tags" (a list), "properties" (a dict) and
#: "birth_date_as_given" (a birth date that is no real date, e.g. "1902-78-03").
Row = Mapping[str, Any]


@dataclass
class RowResult:
    """What a batch made of one row (:meth:`Batch.add_rows`,
    :meth:`Batch.check_row`)."""
    #: "ok" or the status of the refusal ("invalid", "exists", "state", "nomem")
    status: str
    #: the patron_status: 0, or negative as the exceptions' ``code``
    code: int
    #: added: its id in the pairs (1, 2, ...); else 0
    id: int
    #: added: its customer number, given or made; else None
    number: Optional[str]
    #: refused: why, in the words of the setter or create that refused it; else ""
    error: str = ""
    #: refused for one value: the row's key it came from ("email",
    #: "address.street", "tags", "properties.<key>", "birth_date_as_given");
    #: None when refused for the row as a whole (or not refused)
    field: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.code == 0

    def __bool__(self) -> bool:
        return self.ok

    def raise_for_status(self) -> None:
        """Raise the exception a refused row stands for (nothing when ok)."""
        if self.code != 0:
            from .errors import error_for
            raise error_for(self.code, self.error, function="patron_batch_add_rows")


def _row_values(row: Row) -> Tuple[List[Tuple[int, Optional[bytes], Optional[bytes]]], List[str]]:
    """A row as (field, key, value) in order, and the row key of each value.
    An unknown name or a wrong shape raises InvalidValue (nothing is added)."""
    from .customer import _address_field
    if not isinstance(row, Mapping):
        raise InvalidValue("a batch row is a mapping of field names to values, not %s" % type(row).__name__,
                           code=_ffi.E_INVALID)
    vals: List[Tuple[int, Optional[bytes], Optional[bytes]]] = []
    names: List[str] = []
    for name, value in row.items():
        if name in ("address", "addresses"):
            addrs = [value] if name == "address" else list(value)
            if len(addrs) > 1:
                raise InvalidValue("a batch row has at most one address, not %d" % len(addrs),
                                   code=_ffi.E_INVALID)
            for a in addrs:
                if not isinstance(a, Mapping):
                    raise InvalidValue("a batch row's address is a mapping of address fields",
                                       code=_ffi.E_INVALID)
                for an, av in a.items():
                    vals.append((_ffi.BATCH_ADDRESS + _address_field(an), None, enc(to_text(av))))
                    names.append("address.%s" % an)
        elif name == "tags":
            if isinstance(value, (str, bytes)):
                raise InvalidValue("a batch row's tags are a list of strings", code=_ffi.E_INVALID)
            for t in value:
                vals.append((_ffi.BATCH_TAG, None, enc(to_text(t))))
                names.append("tags")
        elif name == "properties":
            if not isinstance(value, Mapping):
                raise InvalidValue("a batch row's properties are a mapping", code=_ffi.E_INVALID)
            for k, v in value.items():
                vals.append((_ffi.BATCH_PROPERTY, enc(str(k)), enc(to_text(v))))
                names.append("properties.%s" % k)
        elif name == "birth_date_as_given":
            vals.append((_ffi.BATCH_BIRTH_AS_GIVEN, None, enc(to_text(value))))
            names.append(name)
        else:
            vals.append((field_id(name), None, enc(to_text(value))))
            names.append(str(name))
    return vals, names


class _Rows:
    """Rows laid out for the library.  Every bytes object a patron_batch_value
    points at is held in ``keep`` as long as this object lives: the library
    borrows the values only for the call."""

    def __init__(self, rows: Sequence[Row]) -> None:
        self.names: List[List[str]] = []
        self.keep: List[Any] = []
        self.rows = (_ffi.patron_batch_row * len(rows))()
        for i, row in enumerate(rows):
            vals, names = _row_values(row)
            arr = (_ffi.patron_batch_value * len(vals))()
            for j, (f, k, v) in enumerate(vals):
                self.keep.append(k)
                self.keep.append(v)
                arr[j].field = f
                arr[j].key = k
                arr[j].value = v
                arr[j].len = len(v) if v is not None else 0
            self.keep.append(arr)
            r = self.rows[i]
            r.version = _ffi.BATCH_ROW_VERSION
            r.values = arr if vals else None
            r.n_values = len(vals)
            self.names.append(names)

    def result(self, i: int) -> RowResult:
        r = self.rows[i]
        code = int(r.status)
        name = lib().patron_status_name(code)
        field_name_ = None
        if code != 0 and 0 < r.refused <= len(self.names[i]):
            field_name_ = self.names[i][r.refused - 1]
        return RowResult(status=dec(name) or str(code), code=code, id=int(r.id),
                         number=dec(r.number) or None, error=dec(r.errmsg) or "", field=field_name_)


class Batch(_Handle):
    """Customers deduplicated without storing them (patron/batch.h): each
    added customer is checked as :meth:`Db.create` would check it on an
    empty store with the configuration of the Db it was made from, gets the
    id and number create would give it there, and :meth:`run` finds the
    pairs :meth:`Db.dedupe` would find.  Make it with :meth:`Db.batch`;
    ``with db.batch() as b:`` frees it.  One thread at a time."""

    _free_name = "patron_batch_free"

    def __init__(self, db: "Db") -> None:
        out = c_void_p()
        lib().patron_batch_new(byref(out), db._p)
        super().__init__(out.value)

    def __len__(self) -> int:
        """The number of customers added."""
        return int(lib().patron_batch_count(self._p))

    @property
    def last_error(self) -> str:
        return dec(lib().patron_batch_errmsg(self._p)) or ""

    def add(self, customer: Optional[Customer] = None, **fields: Any) -> Customer:
        """Add one customer; it gets its id (and number, when it had none).
        A refusal raises (InvalidValue, AlreadyExists, StateError) and adds
        nothing.  With keyword fields instead, a new Customer is made."""
        if customer is None:
            customer = Customer(**fields)
        elif fields:
            customer.update_from(fields)
        lib().patron_batch_add(self._p, customer._writable())
        return customer

    def add_rows(self, rows: Sequence[Row]) -> List[RowResult]:
        """Add rows given as values (see :data:`Row`), checked and normalised
        on all cores, as :meth:`add` one by one would add them: the same ids,
        numbers, refusals and messages.  One :class:`RowResult` per row, in
        order; a refused row is not added and does not raise.  Raises for the
        call as a whole (nothing added): InvalidValue for a row that is no
        mapping or names an unknown field, StateError after :meth:`run`,
        RangeError for too many customers, OutOfMemory."""
        rows = list(rows)
        laid = _Rows(rows)
        lib().patron_batch_add_rows(self._p, laid.rows, len(rows))
        return [laid.result(i) for i in range(len(rows))]

    def check_row(self, row: Row) -> RowResult:
        """Check one row as :meth:`add_rows` would (its values, then the row
        as a whole; not whether its number, external reference or login is
        taken) without adding it: ``id`` is 0 and ``number`` None."""
        laid = _Rows([row])
        st = lib().patron_batch_check_row(self._p, laid.rows)
        if st == _ffi.E_ABI:
            from .errors import AbiError
            raise AbiError("the library does not know batch rows of version %d" % _ffi.BATCH_ROW_VERSION,
                           code=st, function="patron_batch_check_row")
        return laid.result(0)

    def run(self, mode: Union[str, int] = MatchMode.FIELDS) -> Dedupe:
        """The pairs and clusters of the customers added (once per batch;
        StateError on a second call)."""
        out = c_void_p()
        lib().patron_batch_run(self._p, byref(out), _enum(MatchMode, mode))
        return _take_pairs(out.value)

    def __repr__(self) -> str:
        return "<Batch closed>" if self.closed else "<Batch %d customers>" % len(self)


@dataclass
class EstimateReport:
    """What :meth:`Db.estimate` did (``patron_estimate_report``)."""
    #: the estimated model is stored in the store and in force
    stored: bool
    #: every EM pass that had pairs converged to a usable estimate
    converged: bool
    #: why the model was kept: a set of "not_converged", "too_few", "degenerate"
    flags: List[str]
    customers: int
    candidate_pairs: int
    random_pairs: int
    iterations: int
    #: expected number of duplicate pairs in the store
    matches: float
    #: P(two random customers are one person)
    prior: float
    seconds: float
    #: one line for people: what was done, or why the defaults were kept
    message: str

    def __repr__(self) -> str:
        return "<EstimateReport %s: %s>" % ("stored" if self.stored else "not stored", self.message)


_ESTIMATE_FLAGS = ((1, "not_converged"), (2, "too_few"), (4, "degenerate"))


@dataclass
class Gate:
    """The login/order gate's answer."""
    verdict: GateVerdict
    customer_id: int
    text: str

    @property
    def allowed(self) -> bool:
        return self.verdict == GateVerdict.ALLOWED

    def __bool__(self) -> bool:
        return self.allowed


@dataclass
class FieldPlan:
    """One scalar field in a merge plan."""
    name: str
    choice: Optional[int]  # record position, CUSTOM (-1), or None: not merged
    value: Optional[str]
    conflict: bool
    values: List[Optional[str]]  # the value of each record (0 = survivor)


class MergePlan(_Handle):
    """A merge plan (patron_merge_plan): inspect it, edit it, apply it with
    :meth:`Db.merge`.  Records are numbered 0 (survivor), 1.. (duplicates)."""

    _free_name = "patron_merge_plan_free"

    def __init__(self, ptr: int, owner: Any = None) -> None:
        super().__init__(ptr)
        self._owner = owner  # a plan owned by an Activation is freed with it
        self._lock: Optional[bool] = None
        self._activate = False

    @property
    def _p(self) -> int:
        if self._owner is not None and self._owner.closed:
            raise StateError("the Activation this plan belongs to was closed", code=_ffi.E_STATE)
        return super()._p

    def close(self) -> None:
        if self._owner is not None:  # owned by the activation: nothing to free
            self._ptr = None
            return
        super().close()

    def __len__(self) -> int:
        return int(lib().patron_merge_plan_count(self._p))

    @property
    def records(self) -> List[Customer]:
        """Copies of the records as loaded when the plan was built."""
        out = []
        for k in range(len(self)):
            ptr = lib().patron_merge_plan_record(self._p, k)
            out.append(Customer._view(ptr, self).clone())
        return out

    @property
    def survivor_id(self) -> int:
        return int(lib().patron_customer_id(lib().patron_merge_plan_record(self._p, 0)))

    @property
    def duplicate_ids(self) -> List[int]:
        return [int(lib().patron_customer_id(lib().patron_merge_plan_record(self._p, k)))
                for k in range(1, len(self))]

    def choice(self, name: Union[str, int]) -> Optional[int]:
        """The record position the field's value comes from, CUSTOM (-1) for
        a value of the caller's, None for a field that is not merged."""
        c = c_int()
        lib().patron_merge_plan_choice(self._p, byref(c), field_id(name))
        return None if c.value == NOT_MERGED else c.value

    def value(self, name: Union[str, int]) -> Optional[str]:
        return dec(lib().patron_merge_plan_value(self._p, field_id(name)))

    def conflict(self, name: Union[str, int]) -> bool:
        return bool(lib().patron_merge_plan_conflict(self._p, field_id(name)))

    def field(self, name: Union[str, int]) -> FieldPlan:
        fid = field_id(name)
        p = self._p
        values = [dec(lib().patron_customer_get(lib().patron_merge_plan_record(p, k), fid))
                  for k in range(len(self))]
        return FieldPlan(field_name(fid), self.choice(fid), self.value(fid), self.conflict(fid), values)

    @property
    def fields(self) -> Dict[str, FieldPlan]:
        """Every merged field (system fields and the password hash left out)."""
        out = {}
        for name, fid in field_ids().items():
            if self.choice(fid) is not None:
                out[name] = self.field(fid)
        return out

    @property
    def conflicts(self) -> List[str]:
        return [name for name, fid in field_ids().items() if self.conflict(fid)]

    def take(self, name: Union[str, int], k: int) -> None:
        """Take field ``name`` from record ``k`` (for login_user: the whole login)."""
        lib().patron_merge_plan_take(self._p, field_id(name), int(k))

    def set(self, name: Union[str, int], value: Any) -> None:
        """Give a field a value of the caller's own (None or "" empties it)."""
        lib().patron_merge_plan_set(self._p, field_id(name), enc(to_text(value)))

    @property
    def lock(self) -> Optional[bool]:
        """Whether the survivor ends up locked: None (the default) locked if
        any record is; True / False decide.  Assign to change it."""
        return self._lock

    @lock.setter
    def lock(self, lock: Optional[bool]) -> None:
        lib().patron_merge_plan_set_lock(self._p, LOCK_ANY if lock is None else
                                         LOCK_LOCKED if lock else LOCK_UNLOCKED)
        self._lock = None if lock is None else bool(lock)

    @property
    def activate(self) -> bool:
        """True: a pending survivor is allowed (the merge activates it).
        False by default; assign to change it."""
        return self._activate

    @activate.setter
    def activate(self, activate: bool) -> None:
        lib().patron_merge_plan_set_activate(self._p, int(bool(activate)))
        self._activate = bool(activate)

    @property
    def problems(self) -> List[str]:
        """Reasons that refuse the merge, and notes ("note: ...") that do
        not (the matcher calls two of the records distinct)."""
        text = dec(lib().patron_merge_plan_problems(self._p)) or ""
        return [line for line in text.split("\n") if line]

    @property
    def blocked(self) -> bool:
        """True when Db.merge() would refuse the plan as it stands."""
        return bool(lib().patron_merge_plan_blocked(self._p))

    @property
    def address_count(self) -> int:
        """The number of united addresses (equal ones after normalisation are one)."""
        return int(lib().patron_merge_plan_address_count(self._p))

    def keep_address(self, i: int, keep: bool = True) -> None:
        """Keep or drop united address ``i`` (0-based)."""
        lib().patron_merge_plan_address_keep(self._p, i, 1 if keep else 0)

    def default_address(self, i: int) -> None:
        """Make united address ``i`` the survivor's default."""
        lib().patron_merge_plan_address_set_default(self._p, i)

    def take_property(self, key: str, k: int) -> None:
        """Take custom property ``key`` from record ``k``."""
        lib().patron_merge_plan_prop_take(self._p, enc(key), k)

    def to_json(self, pretty: bool = False) -> str:
        out = c_void_p()
        lib().patron_merge_plan_to_json(self._p, byref(out), 1 if pretty else 0)
        return take_string(out) or ""

    def to_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = json.loads(self.to_json())
        return data

    def __repr__(self) -> str:
        if self.closed:
            return "<MergePlan (closed)>"
        return "<MergePlan survivor=%d duplicates=%r conflicts=%r>" % (self.survivor_id, self.duplicate_ids,
                                                                       self.conflicts)


@dataclass
class ActivationCandidate:
    id: int
    score: float
    decision: Union[Decision, int]
    plan: Optional[MergePlan]


class Activation(_Handle):
    """What activation did with one pending customer (patron_activation).
    Its candidates' plans belong to it: use them before closing it."""

    _free_name = "patron_activation_free"

    def __init__(self, ptr: int) -> None:
        super().__init__(ptr)
        L, p = lib(), ptr
        self.outcome = Outcome(L.patron_activation_outcome(p))
        self.customer_id = int(L.patron_activation_customer(p))
        self.number = dec(L.patron_activation_number(p))
        self.merged_into = int(L.patron_activation_merged_into(p))
        self.journal_id = int(L.patron_activation_journal(p))
        self.message = dec(L.patron_activation_message(p)) or ""
        self.candidates: List[ActivationCandidate] = []
        for i in range(L.patron_activation_candidate_count(p)):
            cid_, score, dec_ = c_int64(), c_double(), c_int()
            L.patron_activation_candidate(p, byref(cid_), byref(score), byref(dec_), i)
            cid = cid_.value
            plan_ptr = L.patron_activation_plan(p, i)
            self.candidates.append(ActivationCandidate(cid, score.value, _decision(dec_.value),
                                                       MergePlan(plan_ptr, self) if plan_ptr else None))

    def __repr__(self) -> str:
        return "<Activation %s customer=%d number=%r candidates=%d: %s>" % (
            self.outcome, self.customer_id, self.number, len(self.candidates), self.message)


@dataclass
class ActivationResult:
    """One customer of :meth:`Db.activate_pending` (a copy, without plans)."""
    outcome: Outcome
    customer_id: int
    number: Optional[str]
    merged_into: int
    journal_id: int
    message: str
    candidates: List[Tuple[int, float, Union[Decision, int]]]
    error: Optional[BaseException] = None  # the Python store's exception, if one failed it


@dataclass
class ActivationSummary:
    activated: int
    merged: int
    review: int
    failed: int
    results: List[ActivationResult]

    def __repr__(self) -> str:
        return "<ActivationSummary activated=%d merged=%d review=%d failed=%d>" % (
            self.activated, self.merged, self.review, self.failed)


# ---- groups -----------------------------------------------------------------------

class Groups:
    """Customer groups of a Db (``db.groups``)."""

    def __init__(self, db: "Db") -> None:
        self._db = db

    def add(self, name: str) -> None:
        self._db._call("patron_db_group_add", enc(name))

    def rename(self, old: str, new: str) -> None:
        self._db._call("patron_db_group_rename", enc(old), enc(new))

    def set(self, name: str, attr: str, value: Any) -> None:
        """attr: "discount_percent", "price_category" or "default"."""
        self._db._call("patron_db_group_set", enc(name), enc(attr), enc(to_text(value) or ""))

    def assign(self, name: str, customer: Union[int, Customer]) -> None:
        self._db._call("patron_db_group_assign", enc(name), _id(customer))

    def delete(self, name: str) -> None:
        self._db._call("patron_db_group_delete", enc(name))

    def list(self) -> List[Dict[str, Any]]:
        """The groups in name order, each a dict with the keys of the JSON
        form: name, discount_percent, price_category, default, customers."""
        out = c_void_p()
        self._db._call("patron_db_group_list", byref(out))
        L, l = lib(), out.value
        try:
            res = []
            for i in range(L.patron_groups_count(l)):
                g = L.patron_groups_at(l, i)
                disc = dec(L.patron_group_discount_percent(g)) or "0"
                res.append({
                    "name": dec(L.patron_group_name(g)) or "",
                    "discount_percent": float(disc) if "." in disc else int(disc),
                    "price_category": dec(L.patron_group_price_category(g)) or "",
                    "default": bool(L.patron_group_is_default(g)),
                    "customers": int(L.patron_group_customers(g)),
                })
            return res
        finally:
            L.patron_groups_free(l)

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        return iter(self.list())

    def __getitem__(self, name: str) -> Dict[str, Any]:
        for g in self.list():
            if g["name"] == name:
                return g
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(g["name"] == name for g in self.list())

    @property
    def default(self) -> Optional[str]:
        for g in self.list():
            if g.get("default"):
                return str(g["name"])
        return None


# ---- the handle ------------------------------------------------------------------


def _take_open_message(L: Any, msg: c_void_p) -> Optional[str]:
    """The message a store's open left in ``msg`` (freed here), or None."""
    if not msg.value:
        return None
    from ctypes import string_at
    text = string_at(msg.value).decode("utf-8", "replace")
    L.patron_free(msg.value)
    return text or None


class Db(_Handle):
    """A handle on a store (patron_db).  Open it with :meth:`open` (or
    :meth:`memory`, :meth:`sqlite`, :meth:`postgres`, :meth:`from_store`); close it with
    :meth:`close` or a ``with`` block (``with Db.open(...) as db:`` closes,
    it does not commit: for several calls in one transaction use
    ``with db.transaction():``).  One handle must not be used by two threads
    at once."""

    _free_name = "patron_db_close"

    def __init__(self, ptr: int, *, memstore: Optional[MemStore] = None, adapter: Optional[StoreAdapter] = None,
                 sqlite_store: Optional[int] = None, pg_store: Optional[int] = None) -> None:
        super().__init__(ptr)
        self._memstore = memstore
        self._adapter = adapter  # keeps the CFUNCTYPE callbacks alive as long as the handle
        self._sqlite_store = sqlite_store
        self._pg_store = pg_store
        self.groups = Groups(self)
        if memstore is not None:
            memstore._dbs.add(self)

    # -- opening and closing --

    @classmethod
    def memory(cls, store: Optional[MemStore] = None) -> "Db":
        """A handle on a memory store: a private one, or ``store`` shared."""
        out = c_void_p()
        lib().patron_db_open_memory(byref(out), store._p if store is not None else None)
        return cls(out.value, memstore=store)  # type: ignore[arg-type]

    @classmethod
    def sqlite(cls, path: str, *, readonly: bool = False, create: bool = True, sync_normal: bool = False,
               table_prefix: Optional[str] = None, ref_tables: Sequence["SqliteRefTable"] = ()) -> "Db":
        """A handle on a SQLite file through libpatron-sqlite (the C store).

        ``table_prefix``: the prefix of the store's tables (None: ``"patron_"``;
        letters, digits and ``_``, at most 32 bytes).  ``ref_tables``: the
        host's tables whose rows a merge moves to the survivor (and undo moves
        back), as :class:`SqliteRefTable` entries (or 4- or 5-tuples in the
        same order).  Raises Unsupported if libpatron-sqlite.so.1 cannot be
        loaded, InvalidValue for a bad prefix or table entry."""
        L = lib()
        L.load_sqlite()
        flags = (1 if readonly else 0) | (0 if create else 2) | (4 if sync_normal else 0)
        entries = [e if isinstance(e, SqliteRefTable) else SqliteRefTable(*e) for e in ref_tables]
        arr = (_ffi.patron_sqlite_ref_table * max(1, len(entries)))()
        for i, e in enumerate(entries):
            arr[i] = _ffi.patron_sqlite_ref_table(enc(e.kind), enc(e.table), enc(e.customer_column),
                                                  enc(e.id_column), _ffi.PATRON_SQLITE_REF_PINNED if e.pinned else 0)
        opts = _ffi.patron_sqlite_options()
        L.patron_sqlite_options_init(byref(opts))
        opts.flags = flags
        opts.table_prefix = enc(table_prefix) if table_prefix is not None else None
        opts.ref_tables = arr if entries else None
        opts.n_ref_tables = len(entries)
        out, store, msg = c_void_p(), c_void_p(), c_void_p()
        try:
            L.patron_db_open_sqlite(byref(out), byref(store), byref(msg), enc(path), byref(opts))
        except PatronError as e:
            text = _take_open_message(L, msg)
            if text:
                e.message = "%s: %s" % (path, text)
                e.args = (e.message,)
            raise
        return cls(out.value, sqlite_store=store.value)  # type: ignore[arg-type]

    @classmethod
    def postgres(cls, conninfo: str, *, schema: Optional[str] = None, table_prefix: Optional[str] = None,
                 readonly: bool = False, create: bool = True, ref_tables: Sequence["SqliteRefTable"] = (),
                 retry_budget: int = 0) -> "Db":
        """A handle on a PostgreSQL database through libpatron-pg (the C store),
        which several processes and servers may share (see <patron/postgres.h>).

        ``conninfo``: libpq's ``"host=db1 dbname=shop user=app"`` or a
        ``postgresql://`` URI.  ``schema`` (None: ``"public"``, created when
        missing) and ``table_prefix`` (None: ``"patron_"``) place the tables;
        ``ref_tables`` as for :meth:`sqlite` (``table`` may be
        ``"schema.table"``); ``retry_budget``: how often the start of a call
        is retried after a serialisation failure or deadlock (0: the
        library's default).  ``create=False`` raises NotFound when the tables
        are not there.  Raises Unsupported if libpatron-pg.so.1 cannot be
        loaded, StoreError when the server cannot be reached (the message
        never holds the password)."""
        L = lib()
        L.load_pg()
        flags = (_ffi.PATRON_PG_READONLY if readonly else 0) | (0 if create else _ffi.PATRON_PG_NOCREATE)
        entries = [e if isinstance(e, SqliteRefTable) else SqliteRefTable(*e) for e in ref_tables]
        arr = (_ffi.patron_pg_ref_table * max(1, len(entries)))()
        for i, e in enumerate(entries):
            arr[i] = _ffi.patron_pg_ref_table(enc(e.kind), enc(e.table), enc(e.customer_column),
                                              enc(e.id_column), _ffi.PATRON_PG_REF_PINNED if e.pinned else 0)
        opts = _ffi.patron_pg_options()
        L.patron_pg_options_init(byref(opts))
        opts.flags = flags
        opts.schema = enc(schema) if schema is not None else None
        opts.table_prefix = enc(table_prefix) if table_prefix is not None else None
        opts.ref_tables = arr if entries else None
        opts.n_ref_tables = len(entries)
        opts.retry_budget = retry_budget
        out, store, msg = c_void_p(), c_void_p(), c_void_p()
        try:
            L.patron_db_open_postgres(byref(out), byref(store), byref(msg), enc(conninfo), byref(opts))
        except PatronError as e:
            text = _take_open_message(L, msg)
            if text:
                # the conninfo is not repeated: it may hold a password
                e.message = "PostgreSQL store: %s" % text
                e.args = (e.message,)
            raise
        return cls(out.value, pg_store=store.value)  # type: ignore[arg-type]

    @classmethod
    def from_store(cls, store: Store) -> "Db":
        """A handle on a store written in Python (a :class:`patron.Store`)."""
        if not isinstance(store, Store):
            raise TypeError("Db.from_store needs a patron.Store, not %s" % type(store).__name__)
        adapter = StoreAdapter(store)
        out = c_void_p()
        lib().patron_db_open(byref(out), byref(adapter.ops), None)
        return cls(out.value, adapter=adapter)  # type: ignore[arg-type]

    @classmethod
    def open(cls, target: Union[str, "os.PathLike[str]", Store, MemStore, None] = None, **options: Any) -> "Db":
        """Open a handle; close it with :meth:`close` or a ``with`` block::

            with patron.Db.open("shop.db") as db:   # closed at the end of the block
                ...

        ``target``: None for a private memory store, a :class:`MemStore` to
        share one, a path for the SQLite store (:meth:`sqlite`; ``options``
        are its keyword arguments), a ``postgresql://`` or ``postgres://``
        URI for the PostgreSQL store (:meth:`postgres`, likewise), a
        :class:`Store` for a store written in Python (:meth:`from_store`)."""
        if target is None or isinstance(target, MemStore):
            if options:
                raise TypeError("Db.open() of a memory store takes no options (got %s)" % ", ".join(options))
            return cls.memory(target)
        if isinstance(target, Store):
            if options:
                raise TypeError("Db.open() of a Python store takes no options (got %s)" % ", ".join(options))
            return cls.from_store(target)
        if isinstance(target, str) and target.startswith(("postgresql://", "postgres://")):
            return cls.postgres(target, **options)
        if isinstance(target, (str, os.PathLike)):
            return cls.sqlite(os.fspath(target), **options)
        raise TypeError("Db.open() takes a path, a patron.Store, a patron.MemStore or nothing, not %s"
                        % type(target).__name__)

    @property
    def store(self) -> Optional[Union[Store, MemStore]]:
        """The Python store or shared MemStore this handle was opened on."""
        if self._adapter is not None:
            return self._adapter.store
        return self._memstore

    def close(self) -> None:
        super().close()
        # the callbacks may be dropped only now: the library calls no more

    @property
    def last_error(self) -> str:
        """The message of the last failed call on this handle ("" if none);
        the exceptions carry it already."""
        return dec(lib().patron_db_errmsg(self._p)) or ""

    # -- calling --

    def _call(self, name: str, *args: Any) -> Any:
        """Call a patron_db_* function; a store callback's exception is
        chained to the StoreError it caused."""
        ad = self._adapter
        if ad is not None:
            if ad.depth:
                raise StateError("a store callback must not call back into the same Db (%s)" % name,
                                 code=_ffi.E_STATE)
            ad.pending = None
        try:
            return getattr(lib(), name)(self._p, *args)
        except PatronError as e:
            exc = ad.take_pending() if ad is not None else None
            if exc is not None:
                if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit
                    raise exc from e
                if not isinstance(e, StoreError):
                    e = StoreError("%s (a store callback raised %s: %s)" % (e.message, type(exc).__name__, exc),
                                   code=e.code, function=e.function)
                raise e from exc
            raise
        finally:
            if ad is not None:
                ad.pending = None

    # -- customers --

    def set_number_format(self, prefix: str = "K", width: int = 6) -> None:
        self._call("patron_db_set_number_format", enc(prefix), int(width))

    def create(self, customer: Optional[Customer] = None, **fields: Any) -> Customer:
        """Save a new customer as active (a number is drawn unless it has
        one).  ``customer`` is updated in place and returned; with keyword
        fields instead, a new Customer is made."""
        if customer is None:
            customer = Customer(**fields)
        elif fields:
            customer.update_from(fields)
        self._call("patron_db_create", customer._writable())
        return customer

    def load(self, id: Union[int, Customer]) -> Customer:
        out = c_void_p()
        self._call("patron_db_load", byref(out), _id(id))
        return Customer._adopt(out.value)  # type: ignore[arg-type]

    def find(self, *, number: Optional[str] = None, external: Union[str, Tuple[str, str], None] = None,
             email: Optional[str] = None, login: Optional[str] = None) -> Customer:
        """The one customer with this key (a merged number gives the survivor).
        ``external`` is (source, id) or the id alone.  NotFound, Ambiguous."""
        kind, value = _key(number, external, email, login)
        out = c_void_p()
        self._call("patron_db_find", byref(out), kind, enc(value))
        return Customer._adopt(out.value)  # type: ignore[arg-type]

    def get(self, **key: Any) -> Optional[Customer]:
        """Like find(), but None when there is none."""
        from .errors import NotFound
        try:
            return self.find(**key)
        except NotFound:
            return None

    def lookup(self, *, number: Optional[str] = None, external: Union[str, Tuple[str, str], None] = None,
               email: Optional[str] = None, login: Optional[str] = None) -> List[int]:
        """Every id with this key (merged records not followed)."""
        kind, value = _key(number, external, email, login)
        cap = 16
        while True:
            ids = (c_int64 * cap)()
            n = c_size_t()
            self._call("patron_db_lookup", ids, byref(n), cap, kind, enc(value))
            if n.value <= cap:
                return list(ids[: n.value])
            cap = n.value

    def update(self, customer: Customer) -> Customer:
        """Save changes (Conflict if someone saved in between)."""
        self._call("patron_db_update", customer._writable())
        return customer

    def delete(self, customer: Union[int, Customer], revision: Optional[int] = None) -> None:
        """Delete a customer.  Given a Customer, its revision must still be
        the stored one (Conflict otherwise); given an id, whatever is stored."""
        if revision is None:
            revision = customer.revision if isinstance(customer, Customer) else 0
        self._call("patron_db_delete", _id(customer), int(revision))

    def list(self, *, state: Union[str, int, None] = None, locked: Optional[bool] = None,
             group: Optional[str] = None, after_id: int = 0, page_size: int = 256,
             limit: Optional[int] = None) -> Iterator[int]:
        """Ids of matching customers, ascending, fetched page by page."""
        flt = _ffi.patron_filter(_enum(State, state) if state is not None else 0,
                                 _ffi.FILTER_ANY if locked is None else int(bool(locked)), enc(group))
        page_size = max(1, int(page_size))
        got = 0
        after = int(after_id)
        while True:
            ids = (c_int64 * page_size)()
            n = c_size_t()
            self._call("patron_db_list", ids, byref(n), page_size, byref(flt), after)
            for i in range(n.value):
                if limit is not None and got >= limit:
                    return
                got += 1
                yield int(ids[i])
            if n.value < page_size:
                return
            after = int(ids[n.value - 1])

    def customers(self, **filters: Any) -> Iterator[Customer]:
        """Like list(), loading each customer (close them, or let them go)."""
        for id in self.list(**filters):
            yield self.load(id)

    def __iter__(self) -> Iterator[Customer]:
        return self.customers()

    # -- lifecycle --

    @overload
    def register(self, customer: Optional[Customer] = None, *, return_existing: Literal[False] = False,
                 **fields: Any) -> Customer: ...

    @overload
    def register(self, customer: Optional[Customer] = None, *, return_existing: Literal[True],
                 **fields: Any) -> Tuple[Customer, Optional[int]]: ...

    def register(self, customer: Optional[Customer] = None, *, return_existing: bool = False,
                 **fields: Any) -> Union[Customer, Tuple[Customer, Optional[int]]]:
        """Save a shop registration as pending (no number yet).  Locked if the
        email is a locked customer's; AlreadyExists if a pending customer
        registered it already.  The email of an active customer is fine
        (activation offers the merge): with ``return_existing=True`` the
        result is ``(customer, id)``, the id of the active customer with the
        same (normalised) email, or None."""
        if customer is None:
            customer = Customer(**fields)
        elif fields:
            customer.update_from(fields)
        existing = c_int64(0)
        self._call("patron_db_register", byref(existing), customer._writable())
        if return_existing:
            return customer, (existing.value or None)
        return customer

    def activate(self, customer: Union[int, Customer], mode: Union[str, int] = ActivateMode.INTERACTIVE, *,
                 locked_survivors: bool = False) -> Activation:
        """Activate a pending customer: mode "interactive" (candidates with
        plans, nothing changed), "auto" (merge into a MERGE-level match) or
        "email" (merge into the customer with the same email)."""
        out = c_void_p()
        self._call("patron_db_activate", byref(out), _id(customer), _enum(ActivateMode, mode),
                   1 if locked_survivors else 0)
        return Activation(out.value)  # type: ignore[arg-type]

    def activate_pending(self, mode: Union[str, int] = ActivateMode.AUTO, *, locked_survivors: bool = False,
                         on_result: Optional[Callable[[ActivationResult], Optional[bool]]] = None
                         ) -> ActivationSummary:
        """Activate every pending customer, each in its own transaction.
        ``on_result`` hears about each one; return True from it to stop."""
        results: List[ActivationResult] = []
        ad = self._adapter
        raised: List[BaseException] = []

        def each(payload: Any, a: int) -> int:
            try:
                L = lib()
                cands = []
                for i in range(L.patron_activation_candidate_count(a)):
                    cid_, score, d = c_int64(), c_double(), c_int()
                    L.patron_activation_candidate(a, byref(cid_), byref(score), byref(d), i)
                    cid = cid_.value
                    cands.append((cid, score.value, _decision(d.value)))
                r = ActivationResult(Outcome(L.patron_activation_outcome(a)), int(L.patron_activation_customer(a)),
                                     dec(L.patron_activation_number(a)), int(L.patron_activation_merged_into(a)),
                                     int(L.patron_activation_journal(a)), dec(L.patron_activation_message(a)) or "",
                                     cands)
                if r.outcome == Outcome.FAILED and ad is not None:
                    r.error = ad.take_pending()
                results.append(r)
                if on_result is not None and on_result(r):
                    return 1
                return 0
            except BaseException as e:  # never let an exception cross into C: stop, re-raise after
                raised.append(e)
                return 1

        cb = _ffi.activation_fn(each)
        summary = _ffi.patron_activation_summary(version=_ffi.ACTIVATION_SUMMARY_VERSION)
        opts = _ffi.patron_activate_options(version=_ffi.ACTIVATE_OPTIONS_VERSION, mode=_enum(ActivateMode, mode),
                                            flags=1 if locked_survivors else 0, fn=cb, payload=None)
        self._call("patron_db_activate_pending", byref(summary), byref(opts))
        if raised:
            raise raised[0]
        return ActivationSummary(summary.activated, summary.merged, summary.review, summary.failed, results)

    def release(self, customer: Union[int, Customer]) -> str:
        """Activate a pending customer regardless of the matcher; its new number."""
        out = c_void_p()
        self._call("patron_db_release", byref(out), _id(customer))
        return take_string(out) or ""

    def lock(self, customer: Union[int, Customer], reason: str) -> None:
        self._call("patron_db_lock", _id(customer), enc(reason))

    def unlock(self, customer: Union[int, Customer]) -> None:
        self._call("patron_db_unlock", _id(customer))

    def can_login(self, login: str) -> Gate:
        v, cid = c_int(), c_int64()
        self._call("patron_db_can_login", byref(v), byref(cid), enc(login))
        return Gate(GateVerdict(v.value), cid.value, dec(lib().patron_gate_name(v.value)) or "")

    def can_order(self, customer: Union[int, Customer]) -> Gate:
        v, cid = c_int(), c_int64()
        self._call("patron_db_can_order", byref(v), byref(cid), _id(customer))
        return Gate(GateVerdict(v.value), cid.value, dec(lib().patron_gate_name(v.value)) or "")

    # -- matching --

    def match(self, customer: Union[int, Customer], mode: Union[str, int] = MatchMode.FIELDS) -> Matches:
        """Candidates for a customer (new or stored, by object or id), best
        first, each with its explanation."""
        own = None
        if not isinstance(customer, Customer):
            customer = own = self.load(customer)
        try:
            out = c_void_p()
            self._call("patron_db_match", byref(out), customer._p, _enum(MatchMode, mode))
        finally:
            if own is not None:
                own.close()
        L, m = lib(), out.value
        try:
            res = Matches()
            nf = L.patron_matches_field_count(m)
            for i in range(L.patron_matches_count(m)):
                cid_, score, d = c_int64(), c_double(), c_int()
                L.patron_matches_get(m, byref(cid_), byref(score), byref(d), i)
                cid = cid_.value
                cand = Candidate(cid, score.value, _decision(d.value))
                det = _ffi.patron_match_detail(version=1)
                if L.patron_matches_detail(m, byref(det), i) == 0:
                    cand.probability, cand.rule = det.probability, dec(det.rule) or ""
                    cand.prior, cand.adjustment = det.prior, det.adjustment
                for k in range(nf):
                    fd = _ffi.patron_match_field_detail(version=1)
                    L.patron_matches_field_detail(m, byref(fd), i, k)
                    cand.explanation.append(Explanation(dec(fd.field) or "", dec(fd.value_a) or "",
                                                        dec(fd.value_b) or "", dec(fd.level) or "", fd.weight,
                                                        fd.level_weight, bool(fd.frequency), int(fd.holders),
                                                        int(fd.customers)))
                res.append(cand)
            js = c_void_p()
            L.patron_matches_to_json(m, byref(js), 0)
            res.json = take_string(js) or "[]"
            return res
        finally:
            L.patron_matches_free(m)

    # -- the matcher's configuration (kept in the store) --

    def match_settings(self) -> Dict[str, Any]:
        """merge_probability, review_probability, prior, default_country."""
        s = _ffi.patron_match_settings(version=1)
        self._call("patron_db_match_config_get", byref(s))
        return {"merge_probability": s.merge_probability, "review_probability": s.review_probability,
                "prior": s.prior, "default_country": dec(s.default_country) or ""}

    def set_match_settings(self, **changes: Any) -> None:
        """Change some of :meth:`match_settings` (the rest stay)."""
        cur = self.match_settings()
        unknown = set(changes) - set(cur)
        if unknown:
            raise TypeError("unknown match settings: %s" % ", ".join(sorted(unknown)))
        cur.update(changes)
        s = _ffi.patron_match_settings(version=1, merge_probability=cur["merge_probability"],
                                       review_probability=cur["review_probability"], prior=cur["prior"],
                                       default_country=enc(cur["default_country"]))
        self._call("patron_db_match_config_set", byref(s))

    def match_probability(self, field_name: str, level: str) -> Tuple[float, float]:
        """(m, u) of a field's comparison level."""
        m, u = c_double(), c_double()
        self._call("patron_db_match_config_probability", byref(m), byref(u), enc(field_name), enc(level))
        return m.value, u.value

    def set_match_probability(self, field_name: str, level: str, m: float, u: float) -> None:
        self._call("patron_db_match_config_set_probability", enc(field_name), enc(level), m, u)

    def add_identifier(self, prop: str) -> None:
        """Declare the custom property ``prop`` an identifier for matching."""
        self._call("patron_db_match_config_identifier_add", enc(prop))

    def remove_identifier(self, prop: str) -> None:
        self._call("patron_db_match_config_identifier_remove", enc(prop))

    def identifiers(self) -> List[str]:
        out = c_void_p()
        self._call("patron_db_match_config_identifiers", byref(out))
        text = take_string(out) or ""
        return text.split("\n") if text else []

    def reset_match_config(self) -> None:
        self._call("patron_db_match_config_reset")

    def index_state(self) -> Dict[str, Any]:
        """Whether the store's index keys were built the way this library
        builds them: ``{"state": "current" | "stale" | "newer" | "unknown",
        "generation": recorded (0: none), "current": this library's}``.
        After an upgrade that reports "stale", call :meth:`reindex`."""
        st, gen, cur = c_int(), c_uint(), c_uint()
        self._call("patron_db_index_state", byref(st), byref(gen), byref(cur))
        return {"state": dec(lib().patron_index_state_name(st.value)) or "", "generation": gen.value,
                "current": cur.value}

    def reindex(self) -> int:
        """Rebuild every customer's index keys and match form, in one
        transaction, and record the generation; the customers' values,
        numbers, revisions and times stay.  Returns how many were re-keyed."""
        n = c_size_t()
        self._call("patron_db_reindex", byref(n))
        return n.value

    def estimate(self, *, seed: int = 1, random_pairs: int = 0, max_iterations: int = 0,
                 dry_run: bool = False) -> EstimateReport:
        """Learn the matcher's model (m and u per field and level, the prior)
        from the customers in this store, and store it there: every process
        on the store matches with it from then on (``patron_db_estimate``).
        When the estimate is not usable (too few customers, no convergence, or
        it would change too many of the built-in defaults' decisions: flag 8)
        nothing is stored and the report says why; that is no error.
        ``dry_run``: estimate and report, store nothing.  ``random_pairs``
        (0: 100 000) and ``max_iterations`` (0: 200) bound the work; the same
        ``seed`` on the same store gives the same model."""
        if seed < 0 or random_pairs < 0:
            raise ValueError("seed and random_pairs must not be negative")
        opts = _ffi.patron_estimate_options(version=1, seed=seed, random_pairs=random_pairs,
                                            max_iterations=max_iterations,
                                            flags=_ffi.ESTIMATE_DRY_RUN if dry_run else 0)
        rep = _ffi.patron_estimate_report(version=1)
        self._call("patron_db_estimate", byref(rep), byref(opts))
        return EstimateReport(bool(rep.stored), bool(rep.converged),
                              [name for bit, name in _ESTIMATE_FLAGS if rep.flags & bit], int(rep.customers),
                              int(rep.candidate_pairs), int(rep.random_pairs), int(rep.iterations), rep.matches,
                              rep.prior, rep.seconds, dec(rep.message) or "")

    def dedupe(self, mode: Union[str, int] = MatchMode.FIELDS) -> Dedupe:
        """Every MERGE / REVIEW pair in the store, and the MERGE clusters."""
        out = c_void_p()
        self._call("patron_db_dedupe", byref(out), _enum(MatchMode, mode))
        return _take_pairs(out.value)

    def batch(self) -> "Batch":
        """A new :class:`Batch` with this store's matcher configuration and
        number format (the store is only read, now)."""
        return Batch(self)

    # -- the review queue --

    def review_scan(self, full: bool = False) -> ScanStats:
        """Update the review queue from the matcher (one transaction): only
        the customers saved since the last scan, or all (``full``)."""
        stats = _ffi.patron_review_scan_stats(version=1)
        opts = _ffi.patron_review_scan_options(version=1, flags=1 if full else 0)
        self._call("patron_db_review_scan", byref(stats), byref(opts))
        return ScanStats(bool(stats.full), stats.customers, stats.pairs, stats.opened, stats.refreshed,
                         stats.reopened, stats.closed, stats.open)

    def review_cases(self, states: Sequence[Union[str, CaseState]] = (CaseState.OPEN,)) -> List[ReviewCase]:
        """The cases in these states, best first (score, then id)."""
        mask = 0
        for st in states:
            mask |= 1 << _case_state(st)
        out = c_void_p()
        self._call("patron_db_review_list", byref(out), mask)
        try:
            text = c_void_p()
            lib().patron_cases_to_json(out.value, byref(text), 0)
            return [ReviewCase._from(d) for d in json.loads(take_string(text) or "[]")]
        finally:
            lib().patron_cases_free(out.value)

    def review_html(self, states: Optional[Sequence[Union[str, CaseState]]] = None) -> str:
        """The review page for the cases in these states (default: the open
        ones): one self-contained HTML document, as ``patron review --html``
        writes it (``patron_db_review_html()``); the cards show the CLI's
        commands that decide each case, as text."""
        mask = 0
        for st in states if states is not None else (CaseState.OPEN,):
            mask |= 1 << _case_state(st)
        if not mask:  # as review_cases([]); the library would take 0 for the open ones
            raise InvalidValue("no case state asked for", code=_ffi.E_INVALID)
        out = c_void_p()
        self._call("patron_db_review_html", byref(out), mask)
        return take_string(out) or ""

    def review_case(self, case_id: int) -> ReviewCase:
        """One case; NotFound if there is none."""
        out = c_void_p()
        self._call("patron_db_review_get", byref(out), int(case_id))
        try:
            text = c_void_p()
            lib().patron_case_to_json(out.value, byref(text), 0)
            return ReviewCase._from(json.loads(take_string(text) or "{}"))
        finally:
            lib().patron_case_free(out.value)

    def review_decide(self, case_id: int, state: Union[str, CaseState], who: str,
                      note: Optional[str] = None) -> None:
        """Decide a case: "not_duplicate" (also "distinct"), "household",
        "deferred", or "open" to take a decision back."""
        self._call("patron_db_review_decide", int(case_id), _case_state(state), enc(who),
                   enc(note) if note is not None else None)

    def review_plan(self, case_id: int, policy: Union[str, int] = MergePolicy.SURVIVOR) -> MergePlan:
        """The merge plan of a case's members (changes nothing)."""
        out = c_void_p()
        self._call("patron_db_review_plan", byref(out), int(case_id), _enum(MergePolicy, policy))
        return MergePlan(out.value)  # type: ignore[arg-type]

    def review_merge(self, case_id: int, who: str, plan: Optional[MergePlan] = None) -> int:
        """Merge a case and close it, in one transaction; the journal id
        (undo() of it reopens the case)."""
        jid = c_int64()
        self._call("patron_db_review_merge", byref(jid), int(case_id), plan._p if plan is not None else None,
                   enc(who))
        return int(jid.value)

    # -- merging --

    def merge_plan(self, survivor: Union[int, Customer], duplicates: Union[int, Customer, Sequence[Any]],
                   policy: Union[str, int] = MergePolicy.SURVIVOR) -> MergePlan:
        """A plan to merge ``duplicates`` into ``survivor`` (changes nothing)."""
        if isinstance(duplicates, (int, Customer)):
            duplicates = [duplicates]
        dups = _ids(duplicates)
        arr = (c_int64 * max(1, len(dups)))(*dups)
        out = c_void_p()
        self._call("patron_merge_plan_new", byref(out), _id(survivor), arr, len(dups), _enum(MergePolicy, policy))
        return MergePlan(out.value)  # type: ignore[arg-type]

    def merge(self, plan: MergePlan) -> int:
        """Apply a plan in one transaction; the journal id (for undo)."""
        jid = c_int64()
        self._call("patron_db_merge", byref(jid), plan._p)
        return jid.value

    def undo(self, journal_id: int, force: bool = False) -> int:
        """Undo a merge; the journal id of the undo entry."""
        uid = c_int64()
        self._call("patron_db_undo", byref(uid), int(journal_id), 1 if force else 0)
        return uid.value

    def journal(self, after_id: int = 0, limit: int = 1000) -> List[Dict[str, Any]]:
        """Journal entries after ``after_id``, oldest first: dicts with id,
        time, kind, customer_id, undone_by, summary (never before-images)."""
        out = c_void_p()
        self._call("patron_db_journal_list", byref(out), int(after_id), int(limit))
        L, j = lib(), out.value
        try:
            res: List[Dict[str, Any]] = []
            for i in range(L.patron_journal_count(j)):
                e = L.patron_journal_at(j, i)
                res.append({
                    "id": int(L.patron_journal_item_id(e)),
                    "time": int(L.patron_journal_item_time(e)),
                    "kind": dec(L.patron_journal_item_kind(e)) or "",
                    "customer_id": int(L.patron_journal_item_customer(e)),
                    "undone_by": int(L.patron_journal_item_undone_by(e)),
                    "summary": dec(L.patron_journal_item_summary(e)) or "",
                })
            return res
        finally:
            L.patron_journal_free(j)

    def export(self, ids: Sequence[Union[int, Customer]], pretty: bool = False) -> List[Dict[str, Any]]:
        data: List[Dict[str, Any]] = json.loads(self.export_json(ids, pretty))
        return data

    def export_json(self, ids: Sequence[Union[int, Customer]], pretty: bool = False) -> str:
        lst = _ids(ids)
        arr = (c_int64 * max(1, len(lst)))(*lst)
        out = c_void_p()
        self._call("patron_db_export_to_json", byref(out), arr, len(lst), 1 if pretty else 0)
        return take_string(out) or "[]"

    # -- personal data requests (GDPR) --

    def _person_id(self, key: Union[int, str, Customer]) -> int:
        """The id for a person given as an id, a Customer, or a string: a
        customer number (a merged-away one leads to the survivor), an email
        (one containing '@'), else an external id."""
        if isinstance(key, (int, Customer)) and not isinstance(key, bool):
            return _id(key)
        if not isinstance(key, str):
            raise TypeError("a person is an int id, a Customer or a key string, not %s" % type(key).__name__)
        from .errors import NotFound
        tries: List[Dict[str, Any]] = [{"email": key}] if "@" in key else []
        tries += [{"number": key}, {"external": key}]
        for t in tries:
            try:
                c = self.find(**t)
            except NotFound:
                continue
            try:
                return c.id
            finally:
                c.close()
        raise NotFound("no customer with number, email or external id %r" % key, code=_ffi.E_NOT_FOUND)

    def export_person_json(self, key: Union[int, str, Customer], pretty: bool = False) -> str:
        """Everything stored about one person as JSON (GDPR Art. 15 and 20):
        the customer, consent, aliases, the records merged into it, its
        journal entries; never a password hash.  ``key`` as for
        :meth:`export_person`."""
        out = c_void_p()
        self._call("patron_db_export_person", byref(out), self._person_id(key), 1 if pretty else 0)
        return take_string(out) or "{}"

    def export_person(self, key: Union[int, str, Customer]) -> Dict[str, Any]:
        """Everything stored about one person, decoded (see patron/privacy.h
        for the schema; ``"schema_version"`` says which).  ``key`` is an id
        (a merged-away record's gives its survivor), a Customer, or a
        customer number, email or external id.  NotFound, Ambiguous (an
        email of several customers)."""
        data: Dict[str, Any] = json.loads(self.export_person_json(key))
        return data

    def erase(self, key: Union[int, str, Customer], *, reason: str, by: str) -> int:
        """Erase a person's personal data, in one transaction (GDPR Art. 17):
        the fields of the customer and of every record merged into it, the
        email aliases, its match keys, the before-images in the journal.  The
        number, the state "erased", the erasure time and the order links stay.
        Cannot be undone.  ``reason`` and ``by`` go into the journal: no
        personal data in them.  Returns the id of the "erase" journal entry,
        0 if the store keeps no journal or the person was erased before
        (then nothing changes; the store is asked to purge again).
        InvalidValue (no reason or by, or not one line of at most 1000
        bytes), NotFound, Unsupported (a store without journal_rewrite),
        StoreError (also while another process writes the customer: the
        store is busy, nothing erased; the message names the customer)."""
        if not isinstance(reason, str) or not isinstance(by, str):
            raise TypeError("reason and by are strings")
        jid = c_int64()
        self._call("patron_db_erase", byref(jid), self._person_id(key), enc(reason), enc(by))
        return int(jid.value)

    # -- transactions spanning several calls --

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Db"]:
        """One transaction around several calls, as ``sqlite3`` users expect::

            with db.transaction():
                db.create(...)
                db.update(...)

        committed at the end of the block, rolled back if it raises.  Each
        call inside stays atomic on its own.  For :meth:`sqlite` this is the
        C store's host transaction (patron_sqlite_begin/commit/rollback), for
        :meth:`postgres` likewise (patron_pg_begin/...: other writers of the
        database wait until the block ends, so keep it short); for
        a Python store with a ``transaction()`` context manager (such as
        :class:`SqliteStore`) it is that one.  Other stores (the memory store,
        a Python store without one) raise :class:`Unsupported`: there each
        call is its own transaction.  Transactions do not nest (StateError)."""
        if self._sqlite_store is not None:
            L = lib()
            L.patron_sqlite_begin(self._sqlite_store)
            try:
                yield self
            except BaseException:
                L.patron_sqlite_rollback(self._sqlite_store)
                raise
            L.patron_sqlite_commit(self._sqlite_store)
            return
        if self._pg_store is not None:
            L = lib()
            L.patron_pg_begin(self._pg_store)
            try:
                yield self
            except BaseException:
                L.patron_pg_rollback(self._pg_store)
                raise
            L.patron_pg_commit(self._pg_store)
            return
        store = self._adapter.store if self._adapter is not None else None
        host_tx = getattr(store, "transaction", None)
        if store is None or not callable(host_tx):
            raise Unsupported("%s has no transaction spanning several calls: each call is its own "
                              "transaction.  Db.transaction() needs Db.sqlite(), Db.postgres() or a Python store with a "
                              "transaction() method (e.g. patron.SqliteStore)"
                              % ("a memory store" if store is None else type(store).__name__),
                              code=_ffi.E_UNSUPPORTED)
        with host_tx():
            yield self

    def __repr__(self) -> str:
        kind = ("python store %s" % type(self._adapter.store).__name__ if self._adapter is not None
                else "sqlite" if self._sqlite_store is not None
                else "postgres" if self._pg_store is not None else "memory")
        return "<Db %s%s>" % (kind, " (closed)" if self.closed else "")


_ = (Mapping, StoreError)
