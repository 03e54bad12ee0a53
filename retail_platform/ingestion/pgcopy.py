"""PostgreSQL's binary COPY format, built with Arrow and numpy: whole columns of fields at a time.

Binary, because the server then stores the values as they are sent: parsing timestamps and numbers from text
is a third of a text COPY's work. Each field is PostgreSQL's send/recv format of its type, preceded by its
size; a row is a field count and its fields (see "Binary Format" of PostgreSQL's COPY documentation).
"""

from __future__ import annotations

import io
import struct

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
COPY_TRAILER = b"\xff\xff"
NULL_FIELD = b"\xff\xff\xff\xff"  # field length -1
PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01, PostgreSQL's zero for timestamps, in Unix microseconds


def fixed_size(records: np.ndarray) -> pa.Array:
    """Records of a numpy structured array as a binary array, one record per value."""
    size = records.dtype.itemsize
    offsets = np.arange(0, size * (len(records) + 1), size, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.binary(), len(records), [None, pa.py_buffer(offsets), pa.py_buffer(records.tobytes())]
    )


def number_fields(values: pa.Array, dtype: str) -> pa.Array:
    """Integers as binary fields: their size, then the big-endian value; NULL stays NULL."""
    width = np.dtype(dtype).itemsize
    records = np.empty(len(values), dtype=[("size", ">i4"), ("value", dtype)])
    records["size"] = width
    records["value"] = pc.fill_null(values, 0).to_numpy()
    fields = fixed_size(records)
    return (
        pc.if_else(pc.is_null(values), pa.scalar(None, pa.binary()), fields) if values.null_count else fields
    )


def text_fields(values: pa.Array) -> pa.Array:
    """Text as binary fields: the size in bytes, then the UTF-8 bytes; NULL stays NULL."""
    sizes = np.empty(len(values), dtype=[("size", ">i4")])
    sizes["size"] = pc.fill_null(pc.binary_length(values), 0).to_numpy()
    return pc.binary_join_element_wise(fixed_size(sizes), values.cast(pa.binary()), b"")


def numeric_fields(decimals: pa.Array) -> pa.Array:
    """Plain decimals in canonical text (no leading or trailing zeros, no ``-0``) as binary numeric fields:
    digit count, weight, sign and display scale (int2 each), then the base-10000 digits."""
    return pa.array([numeric_field(value) for value in decimals.to_pylist()], pa.binary())


def numeric_field(text: str) -> bytes:
    """One plain decimal (``-12.5``) as a binary numeric field."""
    negative = text.startswith("-")
    whole, _, fraction = text.lstrip("-").partition(".")
    digits = whole.zfill(-(-len(whole) // 4) * 4) + fraction.ljust(-(-len(fraction) // 4) * 4, "0")
    groups = [int(digits[start : start + 4]) for start in range(0, len(digits), 4)]
    weight = -(-len(whole) // 4) - 1
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        weight = 0
    header = struct.pack(">hhHh", len(groups), weight, 0x4000 if negative and groups else 0, len(fraction))
    body = header + struct.pack(f">{len(groups)}h", *groups)
    return struct.pack(">i", len(body)) + body


def string_data(values: pa.Array) -> memoryview:
    """The concatenated bytes of a string array's values, without a copy (the view keeps them alive)."""
    offsets = np.frombuffer(
        values.buffers()[1], dtype=np.int32, count=len(values) + 1, offset=values.offset * 4
    )
    return memoryview(values.buffers()[2][offsets[0] : offsets[-1]])


def write_binary(copy: psycopg.Copy, rows: memoryview) -> None:
    """Binary COPY rows (without header and trailer) into an open ``COPY ... (FORMAT binary)``."""
    copy.write(COPY_HEADER)
    copy.write(rows)
    copy.write(COPY_TRAILER)


def csv_bytes(table: pa.Table) -> bytes:
    """A table as CSV for a text COPY: strings quoted, NULL as an empty unquoted field."""
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return sink.getvalue()
