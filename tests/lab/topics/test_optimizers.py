"""lab.topics.optimizers (page 12, faster optimizers) with real Keras on the real Fashion-MNIST, fixed seeds.

Mechanics on small inputs. The page's outcome claims at its defaults are trained once, in
tests/lab/test_claims.py.
"""

import math

import numpy as np
import pytest

from lab.config import OPTIMIZERS, TrainConfig
from lab.models import build_model
from lab.topics import optimizers as opt


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
    # 1,000 images for 1 epoch instead of the page's 3,000 for 2: SGD is already well behind there (48% against 65%
    # and 71%); the page's race numbers at its defaults are claims, trained by tests/lab/test_claims.py.
    configs = opt.race_configs(["sgd", "momentum", "adam"], train_size=1_000, epochs=1)
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
    # One epoch (63 steps) instead of the page's three: how far the rates fall at the defaults is a claim, trained by
    # tests/lab/test_claims.py; here the output layer, whose gradients are largest, has fallen the most.
    adagrad, rmsprop = opt.adagrad_comparison(fashion, learning_rate=0.01, epochs=1)
    assert adagrad.layer_names == ["hidden_1", "hidden_2", "output"]
    rates = np.array(adagrad.rates)
    assert np.all(np.diff(rates, axis=0) <= 1e-9)  # never grows, at any layer
    assert adagrad.ratio("output") < min(adagrad.ratio("hidden_1"), adagrad.ratio("hidden_2"), 0.99)
    assert adagrad.ratio("hidden_1") > 0.95  # small input-layer gradients barely dent Keras's initial s of 0.1
    rms = np.array(rmsprop.relative("output"))[rmsprop.reference_index():]
    assert np.any(np.diff(rms) > 0)  # a moving average goes back up
    assert rmsprop.ratio("output") > adagrad.ratio("output")
    figure = opt.effective_rate_figure([adagrad, rmsprop])
    assert len(figure.data) == 6 and figure.data[2].name.startswith("AdaGrad output")
