"""The Faster optimizers page's outcome claims, checked on the real data by tests/lab/test_claims.py."""

from __future__ import annotations

import math
from typing import Callable, Optional

import numpy as np

from lab.claims import Claim
from lab.config import OPTIMIZERS
from lab.topics.optimizers.experiments import EffectiveRateLog, adagrad_comparison, race, race_configs, run_trajectories
from lab.topics.optimizers.surfaces import SURFACES, OptimizerSettings, final_distance

__all__ = [  # what the package re-exports
    "RACE_DEFAULTS", "ADAGRAD_DEFAULTS", "is_default_race", "is_default_adagrad", "one_over_sqrt_t_ratio",
    "claims_experiment", "RACE_CLAIMS", "ADAGRAD_CLAIMS", "PRESET_OPTIMIZERS", "PRESET_CLAIMS",
    "SURFACE_CLAIMS", "CLAIMS",
]


# ----------------------------------------------------------------------
# The page's outcome claims, checked on the real data by tests/lab/test_claims.py
# ----------------------------------------------------------------------
# The page's default race and AdaGrad experiment; the claims are shown only for results of these.
RACE_DEFAULTS = dict(train_size=2_000, epochs=2)
ADAGRAD_DEFAULTS = dict(learning_rate=0.01, epochs=5, compare=True)


def is_default_race(results: dict) -> bool:
    """Whether a race ran every optimizer at the page's default size, so its claims apply.

    Args:
        results: from `race`.
    Returns:
        True for the default race.
    """
    default = race_configs(list(OPTIMIZERS), **RACE_DEFAULTS)
    return set(results) == set(default) and all(results[name].config == config for name, config in default.items())


def is_default_adagrad(logs: list) -> bool:
    """Whether an AdaGrad experiment used the page's defaults, so its claims apply.

    Args:
        logs: from `adagrad_comparison`.
    Returns:
        True for the default experiment.
    """
    return ([log.optimizer for log in logs] == ["adagrad", "rmsprop"]
            and logs[0].learning_rate == ADAGRAD_DEFAULTS["learning_rate"]
            and len(logs[0].val_accuracy) == ADAGRAD_DEFAULTS["epochs"])


def one_over_sqrt_t_ratio(log: EffectiveRateLog) -> float:
    """What a rate falling like 1/sqrt(t) would keep from the reference step to the last record.

    Args:
        log: an EffectiveRateLog.
    Returns:
        sqrt(reference step / last step).
    """
    return math.sqrt(log.steps[log.reference_index()] / log.steps[-1])


def claims_experiment(dataset, trainer: Optional[Callable] = None) -> dict:
    """Run the default race and the default AdaGrad experiment, which the page's claims are about.

    Args:
        dataset: the shared dataset.
        trainer: train(config, dataset) -> TrainResult for the race; lab.training.train by default.
    Returns:
        {"race": {name: TrainResult}, "adagrad": [EffectiveRateLog, EffectiveRateLog], "surfaces": {surface key:
        {name: Trajectory}} of every optimizer at the default settings over the page's 100 steps}.
    """
    return {"race": race(race_configs(list(OPTIMIZERS), **RACE_DEFAULTS), dataset, trainer=trainer),
            "adagrad": adagrad_comparison(dataset, **ADAGRAD_DEFAULTS),
            "surfaces": {key: run_trajectories(key, list(OPTIMIZERS), OptimizerSettings(), 100) for key in SURFACES}}


def _final_accuracy(results: dict, name: str) -> float:
    return float(results[name].history["val_accuracy"][-1])


def _sgd_last_and_momentum_closes_most(experiment) -> bool:
    results = experiment["race"]
    accuracies = {name: _final_accuracy(results, name) for name in results}
    best, sgd = max(accuracies.values()), accuracies["sgd"]
    return min(accuracies, key=accuracies.get) == "sgd" and accuracies["momentum"] - sgd >= 0.75 * (best - sgd)


def _adagrad_behind_momentum_and_adam(experiment) -> bool:
    results = experiment["race"]
    adagrad = _final_accuracy(results, "adagrad")
    return adagrad < _final_accuracy(results, "momentum") and adagrad < _final_accuracy(results, "adam")


def _adagrad_rate_falls_slowly(experiment) -> bool:
    adagrad = experiment["adagrad"][0]
    hidden = [adagrad.ratio(name) for name in adagrad.layer_names if name != "output"]
    return (min(hidden) > 0.9 and adagrad.ratio("output") < min(hidden)
            and adagrad.ratio("output") > 2 * one_over_sqrt_t_ratio(adagrad))


def _rmsprop_rate_rises(experiment) -> bool:
    return experiment["adagrad"][1].ratio("output") > 1.0


RACE_CLAIMS = (
    Claim("Plain SGD at 0.01 finishes last, and momentum alone closes most of its gap to the best optimizer "
          "(at least three quarters).", _sgd_last_and_momentum_closes_most),
    Claim("AdaGrad finishes behind Momentum and Adam.", _adagrad_behind_momentum_and_adam),
)
ADAGRAD_CLAIMS = (
    Claim("AdaGrad's rate only falls, but slowly: the hidden layers keep more than 90% of their rate, and the "
          "output layer, whose gradients are largest, falls the most, yet keeps more than twice what a rate "
          "falling like 1/√t would keep. Keras starts *s* at 0.1, and the squared gradients of these few hundred "
          "steps add little to that.", _adagrad_rate_falls_slowly),
    Claim("RMSprop's *s* is a moving average of recent gradients, so its rate goes up again as the gradients "
          "get smaller: its output layer ends above its rate at the reference step.", _rmsprop_rate_rises),
)
PRESET_OPTIMIZERS = ("sgd", "momentum", "adam")  # the "momentum vs Adam" lecture preset


def _first_step_off_the_ridge(path) -> int:
    # The first step at which the path is more than 0.5 off the saddle's ridge (|y| > 0.5).
    return int(np.argmax(np.abs(path.points[:, 1]) > 0.5))


def _saddle_steps(runs) -> bool:
    # Stated as whole steps; a step either way allows for float rounding on another machine.
    steps = {name: _first_step_off_the_ridge(path) for name, path in runs["surfaces"]["saddle"].items()}
    return steps["adam"] <= 6 and abs(steps["momentum"] - 16) <= 1 and abs(steps["sgd"] - 43) <= 1


def _race_numbers(runs) -> bool:
    # "About" a whole percentage: within 2 points; the ranking (Adam > Momentum > SGD) must hold as stated.
    accuracy = {name: float(runs["race"][name].history["val_accuracy"][-1]) for name in PRESET_OPTIMIZERS}
    stated = {"momentum": 0.78, "adam": 0.80, "sgd": 0.67}
    return (all(abs(accuracy[name] - value) < 0.02 for name, value in stated.items())
            and accuracy["adam"] > accuracy["momentum"] > accuracy["sgd"] + 0.05)


PRESET_CLAIMS = (
    Claim("On the saddle, Adam leaves the ridge within 6 steps, Momentum needs 16 and plain SGD 43.", _saddle_steps),
    Claim("On Fashion-MNIST, from the same initial weights, Momentum reaches about 78% and Adam about 80% validation "
          "accuracy in 2 epochs, against 67% for plain SGD.", _race_numbers),
)
def _distances(runs, key: str) -> dict:
    return {name: final_distance(path, SURFACES[key]) for name, path in runs["surfaces"][key].items()}


def _bowl_notice_holds(runs) -> bool:
    distance, momentum = _distances(runs, "bowl"), runs["surfaces"]["bowl"]["momentum"]
    return (0.5 < distance["sgd"] < 0.7  # "about 0.6"
            and all(distance[name] < 0.1 for name in ("momentum", "nesterov", "rmsprop", "adam"))
            and momentum.points[:, 0].max() > 0.5  # overshoots the minimum at x = 0, then swings back
            and distance["adagrad"] > 1.0)


def _rosenbrock_notice_holds(runs) -> bool:
    distance = _distances(runs, "rosenbrock")
    # "Into the valley": within 0.2 of its floor y = x^2, within 5 steps.
    into_valley = all(int(np.argmax(np.abs(path.points[:, 1] - path.points[:, 0] ** 2) < 0.2)) <= 5
                      for path in runs["surfaces"]["rosenbrock"].values())
    return (into_valley and distance["sgd"] > 1.0 and distance["adagrad"] > 1.0
            and distance["momentum"] < 0.05 and distance["adam"] < 0.25)


def _saddle_notice_holds(runs) -> bool:
    steps = {name: _first_step_off_the_ridge(path) for name, path in runs["surfaces"]["saddle"].items()}
    return (steps["rmsprop"] <= 10 and steps["adam"] <= 10 and 10 < steps["momentum"] <= 20  # "about 15"
            and 35 <= steps["sgd"] <= 45)  # "about 40"


# The surfaces' "what to notice" texts (Surface.notice, shown for the default settings) as claims.
SURFACE_CLAIMS = {
    "bowl": Claim(SURFACES["bowl"].notice, _bowl_notice_holds),
    "rosenbrock": Claim(SURFACES["rosenbrock"].notice, _rosenbrock_notice_holds),
    "saddle": Claim(SURFACES["saddle"].notice, _saddle_notice_holds),
}
CLAIMS = RACE_CLAIMS + ADAGRAD_CLAIMS + PRESET_CLAIMS + tuple(SURFACE_CLAIMS.values())
