"""Shareable links: notices for ignored link settings, and the Share popover with a QR code."""

from __future__ import annotations

import functools
import io
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from lab.share import is_local_link, option_spelled, rejected_settings


def snapshot() -> dict[str, list[str]]:
    """The URL's query parameters now, before the page's widgets consume them.

    Returns:
        dict of key to list of texts.
    """
    return {key: st.query_params.get_all(key) for key in st.query_params}


def report_ignored(before: dict[str, list[str]], prefixes: tuple[str, ...], slot) -> None:
    """After the page ran: tell the user which link settings were ignored, and drop unknown keys.

    Args:
        before: the snapshot taken before the page ran.
        prefixes: widget-key prefixes of the page that ran.
        slot: a container above the page where the notice goes.
    """
    after = snapshot()
    values = {key: st.session_state[key] for key in before if key in st.session_state}
    # Settings whose link text is the label of the option the widget now shows were used as asked.
    before = {key: texts for key, texts in before.items() if not _used_as_labelled(key, texts, values)}
    notices, unknown = rejected_settings(before, after, values, prefixes)
    for key in unknown:
        if key in st.query_params:
            del st.query_params[key]
    if notices:
        slot.warning("This link had settings that could not be used, so safe defaults apply:\n\n"
                     + "\n".join(f"- {notice}" for notice in notices), icon=":material/link_off:")


def _used_as_labelled(key: str, texts: list[str], values: dict) -> bool:
    """Whether the link's last text for `key` is the label of the option its select slider now shows."""
    raw, option = st.session_state.get(LABELLED_KEY, {}).get(key, (None, None))
    return bool(texts) and option is not None and raw == texts[-1] and key in values and values[key] == option


SPELLED_KEY = "share_spelled"  # {widget key: the link text already taken for it}
LABELLED_KEY = "share_labelled"  # {select slider key: (the link's text, the option it is the label of, or None)}


def accept_other_spellings(key: str, options, label) -> None:
    """Before a bound select slider is created: take a link's other spelling of an option ("1.0" for "1").

    Args:
        key: the widget's key, which is also its query parameter.
        options: the widget's options.
        label: the widget's format_func.
    """
    raw = st.query_params.get(key)
    option = option_spelled(raw, options, label) if raw is not None else None
    # A link naming an option by its label ("off", "0 (off)") asked for exactly that option, even when
    # it is the default, which Streamlit drops from the URL: report_ignored must not call it refused.
    labelled = next((item for item in options if raw is not None and label(item) == raw), None)
    st.session_state.setdefault(LABELLED_KEY, {})[key] = (raw, labelled)
    taken = st.session_state.setdefault(SPELLED_KEY, {})
    # Once per link text: after that the widget and the URL agree, and a later move of the slider wins.
    if option is not None and taken.get(key) != raw:
        taken[key] = raw
        st.session_state[key] = option


def current_link() -> str:
    """The address of this page with its current settings, for sharing.

    Presentation mode is left out: it is the lecturer's projector setting, and
    students open the link on laptops and phones.

    Returns:
        an absolute URL when the browser reported one, else a relative one.
    """
    query = urlencode([(key, value) for key in st.query_params if key != "present"
                       for value in st.query_params.get_all(key)])
    parts = urlsplit(st.context.url or "")
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))


@functools.lru_cache(maxsize=256)
def qr_png(text: str) -> bytes:
    """A QR code of `text` as PNG bytes, drawn locally (no web service), once per link per server.

    Args:
        text: what the code encodes.
    Returns:
        PNG image bytes.
    """
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


def share_popover() -> None:
    """A "Share" popover in the sidebar: the link of this exact experiment and its QR code."""
    with st.sidebar.popover("Share this experiment", icon=":material/qr_code_2:", width="stretch"):
        link = current_link()
        st.caption("Everyone who opens this link sees this page with these settings and the same seed.")
        st.code(link, language=None, wrap_lines=True)
        if is_local_link(link):
            st.warning("This link points at this computer, so phones and laptops in the room cannot open it. "
                       "Share the app's network or deployed address instead (for example, start it with "
                       "`streamlit run app.py --server.address 0.0.0.0` and use this computer's IP address).",
                       icon=":material/wifi_off:")
        try:
            st.image(qr_png(link), caption="Scan from the projector", width=240)
        except ValueError:
            # segno raises DataOverflowError (a ValueError) above about 2.3 kB of text.
            st.caption("This link is too long for a QR code; copy it instead.")
