"""Memory over many sequential runs, in two scenarios.

Usage (from the project root):
    OPTLAB_DATA_DIR=../shared/data python -m bench.bench_memory [--scenario both] [--runs 50] [--shapes 150]

Scenario "settings": the runs vary the way a class varies them: learning rate,
decay, seed, batch size and initializer change every run, and the optimizer and
batch norm cycle. Target: RSS after the last run within 15% of RSS after run 5.

Scenario "shapes": every run has a graph shape of its own (hidden widths,
activation, batch norm, optimizer and its momentum, betas, epsilon, clipping),
so each one traces graphs that TensorFlow never frees. The same runs go once
through lab.service's worker (replaced past OPTLAB_WORKER_MAX_MB) and once in
this process, as the server trained before the service; RSS is measured on the
whole process tree (this process and the worker). Targets, through the service:
at most 1.5 GB after 150 shapes, at most 2.2 GB at the peak.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import random
import threading
import time

import psutil

from lab.config import TrainConfig


def configs(count: int):
    """`count` small configs that differ in the settings students move most."""
    optimizers = itertools.cycle(["sgd", "adam", "momentum", "rmsprop", "adagrad", "nesterov"])
    for index in range(count):
        yield TrainConfig(
            train_size=2_000, validation_size=1_000, epochs=1, seed=index,
            optimizer=next(optimizers), learning_rate=0.001 * (1 + index % 20),
            decay=(index % 3) * 1e-3, batch_size=(32, 64, 128)[index % 3],
            kernel_initializer=("glorot_uniform", "he_normal", "random_normal")[index % 3],
            batch_norm=("none", "after")[index % 2],
        )


def shape_configs(count: int):
    """`count` small configs, each with a traced-graph shape no other one has."""
    widths = (32, 48, 64, 96, 128, 160, 200, 256, 300, 400)
    hidden = [(width,) for width in widths] + [(width, width // 2) for width in widths] + [
        (width, width // 2, width // 4) for width in widths]
    settings = [
        {"optimizer": "sgd", "clip": "none"}, {"optimizer": "momentum", "momentum": 0.8},
        {"optimizer": "nesterov", "momentum": 0.95}, {"optimizer": "adam", "beta_1": 0.85},
        {"optimizer": "rmsprop", "rho": 0.8}, {"optimizer": "adagrad", "epsilon": 1e-6},
        {"optimizer": "sgd", "clip": "global_norm", "clip_threshold": 0.5},
        {"optimizer": "adam", "epsilon": 1e-5, "clip": "value", "clip_threshold": 2.0},
    ]
    variants = list(itertools.product(settings, ("relu", "tanh"), ("none", "after"), hidden))
    # A fixed shuffle, so the first shapes already mix widths and optimizers as a class would.
    random.Random(0).shuffle(variants)
    for index, (extra, activation, batch_norm, hidden_units) in enumerate(variants[:count]):
        yield TrainConfig(train_size=1_000, validation_size=500, epochs=1, seed=index, batch_size=64,
                          hidden_units=hidden_units, activation=activation, batch_norm=batch_norm, **extra)


class TreeRss(threading.Thread):
    """Samples the resident memory of this process and its children every 0.1 s, keeping the peak."""

    def __init__(self):
        super().__init__(daemon=True)
        self.process, self.peak, self.running = psutil.Process(), 0, True

    def now(self) -> int:
        total = 0
        for each in (self.process, *self.process.children(recursive=True)):
            try:
                total += each.memory_info().rss
            except psutil.Error:
                pass
        return total

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.now())
            time.sleep(0.1)


def shapes_scenario(count: int, through_service: bool) -> dict:
    """Train `count` distinct shapes through the worker (or in this process) and read the tree's RSS."""
    sampler = TreeRss()
    marks, service = {}, None
    if through_service:
        from lab.service import service_from_env

        service = service_from_env()
        service.start()
        service.wait_until_ready(120)
        run = service.train
    else:
        from lab.data import load_dataset
        from lab.training import train

        dataset = load_dataset("fashion_mnist")

        def run(config):
            return train(config, dataset)
    sampler.start()
    started = time.perf_counter()
    try:
        for index, config in enumerate(shape_configs(count), start=1):
            run(config)
            if index in (5, 40, 150) or index == count:
                marks[index] = sampler.now() / 2**20
        stats = service.stats() if service else {}
    finally:
        sampler.running = False
        if service:
            service.shutdown()
    return {"where": "service" if through_service else "in-process", "marks": marks,
            "peak": sampler.peak / 2**20, "seconds": time.perf_counter() - started,
            "replacements": stats.get("replacements", 0)}


def settings_scenario(runs: int) -> None:
    """The 'settings' scenario in this process: RSS after run 5 against after the last run."""
    from lab.data import load_dataset
    from lab.training import train

    dataset = load_dataset("fashion_mnist")
    process = psutil.Process()
    rss = []
    for index, config in enumerate(configs(runs), start=1):
        train(config, dataset)
        gc.collect()
        rss.append(process.memory_info().rss / 2**20)
        if index in (1, 5, 10, 20, 30, 40, 50) or index == runs:
            print(f"after {index:3d} runs: RSS {rss[-1]:7.0f} MB")
    growth = rss[-1] / rss[4] - 1
    print(f"growth from run 5 to run {runs}: {growth:+.1%} (target within 15%)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", choices=("settings", "shapes", "both"), default="both")
    parser.add_argument("--runs", type=int, default=50, help="runs of the settings scenario")
    parser.add_argument("--shapes", type=int, default=150, help="distinct shapes of the shapes scenario")
    args = parser.parse_args()
    if args.runs < 6:
        parser.error("--runs must be at least 6: the growth is measured from run 5")
    if args.shapes > 120 * 8 or args.shapes < 5:
        parser.error("--shapes must be between 5 and 960")
    if args.scenario in ("shapes", "both"):
        # The service first: this process has not imported TensorFlow yet, as a server would not have.
        for through_service in (True, False):
            figures = shapes_scenario(args.shapes, through_service)
            marks = ", ".join(f"after {index}: {mb:,.0f} MB" for index, mb in figures["marks"].items())
            print(f"shapes {figures['where']:10s} process tree RSS {marks}; peak {figures['peak']:,.0f} MB; "
                  f"{figures['seconds']:.0f} s; worker replacements {figures['replacements']}")
    if args.scenario in ("settings", "both"):
        settings_scenario(args.runs)


if __name__ == "__main__":
    main()
