"""lab.topics for pages 11-14: every claim the pages make, checked on real Keras and real data.

Clipping, the 2-D optimizers (against an independent NumPy implementation of
each update rule), the Fashion-MNIST race, AdaGrad's shrinking rate, the
losses, and the practice checkers on real training results.
"""

import dataclasses
import re
import math

import keras
import numpy as np
import pytest

from lab.config import OPTIMIZERS, TrainConfig
from lab.models import build_model
from lab.topics import clipping, losses, practice
from lab.topics import optimizers as opt
from lab.training import train

# ======================================================================
# 11. Gradient clipping
# ======================================================================
EXACT_CLIPNORM = [0.1 / math.hypot(0.1, 10.0), 10.0 / math.hypot(0.1, 10.0)]  # [0.0099995, 0.99995]


@pytest.mark.parametrize("text, expected", [
    ("0.1, 10", [0.1, 10.0]),
    ("[0.1, 10]", [0.1, 10.0]),
    (" 3,-4 , 0.5 ", [3.0, -4.0, 0.5]),
    ("1e-3", [0.001]),
])
def test_parse_vector_reads_comma_separated_numbers(text, expected):
    assert clipping.parse_vector(text).tolist() == expected


@pytest.mark.parametrize("text, message", [
    ("", "at least one number"),
    ("1, abc", "Entry 2 ('abc') is not a number"),
    ("__import__('os').getcwd()", "is not a number"),
    ("2**3", "is not a number"),
    ("1,,2", "Entry 2"),
    ("nan, 1", "finite"),
    ("1, inf", "finite"),
    (",".join(["1"] * 1_001), "At most 1,000"),
    ("1e20, 1", "Entry 1 ('1e20') is too large"),  # its square overflows float32, where Keras clips
])
def test_parse_vector_rejects_anything_else_with_a_clear_message(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        clipping.parse_vector(text)


def test_slide_example_clipvalue_changes_direction_clipnorm_keeps_it():
    comparison = clipping.compare_clipping(clipping.parse_vector("0.1, 10"), 1.0)
    assert comparison.clipped["value"] == pytest.approx([0.1, 1.0], rel=1e-6)
    assert comparison.angles["value"] > 5.0  # atan(10) - atan(100) = 5.14 degrees
    assert comparison.clipped["norm"] == pytest.approx(EXACT_CLIPNORM, rel=1e-6)
    assert comparison.angles["norm"] < 1e-3
    # The slides print [0.00999995, 0.999995]: one 9 too many, off by 4.5e-5 relative.
    slide = np.array(clipping.SLIDE_CLIPNORM_PRINTED)
    assert np.all(np.abs(comparison.clipped["norm"] - slide) / slide > 1e-5)
    table = comparison.table()
    assert list(table["vector"]) == ["original gradient", "clipvalue=1", "clipnorm=1"]
    assert table["norm"][2] == pytest.approx(1.0, rel=1e-6)


def test_clipnorm_keeps_the_direction_of_any_vector_and_clipvalue_caps_components():
    rng = np.random.default_rng(0)
    for _ in range(5):
        gradient = rng.normal(scale=5.0, size=int(rng.integers(2, 50)))
        comparison = clipping.compare_clipping(gradient, 0.5)
        assert comparison.angles["norm"] < 1e-3
        assert np.linalg.norm(comparison.clipped["norm"]) == pytest.approx(0.5, rel=1e-5)
        assert np.max(np.abs(comparison.clipped["value"])) <= 0.5 + 1e-7
    short = clipping.compare_clipping(np.array([0.3, -0.4]), 1.0)  # norm 0.5: nothing to clip
    assert short.clipped["norm"] == pytest.approx([0.3, -0.4], rel=1e-6)


def test_clipping_arrows_and_bars_figures():
    figure = clipping.clipping_arrows_figure(clipping.compare_clipping(np.array([0.1, 10.0]), 1.0))
    names = [trace.name for trace in figure.data]
    assert names[1:] == ["clipvalue=1", "clipnorm=1"] and "direction of the original" in names[0]
    assert all(trace.marker.symbol == "arrow" for trace in figure.data)
    assert list(figure.data[2].x) == pytest.approx([0.0, EXACT_CLIPNORM[0]], rel=1e-6)
    assert figure.layout.yaxis.scaleanchor == "x"  # equal scale, so angles look like angles
    bars = clipping.clipping_bars_figure(clipping.compare_clipping(np.array([3.0, -4.0, 0.5]), 2.0))
    assert [trace.type for trace in bars.data] == ["bar"] * 3 and len(bars.data[0].x) == 3


@pytest.fixture(scope="module")
def rescue(fashion):
    return clipping.train_with_and_without_clipping(clipping.rescue_config(), fashion)


def test_learning_rate_one_diverges_without_clipping_and_trains_with_clipnorm(rescue):
    without, with_clip = rescue["without"], rescue["with"]
    assert without.config.learning_rate == with_clip.config.learning_rate == 1.0
    assert without.config.seed == with_clip.config.seed
    assert without.stop_reason == "diverged" and without.stop_epoch == 0
    assert with_clip.stop_reason == "completed"
    assert with_clip.history["val_accuracy"][-1] > 0.3  # far above the 10% of chance
    assert 0.2 < with_clip.clipped_fraction <= 1.0
    assert without.clipped_fraction == 0.0
    # clipnorm caps each tensor, so a layer (kernel and bias) is at most sqrt(2) times the threshold after it,
    # while before it the gradients were far larger.
    assert max(max(entry["clipped_layer_norms"]) for entry in with_clip.step_log) <= math.sqrt(2) + 1e-4
    assert max(max(entry["layer_norms"]) for entry in with_clip.step_log) > 2.0


def test_clipping_loss_figure_marks_the_divergence(rescue):
    figure = clipping.clipping_loss_figure(rescue)
    assert [trace.name for trace in figure.data] == ["no clipping: batch loss", "clipnorm=1: batch loss"]
    assert figure.layout.yaxis.type == "log"
    # Issue 10: "81.4 by step 3" sat beside "diverged at step 4". The text, the marker and the line agree.
    without = rescue["without"]
    found = re.search(r"The batch loss (?:rose to (\S+)|became \S+) at step (\d+)", without.stop_detail)
    assert found, without.stop_detail
    step = int(found.group(2))
    assert [a.text for a in figure.layout.annotations] == [f"diverged at step {step}"]
    assert figure.layout.shapes[0].x0 == step
    line = figure.data[0]
    assert line.x[0] == 0 and line.x[-1] == step
    if found.group(1):
        assert f"{line.y[-1]:.3g}" == found.group(1)
    assert "clipnorm=1" in clipping.clipping_code(rescue["with"].config)


# ======================================================================
# 12. Faster optimizers: the NumPy reference, written from the update rules
# ======================================================================
GRADIENTS = {
    "bowl": lambda x, y: np.array([0.2 * x, 4.0 * y], dtype=np.float32),
    "rosenbrock": lambda x, y: np.array([0.1 * (-2.0 * (1.0 - x) - 40.0 * x * (y - x * x)), 2.0 * (y - x * x)],
                                        dtype=np.float32),
    "saddle": lambda x, y: np.array([x, -y + y**3], dtype=np.float32),
}


def numpy_trajectory(name: str, surface: str, config: TrainConfig, steps: int):
    """Each optimizer's update rule in NumPy (Keras's form), float32 like Keras."""
    f32 = np.float32
    theta = np.array(opt.SURFACES[surface].start, dtype=f32)
    lr, eps = f32(config.learning_rate), f32(config.epsilon)
    m = np.zeros(2, f32)
    s = np.full(2, 0.1, f32) if name == "adagrad" else np.zeros(2, f32)  # Keras's initial_accumulator_value
    points, states = [theta.copy()], []
    for t in range(1, steps + 1):
        g = GRADIENTS[surface](*theta)
        if name == "sgd":
            theta = theta - lr * g
        elif name in ("momentum", "nesterov"):
            m = f32(config.momentum) * m - lr * g
            theta = theta + (f32(config.momentum) * m - lr * g if name == "nesterov" else m)
        elif name == "adagrad":
            s = s + g * g
            theta = theta - lr * g / np.sqrt(s + eps)
        elif name == "rmsprop":
            s = f32(config.rho) * s + f32(1 - config.rho) * g * g
            theta = theta - lr * g / np.sqrt(s + eps)
        else:  # adam, with both bias corrections folded into the step size as Keras does
            b1, b2 = f32(config.beta_1), f32(config.beta_2)
            m = m + (g - m) * (1 - b1)
            s = s + (g * g - s) * (1 - b2)
            alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
            theta = theta - alpha * m / (np.sqrt(s) + eps)
        points.append(theta.copy())
        states.append({"m": m.copy(), "s": s.copy()})
    return np.array(points), states


@pytest.fixture(scope="module")
def default_paths():
    return {key: opt.run_trajectories(key, OPTIMIZERS, opt.OptimizerSettings(), 100) for key in opt.SURFACES}


@pytest.mark.parametrize("surface", list(opt.SURFACES))
def test_keras_trajectories_equal_the_numpy_update_rules_step_by_step(surface, default_paths):
    settings = opt.OptimizerSettings(sgd_learning_rate=0.05, adaptive_learning_rate=0.05, momentum=0.8,
                                     rho=0.8, beta_1=0.85, beta_2=0.99)
    steps = 40
    paths = opt.run_trajectories(surface, OPTIMIZERS, settings, steps)
    for name, trajectory in paths.items():
        expected, states = numpy_trajectory(name, surface, trajectory.config, steps)
        assert trajectory.escaped_at is None
        np.testing.assert_allclose(trajectory.points, expected, rtol=2e-4, atol=2e-5, err_msg=f"{name} on {surface}")
        for slot, history in trajectory.state.items():
            np.testing.assert_allclose(history, [state[slot] for state in states], rtol=2e-4, atol=2e-6,
                                       err_msg=f"{name}'s {slot} on {surface}")
    # The default settings too, for the whole 100 steps the page draws.
    for name, trajectory in default_paths[surface].items():
        expected, _ = numpy_trajectory(name, surface, trajectory.config, 100)
        np.testing.assert_allclose(trajectory.points, expected, rtol=1e-3, atol=1e-4, err_msg=f"{name} on {surface}")


def test_trajectories_start_together_and_record_the_slots(default_paths):
    paths = default_paths["bowl"]
    assert {tuple(t.points[0]) for t in paths.values()} == {(-4.5, 1.5)}
    assert set(paths["sgd"].state) == set()
    assert set(paths["momentum"].state) == {"m"} and set(paths["adagrad"].state) == {"s"}
    assert set(paths["adam"].state) == {"m", "s"}
    assert all(t.steps == 100 and len(t.losses) == 101 for t in paths.values())


def test_bowl_sgd_crawls_while_momentum_and_adaptive_methods_arrive(default_paths):
    surface = opt.SURFACES["bowl"]
    distance = {name: opt.final_distance(t, surface) for name, t in default_paths["bowl"].items()}
    assert distance["sgd"] > 0.3
    assert all(distance[name] < 0.1 for name in ("momentum", "nesterov", "rmsprop", "adam"))
    assert distance["adagrad"] > 1.0  # stalls: its effective rate only shrinks


def test_rosenbrock_momentum_follows_the_valley_sgd_and_adagrad_stall(default_paths):
    surface = opt.SURFACES["rosenbrock"]
    distance = {name: opt.final_distance(t, surface) for name, t in default_paths["rosenbrock"].items()}
    assert distance["sgd"] > 1.0 and distance["adagrad"] > 1.0
    assert distance["momentum"] < 0.05 and distance["adam"] < 0.25


def test_saddle_adaptive_methods_leave_the_ridge_first(default_paths):
    paths = default_paths["saddle"]

    def first_escape(name):  # first step with |y| > 0.5
        return int(np.argmax(np.abs(paths[name].points[:, 1]) > 0.5))

    assert first_escape("rmsprop") <= 10 and first_escape("adam") <= 10
    assert 10 < first_escape("momentum") <= 20
    assert first_escape("sgd") > 30


def test_live_values_are_keras_state_and_follow_the_slide_equations(default_paths):
    paths = default_paths["bowl"]
    momentum = paths["momentum"]
    for step in (1, 2, 10):
        v = opt.live_values(momentum, step)
        assert v["m"] == pytest.approx(0.9 * v["m_before"] - 0.1 * v["g"], rel=1e-5, abs=1e-7)
        assert v["theta_after"] == pytest.approx(v["theta_before"] + v["m"], rel=1e-5, abs=1e-6)
    adagrad = paths["adagrad"]
    rates = [opt.live_values(adagrad, step)["effective_lr"] for step in range(1, 101)]
    assert np.all(np.diff(np.array(rates), axis=0) <= 0)  # AdaGrad's steps only ever shrink
    start = 0.1 / math.sqrt(0.1 + 1e-7)  # eta / sqrt(s) before the first step: Keras starts s at 0.1
    assert np.all(rates[-1] < start / 20)  # both coordinates' rates fell more than twenty-fold
    adam = paths["adam"]
    v = opt.live_values(adam, 3)
    assert v["correction_1"] == pytest.approx(1 - 0.9**3) and v["correction_2"] == pytest.approx(1 - 0.999**3)
    step = v["theta_before"] - 0.1 * v["m_hat"] / (np.sqrt(v["s_hat"]) + 1e-7)
    assert v["theta_after"] == pytest.approx(step, rel=1e-4)
    lines = opt.live_equations(adam, 3)
    assert len(lines) == 6 and r"1 - \beta_1^{3} = 0.271" in lines[3]
    with pytest.raises(ValueError):
        opt.live_values(adam, 0)


@pytest.mark.parametrize("name", ["momentum", "nesterov"])
def test_momentum_zero_shows_the_plain_sgd_update(name):
    # With momentum 0 Keras keeps no velocity slot; the page's slider reaches 0, so this must not raise.
    trajectory = opt.run_trajectory(opt.SURFACES["bowl"], name, opt.OptimizerSettings(momentum=0.0), 5)
    assert trajectory.state == {}
    v = opt.live_values(trajectory, 2)
    assert v["theta_after"] == pytest.approx(v["theta_before"] - 0.1 * v["g"], rel=1e-5)
    lines = opt.live_equations(trajectory, 2)
    assert len(lines) == 2 and lines[1].startswith(r"\theta = ")


def test_adam_equation_defines_its_epsilon_hat(default_paths):
    line = opt.live_equations(default_paths["bowl"]["adam"], 4)[3]
    assert r"\hat\varepsilon = \varepsilon / \sqrt{1 - \beta_2^{4}}" in line


def test_surface_figure_draws_every_path_up_to_the_step(default_paths):
    figure = opt.surface_figure("bowl", default_paths["bowl"], upto=10)
    assert figure.data[0].type == "contour"
    assert [trace.name for trace in figure.data[1:7]] == [opt.LABELS[name] for name in OPTIMIZERS]
    assert all(len(trace.x) == 11 for trace in figure.data[1:7])
    assert [trace.name for trace in figure.data[7:]] == ["start", "minimum"]
    loss_figure = opt.loss_by_step_figure(default_paths["saddle"], "saddle")
    assert loss_figure.layout.yaxis.type == "log" and min(min(trace.y) for trace in loss_figure.data) > 0
    summary = opt.summary_frame(default_paths["bowl"], opt.SURFACES["bowl"])
    assert list(summary["optimizer"]) == [opt.LABELS[name] for name in OPTIMIZERS]
    assert "left the picture at step" not in summary  # nobody escaped
    effective = opt.effective_rate_2d_figure(default_paths["bowl"])
    assert effective.layout.yaxis.type == "log" and len(effective.data) == 4
    assert "keras.optimizers.Adam(0.1" in opt.trajectory_code("bowl", opt.OptimizerSettings(), 100)


def test_escaping_trajectory_stops_and_is_reported():
    # At learning rate 0.4, SGD's first step on the steep Rosenbrock wall overshoots and the quartic blows up.
    settings = opt.OptimizerSettings(sgd_learning_rate=0.4)
    path = opt.run_trajectory(opt.SURFACES["rosenbrock"], "sgd", settings, 200)
    assert path.escaped_at is not None and path.steps == path.escaped_at
    assert opt.final_distance(path, opt.SURFACES["rosenbrock"]) == math.inf
    assert math.isnan(path.losses[-1])
    summary = opt.summary_frame({"sgd": path}, opt.SURFACES["rosenbrock"])
    assert summary["left the picture at step"][0] == path.escaped_at
    assert not opt.OptimizerSettings(sgd_learning_rate=0.4).is_default() and opt.OptimizerSettings().is_default()


@pytest.fixture(scope="module")
def race_results(fashion):
    configs = opt.race_configs(["sgd", "momentum", "adam"], train_size=2_000, epochs=2)
    return configs, opt.race(configs, fashion)


def test_race_starts_from_the_same_weights_and_sgd_comes_last(race_results):
    configs, results = race_results
    first, *others = [build_model(config).get_weights() for config in configs.values()]
    assert all(np.array_equal(a, b) for weights in others for a, b in zip(first, weights))
    assert len({(c.seed, c.train_size, c.batch_size) for c in configs.values()}) == 1
    final = {name: result.history["val_accuracy"][-1] for name, result in results.items()}
    assert final["sgd"] < final["momentum"] - 0.03 and final["sgd"] < final["adam"] - 0.03
    table = opt.race_table(results)
    assert table["optimizer"].iloc[-1] == "SGD"
    figure = opt.race_figure(results)
    assert [trace.name for trace in figure.data] == ["SGD (lr 0.01)", "Momentum (lr 0.01)", "Adam (lr 0.001)"]
    assert figure.layout.yaxis.title.text == "validation accuracy"


def test_adagrad_effective_rate_only_falls_while_rmsprop_recovers(fashion):
    adagrad, rmsprop = opt.adagrad_comparison(fashion, learning_rate=0.01, epochs=2)
    assert adagrad.layer_names == ["hidden_1", "hidden_2", "output"]
    rates = np.array(adagrad.rates)
    assert np.all(np.diff(rates, axis=0) <= 1e-9)  # never grows, at any layer
    assert adagrad.ratio("output") < 0.95
    assert adagrad.ratio("hidden_1") > 0.95  # small input-layer gradients barely dent Keras's initial s of 0.1
    rms = np.array(rmsprop.relative("output"))[rmsprop.reference_index():]
    assert np.any(np.diff(rms) > 0)  # a moving average goes back up
    assert rmsprop.ratio("output") > adagrad.ratio("output")
    figure = opt.effective_rate_figure([adagrad, rmsprop])
    assert len(figure.data) == 6 and figure.data[2].name.startswith("AdaGrad output")


# ======================================================================
# 13. Loss functions
# ======================================================================
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


# ======================================================================
# 14. Practice: the checkers on real results
# ======================================================================
def test_diverge_check_on_real_runs(fashion):
    diverged = train(practice.diverge_config(3.0), fashion)
    check = practice.check_diverges(diverged)
    assert check.passed and "Diverged at learning rate 3" in check.feedback
    calm = train(practice.diverge_config(0.01), fashion)
    check = practice.check_diverges(calm)
    assert not check.passed and "Try a larger one" in check.feedback
    # Issue 10: "final training loss 1.878" sat beside a line ending near 1.58. The text names the
    # chart's line, and its number is that line's last point.
    from ui.live import result_curves

    found = re.search(r"epoch-mean loss of the last epoch: ([\d.]+)", check.feedback)
    assert found, check.feedback
    line = next(trace for trace in result_curves(calm, "loss").data if trace.name == "epoch-mean loss")
    assert f"{line.y[-1]:.3f}" == found.group(1)
    # The rules read the config that trained: another optimizer or clipping does not count.
    as_adam = dataclasses.replace(diverged, config=dataclasses.replace(diverged.config, optimizer="adam"))
    assert not practice.check_diverges(as_adam).passed
    clipped = dataclasses.replace(diverged, config=dataclasses.replace(diverged.config, clip="norm"))
    assert "Clipping was on" in practice.check_diverges(clipped).feedback


def test_target_accuracy_check_on_real_runs(fashion):
    fast = train(practice.target_config("adam", 0.003, 256, None), fashion)
    check = practice.check_target_accuracy(fast)
    assert check.passed, check.feedback
    slow = train(practice.target_config("sgd", 0.01, 32, 5_000, epochs=1), fashion)
    check = practice.check_target_accuracy(slow)
    assert not check.passed and "short of 85%" in check.feedback
    too_long = dataclasses.replace(fast, config=dataclasses.replace(fast.config, epochs=3))
    assert "at most 2" in practice.check_target_accuracy(too_long).feedback
    # A run that finished an epoch and then diverged is told so, not that it never finished an epoch.
    late = dataclasses.replace(slow, stop_reason="diverged", stop_detail="The loss became nan at step 300 (epoch 2).")
    feedback = practice.check_target_accuracy(late).feedback
    assert "diverged after 1 epoch(s)" in feedback and "did not finish" not in feedback


def test_deep_sigmoid_check_on_real_runs(fashion):
    stuck = train(practice.deep_sigmoid_config(epochs=1), fashion)
    check = practice.check_deep_sigmoid(stuck)
    assert not check.passed and stuck.history["val_accuracy"][-1] < 0.2 and "chance is 10%" in check.feedback
    fixed = train(practice.deep_sigmoid_config("adam", 0.001, batch_norm="before", epochs=2), fashion)
    check = practice.check_deep_sigmoid(fixed)
    assert check.passed, check.feedback
    # After its first epoch, the batch-norm run's training accuracy was up but validation (which uses the
    # moving statistics) still at chance: the checker explains that instead of calling it a failure to learn.
    first_epoch = {key: values[:1] for key, values in fixed.history.items()}
    assert first_epoch["accuracy"][0] > 0.5 and first_epoch["val_accuracy"][0] < 0.2
    early = dataclasses.replace(fixed, history=first_epoch, config=dataclasses.replace(fixed.config, epochs=1))
    check = practice.check_deep_sigmoid(early)
    assert not check.passed and "moving averages" in check.feedback
    shallow = dataclasses.replace(fixed, config=dataclasses.replace(fixed.config, hidden_units=(64,) * 9))
    assert "10 sigmoid" in practice.check_deep_sigmoid(shallow).feedback


def test_zero_init_answer_and_the_evidence_behind_it(fashion):
    assert practice.check_zero_init_answer(practice.ZERO_INIT_ANSWER).passed
    wrong = [practice.check_zero_init_answer(i) for i in range(len(practice.ZERO_INIT_CHOICES))
             if i != practice.ZERO_INIT_ANSWER]
    assert not any(check.passed for check in wrong) and all(check.feedback for check in wrong)
    with pytest.raises(ValueError):
        practice.check_zero_init_answer(7)
    # The evidence: zero kernels stay at chance while Glorot learns, and the starting loss is ln 10.
    zeros = train(TrainConfig(kernel_initializer="zeros", train_size=2_000, epochs=1, validation_size=1_000), fashion)
    assert zeros.history["val_accuracy"][-1] < 0.2
    assert zeros.step_log[0]["batch_loss"] == pytest.approx(math.log(10), abs=0.05)


def test_progress_counts_only_known_exercises():
    assert practice.progress(set()) == (0, 4)
    assert practice.progress({"diverge", "zero_init", "unknown"}) == (2, 4)
