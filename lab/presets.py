"""Lecture presets: one link per slide that opens a page set up to make the slide's point.

A preset names a page (its URL path) and the values of that page's widgets, by
widget key. Opening `?preset=<slug>` on that page sets the widgets and runs the
experiment at once; the result comes from the server's cache when any student
has already run it, so during a lecture only the first click trains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Optional


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


def all_presets() -> tuple[Preset, ...]:
    """Every preset, in lecture order (Training Lab first, then the topic pages).

    Returns:
        a tuple of Presets with unique slugs.
    """
    from lab.preset_lists import topics_1_5, topics_6_10, topics_11_14, training_lab

    presets = training_lab.PRESETS + topics_1_5.PRESETS + topics_6_10.PRESETS + topics_11_14.PRESETS
    slugs = [item.slug for item in presets]
    duplicates = sorted({slug for slug in slugs if slugs.count(slug) > 1})
    if duplicates:
        raise ValueError(f"preset slugs must be unique; repeated: {', '.join(duplicates)}")
    return presets


def by_slug(slug: Optional[str]) -> Optional[Preset]:
    """The preset with this slug.

    Args:
        slug: the `preset` query parameter, possibly None or unknown.
    Returns:
        the Preset, or None.
    """
    return next((item for item in all_presets() if item.slug == slug), None)
