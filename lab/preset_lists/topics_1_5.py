"""Lecture presets for topic pages 1-5 (data, model, inputs and outputs, splits, backprop).

Data only: each preset names its page's URL path and sets widgets by key to
values exactly as the widget takes them. Opening one runs the page's experiment,
which every page caches per server, so only the first click of a lecture trains.
A preset's outcome sentence is the text of a declared claim of its topic module
(lab.claims), so tests/lab/test_claims.py checks it on the real data; the rest of
each `point` describes the setup.
"""

from lab.presets import Preset, preset
from lab.topics import architecture, backprop, data_explorer, outputs, splits

PRESETS: tuple[Preset, ...] = (
    preset(
        "data-drop-in", "Slide: Fashion-MNIST is a drop-in replacement for MNIST", "data",
        "Same shapes, same code, the same 266,610-parameter model: only the dataset's name changes. "
        + data_explorer.EASIER_CLAIM.text,
        data_class=7, data_split="train", data_train_size=data_explorer.DEFAULT_TRAIN_SIZE,
        data_epochs=data_explorer.DEFAULT_EPOCHS,
    ),
    preset(
        "model-linear-collapse", "Slide: why the hidden layers need a non-linear activation", "model",
        "Without an activation the 300/100 MLP multiplies out to one 784 x 10 matrix. "
        + architecture.HEADLINE_CLAIM.text,
        model_units_1=300, model_units_2=100, model_train_size=architecture.DEFAULT_TRAIN_SIZE,
        model_epochs=architecture.DEFAULT_EPOCHS,
    ),
    # One slide per output head, each stating its head's claim.
    *(preset(
        f"io-{slug}", f"Slide: output layer for {what}", "inputs-outputs", outputs.TASK_CLAIMS[task].text,
        io_task=task, io_train_size=outputs.DEFAULT_TRAIN_SIZE, io_epochs=outputs.DEFAULT_EPOCHS,
    ) for slug, what, task in (("classification", "classification", "classification"),
                               ("regression", "regression", "regression"),
                               ("bounding-box", "a bounding box", "box"))),
    preset(
        "splits-early-stopping", "Slide: overfitting and early stopping", "splits",
        "500 training images, 40 epochs. " + splits.SMALL_SUBSET_CLAIM.text
        + " Early stopping with patience 3 watches the validation loss and, when it stops, restores the best epoch's "
        "weights.",
        splits_fit_train_size=500, splits_fit_epochs=40, splits_fit_patience=3, splits_patience_scrub=3,
    ),
    preset(
        "splits-test-set-tuning", "Slide: never tune on the test set", "splits",
        "Eight identical models differing only in their seed, one picked on 100 test images and one on the "
        "validation set: compare each winner's reported accuracy with its accuracy on fresh test images. "
        + splits.TUNING_SIZE_CLAIM.text,
        splits_candidates=8, splits_tuning_size=100,
    ),
    preset(
        "backprop-one-step", "Slide: backpropagation, one step on a mini-batch", "backprop",
        "Forward pass, loss, gradients layer by layer, update. " + backprop.SMALL_STEP_CLAIM.text,
        backprop_learning_rate=0.01, backprop_batch_seed=backprop.DEFAULT_BATCH_SEED,
        backprop_model_seed=backprop.DEFAULT_MODEL_SEED, backprop_layer="hidden_1",
    ),
    preset(
        "backprop-overshoot", "Slide: a step that is too large overshoots", "backprop",
        "The same batch and the same gradients, learning rate 10. " + backprop.HUGE_STEP_CLAIM.text,
        backprop_learning_rate=10.0, backprop_batch_seed=backprop.DEFAULT_BATCH_SEED,
        backprop_model_seed=backprop.DEFAULT_MODEL_SEED, backprop_layer="output",
    ),
)
