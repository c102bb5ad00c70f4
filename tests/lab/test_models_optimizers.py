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
    assert "SGD(lr=0.01, decay=0.0001, momentum=0.9)" in mapping and "decay= is ignored" in mapping
    assert "lr= raises ValueError first" in mapping


# ----------------------------------------------------------------------
# The generated code is executed, not only compiled
# ----------------------------------------------------------------------
def test_float_literal_always_writes_a_float():
    assert [optimizers.float_literal(value) for value in (1.0, 10, 0.01, 1e-5, 0.0, -2.0)] == [
        "1.0", "10.0", "0.01", "1e-05", "0.0", "-2.0"]
    for value in (1.0, 2.0, 5.0, 10.0, 0.3, 1e-7):
        assert isinstance(eval(optimizers.float_literal(value)), float)  # a literal, not user input


def _widget_options():
    # The learning rates and hyperparameters the Training Lab's widgets offer.
    from ui.lab_form import LAB_OPTIONS

    return LAB_OPTIONS


def _build(expression: str):
    # Our own generated code, never user input: evaluated with nothing but keras in scope.
    return eval(expression, {"keras": keras})


def test_every_generated_optimizer_expression_builds_in_keras():
    options = _widget_options()
    assert {1.0, 2.0, 5.0, 10.0} <= set(options["learning_rate"])
    # The clipping argument is written apart from the learning rate (and its decay schedule), so each learning rate
    # meets every decay and the clippings take turns: every optimizer still meets every pair of learning rate and
    # decay, and every pair of clipping and decay, in a quarter of the optimizers Keras builds.
    clips = ("none", "value", "norm", "global_norm")
    built, met = 0, set()
    for name in OPTIMIZERS:
        for index, learning_rate in enumerate(options["learning_rate"]):
            for decay in (0.0, 1e-2):
                clip = clips[(index + 2 * bool(decay)) % len(clips)]
                config = TrainConfig(optimizer=name, learning_rate=learning_rate, clip=clip, decay=decay)
                optimizer = _build(optimizers.optimizer_expression(config))
                assert type(optimizer) is type(optimizers.build_optimizer(config)), config
                assert optimizer.learning_rate.numpy() == pytest.approx(learning_rate, rel=1e-6)
                met.add((name, clip, decay))
                built += 1
    assert built == len(OPTIMIZERS) * len(options["learning_rate"]) * 2
    assert met == {(name, clip, decay) for name in OPTIMIZERS for clip in clips for decay in (0.0, 1e-2)}
    # Every other hyperparameter value a widget offers builds too (momentum 0 used to be written as an int).
    for parameter in ("momentum", "rho", "beta_1", "beta_2", "epsilon", "clip_threshold", "decay"):
        for value in options[parameter]:
            for name in OPTIMIZERS:
                config = TrainConfig(optimizer=name, clip="norm", **{parameter: value})
                _build(optimizers.optimizer_expression(config))


def test_keras3_column_of_the_mapping_builds_and_the_slide_column_fails():
    for name in OPTIMIZERS:
        for learning_rate in (0.001, 1.0, 10.0):
            config = TrainConfig(optimizer=name, learning_rate=learning_rate, decay=1e-4, clip="global_norm")
            pairs = optimizers.old_spelling(config)
            assert f"{optimizers.CLASS_NAMES[name]}(lr=" in pairs[0][0]
            for old, new in pairs:
                _build(new.partition("  #")[0])
                # lr= raises ValueError and keras.optimizer (singular) does not exist: the slide spelling fails.
                with pytest.raises((ValueError, AttributeError)):
                    with pytest.warns(UserWarning, match="decay") if "decay=" in old else _no_warning():
                        _build(old)


def _no_warning():
    import contextlib

    return contextlib.nullcontext()


def test_adam_maps_its_own_slide_spelling():
    config = TrainConfig(optimizer="adam", learning_rate=0.001)
    old, new = optimizers.old_spelling(config)[0]
    assert old == "keras.optimizers.Adam(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07)"
    assert new.startswith("keras.optimizers.Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999")
    rows = {old: (new, what) for old, new, what in optimizers.SLIDE_MAPPING_ROWS}
    assert "lr= raises ValueError first" in rows["SGD(lr=0.01, decay=1e-4)"][1]
    assert "decay= is ignored" in rows["SGD(lr=0.01, decay=1e-4)"][1]
    assert rows["keras.optimizers.Adam(lr=0.001, beta_1=0.9, beta_2=0.999)"][0].startswith(
        "keras.optimizers.Adam(learning_rate=0.001")


@pytest.mark.parametrize("fields", [
    dict(optimizer="sgd", learning_rate=1.0),
    dict(optimizer="momentum", learning_rate=2.0, momentum=0.0, clip="value", decay=1e-3,
         loss="categorical_crossentropy", early_stopping_patience=1),
    dict(optimizer="adam", learning_rate=10.0, clip="global_norm", batch_norm="before",
         kernel_initializer="random_uniform", init_stddev=1.0, loss="mse"),
    dict(optimizer="rmsprop", learning_rate=5.0, clip="norm", dataset="mnist", kernel_initializer="random_normal"),
])
def test_the_whole_generated_script_runs_one_step(fashion, mnist, monkeypatch, fields):
    """Run keras_code() as a student would, with the download replaced by 200 real in-memory images."""
    config = TrainConfig(train_size=100, validation_size=100, batch_size=100, epochs=1, hidden_units=(16,),
                         **fields)
    data = fashion if config.dataset == "fashion_mnist" else mnist
    tiny = ((np.array(data.x_train[:200]), np.array(data.y_train[:200])),
            (np.array(data.x_test[:50]), np.array(data.y_test[:50])))
    monkeypatch.setattr(getattr(keras.datasets, config.dataset), "load_data", lambda: tiny)
    code = optimizers.keras_code(config)
    assert f"keras.datasets.{config.dataset}.load_data()" in code and "epochs=1," in code
    namespace = {}
    exec(code, namespace)  # our own generated code, never user input
    assert len(namespace["history"].history["loss"]) == 1
    assert namespace["model"].optimizer.iterations.numpy() == 1  # one batch of 100 images
    assert namespace["model"].optimizer.learning_rate.numpy() == pytest.approx(
        optimizers.learning_rate_at(config, 1), rel=1e-6)


def test_keras_code_builds_the_same_model(fashion):
    """Run the generated code's model part (the download line swapped for local data)."""
    config = TrainConfig(hidden_units=(64, 32), batch_norm="after", kernel_initializer="he_normal")
    code = optimizers.keras_code(config)
    model_code = code[code.index("model = keras.Sequential"): code.index("history =")]
    namespace = {"keras": keras}
    exec(model_code, namespace)  # our own generated code, never user input
    assert namespace["model"].count_params() == models.build_model(config).count_params()


def _optimizer_calls(code: str) -> list[str]:
    """Every `keras.optimizers.<Class>(...)` call in generated code, with balanced parentheses."""
    calls, start = [], code.find("keras.optimizers.")
    while start != -1:
        depth, end = 0, code.index("(", start)
        for end in range(end, len(code)):
            depth += {"(": 1, ")": -1}.get(code[end], 0)
            if depth == 0:
                break
        if not code[start:end].startswith("keras.optimizers.schedules"):
            calls.append(code[start:end + 1])
        start = code.find("keras.optimizers.", end)
    return calls


@pytest.mark.parametrize("learning_rate", [1.0, 2.0, 10.0])
def test_every_topic_code_view_builds_its_optimizer_for_large_rates(learning_rate):
    from lab.topics import architecture, backprop, clipping, learning_rate as rates
    from lab.topics import optimizers as faster

    codes = {
        "clipping": clipping.clipping_code(clipping.rescue_config(learning_rate=learning_rate)),
        "backprop": backprop.step_code(learning_rate, 0),
        "architecture": architecture.experiment_code((300, 100), 1_000, 1, learning_rate),
        "range test": rates.range_test_code(0.1, learning_rate, 100, 32),
        "2d paths": faster.trajectory_code("bowl", faster.OptimizerSettings(
            sgd_learning_rate=learning_rate, adaptive_learning_rate=learning_rate, momentum=0.0), 10),
    }
    for name, code in codes.items():
        compile(code, name, "exec")
        calls = _optimizer_calls(code)
        assert calls, name
        # The scripts define `schedule`, `growth` and `clip` before using them; stand-ins are enough to build.
        namespace = {"keras": keras, "schedule": learning_rate, "growth": 1.1, "clip": {"clipnorm": 1.0}}
        for call in calls:
            optimizer = eval(call, namespace)  # our own generated code, never user input
            assert isinstance(optimizer, keras.optimizers.Optimizer), (name, call)


def test_the_code_views_write_the_lecture_model_once_and_it_builds():
    # One source of the lecture's Sequential model for the pages' code views, run as a student would copy it.
    from lab.models import lecture_model_code
    from lab.topics import data_explorer, learning_rate

    namespace = {}
    exec("import keras\n" + lecture_model_code(), namespace)  # the project's own code, not user input
    assert namespace["model"].count_params() == 266_610
    assert lecture_model_code("    ") in data_explorer.drop_in_code(1_000, 1)
    assert lecture_model_code() in learning_rate.range_test_code(0.001, 1.0, 100, 32)
