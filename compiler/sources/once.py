"""Compute a value once per key, also when several threads ask for it at the same time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")


class OnceMap(Generic[T]):
    """A thread-safe map whose values are computed by the first caller of each key.

    Later callers wait for that first computation and get its result or its exception.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[Hashable, Future[T]] = {}

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = Future()
                self._futures[key] = future
        if owner:
            try:
                future.set_result(compute())
            except BaseException as error:
                future.set_exception(error)
        return future.result()
