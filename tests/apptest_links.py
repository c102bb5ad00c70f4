"""AppTest helpers for links: open a page through app.py with a query string or a lecture preset."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

TIMEOUT = 180  # importing TensorFlow, then a few small trainings on a shared machine


def open_in_app(file_name: str, query: dict | None = None, preset: str | None = None) -> AppTest:
    """Open a page through app.py, as a browser does, with a link's query parameters.

    AppTest.switch_page() needs one run first: before it, the page is looked up by its file name,
    which does not match a page that st.navigation registers under its own url_path.
    """
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    for key, value in (query or {}).items():
        app.query_params[key] = value
    if preset is not None:
        app.query_params["preset"] = preset
    app.switch_page(f"app_pages/{file_name}").run()
    assert not app.exception, app.exception
    return app


def open_preset(slug: str) -> AppTest:
    """Open a lecture preset the way its link does, and check that its note shows and its settings apply."""
    from lab.presets import by_slug
    from ui.catalog import by_url_path

    preset = by_slug(slug)
    app = open_in_app(by_url_path(preset.page).file.removeprefix("app_pages/"), preset=slug)
    assert any(preset.title in info.value for info in app.info), "the preset's note is shown"
    assert not any("could not be used" in warning.value or "not a preset" in warning.value for warning in app.warning)
    for key, value in preset.settings.items():
        assert app.session_state[key] == value, key
    return app


def assert_link_rejected(app: AppTest, query: dict) -> None:
    """Every key of a hostile query is named in the page's notice and gone from the URL; the page still works."""
    notice = " ".join(warning.value for warning in app.warning)
    assert "could not be used" in notice
    for key in query:
        assert f"`{key}" in notice, key
        assert key not in app.query_params, key
    assert app.title[0].value and not app.exception
