"""What a new student reads: differences in words, tables without "None", controls in the order of the page.

Found walking the pages in a real browser (issue 10); each is checked here without one, on the data or the
element tree that the browser draws.
"""

from streamlit.testing.v1 import AppTest

from lab.claims import in_points
from tests.conftest import ROOT

TIMEOUT = 120


def test_a_difference_in_points_has_its_direction_in_words_and_no_sign():
    # The Model page said "their test accuracies differ by -0.01 points" beside two accuracies that both read 84.3%.
    same = in_points(0.843 - 0.8431, "above the softmax layer's", "below the softmax layer's",
                     "the same as the softmax layer's")
    assert same == "the same as the softmax layer's to 0.1 points"
    assert in_points(0.812 - 0.843, "above B", "below B", "the same as B") == "3.1 points below B"
    assert in_points(0.0012, "above", "below", "level", decimals=2) == "0.12 points above"
    assert in_points(-0.00004, "above", "below", "level", decimals=2) == "level to 0.01 points"


def _walk(node):
    """Every element under `node`, in the order the page lays them out (a phone stacks columns in this order)."""
    children = getattr(node, "children", None)
    if not children:
        yield node
        return
    for index in sorted(children):
        yield from _walk(children[index])


def test_the_optimizer_settings_come_in_the_order_of_the_optimizers(data_dir):
    """On a 390 px phone the surface form's sliders came as SGD, RMSprop, adaptive, Adam, momentum, Adam."""
    app = AppTest.from_file(str(ROOT / "app_pages" / "12_optimizers.py"), default_timeout=TIMEOUT).run()
    assert not app.exception, app.exception
    keys = [element.key for element in _walk(app.main) if element.type in ("slider", "select_slider")]
    settings = [key for key in keys if key in ("opt_sgd_lr", "opt_momentum", "opt_adaptive_lr", "opt_rho",
                                               "opt_beta_1", "opt_beta_2")]
    # SGD, Momentum and Nesterov first (their rate, then momentum's beta), then AdaGrad, RMSprop and Adam.
    assert settings == ["opt_sgd_lr", "opt_momentum", "opt_adaptive_lr", "opt_rho", "opt_beta_1", "opt_beta_2"]


def test_a_missing_value_in_a_run_table_is_a_dash_in_the_cell_itself():
    """Streamlit's grid writes "None" for a missing cell whatever a Styler's na_rep says (seen in a browser), so the
    Compare tab's and the pages' run tables hold an em dash in the cell."""
    import pandas as pd

    from lab import runs

    frame = pd.DataFrame({"status": ["completed", "diverged"], "test accuracy": [0.843, None],
                          "val accuracy": [0.85, float("nan")], "seconds": [3.04, None], "momentum": [None, 0.9]},
                         index=["#1", "#2"])
    styler = runs.highlight_differences(frame, [])
    cells = styler.data.to_numpy().ravel().tolist()
    assert cells.count("\u2014") == 4 and not [cell for cell in cells if cell is None or cell != cell]
    shown = styler._translate(False, False)["body"]  # the texts the browser receives, row by row
    assert [cell["display_value"] for cell in shown[0][1:]] == ["completed", "84.3%", "85.0%", "3.0", "\u2014"]
    assert [cell["display_value"] for cell in shown[1][1:]] == ["diverged", "\u2014", "\u2014", "\u2014", "0.9"]

    table = runs.with_dashes(pd.DataFrame({"lr": ["0.01", "1"], "validation accuracy": [0.81234, float("nan")]}),
                             {"validation accuracy": "{:.3f}", "not a column": "{:.1f}"})
    assert [row[2]["display_value"] for row in table._translate(False, False)["body"]] == ["0.812", "\u2014"]
    # Each column is all text or all numbers, so the tables travel to the browser as Arrow without
    # Streamlit's fallback (which logged a traceback per table on the server).
    import pyarrow

    # So does the Compare tab's "not used" beside a number (momentum of an SGD run and of a Momentum run).
    unused = runs.highlight_differences(pd.DataFrame({"momentum": [runs.UNUSED, 0.9]}, index=["#1", "#2"]), [])
    for data in (styler.data, table.data, unused.data):
        pyarrow.Table.from_pandas(data)
