"""Opening a lecture preset: set the page's widgets, then run its experiment once."""

from __future__ import annotations

import streamlit as st

_RUN_KEY = "_preset_run"  # the slug whose experiment the page should run on this script run


def apply_requested(url_path: str, slot) -> None:
    """If the URL asks for a preset of this page, set its widgets and ask the page to run it.

    Args:
        url_path: the page about to run.
        slot: a container above the page for the preset's note.
    """
    slug = st.query_params.get("preset")
    if slug is None:
        return
    del st.query_params["preset"]  # a reload should not re-apply it over the user's changes
    # Imported here: the registry imports every topic module (about 0.6 s on a server's first script
    # run), which only a preset link needs; the first visit should start the training worker sooner.
    from lab.preset_lists import by_slug

    preset = by_slug(slug)
    if preset is None or preset.page != url_path:
        slot.warning(f"`preset={slug}` is not a preset of this page, so the page opens with its defaults.",
                     icon=":material/link_off:")
        return
    for key, value in preset.settings.items():
        st.session_state[key] = value
    st.session_state[_RUN_KEY] = preset.slug
    slot.info(f"**{preset.title}.** {preset.point}", icon=":material/slideshow:")


def run_requested() -> bool:
    """True once, on the script run where a preset asked the page to run its experiment.

    Returns:
        whether to run as if the page's button had been pressed.
    """
    return st.session_state.pop(_RUN_KEY, None) is not None
