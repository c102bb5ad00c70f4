"""Lecture presets for topic pages 1-5 (data, model, inputs and outputs, splits, backprop).

Data only: each preset names its page's URL path and sets widgets by key to
values exactly as the widget takes them. Opening one runs the page's experiment,
which every page caches per server, so only the first click of a lecture trains.
"""

from lab.presets import Preset, preset

PRESETS: tuple[Preset, ...] = (
    preset(
        "data-drop-in", "Slide: Fashion-MNIST is a drop-in replacement for MNIST", "data",
        "Same shapes, same code, the same 266,610-parameter model: only the dataset's name changes. The digits "
        "are the easier task: MNIST scores about 84% where Fashion-MNIST scores about 77%.",
        data_class=7, data_split="train", data_train_size=4_000, data_epochs=3,
    ),
    preset(
        "model-linear-collapse", "Slide: why the hidden layers need a non-linear activation", "model",
        "Without an activation the 300/100 MLP multiplies out to one 784 x 10 matrix and scores like a single "
        "softmax layer (both about 84.3%); with relu it pulls ahead (about 86.2%).",
        model_units_1=300, model_units_2=100, model_train_size=10_000, model_epochs=6,
    ),
    preset(
        "io-classification", "Slide: output layer for classification", "inputs-outputs",
        "10 softmax units with sparse categorical cross-entropy: about 82% right, against 10% for guessing.",
        io_task="classification", io_train_size=10_000, io_epochs=4,
    ),
    preset(
        "io-regression", "Slide: output layer for regression", "inputs-outputs",
        "One linear unit with MSE predicts each image's mean brightness about four times more closely "
        "(mean error about 0.025) than always guessing the mean brightness (about 0.105).",
        io_task="regression", io_train_size=10_000, io_epochs=4,
    ),
    preset(
        "io-bounding-box", "Slide: output layer for a bounding box", "inputs-outputs",
        "Four linear units (x, y, width, height) with MSE: the predicted boxes overlap the true ones better "
        "(mean IoU about 0.80) than always predicting the mean box (about 0.67).",
        io_task="box", io_train_size=10_000, io_epochs=4,
    ),
    preset(
        "splits-early-stopping", "Slide: overfitting and early stopping", "splits",
        "On 500 images the training accuracy runs to almost 100% while validation stalls near 81% and its loss "
        "turns up after epoch 10; early stopping with patience 3 stops after epoch 13 and restores epoch 10.",
        splits_fit_train_size=500, splits_fit_epochs=40, splits_fit_patience=3, splits_patience_scrub=3,
    ),
    preset(
        "splits-test-set-tuning", "Slide: never tune on the test set", "splits",
        "Eight identical models differing only in their seed: the one picked on 100 test images reports about "
        "3 points more than it scores on fresh images; the one picked on the validation set does not.",
        splits_candidates=8, splits_tuning_size=100,
    ),
    preset(
        "backprop-one-step", "Slide: backpropagation, one step on a mini-batch", "backprop",
        "Forward pass, loss, gradients layer by layer, update: with learning rate 0.01 one SGD step lowers the "
        "batch's loss (from about 2.38 to 2.31).",
        backprop_learning_rate=0.01, backprop_batch_seed=0, backprop_model_seed=42, backprop_layer="hidden_1",
    ),
    preset(
        "backprop-overshoot", "Slide: a step that is too large overshoots", "backprop",
        "The same batch, the same gradients, learning rate 10: the step overshoots and the batch's loss jumps "
        "from about 2.4 to a few hundred.",
        backprop_learning_rate=10.0, backprop_batch_seed=0, backprop_model_seed=42, backprop_layer="output",
    ),
)
