"""lab.runs on real Fashion-MNIST runs: bounded records, compare tables, export, strict import, explanations."""

import dataclasses
import json
import re

import numpy as np
import pytest

from lab import runs
from lab.config import TrainConfig
from lab.training import train

SMALL = dict(train_size=1_000, validation_size=500, epochs=2, seed=21, log_every=5)


@pytest.fixture(scope="module")
def result(fashion):
    return train(TrainConfig(**SMALL), fashion)


@pytest.fixture(scope="module")
def record(result, fashion):
    return runs.record_from_result(result, 1, fashion.y_test)


@pytest.fixture(scope="module")
def diverged(fashion):
    return train(TrainConfig(**{**SMALL, "epochs": 1, "learning_rate": 2.0}), fashion)


def test_record_keeps_bounded_copies_of_the_result(result, record, fashion):
    assert record.status == "completed" and record.config == result.config
    assert record.history["val_accuracy"] == result.history["val_accuracy"]
    assert record.history is not result.history and record.step_log[0] is not result.step_log[0]
    assert len(record.step_log) <= runs.MAX_STEP_POINTS
    assert record.step_log[-1]["step"] == result.step_log[-1]["step"]
    # The sample is 20 per class plus up to 60 mistakes, not the 10,000 test images.
    assert 200 <= len(record.sample_indices) <= 260
    assert record.sample_probabilities.shape == (len(record.sample_indices), 10)
    assert np.allclose(record.sample_probabilities, result.test_probabilities[record.sample_indices])
    predicted = record.sample_probabilities.argmax(axis=1)
    assert (predicted != fashion.y_test[record.sample_indices]).sum() >= 60
    # Per-class accuracy from the full test set's confusion matrix.
    per_class = record.per_class_accuracy
    true = fashion.y_test
    full_predicted = result.test_probabilities.argmax(axis=1)
    assert per_class[6] == pytest.approx(np.mean(full_predicted[true == 6] == 6))
    assert np.average(per_class, weights=np.bincount(true)) == pytest.approx(record.test_accuracy)


def test_thinning_keeps_the_bound_and_the_last_entry():
    log = [{"step": step} for step in range(1, 1_001)]
    thinned = runs.thin_step_log(log, 300)
    assert len(thinned) == 300 and thinned[0]["step"] == 1 and thinned[-1]["step"] == 1_000
    assert runs.thin_step_log(log[:10], 300) == log[:10]


def test_history_keeps_the_last_twenty_and_deletes(record):
    history = runs.RunHistory()
    for _ in range(25):
        history.add(dataclasses.replace(record, run_id=history.new_id()))
    assert len(history) == runs.MAX_RUNS
    assert [r.run_id for r in history.records] == list(range(6, 26))
    assert history.delete([6, 7, 99]) == 2 and history.get(6) is None
    assert history.latest.run_id == 25 and history.new_id() == 26


def test_compare_table_highlights_exactly_the_differing_settings(record):
    other = dataclasses.replace(record, run_id=2, config=dataclasses.replace(record.config, learning_rate=0.1))
    adam = dataclasses.replace(record, run_id=3, config=dataclasses.replace(record.config, optimizer="adam"))
    assert runs.differing_settings([record, other]) == ["learning_rate"]
    # Adam reads beta_1, beta_2 and epsilon, SGD does not: the table shows that as a difference too.
    assert runs.differing_settings([record, adam]) == ["optimizer", "beta_1", "beta_2", "epsilon"]
    table = runs.compare_table([record, other])
    assert list(table.index) == ["#1", "#2"]
    assert list(table.columns[:7]) == ["status", "test accuracy", "val accuracy", "epochs done", "seconds",
                                       "learning rate", "dataset"]
    # Columns and cells read as words, not as the code's keys or None.
    assert table.loc["#1", "epochs"] == 2 and table.loc["#1", "training images"] == 1_000
    assert table.loc["#1", "momentum"] == "not used"  # SGD does not use momentum
    assert not [column for column in table.columns if "_" in column]
    assert "None" not in table.astype(str).to_numpy().ravel().tolist()
    html = runs.highlight_differences(table, ["learning_rate"]).to_html()
    painted = [line for line in html.splitlines() if "background-color: #FFE8A3" in line]
    assert painted  # the style rule exists, and it applies to the learning_rate column only
    styles = runs.highlight_differences(table, ["learning_rate"])._compute().ctx
    columns = {table.columns[column] for (_, column) in styles}
    assert columns == {"learning rate"}


def test_metric_and_setting_labels_are_words():
    assert runs.metric_label("val_accuracy") == "validation accuracy"
    assert runs.setting_label("train_size") == "training images"
    assert all("_" not in runs.metric_label(metric) for metric in runs.EPOCH_METRICS + runs.STEP_METRICS)


def test_json_round_trip_restores_the_runs(record, diverged, fashion):
    bad = runs.record_from_result(diverged, 2, fashion.y_test)
    text = runs.runs_to_json([record, bad])
    assert "NaN" not in text  # standard JSON only
    restored = runs.runs_from_json(text.encode())
    assert [r.run_id for r in restored] == [1, 2]
    first = restored[0]
    assert first.config == record.config and first.status == "completed" and first.source == "imported"
    assert first.history["val_loss"] == pytest.approx(record.history["val_loss"])
    assert np.array_equal(first.sample_indices, record.sample_indices)
    assert np.allclose(first.sample_probabilities, record.sample_probabilities, atol=1e-4)
    assert np.array_equal(first.confusion_matrix, record.confusion_matrix)
    assert restored[1].status == "diverged" and restored[1].test_accuracy == pytest.approx(bad.test_accuracy)
    history = runs.RunHistory()
    history.add(record)
    stored = history.import_records(restored)
    assert [r.run_id for r in stored] == [2, 3]  # renumbered, never colliding with the session's runs


def test_csv_has_one_row_per_run_with_every_setting(record):
    import io

    import pandas as pd

    frame = pd.read_csv(io.StringIO(runs.runs_to_csv([record, record])))
    assert len(frame) == 2
    assert {"run", "status", "test_accuracy", "learning_rate", "optimizer", "hidden_units"} <= set(frame.columns)
    assert frame.loc[0, "hidden_units"] == "300-100" and frame.loc[0, "test_accuracy"] == pytest.approx(record.test_accuracy)


def _document(record) -> dict:
    return json.loads(runs.runs_to_json([record]))


@pytest.mark.parametrize("change, message", [
    (lambda d: d["runs"][0]["history"]["val_accuracy"].__setitem__(0, 1.7),
     "runs[0].history.val_accuracy[0]: 1.7 is above the maximum 1"),
    (lambda d: d["runs"][0]["config"].__setitem__("learning_rate", -1), "learning_rate must be in"),
    (lambda d: d["runs"][0]["config"].__setitem__("optimizer", "sgdx"), "optimizer must be one of"),
    (lambda d: d["runs"][0]["config"].__setitem__("shell", "rm -rf /"), "unknown setting"),
    (lambda d: d["runs"][0].__setitem__("status", "exploded"), "runs[0].status: 'exploded' is not allowed"),
    (lambda d: d["runs"][0]["sample_indices"].pop(), "one row per index"),
    (lambda d: d["runs"][0]["step_log"][0]["layer_norms"].append(1.0), "layer_norms has 4 values for 3 layers"),
    (lambda d: d.__setitem__("runs", d["runs"] * 21), "runs: has 21 items; at most 20 are allowed"),
    (lambda d: d.__setitem__("format", "something-else"), "not a Training Lab runs file"),
    (lambda d: d["runs"][0]["config"].__setitem__("seed", 10**400), "seed must be in [0, 2.14748e+09]"),
    (lambda d: d["runs"][0]["config"].__setitem__("learning_rate", 10**400), "learning_rate must be in (0, 10]"),
    (lambda d: d["runs"][0]["step_log"][0].pop("learning_rate"), "'learning_rate' is a required property"),
])
def test_bad_files_are_refused_with_the_place_named(record, change, message):
    document = _document(record)
    change(document)
    with pytest.raises(runs.RunFileError, match=re.escape(message)):
        runs.runs_from_json(json.dumps(document).encode())


@pytest.mark.parametrize("data, message", [
    (b"\x80\x04\x95 pickled", "not UTF-8"),
    (b"{not json", "not valid JSON"),
    (b'{"format": "optimisation-lab-runs", "version": 1, "runs": [NaN]}', "not standard JSON"),
    (b" " * (runs.MAX_UPLOAD_BYTES + 1), "at most 4 MB"),
])
def test_unreadable_files_are_refused(data, message):
    with pytest.raises(runs.RunFileError, match=message):
        runs.runs_from_json(data)


def test_divergence_advice_names_the_step_the_rate_and_a_fix():
    config = TrainConfig(learning_rate=2.0)
    advice = runs.divergence_advice(config, "The loss became nan at step 212 (epoch 1).")
    assert advice == ("The batch loss became NaN at step 212: the learning rate 2 is too large for SGD; "
                      "try 0.1 or add gradient clipping (e.g. by global norm 1.0).")
    clipped = TrainConfig(learning_rate=1.0, optimizer="adam", clip="norm", clip_threshold=1.0)
    assert "try 0.001 or clip harder than norm 1 (e.g. 0.1)" in runs.divergence_advice(clipped, "")


def test_a_real_divergence_is_explained(diverged, fashion):
    record = runs.record_from_result(diverged, 1, fashion.y_test)
    notes = runs.explain(record)
    assert record.status == "diverged" and notes[0].kind == "error"
    assert "too large for SGD; try 0.1 or add gradient clipping" in notes[0].text
    assert f"step {diverged.stop_detail.split('step ')[1].split()[0]}" in notes[0].text
    # The exploded model saturates its softmax on one class: about chance, the slide's lesson.
    assert record.test_accuracy == pytest.approx(0.1, abs=0.02)


def test_zero_initialisation_is_explained_as_symmetry(fashion):
    config = TrainConfig(**{**SMALL, "epochs": 1, "kernel_initializer": "zeros"})
    record = runs.record_from_result(train(config, fashion), 1, fashion.y_test)
    assert record.test_accuracy < 0.2
    assert any("symmetry" in note.text for note in runs.explain(record))


def test_metric_series_gallery_and_fit_checks(record, fashion):
    xs, ys = runs.metric_series(record, "val_accuracy", "epoch")
    assert xs == [1, 2] and ys == record.history["val_accuracy"]
    steps, norms = runs.metric_series(record, "global_norm", "step")
    assert steps[0] == 5 and len(norms) == len(record.step_log)
    with pytest.raises(ValueError, match="against step"):
        runs.metric_series(record, "val_loss", "step")
    indices, probabilities = runs.gallery_selection(record, fashion.y_test, misclassified_only=True, true_class=6)
    assert len(indices) > 0 and (fashion.y_test[indices] == 6).all()
    assert (probabilities.argmax(axis=1) != 6).all()
    assert runs.check_fits(TrainConfig(dataset="mnist", train_size=10_000), 8_000).startswith("This copy of mnist")
    assert runs.check_fits(TrainConfig(dataset="mnist", train_size=2_000), 8_000) is None


def test_same_seed_ab_changes_one_setting_only(record):
    b = runs.ab_config(record.config, "learning_rate", 0.1)
    assert b.seed == record.config.seed
    assert runs.differing_settings([record, dataclasses.replace(record, config=b)]) == ["learning_rate"]
    assert runs.ab_note(1, "learning_rate", 0.01, 0.1) == "B of #1: learning_rate 0.01 -> 0.1 (same seed)"
    with pytest.raises(ValueError, match="batch_size"):
        runs.ab_config(record.config, "batch_size", 0)


def test_training_lab_figures_show_runs_classes_and_predictions(record, fashion):
    from lab import plots

    series = [(f"#{run}", *runs.metric_series(record, "val_loss", "epoch")) for run in (1, 2)]
    compare = plots.compare_figure(series, "val_loss", "epoch", log_y=True)
    assert [trace.name for trace in compare.data] == ["#1", "#2"] and compare.layout.yaxis.type == "log"
    assert compare.layout.xaxis.title.text == "epoch" and list(compare.data[0].y) == record.history["val_loss"]
    per_class = plots.per_class_accuracy_figure(record.per_class_accuracy, fashion.class_names)
    bars = per_class.data[0]
    assert list(bars.y) == list(fashion.class_names) and bars.x[6] == pytest.approx(record.per_class_accuracy[6])
    worst = int(np.argmin(record.per_class_accuracy))
    assert bars.marker.color[worst] == plots.COLORS[3]  # the worst class stands out
    index, row = record.sample_indices[0], record.sample_probabilities[0]
    true = int(fashion.y_test[index])
    card = plots.prediction_figure(fashion.x_test[index], row, fashion.class_names, true)
    assert [trace.type for trace in card.data] == ["heatmap", "bar"]
    assert card.data[1].marker.color[true] == plots.COLORS[2]  # the true class is green
    predicted = int(np.argmax(row))
    assert card.layout.title.text.startswith("✓" if predicted == true else "✗")
    assert fashion.class_names[true] in card.layout.title.text


def test_first_steps_travel_through_records_and_files_and_older_files_still_import(record, diverged, fashion):
    bad = runs.record_from_result(diverged, 2, fashion.y_test)
    assert bad.first_steps["loss"] == pytest.approx(diverged.first_steps["loss"], nan_ok=True)
    assert bad.diverged_at == diverged.diverged_at == diverged.stop_step - 1 and record.diverged_at is None
    restored = runs.runs_from_json(runs.runs_to_json([record, bad]).encode())
    assert restored[0].first_steps["loss"] == pytest.approx(record.first_steps["loss"])
    finite = [value for value in bad.first_steps["loss"] if np.isfinite(value)]
    assert [value for value in restored[1].first_steps["loss"] if value is not None] == pytest.approx(finite)
    # A file written before first_steps existed has no such key, and still imports.
    document = _document(record)
    del document["runs"][0]["first_steps"]
    older = runs.runs_from_json(json.dumps(document).encode())[0]
    assert older.first_steps == {} and older.history == record.history


def test_a_diverged_record_draws_its_climbing_loss_from_step_0(fashion):
    from ui.live import result_curves

    result = train(TrainConfig(**{**SMALL, "epochs": 1, "learning_rate": 1.0}), fashion)
    record = runs.record_from_result(result, 1, fashion.y_test)
    figure = result_curves(record, "loss")
    per_step = next(trace for trace in figure.data if trace.name == "per-step loss")
    assert per_step.x[0] == 0 and figure.layout.xaxis.title.text == "step"
    values = [value for value in per_step.y if value is not None]
    assert max(values) > 10 * values[0] and values[-1] == max(values)  # it ends where it diverged
    assert figure.layout.annotations[0].text == f"diverged at step {record.stop_step - 1}"
    accuracy = result_curves(record, "accuracy")
    assert accuracy.data and accuracy.data[0].x[0] == 0  # no longer an empty chart
    assert tuple(accuracy.layout.yaxis.range) == (0, 1)  # not Plotly's -0.5..1 around a constant accuracy
