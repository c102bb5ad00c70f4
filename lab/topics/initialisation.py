"""Initialisation: zeros never break symmetry; random, Glorot and He initialisation do, and train.

The experiment trains the lecture's model (300/100 Dense layers) once per
kernel initializer, from the same seed on the same batches, and then looks
inside: the cosine similarity of every pair of neurons' incoming weights in a
layer, and how many distinct neurons the layer really has. Biases always start
at zero (the Keras default), in every run, so the runs that do learn show that
zero biases are fine.

The page needs the trained weights, which `lab.training.train` does not return,
so this module has a small seeded Keras training loop, `train_small_model`,
which the batch-normalisation topic reuses. Its traced step is reused across
runs through lab.engines's pool (as are the learning-rate range test and the
batch-norm timing), because TensorFlow never frees the memory of a traced graph.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Optional, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lab.claims import Claim
from lab.config import TrainConfig
from lab.data import Dataset, split_indices
from lab.engines import ENGINES
from lab.plots import COLORS, _figure, reference_line

INITIALISERS = {
    "zeros": "zeros",
    "random_normal": "random normal",
    "glorot_uniform": "Glorot (uniform)",
    "he_normal": "He (normal)",
}
STDDEV_OPTIONS = (0.0001, 0.001, 0.01, 0.05, 0.1, 0.5, 1.0)
BASE_FIELDS = dict(train_size=2_000, validation_size=1_000, epochs=3, batch_size=32, learning_rate=0.1, seed=42)
SIMILARITY_NEURONS = 20  # neurons shown in the similarity heatmap


def base_config(**overrides) -> TrainConfig:
    """The page's small setup (BASE_FIELDS) with some fields changed.

    Args:
        **overrides: TrainConfig fields to change.
    Returns:
        a validated TrainConfig.
    """
    return TrainConfig(**{**BASE_FIELDS, **overrides})


# ----------------------------------------------------------------------
# Traced graphs reused across runs
# ----------------------------------------------------------------------
# TensorFlow never gives back the memory of a traced function (about 1 to 8 MB
# each), so tracing a new one per request would grow a lecture's server without
# bound. Runs whose graphs have the same shape therefore share an "engine" (a
# model, an optimizer and a traced step), reset with each run's own seeded
# weights, as lab.training does for its runs; lab.engines keeps them.
#
# TrainConfig fields that only change the starting weights, the data or the length
# of a run. Everything else is baked into a traced graph or the optimizer.
RUN_ONLY_FIELDS = frozenset({
    "seed", "kernel_initializer", "init_stddev", "train_size", "validation_size", "epochs", "batch_size",
    "log_every", "early_stopping_patience", "dataset",
})


def graph_key(config: TrainConfig, num_classes: int) -> tuple:
    """The settings a traced training step depends on; configs with equal keys can share one.

    Args:
        config: the run's config.
        num_classes: units of the output layer.
    Returns:
        a hashable tuple.
    """
    fields = dataclasses.asdict(config)
    return (num_classes,) + tuple((name, value) for name, value in sorted(fields.items()) if name not in RUN_ONLY_FIELDS)


class _SmallEngine:
    """A model, an optimizer and a traced training step, reset for each run."""

    def __init__(self, config: TrainConfig, num_classes: int):
        import tensorflow as tf

        from lab.models import build_loss, build_model, loss_needs_one_hot
        from lab.optimizers import build_optimizer

        self.model = model = build_model(config, num_classes)
        self.optimizer = optimizer = build_optimizer(config)
        optimizer.build(model.trainable_variables)
        self.loss_fn, self.one_hot = loss_fn, one_hot = build_loss(config), loss_needs_one_hot(config)

        @tf.function(reduce_retracing=True)
        def step(images, labels):
            target = tf.one_hot(labels, num_classes) if one_hot else labels
            with tf.GradientTape() as tape:
                loss = loss_fn(target, model(images, training=True))
            optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
            return loss

        self.step = step

    def reset(self, config: TrainConfig, num_classes: int):
        """Give the engine this run's seeded weights and a fresh optimizer's state.

        Args:
            config: the run's config.
            num_classes: units of the output layer.
        Returns:
            the run's own fresh (untraced) model, which holds the starting weights.
        """
        from lab.models import build_model
        from lab.optimizers import build_optimizer

        fresh = build_model(config, num_classes)
        self.model.set_weights(fresh.get_weights())
        fresh_optimizer = build_optimizer(config)
        fresh_optimizer.build(fresh.trainable_variables)
        for target, source in zip(self.optimizer.variables, fresh_optimizer.variables, strict=True):
            target.assign(source)
        return fresh


# ----------------------------------------------------------------------
# A small seeded Keras training loop that keeps the model
# ----------------------------------------------------------------------
@dataclass
class SmallRun:
    """A trained model with its per-epoch history."""

    model: object  # the keras.Model after training (the run's own copy, not shared)
    initial_weights: dict  # layer name -> (kernel, bias) numpy arrays before the first step
    history: dict  # epoch, loss, val_loss, val_accuracy, seconds
    test_accuracy: float
    steps: int


def train_small_model(
    config: TrainConfig, dataset: Dataset, on_epoch: Optional[Callable[[int], None]] = None
) -> SmallRun:
    """Build the config's model and train it with a seeded GradientTape loop, keeping the model.

    Args:
        config: model, optimizer (with its decay and clipping), loss, batch size, epochs and seed.
        dataset: the shared dataset.
        on_epoch: called with the number of epochs finished, for a progress bar.
    Returns:
        a SmallRun with the trained model.
    """
    train_index, validation_index = split_indices(dataset.y_train, config.train_size, config.validation_size, config.seed)
    classes = dataset.num_classes
    with ENGINES.borrow(graph_key(config, classes), lambda: _SmallEngine(config, classes)) as engine:
        own = engine.reset(config, classes)
        initial = {layer.name: [w.numpy().copy() for w in layer.weights] for layer in own.layers if layer.weights}
        history = {key: [] for key in ("epoch", "loss", "val_loss", "val_accuracy", "seconds")}
        steps = 0
        for epoch in range(config.epochs):
            start = time.perf_counter()
            # The same per-epoch order rule as lab.training: it depends only on the seed and the epoch.
            order = train_index[np.random.default_rng([config.seed, 2, epoch]).permutation(len(train_index))]
            losses = []
            for first in range(0, len(order), config.batch_size):
                batch = order[first : first + config.batch_size]
                losses.append(float(engine.step(dataset.x_train[batch], dataset.y_train[batch])))
                steps += 1
            val_loss, val_accuracy = _evaluate(engine.model, engine.loss_fn, engine.one_hot,
                                               dataset.x_train[validation_index], dataset.y_train[validation_index],
                                               classes)
            for key, value in (("epoch", epoch + 1), ("loss", float(np.mean(losses))), ("val_loss", val_loss),
                               ("val_accuracy", val_accuracy), ("seconds", time.perf_counter() - start)):
                history[key].append(value)
            if on_epoch is not None:
                on_epoch(epoch + 1)
        # The trained weights go into the run's own model, so the engine can serve the next run at once.
        own.set_weights(engine.model.get_weights())
        loss_fn, one_hot = engine.loss_fn, engine.one_hot
    _, test_accuracy = _evaluate(own, loss_fn, one_hot, dataset.x_test, dataset.y_test, classes)
    return SmallRun(model=own, initial_weights=initial, history=history, test_accuracy=test_accuracy, steps=steps)


def _evaluate(model, loss_fn, one_hot: bool, images: np.ndarray, labels: np.ndarray, classes: int) -> tuple[float, float]:
    """Loss and accuracy in inference mode (batch norm uses its moving statistics)."""
    import keras

    probabilities = np.concatenate([
        keras.ops.convert_to_numpy(model(images[start : start + 2_000], training=False))
        for start in range(0, len(images), 2_000)
    ])
    target = keras.ops.one_hot(labels, classes) if one_hot else labels
    loss = float(keras.ops.convert_to_numpy(loss_fn(target, probabilities)))
    return loss, float(np.mean(np.argmax(probabilities, axis=1) == labels))


# ----------------------------------------------------------------------
# Looking inside a layer
# ----------------------------------------------------------------------
def neuron_similarity(kernel: np.ndarray) -> np.ndarray:
    """Cosine similarity between every pair of neurons' incoming weight vectors (the kernel's columns).

    Two all-zero neurons count as identical (similarity 1); an all-zero and a non-zero one as 0.

    Args:
        kernel: a Dense kernel of shape (inputs, neurons).
    Returns:
        a (neurons, neurons) matrix with values in [-1, 1].
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    norms = np.linalg.norm(kernel, axis=0)
    safe = np.where(norms > 0, norms, 1.0)
    similarity = (kernel.T @ kernel) / np.outer(safe, safe)
    zero = norms == 0
    similarity[np.ix_(zero, zero)] = 1.0
    return np.clip(similarity, -1.0, 1.0)


def mean_pairwise_similarity(kernel: np.ndarray) -> float:
    """Average cosine similarity over all pairs of different neurons in a layer.

    Args:
        kernel: a Dense kernel (inputs, neurons).
    Returns:
        1.0 when every neuron is identical; near 0 for independent random neurons.
    """
    similarity = neuron_similarity(kernel)
    count = similarity.shape[0]
    return float((similarity.sum() - np.trace(similarity)) / (count * (count - 1)))


def distinct_neurons(kernel: np.ndarray, bias: Optional[np.ndarray] = None, tolerance: float = 1e-5) -> int:
    """How many different neurons a layer really has: neurons equal (within tolerance) to an earlier one don't count.

    Args:
        kernel: a Dense kernel (inputs, neurons).
        bias: the layer's bias (neurons,), compared too when given.
        tolerance: relative to the largest weight in the layer.
    Returns:
        the number of distinct neurons, from 1 to the layer's width.
    """
    weights = np.asarray(kernel, dtype=np.float64)
    if bias is not None:
        weights = np.vstack([weights, np.asarray(bias, dtype=np.float64)[None, :]])
    limit = tolerance * float(np.abs(weights).max()) + 1e-12
    count = 0
    for index in range(weights.shape[1]):
        earlier = weights[:, :index]
        if index == 0 or not np.any(np.all(np.abs(earlier - weights[:, index : index + 1]) <= limit, axis=0)):
            count += 1
    return count


@dataclass
class InitRun:
    """What one initializer's run taught: curves, accuracy and the insides of each hidden layer."""

    name: str  # the kernel initializer
    config: TrainConfig
    history: dict
    test_accuracy: float
    initial_std: dict = field(default_factory=dict)  # layer -> std of its kernel before training
    initial_bias_max: dict = field(default_factory=dict)  # layer -> largest |bias| before training (0: zero biases)
    weight_change: dict = field(default_factory=dict)  # layer -> largest |kernel change| during training
    similarity: dict = field(default_factory=dict)  # layer -> similarity of its first SIMILARITY_NEURONS neurons
    mean_similarity: dict = field(default_factory=dict)  # layer -> mean pairwise similarity of all neurons
    distinct: dict = field(default_factory=dict)  # layer -> distinct neurons after training
    width: dict = field(default_factory=dict)  # layer -> neurons

    @property
    def label(self) -> str:
        """A readable name, with the stddev for random normal.

        Returns:
            e.g. "random normal (stddev 0.05)".
        """
        if self.name == "random_normal":
            return f"random normal (stddev {self.config.init_stddev:g})"
        return INITIALISERS.get(self.name, self.name)


def summarise_run(name: str, config: TrainConfig, run: SmallRun) -> InitRun:
    """Reduce a trained model to plain numbers and small matrices (cheap to keep in a session).

    Args:
        name: the kernel initializer.
        config: the run's config.
        run: the SmallRun.
    Returns:
        an InitRun.
    """
    summary = InitRun(name=name, config=config, history=run.history, test_accuracy=run.test_accuracy)
    for index in range(len(config.hidden_units)):
        layer = run.model.get_layer(f"hidden_{index + 1}")
        kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
        start_kernel, start_bias = run.initial_weights[layer.name]
        summary.initial_std[layer.name] = float(start_kernel.std())
        summary.initial_bias_max[layer.name] = float(np.abs(start_bias).max())
        summary.weight_change[layer.name] = float(np.abs(kernel - start_kernel).max())
        summary.similarity[layer.name] = neuron_similarity(kernel[:, :SIMILARITY_NEURONS])
        summary.mean_similarity[layer.name] = mean_pairwise_similarity(kernel)
        summary.distinct[layer.name] = distinct_neurons(kernel, bias)
        summary.width[layer.name] = kernel.shape[1]
    return summary


def compare_initialisers(
    dataset: Dataset,
    names: Sequence[str] = tuple(INITIALISERS),
    config: Optional[TrainConfig] = None,
    on_run: Optional[Callable[[int, str], None]] = None,
) -> dict[str, InitRun]:
    """Train the same model from the same seed once per kernel initializer.

    Args:
        dataset: the shared dataset.
        names: kernel initializers (keys of INITIALISERS).
        config: the shared settings (activation, init_stddev, epochs...); defaults to base_config().
        on_run: called with (index, name) before each run.
    Returns:
        dict mapping each initializer name to its InitRun.
    """
    config = config or base_config()
    runs = {}
    for index, name in enumerate(names):
        if on_run is not None:
            on_run(index, name)
        run_config = replace(config, kernel_initializer=name)
        runs[name] = summarise_run(name, run_config, train_small_model(run_config, dataset))
    return runs


# ----------------------------------------------------------------------
# Tables and figures
# ----------------------------------------------------------------------
def summary_table(runs: dict[str, InitRun], layer: str = "hidden_1") -> pd.DataFrame:
    """One row per initializer: accuracy, initial spread, how much the weights moved, neuron similarity.

    Args:
        runs: name -> InitRun.
        layer: the hidden layer to describe.
    Returns:
        a pandas DataFrame.
    """
    rows = []
    for run in runs.values():
        rows.append({
            "initialisation": run.label,
            "test accuracy": run.test_accuracy,
            "distinct neurons": f"{run.distinct[layer]} of {run.width[layer]}",
            "mean similarity": run.mean_similarity[layer],
            "kernel std at start": run.initial_std[layer],
            "biases at start": "all zero" if run.initial_bias_max[layer] == 0 else f"up to {run.initial_bias_max[layer]:.3g}",
            "largest weight change": run.weight_change[layer],
        })
    return pd.DataFrame(rows)


def accuracy_figure(runs: dict[str, InitRun]) -> go.Figure:
    """Validation accuracy per epoch for each initializer, with the 10% chance level.

    Args:
        runs: name -> InitRun.
    Returns:
        a Figure with one line per run and a dotted chance line.
    """
    figure = _figure("Validation accuracy per epoch", "epoch", "validation accuracy")
    for index, run in enumerate(runs.values()):
        figure.add_trace(go.Scatter(
            x=run.history["epoch"], y=run.history["val_accuracy"], mode="lines+markers", name=run.label,
            line=dict(color=COLORS[index % len(COLORS)], width=3),
        ))
    reference_line(figure, 0.1, "chance (10 classes)")
    figure.update_yaxes(range=[0, 1])
    figure.update_xaxes(dtick=1)
    return figure


def similarity_figure(run: InitRun, layer: str = "hidden_1") -> go.Figure:
    """Heatmap of the cosine similarity between the first neurons of a layer after training.

    Args:
        run: an InitRun.
        layer: the hidden layer.
    Returns:
        a Figure with one Heatmap trace (1 = identical neurons, 0 = unrelated).
    """
    matrix = run.similarity[layer]
    neurons = list(range(1, matrix.shape[0] + 1))
    figure = _figure(f"{run.label}: {layer}", "neuron", "neuron")
    figure.add_trace(go.Heatmap(
        z=matrix, x=neurons, y=neurons, zmin=-1, zmax=1, colorscale="RdBu", reversescale=True,
        colorbar=dict(title="cosine"), hovertemplate="neurons %{y} and %{x}: %{z:.2f}<extra></extra>",
    ))
    figure.update_xaxes(tickvals=[1, 5, 10, 15, 20])
    figure.update_yaxes(autorange="reversed", scaleanchor="x", tickvals=[1, 5, 10, 15, 20])
    return figure


# ----------------------------------------------------------------------
# The page's outcome claims, checked on the real data by tests/lab/test_claims.py
# ----------------------------------------------------------------------
CHANCE_LOSS = float(np.log(10))  # cross-entropy of a uniform guess over 10 classes


def claims_experiment(dataset: Dataset, trainer: Optional[Callable] = None) -> dict:
    """The page's default comparison (every initializer, relu, 3 epochs) and random normal with σ 0.0001 and 1.

    Args:
        dataset: the shared dataset.
        trainer: unused: these runs need the trained weights, so they use train_small_model.
    Returns:
        {"default": initializer -> InitRun, "tiny": InitRun at σ=0.0001, "huge": InitRun at σ=1}.
    """
    return {
        "default": compare_initialisers(dataset),
        "tiny": compare_initialisers(dataset, ["random_normal"], base_config(init_stddev=1e-4))["random_normal"],
        "huge": compare_initialisers(dataset, ["random_normal"], base_config(init_stddev=1.0))["random_normal"],
    }


def is_default_experiment(runs: dict[str, InitRun]) -> bool:
    """Whether the page's runs are its default comparison (every initializer at base_config()), so DEFAULT_CLAIMS apply.

    Args:
        runs: from `compare_initialisers`.
    Returns:
        True for the default comparison.
    """
    return (list(runs) == list(INITIALISERS)
            and all(run.config == replace(base_config(), kernel_initializer=name) for name, run in runs.items()))


def _zeros_stay_one_neuron(runs) -> bool:
    zero = runs["default"]["zeros"]
    return set(zero.distinct.values()) == {1} and zero.test_accuracy < 0.15


def _random_ones_train(runs) -> bool:
    # Chance is 10%; all three reach above 65% in 3 epochs (72-78% over seeds 42-44), every neuron distinct.
    learners = [run for name, run in runs["default"].items() if name != "zeros"]
    return len(learners) == 3 and all(run.distinct == run.width and run.test_accuracy > 0.65 for run in learners)


def _zero_biases_everywhere(runs) -> bool:
    return all(max(run.initial_bias_max.values()) == 0 for run in runs["default"].values())


ZERO_CLAIM = Claim(
    "With all-zero kernels each hidden layer ends as **1 distinct neuron** (its 300 and 100 neurons stay identical), "
    "and test accuracy stays at chance (10%).", _zeros_stay_one_neuron)
RANDOM_CLAIM = Claim(
    "Random normal, Glorot and He break the symmetry: all 300 and 100 neurons end distinct, and each reaches over "
    "65% test accuracy in 3 epochs, from the same zero biases.",
    lambda runs: _random_ones_train(runs) and _zero_biases_everywhere(runs))
HEADLINE = Claim(
    "If every kernel starts at zero, all neurons in a layer stay identical and the network does not learn. "
    "Random normal, Glorot and He initialisation break the symmetry and train. Biases may start at zero.",
    lambda runs: _zeros_stay_one_neuron(runs) and _random_ones_train(runs) and _zero_biases_everywhere(runs))
DEFAULT_CLAIMS = (
    ZERO_CLAIM,
    Claim("With relu, zero kernels never move at all: every hidden neuron outputs 0, so every hidden weight's "
          "gradient is 0.", lambda runs: set(runs["default"]["zeros"].weight_change.values()) == {0.0}),
    RANDOM_CLAIM,
)
TRY_CLAIMS = (
    Claim("Random normal with σ = 0.0001 is almost zero again: after 3 epochs the loss is still ln 10 ≈ 2.30 and "
          "the accuracy at chance.",
          lambda runs: abs(runs["tiny"].history["loss"][-1] - CHANCE_LOSS) < 0.01 and runs["tiny"].test_accuracy < 0.15),
    Claim("Random normal with σ = 1 is so large that the loss explodes: it is NaN from the first epoch.",
          lambda runs: not np.isfinite(runs["huge"].history["loss"][0])),
)
CLAIMS = (HEADLINE,) + DEFAULT_CLAIMS + TRY_CLAIMS
