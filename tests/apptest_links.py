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
    from lab.preset_lists import by_slug
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


def assert_round_trip(file_name: str, query: dict, values: dict, moved: tuple, submit: str | None = None) -> None:
    """A link sets the page's widgets, a moved widget reaches the URL, and that URL gives a new session the same.

    Args:
        file_name: the page under app_pages/.
        query: the link's query parameters, as text.
        values: the widget values the link must set, by key.
        moved: (widget kind, key, value, its URL text) of a widget moved afterwards.
        submit: the key of the form's submit button, when the moved widget sits in a form.
    """
    kind, moved_key, moved_value, moved_text = moved
    app = open_in_app(file_name, query)
    # The link sets every widget, and the page raises no notice: every setting was used.
    for key, value in values.items():
        assert app.session_state[key] == value, key
    assert not any("could not be used" in warning.value for warning in app.warning)
    assert {key: app.query_params[key] for key in query} == query
    # Move another widget. In a browser the frontend writes the URL at once; AppTest has no frontend, so
    # the URL is checked after leaving the page and coming back, where Streamlit itself writes the page's
    # non-default bound values back into the URL. A widget in a form counts once the form is submitted.
    getattr(app, kind)(key=moved_key).set_value(moved_value)
    if submit:
        app.button(key=submit).click()
    app.run()
    app.switch_page("app_pages/home.py").run()
    app.switch_page(f"app_pages/{file_name}").run()
    assert app.query_params[moved_key] == moved_text
    assert app.session_state[moved_key] == moved_value
    # A new session opened with that URL gets exactly the same settings.
    shared = open_in_app(file_name, dict(app.query_params))
    for key in (*values, moved_key):
        assert shared.session_state[key] == app.session_state[key], key
