"""Small experiments for the pages' AppTests: AppTest checks the page, not Keras.

A page reaches Keras only through the training service: `ui.service.compute`
sends a lab function to `lab.service.get_service().run`, and the Training Lab,
the race and the exercises train through `lab.admission.TRAINING` (the result
cache, then the service). `SmallService` and `SmallTraining` stand in front of
them and ask for the *small* version of each experiment: the same lab function
with the same seeds, real Keras on the real Fashion-MNIST, but with at most the
images, epochs, candidates or timing steps that CAPS gives for that function.
A request already within the caps (a test's own small settings, the Training
Lab's tiny runs) reaches the service unchanged, so pressing a button is still
tested end to end. Nothing here is a fake: no Keras call is mocked and no
number is written by hand.

Each small result is computed once per test session, on the first request: the
pages' own caches (st.cache_data and the Training Lab's result cache) keep it, as
a server keeps a result for every student after the first. A page test therefore
checks what the page shows against the result the page got. Whether an outcome
holds at the page's defaults is the job of tests/lab/test_claims.py, which runs each
topic's experiment at its defaults on the real data.
"""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from lab import admission, service
from lab.config import TrainConfig
from lab.topics import (architecture, batch_norm, data_explorer, decay, gradients, initialisation, learning_rate,
                        optimizers, outputs, splits)

# The most a TrainConfig of a page's experiment may ask for.
SMALL_RUN = {"train_size": 1_000, "validation_size": 500, "epochs": 1}
# The most a run trained through the shared training (the Training Lab, the race, the exercises) may ask for:
# two epochs, because a link test of the Training Lab trains two (a link's lowest option is refused).
SMALL_SHARED_RUN = {"train_size": 1_000, "validation_size": 1_000, "epochs": 2}

# Per lab function: the most each sizing argument may be. A dict caps a TrainConfig's fields (or those of
# every config in a dict of them); a number caps a number. Functions not listed run as asked: one backprop
# step, an optimizer's paths on a 2-D surface and the clipping calculator take well under a second, and the
# losses page's line fits a second or two (the mse-vs-mae preset's test reads their real slopes).
CAPS: dict[Callable, dict[str, Any]] = {
    data_explorer.drop_in_experiment: {"train_size": 1_000, "epochs": 1},
    # The Model page trains its three models one by one (train_model_kind); activation_experiment trains them together.
    architecture.activation_experiment: {"train_size": 2_000, "epochs": 1},
    architecture.train_model_kind: {"train_size": 2_000, "epochs": 1},
    outputs.run_task: {"train_size": 2_000, "epochs": 1},
    splits.fit_with_and_without_early_stopping: {"epochs": 10},
    splits.train_candidates: {"count": 2, "train_size": 500, "epochs": 1},
    learning_rate.compare_learning_rates: {"config": SMALL_RUN},
    learning_rate.range_test: {"steps": 200},
    decay.compare_decay: {"config": SMALL_RUN},
    initialisation.compare_initialisers: {"config": SMALL_RUN},
    gradients.depth_experiment: {"config": SMALL_RUN},
    batch_norm.compare_placements: {"config": SMALL_RUN},
    batch_norm.time_per_step: {"configs": SMALL_RUN, "steps": 20, "repeats": 1},
    batch_norm.batch_statistics: {"config": {**SMALL_RUN, "epochs": 2}},  # a page test reads 0.99^64: two epochs
    optimizers.adagrad_comparison: {"epochs": 1},
}


def _capped(value, cap):
    """`value` reduced to at most `cap`: a number, a TrainConfig's fields, or every config of a dict."""
    if isinstance(cap, dict):
        if isinstance(value, TrainConfig):
            smaller = {field: limit for field, limit in cap.items()
                       if getattr(value, field) is None or getattr(value, field) > limit}  # None: all the images
            return dataclasses.replace(value, **smaller) if smaller else value
        if isinstance(value, dict):
            return {key: _capped(each, cap) for key, each in value.items()}
        return value  # None: the function's own default config
    return min(value, cap)


def small_request(task: Callable, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """The arguments of the small version of `task(*args, **kwargs)`: sizes capped by CAPS, all else as asked.

    Args:
        task: a top-level lab function.
        args: its positional arguments.
        kwargs: its keyword arguments.
    Returns:
        (args, kwargs) to call it with.
    """
    caps = CAPS.get(task)
    if caps is None:
        return args, kwargs
    signature = inspect.signature(task)
    bound = signature.bind(*args, **kwargs)
    for name, cap in caps.items():
        value = bound.arguments.get(name, signature.parameters[name].default)
        small = _capped(value, cap)
        if small != value:
            bound.arguments[name] = small  # an argument left to its default goes by keyword
    return bound.args, bound.kwargs


_RESULTS: dict[bytes, Any] = {}  # the test session's small experiments, by their pickled request


class SmallService:
    """The real training service, asked for the small version of every experiment; all else is the service's.

    Experiments ("train" jobs) are computed once per small request: two tests whose requests have the same
    small version (a preset's 5,000 images and a page test's 1,000, say) share one run, as two students'
    equal requests share one on a server. An answer from that memo counts as a job, as it stands for one,
    so a test that checks that opening a link ran nothing still sees every request that reached here.
    Quick jobs always run (one of them reads the worker's own counters).
    """

    def __init__(self, real: service.TrainingService):
        self.real = real
        self.answered = 0  # requests answered from the memo

    def __getattr__(self, name: str):
        return getattr(self.real, name)  # train, estimate, ...: the real service's own

    @property
    def jobs(self) -> int:
        """Jobs sent to the worker, plus requests answered from the memo."""
        return self.real.jobs + self.answered

    def stats(self) -> dict:
        """`TrainingService.stats`, with `jobs` counted as in `jobs`."""
        return {**self.real.stats(), "jobs": self.jobs}

    def run(self, task: Callable, *args, **kwargs):
        """`TrainingService.run` of the small version of `task(*args, **kwargs)`."""
        run_options = {name: kwargs.pop(name) for name in ("kind", "long", "owner", "on_progress", "should_stop",
                                                           "on_wait") if name in kwargs}
        args, kwargs = small_request(task, args, kwargs)
        if run_options.get("kind", "train") != "train" or "on_progress" in run_options:
            return self.real.run(task, *args, **run_options, **kwargs)
        key = pickle.dumps((task, args, kwargs))  # a shared Dataset pickles as its name
        if key in _RESULTS:
            self.answered += 1
            return _RESULTS[key]
        result = _RESULTS[key] = self.real.run(task, *args, **run_options, **kwargs)
        return result


class SmallTraining:
    """The server's shared training (result cache, then the service), asked for small configs.

    The cap comes before the result cache, which keys a run by its config: a link to a config
    that a test has trained finds the small run it got, as a student's link finds the real one.
    So does a link to a bigger config with the same small version: a test that needs a config
    nobody has trained picks one whose small version is its own.
    """

    def __init__(self, real: admission.SharedTraining):
        self.real = real

    def __getattr__(self, name: str):
        return getattr(self.real, name)  # trained, stats, ...: the real counters

    def train(self, config: TrainConfig, **options):
        """`SharedTraining.train` of the small version of `config`."""
        return self.real.train(_capped(config, SMALL_SHARED_RUN), **options)

    def cached(self, config: TrainConfig):
        """`SharedTraining.cached` of the small version of `config`."""
        return self.real.cached(_capped(config, SMALL_SHARED_RUN))


@contextmanager
def small_experiments() -> Iterator[SmallService]:
    """For the `with` block, the process's training service and shared training answer with small experiments.

    Yields:
        the SmallService that `lab.service.get_service()` returns meanwhile.
    """
    real_service, real_training = service.get_service(), admission.TRAINING
    small = SmallService(real_service)
    service._SERVICE, admission.TRAINING = small, SmallTraining(real_training)
    try:
        yield small
    finally:
        service._SERVICE, admission.TRAINING = real_service, real_training
