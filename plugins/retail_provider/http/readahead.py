"""Overlap the network and the consumer: run an iterator a few items ahead in a thread."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

R = TypeVar("R")


def read_ahead(source: Iterator[R], depth: int) -> Iterator[R]:
    """Run ``source`` in a background thread, ``depth`` items ahead of the consumer.

    Errors of the source are raised in the consumer; closing the consumer stops the thread.
    """
    buffer: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in source:
                while not stop.is_set():
                    try:
                        buffer.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(("end", None))
        except BaseException as exc:  # handed to the consumer
            buffer.put(("error", exc))

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()

    def consume() -> Iterator[R]:
        try:
            while True:
                kind, value = buffer.get()
                if kind == "end":
                    return
                if kind == "error":
                    raise value
                yield value
        finally:
            stop.set()
            thread.join(timeout=30)

    return consume()
