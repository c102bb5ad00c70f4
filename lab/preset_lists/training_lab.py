"""Lecture presets for the training lab page(s). Data only: widget key -> value."""

from lab.presets import Preset, preset

PRESETS: tuple[Preset, ...] = ()
