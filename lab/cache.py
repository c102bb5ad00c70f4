"""A process-wide cache of finished training results, keyed by `TrainConfig.canonical()`.

Training is deterministic for a given config (the seed fixes the split, the
initial weights and the batch order), so when a second student trains exactly
the same configuration the server hands back the first result at once instead
of training again. The key is the canonical config, so settings a run does not
use (a momentum under Adam, say) do not split one run into several entries. The cache is a bounded LRU guarded by a lock, because every
Streamlit session runs in its own thread of the same process.

Cached results are shared between sessions, so they are treated as immutable:
their NumPy arrays are made read-only when stored, and readers copy what they
keep (see `lab.runs.record_from_result`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections import OrderedDict

from lab.config import TrainConfig
from lab.runs import thin_step_log

CACHE_SIZE_ENV = "OPTLAB_RESULT_CACHE"
DEFAULT_CACHE_SIZE = 32  # a cached result is about 0.5 MB (the test probabilities dominate)
# A long run logs thousands of steps (120,000 steps at log_every 25 is 4,800 entries,
# several MB); the cached copy keeps this many, evenly spaced, which no chart can tell apart.
CACHED_STEP_POINTS = 1_000
# Runs that ended for a reason the config alone decides; a cancelled run depends on timing.
CACHEABLE = ("completed", "early_stopped", "diverged")

_LOG = logging.getLogger(__name__)


class ResultCache:
    """A thread-safe LRU map from TrainConfig to TrainResult."""

    def __init__(self, max_entries: int = DEFAULT_CACHE_SIZE):
        if max_entries < 0:
            raise ValueError(f"max_entries must be at least 0, got {max_entries}")
        self.max_entries = max_entries
        self._entries: OrderedDict[TrainConfig, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, config: TrainConfig):
        """The cached result for `config`, marking it recently used.

        Args:
            config: the run's settings.
        Returns:
            the shared, read-only TrainResult, or None.
        """
        key = config.canonical()
        with self._lock:
            result = self._entries.get(key)
            if result is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return result

    def put(self, result) -> bool:
        """Store a finished result under its own config, evicting the least recently used.

        Args:
            result: a TrainResult; cancelled runs are not stored.
        Returns:
            True when the result was stored.
        """
        if result.stop_reason not in CACHEABLE or self.max_entries == 0:
            return False
        if len(result.step_log) > CACHED_STEP_POINTS:
            result = dataclasses.replace(result, step_log=thin_step_log(result.step_log, CACHED_STEP_POINTS))
        _freeze(result)
        key = result.config.canonical()
        with self._lock:
            self._entries[key] = result
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return True

    def clear(self) -> None:
        """Forget every result and reset the counters."""
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, config: TrainConfig) -> bool:
        with self._lock:
            return config.canonical() in self._entries


def _freeze(result) -> None:
    """Make a result's arrays read-only, so no session can change what others see."""
    for name in ("test_probabilities", "confusion_matrix"):
        array = getattr(result, name, None)
        if array is not None:
            array.setflags(write=False)


def int_from_env(name: str, default: int, low: int, high: int, environ=None) -> int:
    """A whole-number server setting from an environment variable, or `default` when unset or invalid.

    Args:
        name: the variable's name.
        default: used when it is unset, not a whole number, or outside [low, high].
        low: smallest allowed value.
        high: largest allowed value.
        environ: mapping to read (os.environ by default).
    Returns:
        an int in [low, high].
    """
    environ = os.environ if environ is None else environ
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        # A typo in a deployment setting must not stop the app: say so in the log and go on.
        _LOG.warning("%s=%r is not a whole number in [%d, %d]; using %d", name, text, low, high, default)
        return default
    return value


def cache_size_from_env(environ=None) -> int:
    """The cache size from OPTLAB_RESULT_CACHE, or the default when unset or invalid.

    Args:
        environ: mapping to read (os.environ by default).
    Returns:
        an int in [0, 1000].
    """
    return int_from_env(CACHE_SIZE_ENV, DEFAULT_CACHE_SIZE, 0, 1000, environ)


RESULT_CACHE = ResultCache(cache_size_from_env())
