"""One pool of idle Keras "engines", bounded by bytes, for every experiment in the worker.

TensorFlow never gives back the memory of a traced function, so a new model,
optimizer and tf.function per request would grow the worker by megabytes per
click. Every experiment therefore keeps its traced pieces in an engine (any
object holding a model, an optimizer, variables and traced functions) and lends
it out by key: requests whose graphs have the same shape borrow the same
engine, reset it with their own seeded weights, and give it back.

Idle engines cost their variables' bytes (weights and optimizer slots: a 10 x
1,024 Adam engine holds about 160 MB), so the pool evicts the least recently
used ones once the idle bytes pass a budget. Evicting frees the variables; only
replacing the worker (lab.service) frees traced graphs as well.
"""

from __future__ import annotations

import collections
import threading
from contextlib import contextmanager
from typing import Callable, Hashable, Iterator

import numpy as np

from lab.cache import int_from_env

MB = 1024 * 1024
IDLE_ENGINE_MB_ENV = "OPTLAB_IDLE_ENGINE_MB"
# Measured: the worker idles at about 740 MB with its default engines, and is
# replaced at 1,400 MB (lab.service), so idle engines may keep about a third
# of the gap; a lecture's usual engines (the 300/100 model, small 2-D steps)
# are a few MB each and all fit.
DEFAULT_IDLE_ENGINE_MB = 240
# What a traced graph and its Python objects add beyond the variables: about
# 1 to 9 MB measured per traced function; one typical value is charged.
TRACED_GRAPH_BYTES = 4 * MB


def _variables_of(value) -> list:
    """The Keras variables a model, an optimizer or a variable attribute holds."""
    import keras

    if isinstance(value, keras.Variable):
        return [value]
    if isinstance(value, keras.Model):
        optimizer = getattr(value, "optimizer", None)
        return list(value.variables) + (_variables_of(optimizer) if optimizer is not None else [])
    if isinstance(value, keras.optimizers.Optimizer):
        return list(value.variables)
    return []


def engine_bytes(engine: object) -> int:
    """Estimate the memory an idle engine keeps: its variables plus one traced graph.

    Args:
        engine: a Keras model, or an object whose attributes hold models, optimizers or variables.
    Returns:
        bytes.
    """
    values = [engine] + list(getattr(engine, "__dict__", {}).values())
    seen, total = set(), TRACED_GRAPH_BYTES
    for value in values:
        for variable in _variables_of(value):
            if id(variable) not in seen:
                seen.add(id(variable))
                total += int(np.prod(variable.shape)) * np.dtype(variable.dtype).itemsize
    return total


class EnginePool:
    """Idle engines by key, lent to one request at a time and evicted oldest first past a byte budget."""

    def __init__(self, max_idle_bytes: int):
        self.max_idle_bytes = max_idle_bytes
        # key -> list of (engine, bytes); the order is least recently given back first.
        self._idle: "collections.OrderedDict[Hashable, list[tuple[object, int]]]" = collections.OrderedDict()
        self._lock = threading.Lock()
        self.created = 0  # engines built so far: each one traced new graphs
        self.evicted = 0

    def take(self, key: Hashable, create: Callable[[], object]) -> object:
        """Lend an idle engine with this key, or a new one from `create()`.

        Args:
            key: engines with equal keys are interchangeable (the borrower resets them).
            create: builds an engine when none is idle; called outside the lock.
        Returns:
            the engine; give it back with `give_back(key, engine)`.
        """
        with self._lock:
            entries = self._idle.get(key)
            engine = entries.pop()[0] if entries else None
            if entries is not None and not entries:
                del self._idle[key]
        if engine is None:
            engine = create()
            with self._lock:
                self.created += 1
        return engine

    def give_back(self, key: Hashable, engine: object) -> None:
        """Return a lent engine, then evict the least recently used idle engines past the byte budget.

        Args:
            key: the key it was taken with.
            engine: the engine.
        """
        size = engine_bytes(engine)  # a walk over a few dozen variables, outside the lock
        with self._lock:
            self._idle.setdefault(key, []).append((engine, size))
            self._idle.move_to_end(key)
            while self._idle and self._idle_bytes() > self.max_idle_bytes:
                oldest = next(iter(self._idle))
                self._idle[oldest].pop(0)
                self.evicted += 1
                if not self._idle[oldest]:
                    del self._idle[oldest]

    @contextmanager
    def borrow(self, key: Hashable, create: Callable[[], object]) -> Iterator[object]:
        """Lend an engine for the body of a `with` block, and give it back even if the body raises.

        Args:
            key: engines with equal keys are interchangeable.
            create: builds an engine when none is idle.
        Returns:
            a context manager yielding the engine.
        """
        engine = self.take(key, create)
        try:
            yield engine
        finally:
            # Also after an interruption: every borrower resets the engine before using it.
            self.give_back(key, engine)

    def _idle_bytes(self) -> int:
        return sum(size for entries in self._idle.values() for _, size in entries)

    def idle(self, key: Hashable = None) -> list:
        """The idle engines, of one key or of all.

        Args:
            key: a key, or None for every key.
        Returns:
            a list of engines, least recently used first.
        """
        with self._lock:
            keys = [key] if key is not None else list(self._idle)
            return [engine for name in keys for engine, _ in self._idle.get(name, [])]

    def stats(self) -> dict:
        """Counts for benchmarks and tests.

        Returns:
            a dict with idle engines, idle megabytes, engines created and engines evicted.
        """
        with self._lock:
            return {"idle": sum(len(entries) for entries in self._idle.values()),
                    "idle_mb": round(self._idle_bytes() / MB, 1), "created": self.created,
                    "evicted": self.evicted}


# The one pool of the process (the training worker); every experiment borrows from it.
ENGINES = EnginePool(int_from_env(IDLE_ENGINE_MB_ENV, DEFAULT_IDLE_ENGINE_MB, 16, 64_000) * MB)
