"""AppTest for topic pages 6-10: each page opens, its main control is moved, and what it renders is checked.

The runs are the pages' own experiments on real Fashion-MNIST, shrunk through
the pages' widgets (fewer rates, images or epochs) and, where a test opens a
preset or keeps a page's defaults, run as the small real experiments of
tests/canned.py. The claims are tested at the pages' defaults in
tests/lab/test_claims.py.
"""

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_links import assert_link_rejected, assert_round_trip, open_in_app, open_preset
from tests.conftest import ROOT, first_everyday, full_tier_case

pytestmark = pytest.mark.usefixtures("small_experiments")  # small real experiments: tests/canned.py
TIMEOUT = 180  # importing TensorFlow, then a few small trainings


def open_page(file_name: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app_pages" / file_name), default_timeout=TIMEOUT).run()
    assert not app.exception
    return app


def texts(elements) -> str:
    return "\n".join(element.value for element in elements)


def press(app: AppTest, button_key: str) -> None:
    """Press a page's button, as a student does, and check that the page ran without an exception."""
    app.button(key=button_key).click().run()
    assert not app.exception, app.exception


def assert_claims_shown(app: AppTest, shown, hidden) -> None:
    """The page's Markdown states every claim of `shown` and none of `hidden` (claims this run cannot back)."""
    markdown = texts(app.markdown)
    assert [claim.text for claim in shown if claim.text not in markdown] == []
    assert [claim.text for claim in hidden if claim.text in markdown] == []


def test_learning_rate_page(data_dir):
    app = open_page("06_learning_rate.py")
    assert app.title[0].value == "SGD and the learning rate"
    assert "63 steps" in texts(app.info)  # 2,000 images in batches of 32
    # Moving the batch size updates what an epoch is at once, without training.
    app.select_slider(key="lr_batch_size").set_value(128).run()
    assert "16 steps" in texts(app.info) and "430 steps per epoch" in texts(app.info)
    app.select_slider(key="lr_batch_size").set_value(32)
    app.multiselect(key="lr_rates").set_value([1e-4, 1.0])
    app.select_slider(key="lr_train_size").set_value(1_000)
    app.slider(key="lr_epochs").set_value(1)
    press(app, "lr_train")
    table = app.dataframe[0].value
    assert list(table["learning rate"]) == ["0.0001", "1"]
    assert list(table["verdict"]) == ["crawls", "diverged"]
    assert table["validation accuracy"].iloc[1] == "\u2014"  # the diverged run's missing value: a dash, not None
    # What happened to each run is listed under the table, where its sentences have room.
    assert "lr=0.0001: Trained the one epoch." in texts(app.markdown)
    assert "lr=1: The batch loss rose to" in texts(app.markdown)
    assert "lr=0.0001: **crawls**" in texts(app.success) and "lr=1: **diverged**" in texts(app.success)
    from lab.topics.learning_rate import CLAIMS

    assert all(claim.text in texts(app.markdown) for claim in CLAIMS)  # the page shows the tested claims
    results = app.session_state["lr_compare_results"]
    assert results[1.0].stop_reason == "diverged" and results[1e-4].config.train_size == 1_000

    app.slider(key="lr_range_steps").set_value(200)
    press(app, "lr_range_run")
    test = app.session_state["lr_range_result"]
    assert [metric.label for metric in app.metric] == ["Good region from", "Good region to", "Suggested rate"]
    assert app.metric[2].value == f"{test.suggested_rate:.2g}"
    assert 1e-4 < test.suggested_rate < 1.0
    # A rerun redraws from session state and does not train again.
    app.run()
    assert app.session_state["lr_compare_results"] is results


def test_decay_page(data_dir):
    app = open_page("07_decay.py")
    assert app.title[0].value == "Learning-rate decay"
    warning = texts(app.warning)
    assert "`decay=` is ignored in Keras 3" in warning and "0.01000" in warning and "0.00909" in warning
    assert "the slides' 30 epochs" not in app.radio(key="decay_horizon").options  # the slides give no epochs
    app.radio(key="decay_horizon").set_value("30 epochs of the full data (51,570 steps)").run()
    assert "51,570 steps" in texts(app.caption)
    app.select_slider(key="decay_learning_rate").set_value(0.1)
    app.select_slider(key="decay_rate").set_value(0.1)
    app.slider(key="decay_epochs").set_value(1)
    press(app, "decay_train")
    table = app.dataframe[-1].value
    assert list(table["schedule"]) == ["constant 0.1", "0.1 / (1 + 0.1 t)"]
    # The rate after the run's last step, counted as the schedule caption counts steps (it read the step
    # log's last entry before, up to log_every steps earlier: 0.1056 beside a caption's 0.104).
    decayed = app.session_state["decay_results"]["decay"]
    assert table["learning rate at the end"].iloc[1] == pytest.approx(0.1 / (1 + 0.1 * decayed.stop_step), rel=1e-5)
    assert "What to notice" in texts(app.success)
    assert "Too strong a decay (try 0.1)" not in texts(app.success)  # false at the page's defaults
    from lab.topics.decay import CLAIMS

    assert "**Adaptive Learning Rate**" in texts(app.markdown)
    assert all(claim.text in texts(app.markdown) for claim in CLAIMS)
    # Decay 0 makes both runs the same: the page says so and will not train.
    app.select_slider(key="decay_rate").set_value(0.0).run()
    assert "identical" in texts(app.warning) and app.button(key="decay_train").disabled


def test_initialisation_page(data_dir):
    app = open_page("08_initialisation.py")
    assert app.title[0].value == "Initialisation"
    app.multiselect(key="init_initialisers").set_value(["zeros", "glorot_uniform"])
    app.slider(key="init_epochs").set_value(1)
    press(app, "init_train")
    table = app.dataframe[0].value
    assert list(table["initialisation"]) == ["zeros", "Glorot (uniform)"]
    assert list(table["distinct neurons"]) == ["1 of 300", "300 of 300"]
    runs = app.session_state["init_results"]
    shown = [runs["zeros"].test_accuracy, runs["glorot_uniform"].test_accuracy]
    assert list(table["test accuracy"]) == pytest.approx(shown)  # the claims about them: tests/lab/test_claims.py
    assert "1 distinct neuron(s)" in texts(app.success)
    from lab.topics import initialisation

    # The header and the "move σ" outcomes are tested claims; the default-only ones need the default runs.
    assert_claims_shown(app, [initialisation.HEADLINE, *initialisation.TRY_CLAIMS], hidden=[initialisation.ZERO_CLAIM])
    assert "about chance" not in texts(app.success) and "stuck for many epochs" not in texts(app.success)
    app.radio(key="init_layer").set_value("hidden_2").run()
    assert list(app.dataframe[0].value["distinct neurons"]) == ["1 of 100", "100 of 100"]
    # A tiny stddev is accepted and shown in the run's label.
    app.multiselect(key="init_initialisers").set_value(["random_normal"])
    app.select_slider(key="init_stddev").set_value(0.0001)
    press(app, "init_train")
    assert list(app.dataframe[0].value["initialisation"]) == ["random normal (stddev 0.0001)"]


def test_gradients_page(data_dir):
    app = open_page("09_gradients.py")
    assert app.title[0].value == "Vanishing and exploding gradients"
    assert app.slider(key="grad_depth").value == 10
    app.slider(key="grad_depth").set_value(6)
    press(app, "grad_train")
    table = app.dataframe[0].value
    assert list(table["network"]) == ["6 x sigmoid, σ=0.1", "6 x sigmoid, σ=0.1, batch norm before"]
    assert list(app.dataframe[0].proto.column_order[:3]) == ["run", "hidden_1 / output", "test accuracy"]  # phone
    assert table["hidden_1 / output"].iloc[0] < 1e-2 < table["hidden_1 / output"].iloc[1]
    assert "times smaller" in texts(app.success)
    from lab.topics import gradients

    # The header and the "try" outcomes are tested claims (shown for any run); the defaults' only for 10 layers.
    assert_claims_shown(app, [gradients.HEADLINE, *gradients.TRY_CLAIMS], hidden=gradients.DEFAULT_CLAIMS[:1])
    assert "(even smaller)" not in texts(app.success)
    # Large weights with tanh explode towards the input; without the batch-norm twin only one run.
    # (Depth 10, as in the exploding-gradients preset, whose run this one shares through the result cache.)
    app.slider(key="grad_depth").set_value(10)
    app.selectbox(key="grad_activation").set_value("tanh")
    app.select_slider(key="grad_init_stddev").set_value(1.0)
    app.checkbox(key="grad_batch_norm").uncheck()
    press(app, "grad_train")
    assert len(app.dataframe[0].value) == 1 and "times larger" in texts(app.success)


def test_batch_norm_page(data_dir):
    app = open_page("10_batch_norm.py")
    assert app.title[0].value == "Batch normalisation"
    app.multiselect(key="bn_placements").set_value(["none", "before"])
    app.slider(key="bn_epochs").set_value(2)
    press(app, "bn_train")
    table = app.dataframe[0].value
    assert list(table["model"]) == ["no batch norm", "batch norm before activation"]
    assert "epochs to 78%" in table.columns and (table["ms per step (timed)"] > 0).all()
    assert "Epochs to 78%" in texts(app.success)
    app.slider(key="bn_target").set_value(0.70).run()  # moving the target re-reads the runs, no training
    assert "epochs to 70%" in app.dataframe[0].value.columns

    app.select_slider(key="bn_stats_images").set_value(1_000)
    press(app, "bn_stats_run")
    stats = app.session_state["bn_statistics"]
    assert stats.steps == 64  # 1,000 images in batches of 32, 2 epochs
    # Means and variances in two narrow tables, together the statistics table.
    means, variances = (frame.value for frame in app.dataframe[1:])
    assert list(means.columns) == ["unit", "batch mean", "moving mean", "all-images mean"]
    assert list(variances.columns) == ["unit", "batch variance", "moving variance", "all-images variance"]
    assert [metric.label for metric in app.metric] == [
        "Moving statistics", "Batch statistics, 256 images", "Batch statistics, 1 image"]
    assert app.metric[2].value == f"{stats.test_accuracy_batch_of_one:.1%}"
    assert "0.99^64" in texts(app.success)
    # γ and β: the histogram and the measured share are shown; the claims only for the default 5,000 images.
    assert any(element.key == "bn_scale_shift_chart" for element in app.get("plotly_chart"))
    shown = " ".join(markdown.value for markdown in app.markdown)
    assert f"In this run {stats.moved_share()['gamma']:.0%} of the units' γ" in shown
    assert not stats.is_default and "checked by the tests" not in shown
    from lab.topics import batch_norm

    # The header is a tested claim; the placements' claim shows only for the default comparison (not 2 models).
    assert batch_norm.HEADLINE.text in shown and batch_norm.PLACEMENT_CLAIMS[0].text not in shown
    assert "the moving statistics lag" not in texts(app.success)  # an untested outcome, now the 0.99^64 arithmetic


# ----------------------------------------------------------------------
# Settings in the URL
# ----------------------------------------------------------------------



# page file -> (a link's non-default settings, the widget values they mean, and a widget the link leaves at its
# default, to move: its kind, key, new value and the new value's URL text)
ROUND_TRIPS = {
    "06_learning_rate.py": (
        {"lr_rates": ["0.1", "1"], "lr_train_size": "1000", "lr_epochs": "1",
         "lr_range_min": "1e-06", "lr_range_max": "3", "lr_range_steps": "200"},
        {"lr_rates": [0.1, 1.0], "lr_train_size": 1_000, "lr_epochs": 1,
         "lr_range_min": 1e-6, "lr_range_max": 3.0, "lr_range_steps": 200},
        ("select_slider", "lr_batch_size", 128, "128"),
    ),
    "07_decay.py": (
        {"decay_learning_rate": "0.1", "decay_epochs": "2", "decay_horizon": "30 epochs of the full data (51,570 steps)"},
        {"decay_learning_rate": 0.1, "decay_epochs": 2, "decay_horizon": "30 epochs of the full data (51,570 steps)"},
        ("select_slider", "decay_rate", 0.1, "0.1"),
    ),
    "08_initialisation.py": (
        {"init_initialisers": ["zeros", "he_normal"], "init_stddev": "1", "init_epochs": "1"},
        {"init_initialisers": ["zeros", "he_normal"], "init_stddev": 1.0, "init_epochs": 1},
        ("selectbox", "init_activation", "sigmoid", "sigmoid"),
    ),
    "09_gradients.py": (
        {"grad_activation": "relu", "grad_init_stddev": "0.5", "grad_batch_norm": "false"},
        {"grad_activation": "relu", "grad_init_stddev": 0.5, "grad_batch_norm": False},
        ("slider", "grad_depth", 7, "7"),
    ),
    "10_batch_norm.py": (
        {"bn_placements": "after", "bn_target": "0.8", "bn_stats_images": "1000"},  # one value: a plain text
        {"bn_placements": ["after"], "bn_target": 0.8, "bn_stats_images": 1_000},
        ("slider", "bn_epochs", 5, "5"),
    ),
}


@pytest.mark.parametrize("file_name", first_everyday(*ROUND_TRIPS))
def test_settings_round_trip_through_the_url(file_name, data_dir):
    query, values, moved = ROUND_TRIPS[file_name]
    assert_round_trip(file_name, query, values, moved)


def test_a_link_with_the_old_horizon_name_gets_a_notice_and_the_safe_default(data_dir):
    # The option "the slides' 30 epochs" was renamed (the slides give no epoch count); old links still open.
    query = {"decay_horizon": "the slides' 30 epochs"}
    app = open_in_app("07_decay.py", query)
    assert_link_rejected(app, query)
    assert app.radio(key="decay_horizon").value == "this page's run"


@pytest.mark.parametrize("file_name, query", first_everyday(
    ("06_learning_rate.py", {"lr_epochs": "99", "lr_batch_size": "7", "lr_rates": "banana"}),
    ("07_decay.py", {"decay_rate": "inf", "decay_horizon": "forever"}),
    ("08_initialisation.py", {"init_activation": "softplus", "init_initialisers": "ones"}),
    ("09_gradients.py", {"grad_init_stddev": "abc", "grad_depth": "1e9", "grad_batch_norm": "maybe"}),
    ("10_batch_norm.py", {"bn_target": "nan", "bn_placements": "sideways", "lr_epochs": "2"}),
))
def test_hostile_links_get_a_notice_and_safe_defaults(file_name, query, data_dir):
    assert_link_rejected(open_in_app(file_name, query), query)


# ----------------------------------------------------------------------
# Lecture presets, opened the way a link opens them: app.py with ?preset=<slug>
# ----------------------------------------------------------------------


def test_every_preset_of_pages_6_to_10_is_tested():
    from lab.preset_lists.topics_6_10 import PRESETS

    tested = {"lr-too-large", "lr-range-test", "lr-decay", "decay-slides", "zero-init", "vanishing-gradients",
              "exploding-gradients", "batch-norm"}
    assert {preset.slug for preset in PRESETS} == tested
    assert {"Slide: learning rate too large", "Slide: zero initialisation"} <= {preset.title for preset in PRESETS}


# A preset's outcome sentences are claims (tests/lab/test_claims.py checks them at the defaults on the real data); here
# each preset opens its page with its settings, the page shows the result it got, and lists its tested claims
# exactly when its own rule says the result is the defaults' run.


def test_preset_learning_rate_too_large():
    from lab.topics.learning_rate import RUN_CLAIMS, verdict

    app = open_preset("lr-too-large")
    results = app.session_state["lr_compare_results"]
    assert list(results) == [0.1, 1.0]
    assert all(f"lr={rate:g}: **{verdict(result)}**" in texts(app.success) for rate, result in results.items())
    # The range test ran too, and its suggestion is what the page shows.
    test = app.session_state["lr_range_result"]
    assert app.metric[2].value == f"{test.suggested_rate:.2g}"
    assert all(claim.text in texts(app.markdown) for claim in RUN_CLAIMS)  # stated with its setup, for any run
    # The preset ran once: a rerun redraws the same results and does not run again.
    app.run()
    assert app.session_state["lr_compare_results"] is results


@full_tier_case  # the everyday tier opens one preset of these pages
def test_preset_learning_rate_range_test():
    from lab.topics.learning_rate import verdict

    app = open_preset("lr-range-test")
    results = app.session_state["lr_compare_results"]
    assert list(results) == [1e-4, 0.1, 1.0]
    assert all(f"lr={rate:g}: **{verdict(result)}**" in texts(app.success) for rate, result in results.items())
    test = app.session_state["lr_range_result"]
    assert [metric.label for metric in app.metric] == ["Good region from", "Good region to", "Suggested rate"]
    assert [metric.value for metric in app.metric] == [f"{test.good_low:.2g}", f"{test.good_high:.2g}",
                                                       f"{test.suggested_rate:.2g}"]


@full_tier_case  # the everyday tier opens one preset of these pages
def test_preset_learning_rate_decay_trains_once_per_server():
    app = open_preset("lr-decay")
    results = app.session_state["decay_results"]
    decayed = results["decay"]
    assert decayed.config.learning_rate == 0.3 and decayed.config.decay == 1e-2
    table = app.dataframe[-1].value
    assert list(table["schedule"]) == ["constant 0.3", "0.3 / (1 + 0.01 t)"]
    assert table["learning rate at the end"].iloc[1] == pytest.approx(0.3 / (1 + 0.01 * decayed.stop_step), rel=1e-5)
    # A second student opening the same preset gets the page's cached result: nothing runs again.
    from lab.service import get_service

    jobs = get_service().stats()["jobs"]
    again = open_preset("lr-decay")
    assert again.session_state["decay_results"]["decay"].history == decayed.history
    assert get_service().stats()["jobs"] == jobs + 3  # the schedule's three quick look-ups, no training


@full_tier_case  # the everyday tier opens one preset of these pages
def test_preset_slides_decay():
    app = open_preset("decay-slides")
    captions = texts(app.caption)
    assert "After 51,570 steps your rate is 0.00162 (16% of η₀)" in captions
    results = app.session_state["decay_results"]
    # Over this page's one short epoch, decay=1e-4 barely changes the rate.
    assert results["decay"].step_log[-1]["learning_rate"] > 0.99 * 0.01


@full_tier_case  # the everyday tier opens one preset of these pages
def test_preset_zero_initialisation():
    from lab.service import get_service
    from lab.topics import initialisation
    from lab.worker import engine_stats

    app = open_preset("zero-init")
    runs = app.session_state["init_results"]
    assert list(runs) == list(initialisation.INITIALISERS)
    zeros, glorot = runs["zeros"], runs["glorot_uniform"]
    # Zero kernels stay one neuron whatever the size of the run; random ones start (and stay) distinct.
    assert zeros.distinct == {"hidden_1": 1, "hidden_2": 1}
    assert glorot.distinct == {"hidden_1": 300, "hidden_2": 100}
    assert "1 distinct neuron(s)" in texts(app.success)
    assert f"Test accuracy {zeros.test_accuracy:.0%} (chance is 10%)" in texts(app.success)
    listed = initialisation.is_default_experiment(runs)
    assert [claim.text in texts(app.markdown) for claim in initialisation.DEFAULT_CLAIMS] == \
        [listed] * len(initialisation.DEFAULT_CLAIMS)
    assert initialisation.ZERO_CLAIM.text in texts(app.info)  # the preset's note
    service = get_service()
    jobs, created = service.jobs, service.run(engine_stats, kind="quick")["created"]
    assert created >= 1  # the worker's pool built the initialisation engines
    open_preset("zero-init")  # served from the page cache: no job reaches the worker, no new engine
    assert service.jobs == jobs + 1
    assert service.run(engine_stats, kind="quick")["created"] == created


@full_tier_case  # the everyday tier opens one preset of these pages
def test_preset_vanishing_gradients():
    from lab.topics import gradients

    app = open_preset("vanishing-gradients")
    runs = app.session_state["grad_results"]
    plain, fixed = runs["as configured"], runs["with batch norm"]
    # The gradient norms are measured on one batch before any training, so they are the defaults' own.
    assert gradients.diagnosis(plain) == "vanishing" and gradients.diagnosis(fixed) == "healthy"
    assert f"**{1 / plain.first_to_last:.1e} times smaller**" in texts(app.success)
    listed = gradients.is_default_experiment(runs)
    assert [claim.text in texts(app.markdown) for claim in gradients.DEFAULT_CLAIMS] == \
        [listed] * len(gradients.DEFAULT_CLAIMS)
    assert all(claim.text in texts(app.info) for claim in gradients.DEFAULT_CLAIMS)  # the preset's note


@full_tier_case  # the everyday tier opens one preset of these pages
def test_preset_exploding_gradients():
    from lab.topics.gradients import diagnosis

    app = open_preset("exploding-gradients")
    plain, fixed = app.session_state["grad_results"]["as configured"], app.session_state["grad_results"]["with batch norm"]
    assert diagnosis(plain) == "exploding" and plain.first_to_last > 1e2
    assert 1e-2 < fixed.first_to_last < 1e2
    assert "times larger" in texts(app.success)


@full_tier_case  # the everyday tier opens one preset of these pages
def test_preset_batch_normalisation():
    from lab.topics import batch_norm

    app = open_preset("batch-norm")
    results = app.session_state["bn_results"]
    assert list(results) == ["none", "before"]
    assert set(app.session_state["bn_step_seconds"]) == {"none", "before"}
    assert list(app.dataframe[0].value["model"]) == ["no batch norm", "batch norm before activation"]
    stats = app.session_state["bn_statistics"]
    assert f"0.99^{stats.steps}" in texts(app.success)
    assert app.metric[2].value == f"{stats.test_accuracy_batch_of_one:.1%}"
    listed = batch_norm.is_default_comparison(results)  # two of the three placements: not the default comparison
    assert not listed and batch_norm.PLACEMENT_CLAIMS[0].text not in texts(app.markdown)
    assert batch_norm.PLACEMENT_CLAIMS[0].text in texts(app.info)  # the preset's note
    assert ("checked by the tests" in texts(app.markdown)) is stats.is_default


def test_a_learning_rate_link_already_trained_here_shows_its_result_at_once_and_others_never_train(data_dir):
    from lab.service import get_service

    link = {"lr_rates": ["0.1", "1"], "lr_batch_size": "64"}
    first = open_in_app("06_learning_rate.py", link)
    assert "lr_loss_chart" not in [chart.key for chart in first.get("plotly_chart")]  # nobody trained it yet
    first.button(key="lr_train").click().run()
    assert sorted(first.session_state["lr_compare_results"]) == [0.1, 1.0]

    jobs = get_service().stats()["jobs"]
    opened = open_in_app("06_learning_rate.py", link)  # a student opening the shared link
    assert sorted(opened.session_state["lr_compare_results"]) == [0.1, 1.0]
    assert "lr_loss_chart" in [chart.key for chart in opened.get("plotly_chart")]
    assert "Press **Train these learning rates**" not in texts(opened.info)
    assert get_service().stats()["jobs"] == jobs  # shown from the server's cache: nothing ran in the worker

    other = open_in_app("06_learning_rate.py", {**link, "lr_batch_size": "128"})
    assert "lr_compare_results" not in other.session_state
    assert "Press **Train these learning rates**" in texts(other.info)
    assert get_service().stats()["jobs"] == jobs  # a link nobody trained waits for the button
