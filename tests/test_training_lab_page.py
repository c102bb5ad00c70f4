"""AppTest: the Training Lab page opens, shows the right knobs, trains, explains, compares, and guards uploads."""

import dataclasses
import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from lab import runs as lab_runs
from lab.config import OPTIMIZER_PARAMETERS
from tests.conftest import ROOT, first_everyday

pytestmark = pytest.mark.usefixtures("small_experiments")  # small real experiments: tests/canned.py
TIMEOUT = 120
RUNS_KEY = "training_lab_runs"
PARAMETER_LABELS = {
    "learning_rate": "Learning rate η", "decay": "Decay: η / (1 + decay · step)", "momentum": "Momentum β",
    "rho": "ρ (decay of squared gradients)", "beta_1": "β₁ (first moment)", "beta_2": "β₂ (second moment)",
    "epsilon": "ε (added to the denominator)",
}


def _open() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app_pages" / "training_lab.py"), default_timeout=TIMEOUT).run()
    assert not app.exception
    return app


def _small(app: AppTest, seed: int, **settings) -> AppTest:
    """Set a ~500-image, 1-epoch run with its own seed (so the shared result cache does not answer)."""
    app.select_slider(key="lab_train_size").set_value(500)
    app.select_slider(key="lab_validation_size").set_value(500)
    app.slider(key="lab_epochs").set_value(1)
    app.number_input(key="lab_seed").set_value(seed)
    for key, value in settings.items():
        app.select_slider(key=f"lab_{key}").set_value(value)
    return app


def _texts(elements) -> str:
    return "\n".join(element.value for element in elements)


def test_page_opens_with_defaults_that_train_in_seconds(data_dir):
    app = _open()
    assert app.title[0].value == "Training Lab"
    assert "Press **Train**" in _texts(app.info)
    assert app.select_slider(key="lab_train_size").value == 10_000
    assert app.slider(key="lab_epochs").value == 5
    assert app.button(key="lab_train").label == "Train"
    # Nothing trains on open: the one chart is the empty loss axes, which also makes the browser load Plotly.
    assert [chart.key for chart in app.get("plotly_chart")] == ["lab_waiting_loss"]
    assert not app.session_state["training_lab_runs"].records


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_changing_the_optimizer_shows_only_its_parameters(data_dir, optimizer):
    app = _open()
    app.selectbox(key="lab_optimizer").set_value(optimizer).run()
    assert not app.exception
    shown = {slider.label for slider in app.select_slider} & set(PARAMETER_LABELS.values())
    assert shown == {PARAMETER_LABELS[name] for name in OPTIMIZER_PARAMETERS[optimizer]}
    assert not app.session_state["training_lab_runs"].records  # choosing does not train


def test_clipping_threshold_appears_only_with_clipping(data_dir):
    app = _open()
    assert not any(s.label.startswith("Clip threshold") for s in app.select_slider)
    app.selectbox(key="lab_clip").set_value("global_norm").run()
    assert any(s.label == "Clip threshold (by global norm)" for s in app.select_slider)


def test_lecture_preset_sets_the_full_configuration(data_dir):
    app = _open()
    app.button(key="lab_preset_lecture").click().run()
    assert not app.exception
    assert app.select_slider(key="lab_train_size").value == 0  # "all": 55,000 images
    assert app.select_slider(key="lab_learning_rate").value == 0.01
    assert app.select_slider(key="lab_batch_size").value == 32
    assert app.session_state["lab_optimizer"] == "sgd"
    assert RUNS_KEY not in app.session_state or not app.session_state[RUNS_KEY].records


def test_training_draws_charts_keeps_the_run_and_compares_an_ab_pair(data_dir):
    app = _open()
    app.selectbox(key="lab_optimizer").set_value("adam").run()  # outside the form: applies at once
    _small(app, seed=101).button(key="lab_train").click().run()
    assert not app.exception
    history = app.session_state[RUNS_KEY]
    assert len(history) == 1
    run = history.latest
    assert run.status == "completed" and run.config.optimizer == "adam" and run.config.train_size == 500
    assert run.step_log and run.test_accuracy is not None
    assert [m.label for m in app.metric][:3] == ["Test accuracy", "Test loss", "Validation accuracy"]
    titles = [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in app.get("plotly_chart")]
    assert {"Loss", "Accuracy", "validation accuracy by epoch"} <= set(titles)
    # A rerun redraws from session state and does not train again.
    app.run()
    assert len(app.session_state[RUNS_KEY]) == 1
    # The other result tabs render lazily when chosen.
    app.session_state["lab_result_tab"] = "Test results"
    app.run()
    titles = [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in app.get("plotly_chart")]
    assert "Confusion matrix (test set)" in titles and "Test accuracy per class" in titles
    app.session_state["lab_result_tab"] = "Predictions"
    app.run()
    gallery = [json.loads(c.proto.spec) for c in app.get("plotly_chart") if "lab_prediction" in c.proto.id]
    assert len(gallery) == 12
    assert {trace["type"] for trace in gallery[0]["data"]} == {"heatmap", "bar"}
    # Same-seed A/B: re-run with the learning rate changed, nothing else.
    app.session_state["lab_result_tab"] = "Curves"
    app.session_state["lab_runs_tab"] = "Same-seed A/B"
    app.run()
    assert not app.multiselect  # only the open tab runs: no Compare widgets behind it
    # Issue 10: choosing the setting to change keeps the A/B tab open (it threw the user back to Compare).
    app.selectbox(key="lab_ab_setting").set_value("batch_size").run()
    assert app.session_state["lab_runs_tab"] == "Same-seed A/B"
    app.selectbox(key="lab_ab_setting").set_value("learning_rate").run()
    assert app.session_state["lab_runs_tab"] == "Same-seed A/B"
    app.selectbox(key="lab_ab_value_learning_rate").set_value(0.001).run()
    app.button(key="lab_ab_run").click().run()
    assert app.session_state["lab_runs_tab"] == "Same-seed A/B"  # the user's tab, until they choose another
    app.session_state["lab_runs_tab"] = "Compare"
    app.run()
    assert not app.exception
    a, b = app.session_state[RUNS_KEY].records
    assert b.ab_of == a.run_id and b.config.seed == a.config.seed
    assert lab_runs.differing_settings([a, b]) == ["learning_rate"]
    assert "B of #1: learning_rate 0.01 -> 0.001 (same seed)" == b.note
    compare = app.multiselect[0]
    assert compare.value == [a.run_id, b.run_id]
    assert "Highlighted settings differ between these runs: learning rate." in _texts(app.caption)


def _paths(node, path=()):
    """(path, element) for every element under an AppTest node; a path is the element's place in the page."""
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for index, child in sorted(children.items()):
            yield from _paths(child, path + (index,))
    else:
        yield path, node


def _places_of_results(app: AppTest) -> dict:
    """Where the results' landmarks are in the page: the newest run's first metric, the "Run" picker and the
    "Runs in this session" header."""
    places = {}
    for path, element in _paths(app._tree):
        for name in ("label", "value"):
            text = getattr(element, name, None)
            if isinstance(text, str) and text.startswith(("Test accuracy", "Run", "Runs in this session")):
                places.setdefault(text.split(" (")[0], path)
    return places


@pytest.mark.parametrize("presenting", first_everyday(False, True))
def test_the_results_keep_their_place_in_the_rerun_that_follows_a_training(data_dir, presenting):
    # Every training ends with one more full rerun (ui.live._watch_for_toolbar_stop). When it drew the results
    # two places higher than the training's run had, a loaded browser showed the run's metrics and "Runs in
    # this session" twice until it ended (and a CI browser test found two headers).
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    app.query_params["present"] = str(presenting).lower()
    app.run()
    app.switch_page("app_pages/training_lab.py").run()
    _small(app, seed=131).button(key="lab_train").click().run()
    assert not app.exception
    after_training = _places_of_results(app)
    assert {"Test accuracy", "Run", "Runs in this session"} <= set(after_training)
    app.run()  # the rerun that the toolbar-Stop watch asks for once the training has ended
    assert _places_of_results(app) == after_training


def test_a_divergent_run_is_explained(data_dir):
    app = _small(_open(), seed=102, learning_rate=10.0)
    app.button(key="lab_train").click().run()
    assert not app.exception
    run = app.session_state[RUNS_KEY].latest
    assert run.status == "diverged"
    errors = _texts(app.error)
    assert "the learning rate 10 is too large for SGD; try 0.1 or add gradient clipping" in errors
    assert re.search(r"The batch loss (became NaN at|exploded to \S+ at) step \d+: ", errors)

    # A widget pressed just after the run ended by itself interrupts no training: the run is explained as
    # diverged, never announced as stopped. A run the press did interrupt is announced.
    from ui.live import ACTIVE_KEY, ActiveRun

    def interrupted(record):
        active = ActiveRun(record.run_id)
        active.record = record
        active.done.set()
        return active

    app.session_state[ACTIVE_KEY] = interrupted(run)
    app.run()
    assert "was stopped" not in _texts(app.warning) and "is too large for SGD" in _texts(app.error)
    history = app.session_state[RUNS_KEY]
    stopped = dataclasses.replace(run, run_id=history.new_id(), status="stopped", stop_step=7)
    history.add(stopped)
    app.session_state[ACTIVE_KEY] = interrupted(stopped)
    app.run()
    assert f"Run #{stopped.run_id} was stopped at step 7;" in _texts(app.warning)


def test_a_split_larger_than_the_dataset_is_refused_clearly(data_dir):
    app = _open()
    app.selectbox(key="lab_dataset").set_value("mnist")
    app.button(key="lab_train").click().run()
    assert not app.exception
    assert "This copy of mnist has 8,000 training images" in _texts(app.error)
    assert RUNS_KEY not in app.session_state or not app.session_state[RUNS_KEY].records


def test_bad_uploads_are_rejected_and_good_ones_restore(data_dir, fashion):
    app = _open()
    app.file_uploader(key="lab_upload").set_value(("runs.json", b"{not json", "application/json")).run()
    assert not app.exception
    assert "runs.json was not loaded. The file is not valid JSON" in _texts(app.error)
    document = {"format": "optimisation-lab-runs", "version": 1, "runs": [{"run_id": 1, "config": {"learning_rate": 99},
                "status": "completed", "history": {"epoch": [], "loss": [], "val_loss": []}, "step_log": [],
                "layer_names": ["hidden_1"]}]}
    app.file_uploader(key="lab_upload").set_value(("evil.json", json.dumps(document).encode(), "application/json"))
    app.run()
    assert "evil.json was not loaded. runs[0].config: Invalid training settings: learning_rate must be in (0, 10]" \
        in _texts(app.error)
    assert RUNS_KEY not in app.session_state or not app.session_state[RUNS_KEY].records
    # A file exported by the lab itself restores its runs. The run trains in the service's worker, where
    # TensorFlow already is (importing it into this process as well would take seconds).
    from lab.config import TrainConfig
    from lab.service import get_service

    result = get_service().train(TrainConfig(train_size=300, validation_size=200, epochs=1, seed=103))
    exported = lab_runs.runs_to_json([lab_runs.record_from_result(result, 7, fashion.y_test)]).encode()
    app.file_uploader(key="lab_upload").set_value(("mine.json", exported, "application/json")).run()
    assert not app.exception
    assert "Restored 1 run(s) from mine.json as #1." in _texts(app.success)
    restored = app.session_state[RUNS_KEY].latest
    assert restored.source == "imported" and restored.config == result.config


def test_presentation_mode_folds_the_details_but_keeps_train_and_the_choices(data_dir):
    # The link sets presentation mode on the first run, as a lecturer's ?present=true link does.
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    app.query_params["present"] = "true"
    app.run()
    app.switch_page("app_pages/training_lab.py").run()
    assert [expander.label for expander in app.expander if expander.label == "All settings"] == ["All settings"]
    assert "Train" in [button.label for button in app.button]
    assert {"Optimizer", "Kernel initializer", "Gradient clipping"} <= {box.label for box in app.selectbox}
    # Pressing Train from the projector trains, with the folded settings as they are.
    app.button(key="lab_train").click().run()
    assert not app.exception
    assert "Test accuracy" in [metric.label for metric in app.metric]


@pytest.mark.parametrize("spelling", first_everyday("1", "1.0", "1.00", "1e0"))
def test_a_link_may_spell_a_learning_rate_of_one_any_way(data_dir, spelling):
    from tests.apptest_links import open_in_app

    app = open_in_app("training_lab.py", {"lab_learning_rate": spelling, "lab_batch_size": "64.0"})
    assert app.select_slider(key="lab_learning_rate").value == 1.0
    assert app.select_slider(key="lab_batch_size").value == 64
    assert not any("could not be used" in warning.value for warning in app.warning)
    # A spelling that names no option is still refused, with the notice.
    refused = open_in_app("training_lab.py", {"lab_learning_rate": "1.5"})
    assert refused.select_slider(key="lab_learning_rate").value == 0.01
    assert any("`lab_learning_rate=1.5` is not an allowed value" in warning.value for warning in refused.warning)


def test_a_run_that_diverged_before_its_first_epoch_is_compared_by_step_not_on_an_empty_chart(data_dir):
    app = _open()
    _small(app, seed=103, learning_rate=10.0).button(key="lab_train").click().run()
    assert not app.exception
    assert app.session_state[RUNS_KEY].latest.status == "diverged"
    titles = [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in app.get("plotly_chart")]
    assert "validation accuracy by epoch" not in titles  # no epoch finished: nothing to draw by epoch
    assert "Choose **step** under *Against*" in _texts(app.info)


def test_a_link_to_a_configuration_already_trained_shows_its_result_at_once_and_never_trains(data_dir):
    from lab.admission import TRAINING

    first = _small(_open(), seed=9_101, learning_rate=0.03)
    # Not the sliders' lowest values: Streamlit 1.67 reads a link's lowest option as "not allowed".
    first.select_slider(key="lab_train_size").set_value(1_000)
    first.select_slider(key="lab_validation_size").set_value(1_000)
    first.slider(key="lab_epochs").set_value(2)
    first.button(key="lab_train").click().run()
    assert first.session_state[RUNS_KEY].latest.source == "trained"
    # The link the Share popover gives for those settings (AppTest does not write bound widgets to the URL).
    link = {"lab_train_size": "1000", "lab_validation_size": "1000", "lab_epochs": "2", "lab_seed": "9101",
            "lab_learning_rate": "0.03"}

    trained_before = TRAINING.trained
    opened = AppTest.from_file(str(ROOT / "app_pages" / "training_lab.py"), default_timeout=TIMEOUT)
    for key, value in link.items():
        opened.query_params[key] = value
    opened.run()
    assert not opened.exception
    shown = opened.session_state[RUNS_KEY].latest
    assert shown is not None and shown.source == "cache" and shown.config.seed == 9_101
    assert TRAINING.trained == trained_before  # shown at once: nothing trained
    assert "Served instantly" in _texts(opened.caption)
    assert {"lab_run_loss", "lab_run_accuracy"} <= {chart.key for chart in opened.get("plotly_chart")}
    assert "Press **Train**" not in _texts(opened.info)

    # A link to settings nobody has trained restores the form and waits for Train.
    unknown = AppTest.from_file(str(ROOT / "app_pages" / "training_lab.py"), default_timeout=TIMEOUT)
    for key, value in {**link, "lab_seed": "9102"}.items():
        unknown.query_params[key] = value
    unknown.run()
    assert not unknown.exception
    assert unknown.number_input(key="lab_seed").value == 9_102
    assert not unknown.session_state[RUNS_KEY].records and TRAINING.trained == trained_before
    assert "Press **Train**" in _texts(unknown.info)


def _settle_script():
    import streamlit as st

    from ui.live import settle_interrupted_run

    st.write(f"settled: {settle_interrupted_run(max_seconds=0.2)}")


def test_a_stopped_run_still_unwinding_is_announced_and_shown_once_recorded():
    from ui.live import ACTIVE_KEY, ActiveRun

    app = AppTest.from_function(_settle_script, default_timeout=TIMEOUT)
    active = ActiveRun(run_id=7)
    app.session_state[ACTIVE_KEY] = active
    app.run()
    # A loaded worker is still testing what it trained: the page says so instead of showing nothing.
    assert "still stopping" in _texts(app.info)
    assert "settled: None" in _texts(app.markdown)
    assert ACTIVE_KEY in app.session_state
    active.record = "run #7 (stopped)"
    active.done.set()
    app.run()  # the rerun that the watch asks for once the run is recorded
    assert "settled: run #7 (stopped)" in _texts(app.markdown)
    assert not app.info
    assert ACTIVE_KEY not in app.session_state
