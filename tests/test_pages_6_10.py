"""AppTest for topic pages 6-10: each page opens, its main control is moved, and what it renders is checked.

The runs are the pages' own experiments on real Fashion-MNIST, shrunk through
the pages' widgets (fewer rates, images or epochs) to keep the suite quick.
"""

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

TIMEOUT = 180  # importing TensorFlow, then a few small trainings


def open_page(file_name: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app_pages" / file_name), default_timeout=TIMEOUT).run()
    assert not app.exception
    return app


def texts(elements) -> str:
    return "\n".join(element.value for element in elements)


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
    app.button(key="lr_train").click().run()
    assert not app.exception
    table = app.dataframe[0].value
    assert list(table["learning rate"]) == ["0.0001", "1"]
    assert list(table["verdict"]) == ["crawls", "diverged"]
    assert "lr=0.0001: **crawls**" in texts(app.success) and "lr=1: **diverged**" in texts(app.success)
    results = app.session_state["lr_compare_results"]
    assert results[1.0].stop_reason == "diverged" and results[1e-4].config.train_size == 1_000

    app.slider(key="lr_range_steps").set_value(200)
    app.button(key="lr_range_run").click().run()
    assert not app.exception
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
    app.radio(key="decay_horizon").set_value("the slides' 30 epochs").run()
    assert "51,570 steps" in texts(app.caption)
    app.select_slider(key="decay_learning_rate").set_value(0.1)
    app.select_slider(key="decay_rate").set_value(0.1)
    app.slider(key="decay_epochs").set_value(1)
    app.button(key="decay_train").click().run()
    assert not app.exception
    table = app.dataframe[-1].value
    assert list(table["schedule"]) == ["constant 0.1", "0.1 / (1 + 0.1 t)"]
    last_step = app.session_state["decay_results"]["decay"].step_log[-1]["step"]
    assert table["learning rate at the end"].iloc[1] == pytest.approx(0.1 / (1 + 0.1 * (last_step - 1)), rel=1e-5)
    assert "What to notice" in texts(app.success)
    # Decay 0 makes both runs the same: the page says so and will not train.
    app.select_slider(key="decay_rate").set_value(0.0).run()
    assert "identical" in texts(app.warning) and app.button(key="decay_train").disabled


def test_initialisation_page(data_dir):
    app = open_page("08_initialisation.py")
    assert app.title[0].value == "Initialisation"
    app.multiselect(key="init_initialisers").set_value(["zeros", "glorot_uniform"])
    app.slider(key="init_epochs").set_value(1)
    app.button(key="init_train").click().run()
    assert not app.exception
    table = app.dataframe[0].value
    assert list(table["initialisation"]) == ["zeros", "Glorot (uniform)"]
    assert list(table["distinct neurons"]) == ["1 of 300", "300 of 300"]
    assert table["test accuracy"].iloc[0] < 0.15 < 0.6 < table["test accuracy"].iloc[1]
    assert "1 distinct neuron(s)" in texts(app.success)
    app.radio(key="init_layer").set_value("hidden_2").run()
    assert list(app.dataframe[0].value["distinct neurons"]) == ["1 of 100", "100 of 100"]
    # A tiny stddev is accepted and shown in the run's label.
    app.multiselect(key="init_initialisers").set_value(["random_normal"])
    app.select_slider(key="init_stddev").set_value(0.0001)
    app.button(key="init_train").click().run()
    assert not app.exception
    assert list(app.dataframe[0].value["initialisation"]) == ["random normal (stddev 0.0001)"]


def test_gradients_page(data_dir):
    app = open_page("09_gradients.py")
    assert app.title[0].value == "Vanishing and exploding gradients"
    assert app.slider(key="grad_depth").value == 10
    app.slider(key="grad_depth").set_value(6)
    app.button(key="grad_train").click().run()
    assert not app.exception
    table = app.dataframe[0].value
    assert list(table["network"]) == ["6 x sigmoid, σ=0.1", "6 x sigmoid, σ=0.1, batch norm before"]
    assert table["hidden_1 / output"].iloc[0] < 1e-2 < table["hidden_1 / output"].iloc[1]
    assert "times smaller" in texts(app.success)
    # Large weights with tanh explode towards the input; without the batch-norm twin only one run.
    app.selectbox(key="grad_activation").set_value("tanh")
    app.select_slider(key="grad_init_stddev").set_value(1.0)
    app.checkbox(key="grad_batch_norm").uncheck()
    app.button(key="grad_train").click().run()
    assert not app.exception
    assert len(app.dataframe[0].value) == 1 and "times larger" in texts(app.success)


def test_batch_norm_page(data_dir):
    app = open_page("10_batch_norm.py")
    assert app.title[0].value == "Batch normalisation"
    app.multiselect(key="bn_placements").set_value(["none", "before"])
    app.slider(key="bn_epochs").set_value(2)
    app.button(key="bn_train").click().run()
    assert not app.exception
    table = app.dataframe[0].value
    assert list(table["model"]) == ["no batch norm", "batch norm before activation"]
    assert "epochs to 78%" in table.columns and (table["ms per step (timed)"] > 0).all()
    assert "Epochs to 78%" in texts(app.success)
    app.slider(key="bn_target").set_value(0.70).run()  # moving the target re-reads the runs, no training
    assert "epochs to 70%" in app.dataframe[0].value.columns

    app.select_slider(key="bn_stats_images").set_value(1_000)
    app.button(key="bn_stats_run").click().run()
    assert not app.exception
    stats = app.session_state["bn_statistics"]
    assert stats.steps == 64  # 1,000 images in batches of 32, 2 epochs
    assert [metric.label for metric in app.metric] == [
        "Moving statistics", "Batch statistics, 256 images", "Batch statistics, 1 image"]
    assert app.metric[2].value == f"{stats.test_accuracy_batch_of_one:.1%}"
    assert "0.99^64" in texts(app.success)
