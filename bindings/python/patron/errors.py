"""Exceptions: one class per patron_status, all below :class:`PatronError`."""
from __future__ import annotations

from typing import Dict, Optional, Type


class PatronError(Exception):
    """A call into libpatron failed.  ``code`` is the patron_status (negative),
    ``message`` the library's message for the handle, ``function`` the C
    function that failed."""

    code: int = 0

    def __init__(self, message: str = "", code: Optional[int] = None, function: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.function = function

    def __str__(self) -> str:
        return self.message or type(self).__name__


class OutOfMemory(PatronError, MemoryError):
    code = -1


class InvalidValue(PatronError, ValueError):
    """PATRON_E_INVALID: an argument or field value is not acceptable."""
    code = -2


class NotFound(PatronError, LookupError):
    """PATRON_E_NOT_FOUND.  A Python store raises it (or returns None from
    load) to say "no such record / entry"."""
    code = -3


class AlreadyExists(PatronError):
    """PATRON_E_EXISTS: number or external reference taken, number used before.
    A Python store raises it from claim_number for a number claimed before."""
    code = -4


class Conflict(PatronError):
    """PATRON_E_CONFLICT: the record changed since it was loaded."""
    code = -5


class StoreError(PatronError):
    """PATRON_E_STORE: a store callback failed.  For a store written in
    Python, ``__cause__`` is the exception the callback raised."""
    code = -6


class Unsupported(PatronError):
    """PATRON_E_UNSUPPORTED: the store lacks an optional callback this needs
    (or the SQLite store library is not available)."""
    code = -7


class AbiError(PatronError):
    code = -8


class StateError(PatronError):
    """PATRON_E_STATE: not allowed in the record's (or object's) current state."""
    code = -9


class Ambiguous(PatronError):
    """PATRON_E_AMBIGUOUS: a lookup that must give one customer gives several."""
    code = -10


class RangeError(PatronError, IndexError):
    code = -11


class Locked(PatronError):
    """PATRON_E_LOCKED: the customer is locked."""
    code = -12


class LibraryNotFound(PatronError, ImportError):
    """libpatron could not be loaded (set PATRON_LIBRARY)."""


class VersionMismatch(PatronError, ImportError):
    """The loaded libpatron is not the version this binding was written for."""


_BY_CODE: Dict[int, Type[PatronError]] = {
    cls.code: cls
    for cls in (OutOfMemory, InvalidValue, NotFound, AlreadyExists, Conflict, StoreError, Unsupported,
                AbiError, StateError, Ambiguous, RangeError, Locked)
}


def error_for(code: int, message: str, function: Optional[str] = None) -> PatronError:
    """The exception for a patron_status."""
    cls = _BY_CODE.get(code, PatronError)
    return cls(message, code=code, function=function)
