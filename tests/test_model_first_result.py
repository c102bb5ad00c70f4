"""Model and activations: the first result comes sooner (issue 10, item 9).

The three models train one by one, each cached alone, so each curve shows as soon as its model
has trained; a short model may use the service's short lane; and settings this server has
already trained show their result at once, without a press.
"""

import numpy as np
from streamlit.testing.v1 import AppTest

from lab.cost import estimate_seconds
from lab.service import SHORT_RUN_SECONDS
from lab.topics import architecture as topic
from tests.apptest_links import open_in_app
from tests.conftest import ROOT

TIMEOUT = 240


def _run(kind: str, accuracies: list[float]) -> topic.ModelRun:
    return topic.ModelRun(kind=kind, val_accuracy=accuracies, test_accuracy=accuracies[-1], parameters=7_850,
                          collapse=None, probabilities=None)


def test_the_accuracy_chart_draws_the_models_trained_so_far_in_their_own_colours():
    whole = topic.accuracy_figure({kind: _run(kind, [0.7, 0.8]) for kind in topic.MODEL_KINDS})
    partial = topic.accuracy_figure({"softmax": _run("softmax", [0.7, 0.8]), "relu": _run("relu", [0.75, 0.85])})
    assert [trace.name.split(":")[0] for trace in partial.data] == [topic.MODEL_LABELS["softmax"],
                                                                    topic.MODEL_LABELS["relu"]]
    # Relu keeps its colour whether or not the linear MLP has trained yet.
    assert partial.data[1].line.color == whole.data[2].line.color
    assert list(partial.data[1].y) == [0.75, 0.85] and partial.layout.yaxis.title.text == "validation accuracy"


def test_the_chart_frame_is_drawn_before_the_first_model_has_trained():
    # The page draws these empty axes when Train is pressed, so that the browser has loaded its charting library
    # by the time the first curve arrives (that curve then showed 3.9-4.4 s after the press instead of 5.9-8.3 s).
    empty = topic.accuracy_figure({}, epochs=6)
    assert not empty.data and empty.layout.title.text == "Validation accuracy per epoch"
    # Its axes are those the curves will have: epochs 1 to 6, accuracy 0-100% (not Plotly's -1 to 4).
    assert list(empty.layout.xaxis.range) == [0.5, 6.5] and list(empty.layout.yaxis.range) == [0, 1]
    partial = topic.accuracy_figure({"softmax": _run("softmax", [0.7, 0.8])}, epochs=6)
    assert list(partial.layout.xaxis.range) == [0.5, 6.5] and partial.layout.yaxis.range is None


def test_the_default_models_are_short_runs_that_may_use_the_short_lane():
    config = topic.cost_config(topic.DEFAULT_HIDDEN_UNITS, topic.DEFAULT_TRAIN_SIZE, topic.DEFAULT_EPOCHS)
    assert (config.hidden_units, config.batch_size) == (topic.DEFAULT_HIDDEN_UNITS, topic.BATCH_SIZE)
    assert estimate_seconds(config) < SHORT_RUN_SECONDS


def test_settings_this_server_has_trained_show_their_result_at_once(data_dir):
    app = AppTest.from_file(str(ROOT / "app_pages" / "02_model.py"), default_timeout=TIMEOUT).run()
    app.slider(key="model_units_1").set_value(40)
    app.slider(key="model_units_2").set_value(20)
    app.select_slider(key="model_train_size").set_value(2_000)
    app.slider(key="model_epochs").set_value(1)
    app.button(key="model_submit").click().run()
    assert not app.exception
    trained = app.session_state["model_result"]
    assert set(trained.val_accuracy) == set(topic.MODEL_KINDS) and trained.hidden_units == (40, 20)
    assert not app.get("progress"), "the progress bar is gone once all three have trained"

    # Another student opens a link to the same settings: the result shows without a press, and nothing trains.
    shared = open_in_app("02_model.py", {"model_units_1": "40", "model_units_2": "20", "model_train_size": "2000",
                                         "model_epochs": "1"})
    shown = shared.session_state["model_result"]
    assert shown is not None and "What to notice" in shared.info[0].value
    assert shown.test_accuracy == trained.test_accuracy
    assert np.array_equal(shown.relu_probabilities, trained.relu_probabilities)
