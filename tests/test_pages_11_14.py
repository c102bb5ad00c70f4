"""AppTest for pages 11-14: each page opens, its main controls move, and what it renders is checked.

Trainings run small: with the widgets' smallest settings, or, where a test opens a preset or keeps a page's
defaults, as the small real experiments of tests/canned.py. The claims are tested at the pages' defaults in
tests/lab/test_claims.py.
"""

import math

import numpy as np

import pytest
from streamlit.testing.v1 import AppTest

from lab.topics import clipping, losses
from lab.topics import optimizers as opt
from tests.conftest import ROOT, full_tier_case

pytestmark = pytest.mark.usefixtures("small_experiments")  # small real experiments: tests/canned.py
TIMEOUT = 120


def open_page(file_name: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app_pages" / file_name), default_timeout=TIMEOUT).run()
    assert not app.exception, app.exception
    return app


def chart_keys(app: AppTest) -> list:
    return [element.key for element in app.get("plotly_chart")]


def table_with(app: AppTest, column: str):
    """The last table that has `column` (the Keras code expander adds tables of its own)."""
    return [table.value for table in app.table if column in table.value.columns][-1]


def metrics(app: AppTest) -> dict:
    return {metric.label: metric.value for metric in app.metric}


# ----------------------------------------------------------------------
def test_clipping_page_calculator_and_rescue(data_dir):
    app = open_page("11_clipping.py")
    assert app.title[0].value == "Gradient clipping"
    assert any("clipnorm" in latex.value or "lVert" in latex.value for latex in app.latex)
    # Up front: clipnorm works per weight tensor; only global_clipnorm keeps the whole gradient's direction.
    claim = app.markdown[0].value
    assert "**each weight tensor**" in claim and "Only `global_clipnorm`" in claim and "whole vector" not in claim
    from lab.topics.clipping import RESCUE_CLAIMS as CLAIMS

    assert all(claim.text in "\n".join(m.value for m in app.markdown) for claim in CLAIMS)
    # The slides' example is clipped on opening: clipnorm gives the exact [0.0099995, 0.99995].
    table = app.table[0].value
    assert table["components"].tolist() == ["[0.1, 10]", "[0.1, 1]", "[0.0099995, 0.99995]"]
    assert "clip_arrows" in chart_keys(app)
    assert any("one 9 too" in caption.value for caption in app.caption)

    app.text_input(key="clip_vector").set_value("1, abc")
    app.button(key="clip_calculate").click().run()
    assert "Entry 2 ('abc') is not a number" in app.error[0].value
    assert not app.exception

    app.text_input(key="clip_vector").set_value("3, 4, 12")
    app.number_input(key="clip_calc_threshold").set_value(1.0)
    app.button(key="clip_calculate").click().run()
    assert not app.error
    table = app.table[0].value
    assert table["components"].tolist()[1:] == ["[1, 1, 1]", "[0.230769, 0.307692, 0.923077]"]
    assert "clip_bars" in chart_keys(app)

    assert "Press **Train without and with clipping**" in app.info[-1].value
    app.select_slider(key="clip_train_size").set_value(2_000)
    app.button(key="clip_train").click().run()
    assert not app.exception
    shown = metrics(app)
    assert shown["Without clipping: validation accuracy"] == "diverged"
    assert shown["With clipnorm=1: validation accuracy"].endswith("%")
    assert shown["Steps clipped"].endswith("%")
    assert {"clip_loss", "clip_norms"} <= set(chart_keys(app))
    assert "that blew up plain SGD trains with clipping" in app.success[0].value
    results = app.session_state["clip_results"]
    app.run()  # a rerun redraws from session state and does not train again
    assert app.session_state["clip_results"] is results


# ----------------------------------------------------------------------
def test_optimizers_page_surface_race_and_adagrad(data_dir):
    app = open_page("12_optimizers.py")
    assert [tab.label for tab in app.tabs] == ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]
    assert any(r"\hat m" in latex.value for latex in app.latex)

    app.selectbox(key="opt_surface").set_value("saddle")
    app.multiselect(key="opt_optimizers").set_value(["sgd", "adagrad", "adam"])
    app.slider(key="opt_steps").set_value(30)
    app.button(key="opt_run").click().run()
    assert not app.exception
    experiment = app.session_state["opt_trajectories"]
    assert experiment["surface"] == "saddle" and list(experiment["trajectories"]) == ["sgd", "adagrad", "adam"]
    assert {"opt_surface_chart", "opt_loss_chart", "opt_effective_2d"} <= set(chart_keys(app))
    assert any("RMSprop and Adam leave the ridge" in info.value for info in app.info)
    assert any(r"1 - \beta_1^{30}" in latex.value for latex in app.latex)

    app.slider(key="opt_step").set_value(4).run()
    assert any(r"1 - \beta_1^{4} = 0.3439" in latex.value for latex in app.latex)
    app.selectbox(key="opt_equation_optimizer").set_value("adagrad").run()
    assert any("effective learning rate per coordinate" in latex.value for latex in app.latex)

    app.multiselect(key="opt_race_optimizers").set_value(["sgd", "adam"])
    app.select_slider(key="opt_race_train_size").set_value(1_000)
    app.slider(key="opt_race_epochs").set_value(1)
    app.button(key="opt_race_run").click().run()
    assert not app.exception
    race = table_with(app, "validation accuracy")
    assert set(race["optimizer"]) == {"SGD", "Adam"} and (race["validation accuracy"] > 0.1).all()
    assert {"opt_race_accuracy", "opt_race_steps"} <= set(chart_keys(app))
    # The race's claims are about the default race; a two-optimizer race on 1,000 images does not state them.
    race_notice = next(info.value for info in app.info if "Same start, same batches" in info.value)
    assert not any(claim.text in race_notice for claim in opt.RACE_CLAIMS)
    assert f"{race['optimizer'][0]} ended with the highest validation accuracy" in race_notice

    app.slider(key="opt_adagrad_epochs").set_value(1)
    app.checkbox(key="opt_adagrad_compare").uncheck()
    app.button(key="opt_adagrad_run").click().run()
    assert not app.exception
    assert "opt_effective_chart" in chart_keys(app)
    assert any(label.startswith("AdaGrad: output layer's rate") for label in metrics(app))
    notice = next(info.value for info in app.info if "AdaGrad's lines only go down" in info.value)
    assert "would keep" in notice and not any(claim.text in notice for claim in opt.ADAGRAD_CLAIMS)


# ----------------------------------------------------------------------
def test_losses_page_calculators_regression_agreement_and_custom(data_dir):
    app = open_page("13_losses.py")
    shown = metrics(app)
    assert float(shown["Cross-entropy (nats)"]) == pytest.approx(-math.log(0.7), abs=1e-4)
    assert shown["Entropy"] == "0.242 bits"

    app.selectbox(key="loss_ce_target").set_value(1).run()
    assert float(metrics(app)["Cross-entropy (nats)"]) == pytest.approx(-math.log(0.1), abs=1e-4)
    app.button(key="loss_entropy_balanced").click().run()
    assert metrics(app)["Entropy"] == "2.000 bits"
    for i in range(4):
        app.slider(key=f"loss_ce_w{i}").set_value(0)
    app.run()
    assert "using equal weights instead" in app.warning[0].value
    assert not app.exception

    app.slider(key="loss_outliers").set_value(20)
    app.button(key="loss_fit").click().run()
    assert not app.exception
    shown = metrics(app)
    assert float(shown["MSE fit slope"]) < 0 < float(shown["MAE fit slope"])
    assert "loss_regression_chart" in chart_keys(app)
    # The header and the outcome sentences are tested claims; the default-only ones show for 10 outliers only.
    markdown = "\n".join(element.value for element in app.markdown)
    assert losses.HEADLINE.text in markdown and losses.REGRESSION_TRY_CLAIMS[0].text in markdown
    assert losses.REGRESSION_CLAIMS[0].text not in markdown
    assert "MAE gives way too" not in "\n".join(element.value for element in app.info)

    app.button(key="loss_agreement_run").click().run()
    table = table_with(app, "Keras loss")
    assert table["value"][0] == pytest.approx(table["value"][1], rel=1e-6)
    assert table["value"][3] == pytest.approx(table["value"][4], rel=1e-5)

    assert "def huber_loss(y_true, y_pred" in app.code[0].value
    app.select_slider(key="loss_delta").set_value(0.05)
    app.button(key="loss_custom_run").click().run()
    assert not app.exception
    fits = table_with(app, "slope")
    assert list(fits["loss"]) == ["MSE fit", "MAE fit", "custom Huber fit"]
    assert abs(fits["slope"][2] - fits["slope"][1]) < abs(fits["slope"][2] - fits["slope"][0])
    markdown = "\n".join(element.value for element in app.markdown)
    assert losses.CUSTOM_CLAIMS[0].text in markdown and losses.CUSTOM_TRY_CLAIMS[0].text in markdown


# ----------------------------------------------------------------------
def test_practice_page_checks_and_progress(data_dir):
    app = open_page("14_practice.py")
    assert app.get("progress")[0].proto.text == "0 of 4 exercises passed this session"

    app.select_slider(key="practice_diverge_lr").set_value(3.0)
    app.button(key="practice_diverge_run").click().run()
    assert not app.exception
    assert app.success[0].value.startswith("Passed. Diverged at learning rate 3")
    # The diverged run's loss chart is no longer blank: its per-step loss climbs from step 0 to the marked step.
    import json

    specs = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    loss = next(spec for spec in specs if spec["layout"]["title"]["text"] == "Loss")
    per_step = next(trace for trace in loss["data"] if trace["name"] == "per-step loss")
    values = [value for value in per_step["y"] if value is not None]
    assert per_step["x"][0] == 0 and max(values) > 10 * values[0]
    assert loss["layout"]["annotations"][0]["text"].startswith("diverged at step")
    assert app.tabs[0].label.startswith("\u2705")
    assert app.get("progress")[0].proto.text == "1 of 4 exercises passed this session"

    app.radio(key="practice_zero_answer").set_value(0)
    app.button(key="practice_zero_run").click().run()
    assert any(w.value.startswith("Not yet. The loss is not zero") for w in app.warning)
    app.radio(key="practice_zero_answer").set_value(1)
    app.button(key="practice_zero_run").click().run()
    assert app.get("progress")[0].proto.text == "2 of 4 exercises passed this session"
    assert app.session_state["practice_passed"] == {"diverge", "zero_init"}


# ======================================================================
# Class-ready: settings in the URL, notices for bad links, lecture presets
# ======================================================================
# AppTest runs the app without a browser: a link's query parameters set the
# widgets (tested here), but moving a widget changes the URL in the browser's
# frontend, not in the script, so that direction is in tests/browser/test_topics_11_14.py.
def open_through_app(file_name: str, **query) -> AppTest:
    """Open a page through app.py (presets, link checks, Share) with the given query parameters."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    for key, value in query.items():
        app.query_params[key] = value
    app.switch_page(f"app_pages/{file_name}")
    app.run()
    assert not app.exception, app.exception
    return app


def link_notice(app: AppTest) -> str:
    notices = [w.value for w in app.warning if w.value.startswith("This link had settings")]
    assert len(notices) == 1, [w.value for w in app.warning]
    return notices[0]


def test_clipping_settings_come_from_the_link_and_bad_ones_get_a_notice(data_dir):
    app = open_through_app("11_clipping.py", clip_vector="3, 4", clip_calc_threshold="2.5", clip_learning_rate="2",
                           clip_mode="clipvalue", clip_threshold="0.25", clip_train_size="1000", clip_epochs="1")
    assert app.text_input(key="clip_vector").value == "3, 4"
    assert app.number_input(key="clip_calc_threshold").value == 2.5
    assert app.select_slider(key="clip_learning_rate").value == 2.0
    assert app.radio(key="clip_mode").value == "clipvalue"
    assert app.select_slider(key="clip_threshold").value == 0.25
    assert (app.select_slider(key="clip_train_size").value, app.slider(key="clip_epochs").value) == (1_000, 1)
    # The calculator ran on the link's vector: [3, 4] has norm 5, so clipnorm=2.5 halves it.
    assert app.session_state["clip_comparison"].clipped["norm"] == pytest.approx([1.5, 2.0], rel=1e-6)
    assert not [w for w in app.warning if w.value.startswith("This link")]

    app = open_through_app("11_clipping.py", clip_epochs="9", clip_mode="clipmagic", clip_threshold="nan",
                           clip_vector="__import__('os')", lab_optimizer="adam")
    notice = link_notice(app)
    for text in ("`clip_epochs=9` is not an allowed value, so the default `2`", "`clip_mode=clipmagic`",
                 "`clip_threshold=nan`", "`lab_optimizer` is not a setting of this page"):
        assert text in notice
    assert (app.slider(key="clip_epochs").value, app.radio(key="clip_mode").value) == (2, "clipnorm")
    # A text field takes any text; the page refuses it and shows the slides' example instead.
    assert "That is not a gradient vector" in app.error[0].value
    assert app.table[0].value["components"].tolist()[0] == "[0.1, 10]"


def test_optimizer_settings_come_from_the_link_and_bad_ones_get_a_notice(data_dir):
    app = open_through_app("12_optimizers.py", opt_surface="saddle", opt_optimizers=["momentum", "adam"],
                           opt_steps="30", opt_momentum="0.8", opt_beta_2="0.99", opt_race_optimizers=["sgd", "adam"],
                           opt_race_train_size="1000", opt_race_epochs="1", opt_adagrad_lr="0.003",
                           opt_adagrad_compare="false")
    assert app.selectbox(key="opt_surface").value == "saddle"
    assert app.multiselect(key="opt_optimizers").value == ["momentum", "adam"]
    assert (app.slider(key="opt_steps").value, app.slider(key="opt_momentum").value) == (30, 0.8)
    assert app.select_slider(key="opt_beta_2").value == 0.99
    assert app.multiselect(key="opt_race_optimizers").value == ["sgd", "adam"]
    assert (app.select_slider(key="opt_race_train_size").value, app.slider(key="opt_race_epochs").value) == (1_000, 1)
    assert app.select_slider(key="opt_adagrad_lr").value == 0.003 and app.checkbox(key="opt_adagrad_compare").value is False
    app.button(key="opt_run").click().run()
    experiment = app.session_state["opt_trajectories"]
    assert experiment["surface"] == "saddle" and list(experiment["trajectories"]) == ["momentum", "adam"]
    assert experiment["trajectories"]["momentum"].config.momentum == 0.8 and experiment["steps"] == 30

    app = open_through_app("12_optimizers.py", opt_surface="everest", opt_steps="-5", opt_beta_2="0.5")
    notice = link_notice(app)
    assert "`opt_surface=everest` is not an allowed value, so the default `bowl`" in notice
    assert "`opt_steps=-5`" in notice and "`opt_beta_2=0.5`" in notice
    assert (app.selectbox(key="opt_surface").value, app.slider(key="opt_steps").value) == ("bowl", 100)


def test_loss_settings_come_from_the_link_and_bad_ones_get_a_notice(data_dir):
    app = open_through_app("13_losses.py", loss_outliers="20", loss_ce_target="1", loss_ce_w0="30",
                           loss_entropy_w0="25", loss_pair="T-shirt/top vs Shirt", loss_delta="0.5",
                           loss_custom_outliers="5")
    assert (app.slider(key="loss_outliers").value, app.selectbox(key="loss_ce_target").value) == (20, 1)
    # Weights 30, 10, 10, 10 give the true class 1 a probability of 1/6.
    assert float(metrics(app)["Cross-entropy (nats)"]) == pytest.approx(math.log(6), abs=1e-4)
    assert app.slider(key="loss_entropy_w0").value == 25
    assert app.selectbox(key="loss_pair").value == "T-shirt/top vs Shirt"
    assert (app.select_slider(key="loss_delta").value, app.slider(key="loss_custom_outliers").value) == (0.5, 5)

    app = open_through_app("13_losses.py", loss_outliers="1e9", loss_pair="Cats vs Dogs", loss_delta="abc",
                           loss_ce_target="7")
    notice = link_notice(app)
    assert "`loss_outliers=1e9` is not an allowed value, so the default `10`" in notice
    assert "`loss_pair=Cats vs Dogs`" in notice and "`loss_delta=abc`" in notice and "`loss_ce_target=7`" in notice
    assert app.selectbox(key="loss_pair").value == "Sneaker vs Ankle boot"


def test_practice_settings_come_from_the_link_and_bad_ones_get_a_notice(data_dir):
    app = open_through_app("14_practice.py", practice_diverge_lr="1", practice_target_optimizer="adam",
                           practice_target_lr="0.001", practice_target_batch="64", practice_target_train_size="5000",
                           practice_deep_batch_norm="before", practice_deep_init="he_normal", practice_deep_epochs="3")
    assert app.select_slider(key="practice_diverge_lr").value == 1.0
    assert app.selectbox(key="practice_target_optimizer").value == "adam"
    assert app.select_slider(key="practice_target_lr").value == 0.001
    assert (app.select_slider(key="practice_target_batch").value,
            app.select_slider(key="practice_target_train_size").value) == (64, 5_000)
    assert app.radio(key="practice_deep_batch_norm").value == "before"
    assert (app.selectbox(key="practice_deep_init").value, app.slider(key="practice_deep_epochs").value) == (
        "he_normal", 3)

    app = open_through_app("14_practice.py", practice_diverge_lr="1e6", practice_deep_batch_norm="sideways")
    notice = link_notice(app)
    assert "`practice_diverge_lr=1e6` is not an allowed value, so the default `0.01`" in notice
    assert "`practice_deep_batch_norm=sideways`" in notice
    assert app.get("progress")[0].proto.text == "0 of 4 exercises passed this session"


# ----------------------------------------------------------------------
def open_preset(slug: str, file_name: str) -> AppTest:
    """Open a lecture preset the way its link does, and check its note and settings."""
    from lab.preset_lists import by_slug

    app = open_through_app(file_name, preset=slug)
    preset = by_slug(slug)
    assert app.info[0].value.startswith(f"**{preset.title}.**")
    for key, value in preset.settings.items():
        assert app.session_state[key] == value, key
    return app


def first_step_beyond(trajectory, limit: float = 0.5) -> int:
    """The first step at which the path is more than `limit` off the saddle's ridge (|y| > limit)."""
    return int(np.argmax(np.abs(trajectory.points[:, 1]) > limit))


def test_every_preset_of_pages_11_to_14_is_a_slide_with_valid_settings():
    from lab.preset_lists.topics_11_14 import PRESETS
    from ui.catalog import PAGES

    prefixes = {page.url_path: page.prefix for page in PAGES}
    slugs = {preset.slug for preset in PRESETS}
    assert {"momentum-vs-adam", "clipping-by-norm"} <= slugs
    assert {preset.page for preset in PRESETS} == {"clipping", "optimizers", "losses", "practice"}
    for preset in PRESETS:
        assert preset.title.startswith("Slide: ")
        assert all(key.startswith(prefixes[preset.page]) for key in preset.settings)


# A preset's outcome sentences are claims (tests/lab/test_claims.py checks them at the defaults on the real data); here
# each preset opens its page with its settings and the page shows the result it got. The calculator, the paths on
# the 2-D surface and the line fits are quick, so those are the presets' real results.
def assert_rescue_shown(app, results) -> None:
    """The metrics and the verdict of the clipping page's two runs are those of `results`."""
    without, with_clip = results["without"], results["with"]
    shown = metrics(app)
    for label, run in (("Without clipping", without), (f"With {clipping.run_label(with_clip)}", with_clip)):
        assert shown[f"{label}: validation accuracy"] == (
            "diverged" if run.stop_reason == "diverged" else f"{run.history['val_accuracy'][-1]:.1%}")
    assert shown["Steps clipped"] == f"{with_clip.clipped_fraction:.0%}"
    rescued = without.stop_reason == "diverged" and with_clip.stop_reason != "diverged"
    assert ("that blew up plain SGD trains with clipping" in "\n".join(s.value for s in app.success)) is rescued


def test_preset_clipping_by_norm_rescues_learning_rate_one_and_answers_from_the_cache(data_dir):
    from lab.admission import TRAINING

    app = open_preset("clipping-by-norm", "11_clipping.py")
    comparison = app.session_state["clip_comparison"]
    assert comparison.angles["norm"] < 1e-3 and comparison.angles["value"] == pytest.approx(5.14, abs=0.01)
    results = app.session_state["clip_results"]
    with_clip = results["with"]
    assert (with_clip.config.clip, with_clip.config.clip_threshold, with_clip.config.learning_rate) == ("norm", 0.5, 1.0)
    assert results["without"].config.clip == "none" and results["without"].config.learning_rate == 1.0
    assert_rescue_shown(app, results)

    trained = TRAINING.stats()["trained"]
    again = open_preset("clipping-by-norm", "11_clipping.py")  # a second student opens the same link
    assert TRAINING.stats()["trained"] == trained  # both runs came from the server's result cache
    assert again.session_state["clip_results"]["with"].history == with_clip.history


@full_tier_case  # the everyday tier opens one preset of these pages
def test_preset_clipping_by_value_rescues_learning_rate_half(data_dir):
    app = open_preset("clipping-by-value", "11_clipping.py")
    assert app.session_state["clip_comparison"].clipped["value"] == pytest.approx([0.1, 1.0], rel=1e-6)
    results = app.session_state["clip_results"]
    with_clip = results["with"]
    assert (with_clip.config.clip, with_clip.config.clip_threshold, with_clip.config.learning_rate) == ("value", 0.1, 0.5)
    assert_rescue_shown(app, results)


@full_tier_case  # the everyday tier opens one preset of these pages
def test_preset_momentum_vs_adam_on_the_saddle_and_in_the_race(data_dir):
    app = open_preset("momentum-vs-adam", "12_optimizers.py")
    experiment = app.session_state["opt_trajectories"]
    assert experiment["surface"] == "saddle" and list(experiment["trajectories"]) == ["sgd", "momentum", "adam"]
    escape = {name: first_step_beyond(path) for name, path in experiment["trajectories"].items()}
    assert escape["adam"] <= 10 < escape["momentum"] <= 20 < 30 < escape["sgd"]
    race = app.session_state["opt_race"]
    assert list(race) == ["sgd", "momentum", "adam"]
    assert list(table_with(app, "validation accuracy")["optimizer"]) == list(opt.race_table(race)["optimizer"])
    assert {"opt_surface_chart", "opt_race_accuracy", "opt_race_steps"} <= set(chart_keys(app))
    assert "opt_adagrad" not in app.session_state  # the slow AdaGrad experiment waits for its button


@full_tier_case  # the everyday tier opens one preset of these pages
def test_preset_mse_vs_mae_tilts_the_mse_line_and_not_the_mae_line(data_dir):
    app = open_preset("mse-vs-mae", "13_losses.py")
    regression = app.session_state["loss_regression"]
    fits, clean = regression["fits"], regression["clean_fits"]
    assert regression["outliers"] == 20 and clean["mse"].slope > 0.5
    assert fits["mse"].slope < 0 < fits["mae"].slope
    assert abs(fits["mae"].slope - clean["mae"].slope) < abs(fits["mse"].slope - clean["mse"].slope) / 3
    custom = app.session_state["loss_custom"]["fits"]
    assert abs(custom["custom"].slope - custom["mae"].slope) < abs(custom["custom"].slope - custom["mse"].slope)
    assert "loss_agreement" not in app.session_state  # the small network trains only from its button


def test_practice_texts_state_no_unmeasured_figures():
    from lab.topics import practice

    # The slides state no accuracy: the target exercise's hint no longer quotes one.
    assert "84%" not in practice.EXERCISES["target"].hint and "%" not in practice.EXERCISES["target"].hint
    # The deep-sigmoid task's outcome sentence is a declared claim.
    assert practice.EXERCISES["deep_sigmoid"].task.startswith(practice.DEEP_CLAIM.text)


def test_preset_make_sgd_diverge_shows_the_divergence_without_passing_it_for_the_student(data_dir):
    app = open_preset("make-sgd-diverge", "14_practice.py")
    attempt = app.session_state["practice_attempts"]["diverge"]
    assert attempt["check"].passed and attempt["result"].stop_reason == "diverged"
    assert attempt["result"].config.learning_rate == 3.0
    assert app.session_state["practice_passed"] == set()
    assert any("opened by a lecture preset" in caption.value for caption in app.caption)


def test_an_optimizers_link_already_run_here_shows_its_paths_and_race_at_once_without_training(data_dir):
    from lab.service import get_service
    from tests.apptest_links import open_in_app

    # Settings no other test runs: the other races here run two epochs, or SGD and Adam (and tests/canned.py runs
    # every race on at most 1,000 images, so the race's size alone would not tell them apart).
    link = {"opt_surface": "rosenbrock", "opt_steps": "60", "opt_race_optimizers": ["momentum", "rmsprop"],
            "opt_race_train_size": "3000", "opt_race_epochs": "1"}
    first = open_in_app("12_optimizers.py", link)
    assert "opt_trajectories" not in first.session_state and "opt_race" not in first.session_state
    first.button(key="opt_run").click().run()
    first.button(key="opt_race_run").click().run()
    assert not first.exception

    jobs = get_service().stats()["jobs"]
    opened = open_in_app("12_optimizers.py", link)  # a student opening the shared link
    assert opened.session_state["opt_trajectories"]["surface"] == "rosenbrock"
    assert list(opened.session_state["opt_race"]) == ["momentum", "rmsprop"]
    assert {"opt_surface_chart", "opt_race_accuracy"} <= set(chart_keys(opened))
    assert get_service().stats()["jobs"] == jobs  # served from the server's caches: nothing ran

    other = open_in_app("12_optimizers.py",
                        {**link, "opt_steps": "70", "opt_race_optimizers": ["momentum", "nesterov"]})
    assert "opt_trajectories" not in other.session_state and "opt_race" not in other.session_state
    assert get_service().stats()["jobs"] == jobs
