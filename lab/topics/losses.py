"""Loss functions: MSE against MAE with outliers, cross-entropy, entropy in bits, and a custom loss.

The regression is on real Fashion-MNIST images: predict an image's mean
brightness from the share of its pixels that have any ink. The relationship is
roughly linear; an outlier slider corrupts the targets of the faintest images
(as if a broken scanner had recorded them as pure white), and a one-unit Keras
model is fitted with each loss. Every number on the page comes from
`keras.losses`; the custom loss is one of this module's own functions.
"""

from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import plotly.graph_objects as go

from lab.claims import Claim
from lab.engines import ENGINES
from lab.plots import COLORS

REGRESSION_POINTS = 200
OUTLIER_TARGET = 1.0  # a pure white image: far above every real mean brightness
FIT_STEPS = 1_000  # full-batch Adam steps: enough for every fit to settle
FIT_LEARNING_RATE = 0.02
STEPS_PER_CALL = 250


# ----------------------------------------------------------------------
# The regression with outliers
# ----------------------------------------------------------------------
@dataclass(frozen=True)
class RegressionData:
    """Points (x, y) of the brightness regression and which targets were corrupted."""

    x: np.ndarray  # share of pixels with any ink, in [0, 1]
    y: np.ndarray  # mean brightness in [0, 1]
    outlier: np.ndarray  # bool mask of corrupted targets


def brightness_data(dataset, points: int = REGRESSION_POINTS, seed: int = 0) -> RegressionData:
    """A seeded sample of real images: ink share as x, mean brightness as y.

    Args:
        dataset: the shared Dataset.
        points: how many training images to sample.
        seed: picks the sample.
    Returns:
        RegressionData without outliers.
    """
    index = np.random.default_rng([seed, 4]).choice(len(dataset.x_train), size=points, replace=False)
    images = dataset.x_train[index].astype(np.float64)
    x = (images > 0).mean(axis=(1, 2))
    y = images.mean(axis=(1, 2)) / 255.0
    return RegressionData(x=x, y=y, outlier=np.zeros(points, dtype=bool))


def add_outliers(data: RegressionData, count: int) -> RegressionData:
    """Corrupt the targets of the `count` images with the least ink, setting them to pure white.

    Putting the outliers at one end of the x range is what tilts a fitted line;
    outliers spread evenly would mostly shift it up.

    Args:
        data: clean RegressionData.
        count: how many targets to corrupt (0 keeps the data clean).
    Returns:
        new RegressionData with `outlier` marking the corrupted points.
    """
    if not 0 <= count <= len(data.x):
        raise ValueError(f"count must be in [0, {len(data.x)}], got {count}")
    faintest = np.argsort(data.x, kind="stable")[:count]
    y = data.y.copy()
    y[faintest] = OUTLIER_TARGET
    outlier = np.zeros(len(y), dtype=bool)
    outlier[faintest] = True
    return RegressionData(x=data.x, y=y, outlier=outlier)


def huber_loss(y_true, y_pred, delta=0.05):
    """Our own Huber loss: squared for small errors, linear for big ones.

    Errors below `delta` count like MSE, so the fit is smooth near the
    line; errors above count like MAE, so an outlier pulls only with a
    constant force.

    Args:
        y_true: targets.
        y_pred: predictions of the same shape.
        delta: where the loss switches from squared to linear.
    Returns:
        the mean loss over the batch.
    """
    import keras

    error = keras.ops.abs(y_true - y_pred)
    squared = 0.5 * keras.ops.square(error)
    linear = delta * (error - 0.5 * delta)
    return keras.ops.mean(keras.ops.where(error <= delta, squared, linear))


def custom_loss_source() -> str:
    """The source code of the project's custom loss, to show students.

    Returns:
        the text of `huber_loss`.
    """
    return inspect.getsource(huber_loss)


def keras_loss(name: str, delta: float = 0.05) -> Callable:
    """The loss to fit with: a Keras loss object, or the project's own function.

    Args:
        name: "mse", "mae" or "custom" (huber_loss with the given delta).
        delta: the custom loss's threshold.
    Returns:
        a callable loss(y_true, y_pred).
    """
    import keras

    if name == "mse":
        return keras.losses.MeanSquaredError()
    if name == "mae":
        return keras.losses.MeanAbsoluteError()
    if name == "custom":
        return functools.partial(huber_loss, delta=delta)
    raise ValueError(f"loss must be mse, mae or custom, got {name!r}")


@dataclass(frozen=True)
class LineFit:
    """A fitted line y = slope * x + intercept and the loss it was fitted with."""

    loss: str
    slope: float
    intercept: float
    final_loss: float


class _LineEngine:
    """A compiled one-unit model for one loss, reused for every fit with that loss.

    model.fit traces a graph the first time (a few MB that TensorFlow never
    frees); reusing the model makes later fits with new data, a new number of
    steps or a new delta trace nothing. The custom loss reads delta from a
    variable, so changing delta does not retrace either.
    """

    def __init__(self, loss: str):
        import keras

        self.delta = keras.Variable(0.05, dtype="float32", trainable=False, name="delta")
        delta = self.delta
        fit_loss = keras_loss(loss) if loss != "custom" else (lambda y_true, y_pred: huber_loss(y_true, y_pred, delta))
        # Zero initial weights: a single unit has no symmetry to break, and the fit
        # is then the same on every run without any random seed.
        self.model = keras.Sequential([
            keras.Input(shape=(1,)),
            keras.layers.Dense(1, kernel_initializer="zeros", bias_initializer="zeros", name="line"),
        ])
        # One full-batch step per copy of the data: fit() then runs all the steps in
        # compiled chunks of STEPS_PER_CALL instead of paying Python overhead per epoch.
        self.model.compile(optimizer=keras.optimizers.Adam(FIT_LEARNING_RATE), loss=fit_loss,
                           steps_per_execution=STEPS_PER_CALL)
        self.model.optimizer.build(self.model.trainable_variables)

    def reset(self, delta: float) -> None:
        """Zero weights, a fresh Adam state and the given delta, as if the model were new."""
        import keras

        self.model.get_layer("line").set_weights([np.zeros((1, 1), np.float32), np.zeros(1, np.float32)])
        fresh = keras.optimizers.Adam(FIT_LEARNING_RATE)
        fresh.build(self.model.trainable_variables)
        for target, source in zip(self.model.optimizer.variables, fresh.variables, strict=True):
            target.assign(source)
        self.delta.assign(delta)
        self.model.stop_training = False


def fit_line(data: RegressionData, loss: str, delta: float = 0.05, steps: int = FIT_STEPS) -> LineFit:
    """Fit a one-unit Keras model (a line) to the data with the given loss.

    Args:
        data: the regression points.
        loss: "mse", "mae" or "custom".
        delta: the custom loss's threshold.
        steps: full-batch Adam steps.
    Returns:
        a LineFit with the learned slope and intercept.
    """
    keras_loss(loss, delta)  # a clear ValueError for an unknown loss, before any engine is built
    x = np.tile(data.x, steps)[:, None]
    y = np.tile(data.y, steps)[:, None]
    # One engine per loss name (three in all); lab.engines's pool keeps them between fits.
    with ENGINES.borrow(("line", loss), lambda: _LineEngine(loss)) as engine:
        engine.reset(delta)
        engine.model.fit(x, y, batch_size=len(data.x), epochs=1, shuffle=False, verbose=0)
        kernel, bias = engine.model.get_layer("line").get_weights()
    slope, intercept = float(kernel[0, 0]), float(bias[0])
    # The line's predictions in NumPy: a Keras predict() would trace one more graph.
    prediction = (slope * data.x + intercept).astype(np.float32)[:, None]
    final = float(keras_loss(loss, delta)(data.y[:, None].astype(np.float32), prediction))
    return LineFit(loss=loss, slope=slope, intercept=intercept, final_loss=final)


def fit_all(data: RegressionData, losses=("mse", "mae"), delta: float = 0.05) -> dict:
    """Fit one line per loss to the same data.

    Args:
        data: the regression points.
        losses: names accepted by `fit_line`.
        delta: the custom loss's threshold.
    Returns:
        {loss name: LineFit}.
    """
    return {loss: fit_line(data, loss, delta) for loss in losses}


LOSS_LABELS = {"mse": "MSE fit", "mae": "MAE fit", "custom": "custom Huber fit"}


def fits_table(fits: dict):
    """One row per fitted line: its loss, slope and intercept.

    Args:
        fits: {loss name: LineFit}.
    Returns:
        a pandas DataFrame.
    """
    import pandas as pd

    return pd.DataFrame([{"loss": LOSS_LABELS[name], "slope": fit.slope, "intercept": fit.intercept}
                         for name, fit in fits.items()])
LOSS_COLORS = {"mse": COLORS[3], "mae": COLORS[0], "custom": COLORS[2]}


def regression_figure(data: RegressionData, fits: dict, clean_fits: Optional[dict] = None) -> go.Figure:
    """The points, the outliers and each fitted line (dotted: the same loss on clean data).

    Args:
        data: the points, possibly with outliers.
        fits: {loss: LineFit} fitted on `data`.
        clean_fits: optional {loss: LineFit} fitted without outliers, for reference.
    Returns:
        a Figure with scatter traces for points and outliers and one line per fit.
    """
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=data.x[~data.outlier], y=data.y[~data.outlier], mode="markers", name="images",
                                marker=dict(color=COLORS[5], size=7, opacity=0.7)))
    if data.outlier.any():
        figure.add_trace(go.Scatter(x=data.x[data.outlier], y=data.y[data.outlier], mode="markers",
                                    name="outliers (corrupted targets)",
                                    marker=dict(color=COLORS[7], size=10, symbol="x")))
    xs = np.array([0.0, 1.0])
    for loss, fit in fits.items():
        # The custom fit often lies on the MAE line: dashes keep both visible.
        figure.add_trace(go.Scatter(x=xs, y=fit.slope * xs + fit.intercept, mode="lines",
                                    name=f"{LOSS_LABELS[loss]} (slope {fit.slope:.3f})",
                                    line=dict(color=LOSS_COLORS[loss], width=4,
                                              dash="dash" if loss == "custom" else "solid")))
    for loss, fit in (clean_fits or {}).items():
        figure.add_trace(go.Scatter(x=xs, y=fit.slope * xs + fit.intercept, mode="lines",
                                    name=f"{LOSS_LABELS[loss]} without outliers (slope {fit.slope:.3f})",
                                    line=dict(color=LOSS_COLORS[loss], width=2, dash="dot")))
    figure.update_layout(title="Mean brightness against ink share (real Fashion-MNIST images)",
                         xaxis_title="share of pixels with ink", yaxis_title="mean brightness",
                         margin=dict(l=60, r=20, t=50, b=50),
                         legend=dict(orientation="h", y=-0.2), height=520)
    figure.update_xaxes(range=[0.0, 1.0])
    figure.update_yaxes(range=[0.0, 1.05])
    return figure


# ----------------------------------------------------------------------
# Cross-entropy and entropy
# ----------------------------------------------------------------------
def normalise(weights) -> np.ndarray:
    """Scale non-negative weights to a probability distribution.

    Args:
        weights: non-negative numbers, not all zero.
    Returns:
        float64 probabilities summing to 1.
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 1 or len(weights) < 2:
        raise ValueError("give at least two class weights")
    if np.any(weights < 0) or not np.all(np.isfinite(weights)):
        raise ValueError("weights must be finite and not negative")
    total = weights.sum()
    if total <= 0:
        raise ValueError("at least one weight must be above zero")
    return weights / total


def cross_entropy(probabilities, true_class: int) -> float:
    """Categorical cross-entropy (in nats) of a predicted distribution against a one-hot target.

    Args:
        probabilities: a distribution over classes.
        true_class: index of the target class.
    Returns:
        keras.losses.CategoricalCrossentropy of the pair (equal to -ln p[true_class], clipped at 1e-7).
    """
    import keras

    probabilities = np.asarray(probabilities, dtype=np.float32)
    target = np.zeros_like(probabilities)
    target[true_class] = 1.0
    return float(keras.losses.CategoricalCrossentropy()(target[None], probabilities[None]))


def entropy_bits(probabilities) -> float:
    """Shannon entropy in bits, -sum p log2 p (zero-probability classes contribute nothing).

    Args:
        probabilities: a distribution.
    Returns:
        the entropy; 0 for a certain outcome, log2(k) for k equally likely classes.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    nonzero = p[p > 0]
    return float(-(nonzero * np.log2(nonzero)).sum())


def distribution_figure(probabilities, true_class: Optional[int] = None, title: str = "Predicted distribution",
                        labels=None, x_title: str = "class") -> go.Figure:
    """Bars of a distribution, with the target class highlighted.

    Args:
        probabilities: a distribution.
        true_class: index to highlight, or None.
        title: the figure title.
        labels: optional class names.
        x_title: the x axis title.
    Returns:
        a Figure with one Bar trace.
    """
    labels = list(labels) if labels is not None else [f"class {i}" for i in range(len(probabilities))]
    colors = [COLORS[3] if i == true_class else COLORS[0] for i in range(len(probabilities))]
    figure = go.Figure(go.Bar(x=labels, y=list(probabilities), marker_color=colors, name="probability",
                              text=[f"{p:.3f}" for p in probabilities], textposition="outside"))
    figure.update_layout(title=title, xaxis_title=x_title, yaxis_title="probability",
                         margin=dict(l=60, r=20, t=50, b=50), height=360)
    figure.update_yaxes(range=[0, 1.15])
    return figure


def cross_entropy_curve_figure(probability: float) -> go.Figure:
    """-ln p against the probability p given to the true class, with the current p marked.

    Args:
        probability: the current probability of the true class.
    Returns:
        a Figure with the curve and a marker.
    """
    p = np.linspace(0.005, 1.0, 200)
    figure = go.Figure(go.Scatter(x=p, y=-np.log(p), mode="lines", name="-ln p", line=dict(color=COLORS[0], width=3)))
    safe = max(probability, 1e-7)
    figure.add_trace(go.Scatter(x=[probability], y=[-math.log(safe)], mode="markers", name="your prediction",
                                marker=dict(color=COLORS[3], size=14)))
    figure.update_layout(title="Cross-entropy against the probability of the true class",
                         xaxis_title="probability given to the true class", yaxis_title="cross-entropy (nats)",
                         margin=dict(l=60, r=20, t=50, b=50), height=360,
                         legend=dict(orientation="h", y=-0.3))
    return figure


# ----------------------------------------------------------------------
# Sparse, categorical and binary cross-entropy on the same data
# ----------------------------------------------------------------------
def crossentropy_agreement(probabilities: np.ndarray, labels: np.ndarray, pair: tuple[int, int] = (7, 9)) -> dict:
    """The three Keras cross-entropies on the same predictions, where they agree and where not.

    Ten classes: sparse CE with integer labels equals categorical CE with one-hot
    labels. Binary CE on the same ten one-hot columns is a different number: it
    scores each class as its own yes/no question, averaged over the ten.
    Two classes (the images of `pair`, renormalised to those two classes): binary
    CE on p(second class) equals categorical CE on [1 - p, p], and sparse CE.

    Args:
        probabilities: (n, 10) softmax outputs of a real model.
        labels: (n,) integer labels.
        pair: two class indices for the 2-class case.
    Returns:
        dict with "sparse", "categorical", "binary_on_ten" (10 classes) and "binary_two",
        "categorical_two", "sparse_two" (2 classes), and "pair_count".
    """
    import keras

    probabilities = np.asarray(probabilities, dtype=np.float32)
    one_hot = keras.ops.one_hot(labels, probabilities.shape[1])
    values = {
        "sparse": float(keras.losses.SparseCategoricalCrossentropy()(labels, probabilities)),
        "categorical": float(keras.losses.CategoricalCrossentropy()(one_hot, probabilities)),
        "binary_on_ten": float(keras.losses.BinaryCrossentropy()(one_hot, probabilities)),
    }
    first, second = pair
    keep = (labels == first) | (labels == second)
    two = probabilities[keep][:, [first, second]]
    two = two / two.sum(axis=1, keepdims=True)
    is_second = (labels[keep] == second).astype(np.float32)
    values.update(
        binary_two=float(keras.losses.BinaryCrossentropy()(is_second[:, None], two[:, 1:2])),
        categorical_two=float(keras.losses.CategoricalCrossentropy()(keras.ops.one_hot(is_second.astype(int), 2), two)),
        sparse_two=float(keras.losses.SparseCategoricalCrossentropy()(is_second.astype(int), two)),
        pair_count=int(keep.sum()),
    )
    return values


def agreement_table(values: dict, class_names=None, pair: tuple[int, int] = (7, 9)):
    """The agreement numbers as a table for the page.

    Args:
        values: from `crossentropy_agreement`.
        class_names: optional names of the classes.
        pair: the 2-class pair used.
    Returns:
        a pandas DataFrame with one row per loss.
    """
    import pandas as pd

    names = class_names or [str(i) for i in range(10)]
    two = f"2 classes ({names[pair[0]]} vs {names[pair[1]]}, {values['pair_count']:,} images)"
    return pd.DataFrame([
        {"case": "10 classes", "Keras loss": "SparseCategoricalCrossentropy", "targets": "integer labels",
         "value": values["sparse"]},
        {"case": "10 classes", "Keras loss": "CategoricalCrossentropy", "targets": "one-hot labels",
         "value": values["categorical"]},
        {"case": "10 classes", "Keras loss": "BinaryCrossentropy", "targets": "one-hot labels (10 yes/no questions)",
         "value": values["binary_on_ten"]},
        {"case": two, "Keras loss": "BinaryCrossentropy", "targets": f"1 if {names[pair[1]]}, else 0; one output p",
         "value": values["binary_two"]},
        {"case": two, "Keras loss": "CategoricalCrossentropy", "targets": "one-hot of 2; outputs [1 - p, p]",
         "value": values["categorical_two"]},
        {"case": two, "Keras loss": "SparseCategoricalCrossentropy", "targets": "0 or 1; outputs [1 - p, p]",
         "value": values["sparse_two"]},
    ])


def agreement_config(seed: int = 42):
    """The small real run whose test-set predictions the agreement table uses.

    Args:
        seed: the run's seed.
    Returns:
        a TrainConfig: 2,000 images, 1 epoch, the lecture's model.
    """
    from lab.config import TrainConfig

    return TrainConfig(train_size=2_000, epochs=1, seed=seed, validation_size=1_000)


def custom_loss_training(dataset, delta: float = 0.05, outliers: int = 20, seed: int = 0) -> dict:
    """Train with the custom loss on the outlier data, beside MSE and MAE.

    Args:
        dataset: the shared Dataset.
        delta: the custom loss's threshold.
        outliers: corrupted targets.
        seed: picks the images.
    Returns:
        {"data": RegressionData, "fits": {loss: LineFit}} for mse, mae and custom.
    """
    data = add_outliers(brightness_data(dataset, seed=seed), outliers)
    return {"data": data, "fits": fit_all(data, ("mse", "mae", "custom"), delta)}


def regression_code(outliers: int, delta: float) -> str:
    """Keras 3 code of the regression experiment.

    Args:
        outliers: the number of corrupted targets.
        delta: the custom loss's threshold.
    Returns:
        Python source as a string.
    """
    return (
        "import keras\nimport numpy as np\n\n"
        "(x_train, _), _ = keras.datasets.fashion_mnist.load_data()\n"
        f"images = x_train[np.random.default_rng([0, 4]).choice(len(x_train), {REGRESSION_POINTS}, replace=False)]\n"
        "x = (images > 0).mean(axis=(1, 2))          # share of pixels with ink\n"
        "y = images.mean(axis=(1, 2)) / 255.0         # mean brightness\n"
        f"y[np.argsort(x, kind='stable')[:{outliers}]] = {OUTLIER_TARGET}  # corrupt the faintest images' targets\n\n"
        + custom_loss_source() +
        "\nfor loss in (\"mse\", \"mae\", lambda t, p: huber_loss(t, p, delta=%g)):\n" % delta +
        "    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1, kernel_initializer=\"zeros\")])\n"
        f"    model.compile(optimizer=keras.optimizers.Adam({FIT_LEARNING_RATE}), loss=loss)\n"
        f"    model.fit(x[:, None], y[:, None], batch_size=len(x), epochs={FIT_STEPS}, verbose=0)  # full batch\n"
        "    print(loss, model.layers[0].get_weights())  # slope and intercept\n"
    )


# ----------------------------------------------------------------------
# The page's outcome claims, checked on the real data by tests/lab/test_claims.py
# ----------------------------------------------------------------------
DEFAULT_OUTLIERS = 10  # the page's default for both line-fitting sections
DEFAULT_DELTA = 0.05
PRESET_OUTLIERS = 20  # the "MSE vs MAE" lecture preset
OUTLIER_COUNTS = (0, DEFAULT_OUTLIERS, PRESET_OUTLIERS, 40)


def claims_experiment(dataset, trainer: Optional[Callable] = None) -> dict:
    """The line fits the page's claims are about: MSE and MAE at 0, 10, 20 and 40 outliers, and the custom loss.

    Args:
        dataset: the shared Dataset.
        trainer: unused: the lines are fitted by fit_line, not trained by the training service.
    Returns:
        {"fits": {outliers: {"mse", "mae": LineFit}}, "custom": {(delta, outliers): LineFit}}.
    """
    clean = brightness_data(dataset)
    data = {count: add_outliers(clean, count) for count in OUTLIER_COUNTS}
    return {
        "fits": {count: fit_all(points) for count, points in data.items()},
        "custom": {(delta, count): fit_line(data[count], "custom", delta)
                   for delta, count in ((DEFAULT_DELTA, DEFAULT_OUTLIERS), (0.5, DEFAULT_OUTLIERS),
                                        (DEFAULT_DELTA, PRESET_OUTLIERS))},
    }


def _slope(result, outliers: int, loss: str) -> float:
    return result["fits"][outliers][loss].slope


def _move(result, outliers: int, loss: str) -> float:
    return abs(_slope(result, outliers, loss) - _slope(result, 0, loss))


def _mse_moves_far_more(result) -> bool:
    # MSE's slope falls (towards the outliers, which sit at low ink with a high target) and moves 5x as far as MAE's.
    outliers = DEFAULT_OUTLIERS
    return (_move(result, outliers, "mse") > 5 * _move(result, outliers, "mae")
            and _slope(result, outliers, "mse") < _slope(result, 0, "mse"))


def _preset_numbers(result) -> bool:
    # The preset states slopes to two decimals: each within rounding (0.005) plus a little float noise.
    stated = {(0, "mse"): 0.63, (PRESET_OUTLIERS, "mse"): -0.39, (0, "mae"): 0.68, (PRESET_OUTLIERS, "mae"): 0.52}
    custom = result["custom"][(DEFAULT_DELTA, PRESET_OUTLIERS)].slope
    mae, mse = _slope(result, PRESET_OUTLIERS, "mae"), _slope(result, PRESET_OUTLIERS, "mse")
    return (all(abs(_slope(result, count, loss) - value) < 0.01 for (count, loss), value in stated.items())
            and abs(custom - 0.49) < 0.01 and abs(custom - mae) < abs(custom - mse))


def _custom_sits_with_mae(result) -> bool:
    custom = result["custom"][(DEFAULT_DELTA, DEFAULT_OUTLIERS)].slope
    return abs(custom - _slope(result, DEFAULT_OUTLIERS, "mae")) < 0.05


def _large_delta_swings_to_mse(result) -> bool:
    custom = result["custom"][(0.5, DEFAULT_OUTLIERS)].slope
    mse, mae = _slope(result, DEFAULT_OUTLIERS, "mse"), _slope(result, DEFAULT_OUTLIERS, "mae")
    return abs(custom - mse) < abs(custom - mae)


HEADLINE = Claim(
    "The loss decides which mistakes matter. MSE squares each error, so a few far-off points dominate it; MAE "
    "counts errors as they are, so its fit moves less.", _mse_moves_far_more)
REGRESSION_CLAIMS = (
    Claim("With 10 outliers (5% of the points) the MSE slope falls, towards the outliers, and moves more than 5 "
          "times as far as the MAE slope.", _mse_moves_far_more),
)
REGRESSION_TRY_CLAIMS = (
    Claim("Push the slider to 40 (20%) and MAE gives way too: its slope moves by more than 0.5. No loss survives "
          "enough bad data.", lambda result: _move(result, 40, "mae") > 0.5),
)
CUSTOM_CLAIMS = (
    Claim("With delta 0.05 and 10 outliers the custom fit sits with MAE, away from the outliers: its slope is "
          "within 0.05 of MAE's.", _custom_sits_with_mae),
)
CUSTOM_TRY_CLAIMS = (
    Claim("Raise delta to 0.5 and most errors count as squared: the custom fit's slope swings closer to the MSE "
          "line's than to the MAE line's.", _large_delta_swings_to_mse),
)
PRESET_CLAIM = Claim(
    "With 20 of 200 targets corrupted, the MSE line tilts from slope 0.63 to -0.39, towards the outliers, while the "
    "MAE line only moves from 0.68 to 0.52. The project's own Huber loss (delta 0.05) fits a slope of 0.49, with MAE.",
    _preset_numbers)
CLAIMS = (HEADLINE,) + REGRESSION_CLAIMS + REGRESSION_TRY_CLAIMS + CUSTOM_CLAIMS + CUSTOM_TRY_CLAIMS + (PRESET_CLAIM,)
