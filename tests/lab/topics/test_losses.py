"""lab.topics.losses (page 13, loss functions) with real Keras on the real Fashion-MNIST, fixed seeds.

Mechanics on small inputs. The page's outcome claims at its defaults are trained once, in
tests/lab/test_claims.py.
"""

import math

import keras
import numpy as np
import pytest

from lab.topics import losses
from lab.training import train


@pytest.fixture(scope="module")
def regression(fashion):
    clean = losses.brightness_data(fashion)
    dirty = losses.add_outliers(clean, 10)
    return clean, dirty, losses.fit_all(clean), losses.fit_all(dirty)


def test_brightness_data_is_real_and_outliers_sit_at_the_faint_end(fashion, regression):
    clean, dirty, _, _ = regression
    assert len(clean.x) == 200 and np.corrcoef(clean.x, clean.y)[0, 1] > 0.6
    assert dirty.outlier.sum() == 10 and np.all(dirty.y[dirty.outlier] == 1.0)
    assert dirty.x[dirty.outlier].max() <= np.sort(clean.x)[10]
    assert np.array_equal(dirty.y[~dirty.outlier], clean.y[~dirty.outlier])


def test_mse_fit_is_least_squares_and_mae_fit_moves_less_with_outliers(regression):
    clean, dirty, clean_fits, dirty_fits = regression
    for data, fits in ((clean, clean_fits), (dirty, dirty_fits)):
        slope, intercept = np.polyfit(data.x, data.y, 1)
        assert fits["mse"].slope == pytest.approx(slope, abs=2e-3)
        assert fits["mse"].intercept == pytest.approx(intercept, abs=2e-3)
    mse_move = abs(dirty_fits["mse"].slope - clean_fits["mse"].slope)
    mae_move = abs(dirty_fits["mae"].slope - clean_fits["mae"].slope)
    assert mse_move > 0.3  # 5% outliers flatten the MSE line (0.63 to about 0.03)
    assert mae_move < mse_move / 3
    # With 20% outliers MAE gives way too, as the page says.
    heavy = losses.fit_line(losses.add_outliers(clean, 40), "mae")
    assert clean_fits["mae"].slope - heavy.slope > 0.3
    figure = losses.regression_figure(dirty, dirty_fits, clean_fits)
    assert [trace.name.split(" (")[0] for trace in figure.data] == [
        "images", "outliers", "MSE fit", "MAE fit", "MSE fit without outliers", "MAE fit without outliers"]


def test_custom_loss_is_huber_and_trains_robustly(regression):
    rng = np.random.default_rng(1)
    y_true, y_pred = rng.normal(size=(64, 1)), rng.normal(size=(64, 1))
    for delta in (0.05, 0.5, 2.0):
        ours = float(losses.huber_loss(y_true, y_pred, delta=delta))
        assert ours == pytest.approx(float(keras.losses.Huber(delta=delta)(y_true, y_pred)), rel=1e-5)
    assert losses.custom_loss_source().startswith("def huber_loss(y_true, y_pred")
    clean, dirty, clean_fits, dirty_fits = regression
    custom = losses.fit_line(dirty, "custom", delta=0.05)
    assert abs(custom.slope - clean_fits["mse"].slope) < abs(dirty_fits["mse"].slope - clean_fits["mse"].slope) / 3
    # A large delta makes most errors "small" (squared): the fit swings towards the MSE line.
    wide = losses.fit_line(dirty, "custom", delta=0.5)
    assert dirty_fits["mse"].slope < wide.slope < custom.slope - 0.2
    code = losses.regression_code(10, 0.05)
    compile(code, "<regression_code>", "exec")


def test_cross_entropy_is_minus_log_of_the_true_class_probability():
    probabilities = losses.normalise([70, 10, 10, 10])
    assert losses.cross_entropy(probabilities, 0) == pytest.approx(-math.log(0.7), rel=1e-6)
    assert losses.cross_entropy(probabilities, 2) == pytest.approx(-math.log(0.1), rel=1e-6)
    # Only the true class counts: moving the others leaves the loss alone.
    assert losses.cross_entropy(losses.normalise([70, 30, 0, 0]), 0) == pytest.approx(-math.log(0.7), rel=1e-6)
    assert losses.cross_entropy([0.0, 1.0, 0.0, 0.0], 0) == pytest.approx(-math.log(1e-7), rel=1e-4)  # Keras clips
    with pytest.raises(ValueError, match="at least one weight"):
        losses.normalise([0, 0, 0, 0])


def test_entropy_in_bits_low_for_skewed_high_for_balanced():
    skewed, balanced = losses.normalise([97, 1, 1, 1]), losses.normalise([25, 25, 25, 25])
    assert losses.entropy_bits(skewed) < 0.25
    assert losses.entropy_bits(balanced) == pytest.approx(2.0)
    assert losses.entropy_bits([1.0, 0.0, 0.0, 0.0]) == 0.0
    # Entropy is the cross-entropy of a distribution with itself, in bits.
    for p in (skewed, balanced, losses.normalise([5, 3, 2, 1])):
        nats = float(keras.losses.categorical_crossentropy(p[None].astype("float32"), p[None].astype("float32"))[0])
        assert losses.entropy_bits(p) == pytest.approx(nats / math.log(2), rel=1e-4)


def test_sparse_categorical_binary_agree_exactly_when_they_should(fashion):
    result = train(losses.agreement_config(), fashion)
    values = losses.crossentropy_agreement(result.test_probabilities, fashion.y_test, (7, 9))
    assert values["sparse"] == pytest.approx(values["categorical"], rel=1e-6)
    assert abs(values["binary_on_ten"] - values["categorical"]) > 0.1  # ten yes/no questions: another number
    assert values["binary_two"] == pytest.approx(values["categorical_two"], rel=1e-5)
    assert values["binary_two"] == pytest.approx(values["sparse_two"], rel=1e-5)
    assert values["pair_count"] == 2_000  # 1,000 sneakers and 1,000 ankle boots in the test set
    table = losses.agreement_table(values, fashion.class_names)
    assert len(table) == 6 and table["value"].iloc[0] == values["sparse"]
