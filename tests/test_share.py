"""lab.share: which settings of a tampered link were ignored."""

import pytest

from lab.share import denotes, rejected_settings


@pytest.mark.parametrize("raw, value, expected", [
    ("0.1", 0.1, True), ("0.10", 0.1, True), ("1e-1", 0.1, True), ("nan", 0.1, False), ("inf", 1.0, False),
    ("abc", 3, False), ("3", 3, True), ("true", True, True), ("1", True, False), ("ADAM", "adam", True),
    ("rmsprop", "adam", False), ("10,000", 10_000, True), ("Fashion-MNIST", "fashion_mnist", True),
])
def test_denotes(raw, value, expected):
    assert denotes(raw, value) is expected


def test_rejected_settings_name_the_key_and_the_default_used():
    before = {"lab_learning_rate": ["nan"], "lab_optimizer": ["Adam"], "lab_epochs": ["999"],
              "zzz": ["3"], "present": ["true"], "lab_batch_size": ["32"]}
    # Streamlit kept the valid optimizer, dropped the bad numbers and the default batch size.
    after = {"lab_optimizer": ["Adam"], "zzz": ["3"], "present": ["true"]}
    values = {"lab_learning_rate": 0.01, "lab_optimizer": "adam", "lab_epochs": 2, "lab_batch_size": 32}
    notices, unknown = rejected_settings(before, after, values, ["lab_"])
    assert unknown == ["zzz"]
    assert any("`lab_learning_rate=nan` is not an allowed value" in n and "`0.01`" in n for n in notices)
    assert any("`lab_epochs=999`" in n for n in notices)
    assert any("`zzz` is not a setting of this page" in n for n in notices)
    assert not any("lab_batch_size" in n or "lab_optimizer" in n or "present" in n for n in notices)


def test_pages_without_settings_call_every_key_unknown():
    notices, unknown = rejected_settings({"x": ["1"]}, {"x": ["1"]}, {}, [])
    assert unknown == ["x"] and len(notices) == 1


def test_notices_quote_link_text_so_it_cannot_become_markdown():
    hostile = "x`[click](http://example.com)`\n# big"
    notices, _ = rejected_settings({"lab_epochs": [hostile], "a`b": ["1"]}, {}, {"lab_epochs": 2}, ["lab_"])
    assert len(notices) == 2
    for notice in notices:
        quoted = notice.split("`")
        # Exactly the backticks the notice itself adds: the link's text stays inside inline code.
        assert len(quoted) in (3, 5) and "\n" not in notice
    assert "`lab_epochs=x'[click](http://example.com)' # big` is not an allowed value" in notices[0]


def test_other_spellings_of_a_numeric_option_name_that_option():
    from lab.share import option_spelled

    label = "{:g}".format
    rates = (0.01, 0.1, 1.0, 10.0)
    assert [option_spelled(raw, rates, label) for raw in ("1.0", "1e0", "1.00", "10.0", "0.010")] == [
        1.0, 1.0, 1.0, 10.0, 0.01]
    # The label itself, a number that is no option, and text are left to the widget (and to the notice).
    assert [option_spelled(raw, rates, label) for raw in ("1", "1.5", "abc", "nan", "")] == [None] * 5
    assert option_spelled("64.0", (32, 64), lambda value: f"{value:,}") == 64


@pytest.mark.parametrize("url, local", [
    ("http://localhost:8501/training-lab?lab_seed=1", True), ("http://127.0.0.1:8501/", True),
    ("http://[::1]:8501/", True), ("http://0.0.0.0:8501/", True), ("http://app.localhost/", True),
    ("https://optimisation-lab.streamlit.app/training-lab", False), ("http://192.168.1.20:8501/", False),
    ("/training-lab?lab_seed=1", False),
])
def test_a_link_to_this_computer_is_recognised_for_the_qr_warning(url, local):
    from lab.share import is_local_link

    assert is_local_link(url) is local
