#!/usr/bin/env python3
"""What pi-crm's schema costs an import at best (issue 35; docs/benchmarks.md, session 25).

Writes the rows of a finished import again, into a fresh copy of pi-crm's schema, the cheapest
way SQLite allows: pre-built rows, foreign keys and the journal's triggers off, custom values
sorted in the order of one index, search documents in one statement — optionally all in one
transaction and with a page cache larger than pi-crm's 2 MB. Whatever pi-crm's own import does
(parse, validate, take turns with writers), it cannot be faster than this.

Needs SQLite 3.51 as pi-crm bundles it: `python3 -m venv /tmp/sqlvenv &&
/tmp/sqlvenv/bin/pip install pysqlite3-binary`. Inputs, both made by pi-crm itself:

  SOURCE  a database after `pi-crm import` of the bench's 100k-row file into workspace "Imported"
          (`BENCH_KEEP_DATA=1 ./scripts/bench imports` keeps one, or import by the CLI);
  FRESH   a database with the same user and an empty workspace "Imported", nothing imported.

Usage: import-floor.py SOURCE FRESH CACHE_KB ROWS_PER_TRANSACTION [INDEX,INDEX…]
  The indexes listed are dropped first, to see what each costs. PKORDER=1 in the environment
  sorts the custom values by the table's key instead of by `custom_fields_lookup`.
"""
import os
import shutil
import sys
import time

import pysqlite3.dbapi2 as sqlite3

SEARCH_DOCUMENT = """INSERT INTO contact_search (rowid, body) SELECT c.rowid,
    coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '') || ' ' || coalesce(c.primary_email, '')
    || ' ' || coalesce(c.primary_phone, '') || ' ' || coalesce(c.company, '') || ' ' ||
    coalesce((SELECT group_concat(v.field_value, ' ') FROM custom_fields v WHERE v.contact_id = c.id), '')
    FROM base_contacts c WHERE c.id IN (SELECT id FROM temp.ids)"""


def main():
    source, fresh, cache, per_txn = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    dropped = sys.argv[5].split(",") if len(sys.argv) > 5 else []
    src = sqlite3.connect(source)
    contacts = src.execute(
        "SELECT id, created_on, first_name, last_name, primary_email, primary_phone, company"
        " FROM base_contacts ORDER BY id"
    ).fetchall()
    values = {}
    for v in src.execute("SELECT contact_id, field_name, field_value FROM custom_fields"):
        values.setdefault(v[0], []).append(v)

    db = "/tmp/import-floor.db"
    for ext in ["", "-wal", "-shm"]:
        if os.path.exists(db + ext):
            os.remove(db + ext)
    shutil.copy(fresh, db)
    c = sqlite3.connect(db, isolation_level=None)
    for pragma in ["journal_mode = wal", "synchronous = normal", f"cache_size = -{cache}", "foreign_keys = off"]:
        c.execute(f"PRAGMA {pragma}")
    ws = c.execute("SELECT id FROM workspaces WHERE name = 'Imported'").fetchone()[0]
    # An import sets these aside while it writes hidden contacts (storage::paused_triggers).
    for trigger in ["contact_changes_on_insert", "contact_changes_on_value_insert"]:
        c.execute(f"DROP TRIGGER {trigger}")
    # As an import's transactions write the search index (SearchIndexUse::ManyTransactions).
    c.execute("INSERT INTO contact_search (contact_search, rank) VALUES ('automerge', 0)")
    c.execute("INSERT INTO contact_search (contact_search, rank) VALUES ('crisismerge', 8)")
    for index in dropped:
        c.execute(f"DROP INDEX {index}")
    c.execute("CREATE TEMP TABLE ids (id TEXT PRIMARY KEY)")

    if os.environ.get("PKORDER"):
        order = lambda v: (v[0], v[1])  # noqa: E731
    else:
        order = lambda v: (v[1], v[2], v[0])  # noqa: E731
    steps = {}

    def step(name, work):
        t = time.perf_counter()
        work()
        steps[name] = steps.get(name, 0.0) + time.perf_counter() - t

    for start in range(0, len(contacts), per_txn):
        chunk = contacts[start : start + per_txn]
        ids = [r[0] for r in chunk]
        batch = sorted((v for i in ids for v in values.get(i, [])), key=order)
        c.execute("BEGIN IMMEDIATE")
        step("contacts", lambda: c.executemany(
            "INSERT INTO base_contacts (id, workspace_id, created_on, first_name, last_name, primary_email,"
            " primary_phone, company, import_pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'floor')",
            [(r[0], ws) + tuple(r[1:]) for r in chunk]))
        step("import items", lambda: c.executemany(
            "INSERT INTO import_items (import_id, workspace_id, contact_id, action) VALUES ('floor', ?, ?, 'created')",
            [(ws, i) for i in ids]))
        step("custom values", lambda: c.executemany(
            "INSERT INTO custom_fields (contact_id, workspace_id, field_name, field_value, updated_at)"
            " VALUES (?, ?, ?, ?, '2026-12-08T00:00:00Z')",
            [(v[0], ws, v[1], v[2]) for v in batch]))
        c.execute("DELETE FROM temp.ids")
        c.executemany("INSERT INTO temp.ids VALUES (?)", [(i,) for i in ids])
        step("search documents", lambda: c.execute(SEARCH_DOCUMENT))
        step("commit", lambda: c.execute("COMMIT"))
    step("checkpoint", lambda: c.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
    total = sum(steps.values())
    print(
        f"{len(contacts)} contacts, {sum(map(len, values.values()))} values; cache {cache} KB; "
        f"{per_txn} rows a transaction; dropped {','.join(dropped) or 'nothing'}; "
        f"values in {'key' if os.environ.get('PKORDER') else 'lookup'} order: "
        + " · ".join(f"{k} {v:.2f} s" for k, v in steps.items())
        + f" · total {total:.2f} s ({len(contacts) / total:,.0f} rows/s)"
    )


if __name__ == "__main__":
    main()
