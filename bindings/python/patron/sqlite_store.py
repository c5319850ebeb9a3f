"""SqliteStore: a patron store written in Python over the standard library's
``sqlite3`` -- the example of a host-language store.

The host keeps customers in its own database, next to its own tables.  Here
that is one SQLite file (or ``:memory:``) with these tables, each name
after the table prefix (``table_prefix``, default ``pystore_`` -- not
``patron_``, the prefix of libpatron-sqlite's tables, which have another
layout; a table of the other layout under our prefix is refused):

    customers     (id, number, state, locked, customer_group, email, last_name,
                   record BLOB)    -- the whole record as patron_record_pack()
                                   -- bytes; the other columns are for the
                                   -- host's own queries (and scan's filter)
    customer_keys (kind, value, customer_id)   -- patron's index keys
    used_numbers  (number)         -- never emptied: numbers are never reused
    counters      (name, value)    -- 'customer_number'
    journal       (id, time, kind, customer_id, undone_by, payload)
    meta          (key, value)     -- customer groups
    orders        (order_id, customer_id, total)  -- the host's own table,
                                   -- re-linked by merges in the same transaction

Transactions: every patron call is ``BEGIN IMMEDIATE`` ... ``COMMIT`` (or
``ROLLBACK``).  Inside ``with store.transaction():`` (the host's own
transaction) each call is a SAVEPOINT instead: a failed call undoes exactly
its own work and the host's transaction goes on.

Erasure (``Db.erase``, GDPR Art. 17): the connection runs with ``PRAGMA
secure_delete = ON`` -- set on the host's own connection too -- so the
bytes of a record, key or journal payload that an erasure overwrites or
deletes are zeroed in the file instead of left in free space;
``journal_rewrite`` replaces the before-images of the erased person; and
``purge``, right after the erasure commits, checkpoints and truncates the
write-ahead log when the database is in WAL mode, so no old page stays in
``-wal`` (inside ``store.transaction()``: when it commits; a host that
issues its own BEGIN on the connection calls ``store.purge()`` after its
COMMIT).
"""
from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import time
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from .errors import AlreadyExists, NotFound, StoreError
from .store import JournalEntry, Key, Store, StoreFilter, StoreRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS @customers (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  number TEXT, state TEXT, locked INTEGER NOT NULL DEFAULT 0, customer_group TEXT,
  email TEXT, last_name TEXT,
  record BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS @customer_keys (
  kind INTEGER NOT NULL, value TEXT NOT NULL, customer_id INTEGER NOT NULL,
  PRIMARY KEY (kind, value, customer_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS @customer_keys_customer ON @customer_keys (customer_id);
CREATE TABLE IF NOT EXISTS @used_numbers (number TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS @counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS @journal (
  id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, kind TEXT NOT NULL,
  customer_id INTEGER NOT NULL, undone_by INTEGER NOT NULL DEFAULT 0, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS @meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS @orders (
  order_id TEXT PRIMARY KEY, customer_id INTEGER, total TEXT);
CREATE INDEX IF NOT EXISTS @orders_customer ON @orders (customer_id);
"""

#: The default table prefix: distinct from libpatron-sqlite's ("patron_"),
#: whose tables of the same names have another layout.
DEFAULT_PREFIX = "pystore_"

_PREFIX_RE = re.compile(r"[A-Za-z0-9_]{0,32}", re.ASCII)

TABLES = ("customers", "customer_keys", "used_numbers", "counters", "journal", "meta", "orders")


class SqliteStore(Store):
    """A patron store in a SQLite database through Python's ``sqlite3``.

    ``SqliteStore(path)`` opens (or creates) a file; ``SqliteStore(conn=c)``
    uses the host's own connection (opened with ``isolation_level=None``).
    """

    def __init__(self, path: Union[str, "os.PathLike[str]", None] = ":memory:", *,
                 conn: Optional[sqlite3.Connection] = None, timeout: float = 5.0,
                 table_prefix: str = DEFAULT_PREFIX) -> None:
        if not isinstance(table_prefix, str) or not _PREFIX_RE.fullmatch(table_prefix):
            raise ValueError("table prefix %r is not allowed: use letters, digits and '_', at most 32 bytes"
                             % (table_prefix,))
        self.table_prefix = table_prefix
        self._sql: Dict[str, str] = {}
        if conn is None:
            conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
            self._own_conn = True
        else:
            if conn.isolation_level is not None:
                raise ValueError("SqliteStore needs a connection opened with isolation_level=None "
                                 "(it issues BEGIN / COMMIT itself)")
            self._own_conn = False
        self.conn = conn
        self._depth = 0  # 1 while a patron call runs
        self._host_tx = False
        self._savepoint = False  # the running call is a savepoint in a host transaction
        self._purge_due = False  # an erasure committed inside the host's transaction: purge after it
        # an erasure must not leave the erased values in free space of the file
        conn.execute("PRAGMA secure_delete = ON")
        self._check_layout()
        conn.executescript(SCHEMA.replace("@", table_prefix))

    def _check_layout(self) -> None:
        """Refuse tables under our prefix that have another layout -- those of
        libpatron-sqlite (Db.sqlite) above all, whose customers table has a
        column per field where this store keeps one record blob."""
        p = self.table_prefix
        cols = [r[1] for r in self.conn.execute("SELECT * FROM pragma_table_info(?)", (p + "customers",))]
        if not cols:
            return
        c_store = self.conn.execute("SELECT count(*) FROM sqlite_master WHERE name = ?",
                                    (p + "schema",)).fetchone()[0]
        if "record" not in cols:
            raise StoreError(
                "the table %scustomers has another layout than SqliteStore's%s: open it with "
                "patron.Db.sqlite(), or give SqliteStore another table_prefix (default %r)"
                % (p, " (it is libpatron-sqlite's, see Db.sqlite)" if c_store else "", DEFAULT_PREFIX))

    def _exec(self, sql: str, args: Any = ()) -> sqlite3.Cursor:
        """Run `sql` with '@' standing for the table prefix."""
        real = self._sql.get(sql)
        if real is None:
            real = self._sql[sql] = sql.replace("@", self.table_prefix)
        return self.conn.execute(real, args)

    def _execmany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        return self.conn.executemany(sql.replace("@", self.table_prefix), rows)

    # ---- the host's side ----

    def close(self) -> None:
        if self._own_conn and self.conn is not None:
            self.conn.close()
        self.conn = None  # type: ignore[assignment]

    def __enter__(self) -> "SqliteStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The host's own transaction: patron calls inside it become
        savepoints, and nothing is durable before the block ends."""
        if self._host_tx:
            raise RuntimeError("a host transaction is already open")
        self._exec("BEGIN IMMEDIATE")
        self._host_tx = True
        try:
            yield self.conn
        except BaseException:
            self._host_tx = False
            self._exec("ROLLBACK")
            raise
        self._host_tx = False
        self._exec("COMMIT")
        if self._purge_due:
            self._purge_due = False
            self._purge_wal()

    def add_order(self, order_id: str, customer_id: int, total: str = "0.00") -> None:
        """Record an order of the host (outside any patron call)."""
        self._exec("INSERT INTO @orders (order_id, customer_id, total) VALUES (?, ?, ?)",
                          (order_id, customer_id, total))

    def orders_of(self, customer_id: int) -> List[str]:
        return [r[0] for r in self._exec(
            "SELECT order_id FROM @orders WHERE customer_id = ? ORDER BY order_id", (customer_id,))]

    def order_owner(self, order_id: str) -> int:
        row = self._exec("SELECT customer_id FROM @orders WHERE order_id = ?", (order_id,)).fetchone()
        return int(row[0]) if row else 0

    def dump(self) -> List[Tuple[str, List[Tuple[Any, ...]]]]:
        """Every row of every table, in a fixed order (to compare states)."""
        out = []
        for t in TABLES:
            rows = self._exec("SELECT * FROM @%s ORDER BY 1, 2, 3" % t if t == "customer_keys"
                              else "SELECT * FROM @%s ORDER BY 1" % t).fetchall()
            out.append((t, rows))
        seq = self._exec("SELECT name, seq FROM sqlite_sequence ORDER BY name").fetchall()
        out.append(("sqlite_sequence", seq))
        return out

    # ---- transactions ----

    def begin(self) -> None:
        if self._depth:
            raise RuntimeError("transactions do not nest")
        # inside the host's transaction (ours, or its own BEGIN on the
        # connection) a call is a savepoint: it undoes only its own work
        self._savepoint = self._host_tx or self.conn.in_transaction
        if self._savepoint:
            self._exec("SAVEPOINT patron_call")
        else:
            self._exec("BEGIN IMMEDIATE")
        self._depth = 1

    def commit(self) -> None:
        if self._savepoint:
            self._exec("RELEASE patron_call")
        else:
            self._exec("COMMIT")
        self._depth = 0

    def rollback(self) -> None:
        self._depth = 0
        if self._savepoint:
            self._exec("ROLLBACK TO patron_call")
            self._exec("RELEASE patron_call")
        elif self.conn.in_transaction:
            self._exec("ROLLBACK")

    # ---- records ----

    def load(self, id: int) -> Optional[bytes]:
        row = self._exec("SELECT record FROM @customers WHERE id = ?", (id,)).fetchone()
        return bytes(row[0]) if row else None

    @staticmethod
    def _columns(record: StoreRecord) -> Tuple[Any, ...]:
        return (record.get("number"), record.get("state"), 1 if record.locked else 0, record.get("group"),
                record.get("email"), record.get("last_name"))

    def _put_keys(self, id: int, keys: List[Key]) -> None:
        self._exec("DELETE FROM @customer_keys WHERE customer_id = ?", (id,))
        self._execmany("INSERT OR IGNORE INTO @customer_keys (kind, value, customer_id) VALUES (?, ?, ?)",
                              [(k.kind, k.value, id) for k in keys])

    def insert(self, record: StoreRecord, keys: List[Key]) -> int:
        cur = self._exec(
            "INSERT INTO @customers (number, state, locked, customer_group, email, last_name, record) "
            "VALUES (?, ?, ?, ?, ?, ?, x'')", self._columns(record))
        id = int(cur.lastrowid)  # type: ignore[arg-type]
        # the stored record carries its id: load() gives back what was stored
        self._exec("UPDATE @customers SET record = ? WHERE id = ?", (record.pack(id=id), id))
        self._put_keys(id, keys)
        return id

    def update(self, record: StoreRecord, keys: List[Key]) -> None:
        cur = self._exec(
            "UPDATE @customers SET number = ?, state = ?, locked = ?, customer_group = ?, email = ?, "
            "last_name = ?, record = ? WHERE id = ?", self._columns(record) + (record.pack(), record.id))
        if cur.rowcount == 0:
            raise NotFound("no customer %d" % record.id)
        self._put_keys(record.id, keys)

    def remove(self, id: int) -> None:
        cur = self._exec("DELETE FROM @customers WHERE id = ?", (id,))
        if cur.rowcount == 0:
            raise NotFound("no customer %d" % id)
        self._exec("DELETE FROM @customer_keys WHERE customer_id = ?", (id,))

    def lookup(self, kind: int, value: str) -> List[int]:
        return [r[0] for r in self._exec(
            "SELECT customer_id FROM @customer_keys WHERE kind = ? AND value = ? ORDER BY customer_id",
            (kind, value))]

    def scan(self, filter: StoreFilter, after_id: int, limit: int) -> List[int]:
        sql = "SELECT id FROM @customers WHERE id > ?"
        args: List[Any] = [after_id]
        if filter.state is not None:
            sql += " AND state = ?"
            args.append(filter.state)
        if filter.locked is not None:
            sql += " AND locked = ?"
            args.append(1 if filter.locked else 0)
        if filter.group is not None:
            sql += " AND customer_group = ?"
            args.append(filter.group)
        sql += " ORDER BY id LIMIT ?"
        args.append(min(int(limit), 2 ** 62))
        return [r[0] for r in self._exec(sql, args)]

    def next_number(self) -> int:
        self._exec("INSERT OR IGNORE INTO @counters (name, value) VALUES ('customer_number', 0)")
        self._exec("UPDATE @counters SET value = value + 1 WHERE name = 'customer_number'")
        return int(self._exec("SELECT value FROM @counters WHERE name = 'customer_number'").fetchone()[0])

    def claim_number(self, number: str) -> None:
        try:
            self._exec("INSERT INTO @used_numbers (number) VALUES (?)", (number,))
        except sqlite3.IntegrityError:
            raise AlreadyExists("customer number %s was given before" % number) from None

    # ---- the host's references ----

    def relink(self, from_id: int, to_id: int) -> Iterable[Tuple[str, str]]:
        moved = self.orders_of(from_id)
        self._exec("UPDATE @orders SET customer_id = ? WHERE customer_id = ?", (to_id, from_id))
        return [("order", o) for o in moved]

    def move_ref(self, kind: str, ref_id: str, to_id: int) -> None:
        if kind != "order":
            raise NotFound("unknown reference kind %r" % kind)
        cur = self._exec("UPDATE @orders SET customer_id = ? WHERE order_id = ?", (to_id, ref_id))
        if cur.rowcount == 0:
            raise NotFound("no order %s" % ref_id)

    # ---- journal ----

    def journal_append(self, entry: JournalEntry) -> int:
        cur = self._exec(
            "INSERT INTO @journal (time, kind, customer_id, undone_by, payload) VALUES (?, ?, ?, ?, ?)",
            (entry.time or int(time.time()), entry.kind, entry.customer_id, entry.undone_by, entry.payload))
        return int(cur.lastrowid)  # type: ignore[arg-type]

    @staticmethod
    def _entry(row: Tuple[Any, ...]) -> JournalEntry:
        return JournalEntry(id=row[0], time=row[1], kind=row[2], customer_id=row[3], undone_by=row[4],
                            payload=row[5])

    def journal_get(self, id: int) -> Optional[JournalEntry]:
        row = self._exec("SELECT id, time, kind, customer_id, undone_by, payload FROM @journal "
                                "WHERE id = ?", (id,)).fetchone()
        return self._entry(row) if row else None

    def journal_scan(self, after_id: int, limit: int) -> List[JournalEntry]:
        return [self._entry(r) for r in self._exec(
            "SELECT id, time, kind, customer_id, undone_by, payload FROM @journal WHERE id > ? "
            "ORDER BY id LIMIT ?", (after_id, min(int(limit), 2 ** 62)))]

    def journal_set_undone(self, id: int, undone_by: int) -> None:
        cur = self._exec("UPDATE @journal SET undone_by = ? WHERE id = ?", (undone_by, id))
        if cur.rowcount == 0:
            raise NotFound("no journal entry %d" % id)

    def journal_rewrite(self, id: int, payload: str) -> None:
        # secure_delete: the old payload's bytes are zeroed, not left in the page
        cur = self._exec("UPDATE @journal SET payload = ? WHERE id = ?", (payload, id))
        if cur.rowcount == 0:
            raise NotFound("no journal entry %d" % id)

    # ---- after an erasure ----

    def purge(self) -> None:
        if self._host_tx or self.conn.in_transaction:
            # the host's transaction is still open: its commit decides
            self._purge_due = True
            return
        self._purge_wal()

    def _purge_wal(self) -> None:
        """In WAL mode, copy the log into the file and truncate it: the log
        would otherwise keep the pages as they were before the erasure."""
        mode = str(self.conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        if mode != "wal":
            return
        busy, _, _ = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise StoreError("the write-ahead log could not be truncated: another connection is reading; "
                             "the erased values stay in %s-wal until its next checkpoint" % self._file_name())

    def _file_name(self) -> str:
        row = self.conn.execute("PRAGMA database_list").fetchone()
        return str(row[2]) if row and row[2] else "the database"

    # ---- meta ----

    def meta_get(self, key: str) -> Optional[str]:
        row = self._exec("SELECT value FROM @meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def meta_put(self, key: str, value: Optional[str]) -> None:
        if value is None:
            self._exec("DELETE FROM @meta WHERE key = ?", (key,))
        else:
            self._exec("INSERT INTO @meta (key, value) VALUES (?, ?) "
                              "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def meta_scan(self, prefix: str) -> List[Tuple[str, str]]:
        # TEXT compares with memcmp (BINARY): ascending byte order of UTF-8
        return [(k, v) for k, v in self._exec(
            "SELECT key, value FROM @meta WHERE key >= ?1 AND substr(key, 1, length(?1)) = ?1 ORDER BY key",
            (prefix,))]

