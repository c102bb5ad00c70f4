"""Fresh Keras 3 optimizers from a TrainConfig, and the code students can copy.

The slides use Keras 2 spellings. In Keras 3 `lr=` raises an error and
`decay=` is ignored (Keras only prints a warning), so decay is an `InverseTimeDecay` schedule and
clipping is the optimizer's own `clipvalue`, `clipnorm` or `global_clipnorm`.
"""

from __future__ import annotations

from lab.lazy import keras

from lab.config import TrainConfig, float_literal  # float_literal: re-exported for the code views

# Name-to-factory maps. Every run builds a new optimizer: optimizer state
# (momentum, accumulators, the step counter) must never leak between runs.
OPTIMIZERS = {
    "sgd": lambda config, lr: keras.optimizers.SGD(lr, **clip_arguments(config)),
    "momentum": lambda config, lr: keras.optimizers.SGD(lr, momentum=config.momentum, **clip_arguments(config)),
    "nesterov": lambda config, lr: keras.optimizers.SGD(
        lr, momentum=config.momentum, nesterov=True, **clip_arguments(config)
    ),
    "adagrad": lambda config, lr: keras.optimizers.Adagrad(lr, epsilon=config.epsilon, **clip_arguments(config)),
    "rmsprop": lambda config, lr: keras.optimizers.RMSprop(
        lr, rho=config.rho, epsilon=config.epsilon, **clip_arguments(config)
    ),
    "adam": lambda config, lr: keras.optimizers.Adam(
        lr, beta_1=config.beta_1, beta_2=config.beta_2, epsilon=config.epsilon, **clip_arguments(config)
    ),
}

CLIP_ARGUMENT = {"value": "clipvalue", "norm": "clipnorm", "global_norm": "global_clipnorm"}


def clip_arguments(config: TrainConfig) -> dict[str, float]:
    """The Keras optimizer keyword for the config's clipping, if any.

    Args:
        config: its `clip` and `clip_threshold` fields.
    Returns:
        e.g. {"clipnorm": 1.0}, or {} when clipping is off.
    """
    if config.clip == "none":
        return {}
    return {CLIP_ARGUMENT[config.clip]: config.clip_threshold}


def learning_rate_schedule(config: TrainConfig):
    """The learning rate as Keras wants it: a float, or InverseTimeDecay when decaying.

    Args:
        config: its `learning_rate` and `decay` fields.
    Returns:
        a float or a keras.optimizers.schedules.InverseTimeDecay equal to lr / (1 + decay * step).
    """
    if config.decay == 0:
        return config.learning_rate
    return keras.optimizers.schedules.InverseTimeDecay(
        config.learning_rate, decay_steps=1, decay_rate=config.decay
    )


def build_optimizer(config: TrainConfig, learning_rate=None) -> keras.optimizers.Optimizer:
    """A new Keras 3 optimizer for one run.

    Args:
        config: picks the optimizer, its hyperparameters, decay and clipping.
        learning_rate: optional float or schedule used instead of `learning_rate_schedule(config)`.
    Returns:
        a fresh keras.optimizers.Optimizer.
    """
    if learning_rate is None:
        learning_rate = learning_rate_schedule(config)
    return OPTIMIZERS[config.optimizer](config, learning_rate)


def learning_rate_at(config: TrainConfig, step: int) -> float:
    """The learning rate in force at a given step, by the formula lr / (1 + decay * step).

    Args:
        config: its `learning_rate` and `decay`.
        step: the number of updates already applied.
    Returns:
        the learning rate as a float.
    """
    return config.learning_rate / (1.0 + config.decay * step)


# ----------------------------------------------------------------------
# Code shown to students
# ----------------------------------------------------------------------
CLASS_NAMES = {"sgd": "SGD", "momentum": "SGD", "nesterov": "SGD", "adagrad": "Adagrad",
               "rmsprop": "RMSprop", "adam": "Adam"}


def _optimizer_arguments(config: TrainConfig) -> list[str]:
    # The hyperparameters the chosen optimizer reads, in the order the slides write them.
    args = []
    if config.optimizer in ("momentum", "nesterov"):
        args.append(f"momentum={float_literal(config.momentum)}")
    if config.optimizer == "nesterov":
        args.append("nesterov=True")
    if config.optimizer == "rmsprop":
        args.append(f"rho={float_literal(config.rho)}")
    if config.optimizer == "adam":
        args += [f"beta_1={float_literal(config.beta_1)}", f"beta_2={float_literal(config.beta_2)}"]
    if config.optimizer in ("adagrad", "rmsprop", "adam"):
        args.append(f"epsilon={float_literal(config.epsilon)}")
    return args


def _optimizer_call(config: TrainConfig, learning_rate: str) -> str:
    args = [learning_rate, *_optimizer_arguments(config)]
    args += [f"{name}={float_literal(value)}" for name, value in clip_arguments(config).items()]
    return f"keras.optimizers.{CLASS_NAMES[config.optimizer]}({', '.join(args)})"


def optimizer_expression(config: TrainConfig) -> str:
    """The Keras 3 expression that builds this config's optimizer, exactly as `keras_code` writes it.

    Args:
        config: its optimizer, hyperparameters, decay and clipping.
    Returns:
        source text such as "keras.optimizers.SGD(learning_rate=1.0, clipnorm=1.0)".
    """
    learning_rate = float_literal(config.learning_rate)
    if config.decay:
        learning_rate = (f"keras.optimizers.schedules.InverseTimeDecay({learning_rate}, decay_steps=1, "
                         f"decay_rate={float_literal(config.decay)})")
    return _optimizer_call(config, "learning_rate=" + learning_rate)


# What each slide spelling does in Keras 3, in words. Keras 3 pops `decay=` with a warning first and then
# raises ValueError ("Argument(s) not recognized") for `lr=`, so the slides' `SGD(lr=0.01, decay=1e-4)`
# never gets as far as ignoring its decay: it fails on `lr=`.
LR_RAISES = "lr= raises ValueError in Keras 3 (Argument(s) not recognized)"
DECAY_IGNORED = ("lr= raises ValueError first; and with learning_rate= instead, decay= is ignored: "
                 "Keras only warns, and the rate never decays")
MODULE_PLURAL = "no module keras.optimizer: the module is optimizers, plural"

# The lecture's own spellings, for a page that lists them all (old, Keras 3, what the old one does).
SLIDE_MAPPING_ROWS = (
    ("SGD(lr=0.01)", "SGD(learning_rate=0.01)", LR_RAISES),
    ("SGD(lr=0.01, decay=1e-4)", "SGD(learning_rate=InverseTimeDecay(0.01, decay_steps=1, decay_rate=1e-4))",
     DECAY_IGNORED),
    ("keras.optimizers.Adam(lr=0.001, beta_1=0.9, beta_2=0.999)",
     "keras.optimizers.Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999)", LR_RAISES),
    ("keras.optimizer.SGD(clipvalue=1.0)", "keras.optimizers.SGD(clipvalue=1.0)", MODULE_PLURAL),
)


def old_spelling(config: TrainConfig) -> list[tuple[str, str]]:
    """Pairs of (Keras 2 spelling from the slides, Keras 3 replacement) for this config's optimizer.

    Args:
        config: decides the optimizer, its hyperparameters and which mappings apply.
    Returns:
        list of (old, new) code strings; the first pair is always the learning rate.
    """
    class_name = f"keras.optimizers.{CLASS_NAMES[config.optimizer]}"
    arguments = "".join(", " + argument for argument in _optimizer_arguments(config))
    rate = float_literal(config.learning_rate)
    pairs = [(f"{class_name}(lr={rate}{arguments})",
              f"{class_name}(learning_rate={rate}{arguments})  # {LR_RAISES}")]
    if config.decay:
        decay = float_literal(config.decay)
        pairs.append((
            f"{class_name}(lr={rate}, decay={decay}{arguments})",
            f"{class_name}(learning_rate=keras.optimizers.schedules.InverseTimeDecay({rate}, "
            f"decay_steps=1, decay_rate={decay}){arguments})  # {DECAY_IGNORED}",
        ))
    if config.clip != "none":
        name = CLIP_ARGUMENT[config.clip]
        threshold = float_literal(config.clip_threshold)
        pairs.append((
            f"keras.optimizer.{CLASS_NAMES[config.optimizer]}({name}={threshold})",
            f"{class_name}({name}={threshold})  # {MODULE_PLURAL}",
        ))
    return pairs


def keras_code(config: TrainConfig) -> str:
    """A runnable Keras 3 script that builds, compiles and fits this exact model.

    Args:
        config: the run to reproduce.
    Returns:
        Python source as a string, ending with the slide-to-Keras-3 mapping as comments.
    """
    init = _initializer_code(config)
    lines = [
        "import keras",
        "",
        f"(x_train_full, y_train_full), (x_test, y_test) = keras.datasets.{config.dataset}.load_data()",
        f"x_valid, y_valid = x_train_full[:{config.validation_size}], y_train_full[:{config.validation_size}]",
        f"x_train, y_train = x_train_full[{config.validation_size}:], y_train_full[{config.validation_size}:]",
    ]
    if config.train_size:
        lines.append(f"x_train, y_train = x_train[:{config.train_size}], y_train[:{config.train_size}]")
    lines += [
        "",
        "model = keras.Sequential([",
        "    keras.Input(shape=(28, 28)),",
        "    keras.layers.Rescaling(1 / 255),  # the app scales inside the model",
        "    keras.layers.Flatten(),",
    ]
    for units in config.hidden_units:
        lines += _hidden_code(config, units, init)
    lines += [
        f"    keras.layers.Dense(10, activation=\"softmax\"{init}),",
        "])",
        "model.compile(",
        f"    loss=\"{config.loss}\",",
        f"    optimizer={optimizer_expression(config)},",
        "    metrics=[\"accuracy\"],",
        ")",
    ]
    callbacks = ""
    if config.early_stopping_patience:
        lines.append(
            f"early_stopping = keras.callbacks.EarlyStopping(patience={config.early_stopping_patience}, "
            "restore_best_weights=True)"
        )
        callbacks = ", callbacks=[early_stopping]"
    fit_labels = "keras.utils.to_categorical(y_train, 10)" if config.loss != "sparse_categorical_crossentropy" else "y_train"
    valid_labels = "keras.utils.to_categorical(y_valid, 10)" if config.loss != "sparse_categorical_crossentropy" else "y_valid"
    lines += [
        f"history = model.fit(x_train, {fit_labels}, epochs={config.epochs}, batch_size={config.batch_size},",
        f"                    validation_data=(x_valid, {valid_labels}){callbacks})",
        "",
        "# Slide (Keras 2)  ->  Keras 3",
    ]
    lines += [f"# {old}  ->  {new}" for old, new in old_spelling(config)]
    return "\n".join(lines) + "\n"


def _initializer_code(config: TrainConfig) -> str:
    name = config.kernel_initializer
    if name == "glorot_uniform":
        return ""  # the Keras default
    if name == "random_normal":
        return f", kernel_initializer=keras.initializers.RandomNormal(stddev={float_literal(config.init_stddev)})"
    if name == "random_uniform":
        low, high = float_literal(-config.init_stddev), float_literal(config.init_stddev)
        return f", kernel_initializer=keras.initializers.RandomUniform({low}, {high})"
    return f", kernel_initializer=\"{name}\""


def _hidden_code(config: TrainConfig, units: int, init: str) -> list[str]:
    if config.batch_norm == "before":
        return [
            f"    keras.layers.Dense({units}, use_bias=False{init}),",
            "    keras.layers.BatchNormalization(),",
            f"    keras.layers.Activation(\"{config.activation}\"),",
        ]
    lines = [f"    keras.layers.Dense({units}, activation=\"{config.activation}\"{init}),"]
    if config.batch_norm == "after":
        lines.append("    keras.layers.BatchNormalization(),")
    return lines
