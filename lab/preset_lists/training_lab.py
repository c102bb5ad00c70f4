"""Lecture presets for the Training Lab. Data only: widget key -> value."""

from lab.presets import Preset, preset

PRESETS: tuple[Preset, ...] = (
    preset(
        "lab-lecture-model", "Slide: the lecture's model with SGD", "training-lab",
        "SGD at learning rate 0.01 with mini-batches of 32 learns steadily: about 73% validation accuracy "
        "after one epoch and 78% after five, on 10,000 training images.",
        lab_optimizer="sgd", lab_learning_rate=0.01, lab_batch_size=32, lab_train_size=10_000, lab_epochs=5,
        lab_seed=42,
    ),
    preset(
        "lab-adam", "Slide: Adam on the lecture's model", "training-lab",
        "The same model, data and seed with Adam at learning rate 0.001: about 86% test accuracy against "
        "SGD's 78%.",
        lab_optimizer="adam", lab_learning_rate=1e-3, lab_batch_size=32, lab_train_size=10_000, lab_epochs=5,
        lab_seed=42,
    ),
)
