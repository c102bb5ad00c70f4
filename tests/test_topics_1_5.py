"""Backend claims of topic pages 1-5, checked on the real Fashion-MNIST (and the MNIST subset).

Every experiment is the one the page runs, with its default settings where the
claim is about what students see, and fixed seeds.
"""

import numpy as np
import plotly.graph_objects as go
import pytest

from lab.topics import architecture, backprop, data_explorer, outputs, splits


# ----------------------------------------------------------------------
# 1. The data
# ----------------------------------------------------------------------
def test_fashion_has_60k_10k_images_of_28x28_in_10_classes(fashion):
    assert fashion.x_train.shape == (60_000, 28, 28) and fashion.x_test.shape == (10_000, 28, 28)
    assert fashion.x_train.dtype == np.uint8 and fashion.num_classes == 10
    assert fashion.class_names[0] == "T-shirt/top" and fashion.class_names[9] == "Ankle boot"
    counts = data_explorer.class_counts(fashion)
    assert list(counts["training"]) == [6_000] * 10 and list(counts["test"]) == [1_000] * 10
    table = data_explorer.summary_table([fashion])
    assert table.loc["training images", "Fashion-MNIST"] == "60,000"
    assert table.loc["image shape", "Fashion-MNIST"] == "28 x 28"
    assert table.loc["pixel range", "Fashion-MNIST"] == "0 to 255"


def test_mnist_has_the_same_shapes_so_it_is_a_drop_in(fashion, mnist):
    assert data_explorer.is_drop_in(fashion, mnist)
    table = data_explorer.summary_table([fashion, mnist])
    assert table.shape[1] == 2 and "subset" in table.columns[1]  # the server's MNIST is a subset and says so
    assert table.loc["image shape"].tolist() == ["28 x 28", "28 x 28"]
    assert table.loc["classes"].tolist() == ["10", "10"]
    assert table.loc["pixel type"].tolist() == ["uint8", "uint8"]


def test_browsing_returns_images_of_the_chosen_class(fashion):
    positions = data_explorer.class_examples(fashion, 7, 12, "test", start=995)
    assert len(positions) == 12 and np.all(fashion.y_test[positions] == 7)  # wraps after the 1,000th sneaker
    figure = data_explorer.image_grid_figure(fashion.x_test[positions], [str(p) for p in positions])
    assert isinstance(figure, go.Figure) and len(figure.data) == 12
    assert figure.data[0].z.shape == (28, 28)


def test_pixel_histogram_is_a_distribution_dominated_by_background(fashion, mnist):
    shares = data_explorer.pixel_histogram(fashion)
    assert shares.shape == (256,) and shares.sum() == pytest.approx(1.0)
    assert shares.argmax() == 0  # most pixels are background
    trousers = data_explorer.pixel_histogram(fashion, class_index=1)
    assert not np.allclose(trousers, shares)
    digits = data_explorer.pixel_histogram(mnist)
    figure = data_explorer.pixel_histogram_figure({"Fashion-MNIST": shares, "MNIST": digits})
    assert len(figure.data) == 2 and figure.layout.yaxis.type == "log"
    assert figure.layout.xaxis.title.text.startswith("pixel value")


def test_the_same_code_trains_on_both_datasets(fashion, mnist):
    # The mechanics on 1,000 images for one epoch. What the page says of the outcome at its defaults (4,000 images,
    # 3 epochs: both above 65%, the digits easier in each of seeds 1-3) is a claim: tests/test_claims.py trains it.
    fashion_run, mnist_run = data_explorer.drop_in_experiment([fashion, mnist], train_size=1_000, epochs=1)
    assert (fashion_run.dataset, mnist_run.dataset) == ("fashion_mnist", "mnist")
    assert fashion_run.parameters == mnist_run.parameters == 266_610
    assert fashion_run.output_shape == mnist_run.output_shape == (None, 10)
    assert fashion_run.test_accuracy > 0.2 and mnist_run.test_accuracy > 0.2  # both trained: twice chance or more
    compile(data_explorer.drop_in_code(4_000, 3), "drop_in_code", "exec")


def _drop_in_runs(*pairs):
    """Plain drop-in results per seed, (Fashion-MNIST, MNIST) test accuracies as given: the claims' predicates only."""
    def run(name, accuracy):
        return data_explorer.DropInRun(dataset=name, label=name, parameters=266_610, output_shape=(None, 10),
                                       val_accuracy=accuracy, test_accuracy=accuracy, seconds=0.0)
    return {seed: [run("fashion_mnist", fashion), run("mnist", mnist)]
            for seed, (fashion, mnist) in enumerate(pairs, 1)}


def test_the_digits_are_easier_claim_needs_a_lead_beyond_seed_noise():
    measured = _drop_in_runs((0.7721, 0.8445), (0.7177, 0.841), (0.7388, 0.8445))  # seeds 1-3 at the defaults
    assert data_explorer.EASIER_CLAIM.holds(measured) and data_explorer.FIGURES_CLAIM.holds(measured)
    # Ahead in every seed, but by less than a reseed moves Fashion-MNIST: not evidence.
    assert not data_explorer.EASIER_CLAIM.holds(_drop_in_runs((0.70, 0.77), (0.78, 0.84), (0.74, 0.80)))
    # The preset's old figures (84% against 77%) were one seed's Fashion-MNIST score, not the mean over seeds.
    assert not data_explorer.FIGURES_CLAIM.holds(_drop_in_runs((0.77, 0.84), (0.77, 0.84), (0.77, 0.84)))
    assert "MNIST subset" in data_explorer.FIGURES_CLAIM.text


# ----------------------------------------------------------------------
# 2. The model and activations
# ----------------------------------------------------------------------
def test_lecture_model_has_266610_parameters_layer_by_layer():
    table = architecture.lecture_layer_table((300, 100))
    assert table["parameters"].sum() == 266_610 == architecture.parameter_count((300, 100))
    dense = table[table["type"] == "Dense"]
    assert dense["parameters"].tolist() == [235_500, 30_100, 1_010]
    assert dense["output shape"].tolist() == ["(None, 300)", "(None, 100)", "(None, 10)"]
    assert table.loc[table["layer"] == "flatten", "output shape"].item() == "(None, 784)"
    assert dense["how"].iloc[0] == "784 x 300 weights + 300 biases"
    # The formula agrees with Keras for other widths too.
    small = architecture.lecture_layer_table((50, 20))
    assert small["parameters"].sum() == architecture.parameter_count((50, 20)) == 40_480


def test_untrained_linear_stack_is_exactly_one_matrix(fashion):
    model = architecture.build_classifier((300, 100), "linear", seed=3)
    check = architecture.collapse_check(model, "linear", fashion.x_test[:500])
    assert check.max_logit_difference < 1e-4 and check.prediction_agreement == 1.0
    weights, bias = architecture.collapse_dense_layers(model)
    assert weights.shape == (784, 10) and bias.shape == (10,)


@pytest.fixture(scope="module")
def activation_result(fashion):
    """A short run of the page's experiment (the lecture's 300/100 widths, 2,000 images, 2 epochs) for its mechanics.

    Its accuracy claims are about the defaults over three seeds: tests/test_claims.py checks them.
    """
    return architecture.activation_experiment(fashion, train_size=2_000, epochs=2)


def test_trained_linear_mlp_equals_the_product_of_its_weight_matrices(activation_result):
    linear, relu = activation_result.collapse["linear"], activation_result.collapse["relu"]
    assert linear.max_logit_difference < 1e-4
    assert linear.max_probability_difference < 1e-5
    assert linear.prediction_agreement == 1.0
    # With relu the same product is a different function.
    assert relu.max_logit_difference > 1.0 and relu.prediction_agreement < 0.95
    figure = architecture.collapse_figure(activation_result.collapse)
    assert len(figure.data) == 3 and figure.layout.yaxis.title.text == "deep network: logit"


def test_three_models_are_trained_and_counted(activation_result):
    accuracy = activation_result.test_accuracy
    assert accuracy["softmax"] > 0.65 and accuracy["linear"] > 0.65  # both linear models are trained, not stuck
    assert activation_result.parameters == {"softmax": 7_850, "linear": 266_610, "relu": 266_610}
    figure = architecture.accuracy_figure(activation_result)
    assert len(figure.data) == 3 and all(len(trace.y) == activation_result.epochs for trace in figure.data)


def _activation_results(*rows):
    """Plain results per seed, (softmax, linear, relu) test accuracies as given: the claims' predicates only."""
    return {seed: architecture.ActivationResult(
        hidden_units=(300, 100), train_size=10_000, epochs=6, learning_rate=0.05, val_accuracy={},
        test_accuracy=dict(zip(architecture.MODEL_KINDS, row)), parameters={}, collapse={},
        relu_probabilities=np.full((1, 10), 0.1)) for seed, row in enumerate(rows, 1)}


def test_activation_claims_need_margins_beyond_seed_noise():
    # Seeds 1-3 at the page's defaults, as measured: linear within the noise of softmax, relu > 1 point ahead.
    measured = _activation_results((0.8430, 0.8429, 0.8604), (0.8453, 0.8506, 0.8629), (0.8436, 0.8428, 0.8608))
    assert architecture.seed_spread(measured) == pytest.approx(0.0078)
    assert architecture.HEADLINE_CLAIM.holds(measured)
    # Relu ahead in every seed, but by half a point: within what a reseed moves, so no "beats".
    close = _activation_results((0.843, 0.843, 0.848), (0.845, 0.846, 0.851), (0.844, 0.843, 0.849))
    assert not architecture.HEADLINE_CLAIM.holds(close)
    # The linear MLP 1.5 points ahead in every seed while reseeding moves either by 0.2: "more accurate".
    ahead = _activation_results((0.843, 0.858, 0.875), (0.845, 0.860, 0.876), (0.844, 0.859, 0.875))
    assert not architecture.HEADLINE_CLAIM.holds(ahead)
    # A 3-point seed spread would make any tolerance meaningless.
    noisy = _activation_results((0.82, 0.85, 0.87), (0.85, 0.84, 0.88), (0.84, 0.82, 0.89))
    assert not architecture.HEADLINE_CLAIM.holds(noisy)


def test_softmax_outputs_sum_to_one(activation_result, fashion):
    low, high = activation_result.softmax_sum_range
    assert activation_result.relu_probabilities.shape == (10_000, 10)
    assert abs(low - 1) < 1e-5 and abs(high - 1) < 1e-5
    assert np.all(activation_result.relu_probabilities >= 0)
    figure = architecture.softmax_figure(activation_result.relu_probabilities[0], fashion.class_names,
                                         int(fashion.y_test[0]))
    assert "sum to 1.0000" in figure.layout.title.text
    code = architecture.experiment_code((300, 100), 10_000, 4, 0.05)
    compile(code, "experiment_code", "exec")


# ----------------------------------------------------------------------
# 3. Inputs and outputs
# ----------------------------------------------------------------------
def test_bounding_boxes_enclose_exactly_the_non_zero_pixels(fashion):
    images = fashion.x_train[:2_000]
    boxes = outputs.bounding_boxes(images).astype(int)
    for image, (x, y, width, height) in zip(images, boxes):
        inside = np.zeros_like(image, dtype=bool)
        inside[y:y + height, x:x + width] = True
        assert not image[~inside].any()  # nothing outside the box
        box = image[y:y + height, x:x + width]
        assert box[0].any() and box[-1].any() and box[:, 0].any() and box[:, -1].any()  # every edge touches ink
    assert outputs.box_iou(boxes[:5].astype(float), boxes[:5].astype(float)).tolist() == [1.0] * 5
    assert outputs.box_iou(np.array([[0, 0, 2, 2.0]]), np.array([[5, 5, 2, 2.0]]))[0] == 0.0
    assert outputs.box_iou(np.array([[0, 0, 2, 2.0]]), np.array([[1, 0, 2, 2.0]]))[0] == pytest.approx(1 / 3)


def test_targets_are_derived_from_the_images(fashion):
    images, labels = fashion.x_train[:100], fashion.y_train[:100]
    assert outputs.task_targets("classification", images, labels).tolist() == labels.tolist()
    brightness = outputs.task_targets("regression", images, labels)
    assert brightness.shape == (100, 1) and brightness[0, 0] == pytest.approx(images[0].mean() / 255, rel=1e-6)
    boxes = outputs.task_targets("box", images, labels)
    assert boxes.shape == (100, 4) and 0 <= boxes.min() and boxes.max() <= 1


@pytest.mark.parametrize("task, units, activation, loss", [
    ("classification", 10, "softmax", "sparse_categorical_crossentropy"),
    ("regression", 1, "linear", "mean_squared_error"),
    ("box", 4, "linear", "mean_squared_error"),
])
def test_each_task_has_its_head_and_loss_and_beats_its_baseline(fashion, task, units, activation, loss):
    size, epochs = 5_000, 2
    result = outputs.run_task(task, fashion, train_size=size, epochs=epochs)
    last = result.layers.iloc[-1]
    assert last["layer"] == "output" and last["output shape"] == f"(None, {units})"
    assert outputs.TASKS[task].activation == activation and result.loss_name == loss
    assert result.layers.iloc[-2]["output shape"] == "(None, 64)"  # the shared body
    if task == "classification":
        assert result.score > 0.7 and result.baseline == pytest.approx(0.1)
        assert np.allclose(result.test_predictions.sum(axis=1), 1.0, atol=1e-5)
    elif task == "regression":
        assert result.score < 0.5 * result.baseline  # mean absolute error
    else:
        # Box prediction, the hardest of the three, beats its baseline only at the page's defaults (10,000 images,
        # 4 epochs): that outcome is a claim, trained by tests/test_claims.py. Here, the measure's range.
        assert 0 < result.score < 1 and 0 < result.baseline < 1  # mean IoU
        assert result.sample_predictions.shape == (outputs.SAMPLE_IMAGES, 4)
    assert result.validation_loss[-1] < result.validation_loss[0]
    figure = outputs.predictions_figure(result)
    assert isinstance(figure, go.Figure) and len(figure.data) >= 1
    if task == "box":
        assert len(figure.layout.shapes) == 2 * outputs.SAMPLE_IMAGES  # a true and a predicted box per image
    assert outputs.loss_figure(result).layout.yaxis.title.text == loss
    compile(outputs.task_code(task, size, epochs), "task_code", "exec")


def test_house_price_example_is_made_up_and_shaped_like_keras_says():
    houses = outputs.example_houses()
    assert houses.attrs["made_up"] and all("made up" in name for name in houses.index)
    assert list(houses.columns) == [*outputs.HOUSE_FEATURES, outputs.HOUSE_TARGET] and len(outputs.HOUSE_FEATURES) == 4
    shapes = outputs.house_price_shapes()
    assert shapes == {"inputs": (len(houses), 4), "outputs": (len(houses), 1)}
    heads = outputs.regression_and_classification_heads()
    assert heads.loc["output layer", "house price (regression)"].startswith("Dense(1)")
    assert heads.loc["input shape"].tolist() == ["(n, 4)", "(n, 28, 28)"]
    assert heads.loc["output shape"].tolist() == ["(n, 1)", "(n, 10)"]
    assert '"mse"' in heads.loc["loss", "house price (regression)"]
    # The code a student copies builds exactly those shapes, with a linear one-unit head and MSE, and trains nothing.
    code = outputs.house_price_code()
    assert ".fit(" not in code.replace("# model.layers[0].adapt(x_real); model.fit(", "")
    namespace = {}
    exec(compile(code, "house_price_code", "exec"), namespace)
    model, x, y = namespace["model"], namespace["x"], namespace["y"]
    assert x.shape == shapes["inputs"] and y.shape == shapes["outputs"]
    assert np.array_equal(x, houses[list(outputs.HOUSE_FEATURES)].to_numpy(dtype="float32"))
    head = model.layers[-1]
    assert head.units == 1 and head.get_config()["activation"] == "linear" and model.loss == "mse"
    assert tuple(model.output_shape) == (None, 1)
    assert model.optimizer.iterations.numpy() == 0  # compiled, never trained


# ----------------------------------------------------------------------
# 4. Training, validation and test
# ----------------------------------------------------------------------
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
    # is a claim, trained by tests/test_claims.py; the rules' logic is checked on equal candidates above.
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
    for rule in ("test-picked", "validation-picked"):
        assert f"{summary.loc[rule, 'mean optimism'] * 100:+.2f} points" in notice
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


# ----------------------------------------------------------------------
# 5. Backprop on one mini-batch
# ----------------------------------------------------------------------
@pytest.mark.parametrize("batch_seed", [0, 1, 2])
def test_small_step_lowers_the_batch_loss_and_a_huge_one_raises_it(fashion, batch_seed):
    small = backprop.backprop_step(fashion, learning_rate=0.01, batch_seed=batch_seed)
    huge = backprop.backprop_step(fashion, learning_rate=10.0, batch_seed=batch_seed)
    assert small.loss_before == pytest.approx(huge.loss_before)  # same batch, same starting weights
    assert small.loss_decreased and small.loss_after < small.loss_before - 0.01
    assert not huge.loss_decreased and huge.loss_after > 10 * huge.loss_before
    # The sweep from the same starting point agrees with the real step.
    sweep = small.sweep.set_index("learning_rate")["loss_after"]
    assert sweep[0.01] == pytest.approx(small.loss_after, rel=1e-4)
    assert sweep[10.0] == pytest.approx(huge.loss_after, rel=1e-3)
    assert small.overshoot_rate is not None and small.overshoot_rate <= 10.0


def test_one_step_records_forward_loss_backward_and_update(fashion):
    result = backprop.backprop_step(fashion, learning_rate=0.01, batch_seed=0)
    assert len(result.labels) == 32 and result.images.shape == (32, 28, 28)
    assert [layer.name for layer in result.layers] == ["hidden_1", "hidden_2", "output"]
    assert [layer.activations.shape for layer in result.layers] == [(32, 300), (32, 100), (32, 10)]
    assert result.keras_forward_difference < 1e-6  # the layer-by-layer pass is the model's own
    assert 0 < np.mean(result.layers[0].activations == 0) < 1  # relu zeroes some units
    assert np.allclose(result.probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert result.loss_before == pytest.approx(result.example_losses_before.mean(), rel=1e-5)
    # Backward: Keras's gradient equals the hand-derived h2^T (p - y) / 32.
    assert result.output_gradient_difference < 1e-6
    norms = {layer.name: layer.kernel_gradient_norm for layer in result.layers}
    assert result.largest_gradient_layer == max(norms, key=norms.get)
    # Update: plain SGD moves each kernel by exactly lr times its gradient.
    for layer in result.layers:
        assert layer.kernel_update_norm == pytest.approx(0.01 * layer.kernel_gradient_norm, rel=1e-3)
    frame = result.layer_frame()
    assert frame["output shape"].tolist() == ["(32, 300)", "(32, 100)", "(32, 10)"]
    for figure in (backprop.activations_figure(result, "hidden_2"), backprop.gradients_figure(result),
                   backprop.example_losses_figure(result), backprop.sweep_figure(result)):
        assert isinstance(figure, go.Figure) and len(figure.data) >= 1
    assert backprop.gradients_figure(result).layout.yaxis.type == "log"
    compile(backprop.step_code(0.01, 0), "step_code", "exec")


def test_backprop_claims_follow_the_sweep_not_the_chosen_rate(fashion):
    result = backprop.backprop_step(fashion, learning_rate=10.0)  # the default batch and weights, a huge step
    results = {0: result}
    assert result.model_seed == backprop.DEFAULT_MODEL_SEED
    assert backprop.HEADLINE_CLAIM.holds(results) and backprop.SMALL_STEP_CLAIM.holds(results) is False
    # The small-step claim reads the step actually taken; the sweep agrees with it at 0.01.
    small = backprop.backprop_step(fashion, learning_rate=0.01)
    assert backprop.SMALL_STEP_CLAIM.holds({0: small}) and backprop.HUGE_STEP_CLAIM.holds({0: small})
    # Had a rate of 3 lowered the loss, the headline would be false.
    bent = backprop.BackpropResult(**{**small.__dict__, "sweep": small.sweep.assign(
        loss_after=np.where(small.sweep["learning_rate"] == 3.0, 0.5, small.sweep["loss_after"]))})
    assert not backprop.HEADLINE_CLAIM.holds({0: bent})


def test_performance_order_names_the_order_and_judges_the_gap():
    from lab.topics import splits

    overfit = splits.performance_order({"accuracy": [0.99], "val_accuracy": [0.80]}, 0.82)
    assert "training > test > validation" in overfit and "19 points, not small" in overfit
    # 80% on validation is not "rather than the task": the gap says how much better it does on its own images.
    assert "does much better on the images it trained on than on images it has not seen" in overfit
    assert "rather than the task" not in overfit
    healthy = splits.performance_order({"accuracy": [0.86], "val_accuracy": [0.84]}, 0.83)
    assert "training > validation > test" in healthy and "small (under 5 points)" in healthy
