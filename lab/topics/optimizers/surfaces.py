"""The 2-D loss surfaces, the optimizers' settings and paths, and the update equations with live values.

Plain NumPy: nothing here imports Keras, so the page can describe a path the worker computed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from lab.config import OPTIMIZER_LABELS, OPTIMIZERS, TrainConfig, float_literal
from lab.plots import setting_color

__all__ = [  # what the package re-exports
    "LABELS", "OPTIMIZER_COLORS", "ADAPTIVE", "ESCAPE_LIMIT", "REFERENCE_STEP", "Surface", "SURFACES",
    "OptimizerSettings", "Trajectory", "final_distance", "summary_frame", "EQUATIONS", "KERAS_NOTES",
    "live_values", "live_equations", "trajectory_code",
]


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
    notice: str  # what to notice with the default settings (tested in tests/lab/topics/test_optimizers.py)


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
