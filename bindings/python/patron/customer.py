"""Customer records: :class:`Customer`, its addresses, tags and properties."""
from __future__ import annotations

import ctypes
import datetime
import json
from collections.abc import MutableMapping, MutableSet, Sequence
from ctypes import byref, c_char_p, c_size_t, c_void_p
from typing import (TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple, Type, TypeVar, Union,
                    overload)

from . import _ffi
from ._ffi import dec, enc, lib, take_string
from .errors import InvalidValue, PatronError, StateError

FieldValue = Union[str, int, bool, datetime.date, None]

# Field kinds (patron_kind in patron.h) that read as something other than str.
KIND_DATE, KIND_TIMESTAMP, KIND_BOOL, KIND_INTEGER = 4, 5, 6, 8


def _field_sets(count: str, name: str, kind: str, flags: str) -> Tuple[Dict[str, int], Dict[str, int],
                                                                     Dict[str, int]]:
    """name -> id, name -> kind, name -> flags, from the library's own field
    metadata (so fields of a newer library are known too)."""
    L = lib()
    ids, kinds, fl = {}, {}, {}
    for f in range(1, int(getattr(L, count)()) + 1):
        n = getattr(L, name)(f)
        if n is None:
            continue
        s = n.decode()
        ids[s] = f
        kinds[s] = int(getattr(L, kind)(f))
        fl[s] = int(getattr(L, flags)(f))
    return ids, kinds, fl

STATE_NAMES = {0: "new", 1: "pending", 2: "active", 3: "merged", 4: "erased"}

_fields: Optional[Tuple[Dict[str, int], Dict[str, int], Dict[str, int]]] = None
_address_fields: Optional[Tuple[Dict[str, int], Dict[str, int], Dict[str, int]]] = None


def _customer_meta() -> Tuple[Dict[str, int], Dict[str, int], Dict[str, int]]:
    global _fields
    if _fields is None:
        _fields = _field_sets("patron_field_count", "patron_field_name", "patron_field_kind",
                              "patron_field_flags")
    return _fields


def _address_meta() -> Tuple[Dict[str, int], Dict[str, int], Dict[str, int]]:
    global _address_fields
    if _address_fields is None:
        _address_fields = _field_sets("patron_address_field_count", "patron_address_field_name",
                                      "patron_address_field_kind", "patron_address_field_flags")
    return _address_fields


def field_ids() -> Dict[str, int]:
    """snake_case name -> field id, as patron_field_name() gives them."""
    return _customer_meta()[0]


def field_kind(name: str) -> int:
    """The patron_kind of a customer field (0 for an unknown name)."""
    return _customer_meta()[1].get(name, 0)


def is_system_field(name: str) -> bool:
    return bool(_customer_meta()[2].get(name, 0) & _ffi.FIELD_SYSTEM)


def is_secret_field(name: str) -> bool:
    return bool(_customer_meta()[2].get(name, 0) & _ffi.FIELD_SECRET)


def address_field_ids() -> Dict[str, int]:
    """snake_case name -> address field id."""
    return _address_meta()[0]


def address_field_kind(name: str) -> int:
    return _address_meta()[1].get(name, 0)


def field_id(name: Union[str, int]) -> int:
    if isinstance(name, int):
        return name
    try:
        return field_ids()[name]
    except KeyError:
        raise InvalidValue("unknown customer field %r" % (name,), code=_ffi.E_INVALID) from None


def field_name(fid: int) -> str:
    n = lib().patron_field_name(fid)
    return str(n.decode()) if n is not None else str(fid)


def to_text(value: FieldValue) -> Optional[str]:
    """A Python value as the library's string: bools "1"/"0", dates ISO."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime.datetime):
        return str(int(value.timestamp()))
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _typed(raw: Optional[bytes], kind: int) -> Any:
    """A field's string as Python: booleans as bool, integers and timestamps
    as int, everything else (dates too) as str."""
    if raw is None:
        return None
    s = raw.decode("utf-8", "replace")
    if kind == KIND_BOOL:
        return s == "1"
    if kind in (KIND_INTEGER, KIND_TIMESTAMP):
        try:
            return int(s)
        except ValueError:
            return s
    return s


_C = TypeVar("_C", bound="Customer")


class Customer:
    """A customer record in memory (patron_customer).

    Every field of the library is an attribute with its snake_case name:
    ``c.first_name``, ``c.email``, ``c.birth_date``...  Text fields read as
    ``str`` (``None`` when unset), booleans (``b2b``, ``newsletter``,
    ``locked``) as ``bool``, ids, revision and timestamps as ``int``.
    Assigning checks the value at once (:class:`InvalidValue`); ``None``
    clears a field.  System fields are read-only.

    The record is freed by :meth:`close` (or ``with``, or when the object is
    collected).  Records given to a store callback or shown by a merge plan
    are read-only views.
    """

    __slots__ = ("_ptr", "_owned", "_owner", "_readonly", "__weakref__")

    if TYPE_CHECKING:  # the fields of patron 0.1, for type checkers
        number: Optional[str]
        state: Optional[str]
        salutation: Optional[str]
        title: Optional[str]
        first_name: Optional[str]
        last_name: Optional[str]
        company: Optional[str]
        email: Optional[str]
        phone: Optional[str]
        mobile: Optional[str]
        fax: Optional[str]
        birth_date: Optional[str]
        language: Optional[str]
        b2b: Optional[bool]
        vat_id: Optional[str]
        payment_terms: Optional[str]
        price_category: Optional[str]
        group: Optional[str]
        newsletter: Optional[bool]
        notes: Optional[str]
        order_text: Optional[str]
        login_user: Optional[str]
        login_hash: Optional[str]
        external_source: Optional[str]
        external_id: Optional[str]
        lock_reason: Optional[str]
        locked_at: Optional[int]
        created_at: Optional[int]
        updated_at: Optional[int]
        merged_into: Optional[int]
        newsletter_at: Optional[int]
        newsletter_source: Optional[str]
        erased_at: Optional[int]

    def __init__(self, _ptr: Optional[int] = None, **fields: Any) -> None:
        object.__setattr__(self, "_ptr", None)
        object.__setattr__(self, "_owned", True)
        object.__setattr__(self, "_owner", None)
        object.__setattr__(self, "_readonly", False)
        if _ptr is None:
            out = c_void_p()
            lib().patron_customer_new(byref(out))
            _ptr = out.value
        object.__setattr__(self, "_ptr", _ptr)
        if fields:
            try:
                self.update_from(fields)
            except BaseException:
                self.close()
                raise

    # ---- construction and lifetime ----

    @classmethod
    def _adopt(cls: Type[_C], ptr: int) -> _C:
        """Own a record the library handed out."""
        return cls(_ptr=ptr)

    @classmethod
    def _view(cls: Type[_C], ptr: int, owner: Any = None) -> _C:
        """A read-only view of a record owned by something else."""
        c = cls.__new__(cls)
        object.__setattr__(c, "_ptr", ptr)
        object.__setattr__(c, "_owned", False)
        object.__setattr__(c, "_owner", owner)
        object.__setattr__(c, "_readonly", True)
        return c

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Customer":
        """A new record from a dict as :meth:`to_dict` gives it (system fields
        and "has_password" are skipped)."""
        skip = {n for n in field_ids() if is_system_field(n)} | {"has_password"}
        return cls(**{k: v for k, v in data.items() if k not in skip})

    def update_from(self, fields: Mapping[str, Any]) -> None:
        """Set several fields; "addresses" (list of dicts), "tags" (list) and
        "properties" (dict) replace those lists."""
        for name, value in fields.items():
            if name == "addresses":
                self.addresses.clear()
                for a in value:
                    self.addresses.add(**a)
            elif name == "tags":
                self.tags.clear()
                for t in value:
                    self.tags.add(t)
            elif name == "properties":
                self.properties.clear()
                self.properties.update(value)
            else:
                self.set(name, value)

    def close(self) -> None:
        """Free the record (if this object owns it).  Safe to call twice."""
        ptr = self._ptr
        if ptr is None:
            return
        object.__setattr__(self, "_ptr", None)
        if self._owned:
            lib().patron_customer_free(ptr)


    def __enter__(self) -> "Customer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    @property
    def _p(self) -> int:
        ptr = self._ptr
        if ptr is None:
            raise StateError("this customer record was freed (or its owner was)", code=_ffi.E_STATE)
        owner = self._owner
        if owner is not None and getattr(owner, "_ptr", 1) is None:
            raise StateError("the object this record belongs to was freed", code=_ffi.E_STATE)
        return int(ptr)

    def _writable(self) -> int:
        if self._readonly:
            raise StateError("this record is a read-only view; use .clone() to change a copy",
                             code=_ffi.E_STATE)
        return self._p

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def clone(self) -> "Customer":
        """A deep, independent, writable copy."""
        out = c_void_p()
        lib().patron_customer_clone(self._p, byref(out))
        return Customer._adopt(out.value)  # type: ignore[arg-type]

    # ---- fields ----

    def get(self, name: Union[str, int], default: Optional[str] = None) -> Optional[str]:
        """The raw string value of a field (as the library gives it)."""
        v = lib().patron_customer_get(self._p, field_id(name))
        return default if v is None else v.decode("utf-8", "replace")

    def set(self, name: Union[str, int], value: FieldValue) -> None:
        """Set a field (None or "" clears it).  Raises InvalidValue, StateError."""
        lib().patron_customer_set(self._writable(), field_id(name), enc(to_text(value)))

    def set_consent_time(self, at: Union[int, str, datetime.datetime, None]) -> None:
        """Carry the time a newsletter consent was given (or withdrawn) where
        this customer comes from into a customer never saved (an import or a
        migration): :meth:`Db.create` keeps it instead of stamping the time of
        the save.  Seconds since 1970 (int or str) or an aware datetime; not
        before 1990, not more than 5 minutes in the future; give
        ``newsletter`` with it.  None takes it back.  Raises InvalidValue for
        a bad time, StateError for a customer saved before."""
        if isinstance(at, datetime.datetime):
            at = int(at.timestamp())
        lib().patron_customer_set_consent_time(self._writable(), enc(None if at is None else str(at)))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        fid = field_ids().get(name)
        if fid is None:
            raise AttributeError("%s has no field %r" % (type(self).__name__, name))
        return _typed(lib().patron_customer_get(self._p, fid), field_kind(name))

    def __setattr__(self, name: str, value: Any) -> None:
        if name in field_ids():
            self.set(name, value)
        else:
            raise AttributeError("%s has no field %r (fields: %s)"
                                 % (type(self).__name__, name, ", ".join(field_ids())))

    def __dir__(self) -> Iterable[str]:
        return list(super().__dir__()) + list(field_ids())

    @property
    def id(self) -> int:
        """The internal id (0 for a record never saved)."""
        return int(lib().patron_customer_id(self._p))

    @property
    def revision(self) -> int:
        return int(lib().patron_customer_revision(self._p))

    @property
    def locked(self) -> bool:
        return bool(lib().patron_customer_locked(self._p))

    @property
    def state_code(self) -> int:
        """The patron_state: 0 new, 1 pending, 2 active, 3 merged, 4 erased."""
        return int(lib().patron_customer_state(self._p))

    def fields(self) -> Dict[str, str]:
        """Every set field as raw strings (the password hash included)."""
        out: Dict[str, str] = {}
        for name, fid in field_ids().items():
            v = lib().patron_customer_get(self._p, fid)
            if v is not None:
                out[name] = v.decode("utf-8", "replace")
        return out

    @property
    def addresses(self) -> "Addresses":
        return Addresses(self)

    @property
    def tags(self) -> "Tags":
        return Tags(self)

    @property
    def properties(self) -> "Properties":
        return Properties(self)

    def validate(self) -> None:
        """Check the whole record (rules across fields too); InvalidValue."""
        lib().patron_customer_validate(self._p)

    def to_json(self, pretty: bool = False) -> str:
        """The record as JSON (without the password hash)."""
        out = c_void_p()
        lib().patron_customer_to_json(self._p, byref(out), 1 if pretty else 0)
        return take_string(out) or ""

    def to_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = json.loads(self.to_json())
        return data

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<Customer (freed)>"
        try:
            name = " ".join(x for x in (self.get("first_name"), self.get("last_name")) if x) or self.get("company")
            return "<Customer id=%d number=%r name=%r state=%r>" % (self.id, self.get("number"), name,
                                                                   self.get("state"))
        except Exception:
            return "<Customer>"


class Address:
    """Address ``index`` of a customer: a typed view whose attributes read
    and write through to the record (``c.addresses[0].city = "Köln"``
    changes the customer; :meth:`Db.update` saves it).  Every address field
    is an attribute: text as ``str`` (``None`` when unset), ``default`` as
    ``bool``.  Assigning checks the value at once (:class:`InvalidValue`);
    ``None`` clears a field.  Equal to another Address (or a dict) with the
    same fields.  Removing an earlier address moves this one down: fetch it
    again."""

    __slots__ = ("_customer", "_index")
    _customer: Customer
    _index: int

    if TYPE_CHECKING:  # the address fields of patron 0.1, for type checkers
        label: Optional[str]
        salutation: Optional[str]
        first_name: Optional[str]
        last_name: Optional[str]
        company: Optional[str]
        street: Optional[str]
        house_number: Optional[str]
        address_addition: Optional[str]
        postal_code: Optional[str]
        city: Optional[str]
        state: Optional[str]
        country: Optional[str]
        phone: Optional[str]
        default: Optional[bool]
        billing: Optional[str]
        vat_id: Optional[str]

    def __init__(self, customer: Customer, index: int) -> None:
        object.__setattr__(self, "_customer", customer)
        object.__setattr__(self, "_index", index)

    @property
    def index(self) -> int:
        return self._index

    def get(self, name: str) -> Optional[str]:
        fid = _address_field(name)
        return dec(lib().patron_customer_address_get(self._customer._p, self._index, fid))

    def set(self, name: str, value: FieldValue) -> None:
        fid = _address_field(name)
        lib().patron_customer_address_set(self._customer._writable(), self._index, fid, enc(to_text(value)))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in address_field_ids():
            raise AttributeError("Address has no field %r" % (name,))
        raw = lib().patron_customer_address_get(self._customer._p, self._index, address_field_ids()[name])
        return _typed(raw, address_field_kind(name))

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in address_field_ids():
            raise AttributeError("Address has no field %r (fields: %s)" % (name, ", ".join(address_field_ids())))
        self.set(name, value)

    def to_dict(self) -> Dict[str, str]:
        out: Dict[str, str] = {}
        for name, fid in address_field_ids().items():
            v = lib().patron_customer_address_get(self._customer._p, self._index, fid)
            if v is not None:
                out[name] = v.decode("utf-8", "replace")
        return out

    def update(self, **fields: FieldValue) -> None:
        """Set several fields at once."""
        for name, value in fields.items():
            self.set(name, value)

    def __dir__(self) -> Iterable[str]:
        return list(super().__dir__()) + list(address_field_ids())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Address):
            return self.to_dict() == other.to_dict()
        if isinstance(other, Mapping):
            want = {str(k): to_text(v) for k, v in other.items()}
            return self.to_dict() == {k: v for k, v in want.items() if v not in (None, "")}
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass with eq

    def __repr__(self) -> str:
        try:
            return "Address(%s)" % ", ".join("%s=%r" % (k, getattr(self, k)) for k in self.to_dict())
        except PatronError:
            return "Address(<freed>)"


def _address_field(name: Union[str, int]) -> int:
    if isinstance(name, int):
        return name
    try:
        return address_field_ids()[name]
    except KeyError:
        raise InvalidValue("unknown address field %r" % (name,), code=_ffi.E_INVALID) from None


class Addresses(Sequence):  # type: ignore[type-arg]
    """The addresses of a customer, in order: ``len()``, indexing, iteration,
    ``add(**fields)``, ``del addresses[i]``."""

    __slots__ = ("_customer",)

    def __init__(self, customer: Customer) -> None:
        self._customer = customer

    def __len__(self) -> int:
        return int(lib().patron_customer_address_count(self._customer._p))

    @overload
    def __getitem__(self, i: int) -> Address: ...

    @overload
    def __getitem__(self, i: slice) -> List[Address]: ...

    def __getitem__(self, i: Union[int, slice]) -> Union[Address, List[Address]]:
        n = len(self)
        if isinstance(i, slice):
            return [Address(self._customer, k) for k in range(*i.indices(n))]
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("address index out of range")
        return Address(self._customer, i)

    def add(self, **fields: FieldValue) -> Address:
        """Append an address (country "DE", private billing unless given)."""
        idx = c_size_t()
        lib().patron_customer_address_add(self._customer._writable(), byref(idx))
        a = Address(self._customer, idx.value)
        try:
            for k, v in fields.items():
                a.set(k, v)
        except BaseException:
            lib().patron_customer_address_remove(self._customer._p, idx.value)
            raise
        return a

    def __delitem__(self, i: int) -> None:
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("address index out of range")
        lib().patron_customer_address_remove(self._customer._writable(), i)

    def clear(self) -> None:
        while len(self):
            del self[len(self) - 1]

    def to_list(self) -> List[Dict[str, str]]:
        return [a.to_dict() for a in self]

    def __repr__(self) -> str:
        return "Addresses(%r)" % (self.to_list(),)


class Tags(MutableSet):  # type: ignore[type-arg]
    """The tags of a customer: a set that keeps its order."""

    __slots__ = ("_customer",)

    def __init__(self, customer: Customer) -> None:
        self._customer = customer

    def __len__(self) -> int:
        return int(lib().patron_customer_tag_count(self._customer._p))

    def __iter__(self) -> Iterator[str]:
        p = self._customer._p
        return iter([lib().patron_customer_tag_get(p, i).decode() for i in range(len(self))])

    def __contains__(self, tag: object) -> bool:
        return tag in list(self)

    def add(self, tag: str) -> None:
        lib().patron_customer_tag_add(self._customer._writable(), enc(tag))

    def discard(self, tag: str) -> None:
        if tag in self:
            lib().patron_customer_tag_remove(self._customer._writable(), enc(tag))

    def __repr__(self) -> str:
        return "Tags(%r)" % (list(self),)


class Properties(MutableMapping):  # type: ignore[type-arg]
    """The custom properties of a customer: a dict of str to str."""

    __slots__ = ("_customer",)

    def __init__(self, customer: Customer) -> None:
        self._customer = customer

    def __len__(self) -> int:
        return int(lib().patron_customer_prop_count(self._customer._p))

    def _items(self) -> List[Tuple[str, str]]:
        p = self._customer._p
        out = []
        for i in range(len(self)):
            k, v = c_char_p(), c_char_p()
            lib().patron_customer_prop_at(p, byref(k), byref(v), i)
            out.append((k.value.decode(), (v.value or b"").decode()))  # type: ignore[union-attr]
        return out

    def __iter__(self) -> Iterator[str]:
        return iter([k for k, _ in self._items()])

    def __getitem__(self, key: str) -> str:
        v = lib().patron_customer_prop_get(self._customer._p, enc(key))
        if v is None:
            raise KeyError(key)
        return str(v.decode())

    def __setitem__(self, key: str, value: str) -> None:
        if value is None:
            raise InvalidValue("a property value cannot be None; use del", code=_ffi.E_INVALID)
        lib().patron_customer_prop_set(self._customer._writable(), enc(key), enc(str(value)))

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        lib().patron_customer_prop_set(self._customer._writable(), enc(key), None)

    def __repr__(self) -> str:
        return "Properties(%r)" % (dict(self._items()),)


# keep ctypes referenced for type checkers that look at module attributes
_ = ctypes
