"""AppTest: topic pages 1-5 open, their main control moves, their experiment runs and what they render is right.

Experiments run with the smallest settings the widgets offer, or, where a test
opens a preset or keeps a page's defaults, as the small real experiments of
tests/canned.py, so that these tests check the pages; the claims themselves are
tested at the page defaults in tests/lab/test_claims.py.
"""

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_links import assert_link_rejected, assert_round_trip, open_in_app, open_preset
from tests.conftest import ROOT, first_everyday

pytestmark = pytest.mark.usefixtures("small_experiments")  # small real experiments: tests/canned.py
TIMEOUT = 180  # importing TensorFlow takes seconds, and the server is shared


def open_page(name: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app_pages" / name), default_timeout=TIMEOUT).run()
    assert not app.exception, app.exception
    return app


def chart_titles(app: AppTest) -> list[str]:
    """The title text of every Plotly chart on the page."""
    titles = []
    for chart in app.get("plotly_chart"):
        layout = json.loads(chart.proto.spec).get("layout", {})
        title = layout.get("title", {})
        titles.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return titles


def chart_json(app: AppTest) -> str:
    return " ".join(chart.proto.spec for chart in app.get("plotly_chart"))


def dataframe_with(app: AppTest, column: str):
    """The first table on the page that has `column` (AppTest does not expose a table's key)."""
    return next(frame.value for frame in app.dataframe if column in frame.value.columns)


def texts(elements) -> str:
    return "\n".join(element.value for element in elements)


def metric(app: AppTest, label_start: str) -> str:
    return next(item.value for item in app.metric if item.label.startswith(label_start))


def test_data_page_browses_classes_and_trains_on_both_datasets(data_dir):
    app = open_page("01_data.py")
    assert app.title[0].value == "The data"
    assert [metric(app, label) for label in ("Training images", "Test images", "Image shape", "Classes")] == \
        ["60,000", "10,000", "28 x 28", "10"]
    assert any("60\\,000" in latex.value for latex in app.latex)
    assert "interchangeable" in app.success[0].value
    assert any(title.startswith("Fashion-MNIST: T-shirt/top") for title in chart_titles(app))

    app.selectbox(key="data_class").set_value(7).run()  # the main control: which class to browse
    assert not app.exception
    titles = chart_titles(app)
    assert any(title.startswith("Fashion-MNIST: Sneaker") for title in titles)
    assert any(title.startswith("MNIST") and title.endswith(": 7 (train)") for title in titles)
    app.toggle(key="data_hist_by_class").set_value(True).run()
    assert "Fashion-MNIST: Sneaker" in chart_json(app)  # the histogram now shows one class

    assert "Press **Train on both datasets**" in app.info[0].value
    app.select_slider(key="data_train_size").set_value(1_000)
    app.slider(key="data_epochs").set_value(1)
    app.button(key="data_submit").click().run()
    assert not app.exception
    result = app.session_state["data_result"]
    assert [run.dataset for run in result["runs"]] == ["fashion_mnist", "mnist"]
    assert metric(app, "Fashion-MNIST: test accuracy").endswith("%")
    assert metric(app, "MNIST: test accuracy").endswith("%")
    notice = app.info[0].value
    fashion_run, mnist_run = result["runs"]
    assert "What to notice" in notice and f"{mnist_run.test_accuracy:.1%} on MNIST" in notice
    assert "Digits are easier" not in notice  # an outcome only a tested claim may state
    assert not any("checked by the tests" in block.value for block in app.markdown)  # 1,000 images: not the defaults
    assert "for dataset in (keras.datasets.fashion_mnist, keras.datasets.mnist)" in app.code[0].value
    app.run()  # a rerun redraws from session state without training again
    assert app.session_state["data_result"] is result


def test_model_page_counts_parameters_and_runs_the_activation_experiment(data_dir):
    from lab.topics.architecture import HEADLINE_CLAIM, RESULT_CLAIMS

    app = open_page("02_model.py")
    assert HEADLINE_CLAIM.text in app.markdown[0].value  # the header's outcome is the tested claim
    assert metric(app, "Trainable parameters") == "266,610"
    table = dataframe_with(app, "how")
    assert table["output shape"].tolist()[-3:] == ["(None, 300)", "(None, 100)", "(None, 10)"]

    app.slider(key="model_units_1").set_value(50)  # the main control: the layer widths
    app.slider(key="model_units_2").set_value(20).run()
    assert metric(app, "Trainable parameters") == "40,480"
    assert any(r"39\,250 + 1\,020 + 210 = 40\,480" in latex.value for latex in app.latex)
    assert "formula gives 40,480 too" in app.caption[0].value

    assert "Press **Train the three models**" in app.info[0].value
    app.select_slider(key="model_train_size").set_value(2_000)
    app.slider(key="model_epochs").set_value(1)
    app.button(key="model_submit").click().run()
    assert not app.exception
    result = app.session_state["model_result"]
    assert result.hidden_units == (50, 20) and result.train_size == 2_000
    assert set(result.test_accuracy) == {"softmax", "linear", "relu"}
    assert metric(app, "Same predicted class") == "100.0%"  # the linear MLP and its single matrix
    assert "What to notice" in app.info[0].value
    assert "its test accuracy is" in app.info[0].value and "differ by" not in app.info[0].value  # no signed points
    assert "has not pulled ahead yet" not in app.info[0].value
    assert any("tested claims are about the page's defaults" in caption.value for caption in app.caption)
    assert not any(claim.text in block.value for claim in RESULT_CLAIMS for block in app.markdown)
    assert any(title.startswith("Softmax outputs: they sum to 1.0000") for title in chart_titles(app))

    app.slider(key="model_image_index").set_value(5).run()
    assert not app.exception
    assert app.session_state["model_result"] is result  # moving the image slider does not retrain
    assert any(title.startswith("Softmax outputs: they sum to 1.0000") for title in chart_titles(app))


def test_inputs_outputs_page_trains_the_chosen_head(data_dir):
    app = open_page("03_inputs_outputs.py")
    heads = app.table[0].value
    assert heads["output layer"].tolist() == [
        'Dense(10, activation="softmax")', 'Dense(1, activation="linear")', 'Dense(4, activation="linear")']
    assert "e^{z_k}" in app.latex[0].value

    app.radio(key="io_task").set_value("box").run()  # the main control: the task
    assert not app.exception
    assert r"\hat{w}" in app.latex[0].value
    assert any("bounding box of the non-zero pixels" in block.value for block in app.markdown)
    assert "Press **Train the box model**" in app.info[0].value
    app.select_slider(key="io_train_size").set_value(2_000)
    app.slider(key="io_epochs").set_value(1)
    app.button(key="io_submit").click().run()
    assert not app.exception
    layers = dataframe_with(app, "parameters")
    assert layers["output shape"].iloc[-1] == "(None, 4)"
    assert float(metric(app, "Test mean IoU")) > 0
    assert "Baseline: always predicting the mean box" in [item.label for item in app.metric]
    assert any("green dashed = true" in title for title in chart_titles(app))
    assert 'keras.layers.Dense(4, activation="linear")' in app.code[0].value

    assert not any("checked by the tests" in block.value for block in app.markdown)  # 2,000 images: not the defaults

    app.radio(key="io_task").set_value("regression").run()  # another task: its own prompt, box result kept
    assert "Press **Train the regression model**" in app.info[0].value
    assert set(app.session_state["io_results"]) == {"box"}


def test_inputs_outputs_page_shows_the_made_up_house_price_example_without_training(data_dir):
    app = open_page("03_inputs_outputs.py")
    assert app.session_state["io_results"] == {}  # nothing trained on opening, and nothing on the houses
    houses = dataframe_with(app, "price (€)")
    assert len(houses) == 5 and all("made up" in name for name in houses.index)
    assert list(houses.columns[:4]) == ["rooms", "floor area (m²)", "age (years)", "distance to centre (km)"]
    assert any("**made up**" in caption.value and "trains nothing" in caption.value for caption in app.caption)
    heads = app.table[1].value
    assert heads.loc["output layer", "house price (regression)"].startswith("Dense(1)")
    assert heads.loc["input shape"].tolist() == ["(n, 4)", "(n, 28, 28)"]
    assert heads.loc["output shape"].tolist() == ["(n, 1)", "(n, 10)"]
    assert any("(5, 4)" in block.value and "(5, 1)" in block.value for block in app.markdown)
    assert any(r"\mathbb{R}^{n \times 4}" in latex.value for latex in app.latex)
    assert 'keras.layers.Dense(1)' in app.code[0].value and 'loss="mse"' in app.code[0].value


def test_splits_page_checks_the_split_and_runs_its_three_experiments(data_dir):
    from lab.topics import splits

    app = open_page("04_splits.py")
    assert "No image position is in both" in app.success[0].value
    # The header's outcomes and the caption's duplicates are declared claims.
    assert splits.OVERFITTING_HEADLINE.text in app.markdown[0].value
    assert splits.TUNING_HEADLINE.text in app.markdown[0].value
    assert any(splits.TWINS_CLAIM.text in caption.value for caption in app.caption)
    app.slider(key="splits_validation_size").set_value(10_000).run()  # the main control: the split
    assert not app.exception
    overlaps = dataframe_with(app, "shared image positions")
    assert overlaps["shared image positions"].iloc[0] == "0"
    assert "validation: 10,000" in chart_json(app) and "training: 50,000" in chart_json(app)

    app.select_slider(key="splits_fit_train_size").set_value(500)
    app.slider(key="splits_fit_epochs").set_value(10)
    app.slider(key="splits_fit_patience").set_value(2)
    app.button(key="splits_fit_submit").click().run()
    assert not app.exception
    fits = app.session_state["splits_fit_result"]
    assert len(fits["full"].history["epoch"]) == 10 and fits["early"].config.early_stopping_patience == 2
    assert metric(app, "Gap").endswith("points")
    texts = [markdown.value for markdown in app.markdown]
    assert any(text.startswith("The slides: performance is often training > validation > test") and "This run: training"
               in text for text in texts)
    assert not any("checked by the tests" in text for text in texts)  # 10 epochs: the claims are about 40
    assert any(caption.value.startswith("The tested claims are about the page's defaults (500 images, 40 epochs")
               for caption in app.caption)
    # What to notice states this run's numbers, whatever they are, and no outcome the run did not show.
    early = fits["early"]
    notice = next(info.value for info in app.info if info.value.startswith("**What to notice:** on 500 images"))
    assert (f"restored the weights of epoch {early.best_epoch}" if early.stop_reason == "early_stopped"
            else "did not stop within these 10 epochs") in notice
    assert "rises afterwards" not in notice and "a larger patience" not in notice
    assert not any(claim.text in text for claim in splits.EARLY_STOPPING_CLAIMS for text in texts)
    app.slider(key="splits_patience_scrub").set_value(5).run()
    assert not app.exception
    assert any("Keras's own EarlyStopping" in caption.value and "agrees" in caption.value for caption in app.caption)
    assert any(title.startswith("Patience 5:") for title in chart_titles(app))
    assert app.session_state["splits_fit_result"] is fits  # scrubbing does not retrain

    app.slider(key="splits_candidates").set_value(2)
    app.button(key="splits_selection_submit").click().run()
    assert not app.exception
    assert len(app.session_state["splits_selection_result"].seeds) == 2
    summary = dataframe_with(app, "mean optimism")
    assert list(summary.index) == ["test-picked", "validation-picked"]
    # With 2 candidates the page states the measured numbers only: the claims are about the default 8.
    draws = splits.selection_draws(app.session_state["splits_selection_result"], 500)
    assert any(info.value == "**What to notice:** " + splits.selection_notice(draws) for info in app.info)
    assert not any(word in info.value for info in app.info for word in ("honest", "illusion"))
    assert not any(claim.text in markdown.value for claim in splits.SELECTION_CLAIMS for markdown in app.markdown)
    assert any("default 8 candidates; with 2 only the measured numbers" in caption.value for caption in app.caption)
    app.select_slider(key="splits_tuning_size").set_value(200).run()
    assert not app.exception
    assert any("tuning part of the test set (200 images)" in text for text in [chart_json(app)])


@pytest.mark.parametrize("learning_rate, box", [(0.01, "success"), (10.0, "error")])
def test_backprop_page_steps_once_and_reports_whether_the_loss_fell(data_dir, learning_rate, box):
    from lab.topics import backprop as topic

    app = open_page("05_backprop.py")
    assert "Press **Run one step**" in app.info[0].value
    app.select_slider(key="backprop_learning_rate").set_value(learning_rate)  # the main control
    app.button(key="backprop_submit").click().run()
    assert not app.exception
    result = app.session_state["backprop_result"]
    assert result.learning_rate == learning_rate
    message = getattr(app, box)[0].value
    assert ("lowered this batch's loss" if box == "success" else "overshot") in message
    assert metric(app, "Batch loss (mean cross-entropy)") == f"{result.loss_before:.4f}"
    assert topic.HEADLINE_CLAIM.text in app.markdown[0].value
    notice = app.info[0].value
    assert "is not the best for training" not in notice  # an untested outcome the page no longer states
    # The default batch and initial weights: the page lists the tested claims about them.
    assert all(claim.text in texts(app.markdown) for claim in topic.RESULT_CLAIMS)
    assert any(title.startswith("Backward pass: largest kernel gradient at") for title in chart_titles(app))
    # The layer table is split in two (forward pass, backward pass) so that each fits the page: together they
    # still show every column.
    forward, backward = (frame.value for frame in app.dataframe)
    assert list(forward.columns) + list(backward.columns[1:]) == list(result.layer_frame().columns)
    app.segmented_control(key="backprop_layer").set_value("output").run()
    assert not app.exception
    assert any(title.startswith("Forward pass: output (softmax)") for title in chart_titles(app))
    assert app.session_state["backprop_result"] is result
    assert f"learning_rate={learning_rate:g}" in app.code[0].value


# ----------------------------------------------------------------------
# Lecture presets of pages 1-5, opened as a link opens them (app.py with ?preset=<slug>). Each check reads the
# result the page got (a small real experiment, tests/canned.py) and what the page shows of it: the page lists
# its tested claims exactly when its own rule says the result is the defaults' run. That the claims hold at the
# defaults is tests/lab/test_claims.py's job (data_explorer, architecture, outputs, splits and backprop CLAIMS).
# ----------------------------------------------------------------------


def assert_claims_listed(app, claims, listed: bool) -> None:
    """The page's Markdown lists every one of `claims` when `listed`, and none of them otherwise."""
    shown = texts(app.markdown)
    assert [claim.text in shown for claim in claims] == [listed] * len(claims), [claim.text for claim in claims]


def _data_point(app):
    from lab.topics.data_explorer import CLAIMS, DEFAULT_EPOCHS, DEFAULT_TRAIN_SIZE

    result = app.session_state["data_result"]
    fashion_run, mnist_run = result["runs"]
    assert fashion_run.parameters == mnist_run.parameters == 266_610  # the same model on both datasets
    assert fashion_run.output_shape == mnist_run.output_shape
    assert metric(app, "Fashion-MNIST: test accuracy") == f"{fashion_run.test_accuracy:.1%}"
    assert metric(app, "MNIST: test accuracy") == f"{mnist_run.test_accuracy:.1%}"
    # The page judges "the defaults" by the settings it asked for, which the preset sets.
    assert (result["train_size"], result["epochs"]) == (DEFAULT_TRAIN_SIZE, DEFAULT_EPOCHS)
    assert_claims_listed(app, CLAIMS, True)


def _model_point(app):
    from lab.topics import architecture as topic

    result = app.session_state["model_result"]
    assert result.hidden_units == (300, 100)
    assert metric(app, "relu: test accuracy") == f"{result.test_accuracy['relu']:.1%}"
    assert metric(app, "Same predicted class") == f"{result.collapse['linear'].prediction_agreement:.1%}"
    at_defaults = (result.hidden_units, result.train_size, result.epochs) == (
        topic.DEFAULT_HIDDEN_UNITS, topic.DEFAULT_TRAIN_SIZE, topic.DEFAULT_EPOCHS)
    assert_claims_listed(app, topic.RESULT_CLAIMS, at_defaults)
    assert any("tested claims are about the page's defaults" in caption.value for caption in app.caption) \
        is not at_defaults


def _io_point(task: str):
    def check(app):
        from lab.topics import outputs as topic

        result = app.session_state["io_results"][task]
        assert app.radio(key="io_task").value == task
        shown = {"classification": "{:.1%}", "regression": "{:.4f}", "box": "{:.2f}"}[task].format
        score_label = topic.TASKS[task].metric
        assert metric(app, score_label[0].upper() + score_label[1:]) == shown(result.score)
        assert metric(app, "Baseline: " + result.baseline_text) == shown(result.baseline)
        at_defaults = (result.train_size, result.epochs) == (topic.DEFAULT_TRAIN_SIZE, topic.DEFAULT_EPOCHS)
        assert_claims_listed(app, (topic.TASK_CLAIMS[task],), at_defaults)
    return check


def _early_stopping_point(app):
    from lab.topics import splits

    runs = app.session_state["splits_fit_result"]
    full, early = runs["full"], runs["early"]
    assert full.config.train_size == 500 and early.config.early_stopping_patience == 3
    assert metric(app, "Training accuracy") == f"{full.history['accuracy'][-1]:.1%}"
    assert metric(app, "Gap") == f"{splits.generalisation_gap(full.history) * 100:.1f} points"
    assert any(title.startswith("Patience 3:") for title in chart_titles(app))  # the preset's scrub
    at_defaults = (full.config.train_size, full.config.epochs, early.config.early_stopping_patience) == (
        splits.CLAIM_SIZES[0], splits.DEFAULT_EPOCHS, splits.DEFAULT_PATIENCE)
    assert_claims_listed(app, splits.OVERFITTING_CLAIMS + splits.EARLY_STOPPING_CLAIMS, at_defaults)


def _tuning_point(app):
    from lab.topics import splits

    candidates = app.session_state["splits_selection_result"]
    draws = splits.selection_draws(candidates, 100)  # the preset's tuning part
    assert any(info.value == "**What to notice:** " + splits.selection_notice(draws) for info in app.info)
    assert list(dataframe_with(app, "mean optimism").index) == ["test-picked", "validation-picked"]
    assert_claims_listed(app, splits.SELECTION_CLAIMS, len(candidates.seeds) == splits.DEFAULT_CANDIDATES)


def _backprop_point(lowers: bool):
    def check(app):
        from lab.topics import backprop

        # One SGD step is cheap, so this is the defaults' real step, and the page lists their claims.
        result = app.session_state["backprop_result"]
        assert result.loss_decreased is lowers
        if not lowers:
            assert result.loss_after > 10 * result.loss_before
        assert ("lowered this batch's loss" if lowers else "overshot") in texts(app.success if lowers else app.error)
        assert_claims_listed(app, backprop.RESULT_CLAIMS, True)
    return check


PRESET_POINTS = {
    "data-drop-in": _data_point, "model-linear-collapse": _model_point,
    "io-classification": _io_point("classification"), "io-regression": _io_point("regression"),
    "io-bounding-box": _io_point("box"), "splits-early-stopping": _early_stopping_point,
    "splits-test-set-tuning": _tuning_point, "backprop-one-step": _backprop_point(True),
    "backprop-overshoot": _backprop_point(False),
}


def test_every_preset_of_pages_1_to_5_is_tested():
    from lab.preset_lists.topics_1_5 import PRESETS

    assert {preset.slug for preset in PRESETS} == set(PRESET_POINTS)


def test_preset_outcomes_of_pages_1_to_5_are_declared_claims():
    """What a preset says beyond its declared claims (checked by tests/lab/test_claims.py) only describes the setup."""
    import re

    from lab.preset_lists.topics_1_5 import PRESETS
    from lab.topics import architecture, backprop, data_explorer, outputs, splits

    modules = (data_explorer, architecture, outputs, splits, backprop)
    claims = [claim.text for module in modules for claim in module.CLAIMS]
    for preset in PRESETS:
        rest = preset.point
        for text in claims:
            rest = rest.replace(text, "")
        assert not re.search(r"\d\s*%|\babout\b|\bscores?\b|\bbeats?\b|\breports\b|\blowers\b|\bjumps\b", rest), \
            (preset.slug, rest)


@pytest.mark.parametrize("slug", first_everyday(*PRESET_POINTS))
def test_preset_opens_its_page_and_shows_its_result(slug):
    PRESET_POINTS[slug](open_preset(slug))


# ----------------------------------------------------------------------
# Settings in the URL: a link sets the page's widgets, and hostile links get a notice
# ----------------------------------------------------------------------


# (link, the values it sets, a widget moved afterwards: kind, key, value, its URL text, the form's submit button)
ROUND_TRIPS = {
    "01_data.py": (
        {"data_split": "test", "data_count": "24", "data_epochs": "2"},
        {"data_split": "test", "data_count": 24, "data_epochs": 2},
        ("slider", "data_start", 30, "30", None),
    ),
    "02_model.py": (
        {"model_units_1": "200", "model_epochs": "2"},
        {"model_units_1": 200, "model_epochs": 2},
        ("slider", "model_units_2", 50, "50", None),
    ),
    "03_inputs_outputs.py": (
        {"io_epochs": "2", "io_train_size": "5000"},
        {"io_epochs": 2, "io_train_size": 5_000},
        ("radio", "io_task", "box", "box", None),
    ),
    "04_splits.py": (
        {"splits_fit_patience": "5", "splits_fit_epochs": "20"},
        {"splits_fit_patience": 5, "splits_fit_epochs": 20},
        ("slider", "splits_validation_size", 10_000, "10000", None),
    ),
    "05_backprop.py": (
        {"backprop_batch_seed": "3", "backprop_model_seed": "7"},
        {"backprop_batch_seed": 3, "backprop_model_seed": 7},
        # In a form: the value counts once the form is submitted, which takes one cheap SGD step.
        ("select_slider", "backprop_learning_rate", 1.0, "1.0", "backprop_submit"),
    ),
}


@pytest.mark.parametrize("file_name", first_everyday(*ROUND_TRIPS))
def test_settings_round_trip_through_the_url(file_name, data_dir):
    query, values, (kind, moved_key, moved_value, moved_text, submit) = ROUND_TRIPS[file_name]
    assert_round_trip(file_name, query, values, (kind, moved_key, moved_value, moved_text), submit)


@pytest.mark.parametrize("file_name, query", first_everyday(
    ("01_data.py", {"data_count": "999", "data_split": "both", "data_train_size": "7"}),
    ("02_model.py", {"model_units_1": "nan", "model_epochs": "-3"}),
    ("03_inputs_outputs.py", {"io_task": "segmentation", "io_train_size": "1e12"}),
    ("04_splits.py", {"splits_fit_patience": "abc", "splits_candidates": "1e9", "lab_optimizer": "adam"}),
    ("05_backprop.py", {"backprop_learning_rate": "inf", "backprop_batch_seed": "-1"}),
))
def test_hostile_links_get_a_notice_and_safe_defaults(file_name, query, data_dir):
    assert_link_rejected(open_in_app(file_name, query), query)
