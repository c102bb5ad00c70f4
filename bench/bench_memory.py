"""Memory over many sequential runs: RSS after 5 runs against RSS after 50.

Usage (from the project root):
    OPTLAB_DATA_DIR=../shared/data python -m bench.bench_memory [--runs 50]

The runs vary the way a class varies them: learning rate, decay, seed, batch
size and initializer change every run, and the optimizer and batch norm cycle.
Target: RSS after the last run within 15% of RSS after run 5.
"""

from __future__ import annotations

import argparse
import gc
import itertools

import psutil

from lab.config import TrainConfig
from lab.data import load_dataset
from lab.training import train


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    if args.runs < 6:
        parser.error("--runs must be at least 6: the growth is measured from run 5")
    dataset = load_dataset("fashion_mnist")
    process = psutil.Process()
    rss = []
    for index, config in enumerate(configs(args.runs), start=1):
        train(config, dataset)
        gc.collect()
        rss.append(process.memory_info().rss / 2**20)
        if index in (1, 5, 10, 20, 30, 40, 50) or index == args.runs:
            print(f"after {index:3d} runs: RSS {rss[-1]:7.0f} MB")
    growth = rss[-1] / rss[4] - 1
    print(f"growth from run 5 to run {args.runs}: {growth:+.1%} (target within 15%)")


if __name__ == "__main__":
    main()
