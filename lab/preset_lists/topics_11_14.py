"""Lecture presets for the topic pages 11-14 (clipping, optimizers, losses, practice).

Data only: widget key -> value, exactly as the widget takes it. Every preset sets
all the widgets of the experiments it runs, so it shows the same thing whatever
the student had moved before. The numbers in each `point` were measured on the
real Fashion-MNIST data and are checked by tests/test_pages_11_14.py; where a point
is a declared claim of its topic module (lab.claims), also by tests/lab/test_claims.py.
"""

from lab.presets import Preset, preset
from lab.topics import clipping, losses, optimizers, practice

# The calculator's slide example, set by both clipping presets.
_SLIDE_CALCULATOR = {"clip_vector": "0.1, 10", "clip_calc_threshold": 1.0}

PRESETS: tuple[Preset, ...] = (
    preset(
        "clipping-by-norm", "Slide: clipping by norm", "clipping",
        "clipnorm=1 shrinks the gradient [0.1, 10] to [0.0099995, 0.99995] and keeps its direction (0 degrees; "
        f"clipvalue turns it by 5.1 degrees). {clipping.PRESET_CLAIMS[0].text}",
        **_SLIDE_CALCULATOR,
        clip_learning_rate=1.0, clip_mode="clipnorm", clip_threshold=0.5, clip_train_size=3_000, clip_epochs=2,
    ),
    preset(
        "clipping-by-value", "Slide: clipping by value", "clipping",
        "clipvalue=1 caps each component of [0.1, 10] at 1, giving [0.1, 1]: shorter, and turned by 5.1 degrees. "
        + clipping.PRESET_CLAIMS[1].text,
        **_SLIDE_CALCULATOR,
        clip_learning_rate=0.5, clip_mode="clipvalue", clip_threshold=0.1, clip_train_size=3_000, clip_epochs=2,
    ),
    preset(
        "momentum-vs-adam", "Slide: momentum vs Adam", "optimizers",
        " ".join(claim.text for claim in optimizers.PRESET_CLAIMS),
        opt_surface="saddle", opt_optimizers=["sgd", "momentum", "adam"], opt_steps=100,
        opt_sgd_lr=0.1, opt_adaptive_lr=0.1, opt_momentum=0.9, opt_rho=0.9, opt_beta_1=0.9, opt_beta_2=0.999,
        opt_race_optimizers=["sgd", "momentum", "adam"], opt_race_train_size=2_000, opt_race_epochs=2,
    ),
    preset(
        "mse-vs-mae", "Slide: MSE vs MAE with outliers", "losses",
        losses.PRESET_CLAIM.text,
        loss_outliers=20, loss_delta=0.05, loss_custom_outliers=20,
    ),
    preset(
        "make-sgd-diverge", "Slide: make SGD diverge (exercise)", "practice",
        practice.DIVERGE_CLAIM.text + " The exercise's checker accepts it; students then find such a rate themselves.",
        practice_diverge_lr=3.0,
    ),
)
