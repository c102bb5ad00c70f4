"""app.py's shared parts through AppTest: link checking, presets and presentation mode."""

import pytest
from streamlit.testing.v1 import AppTest

from lab.preset_lists import all_presets
from tests.conftest import ROOT, first_everyday
from ui import catalog

pytestmark = pytest.mark.usefixtures("small_experiments")  # small real experiments: tests/canned.py
TIMEOUT = 180


def open_app(**query) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    for key, value in query.items():
        app.query_params[key] = value
    return app.run()


def test_every_catalog_page_file_exists_and_prefixes_are_unique():
    for spec in catalog.PAGES:
        assert (ROOT / spec.file).is_file(), spec.file
    prefixes = [spec.prefix for spec in catalog.PAGES if spec.prefix]
    assert len(prefixes) == len(set(prefixes))
    assert not (ROOT / "pages").exists(), "a pages/ folder makes Streamlit show 'Page not found' on deep links"


@pytest.mark.parametrize("query", first_everyday(
    {"zzz": "1"},
    {"lab_epochs": "abc", "evil": "<script>alert(1)</script>"},
    {"learning_rate": "nan", "optimizer": "lbfgs"},
))
def test_hostile_query_strings_get_a_notice_not_a_traceback(query):
    app = open_app(**query)
    assert not app.exception
    notice = " ".join(warning.value for warning in app.warning)
    assert "could not be used" in notice
    for key in query:
        assert f"`{key}`" in notice
        assert key not in app.query_params  # unknown keys are dropped from the link


def test_unknown_preset_gets_a_notice():
    app = open_app(preset="no-such-slide")
    assert not app.exception
    assert any("not a preset of this page" in warning.value for warning in app.warning)


def test_presentation_mode_is_read_from_the_link():
    app = open_app(present="true")
    assert not app.exception
    assert app.toggle(key="present").value is True
    assert app.query_params["present"] == "true"


def test_home_links_every_preset():
    app = open_app()
    links = {element.proto.label: element.proto.query_string for element in app.get("page_link")}
    assert all_presets()
    for item in all_presets():
        assert links[item.title] == f"preset={item.slug}"
    assert next(iter(links)).startswith("Start here: 1. The data")


def test_home_groups_presets_by_page_in_lecture_order_down_each_column():
    from lab.preset_lists import presets_by_page, split_in_two

    app = open_app()
    page_order = [spec.url_path for spec in catalog.PAGES]
    groups = presets_by_page(all_presets(), page_order)
    assert [page for page, _ in groups] == [page for page in page_order if any(
        item.page == page for item in all_presets())]
    left, right = split_in_two(groups)
    assert left + right == groups and abs(sum(len(items) for _, items in left)
                                          - sum(len(items) for _, items in right)) <= 3
    # Each column lists its pages' titles in lecture order, then their preset links.
    headings = [element.value for element in app.markdown if element.value.startswith("**")]
    titles = [f"**{catalog.by_url_path(page).title}**" for page, _ in groups]
    assert [heading for heading in headings if heading in titles] == titles


def open_preset(slug: str) -> AppTest:
    """Open a preset the way its link does: `?preset=<slug>` on its page, through app.py."""
    from lab.preset_lists import by_slug

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    app.query_params["preset"] = slug
    app.switch_page(catalog.by_url_path(by_slug(slug).page).file)
    return app.run()


def test_lab_presets_open_the_lab_with_their_settings_and_train_them():
    # Their claim (Adam well ahead of SGD on the same model, data and seed) is trained on the real data by
    # tests/lab/test_claims.py; here the runs are small (tests/canned.py) and the page is what is checked.
    from lab.preset_lists import by_slug

    runs = {}
    for slug, optimizer, title in (("lab-lecture-model", "sgd", "Slide: the lecture's model"),
                                   ("lab-adam", "adam", "Slide: Adam")):
        app = open_preset(slug)
        assert not app.exception
        assert any(title in info.value for info in app.info)
        for key, value in by_slug(slug).settings.items():
            assert app.session_state[key] == value, key
        (run,) = app.session_state["training_lab_runs"].records
        assert (run.config.optimizer, run.config.seed, run.config.batch_size) == (optimizer, 42, 32)
        # Trained, or served from the result cache when another test trained the same small run first.
        assert run.status == "completed" and run.source in ("trained", "cache")
        assert app.metric[0].label == "Test accuracy" and app.metric[0].value == f"{run.test_accuracy:.1%}"
        runs[optimizer] = run
    assert runs["sgd"].config.learning_rate == 0.01 and runs["adam"].config.learning_rate == 1e-3
