"""Running `lab.training.train` from a page with a live progress bar and charts."""

from __future__ import annotations

import itertools

import streamlit as st

from lab.config import TrainConfig
from lab.plots import curves_figure

_chart_keys = itertools.count()


def _progress_text(progress) -> str:
    eta = progress.eta_seconds
    eta_text = f" - about {eta:.0f} s left" if eta is not None else ""
    epoch = min(progress.epoch + 1, progress.epochs)
    return f"Epoch {epoch}/{progress.epochs} - step {progress.step:,}/{progress.total_steps:,}{eta_text}"


def train_live(config: TrainConfig, dataset, should_stop=None):
    """Train with a progress bar and live loss/accuracy charts; returns the TrainResult.

    Args:
        config: the run to train.
        dataset: the shared Dataset.
        should_stop: optional callable polled by the trainer.
    Returns:
        the lab.training.TrainResult.
    """
    from lab.training import train  # TensorFlow loads on the first training, not on page open

    bar = st.progress(0.0, text="Building the model and its graph...")
    left, right = st.columns(2)
    loss_slot, accuracy_slot = left.empty(), right.empty()

    def on_progress(progress) -> None:
        # Every st.* call here is also where Streamlit notices a rerun and stops us.
        bar.progress(progress.fraction, text=_progress_text(progress))
        for slot, metric in ((loss_slot, "loss"), (accuracy_slot, "accuracy")):
            slot.plotly_chart(curves_figure(progress.history, progress.step_log, metric),
                              key=f"live_{metric}_{next(_chart_keys)}")

    result = train(config, dataset, on_progress=on_progress, should_stop=should_stop)
    bar.progress(1.0, text=f"Done: {result.stop_detail}")
    loss_slot.empty()
    accuracy_slot.empty()
    return result
