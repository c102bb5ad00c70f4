"""The split itself: its sizes, class balance, and the checks for overlaps and duplicate images."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lab.data import Dataset, split_indices
from lab.plots import COLORS, TOPIC_LAYOUT as _LAYOUT

__all__ = [  # what the package re-exports
    "image_groups", "SplitReport", "split_report", "split_sizes_figure", "class_balance_figure", "pixel_twins",
]


# ----------------------------------------------------------------------
# The split and its checks
# ----------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def image_groups(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """An id per image such that pixel-identical images share it, for train and test.

    Args:
        dataset: a loaded Dataset (cached per dataset object).
    Returns:
        (train_ids, test_ids), int arrays aligned with x_train and x_test.
    """
    pixels = np.concatenate([dataset.x_train, dataset.x_test]).reshape(-1, 28 * 28)
    rows = np.ascontiguousarray(pixels).view(np.dtype((np.void, pixels.shape[1]))).ravel()
    _, ids = np.unique(rows, return_inverse=True)
    return ids[: len(dataset.x_train)], ids[len(dataset.x_train):]


@dataclass
class SplitReport:
    """Sizes, class balance and overlap checks of one split, as plain data."""

    sizes: dict[str, int]  # training, validation, unused, test
    class_counts: pd.DataFrame  # one row per class, one column per split
    overlaps: pd.DataFrame  # one row per pair of splits
    shared_indices: int  # positions that are both in training and validation (must be 0)

    @property
    def disjoint(self) -> bool:
        """Whether training and validation share no image index.

        Returns:
            True when the split is clean.
        """
        return self.shared_indices == 0


def split_report(dataset: Dataset, train_size: Optional[int], validation_size: int, seed: int) -> SplitReport:
    """Make the seeded split and check it: sizes, class balance, shared indices, identical images.

    Args:
        dataset: the shared dataset.
        train_size: training images kept (None = all not held out).
        validation_size: images held out of the training file for validation.
        seed: the split's seed.
    Returns:
        a SplitReport.
    """
    train_index, validation_index = split_indices(dataset.y_train, train_size, validation_size, seed)
    train_ids, test_ids = image_groups(dataset)
    groups = {"training": train_ids[train_index], "validation": train_ids[validation_index], "test": test_ids}
    pairs = (("training", "validation"), ("training", "test"), ("validation", "test"))
    shared = len(np.intersect1d(train_index, validation_index))
    # Positions only mean something inside one file; the test images come from another file.
    overlaps = pd.DataFrame([
        {
            "splits": f"{first} / {second}",
            "shared image positions": f"{shared:,}" if first == "training" and second == "validation"
            else "separate files",
            "pixel-identical images": int(np.isin(groups[second], groups[first]).sum()),
        }
        for first, second in pairs
    ])
    counts = {
        "training": np.bincount(dataset.y_train[train_index], minlength=dataset.num_classes),
        "validation": np.bincount(dataset.y_train[validation_index], minlength=dataset.num_classes),
        "test": np.bincount(dataset.y_test, minlength=dataset.num_classes),
    }
    class_counts = pd.DataFrame({"class": list(dataset.class_names), **counts})
    sizes = {
        "training": len(train_index), "validation": len(validation_index),
        "unused": len(dataset.y_train) - len(train_index) - len(validation_index), "test": len(dataset.y_test),
    }
    return SplitReport(sizes=sizes, class_counts=class_counts, overlaps=overlaps, shared_indices=shared)


def split_sizes_figure(report: SplitReport) -> go.Figure:
    """The training file cut into training, validation and unused images, and the test file.

    Args:
        report: a SplitReport.
    Returns:
        a Figure with one horizontal stacked Bar trace per part.
    """
    figure = go.Figure()
    parts = (("training", COLORS[0]), ("validation", COLORS[1]), ("unused", "#BBBBBB"), ("test", COLORS[2]))
    for name, color in parts:
        row = "test file" if name == "test" else "training file"
        figure.add_trace(go.Bar(
            y=[row], x=[report.sizes[name]], name=f"{name}: {report.sizes[name]:,}", orientation="h",
            marker_color=color, text=[f"{report.sizes[name]:,}"] if report.sizes[name] else None,
            textposition="inside",
        ))
    figure.update_layout(barmode="stack", title="Where every image goes", xaxis_title="images", height=300,
                         **{**_LAYOUT, "legend": dict(orientation="h", y=-0.45, traceorder="normal")})
    return figure


def class_balance_figure(report: SplitReport) -> go.Figure:
    """Share of each class in each split: a stratified split keeps them equal.

    Args:
        report: a SplitReport.
    Returns:
        a Figure with one Bar trace per split.
    """
    figure = go.Figure()
    frame = report.class_counts
    for index, split in enumerate(("training", "validation", "test")):
        shares = frame[split] / max(1, frame[split].sum())
        figure.add_trace(go.Bar(x=frame["class"], y=shares, name=split, marker_color=COLORS[index]))
    # The legend sits on top: rotated class names on a phone would run into it below.
    figure.update_layout(barmode="group", title="Class shares per split", xaxis_title="class", yaxis_title="share of the split",
                         **{**_LAYOUT, "legend": dict(orientation="h", y=1.0, yanchor="bottom", x=1, xanchor="right")})
    figure.update_yaxes(tickformat=".0%")
    return figure


def pixel_twins(dataset: Dataset) -> int:
    """How many test images are pixel-identical to some training image.

    Args:
        dataset: a loaded Dataset.
    Returns:
        the count.
    """
    train_ids, test_ids = image_groups(dataset)
    return int(np.isin(test_ids, train_ids).sum())
