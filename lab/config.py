"""The one configuration object that describes a training run.

A `TrainConfig` flows from the widgets to the URL, to the result cache key, to
the trainer and into the result. It is frozen so that it can be hashed and
shared between sessions, and it validates itself on construction so that no
invalid run ever reaches Keras. This module imports neither Keras nor
Streamlit, so pages can build configs without paying for TensorFlow.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass
from typing import Any, Optional

DATASETS = ("fashion_mnist", "mnist")
DATASET_LABELS = {"fashion_mnist": "Fashion-MNIST", "mnist": "MNIST"}
ACTIVATIONS = ("relu", "sigmoid", "tanh", "linear", "elu", "leaky_relu")
INITIALIZERS = (
    "glorot_uniform",
    "glorot_normal",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "random_normal",
    "random_uniform",
    "zeros",
)
BATCH_NORM_PLACES = ("none", "before", "after")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
# How every page, table and legend names each optimizer.
OPTIMIZER_LABELS = {
    "sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad",
    "rmsprop": "RMSprop", "adam": "Adam",
}
CLIP_MODES = ("none", "value", "norm", "global_norm")
LOSSES = (
    "sparse_categorical_crossentropy",
    "categorical_crossentropy",
    "mse",
    "mae",
)

# Which optimizer hyperparameters each optimizer actually reads, so that the
# pages can show only the ones that matter and the code view stays honest.
OPTIMIZER_PARAMETERS = {
    "sgd": ("learning_rate", "decay"),
    "momentum": ("learning_rate", "decay", "momentum"),
    "nesterov": ("learning_rate", "decay", "momentum"),
    "adagrad": ("learning_rate", "decay", "epsilon"),
    "rmsprop": ("learning_rate", "decay", "rho", "epsilon"),
    "adam": ("learning_rate", "decay", "beta_1", "beta_2", "epsilon"),
}
# Every optimizer hyperparameter some optimizer reads (learning_rate is read by all).
OPTIMIZER_HYPERPARAMETERS = ("decay", "momentum", "rho", "beta_1", "beta_2", "epsilon")

# Limits that keep one run affordable on a shared 2-core server. The step
# budget is the real guard: it bounds epochs * steps_per_epoch together.
MAX_TRAIN_IMAGES = 60_000
MAX_EPOCHS = 50
MAX_LAYERS = 10
MAX_UNITS = 1024
MAX_TOTAL_STEPS = 120_000


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run; defaults are the lecture's setup."""

    # --- data and split ---
    dataset: str = "fashion_mnist"  # "fashion_mnist" or "mnist" (a drop-in replacement)
    train_size: Optional[int] = None  # training images used (stratified subset); None = all not held out
    validation_size: int = 5_000  # images held out from the training set for validation
    seed: int = 42  # seeds the split, the initial weights and the batch order of this run only

    # --- model ---
    hidden_units: tuple[int, ...] = (300, 100)  # width of each hidden Dense layer, input side first
    activation: str = "relu"  # activation of every hidden layer
    kernel_initializer: str = "glorot_uniform"  # how Dense kernels start; biases always start at zero
    init_stddev: float = 0.05  # spread of random_normal (stddev) and random_uniform (half-width)
    batch_norm: str = "none"  # BatchNormalization "before" or "after" each hidden activation, or "none"

    # --- optimizer ---
    optimizer: str = "sgd"  # sgd, momentum, nesterov, adagrad, rmsprop or adam
    learning_rate: float = 0.01  # initial step size eta
    decay: float = 0.0  # inverse-time decay per step: lr / (1 + decay * step); 0 = constant
    momentum: float = 0.9  # velocity kept per step by momentum and nesterov
    rho: float = 0.9  # RMSprop's decay of the squared-gradient average
    beta_1: float = 0.9  # Adam's decay of the first moment (mean of gradients)
    beta_2: float = 0.999  # Adam's decay of the second moment (mean of squared gradients)
    epsilon: float = 1e-7  # added to denominators of adaptive optimizers to avoid division by zero
    clip: str = "none"  # gradient clipping: "value", "norm" (per tensor), "global_norm" or "none"
    clip_threshold: float = 1.0  # clipvalue / clipnorm / global_clipnorm threshold

    # --- training ---
    loss: str = "sparse_categorical_crossentropy"  # loss minimised during training
    batch_size: int = 32  # images per gradient step
    epochs: int = 5  # passes over the training images; 5 on all 55,000 reach about 0.87 test accuracy
    early_stopping_patience: Optional[int] = None  # epochs without val_loss improvement before stopping; None = off
    log_every: int = 25  # record gradient norms every this many steps

    def __post_init__(self) -> None:
        # Normalise the forms that JSON and widgets produce (lists, ints for
        # floats) so that equal configs hash equally, then refuse bad values.
        # Only lists become tuples: tuple() of a string would split it into
        # characters, and of a number would raise TypeError instead of ValueError.
        if isinstance(self.hidden_units, list):
            object.__setattr__(self, "hidden_units", tuple(self.hidden_units))
        for field in _FLOAT_FIELDS:
            value = getattr(self, field)
            # An int too large for a float stays an int, so the range check names it.
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= 1e300:
                object.__setattr__(self, field, float(value))
        self.validate()

    # ------------------------------------------------------------------
    def validate(self) -> None:
        """Raise ValueError listing every bad field with its allowed range.

        Returns:
            None; the config is valid when no error is raised.
        """
        problems = _problems(self)
        if problems:
            raise ValueError("Invalid training settings: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field.

        Returns:
            dict with lists in place of tuples.
        """
        data = dataclasses.asdict(self)
        data["hidden_units"] = list(self.hidden_units)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """Build a config from `to_dict` output, rejecting unknown keys and wrong types.

        Args:
            data: mapping of field names to values; missing fields take defaults.
        Returns:
            a validated TrainConfig.
        """
        if not isinstance(data, dict):
            raise ValueError(f"settings must be a mapping, not {type(data).__name__}")
        unknown = sorted(set(data) - set(FIELD_TYPES))
        if unknown:
            raise ValueError(
                f"unknown setting(s) {', '.join(map(repr, unknown))}; "
                f"known settings are {', '.join(FIELD_TYPES)}"
            )
        problems = [p for name, value in data.items() if (p := _type_problem(name, value))]
        if problems:
            raise ValueError("Invalid training settings: " + "; ".join(problems))
        return cls(**data)

    # ------------------------------------------------------------------
    @property
    def steps_per_epoch_estimate(self) -> int:
        """Gradient steps per epoch: `train_size` images, or all training images left after validation.

        Returns:
            ceil(training images / batch size).
        """
        images = self.train_size or (MAX_TRAIN_IMAGES - self.validation_size)
        return math.ceil(images / self.batch_size)

    def uses(self, parameter: str) -> bool:
        """Whether this config's optimizer reads `parameter`.

        Args:
            parameter: a hyperparameter field name such as "momentum".
        Returns:
            True when the chosen optimizer uses it.
        """
        return parameter in OPTIMIZER_PARAMETERS[self.optimizer]

    def canonical(self) -> "TrainConfig":
        """This config with the parameters it does not use at their defaults: the key of the result cache.

        A momentum under Adam, a clip threshold without clipping or a weight spread
        under Glorot change nothing in the run, so two configs that differ only there
        train the same run and must share one cache entry.

        Returns:
            a validated TrainConfig that trains exactly like this one.
        """
        plain = TrainConfig()
        unused = [name for name in OPTIMIZER_HYPERPARAMETERS if not self.uses(name)]
        if self.clip == "none":
            unused.append("clip_threshold")
        if self.kernel_initializer not in ("random_normal", "random_uniform"):
            unused.append("init_stddev")
        return dataclasses.replace(self, **{name: getattr(plain, name) for name in unused})

    def with_log_points(self, log_points: int = 60) -> "TrainConfig":
        """This config with `log_every` chosen so that the step log has at least `log_points` entries.

        Args:
            log_points: the fewest step-log entries wanted (log_every stays at most the default 25).
        Returns:
            a validated TrainConfig.
        """
        total_steps = self.epochs * self.steps_per_epoch_estimate
        return dataclasses.replace(self, log_every=max(1, min(TrainConfig.log_every, total_steps // log_points)))


FIELD_TYPES: dict[str, Any] = typing.get_type_hints(TrainConfig)
_FLOAT_FIELDS = tuple(name for name, kind in FIELD_TYPES.items() if kind is float)

# (low, high, low_inclusive, high_inclusive): the allowed range of a numeric field.
Bounds = tuple[float, float, bool, bool]


@dataclass(frozen=True)
class Setting:
    """Everything the app says about one TrainConfig field, in one place.

    Like the PROPS table of TensorFlow Playground's state.ts: the form, the URL
    binding, the compare table, the same-seed A/B and the validation all read
    this table, so adding a setting means adding one row here.
    """

    label: str  # how tables, legends and the A/B name the field, e.g. "training images"
    widget_label: str = ""  # the Training Lab widget's label; empty = the label, capitalised
    choices: tuple = ()  # the allowed values of a text field (validation and its selectbox)
    bounds: Optional[Bounds] = None  # the allowed range of a numeric field (validation)
    options: tuple = ()  # the Training Lab's select-slider values; empty = a free widget (or none)
    choice_labels: Optional[dict] = None  # words for each choice, e.g. {"norm": "by norm (per tensor)"}
    in_form: bool = True  # has a Training Lab widget, and so a "lab_<field>" key in shared links

    @property
    def title(self) -> str:
        """The widget's label.

        Returns:
            widget_label, or the label with a capital first letter.
        """
        return self.widget_label or self.label[:1].upper() + self.label[1:]

    def ab_values(self) -> tuple:
        """The values the same-seed A/B offers for this field.

        Returns:
            the select-slider options, else the choices.
        """
        return self.options or self.choices


ALL_IMAGES = 0  # the train_size option meaning "all images not held out"
PATIENCE_OFF = 0  # the early_stopping_patience option meaning "off"

SETTINGS: dict[str, Setting] = {
    # --- data and split ---
    "dataset": Setting("dataset", choices=DATASETS, choice_labels=DATASET_LABELS),
    "train_size": Setting("training images", bounds=(100, MAX_TRAIN_IMAGES, True, True),
                          options=(500, 1_000, 2_000, 5_000, 10_000, 20_000, 30_000, ALL_IMAGES)),
    "validation_size": Setting("validation images", bounds=(100, 20_000, True, True),
                               options=(500, 1_000, 2_000, 5_000, 10_000)),
    "seed": Setting("seed", bounds=(0, 2**31 - 1, True, True)),
    # --- model ---
    "hidden_units": Setting("hidden layers", widget_label="Hidden layers (units)"),
    "activation": Setting("activation", choices=ACTIVATIONS),
    "kernel_initializer": Setting("initializer", widget_label="Kernel initializer", choices=INITIALIZERS),
    "init_stddev": Setting("initial weight spread", bounds=(0.0, 10.0, False, True),
                           options=(0.01, 0.05, 0.1, 0.5, 1.0, 2.0)),
    "batch_norm": Setting("batch normalisation", choices=BATCH_NORM_PLACES, choice_labels={
        "none": "none", "before": "before the activation", "after": "after the activation"}),
    # --- optimizer ---
    "optimizer": Setting("optimizer", choices=OPTIMIZERS, choice_labels=OPTIMIZER_LABELS),
    "learning_rate": Setting("learning rate", widget_label="Learning rate η", bounds=(0.0, 10.0, False, True),
                             options=(1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 0.5, 1.0, 2.0, 5.0, 10.0)),
    "decay": Setting("decay", widget_label="Decay: η / (1 + decay · step)", bounds=(0.0, 1.0, True, True),
                     options=(0.0, 1e-5, 1e-4, 1e-3, 1e-2, 0.1)),
    "momentum": Setting("momentum", widget_label="Momentum β", bounds=(0.0, 1.0, True, False),
                        options=(0.0, 0.5, 0.8, 0.9, 0.95, 0.99)),
    "rho": Setting("ρ", widget_label="ρ (decay of squared gradients)", bounds=(0.0, 1.0, True, False),
                   options=(0.5, 0.8, 0.9, 0.95, 0.99, 0.999)),
    "beta_1": Setting("β₁", widget_label="β₁ (first moment)", bounds=(0.0, 1.0, True, False),
                      options=(0.0, 0.5, 0.8, 0.9, 0.95, 0.99)),
    "beta_2": Setting("β₂", widget_label="β₂ (second moment)", bounds=(0.0, 1.0, True, False),
                      options=(0.9, 0.99, 0.999, 0.9999)),
    "epsilon": Setting("ε", widget_label="ε (added to the denominator)", bounds=(1e-10, 1.0, True, True),
                       options=(1e-10, 1e-8, 1e-7, 1e-5, 1e-3, 0.1, 1.0)),
    "clip": Setting("clipping", widget_label="Gradient clipping", choices=CLIP_MODES, choice_labels={
        "none": "none", "value": "by value", "norm": "by norm (per tensor)", "global_norm": "by global norm"}),
    "clip_threshold": Setting("clip threshold", bounds=(0.0, 1_000.0, False, True),
                              options=(0.01, 0.05, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0)),
    # --- training ---
    "loss": Setting("loss", choices=LOSSES, choice_labels={
        "sparse_categorical_crossentropy": "sparse categorical cross-entropy",
        "categorical_crossentropy": "categorical cross-entropy (one-hot)", "mse": "MSE (mean squared error)",
        "mae": "MAE (mean absolute error)"}),
    "batch_size": Setting("batch size", bounds=(1, 4_096, True, True),
                          options=(8, 16, 32, 64, 128, 256, 512, 1024)),
    "epochs": Setting("epochs", bounds=(1, MAX_EPOCHS, True, True)),
    "early_stopping_patience": Setting("early-stopping patience", bounds=(1, MAX_EPOCHS, True, True),
                                       options=(PATIENCE_OFF, 1, 2, 3, 5, 10)),
    # Chosen by the app from the run's length (see TrainConfig.with_log_points), never by a widget.
    "log_every": Setting("log every (steps)", bounds=(1, 1_000, True, True), in_form=False),
}

# The same-seed A/B's menu ("re-run with one setting changed"), the slides' first knob first.
AB_SETTINGS = ("learning_rate", "optimizer", "batch_size", "activation", "kernel_initializer", "batch_norm", "clip",
               "decay", "momentum", "loss")

_RANGES: dict[str, Bounds] = {name: s.bounds for name, s in SETTINGS.items() if s.bounds}
_CHOICES: dict[str, tuple[str, ...]] = {name: s.choices for name, s in SETTINGS.items() if s.choices}


def setting_label(name: str) -> str:
    """The words for a TrainConfig field, e.g. "training images" for "train_size".

    Args:
        name: a field name (an unknown one reads with spaces for underscores).
    Returns:
        a short label.
    """
    setting = SETTINGS.get(name)
    return setting.label if setting else name.replace("_", " ")


def float_literal(value: float) -> str:
    """A number as short as `:g` writes it, but always a Python float literal ("1.0", never "1").

    Keras 3 rejects an int learning rate or momentum with ValueError, and `f"{1.0:g}"` is "1",
    which Python reads as an int; every number in generated code goes through here.

    Args:
        value: the number.
    Returns:
        source text such as "0.01", "1e-05" or "1.0".
    """
    text = f"{float(value):g}"
    if any(character in text for character in ".en"):  # "0.01", "1e-05", "inf" and "nan" stay as they are
        return text
    return text + ".0"


def _range_text(low: float, high: float, low_in: bool, high_in: bool) -> str:
    return f"{'[' if low_in else '('}{low:g}, {high:g}{']' if high_in else ')'}"


def _range_problem(name: str, value: Any) -> Optional[str]:
    low, high, low_in, high_in = _RANGES[name]
    allowed = _range_text(low, high, low_in, high_in)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{name} must be a number in {allowed}, got {_shown(value)}"
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return f"{name} must be a finite number in {allowed}, got {value}"
    too_low = value < low or (value == low and not low_in)
    too_high = value > high or (value == high and not high_in)
    if too_low or too_high:
        return f"{name} must be in {allowed}, got {_shown(value)}"
    return None


def _shown(value: Any) -> str:
    # Short on purpose: a hand-edited file may hold a 400-digit number, and a
    # float format of it would raise OverflowError instead of naming the field.
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and abs(value) >= 10**36:
        # repr() itself refuses integers of more than 4,300 digits.
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _problems(config: TrainConfig) -> list[str]:
    problems = [p for name in FIELD_TYPES if (p := _type_problem(name, getattr(config, name)))]
    if problems:
        return problems
    for name, choices in _CHOICES.items():
        value = getattr(config, name)
        if value not in choices:
            problems.append(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    for name in _RANGES:
        value = getattr(config, name)
        if value is not None and (p := _range_problem(name, value)):
            problems.append(p)
    problems += _architecture_problems(config)
    if not problems:
        problems += _budget_problems(config)
    return problems


def _architecture_problems(config: TrainConfig) -> list[str]:
    units = config.hidden_units
    if not 1 <= len(units) <= MAX_LAYERS:
        return [f"hidden_units must list 1 to {MAX_LAYERS} layers, got {len(units)}"]
    bad = [u for u in units if isinstance(u, bool) or not isinstance(u, int) or not 1 <= u <= MAX_UNITS]
    if bad:
        return [f"hidden_units must be whole numbers in [1, {MAX_UNITS}], got {list(units)}"]
    return []


def _budget_problems(config: TrainConfig) -> list[str]:
    problems = []
    if config.train_size is not None and config.train_size + config.validation_size > MAX_TRAIN_IMAGES:
        problems.append(
            f"train_size + validation_size must be at most {MAX_TRAIN_IMAGES:,} "
            f"(the training set), got {config.train_size + config.validation_size:,}"
        )
    total_steps = config.epochs * config.steps_per_epoch_estimate
    if total_steps > MAX_TOTAL_STEPS:
        problems.append(
            f"epochs x steps per epoch must be at most {MAX_TOTAL_STEPS:,} on a shared server, "
            f"got {total_steps:,}: use fewer epochs, fewer images or a larger batch_size"
        )
    return problems


def _type_problem(name: str, value: Any) -> Optional[str]:
    """Name the expected type when `value` cannot be a value of field `name`."""
    kind = FIELD_TYPES[name]
    optional = typing.get_origin(kind) is typing.Union
    if optional:
        if value is None:
            return None
        kind = next(k for k in typing.get_args(kind) if k is not type(None))
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int and not (isinstance(value, int) and not isinstance(value, bool)):
        return f"{name} must be a whole number{' or null' if optional else ''}, got {_shown(value)}"
    if kind is float and not is_number:
        return f"{name} must be a number, got {_shown(value)}"
    if kind is str and not isinstance(value, str):
        return f"{name} must be text, got {_shown(value)}"
    if typing.get_origin(kind) is tuple:
        if not isinstance(value, (list, tuple)) or not all(
            isinstance(u, int) and not isinstance(u, bool) for u in value
        ):
            return f"{name} must be a list of whole numbers, got {_shown(value)}"
    return None


def lecture_config() -> TrainConfig:
    """The exact setup of the lecture slides (full data, SGD lr 0.01, batch 32).

    Returns:
        the default TrainConfig.
    """
    return TrainConfig()
