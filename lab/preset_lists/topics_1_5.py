"""Lecture presets for topic pages 1-5 (data, model, inputs and outputs, splits, backprop).

Data only: each preset names its page's URL path and sets widgets by key to
values exactly as the widget takes them. Opening one runs the page's experiment,
which every page caches per server, so only the first click of a lecture trains.
"""

from lab.presets import Preset, preset

PRESETS: tuple[Preset, ...] = (
    preset(
        "data-drop-in", "Slide: Fashion-MNIST is a drop-in replacement for MNIST", "data",
        "Same shapes, same code, same 266,610-parameter model: only the dataset's name changes, and the "
        "digits are the easier task (MNIST scores higher than Fashion-MNIST).",
        data_class=7, data_split="train", data_train_size=4_000, data_epochs=3,
    ),
    preset(
        "model-linear-collapse", "Slide: why the hidden layers need a non-linear activation", "model",
        "Without an activation the 300/100 MLP multiplies out to one 784 x 10 matrix and scores like a single "
        "softmax layer; with relu it beats both.",
        model_units_1=300, model_units_2=100, model_train_size=10_000, model_epochs=6,
    ),
    preset(
        "io-classification", "Slide: output layer for classification", "inputs-outputs",
        "10 softmax units with sparse categorical cross-entropy: far above the 10% of guessing.",
        io_task="classification", io_train_size=10_000, io_epochs=4,
    ),
    preset(
        "io-regression", "Slide: output layer for regression", "inputs-outputs",
        "One linear unit with MSE predicts each image's mean brightness far better than always guessing the mean.",
        io_task="regression", io_train_size=10_000, io_epochs=4,
    ),
    preset(
        "io-bounding-box", "Slide: output layer for a bounding box", "inputs-outputs",
        "Four linear units (x, y, width, height) with MSE: the predicted boxes overlap the true ones far more "
        "than the mean box does.",
        io_task="box", io_train_size=10_000, io_epochs=4,
    ),
    preset(
        "splits-early-stopping", "Slide: overfitting and early stopping", "splits",
        "On 500 images the training accuracy runs to 100% while validation stalls and its loss turns up; "
        "early stopping with patience 3 ends the run and restores the best epoch.",
        splits_fit_train_size=500, splits_fit_epochs=40, splits_fit_patience=3, splits_patience_scrub=3,
    ),
    preset(
        "splits-test-set-tuning", "Slide: never tune on the test set", "splits",
        "Eight identical models differing only in their seed: the one picked on 200 test images reports a "
        "better accuracy than it has on fresh images; the one picked on validation does not.",
        splits_candidates=8, splits_tuning_size=200,
    ),
    preset(
        "backprop-one-step", "Slide: backpropagation, one step on a mini-batch", "backprop",
        "Forward pass, loss, gradients layer by layer, update: with learning rate 0.01 one SGD step lowers the "
        "batch's loss.",
        backprop_learning_rate=0.01, backprop_batch_seed=0, backprop_model_seed=42, backprop_layer="hidden_1",
    ),
    preset(
        "backprop-overshoot", "Slide: a step that is too large overshoots", "backprop",
        "The same batch, the same gradients, learning rate 10: the step overshoots and the batch's loss goes up.",
        backprop_learning_rate=10.0, backprop_batch_seed=0, backprop_model_seed=42, backprop_layer="output",
    ),
)
