"""The blocks of an export on their way to the loader: aligned on invoices, and read ahead by a thread."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def invoice_aligned(blocks: Iterator[pa.Table]) -> Iterator[pa.Table]:
    """The same lines, with each block's trailing invoice moved to the next block.

    Identical lines share their invoice, and exports list an invoice's lines together: aligned blocks keep
    the copies of a line in one block, where the fast path numbers them.
    """
    carry: pa.Table | None = None
    for block in blocks:
        if carry is not None:
            block = pa.concat_tables([carry, block])
            carry = None
        rows = block.num_rows
        if not rows:
            continue
        invoices = block.column("invoice_no")
        last = invoices[rows - 1]
        if last.is_valid:
            same = pc.fill_null(pc.equal(invoices, last), False).to_numpy(zero_copy_only=False)
            others = np.flatnonzero(~same)
            cut = int(others[-1]) + 1 if len(others) else rows
            if cut < rows:
                carry = block.slice(cut)
                block = block.slice(0, cut)
        yield block
    if carry is not None:
        yield carry


_DONE = object()


def prefetched(items: Iterator, depth: int = 1) -> Iterator:
    """``items`` produced by a worker thread, at most ``depth`` ahead: reading, parsing and typing the next
    blocks (Arrow releases the GIL, and the rest runs while the main thread waits on the server) overlaps
    with PostgreSQL writing the current one. Exceptions reach the consumer; closing it stops the worker."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        handoff.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            handoff.put((_DONE, None))
        except BaseException as error:  # handed to the consumer, raised there
            handoff.put((_DONE, error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def consume() -> Iterator:
        worker = threading.Thread(target=work, name="retail-load-reader", daemon=True)
        worker.start()
        try:
            while True:
                item, error = handoff.get()
                if error is not None:
                    raise error
                if item is _DONE:
                    return
                yield item
        finally:
            stop.set()
            while worker.is_alive():
                with contextlib.suppress(queue.Empty):
                    handoff.get(timeout=0.1)
            worker.join()

    return consume()
