"""Checking the settings that arrive in a shared link (URL query parameters).

Widgets keep their own values in the URL (Streamlit's `bind="query-params"`):
a valid value is taken, and an invalid one is dropped from the URL and the
widget keeps its default. That is safe but silent. This module compares the
query string before and after a page ran, so the page can say which settings
of a tampered or stale link were ignored and what is used instead.
"""

from __future__ import annotations

import ipaddress
import math
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence
from urllib.parse import urlsplit

# Query parameters every page accepts (the app's own, not a page's widgets).
GLOBAL_PARAMETERS = ("present", "preset")


def denotes(raw: str, value: Any) -> bool:
    """Whether the URL text `raw` spells the widget value `value`.

    Args:
        raw: one query-parameter value as text.
        value: the widget's current value.
    Returns:
        True for equal numbers, booleans, or text equal ignoring case.
    """
    if isinstance(value, bool):
        return raw.strip().lower() == str(value).lower()
    if isinstance(value, (int, float)):
        try:
            # Widgets show thousands with commas (10,000), and a link may carry that label.
            number = float(raw.replace(",", ""))
        except ValueError:
            return False
        return math.isfinite(number) and math.isclose(number, float(value), rel_tol=1e-9, abs_tol=0.0)
    if isinstance(value, (list, tuple)):
        return False
    return _plain(raw) == _plain(str(value))


def option_spelled(raw: str, options: Sequence[Any], label: Callable[[Any], str]) -> Optional[Any]:
    """The numeric option that the URL text `raw` names in a spelling other than the option's label.

    A select slider matches a link's text against its labels only, so "1.0" or "1e0" would miss the
    option labelled "1", though `denotes` reads them as the same number.

    Args:
        raw: one query-parameter value as text.
        options: the widget's options.
        label: the widget's format_func.
    Returns:
        the option, or None when `raw` is already its label or names no numeric option.
    """
    for option in options:
        if isinstance(option, (int, float)) and not isinstance(option, bool) and denotes(raw, option):
            return None if raw == label(option) else option
    return None


def _plain(text: str) -> str:
    # Labels and values differ in case and separators only ("Fashion-MNIST", "fashion_mnist").
    return "".join(character for character in text.lower() if character.isalnum())


def _quoted(text: str, limit: int = 60) -> str:
    """`text` as inline code that cannot break out: no backticks, no line breaks, short."""
    text = " ".join(text.replace("`", "'").split())
    return "`" + (text if len(text) <= limit else text[: limit - 3] + "...") + "`"


def rejected_settings(
    before: Mapping[str, Sequence[str]],
    after: Mapping[str, Sequence[str]],
    values: Mapping[str, Any],
    page_prefixes: Iterable[str],
    global_parameters: Iterable[str] = GLOBAL_PARAMETERS,
) -> tuple[list[str], list[str]]:
    """Notices for link settings that were not used, and the unknown keys to drop.

    Args:
        before: query parameters when the page started (key to list of texts).
        after: query parameters once its widgets ran.
        values: current values of the page's widgets, by key.
        page_prefixes: key prefixes of this page's widgets, such as ("lab_",).
        global_parameters: keys every page accepts.
    Returns:
        (notices for the user, unknown keys to remove from the URL).
    """
    prefixes = tuple(page_prefixes)
    globals_ = set(global_parameters)
    notices, unknown = [], []
    for key, raw_values in before.items():
        raw = raw_values[-1] if raw_values else ""
        if key in globals_:
            continue
        if not prefixes or not key.startswith(prefixes):
            # Quoted safely: the notice is Markdown, and the link's text is anyone's.
            notices.append(f"{_quoted(key)} is not a setting of this page, so it was ignored.")
            unknown.append(key)
        elif key not in after and key in values and not denotes(raw, values[key]):
            notices.append(f"{_quoted(f'{key}={raw}')} is not an allowed value, "
                           f"so the default {_quoted(str(values[key]))} is used.")
    return notices, unknown


def is_local_link(url: str) -> bool:
    """Whether a link points at the computer that shows it (localhost, 127.0.0.1, ::1), so no phone can open it.

    Args:
        url: an absolute or relative URL.
    Returns:
        True for a loopback or unspecified host; False for any other host, or a link without one.
    """
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified
