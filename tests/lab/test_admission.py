"""lab.admission and lab.cache with real threads and real training: the shared cache and no duplicate work.

The queue and the training slots belong to the training service (tests/lab/test_service.py).
"""

import threading
import time

import numpy as np
import pytest

from lab.admission import SharedTraining
from lab.cache import ResultCache, cache_size_from_env
from lab.config import TrainConfig
from lab.service import service_from_env
from lab.training import train

TINY = dict(train_size=300, validation_size=200, epochs=1, seed=31)


class Interrupt(BaseException):
    """Stands in for Streamlit's StopException, which also derives from BaseException."""


def _trainer(dataset, calls=None, started=None, pause=0.0):
    """A real trainer with the service's signature, counting its calls."""

    def trainer(config, on_progress=None, should_stop=None, on_wait=None, owner=None):
        if calls is not None:
            calls.append(1)
        if started is not None:
            started.set()
        time.sleep(pause)
        return train(config, dataset, on_progress=on_progress, should_stop=should_stop)

    return trainer


@pytest.mark.parametrize("text, expected", [("", 2), ("3", 3), (" 1 ", 1), ("0", 2), ("-4", 2), ("two", 2), ("65", 2)])
def test_capacity_comes_from_the_environment(text, expected):
    assert service_from_env({"OPTLAB_MAX_TRAININGS": text}).max_trainings == expected
    assert service_from_env({}).max_trainings == 2


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
    shared = SharedTraining(ResultCache(4), _trainer(fashion))
    config = TrainConfig(**{**TINY, "seed": 41})
    first = shared.train(config)
    start = time.perf_counter()
    second = shared.train(config)
    assert first.source == "trained" and second.source == "cache"
    assert second.result is first.result and time.perf_counter() - start < 0.05
    assert shared.stats()["trained"] == 1 and shared.stats()["served_from_cache"] == 1


def test_two_sessions_training_the_same_config_train_it_once(fashion):
    started, calls, served, waits = threading.Event(), [], {}, []
    shared = SharedTraining(ResultCache(4), _trainer(fashion, calls, started))
    config = TrainConfig(**{**TINY, "seed": 42})

    def session(name, on_wait=None):
        served[name] = shared.train(config, on_wait=on_wait, poll_seconds=0.02)

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
    started, release, calls = threading.Event(), threading.Event(), []
    real = _trainer(fashion)

    def first_fails_then_trains(config, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            started.set()
            release.wait(timeout=10)
            raise Interrupt()  # the first session's user switched pages
        return real(config, **kwargs)

    shared = SharedTraining(ResultCache(4), first_fails_then_trains)
    config = TrainConfig(**{**TINY, "seed": 43})

    def first():
        with pytest.raises(Interrupt):
            shared.train(config)

    thread = threading.Thread(target=first)
    thread.start()
    started.wait(timeout=10)
    timer = threading.Timer(0.2, release.set)
    timer.start()
    served = shared.train(config, poll_seconds=0.02)
    thread.join(timeout=10)
    assert served.source == "trained" and served.result.stop_reason == "completed"
    assert len(calls) == 2 and shared.stats()["trained"] == 1


def test_stats_file_for_the_class_load_benchmark(tmp_path, monkeypatch, fashion):
    from lab.admission import STATS_FILE_ENV, SharedTraining
    from lab.cache import ResultCache
    from lab.config import TrainConfig
    import json

    path = tmp_path / "stats.json"
    monkeypatch.setenv(STATS_FILE_ENV, str(path))
    shared = SharedTraining(ResultCache(4), _trainer(fashion))
    config = TrainConfig(train_size=300, validation_size=200, epochs=1, seed=77)
    shared.train(config)
    shared.train(config)
    stats = json.loads(path.read_text())
    assert stats["trained"] == 1 and stats["served_from_cache"] == 1


def test_waiters_get_an_identical_run_even_with_the_cache_off(fashion):
    # OPTLAB_RESULT_CACHE=0 is allowed: the result is handed to the waiter, not looked up in the cache.
    started, calls, served = threading.Event(), [], {}
    # The pause is long enough for the second session to start waiting.
    shared = SharedTraining(ResultCache(0), _trainer(fashion, calls, started, pause=0.3))
    config = TrainConfig(**{**TINY, "seed": 44})

    def session(name):
        served[name] = shared.train(config, poll_seconds=0.02)

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
    shared = SharedTraining(ResultCache(2), _trainer(fashion))
    served = shared.train(TrainConfig(**{**TINY, "seed": 45}))
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


def test_two_sessions_training_at_once_through_the_service_both_complete(warm_service):
    """Each session's training carries its own owner to the service, so one never supersedes the other."""
    service = warm_service  # at the default settings, as service_from_env({}) makes it
    owners = []

    def trainer(config, **kwargs):
        owners.append(kwargs["owner"])
        return service.train(config, **kwargs)

    shared = SharedTraining(ResultCache(max_entries=4), trainer=trainer)
    configs = {f"session-{seed}": TrainConfig(**{**TINY, "train_size": 2_000, "seed": seed}) for seed in (41, 42)}
    results = {}

    def session(owner):
        results[owner] = shared.train(configs[owner], on_progress=lambda progress: None, owner=owner)

    threads = [threading.Thread(target=session, args=(owner,)) for owner in configs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(owners) == sorted(configs)
    assert {owner: served.result.stop_reason for owner, served in results.items()} == {
        owner: "completed" for owner in configs}


def test_configs_that_differ_only_in_unused_settings_share_one_cache_entry(tiny_result):
    cache = ResultCache(max_entries=4)
    stored = _with_config(tiny_result, TrainConfig(**TINY))  # SGD reads no momentum, rho or betas
    assert cache.put(stored)
    same_run = TrainConfig(**TINY, momentum=0.5, rho=0.5, beta_2=0.9, clip_threshold=7.0)
    assert same_run in cache and cache.get(same_run) is stored
    assert TrainConfig(**{**TINY, "optimizer": "momentum", "momentum": 0.5}) not in cache
