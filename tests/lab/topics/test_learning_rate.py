"""lab.topics.learning_rate (page 6, SGD and the learning rate) with real Keras on the real Fashion-MNIST, fixed seeds.

Mechanics on small inputs. The page's outcome claims at its defaults are trained once, in
tests/lab/test_claims.py.
"""

import math

import numpy as np
import pytest

from lab.topics import learning_rate
from lab.training import train as shared  # the worker's trainer, here in the test process


@pytest.fixture(scope="module")
def rate_runs(fashion):
    return learning_rate.compare_learning_rates(fashion, learning_rate.DEFAULT_RATES, trainer=shared)


def test_epoch_and_step_arithmetic():
    steps = learning_rate.epoch_and_steps(2_000, 32, epochs=2)
    assert (steps["steps_per_epoch"], steps["full_batches"], steps["last_batch"], steps["total_steps"]) == (63, 62, 16, 126)
    assert learning_rate.epoch_and_steps(55_000, 32)["steps_per_epoch"] == 1_719  # the slides' epoch
    assert learning_rate.epoch_and_steps(1_024, 256)["last_batch"] == 0


def test_too_large_diverges_and_too_small_crawls_on_the_real_model(rate_runs):
    small, good, large = (rate_runs[rate] for rate in (1e-4, 0.1, 1.0))
    assert large.stop_reason == "diverged" and learning_rate.verdict(large) == "diverged"
    assert large.stop_step < 10  # it blows up within a handful of steps
    # Too small: after the same 126 steps the loss has fallen by under 10% of its start.
    small_drop = 1 - learning_rate.end_loss(small) / learning_rate.start_loss(small)
    assert small.stop_reason == "completed" and small_drop < 0.10 and learning_rate.verdict(small) == "crawls"
    assert small.history["val_accuracy"][-1] < 0.3
    # Good: the loss falls by more than half and the model is well above chance.
    good_drop = 1 - learning_rate.end_loss(good) / learning_rate.start_loss(good)
    assert good_drop > 0.5 and learning_rate.verdict(good) == "learns"
    assert good.history["val_accuracy"][-1] > 0.7


def test_learning_rate_figure_and_table(rate_runs):
    figure = learning_rate.loss_per_step_figure(rate_runs)
    assert figure.layout.yaxis.type == "log" and figure.layout.xaxis.title.text == "step"
    lines = [trace for trace in figure.data if trace.mode == "lines"]
    assert [trace.name for trace in lines] == ["lr=0.0001 (crawls)", "lr=0.1 (learns)", "lr=1 (diverged)"]
    assert len(lines[0].x) == 126  # the loss is logged at every step
    table = learning_rate.summary_table(rate_runs)
    assert list(table["verdict"]) == ["crawls", "learns", "diverged"]


def test_the_divergence_text_is_a_point_of_the_learning_rate_chart(rate_runs):
    # Issue 10: the table said "rose to 24.4 by step 3" beside a curve peaking near 7.
    import re

    figure = learning_rate.loss_per_step_figure(rate_runs)
    table = learning_rate.summary_table(rate_runs).set_index("learning rate")
    text = table.loc["1", "what happened"]
    found = re.search(r"The batch loss rose to (\S+) at step (\d+)", text)
    assert found, text
    line = next(trace for trace in figure.data if trace.name == "lr=1 (diverged)")
    step = list(line.x).index(int(found.group(2)))
    assert f"{line.y[step]:.3g}" == found.group(1) and step == len(line.x) - 1 and line.x[0] == 0
    assert line.y[step] == max(line.y)  # the peak of the line is the number in the text
    assert table.loc["1", "last batch loss"] == pytest.approx(line.y[-1])
    assert figure.layout.yaxis.title.text == "batch loss (log scale)"


def test_range_test_marks_a_good_region_between_crawling_and_diverging(fashion):
    test = learning_rate.range_test(fashion)
    rates, losses = test.learning_rates, test.losses
    # The rate grows by a constant factor per step, from 1e-5 towards 10.
    assert rates[0] == pytest.approx(1e-5) and np.allclose(rates[1:] / rates[:-1], rates[1] / rates[0])
    # It stops once the loss explodes (non-finite or four times its lowest value) instead of running on.
    assert test.stopped_early and (not math.isfinite(losses[-1]) or losses[-1] > 4 * np.nanmin(losses))
    # Flat where the rate is too small: below 1e-4 the smoothed loss stays within 5% of its start.
    flat = test.smoothed[rates <= 1e-4]
    assert np.all(np.abs(flat - flat[0]) < 0.05 * flat[0])
    # The good region lies between the crawling rate 1e-4 and the diverging rate 1.0, and there the loss falls.
    assert 1e-4 < test.good_low < test.suggested_rate < test.good_high < 1.0
    in_region = test.smoothed[(rates >= test.good_low) & (rates <= test.good_high)]
    assert in_region[-1] < 0.7 * in_region[0]
    figure = learning_rate.range_test_figure(test, marks=[1e-4, 0.1, 1.0])
    assert figure.layout.xaxis.type == "log"
    assert figure.layout.shapes[0].x0 == test.good_low and figure.layout.shapes[0].x1 == test.good_high
    assert [trace.name for trace in figure.data][:2] == ["batch loss", "smoothed loss"]


def test_range_test_code_names_the_schedule():
    code = learning_rate.range_test_code(1e-5, 10.0, 300, 32)
    assert "ExponentialDecay(1e-05, decay_steps=1, decay_rate=growth)" in code and "train_on_batch" in code
    compile(code, "range_test.py", "exec")
