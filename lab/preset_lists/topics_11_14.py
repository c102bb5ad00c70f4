"""Lecture presets for the topic pages 11-14 (clipping, optimizers, losses, practice).

Data only: widget key -> value, exactly as the widget takes it. Every preset sets
all the widgets of the experiments it runs, so it shows the same thing whatever
the student had moved before. The numbers in each `point` were measured on the
real Fashion-MNIST data and are checked by tests/test_pages_11_14.py.
"""

from lab.presets import Preset, preset

# The calculator's slide example, set by both clipping presets.
_SLIDE_CALCULATOR = {"clip_vector": "0.1, 10", "clip_calc_threshold": 1.0}

PRESETS: tuple[Preset, ...] = (
    preset(
        "clipping-by-norm", "Slide: clipping by norm", "clipping",
        "clipnorm=1 shrinks the gradient [0.1, 10] to [0.0099995, 0.99995] and keeps its direction (0 degrees; "
        "clipvalue turns it by 5.1 degrees). At learning rate 1.0 plain SGD diverges within 3 steps; the same run "
        "with clipnorm=0.5 trains to about 67% validation accuracy, with every step clipped.",
        **_SLIDE_CALCULATOR,
        clip_learning_rate=1.0, clip_mode="clipnorm", clip_threshold=0.5, clip_train_size=3_000, clip_epochs=2,
    ),
    preset(
        "clipping-by-value", "Slide: clipping by value", "clipping",
        "clipvalue=1 caps each component of [0.1, 10] at 1, giving [0.1, 1]: shorter, and turned by 5.1 degrees. "
        "At learning rate 0.5 plain SGD diverges within 14 steps; with clipvalue=0.1 the same run trains to about "
        "67% validation accuracy.",
        **_SLIDE_CALCULATOR,
        clip_learning_rate=0.5, clip_mode="clipvalue", clip_threshold=0.1, clip_train_size=3_000, clip_epochs=2,
    ),
    preset(
        "momentum-vs-adam", "Slide: momentum vs Adam", "optimizers",
        "On the saddle, Adam leaves the ridge within 6 steps, Momentum needs 16 and plain SGD 43. On Fashion-MNIST, "
        "from the same initial weights, Momentum reaches about 78% and Adam about 80% validation accuracy in 2 "
        "epochs, against 67% for plain SGD.",
        opt_surface="saddle", opt_optimizers=["sgd", "momentum", "adam"], opt_steps=100,
        opt_sgd_lr=0.1, opt_adaptive_lr=0.1, opt_momentum=0.9, opt_rho=0.9, opt_beta_1=0.9, opt_beta_2=0.999,
        opt_race_optimizers=["sgd", "momentum", "adam"], opt_race_train_size=2_000, opt_race_epochs=2,
    ),
    preset(
        "mse-vs-mae", "Slide: MSE vs MAE with outliers", "losses",
        "With 20 of 200 targets corrupted, the MSE line tilts from slope 0.63 to -0.39, towards the outliers, while "
        "the MAE line only moves from 0.68 to 0.52. The project's own Huber loss (delta 0.05) fits a slope of 0.49, "
        "with MAE.",
        loss_outliers=20, loss_delta=0.05, loss_custom_outliers=20,
    ),
    preset(
        "make-sgd-diverge", "Slide: make SGD diverge (exercise)", "practice",
        "At learning rate 3 plain SGD on the lecture's model diverges within 10 steps: the loss rises from 2.3 to "
        "about 1e13. The exercise's checker accepts it; students then find such a rate themselves.",
        practice_diverge_lr=3.0,
    ),
)
