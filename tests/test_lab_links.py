"""AppTest: every option of every Training Lab slider travels through a shared link and back.

Streamlit drops a link's value that equals a widget's own default (its value=, else its first
option or minimum) and leaves that value out of the URL. The lab's defaults live in session
state, so the lowest options (500 images, 1 epoch, batch 8, ...) were refused from a link
("not an allowed value") until each widget was given the lab's default as its own.
"""

import pytest

from lab.config import MAX_EPOCHS, OPTIMIZER_LABELS, OPTIMIZER_PARAMETERS, SETTINGS
from tests.apptest_links import open_in_app
from tests.conftest import first_everyday
from ui.lab_form import LAB_DEFAULT, LAB_OPTIONS, lab_widget_state

DEFAULTS = lab_widget_state(LAB_DEFAULT)
# The choices that make the conditional sliders appear: the initializer's spread, the clip threshold.
# Selectboxes travel as their labels.
SHOWING_ALL = {"lab_kernel_initializer": "random_normal", "lab_clip": SETTINGS["clip"].choice_labels["value"]}
GENERAL = ("train_size", "validation_size", "init_stddev", "clip_threshold", "batch_size", "early_stopping_patience")


def _text(name: str, option) -> str:
    """The option as the URL spells it: the slider's label, as a shared link carries it."""
    if name == "early_stopping_patience":
        return "off" if option == 0 else f"{option} epochs"
    if name in OPTIMIZER_PARAMETERS["adam"] + OPTIMIZER_PARAMETERS["rmsprop"] + OPTIMIZER_PARAMETERS["momentum"]:
        return "0 (off)" if option == 0 else f"{option:g}"
    return "all" if option == 0 else f"{option:,}" if isinstance(option, int) else f"{option:g}"


def _link(optimizer: str, index: int, epochs: int) -> tuple[dict, dict]:
    """A link that sets the `index`-th option (wrapping round) of every slider `optimizer` shows, and `epochs`.

    Returns:
        (the link's query, the widget values it must set, by key).
    """
    names = GENERAL + OPTIMIZER_PARAMETERS[optimizer]
    values = {f"lab_{name}": LAB_OPTIONS[name][index % len(LAB_OPTIONS[name])] for name in names}
    values["lab_epochs"] = epochs
    query = {**SHOWING_ALL, "lab_optimizer": OPTIMIZER_LABELS[optimizer], "lab_epochs": str(epochs)}
    query.update({key: _text(key.removeprefix("lab_"), value) for key, value in values.items() if key != "lab_epochs"})
    return query, values


def _assert_round_trip(query: dict, values: dict, reopen: bool = True) -> None:
    """The link sets every widget without a notice, the URL keeps every non-default value, and it opens the same."""
    app = open_in_app("training_lab.py", query)
    assert not any("could not be used" in warning.value for warning in app.warning), [w.value for w in app.warning]
    for key, value in values.items():
        assert app.session_state[key] == value, key
        # The address bar (and so the Share link) carries every value but the lab's defaults.
        assert app.query_params.get(key) == (None if value == DEFAULTS[key] else query[key]), key
    if not reopen:
        return  # the URL is the link itself, less its defaults: opening it again is the first check again
    shared = open_in_app("training_lab.py", dict(app.query_params))
    for key, value in values.items():
        assert shared.session_state[key] == value, key


def test_the_reported_link_with_the_lowest_options_is_taken(data_dir):
    app = open_in_app("training_lab.py", {"lab_train_size": "500", "lab_epochs": "1"})
    assert not any("not an allowed value" in warning.value for warning in app.warning)
    assert app.select_slider(key="lab_train_size").value == 500
    assert app.slider(key="lab_epochs").value == 1
    assert app.query_params["lab_train_size"] == "500" and app.query_params["lab_epochs"] == "1"


@pytest.mark.parametrize("optimizer", first_everyday("adam", "rmsprop", "momentum"))
def test_every_slider_at_its_lowest_option_round_trips(data_dir, optimizer):
    _assert_round_trip(*_link(optimizer, 0, epochs=1))


@pytest.mark.slow
def test_every_option_of_every_slider_round_trips(data_dir):
    # Adam shows the most sliders; RMSprop and momentum add rho and momentum. Link i sets option i
    # (wrapping round) of each, so the longest option list still to cover decides how many links there are.
    covered: set[str] = set()
    for optimizer in ("adam", "rmsprop", "momentum"):
        names = GENERAL + OPTIMIZER_PARAMETERS[optimizer]
        for index in range(max(len(LAB_OPTIONS[name]) for name in names if name not in covered)):
            _assert_round_trip(*_link(optimizer, index, epochs=(1, 2, 5, MAX_EPOCHS)[index % 4]), reopen=False)
        covered.update(names)
