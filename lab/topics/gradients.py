"""Vanishing and exploding gradients in a deep MLP, and batch normalisation as the fix.

Backpropagation multiplies one factor per layer on the way from the loss to the
first layer: the slope of the layer's activation, then its transposed weights. Sigmoid's
slope is at most 1/4, so with ordinary weights the product shrinks layer after
layer (vanishing); with large weights it can grow (exploding). The experiment
measures the real per-layer gradient norms of a deep Keras MLP on one batch of
real images at initialisation, then trains it briefly with `lab.training.train`
and reads the per-layer norms from its step log.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Optional

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lab.claims import Claim
from lab.config import TrainConfig
from lab.data import Dataset, split_indices
from lab.plots import COLORS, _figure, add_running_and_validation, readable_log_ticks, reference_line

WIDTH = 100  # units per hidden layer: with stddev 0.1 = 1/sqrt(100) a linear layer keeps the signal's scale
STDDEV_OPTIONS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
ACTIVATION_OPTIONS = ("sigmoid", "tanh", "relu")
# 10,000 images for 2 epochs (626 steps): batch norm's moving statistics need a few hundred steps
# to catch up before the validation accuracy, measured with them, shows what the network learnt.
BASE_FIELDS = dict(
    train_size=10_000, validation_size=1_000, epochs=2, batch_size=32, learning_rate=0.1, log_every=10, seed=42,
    kernel_initializer="random_normal",
)
NORM_BATCH = 256  # images in the batch whose gradient is measured at initialisation

# The chain rule for the row-vector convention of page 05: z_l = h_{l-1} W_l + b_l and h_l = sigma(z_l).
# Going back one layer multiplies the row gradient on the right by diag(sigma'(z_l)) and then by W_l^T, so the
# factors appear in the order the backward pass meets them: layer n first, layer 2 last.
CHAIN_RULE_LATEX = (
    r"\frac{\partial L}{\partial h_1} = \frac{\partial L}{\partial h_n}\,"
    r"\operatorname{diag}\!\big(\sigma'(z_n)\big)\,W_n^{\top}\,"
    r"\operatorname{diag}\!\big(\sigma'(z_{n-1})\big)\,W_{n-1}^{\top}\cdots"
    r"\operatorname{diag}\!\big(\sigma'(z_2)\big)\,W_2^{\top}"
)
CHAIN_RULE_CONVENTION = r"z_l = h_{l-1} W_l + b_l,\quad h_l = \sigma(z_l)\quad\text{(row vectors, as on page 05)}"


def chain_rule_product(upstream: np.ndarray, kernels: list[np.ndarray], slopes: list[np.ndarray]) -> np.ndarray:
    """dL/dh_1 by multiplying CHAIN_RULE_LATEX's factors in its order: diag(sigma'(z_l)) W_l^T for l = n down to 2.

    Args:
        upstream: dL/dh_n as a row vector (or a batch of rows).
        kernels: W_2 ... W_n, input side first, each of shape (units of h_{l-1}, units of h_l).
        slopes: sigma'(z_2) ... sigma'(z_n), matching `kernels`.
    Returns:
        dL/dh_1 with the shape of h_1.
    """
    gradient = np.asarray(upstream, dtype=np.float64)
    for kernel, slope in zip(reversed(kernels), reversed(slopes)):
        gradient = (gradient * slope) @ kernel.T  # a row vector times diag(slope) is an elementwise product
    return gradient


def deep_config(depth: int = 10, activation: str = "sigmoid", init_stddev: float = 0.1,
                batch_norm: str = "none", **overrides) -> TrainConfig:
    """A deep MLP: `depth` hidden layers of WIDTH units, random normal kernels with the given stddev.

    Args:
        depth: number of hidden layers (1 to 10).
        activation: hidden activation.
        init_stddev: stddev of the random normal kernels (the init scale).
        batch_norm: "none", "before" or "after" the activation.
        **overrides: other TrainConfig fields.
    Returns:
        a validated TrainConfig.
    """
    fields = {**BASE_FIELDS, "hidden_units": (WIDTH,) * depth, "activation": activation,
              "init_stddev": init_stddev, "batch_norm": batch_norm, **overrides}
    return TrainConfig(**fields)


def dense_layer_names(config: TrainConfig) -> list[str]:
    """Names of the model's Dense layers, input side first: hidden_1 ... hidden_n, output.

    Args:
        config: the model's config.
    Returns:
        list of layer names.
    """
    return [f"hidden_{index + 1}" for index in range(len(config.hidden_units))] + ["output"]


def initial_gradient_norms(config: TrainConfig, dataset: Dataset, batch_size: int = NORM_BATCH) -> dict[str, float]:
    """The gradient norm of each Dense layer (kernel and bias together) on one batch, before any training.

    Args:
        config: the model to build (seeded, so the same config gives the same norms).
        dataset: the shared dataset.
        batch_size: images in the batch.
    Returns:
        dict layer name -> norm, input side first.
    """
    import tensorflow as tf

    from lab.models import build_loss, build_model

    train_index, _ = split_indices(dataset.y_train, config.train_size, config.validation_size, config.seed)
    batch = train_index[:batch_size]
    model = build_model(config, dataset.num_classes)
    with tf.GradientTape() as tape:
        loss = build_loss(config)(dataset.y_train[batch], model(dataset.x_train[batch], training=True))
    layers = {name: model.get_layer(name).trainable_weights for name in dense_layer_names(config)}
    # The tape may be asked only once, so take every layer's gradients in one call.
    gradients = tape.gradient(loss, [weight for weights in layers.values() for weight in weights])
    squares = iter(float(tf.reduce_sum(tf.square(gradient))) for gradient in gradients)
    return {name: float(np.sqrt(sum(next(squares) for _ in weights))) for name, weights in layers.items()}


def trained_layer_norms(result) -> Optional[dict[str, float]]:
    """Per-Dense-layer gradient norms averaged over the last epoch's logged steps of a training run.

    Args:
        result: a lab.training.TrainResult.
    Returns:
        dict layer name -> mean norm, or None when the run logged no step (it diverged at once).
    """
    if not result.step_log:
        return None
    last_epoch = max(int(np.ceil(entry["epoch"])) for entry in result.step_log)
    entries = [entry for entry in result.step_log if int(np.ceil(entry["epoch"])) == last_epoch]
    dense = dense_layer_names(result.config)
    norms = np.mean([entry["layer_norms"] for entry in entries], axis=0)
    return {name: float(norm) for name, norm in zip(result.layer_names, norms) if name in dense}


@dataclass
class DepthRun:
    """One deep network: its gradient norms at the start and after training, and how well it learnt."""

    label: str
    config: TrainConfig
    initial_norms: dict  # layer -> norm on one batch at initialisation
    trained_norms: Optional[dict]  # layer -> mean norm over the last epoch (None when it diverged at once)
    history: dict
    step_log: list
    test_accuracy: float
    stop_reason: str
    stop_detail: str

    @property
    def first_to_last(self) -> float:
        """Ratio of the first hidden layer's gradient norm to the output layer's, at initialisation.

        Returns:
            a number far below 1 when gradients vanish towards the input, far above 1 when they explode.
        """
        return self.initial_norms["hidden_1"] / self.initial_norms["output"]


def diagnosis(run: DepthRun) -> str:
    """Name what the initial gradient norms show.

    Args:
        run: a DepthRun.
    Returns:
        "huge" (every layer's gradient above 1e3, or the run diverged), "vanishing" (first layer over
        100x smaller than the output layer), "exploding" (over 100x larger), "tiny" (every gradient below
        1e-4: the signal died in the forward pass) or "healthy".
    """
    norms = list(run.initial_norms.values())
    if run.stop_reason == "diverged" or min(norms) > 1e3:
        return "huge"
    if run.first_to_last < 1e-2:
        return "vanishing"
    if run.first_to_last > 1e2:
        return "exploding"
    if max(norms) < 1e-4:
        return "tiny"
    return "healthy"


def depth_experiment(
    dataset: Dataset,
    config: Optional[TrainConfig] = None,
    with_batch_norm: bool = True,
    on_run: Optional[Callable[[int, str], None]] = None,
    trainer: Optional[Callable] = None,
) -> dict[str, DepthRun]:
    """Measure and train the deep MLP as configured and, optionally, the same MLP with batch norm.

    Args:
        dataset: the shared dataset.
        config: the deep MLP (defaults to deep_config()).
        with_batch_norm: also run a twin with BatchNormalization before each activation.
        on_run: called with (index, label) before each run.
        trainer: train(config, dataset) -> TrainResult; lab.training.train by default (pages pass the
            server's shared queue and result cache).
    Returns:
        dict label -> DepthRun: "as configured" and, if asked, "with batch norm".
    """
    if trainer is None:
        from lab.training import train as trainer  # TensorFlow loads here, not on import

    config = config or deep_config()
    configs = {"as configured": config}
    if with_batch_norm and config.batch_norm == "none":
        configs["with batch norm"] = replace(config, batch_norm="before")
    runs = {}
    for index, (label, run_config) in enumerate(configs.items()):
        if on_run is not None:
            on_run(index, label)
        result = trainer(run_config, dataset)
        runs[label] = DepthRun(
            label=label, config=run_config, initial_norms=initial_gradient_norms(run_config, dataset),
            trained_norms=trained_layer_norms(result), history=result.history, step_log=result.step_log,
            test_accuracy=result.test_accuracy, stop_reason=result.stop_reason, stop_detail=result.stop_detail,
        )
    return runs


def describe(config: TrainConfig) -> str:
    """A short description such as "10 x sigmoid, σ=0.1, batch norm before".

    Args:
        config: a deep_config.
    Returns:
        the description.
    """
    text = f"{len(config.hidden_units)} x {config.activation}, σ={config.init_stddev:g}"
    return text + (f", batch norm {config.batch_norm}" if config.batch_norm != "none" else "")


def layer_norms_figure(runs: dict[str, DepthRun]) -> go.Figure:
    """Gradient norm per layer (input side on the left) on a log axis: at initialisation and after training.

    Args:
        runs: label -> DepthRun.
    Returns:
        a Figure with a solid line per run at initialisation and a dashed one after training.
    """
    figure = _figure("Gradient norm per layer", "hidden layer (input side on the left)", "gradient norm (log scale)",
                     log_y=True)
    figure.update_yaxes(exponentformat="power")
    # Short tick labels (1, 2, ..., out) stay horizontal and readable on a phone.
    names = list(next(iter(runs.values())).initial_norms) if runs else []
    figure.update_xaxes(tickvals=names, ticktext=[name.replace("hidden_", "").replace("output", "out") for name in names],
                        tickangle=0)
    for index, run in enumerate(runs.values()):
        color = COLORS[index % len(COLORS)]
        figure.add_trace(go.Scatter(
            x=list(run.initial_norms), y=list(run.initial_norms.values()), mode="lines+markers",
            name=f"{describe(run.config)}: at start", line=dict(color=color, width=3),
        ))
        if run.trained_norms:
            figure.add_trace(go.Scatter(
                x=list(run.trained_norms), y=list(run.trained_norms.values()), mode="lines+markers",
                name=f"{describe(run.config)}: last epoch", line=dict(color=color, width=2, dash="dash"),
            ))
    return readable_log_ticks(figure)


def accuracy_figure(runs: dict[str, DepthRun]) -> go.Figure:
    """Running training accuracy per step and validation accuracy per epoch, per run.

    Args:
        runs: label -> DepthRun.
    Returns:
        a Figure with a thin and a thick line per run and a chance line.
    """
    figure = _figure("Does it learn?", "epoch", "accuracy")
    for index, run in enumerate(runs.values()):
        add_running_and_validation(figure, run, "accuracy", describe(run.config), COLORS[index % len(COLORS)])
    reference_line(figure, 0.1, "chance (10 classes)")
    figure.update_yaxes(range=[0, 1])
    return figure


# The summary table's columns as shown: the slide's numbers right after the run's short label, so a phone shows them
# without scrolling sideways; the long description and the norms the ratio comes from after them.
SUMMARY_COLUMN_ORDER = ("run", "hidden_1 / output", "test accuracy", "hidden_1 gradient norm", "output gradient norm",
                        "network", "training")


def summary_table(runs: dict[str, DepthRun]) -> pd.DataFrame:
    """One row per run: its short label, first- and last-layer gradient norms, their ratio, and accuracy.

    Args:
        runs: label -> DepthRun.
    Returns:
        a pandas DataFrame; "run" is the short label ("as configured"), "network" the full description.
    """
    return pd.DataFrame([{
        "run": label,
        "network": describe(run.config),
        "hidden_1 gradient norm": run.initial_norms["hidden_1"],
        "output gradient norm": run.initial_norms["output"],
        "hidden_1 / output": run.first_to_last,
        "test accuracy": run.test_accuracy,
        "training": run.stop_reason,
    } for label, run in runs.items()])


# ----------------------------------------------------------------------
# The page's outcome claims, checked on the real data by tests/lab/test_claims.py
# ----------------------------------------------------------------------
def claims_experiment(dataset: Dataset, trainer: Optional[Callable] = None) -> dict:
    """The runs the page's claims are about, all with 10 hidden layers at the page's other defaults.

    Args:
        dataset: the shared dataset.
        trainer: train(config, dataset) -> TrainResult; lab.training.train by default.
    Returns:
        {"vanishing": depth_experiment of sigmoid with σ=0.1 (the page's default, with its batch-norm twin),
        "exploding": the same for tanh with σ=1, "smaller": initial norms of sigmoid with σ=0.01,
        "relu": initial norms of relu with σ=0.1, "relu_large": a DepthRun of relu with σ=0.5}.
    """
    return {
        "vanishing": depth_experiment(dataset, deep_config(), trainer=trainer),
        "exploding": depth_experiment(dataset, deep_config(activation="tanh", init_stddev=1.0), trainer=trainer),
        "smaller": initial_gradient_norms(deep_config(init_stddev=0.01), dataset),
        "relu": initial_gradient_norms(deep_config(activation="relu"), dataset),
        "relu_large": depth_experiment(dataset, deep_config(activation="relu", init_stddev=0.5), with_batch_norm=False,
                                       trainer=trainer)["as configured"],
    }


def _ratio(norms: dict) -> float:
    return norms["hidden_1"] / norms["output"]


def _vanishes(runs) -> bool:
    plain = runs["vanishing"]["as configured"]
    return diagnosis(plain) == "vanishing" and plain.first_to_last < 1e-4 and plain.test_accuracy < 0.2


def _smaller_weights_make_it_worse(runs) -> bool:
    return _ratio(runs["smaller"]) < 1e-2 * runs["vanishing"]["as configured"].first_to_last


def _explodes(runs) -> bool:
    plain = runs["exploding"]["as configured"]
    return diagnosis(plain) == "exploding" and plain.first_to_last > 1e2 and plain.test_accuracy < 0.2


def _batch_norm_fixes(runs, name: str) -> bool:
    # "Fixes" means a healthy run, not just a better ratio: gradients alike and well above chance (10%).
    run = runs[name]["with batch norm"]
    return 0.1 < run.first_to_last < 10 and run.stop_reason == "completed" and run.test_accuracy > 0.6


def _batch_norm_fixes_both(runs) -> bool:
    return _batch_norm_fixes(runs, "vanishing") and _batch_norm_fixes(runs, "exploding")


HEADLINE = Claim(
    "In a deep sigmoid network the gradient shrinks by orders of magnitude on its way back to the first layer, "
    "and smaller initial weights make it worse; with tanh, large initial weights make it explode. Batch "
    "normalisation fixes both.",
    lambda runs: (_vanishes(runs) and _smaller_weights_make_it_worse(runs) and _explodes(runs)
                  and _batch_norm_fixes_both(runs)),
)
# Measured with 10 hidden layers of 100 units: the page's defaults, and the settings its text suggests trying.
DEFAULT_CLAIMS = (
    Claim("Sigmoid with σ = 0.1 (the defaults): the first layer's gradient is more than 10,000 times smaller than "
          "the output layer's, and the network stays at chance (below 20% test accuracy).", _vanishes),
    Claim("With batch normalisation before each activation the first layer's gradient is within a factor of 10 of "
          "the output layer's, and the network learns (above 60% test accuracy).",
          lambda runs: _batch_norm_fixes(runs, "vanishing")),
)
EXPLODING_CLAIM = Claim(
    "Tanh with σ = 1: the first layer's gradient is more than 100 times the output layer's (it explodes towards "
    "the input) and the network stays at chance; with batch normalisation the two are within a factor of 10 and "
    "it learns (above 60% test accuracy).",
    lambda runs: _explodes(runs) and _batch_norm_fixes(runs, "exploding"))
TRY_CLAIMS = (
    Claim("Sigmoid with σ = 0.01: the first layer's gradient is another 100 times smaller, or more.",
          _smaller_weights_make_it_worse),
    Claim("Relu with σ = 0.1: no vanishing; the first layer's gradient is within a factor of 10 of the output "
          "layer's.", lambda runs: 0.1 < _ratio(runs["relu"]) < 10),
    EXPLODING_CLAIM,
    Claim("Relu with σ = 0.5: every layer's gradient is above 1,000 and the loss becomes NaN, so training "
          "diverges.", lambda runs: min(runs["relu_large"].initial_norms.values()) > 1e3
          and runs["relu_large"].stop_reason == "diverged"),
)
CLAIMS = (HEADLINE,) + DEFAULT_CLAIMS + TRY_CLAIMS


def is_default_experiment(runs: dict) -> bool:
    """Whether the page's runs are its defaults (10 sigmoid layers, σ=0.1, with batch norm), so DEFAULT_CLAIMS apply.

    Args:
        runs: from `depth_experiment`.
    Returns:
        True for the default experiment.
    """
    return set(runs) == {"as configured", "with batch norm"} and runs["as configured"].config == deep_config()
