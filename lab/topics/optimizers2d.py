"""Faster optimizers: the real Keras optimizers on 2-D loss surfaces and on Fashion-MNIST.

On a surface, each optimizer moves one 2-component `keras.Variable` from the
same start. The gradient comes from TensorFlow's autodiff of the surface, and
the update is the optimizer's own `apply_gradients`, so the trajectories and
the optimizer state shown beside the equations (momentum m, the accumulated s,
Adam's moments) are what Keras computes, read from the optimizer's variables.

On the network, a race trains the lecture's model from the same initial
weights with each optimizer, and a second experiment reads AdaGrad's
accumulators during training to show its effective learning rate only falling.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import plotly.graph_objects as go

from lab.claims import Claim
from lab.config import OPTIMIZER_LABELS, OPTIMIZER_PARAMETERS, OPTIMIZERS, TrainConfig, float_literal
from lab.engines import ENGINES
from lab.plots import REFERENCE_COLOR, readable_log_ticks, setting_color

LABELS = OPTIMIZER_LABELS  # the short name pages and tests use for this module's legends
OPTIMIZER_COLORS = {name: setting_color("optimizer", name) for name in OPTIMIZERS}  # as on every page
ADAPTIVE = ("adagrad", "rmsprop", "adam")
ESCAPE_LIMIT = 1e3  # a point this far from the origin has left the picture for good
REFERENCE_STEP = 20  # effective rates on the network are compared from this step on


@dataclass(frozen=True)
class Surface:
    """A 2-D loss surface written with arithmetic only, so NumPy and TensorFlow both evaluate it."""

    key: str
    title: str
    latex: str
    function: Callable
    start: tuple[float, float]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    minimum_value: float  # the loss at the minima
    note: str
    notice: str  # what to notice with the default settings (tested in tests/test_topics_11_14.py)


def _bowl(x, y):
    return 0.1 * x**2 + 2.0 * y**2


def _rosenbrock(x, y):
    return 0.1 * ((1.0 - x) ** 2 + 10.0 * (y - x**2) ** 2)


def _saddle(x, y):
    return 0.5 * x**2 - 0.5 * y**2 + 0.25 * y**4


SURFACES = {
    "bowl": Surface(
        "bowl", "Elongated bowl", r"f(x, y) = 0.1\,x^2 + 2\,y^2", _bowl, (-4.5, 1.5), (-5.0, 5.0), (-2.0, 2.0),
        ((0.0, 0.0),), 0.0,
        "20 times steeper across (y) than along (x): plain SGD crawls along, and zig-zags across once the "
        "learning rate is above 0.25 (try 0.3).",
        "After 100 steps SGD is still about 0.6 from the minimum along the flat x direction, while Momentum, "
        "Nesterov, RMSprop and Adam are there; momentum overshoots and swings back. AdaGrad's effective learning "
        "rate only falls, so it slows to a crawl more than 1 away from the minimum.",
    ),
    "rosenbrock": Surface(
        "rosenbrock", "Rosenbrock valley",
        r"f(x, y) = 0.1\,\left[(1 - x)^2 + 10\,(y - x^2)^2\right]", _rosenbrock, (-1.5, 2.0),
        (-2.0, 2.0), (-1.0, 3.0), ((1.0, 1.0),), 0.0,
        "A curved, flat-bottomed valley (Rosenbrock's banana, b = 10, scaled by 0.1): "
        "finding the valley is easy, following it to (1, 1) is slow.",
        "Every optimizer drops into the valley within a few steps. Along its flat floor SGD and AdaGrad stall "
        "more than 1 away from (1, 1), while Momentum rolls all the way there and Adam gets close.",
    ),
    "saddle": Surface(
        "saddle", "Saddle point", r"f(x, y) = \tfrac12 x^2 - \tfrac12 y^2 + \tfrac14 y^4", _saddle,
        (-2.5, 0.01), (-3.0, 3.0), (-1.8, 1.8), ((0.0, 1.0), (0.0, -1.0)), -0.25,
        "A saddle at (0, 0) between two minima at (0, +1) and (0, -1). The start lies almost on the ridge, "
        "where the gradient across is tiny.",
        "RMSprop and Adam leave the ridge within 10 steps, because they divide the tiny gradient across it by its "
        "own small size. Momentum needs about 15 steps to build up speed; plain SGD about 40, growing y by only "
        "10% a step.",
    ),
}


@dataclass(frozen=True)
class OptimizerSettings:
    """Hyperparameters of the 2-D experiment; each optimizer reads the ones it uses."""

    sgd_learning_rate: float = 0.1  # SGD, Momentum and Nesterov
    adaptive_learning_rate: float = 0.1  # AdaGrad, RMSprop and Adam
    momentum: float = 0.9
    rho: float = 0.9
    beta_1: float = 0.9
    beta_2: float = 0.999

    def is_default(self) -> bool:
        """Whether every hyperparameter equals its default (sliders may add float noise).

        Returns:
            True for the settings the page's "what to notice" text describes.
        """
        default = OptimizerSettings()
        return all(math.isclose(getattr(self, f.name), getattr(default, f.name), rel_tol=1e-9)
                   for f in dataclasses.fields(self))

    def config(self, optimizer: str) -> TrainConfig:
        """A TrainConfig carrying this optimizer's hyperparameters, for `build_optimizer`.

        Args:
            optimizer: one of lab.config.OPTIMIZERS.
        Returns:
            a validated TrainConfig (its model and data fields are unused here).
        """
        learning_rate = self.adaptive_learning_rate if optimizer in ADAPTIVE else self.sgd_learning_rate
        return TrainConfig(optimizer=optimizer, learning_rate=learning_rate, momentum=self.momentum,
                           rho=self.rho, beta_1=self.beta_1, beta_2=self.beta_2)


@dataclass
class Trajectory:
    """The path of one Keras optimizer on one surface, with its state after every step."""

    optimizer: str
    config: TrainConfig
    points: np.ndarray  # (steps + 1, 2): the start, then the variable after each step
    losses: np.ndarray  # (steps + 1,)
    gradients: np.ndarray  # (steps, 2): gradient used at step t, taken at points[t - 1]
    state: dict = field(default_factory=dict)  # slot name ("m" or "s") -> (steps, 2) after each step
    escaped_at: Optional[int] = None  # step at which the point left the picture, if it did

    @property
    def steps(self) -> int:
        """Number of steps taken.

        Returns:
            len(gradients).
        """
        return len(self.gradients)


# Keras names each slot variable "<variable>_<slot>"; the slides call them m and s.
_SLOT_NAMES = {"momentum": "m", "accumulator": "s", "velocity": "s"}


def _slot_variables(optimizer) -> dict:
    slots = {}
    for variable in optimizer.variables:
        suffix = variable.name.rsplit("_", 1)[-1]
        if suffix in _SLOT_NAMES:
            slots[_SLOT_NAMES[suffix]] = variable
    return slots


# ----------------------------------------------------------------------
# Engines: traced step functions reused across requests
# ----------------------------------------------------------------------
# TensorFlow never gives back the memory of a traced function (about 0.5 MB
# for one of these small steps), so a new tf.function per optimizer per request
# would grow the server with every click. Requests that differ only in the
# learning rate (a variable inside the optimizer) or the number of steps share
# one engine; everything Keras bakes into the graph (the surface, the
# optimizer, its momentum, rho and betas) is in the key.
# lab.engines's pool keeps them.


def surface_engine_key(surface_key: str, config: TrainConfig) -> tuple:
    """The settings a traced surface step depends on; requests with equal keys share an engine.

    Args:
        surface_key: a key of SURFACES.
        config: the optimizer's config (from OptimizerSettings.config).
    Returns:
        a hashable tuple without the learning rate, which is a variable of the optimizer.
    """
    baked = tuple((name, getattr(config, name)) for name in OPTIMIZER_PARAMETERS[config.optimizer]
                  if name not in ("learning_rate", "decay"))
    return surface_key, config.optimizer, baked


class _SurfaceEngine:
    """One 2-D variable, one Keras optimizer and one compiled step, reset for each request."""

    def __init__(self, surface: Surface, config: TrainConfig):
        import keras
        import tensorflow as tf

        from lab.optimizers import build_optimizer

        self.surface = surface
        self.variable = keras.Variable(np.array(surface.start, dtype=np.float32), name="theta")
        self.optimizer = build_optimizer(config)
        self.optimizer.build([self.variable])
        self.slots = _slot_variables(self.optimizer)
        variable, optimizer = self.variable, self.optimizer

        # Compiling the step makes a 100-step path about five times faster than eager
        # calls; the update is still Keras's apply_gradients.
        @tf.function
        def step():
            with tf.GradientTape() as tape:
                loss = surface.function(variable[0], variable[1])
            gradient = tape.gradient(loss, variable.value)
            optimizer.apply_gradients([(gradient, variable)])
            return loss, gradient

        self.step = step

    def reset(self, config: TrainConfig) -> None:
        """Put the variable back at the start and give the optimizer a fresh optimizer's state."""
        from lab.optimizers import build_optimizer

        self.variable.assign(np.array(self.surface.start, dtype=np.float32))
        # A fresh optimizer, as Keras would build it for this request; its step counter, learning
        # rate and initial slot values (zeros, or AdaGrad's 0.1) are copied into the traced one.
        fresh = build_optimizer(config)
        fresh.build([self.variable])
        for target, source in zip(self.optimizer.variables, fresh.variables, strict=True):
            target.assign(source)


def run_trajectory(surface: Surface, optimizer_name: str, settings: OptimizerSettings, steps: int) -> Trajectory:
    """Move one 2-D keras.Variable with a real Keras optimizer for `steps` steps.

    Args:
        surface: the loss surface.
        optimizer_name: one of lab.config.OPTIMIZERS.
        settings: the shared hyperparameters.
        steps: number of updates.
    Returns:
        a Trajectory; it stops early if the point leaves the picture (|x| or |y| > 1000).
    """
    config = settings.config(optimizer_name)
    key = surface_engine_key(surface.key, config)
    # A borrowed engine is one request's alone, so no other request moves its variable meanwhile.
    with ENGINES.borrow(key, lambda: _SurfaceEngine(surface, config)) as engine:
        engine.reset(config)
        points, losses, gradients, state, escaped_at = _walk(engine, steps)
    losses.append(float(surface.function(*points[-1].astype(np.float64))) if escaped_at is None else float("nan"))
    return Trajectory(
        optimizer=optimizer_name, config=config, points=np.array(points, dtype=np.float64),
        losses=np.array(losses, dtype=np.float64), gradients=np.array(gradients, dtype=np.float64),
        state={name: np.array(values, dtype=np.float64) for name, values in state.items()}, escaped_at=escaped_at,
    )


def _walk(engine: _SurfaceEngine, steps: int) -> tuple:
    """Take up to `steps` compiled steps, recording the point, loss, gradient and slots after each."""
    points, losses, gradients = [engine.variable.numpy().copy()], [], []
    state = {name: [] for name in engine.slots}
    escaped_at = None
    for step in range(1, steps + 1):
        loss, gradient = engine.step()
        losses.append(float(loss))
        gradients.append(gradient.numpy())
        points.append(engine.variable.numpy().copy())
        for name, slot in engine.slots.items():
            state[name].append(slot.numpy().copy())
        if not np.all(np.isfinite(points[-1])) or np.max(np.abs(points[-1])) > ESCAPE_LIMIT:
            escaped_at = step
            break
    return points, losses, gradients, state, escaped_at


def run_trajectories(surface_key: str, optimizers, settings: OptimizerSettings, steps: int) -> dict:
    """Trajectories of several optimizers from the same start on one surface.

    Args:
        surface_key: a key of SURFACES.
        optimizers: optimizer names.
        settings: the shared hyperparameters.
        steps: updates per optimizer.
    Returns:
        {optimizer name: Trajectory}, in the order given.
    """
    surface = SURFACES[surface_key]
    return {name: run_trajectory(surface, name, settings, steps) for name in optimizers}


def final_distance(trajectory: Trajectory, surface: Surface) -> float:
    """Distance from the trajectory's last point to the nearest minimum.

    Args:
        trajectory: a finished trajectory.
        surface: its surface.
    Returns:
        the Euclidean distance (inf if the point escaped).
    """
    if trajectory.escaped_at is not None:
        return float("inf")
    last = trajectory.points[-1]
    return float(min(np.hypot(last[0] - mx, last[1] - my) for mx, my in surface.minima))


def summary_frame(trajectories: dict, surface: Surface):
    """One row per optimizer: final loss, distance to the minimum and whether it escaped.

    Args:
        trajectories: from `run_trajectories`.
        surface: their surface.
    Returns:
        a pandas DataFrame.
    """
    import pandas as pd

    frame = pd.DataFrame([{
        "optimizer": LABELS[name],
        "learning rate": trajectory.config.learning_rate,
        "final loss": trajectory.losses[-1],
        "distance to nearest minimum": final_distance(trajectory, surface),
        "left the picture at step": trajectory.escaped_at,
    } for name, trajectory in trajectories.items()])
    if frame["left the picture at step"].isna().all():
        frame = frame.drop(columns="left the picture at step")
    return frame


# ----------------------------------------------------------------------
# Figures of the 2-D experiment
# ----------------------------------------------------------------------
def surface_figure(surface_key: str, trajectories: dict, upto: Optional[int] = None) -> go.Figure:
    """Contours of the surface with every trajectory drawn up to step `upto`.

    Args:
        surface_key: a key of SURFACES.
        trajectories: from `run_trajectories`.
        upto: last step to draw (None draws all).
    Returns:
        a Figure: one Contour trace, then one line per optimizer, then the start and minima markers.
    """
    surface = SURFACES[surface_key]
    xs = np.linspace(*surface.x_range, 160)
    ys = np.linspace(*surface.y_range, 120)
    grid_x, grid_y = np.meshgrid(xs, ys)
    z = surface.function(grid_x, grid_y)
    # Log-spaced contour heights make the flat valley floor as visible as the steep walls.
    shifted = np.log10(z - z.min() + 1e-3)
    figure = go.Figure(go.Contour(
        x=xs, y=ys, z=shifted, colorscale="Greys", reversescale=True, showscale=False, opacity=0.55,
        contours=dict(coloring="heatmap", showlines=True), ncontours=25, name="loss", hoverinfo="skip",
    ))
    for name, trajectory in trajectories.items():
        points = trajectory.points if upto is None else trajectory.points[: upto + 1]
        figure.add_trace(go.Scatter(
            x=points[:, 0], y=points[:, 1], mode="lines+markers", name=LABELS[name],
            line=dict(color=OPTIMIZER_COLORS[name], width=3), marker=dict(size=4),
            hovertemplate=f"{LABELS[name]}<br>x=%{{x:.4f}}<br>y=%{{y:.4f}}<extra></extra>",
        ))
    figure.add_trace(go.Scatter(x=[surface.start[0]], y=[surface.start[1]], mode="markers", name="start",
                                marker=dict(symbol="circle-open", size=16, color=REFERENCE_COLOR, line=dict(width=3))))
    figure.add_trace(go.Scatter(x=[m[0] for m in surface.minima], y=[m[1] for m in surface.minima], mode="markers",
                                name="minimum", marker=dict(symbol="star", size=18, color="#F0E442",
                                                            line=dict(color=REFERENCE_COLOR, width=1))))
    figure.update_layout(
        title=f"{surface.title}: {'all steps' if upto is None else f'first {upto} steps'}",
        xaxis_title="x", yaxis_title="y", template="plotly_white", height=560,
        margin=dict(l=60, r=20, t=50, b=50), legend=dict(orientation="h", y=-0.15),
    )
    figure.update_xaxes(range=list(surface.x_range))
    figure.update_yaxes(range=list(surface.y_range))
    return figure


def loss_by_step_figure(trajectories: dict, surface_key: str) -> go.Figure:
    """How far above the minimum each optimizer's loss is at every step, on a log axis.

    Args:
        trajectories: from `run_trajectories`.
        surface_key: their surface (its minimum value is subtracted).
    Returns:
        a Figure with one line per optimizer.
    """
    floor = SURFACES[surface_key].minimum_value
    figure = go.Figure()
    for name, trajectory in trajectories.items():
        # Subtracting the minimum makes every curve positive (the saddle's loss goes below zero),
        # and the clip keeps an exact hit of the minimum on the log axis.
        gap = np.maximum(trajectory.losses - floor, 1e-12)
        figure.add_trace(go.Scatter(x=np.arange(len(gap)), y=gap, mode="lines", name=LABELS[name],
                                    line=dict(color=OPTIMIZER_COLORS[name], width=3)))
    figure.update_layout(title="Loss above the minimum at each step", xaxis_title="step",
                         yaxis_title="loss - minimum (log scale)", template="plotly_white",
                         margin=dict(l=60, r=20, t=50, b=50), legend=dict(orientation="h", y=-0.2))
    figure.update_yaxes(type="log", exponentformat="power")
    return readable_log_ticks(figure)


# ----------------------------------------------------------------------
# The update equations with live values
# ----------------------------------------------------------------------
EQUATIONS = {
    "sgd": [r"\theta \leftarrow \theta - \eta\,\nabla_\theta J(\theta)"],
    "momentum": [r"m \leftarrow \beta m - \eta\,\nabla_\theta J(\theta)", r"\theta \leftarrow \theta + m"],
    "nesterov": [r"m \leftarrow \beta m - \eta\,\nabla_\theta J(\theta + \beta m)", r"\theta \leftarrow \theta + m"],
    "adagrad": [r"s \leftarrow s + \nabla_\theta J(\theta) \otimes \nabla_\theta J(\theta)",
                r"\theta \leftarrow \theta - \eta\,\nabla_\theta J(\theta) \oslash \sqrt{s + \varepsilon}"],
    "rmsprop": [r"s \leftarrow \rho s + (1 - \rho)\,\nabla_\theta J(\theta) \otimes \nabla_\theta J(\theta)",
                r"\theta \leftarrow \theta - \eta\,\nabla_\theta J(\theta) \oslash \sqrt{s + \varepsilon}"],
    "adam": [r"m \leftarrow \beta_1 m - (1 - \beta_1)\,\nabla_\theta J(\theta)",
             r"s \leftarrow \beta_2 s + (1 - \beta_2)\,\nabla_\theta J(\theta) \otimes \nabla_\theta J(\theta)",
             r"\hat m \leftarrow \frac{m}{1 - \beta_1^{\,t}} \qquad \hat s \leftarrow \frac{s}{1 - \beta_2^{\,t}}",
             r"\theta \leftarrow \theta + \eta\,\hat m \oslash \sqrt{\hat s + \varepsilon}"],
}

# How Keras writes the same rule, where it differs from the slides in form (not in effect).
KERAS_NOTES = {
    "nesterov": "Keras takes the gradient at the current variable and then steps by beta*m - eta*g: the same "
                "method, with the variable tracking the look-ahead point theta + beta*m.",
    "adagrad": "Keras starts s at 0.1 (initial_accumulator_value), not at 0, and adds g squared before dividing, so "
               "the first step is eta * g / sqrt(0.1 + g^2): close to a full-size sign step only where |g| is much "
               "larger than 0.3.",
    "adam": "Keras keeps m with a plus sign (m = beta_1 m + (1 - beta_1) g) and subtracts the step; it folds both "
            "bias corrections into the learning rate and adds epsilon outside the square root.",
}


def live_values(trajectory: Trajectory, step: int) -> dict:
    """The numbers of one update: gradient, state before and after, and the step taken.

    Args:
        trajectory: a trajectory.
        step: the update to show, 1 <= step <= trajectory.steps.
    Returns:
        dict of named 2-vectors and scalars, e.g. "g", "theta_before", "theta_after", "m", "s",
        "effective_lr" (AdaGrad, RMSprop), "m_hat", "s_hat", "correction_1", "correction_2" (Adam).
    """
    if not 1 <= step <= trajectory.steps:
        raise ValueError(f"step must be in [1, {trajectory.steps}], got {step}")
    config = trajectory.config
    values = {
        "t": step, "eta": config.learning_rate, "g": trajectory.gradients[step - 1],
        "theta_before": trajectory.points[step - 1], "theta_after": trajectory.points[step],
    }
    values["delta"] = values["theta_after"] - values["theta_before"]
    for name, history in trajectory.state.items():
        values[name] = history[step - 1]
        values[f"{name}_before"] = history[step - 2] if step > 1 else _initial_slot(trajectory.optimizer, name)
    if trajectory.optimizer in ("adagrad", "rmsprop"):
        values["effective_lr"] = config.learning_rate / np.sqrt(values["s"] + config.epsilon)
    if trajectory.optimizer == "adam":
        values["correction_1"] = 1.0 - config.beta_1**step
        values["correction_2"] = 1.0 - config.beta_2**step
        values["m_hat"] = values["m"] / values["correction_1"]
        values["s_hat"] = values["s"] / values["correction_2"]
    return values


def _initial_slot(optimizer: str, name: str) -> np.ndarray:
    # Keras's starting values: AdaGrad's accumulator starts at 0.1, everything else at 0.
    return np.full(2, 0.1 if optimizer == "adagrad" else 0.0)


def _vector(values: np.ndarray) -> str:
    return r"\begin{pmatrix}" + r"\\ ".join(f"{v:.4g}" for v in values) + r"\end{pmatrix}"


def live_equations(trajectory: Trajectory, step: int) -> list[str]:
    """The optimizer's update at one step as LaTeX lines with the actual numbers filled in.

    Args:
        trajectory: a trajectory.
        step: the update to show, 1 <= step <= trajectory.steps.
    Returns:
        LaTeX strings, one per equation, in Keras's form of the rule.
    """
    v = live_values(trajectory, step)
    c = trajectory.config
    g, before, after = _vector(v["g"]), _vector(v["theta_before"]), _vector(v["theta_after"])
    name = trajectory.optimizer
    lines = [rf"t = {step},\quad \nabla_\theta J = {g}"]
    # With momentum 0 Keras's SGD keeps no velocity slot: the update is plain SGD.
    if name == "sgd" or (name in ("momentum", "nesterov") and "m" not in v):
        lines.append(rf"\theta = {before} - {c.learning_rate:g}\,{g} = {after}")
    elif name in ("momentum", "nesterov"):
        lines.append(rf"m = {c.momentum:g}\,{_vector(v['m_before'])} - {c.learning_rate:g}\,{g} = {_vector(v['m'])}")
        if name == "momentum":
            lines.append(rf"\theta = {before} + {_vector(v['m'])} = {after}")
        else:
            lines.append(rf"\theta = {before} + {c.momentum:g}\,{_vector(v['m'])} - {c.learning_rate:g}\,{g} = {after}")
    elif name in ("adagrad", "rmsprop"):
        if name == "adagrad":
            lines.append(rf"s = {_vector(v['s_before'])} + {g}^{{\otimes 2}} = {_vector(v['s'])}")
        else:
            lines.append(rf"s = {c.rho:g}\,{_vector(v['s_before'])} + {1 - c.rho:.3g}\,{g}^{{\otimes 2}} = {_vector(v['s'])}")
        lines.append(rf"\frac{{\eta}}{{\sqrt{{s + \varepsilon}}}} = {_vector(v['effective_lr'])}"
                     r"\quad\text{(effective learning rate per coordinate)}")
        lines.append(rf"\theta = {before} - {_vector(v['effective_lr'])} \otimes {g} = {after}")
    else:  # adam
        lines.append(rf"m = {c.beta_1:g}\,{_vector(v['m_before'])} + {1 - c.beta_1:.3g}\,{g} = {_vector(v['m'])}")
        lines.append(rf"s = {c.beta_2:g}\,{_vector(v['s_before'])} + {1 - c.beta_2:.3g}\,{g}^{{\otimes 2}} = {_vector(v['s'])}")
        lines.append(rf"1 - \beta_1^{{{step}}} = {v['correction_1']:.4g},\quad 1 - \beta_2^{{{step}}} = {v['correction_2']:.4g},"
                     rf"\quad \hat\varepsilon = \varepsilon / \sqrt{{1 - \beta_2^{{{step}}}}} = {c.epsilon / np.sqrt(v['correction_2']):.3g}")
        lines.append(rf"\hat m = {_vector(v['m_hat'])},\quad \hat s = {_vector(v['s_hat'])}")
        lines.append(rf"\theta = {before} - {c.learning_rate:g}\,\hat m \oslash (\sqrt{{\hat s}} + \hat\varepsilon) = {after}")
    return lines


def trajectory_code(surface_key: str, settings: OptimizerSettings, steps: int) -> str:
    """Keras 3 code that reproduces the 2-D experiment.

    Args:
        surface_key: a key of SURFACES.
        settings: the hyperparameters used.
        steps: the number of updates.
    Returns:
        Python source as a string.
    """
    surface = SURFACES[surface_key]
    body = {"bowl": "0.1 * x**2 + 2.0 * y**2",
            "rosenbrock": "0.1 * ((1.0 - x) ** 2 + 10.0 * (y - x**2) ** 2)",
            "saddle": "0.5 * x**2 - 0.5 * y**2 + 0.25 * y**4"}[surface_key]
    s = settings
    # Float literals throughout: Keras 3 rejects an int learning rate or momentum ("1", "0").
    sgd, adaptive = float_literal(s.sgd_learning_rate), float_literal(s.adaptive_learning_rate)
    momentum = float_literal(s.momentum)
    return (
        "import keras\nimport numpy as np\nimport tensorflow as tf\n\n"
        f"def loss(x, y):\n    return {body}\n\n"
        "optimizers = {\n"
        f"    'SGD': keras.optimizers.SGD({sgd}),\n"
        f"    'Momentum': keras.optimizers.SGD({sgd}, momentum={momentum}),\n"
        f"    'Nesterov': keras.optimizers.SGD({sgd}, momentum={momentum}, nesterov=True),\n"
        f"    'AdaGrad': keras.optimizers.Adagrad({adaptive}),\n"
        f"    'RMSprop': keras.optimizers.RMSprop({adaptive}, rho={float_literal(s.rho)}),\n"
        f"    'Adam': keras.optimizers.Adam({adaptive}, beta_1={float_literal(s.beta_1)}, "
        f"beta_2={float_literal(s.beta_2)}),\n"
        "}\n"
        "for name, optimizer in optimizers.items():\n"
        f"    theta = keras.Variable(np.array({list(surface.start)}, dtype='float32'))\n"
        "    path = [theta.numpy().copy()]\n"
        f"    for step in range({steps}):\n"
        "        with tf.GradientTape() as tape:\n"
        "            value = loss(theta[0], theta[1])\n"
        "        optimizer.apply_gradients([(tape.gradient(value, theta.value), theta)])\n"
        "        path.append(theta.numpy().copy())\n"
        "    print(name, path[-1], [v.name for v in optimizer.variables])  # the slots: momentum, velocity, ...\n"
    )


# ----------------------------------------------------------------------
# The race on Fashion-MNIST
# ----------------------------------------------------------------------
# Each optimizer's usual starting learning rate: the Keras defaults for RMSprop and
# Adam, 0.01 for AdaGrad (its Keras default 0.001 barely moves in two epochs), and
# the lecture's 0.01 for the SGD family.
RACE_LEARNING_RATES = {"sgd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.01,
                       "rmsprop": 0.001, "adam": 0.001}


def race_configs(optimizers, train_size: int = 3_000, epochs: int = 2, seed: int = 42,
                 learning_rates: Optional[dict] = None) -> dict:
    """One config per optimizer, identical except for the optimizer and its learning rate.

    Args:
        optimizers: optimizer names.
        train_size: training images.
        epochs: passes over them.
        seed: shared, so every run starts from the same weights and sees the same batches.
        learning_rates: optional {name: learning rate}, defaulting to RACE_LEARNING_RATES.
    Returns:
        {name: TrainConfig}.
    """
    rates = {**RACE_LEARNING_RATES, **(learning_rates or {})}
    base = TrainConfig(train_size=train_size, epochs=epochs, seed=seed, validation_size=2_000, log_every=10)
    return {name: dataclasses.replace(base, optimizer=name, learning_rate=rates[name]) for name in optimizers}


def race(configs: dict, dataset, on_start: Optional[Callable[[str, int], None]] = None,
         trainer: Optional[Callable] = None) -> dict:
    """Train the lecture's model once per config (the race).

    Args:
        configs: from `race_configs`.
        dataset: the shared Dataset.
        on_start: optional callback (name, index) before each run, for a progress display.
        trainer: train(config, dataset) -> TrainResult; lab.training.train by default
            (pages pass one that goes through the server's training queue).
    Returns:
        {name: TrainResult}.
    """
    if trainer is None:
        from lab.training import train as trainer

    results = {}
    for index, (name, config) in enumerate(configs.items()):
        if on_start is not None:
            on_start(name, index)
        results[name] = trainer(config, dataset)
    return results


def race_figure(results: dict, metric: str = "val_accuracy") -> go.Figure:
    """One line per optimizer: a per-epoch metric of the race.

    Args:
        results: from `race`.
        metric: a history key such as "val_accuracy" or "loss".
    Returns:
        a Figure with one trace per optimizer.
    """
    figure = go.Figure()
    for name, result in results.items():
        figure.add_trace(go.Scatter(x=result.history["epoch"], y=result.history[metric], mode="lines+markers",
                                    name=f"{LABELS[name]} (lr {result.config.learning_rate:g})",
                                    line=dict(color=OPTIMIZER_COLORS[name], width=3), marker=dict(size=8)))
    title = metric.replace("val_", "validation ").replace("_", " ")
    figure.update_layout(title=f"Race: {title} per epoch", xaxis_title="epoch", yaxis_title=title,
                         template="plotly_white", margin=dict(l=60, r=20, t=50, b=50),
                         legend=dict(orientation="h", y=-0.2))
    figure.update_xaxes(dtick=1)
    return figure


def race_steps_figure(results: dict) -> go.Figure:
    """Training loss per logged step of each racer: who pulls ahead first.

    Args:
        results: from `race`.
    Returns:
        a Figure with one trace per optimizer.
    """
    figure = go.Figure()
    for name, result in results.items():
        figure.add_trace(go.Scatter(x=[e["step"] for e in result.step_log], y=[e["loss"] for e in result.step_log],
                                    mode="lines", name=LABELS[name],
                                    line=dict(color=OPTIMIZER_COLORS[name], width=2)))
    figure.update_layout(title="Race: training loss per step", xaxis_title="step", yaxis_title="training loss",
                         template="plotly_white", margin=dict(l=60, r=20, t=50, b=50),
                         legend=dict(orientation="h", y=-0.2))
    return figure


def race_table(results: dict):
    """One row per optimizer: final validation accuracy, loss and seconds.

    Args:
        results: from `race`.
    Returns:
        a pandas DataFrame sorted by final validation accuracy, best first.
    """
    import pandas as pd

    frame = pd.DataFrame([{
        "optimizer": LABELS[name], "learning rate": r.config.learning_rate,
        "validation accuracy": r.history["val_accuracy"][-1] if r.history["val_accuracy"] else float("nan"),
        "training loss": r.history["loss"][-1] if r.history["loss"] else float("nan"),
        "seconds": r.seconds, "stop": r.stop_reason,
    } for name, r in results.items()])
    return frame.sort_values("validation accuracy", ascending=False, ignore_index=True)


# ----------------------------------------------------------------------
# AdaGrad's effective learning rate on the network
# ----------------------------------------------------------------------
@dataclass
class EffectiveRateLog:
    """Per-layer median effective learning rate eta / sqrt(s + eps) during training."""

    optimizer: str
    learning_rate: float
    layer_names: list
    steps: list  # the optimizer's iteration count at each record
    rates: list  # one list per record: the median effective rate of each layer
    val_accuracy: list  # per epoch

    def reference_index(self) -> int:
        """Index of the first record at or after REFERENCE_STEP.

        RMSprop's and Adam's s start at zero, so their first steps have huge
        effective rates; comparing from a few steps in is fair to all of them.

        Returns:
            an index into steps and rates.
        """
        return next((i for i, step in enumerate(self.steps) if step >= REFERENCE_STEP), 0)

    def relative(self, layer: str) -> list:
        """One layer's effective rate at each record, divided by its rate at the reference step.

        Args:
            layer: a name in layer_names.
        Returns:
            list of ratios, 1.0 at the reference step.
        """
        index = self.layer_names.index(layer)
        reference = self.rates[self.reference_index()][index]
        return [rates[index] / reference for rates in self.rates]

    def ratio(self, layer: str) -> float:
        """Last recorded effective rate over the one at the reference step, for one layer.

        Args:
            layer: a name in layer_names.
        Returns:
            the ratio (below 1 means the rate shrank).
        """
        return self.relative(layer)[-1]


def _effective_rate_recorder(every: int):
    import keras

    class Recorder(keras.callbacks.Callback):
        """Reads the optimizer's squared-gradient slots every few steps (the Keras callback API)."""

        def __init__(self):
            super().__init__()
            self.steps, self.rates = [], []

        def on_train_batch_end(self, batch, logs=None):
            optimizer = self.model.optimizer
            iteration = int(optimizer.iterations.numpy())
            if iteration % every and iteration != 1:
                return
            learning_rate = float(optimizer.learning_rate.numpy())
            slots = {variable.name: variable for variable in optimizer.variables}
            per_layer = []
            for layer in self.model.layers:
                if not layer.trainable_weights:
                    continue
                squares = np.concatenate([_slot_for(slots, weight).numpy().ravel() for weight in layer.trainable_weights])
                per_layer.append(float(np.median(learning_rate / np.sqrt(squares + optimizer.epsilon))))
            self.steps.append(iteration)
            self.rates.append(per_layer)

    return Recorder()


def _slot_for(slots: dict, weight):
    # The squared-gradient slot of a weight: AdaGrad's accumulator or RMSprop/Adam's
    # velocity. Keras names a slot after its weight's path with "/" turned into "_".
    for suffix in ("_accumulator", "_velocity"):
        name = weight.path.replace("/", "_") + suffix
        if name in slots:
            return slots[name]
    raise KeyError(f"no squared-gradient slot for {weight.path}")


class _FitEngine:
    """A compiled lecture model whose model.fit graphs are reused; reset to a new run's weights each time."""

    def __init__(self, config: TrainConfig, num_classes: int):
        from lab.models import build_model
        from lab.optimizers import build_optimizer

        self.model = build_model(config, num_classes)
        self.model.compile(optimizer=build_optimizer(config), loss="sparse_categorical_crossentropy",
                           metrics=["accuracy"])
        self.model.optimizer.build(self.model.trainable_variables)

    def reset(self, config: TrainConfig, num_classes: int) -> None:
        """Give the model a new run's seeded initial weights and the optimizer a fresh state."""
        from lab.models import build_model
        from lab.optimizers import build_optimizer

        fresh_model = build_model(config, num_classes)
        self.model.set_weights(fresh_model.get_weights())
        fresh_optimizer = build_optimizer(config)
        fresh_optimizer.build(self.model.trainable_variables)
        for target, source in zip(self.model.optimizer.variables, fresh_optimizer.variables, strict=True):
            target.assign(source)
        self.model.stop_training = False


# model.fit traces a training and a validation graph per model (about 9 MB that
# TensorFlow never frees), so runs share a model per optimizer and its baked
# hyperparameters; the learning rate is a variable and is reset per run.
def _fit_engine_key(config: TrainConfig, num_classes: int) -> tuple:
    return ("fit", num_classes, config.hidden_units, config.activation) + surface_engine_key("network", config)[1:]


def effective_rate_experiment(config: TrainConfig, dataset, every: int = 10) -> EffectiveRateLog:
    """Train the lecture's model with model.fit and record the effective learning rate per layer.

    Args:
        config: an AdaGrad or RMSprop config (its train_size, epochs and seed are used).
        dataset: the shared Dataset.
        every: record every this many steps.
    Returns:
        an EffectiveRateLog.
    """
    from lab.data import split_indices

    # Only for these two is eta / sqrt(s + epsilon) the whole per-coordinate rate; Adam's also has bias corrections.
    if config.optimizer not in ("adagrad", "rmsprop"):
        raise ValueError(f"the effective learning rate is recorded for adagrad or rmsprop, got {config.optimizer}")
    train_index, validation_index = split_indices(dataset.y_train, config.train_size, config.validation_size,
                                                  config.seed)
    recorder = _effective_rate_recorder(every)
    # Shuffling in the index order keeps the run reproducible without a global seed.
    order = np.random.default_rng([config.seed, 3]).permutation(train_index)
    with ENGINES.borrow(_fit_engine_key(config, dataset.num_classes),
                        lambda: _FitEngine(config, dataset.num_classes)) as engine:
        engine.reset(config, dataset.num_classes)
        history = engine.model.fit(
            dataset.x_train[order], dataset.y_train[order], batch_size=config.batch_size, epochs=config.epochs,
            validation_data=(dataset.x_train[validation_index], dataset.y_train[validation_index]),
            callbacks=[recorder], shuffle=False, verbose=0,
        )
        names = [layer.name for layer in engine.model.layers if layer.trainable_weights]
    return EffectiveRateLog(config.optimizer, config.learning_rate, names, recorder.steps, recorder.rates,
                            history.history["val_accuracy"])


def effective_rate_figure(logs: list) -> go.Figure:
    """Each layer's median effective learning rate against step, relative to its value at step 20.

    Args:
        logs: EffectiveRateLog objects.
    Returns:
        a Figure with one trace per optimizer and layer; 1.0 is the rate at the reference step.
    """
    figure = go.Figure()
    dashes = ("dot", "dash", "solid", "dashdot")
    for log in logs:
        start = log.reference_index()
        reference = log.rates[start]
        for index, layer in enumerate(log.layer_names):
            figure.add_trace(go.Scatter(
                x=log.steps[start:], y=log.relative(layer)[start:], mode="lines+markers", marker=dict(size=4),
                name=f"{LABELS[log.optimizer]} {layer} (η/√s = {reference[index]:.3g} at step {REFERENCE_STEP})",
                line=dict(color=OPTIMIZER_COLORS[log.optimizer], width=3, dash=dashes[index % len(dashes)]),
            ))
    figure.add_hline(y=1.0, line=dict(color="grey", width=1))
    figure.update_layout(title=f"Effective learning rate η/√(s+ε) per layer, relative to step {REFERENCE_STEP}",
                         xaxis_title="step", yaxis_title=f"median effective rate / rate at step {REFERENCE_STEP}",
                         template="plotly_white", margin=dict(l=60, r=20, t=50, b=50),
                         legend=dict(orientation="h", y=-0.2), height=520)
    return figure


def adagrad_config(learning_rate: float = 0.01, epochs: int = 3, optimizer: str = "adagrad",
                   train_size: int = 2_000, seed: int = 42) -> TrainConfig:
    """The lecture's model on a small subset for the effective-learning-rate experiment.

    Args:
        learning_rate: the optimizer's learning rate.
        epochs: passes over the images.
        optimizer: "adagrad" or "rmsprop" (or "adam").
        train_size: training images.
        seed: the same initial weights for every optimizer.
    Returns:
        a TrainConfig.
    """
    return TrainConfig(optimizer=optimizer, learning_rate=learning_rate, epochs=epochs, train_size=train_size,
                       seed=seed, validation_size=1_000)


def adagrad_comparison(dataset, learning_rate: float = 0.01, epochs: int = 3, compare: bool = True) -> list:
    """AdaGrad's effective learning rate during training, and optionally RMSprop's beside it.

    Args:
        dataset: the shared Dataset.
        learning_rate: AdaGrad's learning rate (RMSprop uses its Keras default 0.001).
        epochs: passes over 2,000 images.
        compare: also train RMSprop from the same initial weights.
    Returns:
        a list of EffectiveRateLog, AdaGrad first.
    """
    configs = [adagrad_config(learning_rate, epochs)]
    if compare:
        configs.append(adagrad_config(RACE_LEARNING_RATES["rmsprop"], epochs, optimizer="rmsprop"))
    return [effective_rate_experiment(config, dataset) for config in configs]


def adagrad_code(logs: list) -> str:
    """Keras 3 code of the effective-learning-rate experiment.

    Args:
        logs: from `adagrad_comparison`.
    Returns:
        Python source as a string.
    """
    calls = {"adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam"}
    lines = [
        "import keras\nimport numpy as np\n",
        "class EffectiveRate(keras.callbacks.Callback):",
        "    def on_train_batch_end(self, batch, logs=None):",
        "        optimizer = self.model.optimizer",
        "        for slot in optimizer.variables:",
        "            if slot.name.endswith(('_accumulator', '_velocity')):  # AdaGrad's s / RMSprop's s",
        "                rate = float(optimizer.learning_rate) / np.sqrt(slot.numpy() + optimizer.epsilon)",
        "                print(int(optimizer.iterations), slot.name, np.median(rate))\n",
    ]
    for log in logs:
        lines += [
            "model = ...  # the lecture's model, built with the same seed each time",
            f"model.compile(optimizer=keras.optimizers.{calls[log.optimizer]}({float_literal(log.learning_rate)}), "
            "loss='sparse_categorical_crossentropy', metrics=['accuracy'])",
            "model.fit(x_train, y_train, epochs=..., callbacks=[EffectiveRate()])\n",
        ]
    return "\n".join(lines)


def effective_rate_2d_figure(trajectories: dict) -> go.Figure:
    """AdaGrad's and RMSprop's effective learning rate per coordinate on the 2-D surface.

    Args:
        trajectories: from `run_trajectories`; only AdaGrad and RMSprop are drawn.
    Returns:
        a Figure on a log axis, two traces (x and y coordinate) per optimizer.
    """
    figure = go.Figure()
    for name in ("adagrad", "rmsprop"):
        if name not in trajectories:
            continue
        trajectory = trajectories[name]
        rates = trajectory.config.learning_rate / np.sqrt(trajectory.state["s"] + trajectory.config.epsilon)
        steps = np.arange(1, trajectory.steps + 1)
        for index, (coordinate, dash) in enumerate((("x", "solid"), ("y", "dot"))):
            figure.add_trace(go.Scatter(x=steps, y=rates[:, index], mode="lines",
                                        name=f"{LABELS[name]}, {coordinate}",
                                        line=dict(color=OPTIMIZER_COLORS[name], width=3, dash=dash)))
    figure.update_layout(title="Effective learning rate \u03b7/\u221a(s+\u03b5) on the surface, per coordinate",
                         xaxis_title="step", yaxis_title="effective learning rate (log scale)",
                         template="plotly_white", margin=dict(l=60, r=20, t=50, b=50),
                         legend=dict(orientation="h", y=-0.2))
    figure.update_yaxes(type="log")
    return readable_log_ticks(figure)


# ----------------------------------------------------------------------
# The page's outcome claims, checked on the real data by tests/test_claims.py
# ----------------------------------------------------------------------
# The page's default race and AdaGrad experiment; the claims are shown only for results of these.
RACE_DEFAULTS = dict(train_size=2_000, epochs=2)
ADAGRAD_DEFAULTS = dict(learning_rate=0.01, epochs=5, compare=True)


def is_default_race(results: dict) -> bool:
    """Whether a race ran every optimizer at the page's default size, so its claims apply.

    Args:
        results: from `race`.
    Returns:
        True for the default race.
    """
    default = race_configs(list(OPTIMIZERS), **RACE_DEFAULTS)
    return set(results) == set(default) and all(results[name].config == config for name, config in default.items())


def is_default_adagrad(logs: list) -> bool:
    """Whether an AdaGrad experiment used the page's defaults, so its claims apply.

    Args:
        logs: from `adagrad_comparison`.
    Returns:
        True for the default experiment.
    """
    return ([log.optimizer for log in logs] == ["adagrad", "rmsprop"]
            and logs[0].learning_rate == ADAGRAD_DEFAULTS["learning_rate"]
            and len(logs[0].val_accuracy) == ADAGRAD_DEFAULTS["epochs"])


def one_over_sqrt_t_ratio(log: EffectiveRateLog) -> float:
    """What a rate falling like 1/sqrt(t) would keep from the reference step to the last record.

    Args:
        log: an EffectiveRateLog.
    Returns:
        sqrt(reference step / last step).
    """
    return math.sqrt(log.steps[log.reference_index()] / log.steps[-1])


def claims_experiment(dataset, trainer: Optional[Callable] = None) -> dict:
    """Run the default race and the default AdaGrad experiment, which the page's claims are about.

    Args:
        dataset: the shared dataset.
        trainer: train(config, dataset) -> TrainResult for the race; lab.training.train by default.
    Returns:
        {"race": {name: TrainResult}, "adagrad": [EffectiveRateLog, EffectiveRateLog], "surfaces": {surface key:
        {name: Trajectory}} of every optimizer at the default settings over the page's 100 steps}.
    """
    return {"race": race(race_configs(list(OPTIMIZERS), **RACE_DEFAULTS), dataset, trainer=trainer),
            "adagrad": adagrad_comparison(dataset, **ADAGRAD_DEFAULTS),
            "surfaces": {key: run_trajectories(key, list(OPTIMIZERS), OptimizerSettings(), 100) for key in SURFACES}}


def _final_accuracy(results: dict, name: str) -> float:
    return float(results[name].history["val_accuracy"][-1])


def _sgd_last_and_momentum_closes_most(experiment) -> bool:
    results = experiment["race"]
    accuracies = {name: _final_accuracy(results, name) for name in results}
    best, sgd = max(accuracies.values()), accuracies["sgd"]
    return min(accuracies, key=accuracies.get) == "sgd" and accuracies["momentum"] - sgd >= 0.75 * (best - sgd)


def _adagrad_behind_momentum_and_adam(experiment) -> bool:
    results = experiment["race"]
    adagrad = _final_accuracy(results, "adagrad")
    return adagrad < _final_accuracy(results, "momentum") and adagrad < _final_accuracy(results, "adam")


def _adagrad_rate_falls_slowly(experiment) -> bool:
    adagrad = experiment["adagrad"][0]
    hidden = [adagrad.ratio(name) for name in adagrad.layer_names if name != "output"]
    return (min(hidden) > 0.9 and adagrad.ratio("output") < min(hidden)
            and adagrad.ratio("output") > 2 * one_over_sqrt_t_ratio(adagrad))


def _rmsprop_rate_rises(experiment) -> bool:
    return experiment["adagrad"][1].ratio("output") > 1.0


RACE_CLAIMS = (
    Claim("Plain SGD at 0.01 finishes last, and momentum alone closes most of its gap to the best optimizer "
          "(at least three quarters).", _sgd_last_and_momentum_closes_most),
    Claim("AdaGrad finishes behind Momentum and Adam.", _adagrad_behind_momentum_and_adam),
)
ADAGRAD_CLAIMS = (
    Claim("AdaGrad's rate only falls, but slowly: the hidden layers keep more than 90% of their rate, and the "
          "output layer, whose gradients are largest, falls the most, yet keeps more than twice what a rate "
          "falling like 1/√t would keep. Keras starts *s* at 0.1, and the squared gradients of these few hundred "
          "steps add little to that.", _adagrad_rate_falls_slowly),
    Claim("RMSprop's *s* is a moving average of recent gradients, so its rate goes up again as the gradients "
          "get smaller: its output layer ends above its rate at the reference step.", _rmsprop_rate_rises),
)
PRESET_OPTIMIZERS = ("sgd", "momentum", "adam")  # the "momentum vs Adam" lecture preset


def _first_step_off_the_ridge(path) -> int:
    # The first step at which the path is more than 0.5 off the saddle's ridge (|y| > 0.5).
    return int(np.argmax(np.abs(path.points[:, 1]) > 0.5))


def _saddle_steps(runs) -> bool:
    # Stated as whole steps; a step either way allows for float rounding on another machine.
    steps = {name: _first_step_off_the_ridge(path) for name, path in runs["surfaces"]["saddle"].items()}
    return steps["adam"] <= 6 and abs(steps["momentum"] - 16) <= 1 and abs(steps["sgd"] - 43) <= 1


def _race_numbers(runs) -> bool:
    # "About" a whole percentage: within 2 points; the ranking (Adam > Momentum > SGD) must hold as stated.
    accuracy = {name: float(runs["race"][name].history["val_accuracy"][-1]) for name in PRESET_OPTIMIZERS}
    stated = {"momentum": 0.78, "adam": 0.80, "sgd": 0.67}
    return (all(abs(accuracy[name] - value) < 0.02 for name, value in stated.items())
            and accuracy["adam"] > accuracy["momentum"] > accuracy["sgd"] + 0.05)


PRESET_CLAIMS = (
    Claim("On the saddle, Adam leaves the ridge within 6 steps, Momentum needs 16 and plain SGD 43.", _saddle_steps),
    Claim("On Fashion-MNIST, from the same initial weights, Momentum reaches about 78% and Adam about 80% validation "
          "accuracy in 2 epochs, against 67% for plain SGD.", _race_numbers),
)
def _distances(runs, key: str) -> dict:
    return {name: final_distance(path, SURFACES[key]) for name, path in runs["surfaces"][key].items()}


def _bowl_notice_holds(runs) -> bool:
    distance, momentum = _distances(runs, "bowl"), runs["surfaces"]["bowl"]["momentum"]
    return (0.5 < distance["sgd"] < 0.7  # "about 0.6"
            and all(distance[name] < 0.1 for name in ("momentum", "nesterov", "rmsprop", "adam"))
            and momentum.points[:, 0].max() > 0.5  # overshoots the minimum at x = 0, then swings back
            and distance["adagrad"] > 1.0)


def _rosenbrock_notice_holds(runs) -> bool:
    distance = _distances(runs, "rosenbrock")
    # "Into the valley": within 0.2 of its floor y = x^2, within 5 steps.
    into_valley = all(int(np.argmax(np.abs(path.points[:, 1] - path.points[:, 0] ** 2) < 0.2)) <= 5
                      for path in runs["surfaces"]["rosenbrock"].values())
    return (into_valley and distance["sgd"] > 1.0 and distance["adagrad"] > 1.0
            and distance["momentum"] < 0.05 and distance["adam"] < 0.25)


def _saddle_notice_holds(runs) -> bool:
    steps = {name: _first_step_off_the_ridge(path) for name, path in runs["surfaces"]["saddle"].items()}
    return (steps["rmsprop"] <= 10 and steps["adam"] <= 10 and 10 < steps["momentum"] <= 20  # "about 15"
            and 35 <= steps["sgd"] <= 45)  # "about 40"


# The surfaces' "what to notice" texts (Surface.notice, shown for the default settings) as claims.
SURFACE_CLAIMS = {
    "bowl": Claim(SURFACES["bowl"].notice, _bowl_notice_holds),
    "rosenbrock": Claim(SURFACES["rosenbrock"].notice, _rosenbrock_notice_holds),
    "saddle": Claim(SURFACES["saddle"].notice, _saddle_notice_holds),
}
CLAIMS = RACE_CLAIMS + ADAGRAD_CLAIMS + PRESET_CLAIMS + tuple(SURFACE_CLAIMS.values())
