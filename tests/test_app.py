"""AppTest: the entry point, Home and the Training Lab open and work without exceptions."""

import ast
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT

pytestmark = pytest.mark.usefixtures("small_experiments")  # small real experiments: tests/canned.py
TIMEOUT = 120  # importing TensorFlow alone takes about 2 s; training more


def test_home_opens_through_navigation():
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not app.exception
    assert app.title[0].value == "Optimisation Lab"
    mapping = next(table.value for table in app.table if "Keras 3" in table.value.columns)
    rows = dict(zip(mapping["slide (Keras 2)"], mapping["what happens with the old spelling"]))
    # lr= raises before decay= could be ignored, and the slide's Adam line maps to Adam, not SGD.
    assert rows["SGD(lr=0.01, decay=1e-4)"].startswith("lr= raises ValueError first")
    assert "keras.optimizers.Adam(lr=0.001, beta_1=0.9, beta_2=0.999)" in rows
    # The lecture's model, laid out to fit a phone (issue 10), is still Python a student can paste, with the
    # slide's layers and compile arguments.
    (code,) = [block.value for block in app.code if "keras.Sequential" in block.value]
    statements = ast.parse(code).body
    assert [ast.unparse(statement.value.func) for statement in statements] == ["keras.Sequential", "model.compile"]
    for text in ('Dense(300, activation="relu")', 'Dense(100, activation="relu")', 'Dense(10, activation="softmax")',
                 'loss="sparse_categorical_crossentropy"', 'optimizer="sgd"', 'metrics=["accuracy"]'):
        assert text in code


def test_home_does_not_import_tensorflow():
    """Home must open at once: run it in a fresh interpreter and look at sys.modules."""
    # The server starts its worker as it would, only without the warm-up (TensorFlow in the worker process, which
    # this test does not look at): a warming worker holds up the interpreter's exit by seconds.
    code = (
        "import sys\n"
        "from lab import service\n"
        "service._SERVICE = service.service_from_env(warm=False).start()\n"
        "from streamlit.testing.v1 import AppTest\n"
        "app = AppTest.from_file('app.py', default_timeout=60).run()\n"
        "assert not app.exception, app.exception\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert output.returncode == 0, output.stderr
    assert output.stdout.strip().splitlines()[-1] == "False False"


def test_training_lab_trains_a_small_subset(data_dir):
    app = AppTest.from_file(str(ROOT / "app_pages" / "training_lab.py"), default_timeout=TIMEOUT).run()
    assert not app.exception
    assert "Press **Train**" in app.info[0].value
    app.select_slider(key="lab_train_size").set_value(1_000)
    app.slider(key="lab_epochs").set_value(1)
    app.number_input(key="lab_seed").set_value(7)  # its own seed, so the shared result cache does not answer
    app.button(key="lab_train").click().run()
    assert not app.exception
    run = app.session_state["training_lab_runs"].latest
    assert run.status == "completed" and run.config.train_size == 1_000 and run.source == "trained"
    assert app.metric[0].label == "Test accuracy"
    # A rerun redraws from session state and does not train again.
    app.run()
    assert app.session_state["training_lab_runs"].latest is run and len(app.session_state["training_lab_runs"]) == 1
