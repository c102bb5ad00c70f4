"""The registry of lecture presets: one data-only module per group of pages (no TensorFlow imports here)."""

from __future__ import annotations

from typing import Optional

from lab.preset_lists import topics_1_5, topics_6_10, topics_11_14, training_lab
from lab.presets import Preset


def all_presets() -> tuple[Preset, ...]:
    """Every preset, in lecture order (Training Lab first, then the topic pages).

    Returns:
        a tuple of Presets with unique slugs.
    """
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
