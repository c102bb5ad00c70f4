"""Topic 5, backpropagation on one mini-batch of 32 real images.

One step of the lecture's model, taken apart: the forward pass with each
layer's activations, the loss, the backward pass with each layer's gradients
(computed by Keras's GradientTape, and checked by hand for the output layer),
and the update applied by a real keras.optimizers.SGD. A small learning rate
lowers that batch's loss; a huge one overshoots and raises it.
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.lazy import keras
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from lab.lazy import tf

from lab.claims import Claim
from lab.config import TrainConfig, float_literal
from lab.data import Dataset
from lab.models import build_model
from lab.plots import COLORS, REFERENCE_COLOR, TOPIC_LAYOUT as _LAYOUT, readable_log_ticks

BATCH_SIZE = 32
# layer_frame's columns, shown as two tables where the page explains them: one table with all eleven would be
# wider than a laptop's page.
# The tables' columns, the step's numbers first after the layer's name: a 390 px phone shows about three columns
# before a sideways scroll, so the share of zeros (relu at work) and the gradient and update norms come first.
FORWARD_COLUMNS = ("layer", "share of zeros", "mean activation", "activation", "output shape")
BACKWARD_COLUMNS = ("layer", "‖dL/dW‖", "‖ΔW‖ = η‖dL/dW‖", "‖δ‖ = ‖dL/dz‖", "‖dL/db‖", "RMS of dL/dW per weight",
                    "‖W‖")
# Learning rates of the one-step sweep, from tiny to absurd (log-spaced).
SWEEP_RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)


@dataclass
class LayerTrace:
    """One Dense layer during the step, as plain data."""

    name: str
    units: int
    kernel_size: int  # number of weights in the kernel W
    activation: str
    activations: np.ndarray  # (32, units) outputs of the layer on the batch
    error_norm: float  # ||dL/dz||, the error signal delta at the layer's pre-activation z
    kernel_gradient_norm: float  # ||dL/dW||
    kernel_gradient_rms: float  # root mean square of dL/dW per weight
    bias_gradient_norm: float  # ||dL/db||
    kernel_norm: float  # ||W|| before the step
    kernel_update_norm: float  # ||W_after - W_before||


@dataclass
class BackpropResult:
    """Everything one forward-backward-update step produced, as plain data."""

    learning_rate: float
    batch_seed: int
    batch_positions: np.ndarray  # positions of the 32 images in the training set
    images: np.ndarray  # (32, 28, 28) uint8
    labels: np.ndarray  # (32,)
    probabilities: np.ndarray  # (32, 10) softmax outputs before the step
    example_losses_before: np.ndarray  # (32,) cross-entropy per image
    example_losses_after: np.ndarray  # (32,) after the step, same images
    loss_before: float
    loss_after: float
    layers: list[LayerTrace]
    output_gradient_by_hand: np.ndarray  # h2^T (p - onehot) / 32, the output kernel's gradient
    output_gradient_keras: np.ndarray  # the same gradient from GradientTape
    keras_forward_difference: float  # max |layer-by-layer forward - model(images)|, about 1e-7
    sweep: pd.DataFrame  # learning_rate, loss_after for SWEEP_RATES
    class_names: tuple[str, ...]
    model_seed: int = 42  # seeded the initial weights

    @property
    def largest_gradient_layer(self) -> str:
        """The layer whose kernel gradient has the largest norm.

        Returns:
            a layer name such as "output".
        """
        return max(self.layers, key=lambda layer: layer.kernel_gradient_norm).name

    @property
    def largest_gradient_rms_layer(self) -> str:
        """The layer whose kernel gradient is largest per weight (root mean square).

        Returns:
            a layer name such as "output".
        """
        return max(self.layers, key=lambda layer: layer.kernel_gradient_rms).name

    @property
    def correct_before(self) -> int:
        """Images of the batch classified right before the step.

        Returns:
            a count between 0 and 32.
        """
        return int(np.sum(self.probabilities.argmax(axis=1) == self.labels))

    @property
    def output_gradient_difference(self) -> float:
        """Largest difference between the hand-derived and Keras's output-kernel gradient.

        Returns:
            a float near 1e-8.
        """
        return float(np.max(np.abs(self.output_gradient_by_hand - self.output_gradient_keras)))

    @property
    def largest_update(self) -> float:
        """The largest ||W_after - W_before|| over the layers.

        Returns:
            a norm.
        """
        return max(layer.kernel_update_norm for layer in self.layers)

    @property
    def overshoot_rate(self) -> float | None:
        """The smallest learning rate of the sweep whose step raises the batch's loss.

        Returns:
            a learning rate, or None when every rate of the sweep lowers the loss.
        """
        rising = self.sweep[self.sweep["loss_after"] > self.loss_before]
        return float(rising["learning_rate"].min()) if len(rising) else None

    @property
    def best_sweep_rate(self) -> float:
        """The learning rate of the sweep with the lowest loss after one step.

        Returns:
            a learning rate.
        """
        return float(self.sweep.loc[self.sweep["loss_after"].idxmin(), "learning_rate"])

    @property
    def loss_decreased(self) -> bool:
        """Whether the step lowered the loss on this same batch.

        Returns:
            True when loss_after < loss_before.
        """
        return self.loss_after < self.loss_before

    def layer_frame(self) -> pd.DataFrame:
        """One row per Dense layer with its activation statistics and gradient and update norms.

        Returns:
            a DataFrame ready to display.
        """
        frame = pd.DataFrame([{
            "layer": layer.name, "output shape": f"(32, {layer.units})", "activation": layer.activation,
            "mean activation": float(layer.activations.mean()),
            "share of zeros": float(np.mean(layer.activations == 0)),
            "‖δ‖ = ‖dL/dz‖": layer.error_norm,
            "‖dL/dW‖": layer.kernel_gradient_norm, "RMS of dL/dW per weight": layer.kernel_gradient_rms,
            "‖dL/db‖": layer.bias_gradient_norm,
            "‖W‖": layer.kernel_norm, "‖ΔW‖ = η‖dL/dW‖": layer.kernel_update_norm,
        } for layer in self.layers])
        return frame[list(FORWARD_COLUMNS) + list(BACKWARD_COLUMNS[1:])]  # in the order the page's two tables show


def batch_positions(dataset: Dataset, batch_seed: int, size: int = BATCH_SIZE) -> np.ndarray:
    """A seeded random mini-batch of training-image positions.

    Args:
        dataset: the shared dataset.
        batch_seed: which batch (equal seeds give equal batches).
        size: images in the batch.
    Returns:
        int array of positions.
    """
    return np.sort(np.random.default_rng(batch_seed).choice(len(dataset.y_train), size, replace=False))


def _forward(model: keras.Model, images: tf.Tensor):
    """Run the layers one by one, keeping each Dense layer's pre-activation z and output.

    A Dense layer computes activation(x W + b); it is spelled out here with the
    layer's own weights and activation so that z can be differentiated too
    (Keras's cross-entropy reads the softmax's logits z directly).
    """
    pre_activations, outputs, x = {}, {}, images
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            z = tf.matmul(x, layer.kernel) + layer.bias
            x = layer.activation(z)
            pre_activations[layer.name], outputs[layer.name] = z, x
        else:
            x = layer(x, training=False)
    return x, pre_activations, outputs


def _batch_loss(model: keras.Model, images: tf.Tensor, labels: tf.Tensor) -> np.ndarray:
    losses = keras.losses.sparse_categorical_crossentropy(labels, model(images, training=False))
    return np.asarray(losses, dtype=np.float64)


def one_step_losses(model: keras.Model, images: tf.Tensor, labels: tf.Tensor, gradients: list,
                    learning_rates=SWEEP_RATES) -> pd.DataFrame:
    """The batch's loss after one SGD step of each learning rate, each from the same starting weights.

    Args:
        model: the model at its starting weights (restored afterwards).
        images: the batch.
        labels: its labels.
        gradients: the batch gradient, aligned with model.trainable_variables.
        learning_rates: the rates to try.
    Returns:
        a DataFrame with columns learning_rate and loss_after.
    """
    start = [variable.numpy() for variable in model.trainable_variables]
    rows = []
    for rate in learning_rates:
        keras.optimizers.SGD(rate).apply_gradients(zip(gradients, model.trainable_variables))
        rows.append({"learning_rate": rate, "loss_after": float(_batch_loss(model, images, labels).mean())})
        for variable, value in zip(model.trainable_variables, start):
            variable.assign(value)
    return pd.DataFrame(rows)


def backprop_step(dataset: Dataset, learning_rate: float = 0.01, batch_seed: int = 0,
                  model_seed: int = 42) -> BackpropResult:
    """Take one SGD step of the lecture's model on one batch of 32 and record every stage.

    Args:
        dataset: the shared dataset.
        learning_rate: SGD's learning rate for the step.
        batch_seed: which batch of 32 training images.
        model_seed: seeds the initial weights (Glorot uniform, zero biases).
    Returns:
        a BackpropResult.
    """
    positions = batch_positions(dataset, batch_seed)
    images = tf.constant(dataset.x_train[positions])
    labels = tf.constant(dataset.y_train[positions].astype(np.int32))
    model = build_model(TrainConfig(seed=model_seed), dataset.num_classes)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    kernels_before = [layer.kernel.numpy() for layer in dense]
    with tf.GradientTape() as tape:
        probabilities, pre_activations, outputs = _forward(model, images)
        example_losses = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
        loss = tf.reduce_mean(example_losses)
    keras_difference = float(np.max(np.abs(np.asarray(probabilities) - np.asarray(model(images, training=False)))))
    variables = model.trainable_variables
    gradients = tape.gradient(loss, variables + list(pre_activations.values()))
    weight_gradients, error_signals = gradients[: len(variables)], gradients[len(variables):]
    sweep = one_step_losses(model, images, labels, weight_gradients)
    # The step itself, by the real Keras optimizer.
    keras.optimizers.SGD(learning_rate).apply_gradients(zip(weight_gradients, variables))
    losses_after = _batch_loss(model, images, labels)
    gradient_of = {id(variable): gradient for variable, gradient in zip(variables, weight_gradients)}
    layers = [
        LayerTrace(
            name=layer.name, units=layer.units, kernel_size=int(np.prod(layer.kernel.shape)),
            activation=keras.activations.serialize(layer.activation),
            activations=np.asarray(outputs[layer.name]), error_norm=float(tf.norm(error)),
            kernel_gradient_norm=float(tf.norm(gradient_of[id(layer.kernel)])),
            kernel_gradient_rms=float(np.sqrt(np.mean(np.square(gradient_of[id(layer.kernel)])))),
            bias_gradient_norm=float(tf.norm(gradient_of[id(layer.bias)])),
            kernel_norm=float(np.linalg.norm(before)),
            kernel_update_norm=float(np.linalg.norm(layer.kernel.numpy() - before)),
        )
        for layer, error, before in zip(dense, error_signals, kernels_before)
    ]
    probabilities = np.asarray(probabilities, dtype=np.float64)
    hidden = np.asarray(outputs[dense[-2].name], dtype=np.float64)
    one_hot = np.eye(dataset.num_classes)[np.asarray(labels)]
    return BackpropResult(
        learning_rate=learning_rate, batch_seed=batch_seed, batch_positions=positions, images=np.asarray(images),
        labels=np.asarray(labels),
        probabilities=probabilities, example_losses_before=np.asarray(example_losses, dtype=np.float64),
        example_losses_after=losses_after, loss_before=float(loss), loss_after=float(losses_after.mean()),
        layers=layers,
        # Softmax with cross-entropy has the gradient (p - y) at its input, so the
        # output kernel's gradient is h2^T (p - y) averaged over the batch.
        output_gradient_by_hand=hidden.T @ (probabilities - one_hot) / len(positions),
        output_gradient_keras=np.asarray(gradient_of[id(dense[-1].kernel)], dtype=np.float64),
        keras_forward_difference=keras_difference, sweep=sweep, class_names=dataset.class_names,
        model_seed=model_seed,
    )


# ----------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------
def activations_figure(result: BackpropResult, layer_name: str) -> go.Figure:
    """A heatmap of one layer's outputs: one row per image of the batch, one column per unit.

    Args:
        result: a BackpropResult.
        layer_name: e.g. "hidden_1".
    Returns:
        a Figure with one Heatmap trace.
    """
    layer = next(layer for layer in result.layers if layer.name == layer_name)
    rows = [f"{index + 1}: {result.class_names[label]}" for index, label in enumerate(result.labels)]
    figure = go.Figure(go.Heatmap(
        z=layer.activations, y=rows, colorscale="Viridis", colorbar=dict(title="output"),
        hovertemplate="image %{y}<br>unit %{x}<br>output %{z:.3f}<extra></extra>",
    ))
    zeros = float(np.mean(layer.activations == 0))
    figure.update_layout(
        title=f"Forward pass: {layer.name} ({layer.activation}), {layer.units} units, {zeros:.0%} zeros",
        xaxis_title="unit", yaxis_title="image of the batch", height=620, **_LAYOUT,
    )
    figure.update_yaxes(autorange="reversed", tickfont=dict(size=10))
    return figure


def gradients_figure(result: BackpropResult) -> go.Figure:
    """Gradient norm per layer (kernel and bias) on a linear axis from 0; the largest is named in the title.

    Args:
        result: a BackpropResult.
    Returns:
        a Figure with two Bar traces.
    """
    names = [layer.name for layer in result.layers]
    figure = go.Figure([
        go.Bar(x=names, y=[layer.kernel_gradient_norm for layer in result.layers], name="‖dL/dW‖ (kernel)",
               marker_color=COLORS[0], text=[f"{layer.kernel_gradient_norm:.3g}" for layer in result.layers],
               textposition="outside"),
        go.Bar(x=names, y=[layer.bias_gradient_norm for layer in result.layers], name="‖dL/db‖ (bias)",
               marker_color=COLORS[1], text=[f"{layer.bias_gradient_norm:.3g}" for layer in result.layers],
               textposition="outside"),
    ])
    figure.update_layout(barmode="group",
                         title=f"Backward pass: largest kernel gradient at {result.largest_gradient_layer}",
                         xaxis_title="layer (input side first)", yaxis_title="gradient norm", **_LAYOUT)
    # Linear from 0, so a bar's length is its norm: a log axis starting near 0.15 drew a 0.174 bias gradient as almost
    # nothing beside a 0.18 one. The norms of this batch span about one power of ten, which a linear axis shows.
    figure.update_yaxes(type="linear", rangemode="tozero")
    return figure


def example_losses_figure(result: BackpropResult) -> go.Figure:
    """Each image's loss before and after the step.

    Args:
        result: a BackpropResult.
    Returns:
        a Figure with two Bar traces.
    """
    names = [f"{index + 1}: {result.class_names[label]}" for index, label in enumerate(result.labels)]
    figure = go.Figure([
        go.Bar(x=names, y=result.example_losses_before, name=f"before: mean {result.loss_before:.4f}",
               marker_color=COLORS[0]),
        go.Bar(x=names, y=result.example_losses_after, name=f"after one step: mean {result.loss_after:.4f}",
               marker_color=COLORS[3 if not result.loss_decreased else 2]),
    ])
    figure.update_layout(barmode="group", title=f"Cross-entropy per image, learning rate {result.learning_rate:g}",
                         xaxis_title="image of the batch: its true class", yaxis_title="−log p(true class)",
                         **{**_LAYOUT, "legend": dict(orientation="h", y=1.0, yanchor="bottom", x=1, xanchor="right")})
    figure.update_xaxes(tickangle=-60, tickfont=dict(size=10))
    return figure


def sweep_figure(result: BackpropResult) -> go.Figure:
    """The batch's loss after one step against the learning rate, with the loss before as a line.

    Args:
        result: a BackpropResult.
    Returns:
        a Figure with the sweep trace, a marker at the chosen rate and a horizontal line.
    """
    sweep = result.sweep
    figure = go.Figure(go.Scatter(x=sweep["learning_rate"], y=sweep["loss_after"], mode="lines+markers",
                                  name="loss after one step", line=dict(color=COLORS[0], width=3)))
    figure.add_trace(go.Scatter(x=[result.learning_rate], y=[result.loss_after], mode="markers",
                                name=f"your learning rate {result.learning_rate:g}",
                                marker=dict(symbol="star", size=18, color=COLORS[3])))
    # A trace rather than add_hline: Plotly places hline annotations wrongly on log axes.
    rates = [float(sweep["learning_rate"].min()), float(sweep["learning_rate"].max())]
    figure.add_trace(go.Scatter(x=rates, y=[result.loss_before] * 2, mode="lines",
                                name=f"loss before the step {result.loss_before:.3f}",
                                line=dict(color=REFERENCE_COLOR, dash="dash", width=2)))
    figure.update_layout(title="One step, many learning rates (same batch, same starting weights)",
                         xaxis_title="learning rate η (log scale)",
                         yaxis_title="batch loss after the step (log scale)",
                         **_LAYOUT)
    figure.update_xaxes(type="log")
    figure.update_yaxes(type="log")
    return readable_log_ticks(figure)


def step_code(learning_rate: float, batch_seed: int) -> str:
    """Keras 3 code of one forward-backward-update step on one batch of 32.

    Args:
        learning_rate: SGD's learning rate.
        batch_seed: the batch's seed.
    Returns:
        Python source as a string.
    """
    return f'''import keras
import numpy as np
import tensorflow as tf

(x_train, y_train), _ = keras.datasets.fashion_mnist.load_data()
batch = np.sort(np.random.default_rng({batch_seed}).choice(len(x_train), 32, replace=False))
x, y = x_train[batch], y_train[batch]

model = keras.Sequential([
    keras.Input(shape=(28, 28)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
    keras.layers.Dense(300, activation="relu"), keras.layers.Dense(100, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
loss_fn = keras.losses.SparseCategoricalCrossentropy()

with tf.GradientTape() as tape:                          # forward pass, recorded
    probabilities = model(x)
    loss = loss_fn(y, probabilities)                     # the loss
grads = tape.gradient(loss, model.trainable_variables)  # backward pass
for variable, grad in zip(model.trainable_variables, grads):
    print(variable.path, float(tf.norm(grad)))           # gradient per layer

optimizer = keras.optimizers.SGD(learning_rate={float_literal(learning_rate)})
optimizer.apply_gradients(zip(grads, model.trainable_variables))  # the update W -= lr * grad
print(float(loss), float(loss_fn(y, model(x))))         # the batch's loss before and after
'''


# ----------------------------------------------------------------------
# The page's outcome claims, checked on the real data by tests/lab/test_claims.py
# ----------------------------------------------------------------------
DEFAULT_BATCH_SEED, DEFAULT_MODEL_SEED = 0, 42  # the page's default batch and initial weights
CLAIM_BATCH_SEEDS = (0, 1, 2)  # the default batch and two more, so the claims are not about one lucky batch
SMALL_RATES_UP_TO, HUGE_RATES_FROM = 0.1, 3.0


def claims_experiment(dataset: Dataset, trainer=None) -> dict[int, BackpropResult]:
    """One step at the page's defaults (learning rate 0.01, initial weights seed 42) on batches 0, 1 and 2.

    Every result carries the one-step sweep over SWEEP_RATES from the same starting weights.

    Args:
        dataset: the shared dataset.
        trainer: unused (one step needs no trainer); accepted like every claims_experiment.
    Returns:
        {batch_seed: BackpropResult}.
    """
    return {batch_seed: backprop_step(dataset, 0.01, batch_seed, DEFAULT_MODEL_SEED)
            for batch_seed in CLAIM_BATCH_SEEDS}


def _loss_after(result: BackpropResult, learning_rate: float) -> float:
    return float(result.sweep.set_index("learning_rate").loc[learning_rate, "loss_after"])


def _small_lowers_and_huge_raises(results) -> bool:
    for result in results.values():
        for rate in SWEEP_RATES:
            after = _loss_after(result, rate)
            if rate <= SMALL_RATES_UP_TO and not after < result.loss_before:
                return False
            if rate >= HUGE_RATES_FROM and not after > result.loss_before:
                return False
    return True


def _default_step_lowers(results) -> bool:
    result = results[DEFAULT_BATCH_SEED]
    return result.loss_decreased and abs(result.loss_before - 2.38) < 0.01 and abs(result.loss_after - 2.31) < 0.01


def _rate_ten_overshoots(results) -> bool:
    default = _loss_after(results[DEFAULT_BATCH_SEED], 10.0)
    return 100 < default < 1_000 and all(_loss_after(result, 10.0) > 100 * result.loss_before
                                         for result in results.values())


HEADLINE_CLAIM = Claim(
    "For a **small learning rate** (0.1 or less) the step **lowers** that batch's loss; for a **huge** one (3 or "
    "more) it overshoots and the loss **rises**: so it is for the default initial weights on batches 0, 1 and 2.",
    _small_lowers_and_huge_raises,
)
SMALL_STEP_CLAIM = Claim("With η = 0.01 one step lowers the default batch's loss from about 2.38 to about 2.31.",
                         _default_step_lowers)
HUGE_STEP_CLAIM = Claim("With η = 10 the same step overshoots: the default batch's loss jumps from about 2.4 to a few "
                        "hundred, and on batches 1 and 2 it also rises more than a hundredfold.", _rate_ten_overshoots)
RESULT_CLAIMS = (SMALL_STEP_CLAIM, HUGE_STEP_CLAIM)
CLAIMS = (HEADLINE_CLAIM,) + RESULT_CLAIMS
