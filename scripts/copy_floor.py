"""What PostgreSQL itself needs to store the lines in the shape of ``raw.transactions``, with no loader at all.

A companion of ``retail-platform bench`` (issue 6 asks for a load within 1.5 x a bare COPY). It takes the
benchmark's CSV file, prepares in memory (untimed) the COPY text the table contract needs per line (the eight
canonical values, ``line_id``, ``line_hash``, ``occurrence``, ``source_file``, ``source_export``,
``source_row``, ``load_id``; ``loaded_at`` by default), and times, in a scratch database on the same server:

- ``bare``: the benchmark's reference, the CSV bytes into a fresh unlogged table of the eight columns;
- ``contract``: the prepared rows into a table of ``raw.transactions``' columns, created in the same
  transaction (so ``COPY FREEZE`` and, with ``wal_level = minimal``, no WAL: the cheapest way PostgreSQL
  offers), without indexes;
- then each index of ``raw.transactions`` built once on it, and the commit (the new files' fsync);
- ``minimal``: the same for the least SPEC §5 asks of the table (the eight values, source file, source row,
  load id, ``loaded_at`` by default) and the cheapest index that can find a line's possible earlier copies
  (identical lines share their invoice: a B-tree on ``invoice_no``, bytewise), then the commit.

Each sum is the floor of any loader that writes such a table durably with an index to check line identity
against, whatever it does on the client side: the client's work runs in parallel on the other core and is not
counted here.

    .venv/bin/python scripts/copy_floor.py URL CSV_FILE [--repeat 3]

URL names any database on the server (the embedded one: ``postgresql://postgres@/retail?host=<pgdata>``);
a scratch database ``retail_floor_<random>`` is created and dropped.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time
import uuid

import psycopg

_EIGHT = (
    "invoice_no text, stock_code text, description text, quantity integer, invoice_date timestamp, "
    "unit_price numeric, customer_id integer, country text"
)
_CONTRACT = (
    f"line_id bigint NOT NULL, {_EIGHT}, line_hash uuid NOT NULL, occurrence integer NOT NULL, "
    "source_file text NOT NULL, source_export text NOT NULL, source_row bigint NOT NULL, load_id bigint NOT NULL, "
    "loaded_at timestamptz NOT NULL DEFAULT now()"
)
_CONTRACT_COLUMNS = (
    "line_id, invoice_no, stock_code, description, quantity, invoice_date, unit_price, customer_id, country, "
    "line_hash, occurrence, source_file, source_export, source_row, load_id"
)
_MINIMAL = (
    f"{_EIGHT}, source_file text NOT NULL, source_row bigint NOT NULL, load_id bigint NOT NULL, "
    "loaded_at timestamptz NOT NULL DEFAULT now()"
)
_INDEXES = {
    "primary key (line_id)": "ALTER TABLE floor_rows ADD PRIMARY KEY (line_id)",
    "unique (line_hash, occurrence)": "CREATE UNIQUE INDEX ON floor_rows (line_hash, occurrence)",
    "brin (load_id)": "CREATE INDEX ON floor_rows USING brin (load_id) WITH (pages_per_range = 32)",
}


def contract_rows(csv_bytes: bytes, name: str) -> tuple[bytes, bytes]:
    """The file's lines as COPY rows of the contract's columns (occurrence numbers per identical line), and
    as rows of the minimal columns."""
    body = csv_bytes[csv_bytes.index(b"\n") + 1 :]
    quoted = b'"' + name.encode() + b'"'
    seen: dict[bytes, int] = {}
    contract, minimal = [], []
    for row, line in enumerate(body.splitlines(), start=2):
        digest = hashlib.md5(line).hexdigest().encode()
        seen[digest] = occurrence = seen.get(digest, 0) + 1
        contract.append(b"%d,%s,%s,%d,%s,%s,%d,1\n" % (row, line, digest, occurrence, quoted, quoted, row))
        minimal.append(b"%s,%s,%d,1\n" % (line, quoted, row))
    return b"".join(contract), b"".join(minimal)


def _copy(conn: psycopg.Connection, statement: str, payload: bytes) -> float:
    started = time.perf_counter()
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for offset in range(0, len(payload), 1 << 20):
            copy.write(payload[offset : offset + (1 << 20)])
    return time.perf_counter() - started


def measure(url: str, csv_bytes: bytes, rows: bytes, minimal_rows: bytes) -> dict[str, float]:
    times: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        conn.execute("DROP TABLE IF EXISTS floor_bare")
        conn.execute(f"CREATE UNLOGGED TABLE floor_bare ({_EIGHT})")
        times["bare"] = _copy(conn, "COPY floor_bare FROM STDIN (FORMAT csv, HEADER true)", csv_bytes)
        conn.execute("DROP TABLE floor_bare")
        conn.execute("CHECKPOINT")
        conn.execute("DROP TABLE IF EXISTS floor_rows")
        with conn.transaction():
            conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
            conn.execute(f"CREATE TABLE floor_rows ({_CONTRACT})")
            times["contract"] = _copy(
                conn, f"COPY floor_rows ({_CONTRACT_COLUMNS}) FROM STDIN (FORMAT csv, FREEZE)", rows
            )
            for label, statement in _INDEXES.items():
                started = time.perf_counter()
                conn.execute(statement)
                times[label] = time.perf_counter() - started
            started = time.perf_counter()
        times["commit"] = time.perf_counter() - started
        conn.execute("DROP TABLE floor_rows")
        conn.execute("CHECKPOINT")
        started = time.perf_counter()
        with conn.transaction():
            conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
            conn.execute(f"CREATE TABLE floor_minimal ({_MINIMAL})")
            times["minimal"] = _copy(
                conn,
                "COPY floor_minimal (invoice_no, stock_code, description, quantity, invoice_date, unit_price, "
                "customer_id, country, source_file, source_row, load_id) FROM STDIN (FORMAT csv, FREEZE)",
                minimal_rows,
            )
            conn.execute('CREATE INDEX ON floor_minimal (invoice_no COLLATE "C")')
        times["minimal, with its index and commit"] = time.perf_counter() - started
        conn.execute("DROP TABLE floor_minimal")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url")
    parser.add_argument("csv_file")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with open(args.csv_file, "rb") as stream:
        csv_bytes = stream.read()
    rows, minimal_rows = contract_rows(csv_bytes, args.csv_file.rsplit("/", 1)[-1])
    scratch = f"retail_floor_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{scratch}"')
    try:
        url = psycopg.conninfo.make_conninfo(args.url, dbname=scratch)
        runs = [measure(url, csv_bytes, rows, minimal_rows) for _ in range(args.repeat)]
    finally:
        with psycopg.connect(args.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    medians = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    bare = medians.pop("bare")
    minimal_copy = medians.pop("minimal")
    minimal_total = medians.pop("minimal, with its index and commit")
    print(f"{len(rows.splitlines()):,} lines, medians of {args.repeat}")
    print(f"  bare COPY (reference)                      {bare:6.2f} s   1.00 x")
    total = 0.0
    for label, seconds in medians.items():
        total += seconds
        print(f"  {label:<42} {seconds:6.2f} s   {seconds / bare:4.2f} x")
    print(f"  floor of raw.transactions as it is          {total:6.2f} s   {total / bare:4.2f} x")
    print(
        f"  minimal table: COPY                         {minimal_copy:6.2f} s   {minimal_copy / bare:4.2f} x"
    )
    print(
        f"  floor of the minimal table, in total        {minimal_total:6.2f} s   {minimal_total / bare:4.2f} x"
    )


if __name__ == "__main__":
    main()
