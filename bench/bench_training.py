"""Instrumented `lab.training.train` against plain `model.fit`, side by side in one process.

Usage (from the project root):
    OPTLAB_DATA_DIR=../shared/data python -m bench.bench_training [--epochs 2] [--repeats 2]

Both train the lecture configuration (55k images, batch 32, SGD lr 0.01).
Plain `fit` gets float32 images scaled outside the model, as on the slides.
Prints seconds per epoch (first epoch includes graph tracing), their ratio,
the time to the first `on_progress` call and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np

from lab.config import TrainConfig  # first, so lab sets TensorFlow's log level before it loads
from lab.data import load_dataset, split_indices
from lab.training import train

import keras  # noqa: E402


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def plain_fit(config: TrainConfig, dataset, epochs: int, steps_per_execution: int = 1) -> tuple[list[float], float]:
    """Seconds per epoch and final val accuracy of the slide's plain Keras code."""
    train_index, validation_index = split_indices(dataset.y_train, None, config.validation_size, config.seed)
    x_train = dataset.x_train[train_index].astype("float32") / 255
    x_valid = dataset.x_train[validation_index].astype("float32") / 255
    model = keras.Sequential([
        keras.Input(shape=(28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(300, activation="relu"),
        keras.layers.Dense(100, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.SGD(learning_rate=0.01),
                  metrics=["accuracy"], steps_per_execution=steps_per_execution)
    timer = _EpochTimer()
    history = model.fit(x_train, dataset.y_train[train_index], epochs=epochs, batch_size=32, verbose=0,
                        validation_data=(x_valid, dataset.y_train[validation_index]), callbacks=[timer])
    return timer.seconds, history.history["val_accuracy"][-1]


def instrumented(config: TrainConfig, dataset, epochs: int) -> tuple[list[float], float, float]:
    """Seconds per epoch, final val accuracy and time to first progress of lab.training.train."""
    result = train(TrainConfig(epochs=epochs, seed=config.seed), dataset, on_progress=lambda progress: None)
    return result.history["seconds"], result.history["val_accuracy"][-1], result.first_progress_seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    dataset = load_dataset("fashion_mnist")
    config = TrainConfig()
    rows = {"plain fit": [], "fit spe=50": [], "lab.train": []}
    first_progress = []
    for _ in range(args.repeats):  # interleaved, so machine noise hits all alike
        rows["plain fit"].append(plain_fit(config, dataset, args.epochs))
        rows["fit spe=50"].append(plain_fit(config, dataset, args.epochs, steps_per_execution=50))
        seconds, accuracy, first = instrumented(config, dataset, args.epochs)
        rows["lab.train"].append((seconds, accuracy))
        first_progress.append(first)
    print(f"{'':12s} {'epoch 1 s':>10s} {'later s':>10s} {'val acc':>8s}")
    summary = {}
    for name, runs in rows.items():
        first = statistics.median(seconds[0] for seconds, _ in runs)
        later = statistics.median(np.mean(seconds[1:]) if len(seconds) > 1 else seconds[0] for seconds, _ in runs)
        summary[name] = (first, later)
        print(f"{name:12s} {first:10.2f} {later:10.2f} {statistics.median(a for _, a in runs):8.3f}")
    base_first, base_later = summary["plain fit"]
    ours_first, ours_later = summary["lab.train"]
    print(f"ratio lab.train / plain fit: epoch 1 {ours_first / base_first:.2f}x, later epochs {ours_later / base_later:.2f}x")
    spe_first, spe_later = summary["fit spe=50"]
    print(f"ratio lab.train / fit spe=50: later epochs {ours_later / spe_later:.2f}x")
    print(f"time to first on_progress: {statistics.median(first_progress):.2f} s")
    print(f"peak RSS: {_peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
