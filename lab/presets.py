"""Lecture presets: one link per slide that opens a page set up to make the slide's point.

A preset names a page (its URL path) and the values of that page's widgets, by
widget key. Opening `?preset=<slug>` on that page sets the widgets and runs the
experiment at once; the result comes from the server's cache when any student
has already run it, so during a lecture only the first click trains.

This module holds the types; the registry of every preset (`all_presets`,
`by_slug`) is lab.preset_lists, whose modules import these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping


@dataclass(frozen=True)
class Preset:
    """One slide's experiment."""

    slug: str  # the URL value, e.g. "lr-too-large"
    title: str  # shown on the link, e.g. "Slide: learning rate too large"
    page: str  # the page's url_path in ui/catalog.py
    point: str  # one sentence: what students should see
    settings: Mapping[str, Any] = field(default_factory=dict)  # widget key -> value


def preset(slug: str, title: str, page: str, point: str, **settings: Any) -> Preset:
    """Build a Preset with a read-only settings mapping.

    Args:
        slug: URL value, e.g. "lr-too-large".
        title: link text, e.g. "Slide: learning rate too large".
        page: url_path of the page in ui/catalog.py.
        point: one sentence on what to see.
        **settings: widget key = value, as the page's widgets take them.
    Returns:
        the Preset.
    """
    return Preset(slug, title, page, point, MappingProxyType(settings))
