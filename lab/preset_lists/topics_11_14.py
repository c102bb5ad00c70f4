"""Lecture presets for the topics 11 14 page(s). Data only: widget key -> value."""

from lab.presets import Preset, preset

PRESETS: tuple[Preset, ...] = ()
