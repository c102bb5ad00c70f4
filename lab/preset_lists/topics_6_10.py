"""Lecture presets for topic pages 6-10 (learning rate, decay, initialisation, gradients, batch norm).

Data: widget key -> value, exactly as the page's widgets take them. A preset's point that states
an outcome is the text of a declared claim of its topic module (lab.claims), checked on the real data
by tests/lab/test_claims.py; those modules import no TensorFlow. A preset
runs every experiment of its page once (both sections where a page has two), so
each preset also sets the second section's widgets when that matters. The
settings are small on purpose: the first student to open a preset waits a few
seconds, everyone after gets the server's cached result at once.
"""

from lab.presets import Preset, preset
from lab.topics import batch_norm, decay, gradients, initialisation, learning_rate

PRESETS: tuple[Preset, ...] = (
    preset(
        "lr-too-large", "Slide: learning rate too large", "learning-rate",
        f"Both runs start from the same weights. {learning_rate.DIVERGES.text} {learning_rate.LEARNS.text} "
        f"{learning_rate.GOOD_REGION.text}",
        lr_rates=[0.1, 1.0], lr_train_size=2_000, lr_batch_size=32, lr_epochs=2,
    ),
    preset(
        "lr-range-test", "Slide: learning-rate range test", "learning-rate",
        "One short run with a rate growing every step, its loss plotted against the rate. "
        + " ".join(claim.text for claim in (learning_rate.GOOD_REGION, learning_rate.CRAWLS, learning_rate.LEARNS,
                                            learning_rate.DIVERGES)),
        lr_rates=[1e-4, 0.1, 1.0], lr_train_size=2_000, lr_batch_size=32, lr_epochs=2,
        lr_range_min=1e-5, lr_range_max=10.0, lr_range_steps=300,
    ),
    preset(
        "lr-decay", "Slide: learning-rate decay", "decay",
        "Both runs start with the large rate 0.3; with decay 0.01 per step it shrinks to about a third within "
        f"the 189 steps. {decay.RUN_CLAIMS[0].text}",
        decay_learning_rate=0.3, decay_rate=1e-2, decay_epochs=3, decay_horizon="this page's run",
    ),
    preset(
        "decay-slides", "Slide: SGD(lr=0.01, decay=1e-4)", "decay",
        "The slides' decay=1e-4 is invisible in a few hundred steps and reaches 1/6 of the rate only after "
        "30 epochs of the full data (51,570 steps); Keras 3 ignores decay= altogether.",
        decay_learning_rate=0.01, decay_rate=1e-4, decay_epochs=1,
        decay_horizon="30 epochs of the full data (51,570 steps)",
    ),
    preset(
        "zero-init", "Slide: zero initialisation", "initialisation",
        f"{initialisation.ZERO_CLAIM.text} {initialisation.RANDOM_CLAIM.text}",
        init_initialisers=list(initialisation.INITIALISERS), init_activation="relu", init_stddev=0.05, init_epochs=3,
    ),
    preset(
        "vanishing-gradients", "Slide: vanishing gradients", "gradients",
        " ".join(claim.text for claim in gradients.DEFAULT_CLAIMS),
        grad_depth=10, grad_activation="sigmoid", grad_init_stddev=0.1, grad_batch_norm=True,
    ),
    preset(
        "exploding-gradients", "Slide: exploding gradients", "gradients",
        gradients.EXPLODING_CLAIM.text,
        grad_depth=10, grad_activation="tanh", grad_init_stddev=1.0, grad_batch_norm=True,
    ),
    preset(
        "batch-norm", "Slide: batch normalisation", "batch-norm",
        f"{batch_norm.PLACEMENT_CLAIMS[0].text} Each step does more work, and at test time the layer uses its "
        "moving statistics.",
        bn_placements=["none", "before"], bn_target=0.78, bn_epochs=4, bn_stats_images=5_000,
    ),
)
