"""The Training Lab's widgets ("lab_*" keys in session state) and the TrainConfig they describe.

Both directions, so that presets, the same-seed A/B and shareable links can set
the widgets from a config. The widgets' options and labels come from
`lab.config.SETTINGS`.
"""

from __future__ import annotations

import math
import re
from typing import Any, Mapping

import streamlit as st

from lab.config import ALL_IMAGES, PATIENCE_OFF, SETTINGS, TrainConfig

LINK_CHECKED_KEY = "training_lab_link_checked"  # the session's Training Lab has looked for its link's result
LINK_NOTE = "Opened from a link whose settings this server had already trained: shown at once, nothing was trained."


def keep_linked_result(runs, dataset_of):
    """On a session's first Training Lab run from a link with lab_* settings: keep that result if it is cached.

    A shared link of a configuration someone already trained shows its result at once, like a
    preset, but a link never trains: a configuration not in the server's result cache waits for Train.
    Call after the form's widgets exist, so the session state holds the link's values.

    Args:
        runs: the session's lab.runs.RunHistory.
        dataset_of: returns the shared Dataset of a dataset name (for the test labels).
    Returns:
        the new RunRecord, or None.
    """
    from lab.admission import TRAINING
    from lab.runs import record_from_result

    if st.session_state.get(LINK_CHECKED_KEY):
        return None
    st.session_state[LINK_CHECKED_KEY] = True
    if not any(key.startswith(LAB_PREFIX) for key in st.query_params):
        return None
    try:
        config = config_from_lab_state(st.session_state)
    except ValueError:
        return None  # the form says what is wrong when Train is pressed
    if any(record.config == config for record in runs.records):
        return None
    served = TRAINING.cached(config)
    if served is None:
        return None
    record = record_from_result(served.result, runs.new_id(), dataset_of(config.dataset).y_test,
                                source=served.source, note=LINK_NOTE)
    runs.add(record)
    return record


# ----------------------------------------------------------------------
# Widgets <-> TrainConfig
# ----------------------------------------------------------------------
# The fast default: a 10k stratified subset, 5 epochs (a few seconds with SGD).
LAB_DEFAULT = TrainConfig(train_size=10_000, epochs=5)
LAB_PREFIX = "lab_"
# The form's widgets come from lab.config.SETTINGS: a select slider over a field's options,
# or a free widget (a selectbox, a number, a text field) for the other fields of the form.
LAB_OPTIONS: dict[str, tuple] = {name: setting.options for name, setting in SETTINGS.items() if setting.options}
FREE_FIELDS = tuple(name for name, setting in SETTINGS.items() if setting.in_form and not setting.options)
LAB_FIELDS = tuple(LAB_OPTIONS) + FREE_FIELDS


def lab_key(field_name: str) -> str:
    """The session-state key of a field's widget, e.g. "lab_learning_rate".

    Args:
        field_name: a TrainConfig field.
    Returns:
        the key.
    """
    return LAB_PREFIX + field_name


def snap(value: Any, options: tuple) -> Any:
    """The option nearest to `value` (on a log scale for positive numbers).

    Args:
        value: a number.
        options: the widget's options.
    Returns:
        one of the options.
    """
    if value in options:
        return value

    def distance(option):
        if option > 0 and value > 0:
            return abs(math.log(option) - math.log(value))
        return abs(option - value) + 1e6  # zero only when nothing positive is near

    return min(options, key=distance)


def parse_hidden_units(text: str) -> tuple[int, ...]:
    """Read "300, 100" as (300, 100); only whole numbers separated by commas or spaces.

    Args:
        text: what the user typed.
    Returns:
        a tuple of ints (TrainConfig checks their range).
    """
    parts = [part for part in re.split(r"[,\s;]+", str(text).strip()) if part]
    if not parts or not all(part.isdigit() for part in parts):
        raise ValueError(f"Hidden layers: write whole numbers separated by commas, e.g. 300, 100 (got {text!r}).")
    return tuple(int(part) for part in parts)


def lab_widget_state(config: TrainConfig) -> dict[str, Any]:
    """The Training Lab's widget values that show `config` (numbers snapped to the options).

    Args:
        config: any valid TrainConfig.
    Returns:
        dict from "lab_*" key to widget value.
    """
    values = config.to_dict()
    values["train_size"] = config.train_size or ALL_IMAGES
    values["early_stopping_patience"] = config.early_stopping_patience or PATIENCE_OFF
    values["hidden_units"] = ", ".join(map(str, config.hidden_units))
    state = {}
    for name in LAB_FIELDS:
        value = values[name]
        if name in LAB_OPTIONS:
            value = snap(value, LAB_OPTIONS[name])
        state[lab_key(name)] = value
    return state


def config_from_lab_state(state: Mapping[str, Any]) -> TrainConfig:
    """The TrainConfig the Training Lab's widgets describe, canonical and with its step-log length chosen.

    Args:
        state: session state (or any mapping) holding "lab_*" values; missing keys take LAB_DEFAULT's.
    Returns:
        a validated TrainConfig (ValueError with a clear message otherwise).
    """
    defaults = lab_widget_state(LAB_DEFAULT)
    values = {name: state.get(lab_key(name), defaults[lab_key(name)]) for name in LAB_FIELDS}
    values["hidden_units"] = parse_hidden_units(values["hidden_units"])
    values["train_size"] = values["train_size"] or None
    values["early_stopping_patience"] = values["early_stopping_patience"] or None
    return TrainConfig(**values).canonical().with_log_points()


def apply_lab_config(config: TrainConfig) -> None:
    """Set the Training Lab's widgets to show `config`; call from a button's on_click callback.

    Args:
        config: the settings to show.
    """
    for key, value in lab_widget_state(config).items():
        st.session_state[key] = value


def init_lab_widgets() -> None:
    """Give every Training Lab widget its default value unless it already has one."""
    for key, value in lab_widget_state(LAB_DEFAULT).items():
        st.session_state.setdefault(key, value)
