"""Stores written in Python.

Subclass :class:`Store`, implement the required methods (and any optional
ones), and open a :class:`patron.Db` on it with ``Db.from_store(store)``.
The binding builds a ``patron_store_ops`` whose callbacks call your methods;
optional methods you do not override are NULL in the struct, so the library
falls back or answers :class:`patron.Unsupported`.

Contract (patron/store.h, in Python terms):

* Every mutation happens between :meth:`Store.begin` and :meth:`Store.commit`;
  after any failure the library calls :meth:`Store.rollback`, which must undo
  everything since ``begin`` -- records, keys, the number counter, claimed
  numbers, journal, re-linked references, meta values.
* "Not found" is said by returning ``None`` from ``load`` / ``journal_get`` /
  ``meta_get`` or by raising :class:`patron.NotFound`; "already claimed" by
  raising :class:`patron.AlreadyExists` from ``claim_number``.
* Any other exception is a store failure: the callback returns a negative
  status, the library rolls back, and the :class:`patron.Db` call that was
  running raises :class:`patron.StoreError` with your exception as
  ``__cause__``.
* Callbacks must not call back into the same Db.
"""
from __future__ import annotations

import abc
import ctypes
from ctypes import byref, c_size_t, c_void_p
from dataclasses import dataclass
from typing import (Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Tuple, Union)

from . import _ffi
from ._ffi import CALLBACK_TYPES, dec, enc, lib
from .customer import STATE_NAMES, Customer, address_field_ids, field_ids
from .errors import AlreadyExists, NotFound, PatronError


class Key(NamedTuple):
    """An index key the core computed for a record.  ``kind`` 1 number,
    2 external reference, 3 email, 4 login; >= 100 the matcher's blocking
    keys (treat unknown kinds like the others)."""
    kind: int
    value: str


@dataclass
class StoreFilter:
    """Which records ``scan`` selects: ``None`` means "any"."""
    state: Optional[str] = None  # "pending", "active", "merged"
    locked: Optional[bool] = None
    group: Optional[str] = None

    def matches(self, state: Optional[str], locked: bool, group: Optional[str]) -> bool:
        return ((self.state is None or state == self.state) and
                (self.locked is None or bool(locked) == self.locked) and
                (self.group is None or group == self.group))


@dataclass
class JournalEntry:
    """A journal entry.  ``payload`` is JSON the core writes and reads; keep
    it as given (it holds before-images of records, password hashes too)."""
    id: int
    time: int
    kind: str
    customer_id: int
    undone_by: int
    payload: str


class StoreRecord(Customer):
    """The record given to :meth:`Store.insert` / :meth:`Store.update`: a
    read-only view, valid during the call only (copy what you keep)."""

    __slots__ = ()

    def pack(self, id: Optional[int] = None) -> bytes:
        """Every field, list and system value as one byte string
        (patron_record_pack), for a store that keeps a blob.  With ``id``
        the packed record carries that id (an inserted record has none yet)."""
        src: Optional[int] = self._p
        tmp = None
        if id is not None and id != self.id:
            out = c_void_p()
            lib().patron_customer_clone(src, byref(out))
            tmp = out.value
            lib().patron_record_set(tmp, field_ids()["id"], str(int(id)).encode())
            src = tmp
        try:
            buf, n = c_void_p(), c_size_t()
            lib().patron_record_pack(byref(buf), byref(n), src)
            try:
                return ctypes.string_at(buf.value, n.value)  # type: ignore[arg-type]
            finally:
                lib().patron_free(buf.value)
        finally:
            if tmp is not None:
                lib().patron_customer_free(tmp)

    def record_dict(self) -> Dict[str, Any]:
        """Every field (raw strings, password hash included) plus
        "addresses", "tags" and "properties": what :meth:`Store.load` may
        return instead of packed bytes."""
        d: Dict[str, Any] = dict(self.fields())
        d["addresses"] = [a.to_dict() for a in self.addresses]
        d["tags"] = list(self.tags)
        d["properties"] = dict(self.properties)
        return d


class Store(abc.ABC):
    """A customer store implemented in Python.

    Required: begin, commit, rollback, load, insert, update, remove, lookup,
    scan, next_number, claim_number.  Optional: relink, move_ref, check_refs,
    journal_append / journal_get / journal_scan / journal_set_undone (undo
    needs them; merge needs journal_append), journal_rewrite and purge
    (erasure: Db.erase), meta_get / meta_put / meta_scan (customer groups
    need them).
    """

    # ---- transactions ----
    @abc.abstractmethod
    def begin(self) -> None:
        """Start a transaction."""

    @abc.abstractmethod
    def commit(self) -> None:
        """Make everything since begin() durable."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Undo everything since begin()."""

    # ---- records ----
    @abc.abstractmethod
    def load(self, id: int) -> Union[bytes, Dict[str, Any], None]:
        """Record ``id`` as the bytes StoreRecord.pack() gave, or as a dict
        like StoreRecord.record_dict(); None if there is none."""

    @abc.abstractmethod
    def insert(self, record: StoreRecord, keys: List[Key]) -> int:
        """Store a new record and its keys; return its new id (> 0, never
        used before, never reused)."""

    @abc.abstractmethod
    def update(self, record: StoreRecord, keys: List[Key]) -> None:
        """Replace record ``record.id`` and all its keys."""

    @abc.abstractmethod
    def remove(self, id: int) -> None:
        """Remove record ``id`` and its keys; raise NotFound if absent."""

    @abc.abstractmethod
    def lookup(self, kind: int, value: str) -> Iterable[int]:
        """The ids indexed under (kind, value), ascending."""

    @abc.abstractmethod
    def scan(self, filter: StoreFilter, after_id: int, limit: int) -> Iterable[int]:
        """Ascending ids > after_id of records matching ``filter``, at most ``limit``."""

    @abc.abstractmethod
    def next_number(self) -> int:
        """Advance the customer-number counter and return its new value (from 1)."""

    @abc.abstractmethod
    def claim_number(self, number: str) -> None:
        """Mark a number as used for ever; raise AlreadyExists if it was."""

    # ---- optional: references ----
    def relink(self, from_id: int, to_id: int) -> Iterable[Tuple[str, str]]:
        """Move the host's references of ``from_id`` to ``to_id``; return the
        (kind, ref_id) pairs moved."""
        raise NotImplementedError

    def move_ref(self, kind: str, ref_id: str, to_id: int) -> None:
        """Move one reference (as relink returned it) to ``to_id``."""
        raise NotImplementedError

    def check_refs(self, id: int) -> Iterable[str]:
        """One reason for each reference of ``id`` that cannot move."""
        raise NotImplementedError

    # ---- optional: journal ----
    def journal_append(self, entry: JournalEntry) -> int:
        """Append an entry (entry.id is 0); return its new id (> 0, ascending)."""
        raise NotImplementedError

    def journal_get(self, id: int) -> Optional[JournalEntry]:
        raise NotImplementedError

    def journal_scan(self, after_id: int, limit: int) -> Iterable[JournalEntry]:
        raise NotImplementedError

    def journal_set_undone(self, id: int, undone_by: int) -> None:
        raise NotImplementedError

    def journal_rewrite(self, id: int, payload: str) -> None:
        """Replace the payload of entry ``id`` (raise NotFound if absent),
        keeping nothing of the old one: :meth:`patron.Db.erase` scrubs the
        before-images of the person this way.  Without it an erasure of a
        person the journal holds is refused (Unsupported)."""
        raise NotImplementedError

    def purge(self) -> None:
        """Called right after an erasure committed: make the bytes it removed
        or overwrote unrecoverable wherever the store still keeps them (a
        write-ahead log, free pages).  A failure is reported, the erasure
        stays committed."""
        raise NotImplementedError

    # ---- optional: meta values (customer groups) ----
    def meta_get(self, key: str) -> Optional[str]:
        raise NotImplementedError

    def meta_put(self, key: str, value: Optional[str]) -> None:
        """Set ``key``; None removes it."""
        raise NotImplementedError

    def meta_scan(self, prefix: str) -> Iterable[Tuple[str, str]]:
        """(key, value) of every key starting with ``prefix``, in ascending byte order."""
        raise NotImplementedError


OPTIONAL_CALLBACKS = ("relink", "move_ref", "check_refs", "journal_append", "journal_get", "journal_scan",
                      "journal_set_undone", "journal_rewrite", "purge", "meta_get", "meta_put", "meta_scan")


def implements(store: Store, name: str) -> bool:
    """True if ``store`` overrides optional method ``name``."""
    impl = getattr(type(store), name, None)
    return impl is not None and impl is not getattr(Store, name)


def _fill_record(out: int, data: Union[bytes, bytearray, memoryview, Dict[str, Any]], id: int) -> None:
    L = lib()
    if isinstance(data, (bytes, bytearray, memoryview)):
        b = bytes(data)
        L.patron_record_unpack(out, b, len(b))
    elif isinstance(data, dict):
        fids = field_ids()
        afids = address_field_ids()
        for name, value in data.items():
            if name == "addresses":
                for a in value:
                    idx = c_size_t()
                    L.patron_customer_address_add(out, byref(idx))
                    for k, v in a.items():
                        L.patron_customer_address_set(out, idx.value, afids[k], enc(None if v is None else str(v)))
            elif name == "tags":
                for t in value:
                    L.patron_customer_tag_add(out, enc(t))
            elif name == "properties":
                for k, v in value.items():
                    L.patron_customer_prop_set(out, enc(k), enc(v))
            elif name in fids and value is not None:
                L.patron_record_set(out, fids[name], enc(str(value)))
    else:
        raise TypeError("Store.load must return bytes, a dict or None, not %s" % type(data).__name__)
    if L.patron_customer_id(out) == 0:
        # a blob packed at insert time, before the id was known
        L.patron_record_set(out, field_ids()["id"], str(int(id)).encode())


class StoreAdapter:
    """Builds the patron_store_ops of a Python :class:`Store`.  Owned by the
    Db: it keeps every CFUNCTYPE object alive while the library may call it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pending: Optional[BaseException] = None
        self.depth = 0  # > 0 while a callback runs (the Db refuses re-entry)
        self._errbuf = ctypes.create_string_buffer(b"", 1024)
        self._callbacks: Dict[str, Any] = {}
        ops = _ffi.patron_store_ops()
        ops.version = _ffi.PATRON_STORE_VERSION
        for name, impl in self._impls().items():
            if name in OPTIONAL_CALLBACKS and not implements(store, name):
                continue  # NULL: the library falls back or says Unsupported
            cb = CALLBACK_TYPES[name](impl)
            self._callbacks[name] = cb
            setattr(ops, name, cb)
        errmsg_cb = CALLBACK_TYPES["errmsg"](self._errmsg)
        self._callbacks["errmsg"] = errmsg_cb
        ops.errmsg = errmsg_cb
        self.ops = ops

    # -- failures --

    def _errmsg(self, ctx: Any) -> int:
        return ctypes.addressof(self._errbuf)

    def _fail(self, name: str, exc: BaseException) -> int:
        if self.pending is None:
            self.pending = exc
        text = ("%s: %s: %s" % (name, type(exc).__name__, exc)).encode("utf-8", "replace")[:1000]
        # a message never ends mid-character
        text = text.decode("utf-8", "ignore").encode("utf-8")
        ctypes.memmove(self._errbuf, text + b"\0", len(text) + 1)
        return _ffi.E_STORE

    def take_pending(self) -> Optional[BaseException]:
        exc, self.pending = self.pending, None
        return exc

    def _guard(self, name: str, fn: Callable[..., Any], *passed: int) -> Callable[..., int]:
        """Wrap a callback body: exceptions become negative statuses."""

        def cb(*args: Any) -> int:
            self.depth += 1
            try:
                fn(*args)
                return 0
            except NotFound as e:
                if _ffi.E_NOT_FOUND in passed:
                    return _ffi.E_NOT_FOUND
                return self._fail(name, e)
            except AlreadyExists as e:
                if _ffi.E_EXISTS in passed:
                    return _ffi.E_EXISTS
                return self._fail(name, e)
            except BaseException as e:  # noqa: B902 - nothing may cross into C
                return self._fail(name, e)
            finally:
                self.depth -= 1

        return cb

    # -- the callbacks --

    def _impls(self) -> Dict[str, Callable[..., int]]:
        s = self.store
        NF, EX = _ffi.E_NOT_FOUND, _ffi.E_EXISTS

        def begin(ctx: Any) -> None:
            s.begin()

        def commit(ctx: Any) -> None:
            s.commit()

        def rollback(ctx: Any) -> None:
            s.rollback()

        def load(ctx: Any, id: int, out: int) -> None:
            data = s.load(id)
            if data is None:
                raise NotFound("no record %d" % id)
            _fill_record(out, data, id)

        def keys_of(keys: Any, n: int) -> List[Key]:
            return [Key(keys[i].kind, keys[i].value.decode("utf-8", "surrogateescape")) for i in range(n)]

        def insert(ctx: Any, c: int, keys: Any, n: int, id_out: Any) -> None:
            rec = StoreRecord._view(c)
            try:
                new_id = s.insert(rec, keys_of(keys, n))
            finally:
                object.__setattr__(rec, "_ptr", None)
            if not isinstance(new_id, int) or new_id <= 0:
                raise ValueError("Store.insert must return the new id (an int > 0), not %r" % (new_id,))
            id_out[0] = new_id

        def update(ctx: Any, c: int, keys: Any, n: int) -> None:
            rec = StoreRecord._view(c)
            try:
                s.update(rec, keys_of(keys, n))
            finally:
                object.__setattr__(rec, "_ptr", None)

        def remove(ctx: Any, id: int) -> None:
            s.remove(id)

        def lookup(ctx: Any, kind: int, value: bytes, emit: Any, ectx: Any) -> None:
            for id in s.lookup(kind, value.decode("utf-8", "surrogateescape")):
                if emit(ectx, int(id)):
                    break

        def scan(ctx: Any, f: Any, after_id: int, limit: int, emit: Any, ectx: Any) -> None:
            fl = f.contents
            flt = StoreFilter(
                state=STATE_NAMES.get(fl.state) if fl.state else None,
                locked=None if fl.locked == _ffi.FILTER_ANY else bool(fl.locked),
                group=dec(fl.group),
            )
            n = 0
            for id in s.scan(flt, after_id, limit):
                if n >= limit:
                    break
                n += 1
                if emit(ectx, int(id)):
                    break

        def next_number(ctx: Any, out: Any) -> None:
            v = s.next_number()
            if not isinstance(v, int) or v <= 0:
                raise ValueError("Store.next_number must return an int > 0, not %r" % (v,))
            out[0] = v

        def claim_number(ctx: Any, number: bytes) -> None:
            s.claim_number(number.decode())

        def relink(ctx: Any, from_id: int, to_id: int, emit: Any, ectx: Any) -> None:
            for kind, ref in s.relink(from_id, to_id):
                if emit(ectx, enc(kind), enc(str(ref))):
                    raise RuntimeError("relink: the library stopped the re-link")

        def move_ref(ctx: Any, kind: bytes, ref: bytes, to_id: int) -> None:
            s.move_ref(kind.decode(), ref.decode(), to_id)

        def check_refs(ctx: Any, id: int, emit: Any, ectx: Any) -> None:
            for reason in s.check_refs(id):
                if emit(ectx, enc(reason)):
                    break

        def journal_append(ctx: Any, e: Any, id_out: Any) -> None:
            c = e.contents
            entry = JournalEntry(id=c.id, time=c.time, kind=dec(c.kind) or "", customer_id=c.customer_id,
                                 undone_by=c.undone_by, payload=dec(c.payload) or "")
            new_id = s.journal_append(entry)
            if not isinstance(new_id, int) or new_id <= 0:
                raise ValueError("Store.journal_append must return the new id (an int > 0), not %r" % (new_id,))
            id_out[0] = new_id

        def emit_entry(emit: Any, ectx: Any, e: JournalEntry) -> int:
            ce = _ffi.patron_journal_entry(int(e.id), int(e.time), enc(e.kind), int(e.customer_id),
                                           int(e.undone_by or 0), enc(e.payload))
            return int(emit(ectx, byref(ce)))

        def journal_get(ctx: Any, id: int, emit: Any, ectx: Any) -> None:
            e = s.journal_get(id)
            if e is None:
                raise NotFound("no journal entry %d" % id)
            emit_entry(emit, ectx, e)

        def journal_scan(ctx: Any, after_id: int, limit: int, emit: Any, ectx: Any) -> None:
            n = 0
            for e in s.journal_scan(after_id, limit):
                if n >= limit:
                    break
                n += 1
                if emit_entry(emit, ectx, e):
                    break

        def journal_set_undone(ctx: Any, id: int, undone_by: int) -> None:
            s.journal_set_undone(id, undone_by)

        def journal_rewrite(ctx: Any, id: int, payload: bytes) -> None:
            s.journal_rewrite(id, dec(payload) or "")

        def purge(ctx: Any) -> None:
            s.purge()

        def meta_get(ctx: Any, key: bytes, emit: Any, ectx: Any) -> None:
            v = s.meta_get(key.decode())
            if v is None:
                raise NotFound("no meta value %r" % key.decode())
            emit(ectx, key, enc(v))

        def meta_put(ctx: Any, key: bytes, value: Optional[bytes]) -> None:
            s.meta_put(key.decode(), dec(value))

        def meta_scan(ctx: Any, prefix: bytes, emit: Any, ectx: Any) -> None:
            for k, v in s.meta_scan(prefix.decode()):
                if emit(ectx, enc(k), enc(v)):
                    break

        g = self._guard
        return {
            "begin": g("begin", begin),
            "commit": g("commit", commit),
            "rollback": g("rollback", rollback),
            "load": g("load", load, NF),
            "insert": g("insert", insert),
            "update": g("update", update, NF),
            "remove": g("remove", remove, NF),
            "lookup": g("lookup", lookup),
            "scan": g("scan", scan),
            "next_number": g("next_number", next_number),
            "claim_number": g("claim_number", claim_number, EX),
            "relink": g("relink", relink),
            "move_ref": g("move_ref", move_ref, NF),
            "check_refs": g("check_refs", check_refs),
            "journal_append": g("journal_append", journal_append),
            "journal_get": g("journal_get", journal_get, NF),
            "journal_scan": g("journal_scan", journal_scan),
            "journal_set_undone": g("journal_set_undone", journal_set_undone, NF),
            "journal_rewrite": g("journal_rewrite", journal_rewrite, NF),
            "purge": g("purge", purge),
            "meta_get": g("meta_get", meta_get, NF),
            "meta_put": g("meta_put", meta_put),
            "meta_scan": g("meta_scan", meta_scan),
        }


_ = PatronError
