"""lab.admission and lab.cache with real threads: the cap, the queue, release on errors, the shared cache."""

import threading
import time

import numpy as np
import pytest

from lab.admission import SharedTraining, TrainingSlots, max_trainings_from_env
from lab.cache import ResultCache, cache_size_from_env
from lab.config import TrainConfig
from lab.training import train

TINY = dict(train_size=300, validation_size=200, epochs=1, seed=31)


class Interrupt(BaseException):
    """Stands in for Streamlit's StopException, which also derives from BaseException."""


def _hold(slots: TrainingSlots, seconds: float, active: list, peak: list, lock: threading.Lock, on_wait=None):
    with slots.slot(on_wait=on_wait, poll_seconds=0.02):
        with lock:
            active.append(1)
            peak.append(len(active))
        time.sleep(seconds)
        with lock:
            active.pop()


def test_at_most_capacity_trainings_run_at_once():
    slots = TrainingSlots(capacity=2)
    active, peak, lock = [], [], threading.Lock()
    threads = [threading.Thread(target=_hold, args=(slots, 0.15, active, peak, lock)) for _ in range(6)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    elapsed = time.perf_counter() - start
    assert max(peak) == 2 and slots.peak_running == 2 and len(peak) == 6
    assert elapsed >= 3 * 0.15  # six holds of 0.15 s, two at a time
    assert slots.running == 0 and slots.waiting == 0


def test_waiters_see_their_place_and_are_served_first_come_first_served():
    slots = TrainingSlots(capacity=1)
    release = threading.Event()
    order, positions = [], {"B": [], "C": []}

    def first():
        with slots.slot():
            order.append("A")
            release.wait(timeout=10)

    def waiter(name):
        with slots.slot(on_wait=lambda info: positions[name].append(info.position), poll_seconds=0.02):
            order.append(name)

    a = threading.Thread(target=first)
    a.start()
    while slots.running < 1:
        time.sleep(0.005)
    b = threading.Thread(target=waiter, args=("B",))
    b.start()
    while slots.waiting < 1:
        time.sleep(0.005)
    c = threading.Thread(target=waiter, args=("C",))
    c.start()
    while not positions["C"]:
        time.sleep(0.005)
    assert positions["B"][-1] == 1 and positions["C"][-1] == 2
    release.set()
    for thread in (a, b, c):
        thread.join(timeout=10)
    assert order == ["A", "B", "C"]
    assert positions["C"] == sorted(positions["C"], reverse=True)  # C only ever moves up the queue


def test_slot_is_released_when_the_body_fails():
    slots = TrainingSlots(capacity=1)
    with pytest.raises(Interrupt):
        with slots.slot():
            raise Interrupt()
    assert slots.running == 0
    with slots.slot():  # the freed slot is usable again
        assert slots.running == 1


def test_an_interrupted_waiter_leaves_the_queue():
    slots = TrainingSlots(capacity=1)
    release = threading.Event()
    holder = threading.Thread(target=_hold_until, args=(slots, release))
    holder.start()
    while slots.running < 1:
        time.sleep(0.005)
    calls = []

    def on_wait(info):
        calls.append(info)
        if len(calls) == 3:
            raise Interrupt()  # the user moved a widget while waiting

    with pytest.raises(Interrupt):
        with slots.slot(on_wait=on_wait, poll_seconds=0.01):
            pytest.fail("must not be admitted while the slot is held")
    assert slots.waiting == 0 and [info.kind for info in calls] == ["queue"] * 3
    release.set()
    holder.join(timeout=10)
    assert slots.running == 0


def _hold_until(slots, event):
    with slots.slot():
        event.wait(timeout=10)


@pytest.mark.parametrize("text, expected", [("", 2), ("3", 3), (" 1 ", 1), ("0", 2), ("-4", 2), ("two", 2), ("65", 2)])
def test_capacity_comes_from_the_environment(text, expected):
    assert max_trainings_from_env({"OPTLAB_MAX_TRAININGS": text}) == expected
    assert max_trainings_from_env({}) == 2


def test_cache_size_comes_from_the_environment():
    assert cache_size_from_env({}) == 32
    assert cache_size_from_env({"OPTLAB_RESULT_CACHE": "5"}) == 5
    assert cache_size_from_env({"OPTLAB_RESULT_CACHE": "lots"}) == 32


@pytest.fixture(scope="module")
def tiny_result(fashion):
    return train(TrainConfig(**TINY), fashion)


def test_cache_is_an_lru_of_read_only_results(tiny_result):
    cache = ResultCache(max_entries=2)
    configs = [TrainConfig(**{**TINY, "seed": seed}) for seed in (1, 2, 3)]
    results = [_with_config(tiny_result, config) for config in configs]
    for result in results[:2]:
        assert cache.put(result)
    assert cache.get(configs[0]) is results[0]  # now configs[1] is the least recently used
    cache.put(results[2])
    assert configs[1] not in cache and configs[0] in cache and configs[2] in cache
    assert not results[0].test_probabilities.flags.writeable
    with pytest.raises(ValueError):
        results[0].test_probabilities[0, 0] = 1.0
    cancelled = _with_config(tiny_result, TrainConfig(**{**TINY, "seed": 4}), stop_reason="cancelled")
    assert not cache.put(cancelled) and len(cache) == 2
    assert cache.hits == 1 and cache.misses == 0


def test_cache_survives_many_threads(tiny_result):
    cache = ResultCache(max_entries=8)
    results = [_with_config(tiny_result, TrainConfig(**{**TINY, "seed": seed})) for seed in range(20)]
    errors = []

    def worker(offset):
        try:
            for index in range(200):
                result = results[(index + offset) % 20]
                cache.put(result)
                got = cache.get(result.config)
                assert got is None or got.config == result.config
        except Exception as error:  # collected, so the main thread can fail the test
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(offset,)) for offset in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors and len(cache) == 8


def _with_config(result, config, stop_reason=None):
    import dataclasses

    return dataclasses.replace(result, config=config, stop_reason=stop_reason or result.stop_reason,
                               test_probabilities=np.array(result.test_probabilities))


def test_identical_config_is_served_from_the_cache(fashion):
    shared = SharedTraining(TrainingSlots(2), ResultCache(4))
    config = TrainConfig(**{**TINY, "seed": 41})
    first = shared.train(config, fashion)
    start = time.perf_counter()
    second = shared.train(config, fashion)
    assert first.source == "trained" and second.source == "cache"
    assert second.result is first.result and time.perf_counter() - start < 0.05
    assert shared.stats()["trained"] == 1 and shared.stats()["served_from_cache"] == 1


def test_two_sessions_training_the_same_config_train_it_once(fashion):
    shared = SharedTraining(TrainingSlots(2), ResultCache(4))
    config = TrainConfig(**{**TINY, "seed": 42})
    started, calls, served, waits = threading.Event(), [], {}, []

    def counting_train(*args, **kwargs):
        calls.append(1)
        started.set()
        return train(*args, **kwargs)

    def session(name, on_wait=None):
        served[name] = shared.train(config, fashion, trainer=counting_train, on_wait=on_wait, poll_seconds=0.02)

    first = threading.Thread(target=session, args=("first",))
    first.start()
    started.wait(timeout=30)
    second = threading.Thread(target=session, args=("second", waits.append))
    second.start()
    first.join(timeout=60)
    second.join(timeout=60)
    assert len(calls) == 1
    assert served["first"].source == "trained" and served["second"].source == "shared"
    assert served["second"].result is served["first"].result
    assert waits and all(info.kind == "identical" for info in waits)


def test_a_waiter_trains_itself_when_the_identical_run_fails(fashion):
    shared = SharedTraining(TrainingSlots(2), ResultCache(4))
    config = TrainConfig(**{**TINY, "seed": 43})
    started, release = threading.Event(), threading.Event()

    def failing(*args, **kwargs):
        started.set()
        release.wait(timeout=10)
        raise Interrupt()  # the first session's user switched pages

    def first():
        with pytest.raises(Interrupt):
            shared.train(config, fashion, trainer=failing)

    thread = threading.Thread(target=first)
    thread.start()
    started.wait(timeout=10)
    timer = threading.Timer(0.2, release.set)
    timer.start()
    served = shared.train(config, fashion, poll_seconds=0.02)
    thread.join(timeout=10)
    assert served.source == "trained" and served.result.stop_reason == "completed"
    assert shared.slots.running == 0 and shared.stats()["trained"] == 1


def test_stats_file_for_the_class_load_benchmark(tmp_path, monkeypatch, fashion):
    from lab.admission import STATS_FILE_ENV, SharedTraining, TrainingSlots
    from lab.cache import ResultCache
    from lab.config import TrainConfig
    import json

    path = tmp_path / "stats.json"
    monkeypatch.setenv(STATS_FILE_ENV, str(path))
    shared = SharedTraining(TrainingSlots(2), ResultCache(4))
    config = TrainConfig(train_size=300, validation_size=200, epochs=1, seed=77)
    shared.train(config, fashion)
    shared.train(config, fashion)
    stats = json.loads(path.read_text())
    assert stats["trained"] == 1 and stats["served_from_cache"] == 1


def test_waiters_get_an_identical_run_even_with_the_cache_off(fashion):
    # OPTLAB_RESULT_CACHE=0 is allowed: the result is handed to the waiter, not looked up in the cache.
    shared = SharedTraining(TrainingSlots(2), ResultCache(0))
    config = TrainConfig(**{**TINY, "seed": 44})
    started, calls, served = threading.Event(), [], {}

    def counting_train(*args, **kwargs):
        calls.append(1)
        started.set()
        time.sleep(0.3)  # long enough for the second session to start waiting
        return train(*args, **kwargs)

    def session(name):
        served[name] = shared.train(config, fashion, trainer=counting_train, poll_seconds=0.02)

    first = threading.Thread(target=session, args=("first",))
    first.start()
    started.wait(timeout=30)
    second = threading.Thread(target=session, args=("second",))
    second.start()
    first.join(timeout=60)
    second.join(timeout=60)
    assert len(calls) == 1 and len(shared.cache) == 0
    assert served["second"].source == "shared" and served["second"].result is served["first"].result


def test_an_unwritable_stats_file_does_not_cost_the_run(tmp_path, monkeypatch, fashion):
    from lab.admission import STATS_FILE_ENV

    monkeypatch.setenv(STATS_FILE_ENV, str(tmp_path / "no-such-folder" / "stats.json"))
    shared = SharedTraining(TrainingSlots(1), ResultCache(2))
    served = shared.train(TrainConfig(**{**TINY, "seed": 45}), fashion)
    assert served.source == "trained" and served.result.stop_reason == "completed"


def test_the_cache_keeps_a_thinned_step_log_of_long_runs(tiny_result):
    import dataclasses

    from lab.cache import CACHED_STEP_POINTS

    long_log = [{"step": step, "loss": 1.0 / step} for step in range(1, 3 * CACHED_STEP_POINTS + 1)]
    long_run = dataclasses.replace(tiny_result, step_log=long_log)
    cache = ResultCache(2)
    assert cache.put(long_run)
    kept = cache.get(long_run.config).step_log
    assert len(kept) == CACHED_STEP_POINTS and kept[-1]["step"] == long_log[-1]["step"]
    assert len(long_run.step_log) == 3 * CACHED_STEP_POINTS  # the trainer's own copy is untouched
