"""Training a classifier on a compiled twin borrowed from the worker's engine pool.

Keras traces a new train and test function for every model that fit() and
evaluate() see, and TensorFlow never frees a traced function's memory. A run
therefore borrows a compiled model of the same architecture and compile
settings (its key) from lab.engines's pool, resets its weights and optimizer
state, and gives it back. Only a key never seen before (or evicted) traces anew.
Used by the Model and activations experiment and, for the key and the optimizer
reset, by the Inputs and outputs heads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lab.data import Dataset
from lab.engines import ENGINES, EnginePool
from lab.lazy import keras

# Deep linear networks have no saturating activation to damp a large early step and
# can blow up for an unlucky seed; clipping only such rare huge gradients keeps
# every model stable at the same learning rate.
CLIP_NORM = 5.0
BATCH_SIZE = 64
# Steps that one call of the traced train function runs. A small model's step takes less time than Python's
# dispatch of it, so the softmax layer (the Model page's first curve) fitted in about 60% of the time with 16
# steps per call; the steps, their batches and their order are the same, and so are the trained weights.
STEPS_PER_CALL = 16


def architecture_key(model: keras.Model) -> tuple:
    """What a model's traced graphs depend on: each layer's class and configuration, minus names and seeds.

    Args:
        model: a Keras model.
    Returns:
        a hashable tuple.
    """
    def plain(config: dict) -> tuple:
        skip = ("name", "kernel_initializer", "bias_initializer", "seed")
        return tuple(sorted((key, repr(value)) for key, value in config.items() if key not in skip))

    return tuple((type(layer).__name__, plain(layer.get_config())) for layer in model.layers)


def reset_optimizer(optimizer, fresh_optimizer, variables) -> None:
    """Give a used optimizer the state of a freshly built one (step 0, zero momentum, ...).

    Args:
        optimizer: the built optimizer to reset.
        fresh_optimizer: a new, unbuilt optimizer of the same kind and settings.
        variables: the trainable variables the optimizer was built for.
    """
    if not optimizer.built:
        optimizer.build(variables)  # a twin that has not trained yet has no slots to reset
    fresh_optimizer.build(variables)
    for target, source in zip(optimizer.variables, fresh_optimizer.variables, strict=True):
        target.assign(source)


@dataclass
class _CompiledClassifier:
    """A compiled classifier whose schedule reads variables, so one trace serves any run length."""

    model: keras.Model
    learning_rate: keras.Variable
    decay_steps: keras.Variable


def _sgd(schedule) -> keras.optimizers.Optimizer:
    # The decay lets every model settle near its best within a few epochs, so
    # the comparison is about what each model can represent, not about noise.
    return keras.optimizers.SGD(schedule, momentum=0.9, global_clipnorm=CLIP_NORM)


def _compiled_classifier(model: keras.Model) -> _CompiledClassifier:
    twin = keras.models.clone_model(model)
    learning_rate = keras.Variable(0.05, dtype="float32", trainable=False, name="initial_learning_rate")
    decay_steps = keras.Variable(1.0, dtype="float32", trainable=False, name="decay_steps")
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=decay_steps)
    twin.compile(optimizer=_sgd(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                 steps_per_execution=STEPS_PER_CALL)
    return _CompiledClassifier(twin, learning_rate, decay_steps)


def accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> float:
    """The share of images whose largest output is their label, as Keras's "accuracy" counts it.

    Args:
        model: a classifier.
        images: its inputs.
        labels: their integer labels.
    Returns:
        the accuracy, from 0 to 1.
    """
    # A direct call, not evaluate(): evaluate() builds a dataset and a progress loop on every call, which took
    # about as long as an epoch of the softmax layer's training (0.1-0.9 s for 2,000 images on a busy machine).
    return float(np.mean(predict(model, images).argmax(axis=1) == labels))


def fit_classifier(model: keras.Model, dataset: Dataset, train_index: np.ndarray, validation_index: np.ndarray,
                   epochs: int, learning_rate: float, seed: int, batch_size: int = BATCH_SIZE,
                   pool: EnginePool = ENGINES) -> list[float]:
    """Train with SGD, momentum 0.9 and a cosine-decaying learning rate, in a seeded batch order.

    The training runs on a pooled compiled twin of `model` (same architecture,
    `model`'s weights, a fresh optimizer), whose trained weights are then copied
    back into `model`.

    Args:
        model: an uncompiled classifier; it ends up with the trained weights.
        dataset: the shared uint8 dataset.
        train_index: positions of the training images.
        validation_index: positions of the validation images.
        epochs: passes over the training images.
        learning_rate: the starting learning rate.
        seed: seeds the batch order of every epoch.
        batch_size: images per step.
        pool: where compiled twins are kept between runs.
    Returns:
        the validation accuracy after each epoch.
    """
    steps = epochs * -(-len(train_index) // batch_size)
    x_valid, y_valid = dataset.x_train[validation_index], dataset.y_train[validation_index]
    accuracies = []
    with pool.borrow(("classifier", batch_size, architecture_key(model)), lambda: _compiled_classifier(model)) as twin:
        twin.model.set_weights(model.get_weights())
        reset_optimizer(twin.model.optimizer, _sgd(keras.optimizers.schedules.CosineDecay(learning_rate, steps)),
                        twin.model.trainable_variables)
        twin.learning_rate.assign(learning_rate)
        twin.decay_steps.assign(float(steps))
        for epoch in range(epochs):
            order = train_index[np.random.default_rng([seed, epoch]).permutation(len(train_index))]
            twin.model.fit(dataset.x_train[order], dataset.y_train[order], batch_size=batch_size,
                           epochs=1, shuffle=False, verbose=0)
            accuracies.append(accuracy(twin.model, x_valid, y_valid))
        model.set_weights(twin.model.get_weights())
    return accuracies


def predict(model: keras.Model, images: np.ndarray, batch: int = 2_000) -> np.ndarray:
    """The model's outputs in inference mode, computed in batches.

    Args:
        model: a Keras model.
        images: its inputs.
        batch: images per call.
    Returns:
        the outputs as one numpy array.
    """
    # Calling the model directly avoids tracing a new predict function for every model.
    return np.concatenate([np.asarray(model(images[start:start + batch], training=False))
                           for start in range(0, len(images), batch)])
