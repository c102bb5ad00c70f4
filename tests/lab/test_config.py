"""TrainConfig: defaults, validation messages, and the dict round-trip."""

import math

import pytest

from lab.config import FIELD_TYPES, TrainConfig

# One bad value per field, and a word the message must contain.
BAD_VALUES = {
    "dataset": ("cifar10", "dataset must be one of"),
    "train_size": (10, "train_size must be in [100, 60000]"),
    "validation_size": (0, "validation_size must be in [100, 20000]"),
    "seed": (-1, "seed must be in"),
    "hidden_units": ((300,) * 11, "hidden_units must list 1 to 10 layers"),
    "activation": ("swish2", "activation must be one of"),
    "kernel_initializer": ("ones", "kernel_initializer must be one of"),
    "init_stddev": (0.0, "init_stddev must be in (0, 10]"),
    "batch_norm": ("middle", "batch_norm must be one of"),
    "optimizer": ("lbfgs", "optimizer must be one of"),
    "learning_rate": (float("nan"), "learning_rate must be a finite number"),
    "decay": (-1e-4, "decay must be in [0, 1]"),
    "momentum": (1.0, "momentum must be in [0, 1)"),
    "rho": (1.5, "rho must be in [0, 1)"),
    "beta_1": (-0.1, "beta_1 must be in [0, 1)"),
    "beta_2": (1.0, "beta_2 must be in [0, 1)"),
    "epsilon": (0.0, "epsilon must be in [1e-10, 1]"),
    "clip": ("sometimes", "clip must be one of"),
    "clip_threshold": (-1.0, "clip_threshold must be in (0, 1000]"),
    "loss": ("hinge", "loss must be one of"),
    "batch_size": (0, "batch_size must be in [1, 4096]"),
    "epochs": (51, "epochs must be in [1, 50]"),
    "early_stopping_patience": (0, "early_stopping_patience must be in [1, 50]"),
    "log_every": (0, "log_every must be in [1, 1000]"),
}


def test_every_field_has_a_bad_value_case():
    assert set(BAD_VALUES) == set(FIELD_TYPES)


@pytest.mark.parametrize("field", sorted(BAD_VALUES))
def test_bad_value_is_rejected_with_field_and_range(field):
    value, message = BAD_VALUES[field]
    with pytest.raises(ValueError) as error:
        TrainConfig(**{field: value})
    assert message in str(error.value)


def test_defaults_are_the_lecture_setup():
    config = TrainConfig()
    assert config.hidden_units == (300, 100)
    assert (config.optimizer, config.learning_rate, config.batch_size) == ("sgd", 0.01, 32)
    assert config.validation_size == 5_000 and config.train_size is None
    assert config.loss == "sparse_categorical_crossentropy"


def test_every_problem_is_listed_at_once():
    with pytest.raises(ValueError) as error:
        TrainConfig(learning_rate=-1, epochs=0, optimizer="nope")
    text = str(error.value)
    assert "learning_rate" in text and "epochs" in text and "optimizer" in text


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_non_finite_numbers_are_rejected(value):
    with pytest.raises(ValueError, match="clip_threshold must be a finite number"):
        TrainConfig(clip_threshold=value)


def test_step_budget_caps_expensive_runs():
    with pytest.raises(ValueError, match="epochs x steps per epoch"):
        TrainConfig(epochs=50, batch_size=8)
    with pytest.raises(ValueError, match="train_size \\+ validation_size"):
        TrainConfig(train_size=58_000, validation_size=5_000)


def test_round_trip_through_dict():
    config = TrainConfig(hidden_units=(64, 32, 16), optimizer="adam", decay=1e-4, clip="norm",
                         early_stopping_patience=3, train_size=2_000)
    data = config.to_dict()
    assert data["hidden_units"] == [64, 32, 16]
    assert TrainConfig.from_dict(data) == config
    assert hash(TrainConfig.from_dict(data)) == hash(config)


def test_from_dict_rejects_unknown_keys_and_wrong_types():
    with pytest.raises(ValueError, match="unknown setting.*'lr'"):
        TrainConfig.from_dict({"lr": 0.01})
    with pytest.raises(ValueError, match="epochs must be a whole number"):
        TrainConfig.from_dict({"epochs": "5"})
    with pytest.raises(ValueError, match="learning_rate must be a number"):
        TrainConfig.from_dict({"learning_rate": True})
    with pytest.raises(ValueError, match="hidden_units must be a list of whole numbers"):
        TrainConfig.from_dict({"hidden_units": [300, "x"]})
    with pytest.raises(ValueError, match="must be a mapping"):
        TrainConfig.from_dict(["epochs", 5])


def test_int_and_float_spellings_compare_equal():
    assert TrainConfig(learning_rate=1) == TrainConfig(learning_rate=1.0)
    assert TrainConfig(hidden_units=[300, 100]) == TrainConfig()


def test_uses_names_the_optimizer_parameters():
    assert TrainConfig(optimizer="adam").uses("beta_2")
    assert not TrainConfig(optimizer="sgd").uses("momentum")
    assert TrainConfig(optimizer="nesterov").uses("momentum")


@pytest.mark.parametrize("field, value, message", [
    ("seed", 10**400, "seed must be in [0, 2.14748e+09], got an integer of about 401 digits"),
    ("learning_rate", -(10**400), "learning_rate must be in (0, 10]"),
    ("hidden_units", "300", "hidden_units must be a list of whole numbers, got '300'"),
    ("hidden_units", 300, "hidden_units must be a list of whole numbers, got 300"),
])
def test_hostile_values_give_a_value_error_not_a_crash(field, value, message):
    # Numbers too large for a float, and text or a number where a list belongs, come from hand-edited files.
    with pytest.raises(ValueError) as error:
        TrainConfig(**{field: value})
    assert message in str(error.value)


def test_an_integer_too_long_for_repr_is_still_named():
    # Python refuses to print integers of more than 4,300 digits; the message must not need to.
    with pytest.raises(ValueError, match="seed must be in .* got an integer of about 5,001 digits"):
        TrainConfig(seed=10**5000)


# ----------------------------------------------------------------------
# The settings table: one row per field, and the vocabulary every page derives from it
# ----------------------------------------------------------------------
def test_every_field_has_exactly_one_settings_row():
    from lab.config import SETTINGS

    assert list(SETTINGS) == list(FIELD_TYPES)


def test_settings_rows_agree_with_validation():
    from lab.config import SETTINGS

    for name, setting in SETTINGS.items():
        for value in setting.options:
            # A widget option is a valid value (0 stands for "all images" and "off", which map to None).
            config_value = None if value == 0 and name in ("train_size", "early_stopping_patience") else value
            TrainConfig(**{name: config_value})
        for value in setting.choices:
            TrainConfig(**{name: value})
        if setting.choice_labels is not None:
            assert set(setting.choice_labels) == set(setting.choices), name


def test_the_form_the_compare_table_and_the_ab_share_the_table():
    from lab import runs
    from lab.config import AB_SETTINGS, SETTINGS
    from ui.lab_form import FREE_FIELDS, LAB_FIELDS, LAB_OPTIONS

    assert LAB_OPTIONS["learning_rate"] == SETTINGS["learning_rate"].options
    assert set(LAB_FIELDS) == {name for name, setting in SETTINGS.items() if setting.in_form}
    assert "log_every" not in LAB_FIELDS and "optimizer" in FREE_FIELDS
    assert runs.setting_label("train_size") == SETTINGS["train_size"].label == "training images"
    assert list(runs.AB_CHOICES) == list(AB_SETTINGS) and AB_SETTINGS[0] == "learning_rate"
    assert runs.AB_CHOICES["optimizer"] == SETTINGS["optimizer"].choices
    assert SETTINGS["learning_rate"].title == "Learning rate η" and SETTINGS["batch_size"].title == "Batch size"


def test_canonical_resets_only_what_the_run_does_not_use():
    adam = TrainConfig(optimizer="adam", momentum=0.5, rho=0.5, beta_1=0.8, clip_threshold=3.0, init_stddev=0.5)
    canonical = adam.canonical()
    assert canonical.momentum == TrainConfig.momentum and canonical.rho == TrainConfig.rho
    assert canonical.clip_threshold == TrainConfig.clip_threshold and canonical.init_stddev == TrainConfig.init_stddev
    assert canonical.beta_1 == 0.8  # Adam reads beta_1
    assert canonical == TrainConfig(optimizer="adam", beta_1=0.8).canonical()
    clipped = TrainConfig(clip="norm", clip_threshold=3.0, kernel_initializer="random_normal", init_stddev=0.5)
    assert clipped.canonical() == clipped


def test_with_log_points_keeps_at_least_sixty_step_log_entries():
    short = TrainConfig(train_size=1_000, epochs=1)  # 32 steps
    assert short.with_log_points().log_every == 1
    assert TrainConfig(train_size=10_000, epochs=5).with_log_points().log_every == 25
