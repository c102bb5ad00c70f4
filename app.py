"""Optimisation Lab: the entry point. Run with `streamlit run app.py`.

It sets up the page and the navigation (the page table is ui/catalog.py), then
runs the chosen page between the app-wide parts: presentation mode, lecture
presets, the check of a shared link's settings and the Share popover. Pages
live in app_pages/ (not pages/: a folder of that name makes Streamlit start in
its old multipage mode and greet deep links with "Page not found"), and every
computation lives in lab/. TensorFlow never loads in this process: Keras runs in
the training service's worker, which the first visit starts and warms up.
"""

import streamlit as st

from ui.service import warm_start

# The first visit of a server starts the training worker (TensorFlow, data, the default engine: seconds)
# before this run imports the rest of the app, so the worker's warm-up overlaps all of that work.
warm_start()

from ui import catalog, present, presets, share  # noqa: E402  (after the worker has started)

# A projector link (?present=true) opens with the sidebar folded away, so the results get the whole width.
st.set_page_config(page_title="Optimisation Lab", page_icon="assets/icon.png", layout="wide",
                   initial_sidebar_state="collapsed" if present.requested_in_link() else "auto")


def _navigation() -> dict[str, list]:
    sections: dict[str, list] = {}
    for spec in catalog.PAGES:
        sections.setdefault(spec.section, []).append(st.Page(
            spec.file, title=spec.title, icon=f":material/{spec.icon}:", url_path=spec.url_path or None,
            default=spec.url_path == "",
        ))
    return sections


page = st.navigation(_navigation(), expanded=True)
present.sidebar_toggle()
notice_slot = st.container()
presets.apply_requested(page.url_path, notice_slot)
link_settings = share.snapshot()
page.run()
spec = catalog.by_url_path(page.url_path)
share.report_ignored(link_settings, (spec.prefix,) if spec and spec.prefix else (), notice_slot)
share.share_popover()
