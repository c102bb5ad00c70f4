"""The registry of lecture presets: one data-only module per group of pages (no TensorFlow imports here)."""

from __future__ import annotations

from typing import Optional, Sequence

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


def presets_by_page(presets: Sequence[Preset], page_order: Sequence[str]) -> list[tuple[str, list[Preset]]]:
    """Group presets by their page, pages in the given (lecture) order, each page's presets in list order.

    Args:
        presets: the presets.
        page_order: url_paths of the pages, first to last.
    Returns:
        (url_path, presets) pairs for the pages that have presets.
    """
    groups = [(page, [item for item in presets if item.page == page]) for page in page_order]
    return [(page, items) for page, items in groups if items]


def split_in_two(groups: Sequence) -> tuple[list, list]:
    """Split groups into a first and a second half of about equally many items, keeping their order.

    Args:
        groups: (key, items) pairs.
    Returns:
        the groups of the first half and of the second half.
    """
    total = sum(len(items) for _, items in groups)
    first, count = [], 0
    for group in groups:
        if count >= total / 2:
            break
        first.append(group)
        count += len(group[1])
    return first, list(groups[len(first):])
