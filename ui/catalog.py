"""The app's pages in one table: file, title, icon, URL path and widget-key prefix.

app.py builds the navigation from it, the Home page builds its preset links
from it, and the link checker knows each page's settings by their prefix.
"""

from __future__ import annotations

from typing import NamedTuple


class PageSpec(NamedTuple):
    file: str  # script path relative to the project root
    title: str
    icon: str  # a Material icon name
    url_path: str  # the page's address, e.g. /learning-rate
    prefix: str  # every settings widget on the page has a key starting with this
    section: str


PAGES = (
    PageSpec("app_pages/home.py", "Home", "home", "", "", "Start"),
    PageSpec("app_pages/training_lab.py", "Training Lab", "model_training", "training-lab", "lab_", "Start"),
    PageSpec("app_pages/01_data.py", "The data", "image", "data", "data_", "Lecture topics"),
    PageSpec("app_pages/02_model.py", "Model and activations", "account_tree", "model", "model_", "Lecture topics"),
    PageSpec("app_pages/03_inputs_outputs.py", "Inputs and outputs", "input", "inputs-outputs", "io_", "Lecture topics"),
    PageSpec("app_pages/04_splits.py", "Train, validation, test", "call_split", "splits", "splits_", "Lecture topics"),
    PageSpec("app_pages/05_backprop.py", "Backprop on a mini-batch", "undo", "backprop", "backprop_", "Lecture topics"),
    PageSpec("app_pages/06_learning_rate.py", "SGD and the learning rate", "speed", "learning-rate", "lr_",
             "Lecture topics"),
    PageSpec("app_pages/07_decay.py", "Learning-rate decay", "trending_down", "decay", "decay_", "Lecture topics"),
    PageSpec("app_pages/08_initialisation.py", "Initialisation", "grid_on", "initialisation", "init_",
             "Lecture topics"),
    PageSpec("app_pages/09_gradients.py", "Vanishing and exploding gradients", "show_chart", "gradients", "grad_",
             "Lecture topics"),
    PageSpec("app_pages/10_batch_norm.py", "Batch normalisation", "equalizer", "batch-norm", "bn_", "Lecture topics"),
    PageSpec("app_pages/11_clipping.py", "Gradient clipping", "content_cut", "clipping", "clip_", "Lecture topics"),
    PageSpec("app_pages/12_optimizers.py", "Faster optimizers", "rocket_launch", "optimizers", "opt_",
             "Lecture topics"),
    PageSpec("app_pages/13_losses.py", "Loss functions", "functions", "losses", "loss_", "Lecture topics"),
    PageSpec("app_pages/14_practice.py", "Practice", "school", "practice", "practice_", "Practice"),
)


def by_url_path(url_path: str) -> PageSpec | None:
    """The page with this URL path ("" is Home).

    Args:
        url_path: as in st.Page.url_path.
    Returns:
        the PageSpec or None.
    """
    return next((page for page in PAGES if page.url_path == url_path), None)
