"""lab.models and lab.optimizers: the lecture's model, decay, clipping and the code view."""

import keras
import numpy as np
import pytest

from lab.config import ACTIVATIONS, INITIALIZERS, LOSSES, OPTIMIZERS, TrainConfig
from lab import models, optimizers


def test_name_maps_cover_every_config_choice():
    assert set(models.ACTIVATIONS) == set(ACTIVATIONS)
    assert set(models.INITIALIZERS) == set(INITIALIZERS)
    assert set(models.LOSSES) == set(LOSSES)
    assert set(optimizers.OPTIMIZERS) == set(OPTIMIZERS)


def test_lecture_model_has_266610_parameters_and_takes_uint8():
    model = models.build_model(TrainConfig())
    assert model.count_params() == 266_610
    assert [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)] == [300, 100, 10]
    images = np.full((2, 28, 28), 255, dtype=np.uint8)
    probabilities = model(images).numpy()
    assert probabilities.shape == (2, 10)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_same_seed_same_weights_and_layers_differ():
    first = models.build_model(TrainConfig(seed=3)).get_weights()
    second = models.build_model(TrainConfig(seed=3)).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    other = models.build_model(TrainConfig(seed=4)).get_weights()
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("place, expected", [
    ("before", ["Dense", "BatchNormalization", "Activation"]),
    ("after", ["Dense", "BatchNormalization"]),
])
def test_batch_norm_before_or_after_the_activation(place, expected):
    model = models.build_model(TrainConfig(hidden_units=(32,), batch_norm=place))
    kinds = [type(layer).__name__ for layer in model.layers][2:-1]  # skip Rescaling, Flatten and output
    assert kinds == expected
    if place == "before":
        assert not model.layers[2].use_bias  # BN's beta replaces the bias


def test_zero_initializer_gives_zero_kernels():
    model = models.build_model(TrainConfig(kernel_initializer="zeros"))
    assert all(not np.any(layer.kernel.numpy()) for layer in model.layers if isinstance(layer, keras.layers.Dense))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_run_gets_a_fresh_optimizer(name):
    config = TrainConfig(optimizer=name)
    first, second = optimizers.build_optimizer(config), optimizers.build_optimizer(config)
    assert first is not second
    assert float(first.learning_rate) == pytest.approx(0.01)


def test_optimizer_hyperparameters_reach_keras():
    adam = optimizers.build_optimizer(TrainConfig(optimizer="adam", beta_1=0.8, beta_2=0.99, epsilon=1e-6))
    assert (adam.beta_1, adam.beta_2, adam.epsilon) == (0.8, 0.99, 1e-6)
    nesterov = optimizers.build_optimizer(TrainConfig(optimizer="nesterov", momentum=0.95))
    assert nesterov.nesterov and nesterov.momentum == 0.95


def test_decay_schedule_equals_lr_over_one_plus_decay_t():
    config = TrainConfig(learning_rate=0.01, decay=1e-4)
    schedule = optimizers.learning_rate_schedule(config)
    assert isinstance(schedule, keras.optimizers.schedules.InverseTimeDecay)
    for step in (0, 1, 10, 1_000, 10_000, 100_000):
        expected = 0.01 / (1 + 1e-4 * step)
        assert float(schedule(step)) == pytest.approx(expected, rel=1e-6)
        assert optimizers.learning_rate_at(config, step) == pytest.approx(expected)


def test_decay_is_applied_by_the_optimizer_as_it_steps():
    optimizer = optimizers.build_optimizer(TrainConfig(learning_rate=0.1, decay=0.5))
    variable = keras.Variable([1.0])
    for _ in range(4):
        optimizer.apply_gradients([(keras.ops.convert_to_tensor([0.0]), variable)])
    assert float(optimizer.learning_rate) == pytest.approx(0.1 / (1 + 0.5 * 4))


# [0.1, 10] has norm 10.0005, so clipping to norm 1 gives [0.0099995, 0.99995]. The
# slides print [0.00999995, 0.999995], one 9 too many in each; Keras and the maths agree.
SCALED = [0.1 / np.hypot(0.1, 10.0), 10.0 / np.hypot(0.1, 10.0)]


@pytest.mark.parametrize("clip, expected", [
    ("value", [0.1, 1.0]),  # each component capped: the direction changes
    ("norm", SCALED),  # the whole vector scaled: the direction is kept
    ("global_norm", SCALED),
])
def test_clipping_matches_keras_semantics(clip, expected):
    config = TrainConfig(optimizer="sgd", learning_rate=1.0, clip=clip, clip_threshold=1.0)
    optimizer = optimizers.build_optimizer(config)
    variable = keras.Variable([0.0, 0.0])
    optimizer.apply_gradients([(keras.ops.convert_to_tensor([0.1, 10.0]), variable)])
    step = -variable.numpy()  # SGD with lr 1 moves by exactly the clipped gradient
    assert step == pytest.approx(expected, rel=1e-5)
    assert step == pytest.approx([0.00999995, 0.999995] if clip != "value" else [0.1, 1.0], rel=1e-4)  # "about"
    if clip != "value":
        assert step[1] / step[0] == pytest.approx(100.0, rel=1e-4)


def test_clip_arguments_are_the_optimizer_own():
    assert optimizers.clip_arguments(TrainConfig(clip="value", clip_threshold=0.5)) == {"clipvalue": 0.5}
    assert optimizers.clip_arguments(TrainConfig(clip="norm")) == {"clipnorm": 1.0}
    assert optimizers.clip_arguments(TrainConfig(clip="global_norm")) == {"global_clipnorm": 1.0}
    assert optimizers.clip_arguments(TrainConfig()) == {}


def test_keras_code_is_valid_keras3_and_shows_the_old_spelling():
    config = TrainConfig(decay=1e-4, clip="value", optimizer="momentum", early_stopping_patience=2)
    code = optimizers.keras_code(config)
    compile(code, "<keras_code>", "exec")
    body, _, mapping = code.partition("# Slide (Keras 2)")
    assert "InverseTimeDecay(0.01, decay_steps=1, decay_rate=0.0001)" in body
    assert "lr=" not in body and "decay=" not in body.replace("decay_rate=", "").replace("decay_steps=", "")
    assert "clipvalue=1" in body and "momentum=0.9" in body and "EarlyStopping(patience=2" in body
    assert "SGD(lr=0.01, decay=0.0001)" in mapping and "decay= is ignored" in mapping


def test_keras_code_builds_the_same_model(fashion):
    """Run the generated code's model part (the download line swapped for local data)."""
    config = TrainConfig(hidden_units=(64, 32), batch_norm="after", kernel_initializer="he_normal")
    code = optimizers.keras_code(config)
    model_code = code[code.index("model = keras.Sequential"): code.index("history =")]
    namespace = {"keras": keras}
    exec(model_code, namespace)  # our own generated code, never user input
    assert namespace["model"].count_params() == models.build_model(config).count_params()
