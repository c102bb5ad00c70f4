"""lab.topics.decay (page 7, learning-rate decay) with real Keras on the real Fashion-MNIST, fixed seeds.

Mechanics on small inputs. The page's outcome claims at its defaults are trained once, in
tests/lab/test_claims.py.
"""

import math

import numpy as np
import pytest

from lab.config import TrainConfig
from lab.topics import decay
from lab.training import train as shared  # the worker's trainer, here in the test process


def test_schedule_is_lr_over_one_plus_decay_t_per_step():
    steps = [0, 1, 1_000, decay.FULL_DATA_STEPS]
    values = decay.schedule_values(0.01, 1e-4, steps)
    assert np.allclose(values, [0.01 / (1 + 1e-4 * t) for t in steps], rtol=1e-5)
    assert values[-1] == pytest.approx(0.00162, abs=1e-5)  # 30 epochs of the full data end at 1/6 of the start
    figure = decay.schedule_figure(0.3, 0.01, 189)
    assert [trace.name for trace in figure.data] == ["0.3 / (1 + 0.01 t)", "constant 0.3", "slides: 0.01 / (1 + 0.0001 t)"]
    assert list(figure.data[0].x) == list(range(190))  # every step
    assert len(decay.schedule_figure(0.01, 1e-4, decay.FULL_DATA_STEPS).data[0].x) <= decay.MAX_PLOTTED_POINTS


def test_the_long_horizon_is_not_attributed_to_the_slides():
    # The slides give no epoch count: the 30 epochs are the app's own choice, and named as such.
    assert decay.HORIZONS[1] == "30 epochs of the full data (51,570 steps)"
    assert decay.FULL_DATA_STEPS == 30 * math.ceil(55_000 / 32) == 51_570
    assert not any("slides" in horizon for horizon in decay.HORIZONS)


def test_keras3_ignores_the_slides_decay_argument():
    check = decay.ignored_decay_check(0.01, 1e-4, steps=1_000)
    assert check.old_rate_after == pytest.approx(0.01, rel=1e-6)  # no decay at all
    assert check.new_rate_after == pytest.approx(0.01 / 1.1, rel=1e-5) == check.expected
    assert "decay" in check.warning and "ignored" in check.warning


def test_old_spelling_sits_next_to_the_keras3_schedule():
    table = decay.spelling_table(TrainConfig(learning_rate=0.01, decay=1e-4))
    row = table.iloc[1]
    assert row["slide (Keras 2)"] == "keras.optimizers.SGD(lr=0.01, decay=0.0001)"
    assert "InverseTimeDecay(0.01, decay_steps=1, decay_rate=0.0001)" in row["Keras 3"]
    assert "ignored" not in row["Keras 3"] and "decay= is ignored" in row["what the slide spelling does"]


def test_decay_is_ignored_is_said_of_the_slide_line_not_the_inverse_time_decay_line():
    lines = decay.spelling_code(TrainConfig(learning_rate=0.01, decay=1e-4)).splitlines()
    ignored = next(index for index, line in enumerate(lines) if "decay= is ignored" in line)
    assert lines[ignored].startswith("#") and "SGD(lr=0.01, decay=0.0001)" in lines[ignored - 1]
    schedule = next(line for line in lines if "InverseTimeDecay" in line)
    assert not schedule.startswith("#") and "#" not in schedule


def test_decay_lets_a_large_learning_rate_settle(fashion):
    runs = decay.compare_decay(fashion, trainer=shared)
    constant, decayed = runs["constant"], runs["decay"]
    assert constant.config.decay == 0 and decayed.config.decay == 0.01 and decayed.config.learning_rate == 0.3
    # The optimizer really used lr / (1 + decay * (step - 1)) at each logged step; the constant run kept 0.3.
    for entry in decayed.step_log:
        assert entry["learning_rate"] == pytest.approx(0.3 / (1 + 0.01 * (entry["step"] - 1)), rel=1e-5)
    assert all(entry["learning_rate"] == pytest.approx(0.3) for entry in constant.step_log)
    # Same start, but decay ends lower: validation loss and test accuracy both better.
    assert decayed.history["val_loss"][-1] < constant.history["val_loss"][-1] - 0.05
    assert decayed.test_accuracy > constant.test_accuracy + 0.01
    table = decay.comparison_table(runs)
    assert list(table["schedule"]) == ["constant 0.3", "0.3 / (1 + 0.01 t)"]
    figure = decay.logged_rates_figure(runs)
    assert figure.data[1].y[-1] < 0.5 * figure.data[0].y[-1]
