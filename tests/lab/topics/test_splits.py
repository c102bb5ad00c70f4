"""lab.topics.splits (page 4, training, validation and test) with real Keras on the real Fashion-MNIST, fixed seeds.

Mechanics on small inputs. The page's outcome claims at its defaults are trained once, in
tests/lab/test_claims.py.
"""

import numpy as np
import pytest

from lab.topics import splits


def test_split_is_disjoint_stratified_and_counts_identical_images(fashion):
    report = splits.split_report(fashion, 20_000, 5_000, seed=42)
    assert report.sizes == {"training": 20_000, "validation": 5_000, "unused": 35_000, "test": 10_000}
    assert report.disjoint and report.shared_indices == 0
    assert report.class_counts["validation"].tolist() == [500] * 10
    assert report.class_counts["training"].tolist() == [2_000] * 10
    # The pixel-identical count agrees with a direct comparison of raw bytes.
    full = splits.split_report(fashion, None, 5_000, seed=42)
    train_bytes = {image.tobytes() for image in fashion.x_train}
    identical = sum(image.tobytes() in train_bytes for image in fashion.x_test)
    counts = full.overlaps.set_index("splits")["pixel-identical images"]
    from_training, from_validation = counts["training / test"], counts["validation / test"]
    assert identical > 0  # this copy of Fashion-MNIST has a few exact train/test duplicates
    assert max(from_training, from_validation) <= identical <= from_training + from_validation
    figure = splits.split_sizes_figure(report)
    assert [trace.x[0] for trace in figure.data] == [20_000, 5_000, 35_000, 10_000]


@pytest.mark.parametrize("values", [
    [1.0, 0.9, 0.8, 0.85, 0.86, 0.87, 0.7, 0.9, 0.95, 0.96],
    [1.0, 1.0, 1.0, 1.0, 1.0],  # ties are not improvements
    [0.5, 0.6, 0.4, 0.45, 0.41, 0.39, 0.5, 0.5, 0.5, 0.5, 0.5],
    [3.0, 2.0, 1.0, 0.5],  # always improving: never stops
])
def test_patience_scrubber_matches_keras_early_stopping(values):
    for patience in range(1, 8):
        for min_delta in (0.0, 0.02):
            assert splits.early_stopping_decision(values, patience, min_delta) == \
                splits.keras_early_stopping_decision(values, patience, min_delta), (patience, min_delta)


@pytest.fixture(scope="module")
def fits(fashion):
    """The page's default: 500 images, 40 epochs, patience 3."""
    return splits.fit_with_and_without_early_stopping(fashion)


def test_small_training_set_and_many_epochs_overfit(fits):
    history = fits["full"].history
    assert len(history["epoch"]) == 40
    assert history["accuracy"][-1] > 0.95
    assert splits.generalisation_gap(history) > 0.1
    lowest = splits.lowest_epoch(history["val_loss"])
    assert lowest < 30 and history["val_loss"][-1] > 1.1 * min(history["val_loss"])
    assert history["loss"][-1] < history["loss"][lowest - 1]  # training loss keeps falling meanwhile


def test_early_stopping_stops_where_the_scrubber_says_and_restores_the_best(fits, fashion):
    full, early = fits["full"], fits["early"]
    assert early.stop_reason == "early_stopped" and early.stop_epoch < 40
    decision = splits.early_stopping_decision(full.history["val_loss"], 3)
    assert decision == splits.StopDecision(stop_epoch=early.stop_epoch, best_epoch=early.best_epoch)
    assert early.stop_epoch == early.best_epoch + 3
    # Same seed: the two runs agree epoch by epoch until early stopping ends the second.
    assert early.history["val_loss"] == full.history["val_loss"][: early.stop_epoch]
    # The restored weights are the best epoch's: a lower test loss than the overfitted end, whose
    # mistakes are more confident (its test accuracy may still be a little higher).
    assert early.test_loss < full.test_loss
    assert splits.mistake_confidence(full.test_probabilities, fashion.y_test) > \
        splits.mistake_confidence(early.test_probabilities, fashion.y_test) + 0.05
    for patience in range(1, 16):
        assert splits.early_stopping_decision(full.history["val_loss"], patience) == \
            splits.keras_early_stopping_decision(full.history["val_loss"], patience)
    figure = splits.patience_figure(full.history, 3)
    assert any(trace.name.startswith(f"best epoch {early.best_epoch}") for trace in figure.data)


def test_selection_rule_logic_on_equal_candidates():
    """Candidates equally good by construction: the test-picked winner is only lucky."""
    rng = np.random.default_rng(0)
    correct = rng.random((10, 10_000)) < 0.8
    candidates = splits.Candidates(seeds=list(range(10)), correct=correct,
                                   validation_accuracy=rng.random(10), config=splits.candidate_config(0), seconds=0.0)
    summary = splits.selection_summary(splits.selection_draws(candidates, tuning_size=500, draws=300))
    assert summary.loc["test-picked", "mean optimism"] > 0.02
    assert abs(summary.loc["validation-picked", "mean optimism"]) < 0.005


def test_candidates_are_real_models_and_the_draws_pick_among_them(fashion):
    # Three small candidates (500 images, one epoch) for the mechanics. The page's outcome at its defaults (8
    # candidates of 1,000 images, 3 epochs: the test-picked winner is optimistic, the validation-picked one honest)
    # is a claim, trained by tests/lab/test_claims.py; the rules' logic is checked on equal candidates above.
    candidates = splits.train_candidates(fashion, count=3, train_size=500, epochs=1)
    assert candidates.seeds == [100, 101, 102] and candidates.correct.shape == (3, 10_000)
    assert 0.3 < candidates.correct.mean() < 1 and candidates.validation_accuracy.shape == (3,)
    assert not np.array_equal(candidates.correct[0], candidates.correct[1])  # the seeds make different models
    draws = splits.selection_draws(candidates, tuning_size=500, draws=200)
    assert set(draws["winner"]) <= set(candidates.seeds) and set(draws["rule"]) == {"test-picked", "validation-picked"}
    summary = splits.selection_summary(draws)
    assert list(summary.index) == ["test-picked", "validation-picked"]
    assert len(splits.optimism_figure(draws).data) == 2
    compile(splits.selection_code(8, 1_000, 3, 500), "selection_code", "exec")


def _candidates_with(accuracies, seed=0) -> splits.Candidates:
    """Candidates whose test images are right independently with the given accuracies; validation picks the best."""
    rng = np.random.default_rng(seed)
    accuracies = np.asarray(accuracies)
    correct = rng.random((len(accuracies), 10_000)) < accuracies[:, None]
    return splits.Candidates(seeds=list(range(100, 100 + len(accuracies))), correct=correct,
                             validation_accuracy=accuracies.copy(), config=splits.candidate_config(100),
                             seconds=0.0)


def test_first_candidates_are_the_ones_a_smaller_count_trains():
    candidates = _candidates_with([0.8, 0.7, 0.75, 0.9])
    first = splits.first_candidates(candidates, 2)
    assert first.seeds == [100, 101] and first.correct.shape == (2, 10_000)
    assert (first.correct == candidates.correct[:2]).all()
    assert first.validation_accuracy.tolist() == [0.8, 0.7]


def test_selection_claims_fail_where_their_sentences_are_false():
    by_name = {claim.text: claim for claim in splits.CLAIMS}
    headline, count = by_name[splits.TUNING_HEADLINE.text], by_name[splits.CANDIDATE_COUNT_CLAIM.text]
    # Eight equally good candidates: picking on the test set is pure luck and optimistic, but already
    # with 2 of them (about 1 point), so "under half a point with the first 2" is false.
    equal = splits.selection_experiment(_candidates_with([0.8] * 8))
    assert headline.holds(equal) and splits.HONEST_CLAIM.holds(equal)
    assert not count.holds(equal)
    # One candidate far ahead of the rest wins every cut: no illusion, whatever the size or count.
    dominated = splits.selection_experiment(_candidates_with([0.9] + [0.7] * 7))
    assert splits.HONEST_CLAIM.holds(dominated)
    assert not headline.holds(dominated)
    assert not splits.TUNING_SIZE_CLAIM.holds(dominated) and not count.holds(dominated)


def test_selection_notice_states_measured_numbers_in_neutral_words():
    draws = splits.selection_draws(_candidates_with([0.9] + [0.7] * 7), tuning_size=5_000, draws=200)
    summary = splits.selection_summary(draws)
    notice = splits.selection_notice(draws)
    assert notice.startswith("over 200 cuts")
    for rule in ("test-picked", "validation-picked"):  # the size in points, the direction in words, no sign
        assert f"{abs(summary.loc[rule, 'mean optimism']) * 100:.2f} points" in notice or "to 0.01 points" in notice
    assert notice.count("what it reported") + notice.count("as it reported") == 2 and "+" not in notice
    assert not any(word in notice for word in ("honest", "illusion", "too good", "optimistic"))


# Validation and training loss per epoch of the page's default run (500 images, 40 epochs, seed 1), as measured.
MEASURED_VAL_LOSS = [
    1.211, 0.929, 0.789, 0.783, 0.674, 0.658, 0.664, 0.618, 0.676, 0.584, 0.616, 0.678, 0.643, 0.598, 0.622, 0.624,
    0.646, 0.657, 0.623, 0.625, 0.618, 0.65, 0.659, 0.633, 0.634, 0.687, 0.651, 0.677, 0.673, 0.666, 0.694, 0.688,
    0.683, 0.734, 0.813, 0.719, 0.779, 0.725, 0.765, 0.737]
MEASURED_LOSS = [
    1.8374, 1.0278, 0.8128, 0.6506, 0.5624, 0.4727, 0.399, 0.362, 0.3304, 0.3161, 0.2447, 0.2412, 0.2766, 0.2386,
    0.1854, 0.1922, 0.1584, 0.1306, 0.1375, 0.1039, 0.0939, 0.0876, 0.0742, 0.0623, 0.056, 0.0532, 0.0451, 0.0398,
    0.043, 0.0311, 0.0258, 0.0245, 0.0273, 0.0246, 0.024, 0.0269, 0.0168, 0.0238, 0.0186, 0.0173]


def _history_result(val_loss, loss):
    from types import SimpleNamespace

    return {"fits": {"full": SimpleNamespace(history={"val_loss": list(val_loss), "loss": list(loss)})}}


def test_early_stopping_claims_need_a_turn_and_noise():
    measured = _history_result(MEASURED_VAL_LOSS, MEASURED_LOSS)
    assert splits.VALIDATION_LOSS_CLAIM.holds(measured) and splits.PATIENCE_CLAIM.holds(measured)
    assert splits.early_stopping_decision(MEASURED_VAL_LOSS, 1) == splits.StopDecision(stop_epoch=7, best_epoch=6)
    # A validation loss that keeps falling has no turn, and no noise to be fooled by.
    falling = _history_result(np.linspace(1.0, 0.5, 40), np.linspace(1.0, 0.1, 40))
    assert not splits.VALIDATION_LOSS_CLAIM.holds(falling) and not splits.PATIENCE_CLAIM.holds(falling)
    # A turn at epoch 10 followed by a flat validation loss is not "more than 15% above".
    flat = _history_result(MEASURED_VAL_LOSS[:10] + [0.6] * 30, MEASURED_LOSS)
    assert not splits.VALIDATION_LOSS_CLAIM.holds(flat)


def _run(history, stop_reason="completed", best_epoch=None, test_loss=0.6, test_accuracy=0.8):
    from types import SimpleNamespace

    probabilities = np.tile(np.eye(10)[[1]], (10, 1)) * 0.7 + 0.03  # sure of class 1 on every image
    return SimpleNamespace(config=SimpleNamespace(train_size=500), history=history, stop_reason=stop_reason,
                           stop_epoch=len(history["epoch"]), best_epoch=best_epoch, test_loss=test_loss,
                           test_accuracy=test_accuracy, test_probabilities=probabilities)


def test_fit_notice_states_what_happened_for_any_settings():
    falling = {"epoch": list(range(1, 11)), "accuracy": [0.9] * 10, "val_accuracy": [0.8] * 10,
               "loss": list(np.linspace(1, 0.3, 10)), "val_loss": list(np.linspace(1, 0.5, 10))}
    labels = np.zeros(10, dtype=int)
    notice = splits.fit_notice(_run(falling), _run(falling), labels)
    assert "lowest at the last epoch, 10" in notice and "did not stop within these 10 epochs" in notice
    assert "rises" not in notice and "restored" not in notice and "73% sure" in notice
    stopped = {key: values[:6] for key, values in falling.items()}
    turned = dict(falling, val_loss=[1.0, 0.8, 0.7, 0.6, 0.65, 0.66, 0.7, 0.71, 0.72, 0.73])
    notice = splits.fit_notice(_run(turned), _run(stopped, "early_stopped", best_epoch=4), labels)
    assert "lowest at epoch 4 (0.600) and is 0.730 after epoch 10" in notice
    assert "ended the run after epoch 6, 2 epochs after its best validation loss, and restored the weights of " \
           "epoch 4" in notice


def test_selection_code_reports_both_numbers_and_claims_no_outcome():
    code = splits.selection_code(8, 1_000, 3, 500)
    compile(code, "selection_code", "exec")
    assert code.count('reported", tune[best], "fresh", fresh[best])') == 2
    assert not any(word in code for word in ("honest", "confirm", "optimistic"))


def test_fashion_mnist_has_ten_test_images_with_a_training_twin(fashion):
    assert splits.pixel_twins(fashion) == 10
    # The same count from the raw bytes.
    train_bytes = {image.tobytes() for image in fashion.x_train}
    assert sum(image.tobytes() in train_bytes for image in fashion.x_test) == 10


def test_performance_order_names_the_order_and_judges_the_gap():
    from lab.topics import splits

    overfit = splits.performance_order({"accuracy": [0.99], "val_accuracy": [0.80]}, 0.82)
    assert "training > test > validation" in overfit and "19 points, not small" in overfit
    # 80% on validation is not "rather than the task": the gap says how much better it does on its own images.
    assert "does much better on the images it trained on than on images it has not seen" in overfit
    assert "rather than the task" not in overfit
    healthy = splits.performance_order({"accuracy": [0.86], "val_accuracy": [0.84]}, 0.83)
    assert "training > validation > test" in healthy and "small (under 5 points)" in healthy
