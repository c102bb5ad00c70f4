"""Admission control: at most N trainings at once per server, a fair queue, and no duplicate work.

All Streamlit sessions share one process and, on a free cloud container, about
two cores. `TrainingSlots` caps how many trainings run at the same time
(`OPTLAB_MAX_TRAININGS`, default 2); the others wait in first-come order and
are told their place in the queue through an `on_wait` callback, which is also
where a waiting Streamlit page notices that its user moved on. A slot is
always given back in a `finally`, whether the run completed, diverged, was
cancelled or was interrupted by an exception.

`SharedTraining.train` puts the pieces together: a config already in the
result cache is served at once; a config that another session is training
right now is waited for instead of trained twice; anything else takes a slot.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

from lab.cache import CACHEABLE, RESULT_CACHE, ResultCache, int_from_env
from lab.config import TrainConfig

MAX_TRAININGS_ENV = "OPTLAB_MAX_TRAININGS"
# When set, the counters are written to this JSON file after every request, so the
# class-load benchmark can read them from outside the server process.
STATS_FILE_ENV = "OPTLAB_STATS_FILE"
DEFAULT_MAX_TRAININGS = 2
POLL_SECONDS = 0.25  # how often a waiting session hears its place (and can be interrupted)

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class WaitInfo:
    """What a waiting session is told: its place in the queue, or that it waits for an identical run."""

    kind: str  # "queue" (waiting for a free slot) or "identical" (another session trains this config)
    position: int  # 1 = next in line; 0 for "identical"
    running: int  # trainings running now
    capacity: int  # the cap


@dataclass(frozen=True)
class Served:
    """A training result and how it was obtained."""

    result: object  # lab.training.TrainResult
    source: str  # "trained", "cache" (finished earlier) or "shared" (waited for another session's identical run)


def max_trainings_from_env(environ=None) -> int:
    """The concurrency cap from OPTLAB_MAX_TRAININGS, or 2 when unset or invalid.

    Args:
        environ: mapping to read (os.environ by default).
    Returns:
        an int in [1, 64].
    """
    return int_from_env(MAX_TRAININGS_ENV, DEFAULT_MAX_TRAININGS, 1, 64, environ)


class TrainingSlots:
    """A counting gate with a first-come queue whose waiters can see their place."""

    def __init__(self, capacity: int = DEFAULT_MAX_TRAININGS):
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._condition = threading.Condition()
        self._running = 0
        self._waiting: list[object] = []
        self.peak_running = 0  # the most trainings ever admitted at once

    @property
    def running(self) -> int:
        """Trainings holding a slot now.

        Returns:
            an int in [0, capacity].
        """
        with self._condition:
            return self._running

    @property
    def waiting(self) -> int:
        """Sessions queued for a slot now.

        Returns:
            an int.
        """
        with self._condition:
            return len(self._waiting)

    def _try_admit(self, ticket: object) -> Optional[int]:
        """Admit `ticket` if it is among the first waiters that fit; else return its place (1-based)."""
        position = self._waiting.index(ticket)
        if position < self.capacity - self._running:
            self._waiting.remove(ticket)
            self._running += 1
            self.peak_running = max(self.peak_running, self._running)
            return None
        return position + 1

    @contextmanager
    def slot(self, on_wait: Optional[Callable[[WaitInfo], None]] = None,
             poll_seconds: float = POLL_SECONDS) -> Iterator[None]:
        """Hold one training slot for the body of a `with` block, waiting in line if all are taken.

        Args:
            on_wait: called with a WaitInfo about every `poll_seconds` while waiting; an
                exception it raises (such as Streamlit's rerun signal) leaves the queue cleanly.
            poll_seconds: the interval between on_wait calls.
        Returns:
            a context manager; the slot is released in its `finally`.
        """
        ticket = object()
        admitted = False
        with self._condition:
            self._waiting.append(ticket)
        try:
            while True:
                with self._condition:
                    position = self._try_admit(ticket)
                    if position is None:
                        admitted = True
                        break
                    info = WaitInfo("queue", position, self._running, self.capacity)
                    if on_wait is None:
                        self._condition.wait(timeout=poll_seconds)
                        continue
                on_wait(info)  # outside the lock: it may be slow, or raise
                with self._condition:
                    if self._try_admit(ticket) is None:
                        admitted = True
                        break
                    self._condition.wait(timeout=poll_seconds)
            yield
        finally:
            with self._condition:
                if admitted:
                    self._running -= 1
                elif ticket in self._waiting:
                    self._waiting.remove(ticket)
                self._condition.notify_all()


class _Flight:
    """One training in progress: waiters block on `done`, then read `result` (None if it was cancelled)."""

    def __init__(self):
        self.done = threading.Event()
        self.result = None


class SharedTraining:
    """Cache first, then one training per distinct config at a time, within the slot cap."""

    def __init__(self, slots: TrainingSlots, cache: ResultCache):
        self.slots, self.cache = slots, cache
        self._lock = threading.Lock()
        self._in_flight: dict[TrainConfig, _Flight] = {}
        self._stats_lock = threading.Lock()
        self.trained = 0  # trainings actually run
        self.served_from_cache = 0  # results served from the cache, including waits for identical runs

    def _claim(self, config: TrainConfig) -> tuple["_Flight", bool]:
        with self._lock:
            flight = self._in_flight.get(config)
            if flight is not None:
                return flight, False
            flight = self._in_flight[config] = _Flight()
            return flight, True

    def _release(self, config: TrainConfig, flight: "_Flight") -> None:
        with self._lock:
            if self._in_flight.get(config) is flight:
                del self._in_flight[config]
        flight.done.set()

    def _from_cache(self, config: TrainConfig, source: str) -> Optional[Served]:
        result = self.cache.get(config)
        if result is None:
            return None
        with self._lock:
            self.served_from_cache += 1
        return Served(result, source)

    def _wait_for_identical(self, flight: "_Flight", on_wait, poll_seconds: float) -> None:
        while not flight.done.wait(timeout=poll_seconds):
            if on_wait is not None:
                on_wait(WaitInfo("identical", 0, self.slots.running, self.slots.capacity))

    def train(self, config: TrainConfig, dataset, on_progress=None, should_stop=None,
              on_wait: Optional[Callable[[WaitInfo], None]] = None, trainer=None,
              poll_seconds: float = POLL_SECONDS) -> Served:
        """Train `config`, or serve it from the cache or from another session's identical run.

        Args:
            config: the run's settings.
            dataset: the shared Dataset.
            on_progress: passed to the trainer (lab.training.train's TrainProgress callback).
            should_stop: passed to the trainer.
            on_wait: told the queue position while waiting (see TrainingSlots.slot).
            trainer: the training function, lab.training.train by default.
            poll_seconds: how often on_wait is called.
        Returns:
            a Served with the result and whether it was trained, cached or shared.
        """
        try:
            return self._train(config, dataset, on_progress, should_stop, on_wait, trainer, poll_seconds)
        finally:
            self.write_stats()

    def _train(self, config, dataset, on_progress, should_stop, on_wait, trainer, poll_seconds) -> Served:
        if trainer is None:
            from lab.training import train as trainer  # TensorFlow loads here, not on import

        served = self._from_cache(config, "cache")
        if served is not None:
            return served
        while True:
            flight, owner = self._claim(config)
            if owner:
                break
            self._wait_for_identical(flight, on_wait, poll_seconds)
            # Handed over directly, so waiters get it even with the cache off or already evicted.
            if flight.result is not None:
                with self._lock:
                    self.served_from_cache += 1
                return Served(flight.result, "shared")
            # The other session's run was cancelled or failed: train it ourselves.
        try:
            served = self._from_cache(config, "cache")  # finished between our look-up and our claim
            if served is not None:
                return served
            with self.slots.slot(on_wait, poll_seconds):
                result = trainer(config, dataset, on_progress=on_progress, should_stop=should_stop)
            with self._lock:
                self.trained += 1
            self.cache.put(result)
            if result.stop_reason in CACHEABLE:
                flight.result = result
            return Served(result, "trained")
        finally:
            self._release(config, flight)

    def write_stats(self) -> None:
        """Write `stats()` to the file named by OPTLAB_STATS_FILE, if that is set."""
        path = os.environ.get(STATS_FILE_ENV)
        if not path:
            return
        # One writer at a time, so the last file written holds the latest counters.
        with self._stats_lock:
            temporary = f"{path}.tmp"
            try:
                with open(temporary, "w") as handle:
                    json.dump(self.stats(), handle)
                os.replace(temporary, path)  # readers never see half a file
            except OSError as error:
                # The stats file is for dashboards: failing to write it must not cost a student's run.
                _LOG.warning("could not write %s: %s", path, error)
                with suppress(OSError):
                    os.remove(temporary)

    def stats(self) -> dict[str, int]:
        """Counters for dashboards and the class-load benchmark.

        Returns:
            dict with trained, served_from_cache, running, waiting, capacity, peak_running and cached.
        """
        with self._lock:
            counts = {"trained": self.trained, "served_from_cache": self.served_from_cache}
        return {**counts, "running": self.slots.running, "waiting": self.slots.waiting,
                "capacity": self.slots.capacity, "peak_running": self.slots.peak_running,
                "cached": len(self.cache)}


SLOTS = TrainingSlots(max_trainings_from_env())
TRAINING = SharedTraining(SLOTS, RESULT_CACHE)


def train_shared(config: TrainConfig, dataset, on_progress=None, should_stop=None,
                 on_wait: Optional[Callable[[WaitInfo], None]] = None) -> Served:
    """Train through the process-wide cache and concurrency cap.

    Args:
        config: the run's settings.
        dataset: the shared Dataset.
        on_progress: the trainer's progress callback.
        should_stop: the trainer's cancel poll.
        on_wait: told the queue position while waiting.
    Returns:
        a Served (result and source).
    """
    return TRAINING.train(config, dataset, on_progress=on_progress, should_stop=should_stop, on_wait=on_wait)
