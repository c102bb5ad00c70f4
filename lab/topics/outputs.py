"""Topic 3, inputs and outputs: the last layer and the loss follow from the task.

The same body (28x28 pixels, Flatten, one hidden relu layer) gets three heads,
each trained on targets derived from the real images:
- classification: 10 softmax units and sparse categorical cross-entropy on the labels;
- regression: 1 linear unit and MSE on each image's mean brightness;
- box prediction: 4 linear units (x, y, width, height) and MSE on the bounding
  box of the image's non-zero pixels.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from lab.lazy import keras
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lab.claims import Claim
from lab.data import Dataset, split_indices
from lab.models import layer_table
from lab.plots import COLORS, REFERENCE_COLOR, TOPIC_LAYOUT as _LAYOUT
from lab.engines import ENGINES
from lab.pooled_fit import architecture_key, reset_optimizer

IMAGE_SIDE = 28
HIDDEN_UNITS = 64
SAMPLE_IMAGES = 8  # test images whose predictions are drawn
INK_SCALE = [[0.0, "white"], [1.0, "black"]]


@dataclass(frozen=True)
class Task:
    """What the output layer and the loss look like for one kind of prediction."""

    name: str
    label: str
    units: int
    activation: str
    loss: str  # the Keras loss name
    target: str  # what the network predicts, in words
    metric: str  # how the result is judged, in words
    output_latex: str  # what the output layer computes
    loss_latex: str  # the loss


TASKS = {
    "classification": Task(
        "classification", "Classification: which of 10 classes", 10, "softmax", "sparse_categorical_crossentropy",
        "the class label 0-9", "test accuracy",
        r"\hat{p}_k = \frac{e^{z_k}}{\sum_{j=1}^{10} e^{z_j}}, \quad k = 1, \dots, 10",
        r"\mathcal{L} = -\frac{1}{m}\sum_{i=1}^{m} \log \hat{p}^{(i)}_{y^{(i)}}",
    ),
    "regression": Task(
        "regression", "Regression: one number", 1, "linear", "mean_squared_error",
        "the image's mean brightness (mean pixel / 255, between 0 and 1)", "test mean absolute error",
        r"\hat{y} = \mathbf{h}\,\mathbf{w} + b",
        r"\mathcal{L} = \frac{1}{m}\sum_{i=1}^{m}(\hat{y}^{(i)} - y^{(i)})^2",
    ),
    "box": Task(
        "box", "Box prediction: x, y, width, height", 4, "linear", "mean_squared_error",
        "the bounding box of the non-zero pixels, as (x, y, width, height) / 28", "test mean IoU (box overlap)",
        r"(\hat{x}, \hat{y}, \hat{w}, \hat{h}) = \mathbf{h}\, W + \mathbf{b}",
        r"\mathcal{L} = \frac{1}{4m}\sum_{i=1}^{m}\sum_{c \in \{x,y,w,h\}}(\hat{c}^{(i)} - c^{(i)})^2",
    ),
}


# ----------------------------------------------------------------------
# Targets derived from the images
# ----------------------------------------------------------------------
def bounding_boxes(images: np.ndarray, threshold: int = 0) -> np.ndarray:
    """The bounding box of the pixels brighter than `threshold` in each image.

    Args:
        images: (n, 28, 28) uint8.
        threshold: pixels above it count as the object (0: every non-zero pixel).
    Returns:
        (n, 4) float array of x (left column), y (top row), width and height, in pixels;
        an image with no such pixel gets the box (0, 0, 0, 0).
    """
    ink = images > threshold
    rows, columns = ink.any(axis=2), ink.any(axis=1)
    top, left = rows.argmax(axis=1), columns.argmax(axis=1)
    bottom = images.shape[1] - 1 - rows[:, ::-1].argmax(axis=1)
    right = images.shape[2] - 1 - columns[:, ::-1].argmax(axis=1)
    boxes = np.stack([left, top, right - left + 1, bottom - top + 1], axis=1).astype(float)
    boxes[~rows.any(axis=1)] = 0.0
    return boxes


def mean_brightness(images: np.ndarray) -> np.ndarray:
    """Each image's mean pixel value scaled to [0, 1].

    Args:
        images: (n, 28, 28) uint8.
    Returns:
        (n,) float array.
    """
    return images.reshape(len(images), -1).mean(axis=1) / 255.0


def task_targets(task: str, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The training targets of a task, derived from the real images and labels.

    Args:
        task: a key of TASKS.
        images: (n, 28, 28) uint8.
        labels: (n,) class labels.
    Returns:
        labels (n,) for classification, (n, 1) brightness for regression, (n, 4) boxes / 28 for boxes.
    """
    if task == "classification":
        return labels.astype(np.int32)
    if task == "regression":
        return mean_brightness(images)[:, None].astype(np.float32)
    return (bounding_boxes(images) / IMAGE_SIDE).astype(np.float32)


def box_iou(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Intersection over union of two sets of (x, y, width, height) boxes, row by row.

    Args:
        first: (n, 4) boxes.
        second: (n, 4) boxes in the same units.
    Returns:
        (n,) IoU in [0, 1].
    """
    first_end, second_end = first[:, :2] + first[:, 2:], second[:, :2] + second[:, 2:]
    overlap = np.clip(np.minimum(first_end, second_end) - np.maximum(first[:, :2], second[:, :2]), 0, None)
    intersection = overlap.prod(axis=1)
    union = np.clip(first[:, 2:], 0, None).prod(axis=1) + np.clip(second[:, 2:], 0, None).prod(axis=1) - intersection
    return np.where(union > 0, intersection / np.maximum(union, 1e-12), 0.0)


# ----------------------------------------------------------------------
# Models and the experiment
# ----------------------------------------------------------------------
def build_task_model(task: str, seed: int = 1) -> keras.Model:
    """The shared body (Flatten, Dense 64 relu) with the task's output layer.

    Args:
        task: a key of TASKS.
        seed: seeds the two initializers.
    Returns:
        an uncompiled keras.Sequential whose last layer is named "output".
    """
    spec = TASKS[task]
    return keras.Sequential([
        keras.Input(shape=(IMAGE_SIDE, IMAGE_SIDE), dtype="uint8", name="pixels"),
        keras.layers.Rescaling(1.0 / 255, name="scale_to_0_1"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(HIDDEN_UNITS, activation="relu", name="hidden_1",
                           kernel_initializer=keras.initializers.GlorotUniform(seed=seed * 10)),
        keras.layers.Dense(spec.units, activation=spec.activation, name="output",
                           kernel_initializer=keras.initializers.GlorotUniform(seed=seed * 10 + 1)),
    ], name=f"{task}_model")


@dataclass
class TaskResult:
    """One task's run, as plain data (no Keras objects)."""

    task: str
    layers: pd.DataFrame  # the model's layer table; the last row is the output layer
    loss_name: str
    train_loss: list[float]  # per epoch
    validation_loss: list[float]  # per epoch
    score: float  # accuracy, MAE or mean IoU on all test images
    baseline: float  # the same score for a model that ignores the image
    baseline_text: str
    sample_images: np.ndarray  # (SAMPLE_IMAGES, 28, 28) uint8 test images
    sample_targets: np.ndarray  # their true targets, in natural units
    sample_predictions: np.ndarray  # the model's outputs, in natural units
    test_targets: np.ndarray  # all test targets (natural units)
    test_predictions: np.ndarray  # all test predictions (natural units)
    class_names: tuple[str, ...]
    train_size: int
    epochs: int
    seconds: float


def _natural_units(task: str, values: np.ndarray) -> np.ndarray:
    # Boxes are learned as fractions of the image; they are shown in pixels.
    return values * IMAGE_SIDE if task == "box" else values


def _score(task: str, targets: np.ndarray, outputs: np.ndarray) -> float:
    if task == "classification":
        return float(np.mean(outputs.argmax(axis=1) == targets))
    if task == "regression":
        return float(np.mean(np.abs(outputs - targets)))
    return float(np.mean(box_iou(outputs, targets)))


def _baseline(task: str, train_targets: np.ndarray, test_targets: np.ndarray, classes: int) -> tuple[float, str]:
    """The score of the best guess that ignores the image: chance, the mean value, the mean box."""
    if task == "classification":
        return 1.0 / classes, "guessing a class at random"
    guess = np.broadcast_to(train_targets.mean(axis=0), test_targets.shape)
    text = "always predicting the mean brightness" if task == "regression" else "always predicting the mean box"
    return _score(task, test_targets, guess), text


def run_task(task: str, dataset: Dataset, train_size: int = 10_000, epochs: int = 4, seed: int = 1) -> TaskResult:
    """Train the body with the task's head on real images and score it on the whole test set.

    Args:
        task: a key of TASKS.
        dataset: the shared dataset.
        train_size: training images (a stratified subset).
        epochs: passes over them.
        seed: seeds split, weights and batch order.
    Returns:
        a TaskResult.
    """
    start = time.perf_counter()
    spec = TASKS[task]
    train_index, validation_index = split_indices(dataset.y_train, train_size, 1_000, seed)
    model = build_task_model(task, seed)
    x_valid = dataset.x_train[validation_index]
    y_valid = task_targets(task, x_valid, dataset.y_train[validation_index])
    train_loss, validation_loss = [], []
    # Training runs on a pooled compiled twin, so that its traced graphs serve every request (see lab.engines).
    with ENGINES.borrow(("task", task, architecture_key(model)), lambda: _compiled_twin(model, spec.loss)) as twin:
        twin.set_weights(model.get_weights())
        reset_optimizer(twin.optimizer, _adam(), twin.trainable_variables)
        for epoch in range(epochs):
            order = train_index[np.random.default_rng([seed, epoch]).permutation(len(train_index))]
            x_train = dataset.x_train[order]
            history = twin.fit(x_train, task_targets(task, x_train, dataset.y_train[order]), batch_size=32,
                               epochs=1, shuffle=False, verbose=0)
            train_loss.append(float(history.history["loss"][-1]))
            validation_loss.append(float(twin.evaluate(x_valid, y_valid, batch_size=1_000, verbose=0)))
        model.set_weights(twin.get_weights())
    outputs = _predict(model, dataset.x_test)
    targets = task_targets(task, dataset.x_test, dataset.y_test)
    natural_outputs, natural_targets = _natural_units(task, outputs), _natural_units(task, targets)
    train_targets = _natural_units(task, task_targets(task, dataset.x_train[train_index], dataset.y_train[train_index]))
    baseline, baseline_text = _baseline(task, train_targets, natural_targets, dataset.num_classes)
    return TaskResult(
        task=task, layers=pd.DataFrame(layer_table(model)), loss_name=spec.loss,
        train_loss=train_loss, validation_loss=validation_loss,
        score=_score(task, natural_targets, natural_outputs), baseline=baseline, baseline_text=baseline_text,
        sample_images=np.array(dataset.x_test[:SAMPLE_IMAGES]), sample_targets=natural_targets[:SAMPLE_IMAGES],
        sample_predictions=natural_outputs[:SAMPLE_IMAGES], test_targets=natural_targets,
        test_predictions=natural_outputs, class_names=dataset.class_names, train_size=train_size, epochs=epochs,
        seconds=time.perf_counter() - start,
    )


def _adam() -> keras.optimizers.Optimizer:
    return keras.optimizers.Adam(1e-3)


def _compiled_twin(model: keras.Model, loss: str) -> keras.Model:
    twin = keras.models.clone_model(model)
    twin.compile(optimizer=_adam(), loss=loss)
    return twin


def _predict(model: keras.Model, images: np.ndarray, batch: int = 2_000) -> np.ndarray:
    # Calling the model directly avoids tracing a new predict function per model.
    return np.concatenate([np.asarray(model(images[start:start + batch], training=False))
                           for start in range(0, len(images), batch)])


# ----------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------
def loss_figure(result: TaskResult) -> go.Figure:
    """Training and validation loss per epoch, titled with the loss's name.

    Args:
        result: a TaskResult.
    Returns:
        a Figure with two traces.
    """
    epochs = list(range(1, len(result.train_loss) + 1))
    figure = go.Figure([
        go.Scatter(x=epochs, y=result.train_loss, mode="lines+markers", name="training loss",
                   line=dict(color=COLORS[0], width=3)),
        go.Scatter(x=epochs, y=result.validation_loss, mode="lines+markers", name="validation loss",
                   line=dict(color=COLORS[1], width=3)),
    ])
    figure.update_layout(title=f"Loss: {result.loss_name}", xaxis_title="epoch", yaxis_title=result.loss_name,
                         **_LAYOUT)
    figure.update_xaxes(dtick=1)
    return figure


def predictions_figure(result: TaskResult) -> go.Figure:
    """What the model outputs on test images, drawn the way each task reads it.

    Args:
        result: a TaskResult.
    Returns:
        classification: images titled with predicted and true class; regression: a scatter of
        predicted against true brightness; box: images with the true and the predicted box.
    """
    if result.task == "regression":
        return _regression_figure(result)
    titles = []
    for index in range(len(result.sample_images)):
        if result.task == "classification":
            predicted = int(np.argmax(result.sample_predictions[index]))
            truth = int(result.sample_targets[index])
            confidence = f"{result.sample_predictions[index][predicted]:.0%}"
            if predicted == truth:
                titles.append(f"✓ {result.class_names[predicted]}<br>{confidence}")
            else:
                titles.append(f"✗ {result.class_names[predicted]} {confidence}<br>(is {result.class_names[truth]})")
        else:
            iou = box_iou(result.sample_predictions[index:index + 1], result.sample_targets[index:index + 1])[0]
            titles.append(f"IoU {iou:.2f}")
    columns = 4
    rows = -(-len(result.sample_images) // columns)
    figure = make_subplots(rows=rows, cols=columns, subplot_titles=titles, horizontal_spacing=0.03,
                           vertical_spacing=0.16)
    for index, image in enumerate(result.sample_images):
        row, column = index // columns + 1, index % columns + 1
        figure.add_trace(go.Heatmap(z=image, colorscale=INK_SCALE, zmin=0, zmax=255, showscale=False,
                                    hoverinfo="skip"), row=row, col=column)
        if result.task == "box":
            _add_box(figure, result.sample_targets[index], COLORS[2], "dash", row, column)
            _add_box(figure, result.sample_predictions[index], COLORS[3], "solid", row, column)
    figure.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, range=[-0.5, 27.5])
    figure.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                        scaleanchor="x", constrain="domain")
    title = ("Predicted class on test images (✓ right, ✗ wrong)" if result.task == "classification"
             else "Boxes on test images: green dashed = true, red = predicted")
    figure.update_layout(title=title, height=260 * rows + 80,
                         margin=dict(l=10, r=10, t=100, b=10))
    return figure


def _add_box(figure: go.Figure, box: np.ndarray, color: str, dash: str, row: int, column: int) -> None:
    x, y, width, height = (float(v) for v in box)
    # Pixel centres sit on whole numbers, so a box around pixels starts half a pixel earlier.
    figure.add_shape(type="rect", x0=x - 0.5, y0=y - 0.5, x1=x + width - 0.5, y1=y + height - 0.5,
                     line=dict(color=color, width=3, dash=dash), row=row, col=column)


def _regression_figure(result: TaskResult, points: int = 1_000) -> go.Figure:
    truth = result.test_targets[:points, 0]
    predicted = result.test_predictions[:points, 0]
    low, high = float(min(truth.min(), predicted.min())), float(max(truth.max(), predicted.max()))
    figure = go.Figure([
        go.Scatter(x=truth, y=predicted, mode="markers", name="test images",
                   marker=dict(color=COLORS[0], size=5, opacity=0.5)),
        go.Scatter(x=[low, high], y=[low, high], mode="lines", name="perfect prediction",
                   line=dict(color=REFERENCE_COLOR, dash="dash", width=2)),
    ])
    figure.update_layout(title="Predicted against true mean brightness (1,000 test images)",
                         xaxis_title="true mean brightness", yaxis_title="predicted (1 linear unit)", **_LAYOUT)
    return figure


def task_code(task: str, train_size: int, epochs: int) -> str:
    """Keras 3 code of one task's model, its targets, loss and training.

    Args:
        task: a key of TASKS.
        train_size: training images.
        epochs: passes over them.
    Returns:
        Python source as a string.
    """
    spec = TASKS[task]
    targets = {
        "classification": "y = y_train  # integer labels 0-9",
        "regression": "y = x_train.reshape(len(x_train), -1).mean(axis=1) / 255  # mean brightness",
        "box": (
            "ink = x_train > 0  # bounding box of the non-zero pixels\n"
            "rows, cols = ink.any(axis=2), ink.any(axis=1)\n"
            "top, left = rows.argmax(axis=1), cols.argmax(axis=1)\n"
            "bottom, right = 27 - rows[:, ::-1].argmax(axis=1), 27 - cols[:, ::-1].argmax(axis=1)\n"
            "y = np.stack([left, top, right - left + 1, bottom - top + 1], axis=1) / 28  # x, y, w, h"
        ),
    }[task]
    return f'''import keras
import numpy as np

(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
x_train, y_train = x_train[:{train_size}], y_train[:{train_size}]
{targets}

model = keras.Sequential([
    keras.Input(shape=(28, 28)),
    keras.layers.Rescaling(1 / 255),
    keras.layers.Flatten(),
    keras.layers.Dense({HIDDEN_UNITS}, activation="relu"),
    keras.layers.Dense({spec.units}, activation="{spec.activation}"),  # the output layer for {task}
])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="{spec.loss}")
model.fit(x_train, y, epochs={epochs}, batch_size=32)
'''


# ----------------------------------------------------------------------
# The slides' regression example: house prices (made-up numbers, no data set, no training)
# ----------------------------------------------------------------------
HOUSE_FEATURES = ("rooms", "floor area (m²)", "age (years)", "distance to centre (km)")
HOUSE_TARGET = "price (€)"
# Five invented houses, only to show what one row of inputs and its one output look like.
# No house-price data set ships with the app and nothing is downloaded, so nothing is trained on them.
_MADE_UP_HOUSES = (
    (3, 75, 40, 4.5, 310_000),
    (5, 140, 12, 11.0, 455_000),
    (2, 48, 85, 1.2, 265_000),
    (4, 110, 25, 7.5, 390_000),
    (6, 190, 3, 19.0, 520_000),
)


def example_houses() -> pd.DataFrame:
    """A few made-up houses: four input features and the price to predict, labelled as invented.

    Returns:
        a DataFrame indexed "house 1", "house 2", ... with the columns HOUSE_FEATURES + (HOUSE_TARGET,);
        its attrs["made_up"] is True.
    """
    frame = pd.DataFrame(_MADE_UP_HOUSES, columns=[*HOUSE_FEATURES, HOUSE_TARGET],
                         index=[f"house {number} (made up)" for number in range(1, len(_MADE_UP_HOUSES) + 1)])
    frame.attrs["made_up"] = True
    return frame


def house_price_shapes() -> dict[str, tuple[int, int]]:
    """The input and output arrays of the house-price example, as Keras sees them.

    Returns:
        {"inputs": (n, 4), "outputs": (n, 1)} for the n made-up houses.
    """
    count = len(_MADE_UP_HOUSES)
    return {"inputs": (count, len(HOUSE_FEATURES)), "outputs": (count, 1)}


def regression_and_classification_heads() -> pd.DataFrame:
    """The slides' house-price regression next to Fashion-MNIST classification: inputs, head, output, loss.

    Returns:
        a DataFrame indexed by property, one column per example.
    """
    return pd.DataFrame({
        "house price (regression)": {
            "one example": f"{len(HOUSE_FEATURES)} numbers: " + ", ".join(HOUSE_FEATURES),
            "input shape": f"(n, {len(HOUSE_FEATURES)})",
            "output layer": "Dense(1), no activation (linear)",
            "output shape": "(n, 1)",
            "what the output is": "the price: any real number",
            "loss": '"mse" (mean squared error)',
        },
        "Fashion-MNIST (classification)": {
            "one example": "28 x 28 = 784 pixels",
            "input shape": "(n, 28, 28)",
            "output layer": 'Dense(10, activation="softmax")',
            "output shape": "(n, 10)",
            "what the output is": "10 class probabilities that sum to 1",
            "loss": '"sparse_categorical_crossentropy"',
        },
    })


def house_price_code() -> str:
    """Keras 3 code of the house-price model: four inputs, one linear output, MSE; it builds and compiles only.

    Returns:
        Python source as a string; running it prints the shapes and trains nothing.
    """
    rows = ",\n    ".join(f"[{rooms}, {area}, {age}, {distance}]" for rooms, area, age, distance, _ in _MADE_UP_HOUSES)
    prices = ", ".join(f"[{price}]" for *_, price in _MADE_UP_HOUSES)
    return f'''import keras
import numpy as np

# Made-up houses: rooms, floor area (m²), age (years), distance to centre (km).
x = np.array([
    {rows},
], dtype="float32")                                        # shape (n, 4)
y = np.array([{prices}], dtype="float32")  # prices, shape (n, 1)

model = keras.Sequential([
    keras.Input(shape=(4,)),
    keras.layers.Normalization(),          # features on very different scales
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(1),                 # the regression head: one unit, no activation
])
model.compile(optimizer="adam", loss="mse")
print(x.shape, y.shape, model.output_shape)  # (5, 4) (5, 1) (None, 1)
# Training needs a real data set of houses; five invented rows teach the shapes, not the prices:
# model.layers[0].adapt(x_real); model.fit(x_real, y_real, epochs=...)
'''


# ----------------------------------------------------------------------
# The page's outcome claims, checked on the real data by tests/lab/test_claims.py
# ----------------------------------------------------------------------
DEFAULT_TRAIN_SIZE, DEFAULT_EPOCHS = 10_000, 4  # the page's default experiment, for every task


def claims_experiment(dataset: Dataset, trainer=None) -> dict[str, TaskResult]:
    """Each task at the page's defaults (10,000 images, 4 epochs, seed 1).

    Args:
        dataset: the shared dataset.
        trainer: unused (these models train with Keras's own fit); accepted like every claims_experiment.
    Returns:
        {task: TaskResult} for every task of TASKS.
    """
    return {task: run_task(task, dataset, DEFAULT_TRAIN_SIZE, DEFAULT_EPOCHS) for task in TASKS}


def _learns(result: TaskResult) -> bool:
    return result.validation_loss[-1] < result.validation_loss[0]


TASK_CLAIMS = {
    "classification": Claim(
        "Classification: 10 softmax units with cross-entropy get more than 80% of the 10,000 test images right, "
        "against 10% for guessing.",
        lambda results: results["classification"].score > 0.8 and _learns(results["classification"])),
    "regression": Claim(
        "Regression: one linear unit with MSE predicts each image's mean brightness more than three times as "
        "closely as always guessing the mean brightness (mean absolute error on the test images).",
        lambda results: results["regression"].score * 3 < results["regression"].baseline
        and _learns(results["regression"])),
    "box": Claim(
        "Box prediction: four linear units (x, y, width, height) with MSE overlap the true boxes better than always "
        "predicting the mean box, by more than 0.1 of mean IoU.",
        lambda results: results["box"].score > results["box"].baseline + 0.1 and _learns(results["box"])),
}
CLAIMS = tuple(TASK_CLAIMS.values())
