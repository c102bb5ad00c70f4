"""Lecture presets for topic pages 6-10 (learning rate, decay, initialisation, gradients, batch norm).

Data only: widget key -> value, exactly as the page's widgets take them. A preset
runs every experiment of its page once (both sections where a page has two), so
each preset also sets the second section's widgets when that matters. The
settings are small on purpose: the first student to open a preset waits a few
seconds, everyone after gets the server's cached result at once.
"""

from lab.presets import Preset, preset

PRESETS: tuple[Preset, ...] = (
    preset(
        "lr-too-large", "Slide: learning rate too large", "learning-rate",
        "From the same start, lr=1 makes the loss explode within a few steps and the run is stopped, "
        "while lr=0.1 learns; the range test below shows 1 lies beyond the good region.",
        lr_rates=[0.1, 1.0], lr_train_size=2_000, lr_batch_size=32, lr_epochs=2,
    ),
    preset(
        "lr-range-test", "Slide: learning-rate range test", "learning-rate",
        "One short run with a rate growing every step: the loss is flat for tiny rates, falls in the good "
        "region and explodes beyond it. The three compared rates crawl, learn and diverge.",
        lr_rates=[1e-4, 0.1, 1.0], lr_train_size=2_000, lr_batch_size=32, lr_epochs=2,
        lr_range_min=1e-5, lr_range_max=10.0, lr_range_steps=300,
    ),
    preset(
        "lr-decay", "Slide: learning-rate decay", "decay",
        "Both runs start with the large rate 0.3; with decay 0.01 per step it shrinks to about a third within "
        "the 189 steps, the loss stops bouncing and the validation loss ends lower than with the constant rate.",
        decay_learning_rate=0.3, decay_rate=1e-2, decay_epochs=3, decay_horizon="this page's run",
    ),
    preset(
        "decay-slides", "Slide: SGD(lr=0.01, decay=1e-4)", "decay",
        "The slides' decay=1e-4 is invisible in a few hundred steps and reaches 1/6 of the rate only after "
        "the slides' 30 epochs (51,570 steps); Keras 3 ignores decay= altogether.",
        decay_learning_rate=0.01, decay_rate=1e-4, decay_epochs=1, decay_horizon="the slides' 30 epochs",
    ),
    preset(
        "zero-init", "Slide: zero initialisation", "initialisation",
        "With all-zero kernels the 300 neurons of hidden_1 stay one neuron and the accuracy stays at chance "
        "(about 10%); Glorot's random kernels give 300 different neurons and train.",
        init_initialisers=["zeros", "glorot_uniform"], init_activation="relu", init_epochs=2,
    ),
    preset(
        "vanishing-gradients", "Slide: vanishing gradients", "gradients",
        "In 10 sigmoid layers the first layer's gradient is orders of magnitude smaller than the output "
        "layer's and the network stays near chance; batch normalisation evens the layers out and it learns.",
        grad_depth=10, grad_activation="sigmoid", grad_init_stddev=0.1, grad_batch_norm=True,
    ),
    preset(
        "exploding-gradients", "Slide: exploding gradients", "gradients",
        "With tanh and large initial weights (stddev 1) the first layer's gradient is over 100 times the "
        "output layer's: it explodes towards the input. Batch normalisation brings the ratio back near 1.",
        grad_depth=10, grad_activation="tanh", grad_init_stddev=1.0, grad_batch_norm=True,
    ),
    preset(
        "batch-norm", "Slide: batch normalisation", "batch-norm",
        "With batch norm before the activation the model reaches 78% validation accuracy by epoch 2; without it, "
        "not within 4 epochs. Each step costs more, and at test time the layer uses its moving statistics.",
        bn_placements=["none", "before"], bn_target=0.78, bn_epochs=4, bn_stats_images=5_000,
    ),
)
