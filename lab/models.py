"""Building the lecture's Sequential model from a TrainConfig.

The model takes raw uint8 images and scales them to [0, 1] in its first layer,
so the dataset can stay uint8 and be shared by every session.
"""

from __future__ import annotations

from lab.lazy import keras

from lab.config import TrainConfig

# Name-to-factory maps: one place that turns a config name into a fresh Keras
# object. Seeds are passed per layer because a seeded Keras initializer returns
# the same values on every call, so two layers must never share a seed.
INITIALIZERS = {
    "glorot_uniform": lambda config, seed: keras.initializers.GlorotUniform(seed=seed),
    "glorot_normal": lambda config, seed: keras.initializers.GlorotNormal(seed=seed),
    "he_normal": lambda config, seed: keras.initializers.HeNormal(seed=seed),
    "he_uniform": lambda config, seed: keras.initializers.HeUniform(seed=seed),
    "lecun_normal": lambda config, seed: keras.initializers.LecunNormal(seed=seed),
    "random_normal": lambda config, seed: keras.initializers.RandomNormal(
        stddev=config.init_stddev, seed=seed
    ),
    "random_uniform": lambda config, seed: keras.initializers.RandomUniform(
        -config.init_stddev, config.init_stddev, seed=seed
    ),
    "zeros": lambda config, seed: keras.initializers.Zeros(),
}

ACTIVATIONS = {
    "relu": lambda: keras.activations.relu,
    "sigmoid": lambda: keras.activations.sigmoid,
    "tanh": lambda: keras.activations.tanh,
    "linear": lambda: keras.activations.linear,
    "elu": lambda: keras.activations.elu,
    "leaky_relu": lambda: keras.activations.leaky_relu,
}

# Losses that compare the softmax output with a one-hot target instead of an
# integer label; the trainer one-hot encodes the labels for them.
LOSSES = {
    "sparse_categorical_crossentropy": (lambda: keras.losses.SparseCategoricalCrossentropy, False),
    "categorical_crossentropy": (lambda: keras.losses.CategoricalCrossentropy, True),
    "mse": (lambda: keras.losses.MeanSquaredError, True),
    "mae": (lambda: keras.losses.MeanAbsoluteError, True),
}

IMAGE_SHAPE = (28, 28)


# The lecture's model as the code views write it: uint8 images scaled inside the model, as here.
LECTURE_MODEL_LAYERS = (
    "keras.Input(shape=(28, 28)),",
    "keras.layers.Rescaling(1 / 255),",
    "keras.layers.Flatten(),",
    'keras.layers.Dense(300, activation="relu"),',
    'keras.layers.Dense(100, activation="relu"),',
    'keras.layers.Dense(10, activation="softmax"),',
)


def lecture_model_code(indent: str = "") -> str:
    """The lecture's Sequential model as Keras source, one layer a line, for the pages' code views.

    Args:
        indent: put before every line (the code around it may sit in a loop).
    Returns:
        "model = keras.Sequential([...])" source ending in a newline.
    """
    layers = "".join(f"{indent}    {layer}\n" for layer in LECTURE_MODEL_LAYERS)
    return f"{indent}model = keras.Sequential([\n{layers}{indent}])\n"


def layer_seed(config: TrainConfig, index: int) -> int:
    """A distinct, reproducible seed for the initializer of layer `index`.

    Args:
        config: the run's config (its seed is the base).
        index: position of the Dense layer, 0 for the first hidden layer.
    Returns:
        an int seed.
    """
    return (config.seed * 1_000 + index) % (2**31 - 1)


def _dense(config: TrainConfig, units: int, index: int, activation, use_bias: bool = True) -> keras.layers.Dense:
    return keras.layers.Dense(
        units,
        activation=activation,
        use_bias=use_bias,
        kernel_initializer=INITIALIZERS[config.kernel_initializer](config, layer_seed(config, index)),
        name=f"hidden_{index + 1}",
    )


def _hidden_block(config: TrainConfig, units: int, index: int) -> list[keras.layers.Layer]:
    activation = ACTIVATIONS[config.activation]()
    if config.batch_norm == "before":
        # The bias is redundant before BatchNormalization, whose beta shifts anyway.
        return [
            _dense(config, units, index, None, use_bias=False),
            keras.layers.BatchNormalization(name=f"batch_norm_{index + 1}"),
            keras.layers.Activation(activation, name=f"{config.activation}_{index + 1}"),
        ]
    layers = [_dense(config, units, index, activation)]
    if config.batch_norm == "after":
        layers.append(keras.layers.BatchNormalization(name=f"batch_norm_{index + 1}"))
    return layers


def build_model(config: TrainConfig, num_classes: int = 10) -> keras.Model:
    """A fresh, seeded Sequential model: Rescaling, Flatten, hidden Dense layers, softmax.

    Args:
        config: decides the widths, activation, initializer and batch norm.
        num_classes: units of the softmax output layer.
    Returns:
        an uncompiled keras.Model taking uint8 images of shape (28, 28).
    """
    layers: list[keras.layers.Layer] = [
        keras.Input(shape=IMAGE_SHAPE, dtype="uint8", name="pixels"),
        keras.layers.Rescaling(1.0 / 255, name="scale_to_0_1"),
        keras.layers.Flatten(name="flatten"),
    ]
    for index, units in enumerate(config.hidden_units):
        layers += _hidden_block(config, units, index)
    output_index = len(config.hidden_units)
    layers.append(
        keras.layers.Dense(
            num_classes,
            activation="softmax",
            kernel_initializer=INITIALIZERS[config.kernel_initializer](config, layer_seed(config, output_index)),
            name="output",
        )
    )
    return keras.Sequential(layers, name="lecture_mlp")


def build_loss(config: TrainConfig) -> keras.losses.Loss:
    """A fresh Keras loss object for the config's loss name.

    Args:
        config: its `loss` field picks the loss.
    Returns:
        a keras.losses.Loss.
    """
    return LOSSES[config.loss][0]()()


def loss_needs_one_hot(config: TrainConfig) -> bool:
    """Whether the loss compares against one-hot targets rather than integer labels.

    Args:
        config: its `loss` field is checked.
    Returns:
        True for categorical cross-entropy, MSE and MAE.
    """
    return LOSSES[config.loss][1]


def layer_table(model: keras.Model) -> list[dict]:
    """One row per layer: name, type, output shape and parameter count.

    Args:
        model: a built model.
    Returns:
        list of dicts ready for a pandas DataFrame.
    """
    return [
        {
            "layer": layer.name,
            "type": type(layer).__name__,
            "output shape": str(tuple(layer.output.shape)),
            "parameters": layer.count_params(),
        }
        for layer in model.layers
    ]
