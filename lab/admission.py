"""Sharing trainings between sessions: a result cache, and no duplicate work.

`SharedTraining.train` serves a config already in the result cache at once;
a config that another session is training right now is waited for instead of
trained twice; anything else goes to the training service (lab.service),
which owns the only queue and the training slots and runs the training in its
worker process.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from contextlib import suppress
from dataclasses import dataclass
from typing import Callable, Optional

from lab.cache import CACHEABLE, RESULT_CACHE, ResultCache
from lab.config import TrainConfig
from lab.service import WaitInfo, get_service

# When set, the counters are written to this JSON file after every request, so the
# class-load benchmark can read them from outside the server process.
STATS_FILE_ENV = "OPTLAB_STATS_FILE"
POLL_SECONDS = 0.25  # how often a session waiting for an identical run hears about it

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Served:
    """A training result and how it was obtained."""

    result: object  # lab.training.TrainResult
    source: str  # "trained", "cache" (finished earlier) or "shared" (waited for another session's identical run)

class _Flight:
    """One training in progress: waiters block on `done`, then read `result` (None if it was cancelled)."""

    def __init__(self):
        self.done = threading.Event()
        self.result = None


class SharedTraining:
    """Cache first, then one training per distinct config at a time, within the slot cap."""

    def __init__(self, cache: ResultCache, trainer: Optional[Callable] = None):
        # trainer(config, on_progress=, should_stop=, on_wait=, owner=) -> TrainResult;
        # the training service's by default, looked up when first needed.
        self.cache, self._trainer = cache, trainer
        self._lock = threading.Lock()
        self._in_flight: dict[TrainConfig, _Flight] = {}
        self._stats_lock = threading.Lock()
        self.trained = 0  # trainings actually run
        self.served_from_cache = 0  # results served from the cache, including waits for identical runs

    def _claim(self, config: TrainConfig) -> tuple["_Flight", bool]:
        # Keyed like the cache: runs that differ only in settings they do not use are one run.
        config = config.canonical()
        with self._lock:
            flight = self._in_flight.get(config)
            if flight is not None:
                return flight, False
            flight = self._in_flight[config] = _Flight()
            return flight, True

    def _release(self, config: TrainConfig, flight: "_Flight") -> None:
        config = config.canonical()
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

    def cached(self, config: TrainConfig) -> Optional[Served]:
        """The result of `config` when the cache holds it; never trains and never waits.

        Args:
            config: the run's settings.
        Returns:
            a Served with source "cache", or None.
        """
        return self._from_cache(config, "cache")

    def _wait_for_identical(self, flight: "_Flight", on_wait, poll_seconds: float) -> None:
        while not flight.done.wait(timeout=poll_seconds):
            if on_wait is not None:
                on_wait(WaitInfo("identical", 0, 0, 0))

    def train(self, config: TrainConfig, on_progress=None, should_stop=None,
              on_wait: Optional[Callable[[WaitInfo], None]] = None, owner: Optional[str] = None,
              poll_seconds: float = POLL_SECONDS) -> Served:
        """Train `config`, or serve it from the cache or from another session's identical run.

        Args:
            config: the run's settings.
            on_progress: receives lab.training.TrainProgress snapshots.
            should_stop: True cancels the run.
            on_wait: told the queue position, or that the worker is warming up.
            owner: the session (its earlier training is cancelled by the service).
            poll_seconds: how often on_wait is called while waiting for an identical run.
        Returns:
            a Served with the result and whether it was trained, cached or shared.
        """
        try:
            return self._train(config, on_progress, should_stop, on_wait, owner, poll_seconds)
        finally:
            self.write_stats()

    def _train(self, config, on_progress, should_stop, on_wait, owner, poll_seconds) -> Served:
        trainer = self._trainer or get_service().train
        served = self._from_cache(config, "cache")
        if served is not None:
            return served
        while True:
            flight, leads = self._claim(config)
            if leads:
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
            result = trainer(config, on_progress=on_progress, should_stop=should_stop, on_wait=on_wait, owner=owner)
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
            dict with trained, served_from_cache and cached, plus the service's counters when it runs.
        """
        from lab import service

        with self._lock:
            counts = {"trained": self.trained, "served_from_cache": self.served_from_cache}
        running = service.get_service().stats() if service._SERVICE is not None else {}
        return {**counts, **running, "cached": len(self.cache)}


TRAINING = SharedTraining(RESULT_CACHE)


def train_shared(config: TrainConfig, on_progress=None, should_stop=None,
                 on_wait: Optional[Callable[[WaitInfo], None]] = None, owner: Optional[str] = None) -> Served:
    """Train through the process-wide result cache and the training service.

    Args:
        config: the run's settings.
        on_progress: receives TrainProgress snapshots.
        should_stop: True cancels the run.
        on_wait: told the queue position.
        owner: the session.
    Returns:
        a Served (result and source).
    """
    return TRAINING.train(config, on_progress=on_progress, should_stop=should_stop, on_wait=on_wait, owner=owner)
