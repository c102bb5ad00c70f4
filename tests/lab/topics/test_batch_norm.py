"""lab.topics.batch_norm (page 10, batch normalisation) with real Keras on the real Fashion-MNIST, fixed seeds.

Mechanics on small inputs. The page's outcome claims at its defaults are trained once, in
tests/lab/test_claims.py.
"""

import dataclasses

import numpy as np
import pytest

from lab.config import TrainConfig
from lab.topics import batch_norm
from lab.training import train as shared  # the worker's trainer, here in the test process


@pytest.fixture(scope="module")
def placement_runs(fashion):
    # 1,000 images for 1 epoch instead of the page's 5,000 for 4: the placements' accuracies at the defaults are
    # claims, trained by tests/lab/test_claims.py. The timing below does not depend on the training.
    results = batch_norm.compare_placements(fashion, config=batch_norm.base_config(train_size=1_000, epochs=1),
                                            trainer=shared)
    # Processor time of this process, and the best of many short interleaved timings rather than of a few long
    # ones: the claim is about the work a step does, and the more samples there are, the likelier each config
    # gets one in a quiet moment of a busy shared server (batch norm's extra work is about 20% of a step).
    seconds = batch_norm.time_per_step(fashion, {p: r.config for p, r in results.items()}, steps=50, repeats=9,
                                       clock="cpu")
    return results, seconds


def test_placements_train_the_same_seeded_run_with_batch_norm_where_asked(placement_runs):
    results, _ = placement_runs
    configs = {placement: result.config for placement, result in results.items()}
    assert {dataclasses.replace(config, batch_norm="none") for config in configs.values()} == {configs["none"]}
    assert not any(name.startswith("batch_norm") for name in results["none"].layer_names)
    assert all(any(name.startswith("batch_norm") for name in results[p].layer_names) for p in ("before", "after"))
    # The epoch a run first reaches a target accuracy, read from its own validation curve.
    accuracies = results["before"].history["val_accuracy"]
    assert batch_norm.epochs_to_target(results["before"].history, accuracies[0]) == 1
    assert batch_norm.epochs_to_target(results["before"].history, max(accuracies) + 0.01) is None


def test_batch_norm_makes_each_step_slower(placement_runs):
    results, seconds = placement_runs
    assert seconds["before"] > seconds["none"] and seconds["after"] > seconds["none"]
    extra = batch_norm.relative_cost(seconds)
    assert set(extra) == {"before", "after"} and min(extra.values()) > 0
    table = batch_norm.placement_table(results, seconds, 0.78)
    assert list(table["model"]) == list(batch_norm.PLACEMENTS.values())
    assert table["s per epoch (timed)"].iloc[0] == pytest.approx(seconds["none"] * results["none"].steps_per_epoch)
    figure = batch_norm.seconds_per_epoch_figure(results, seconds)
    assert figure.data[0].type == "bar" and figure.data[0].y[1] > figure.data[0].y[0]
    assert batch_norm.accuracy_per_epoch_figure(results, 0.78).layout.shapes[0].y0 == 0.78


def test_training_uses_batch_statistics_and_test_time_uses_moving_statistics(fashion):
    stats = batch_norm.batch_statistics(fashion)
    # The layer's output is exactly the formula with the moving statistics at test time...
    assert stats.inference_matches_moving < 1e-4
    # ...and with the batch's own statistics in training.
    assert stats.training_matches_batch < 1e-4
    # The moving statistics are not one batch's: they track all training images.
    assert np.abs(stats.moving_mean - stats.batch_mean).max() > 1e-2
    assert np.corrcoef(stats.moving_mean, stats.population_mean)[0, 1] > 0.95
    assert np.corrcoef(stats.moving_variance, stats.population_variance)[0, 1] > 0.9
    assert stats.steps == 314 and stats.leftover == pytest.approx(0.99**314)
    # Batch statistics of a single image are the image itself: every prediction is the same class.
    assert stats.same_prediction_batch_of_one and stats.test_accuracy_batch_of_one < 0.2
    assert stats.test_accuracy_inference > 0.7
    figure = batch_norm.statistics_figure(stats)
    assert [trace.name for trace in figure.data[:3]] == ["one batch of 32", "all training images", "moving = measured"]


def test_too_few_steps_leave_the_moving_statistics_behind(fashion):
    short = batch_norm.batch_statistics(fashion, TrainConfig(**{**batch_norm.STATS_FIELDS, "train_size": 1_000, "epochs": 1}))
    assert short.steps == 32 and short.leftover > 0.7
    error = np.abs(short.moving_mean - short.population_mean).mean()
    assert error > 0.1  # far from the data's statistics
    assert short.test_accuracy_inference < short.test_accuracy_batches


def test_scale_shift_figure_has_a_histogram_per_weight_and_the_start_values_marked():
    import numpy as np

    from lab.topics import batch_norm

    stats = batch_norm.BatchStatistics(
        steps=10, momentum=0.99, batch_size=32, batch_mean=np.zeros(3), batch_variance=np.ones(3),
        population_mean=np.zeros(3), population_variance=np.ones(3), moving_mean=np.zeros(3),
        moving_variance=np.ones(3), gamma=np.array([1.0, 1.01, 0.98]), beta=np.array([0.0, 0.0, 0.002]),
        epsilon=1e-3, inference_matches_moving=0.0, training_matches_batch=0.0, test_accuracy_inference=0.5,
        test_accuracy_batches=0.5, test_accuracy_batch_of_one=0.1, same_prediction_batch_of_one=True)
    assert stats.moved_share() == {"gamma": 2 / 3, "beta": 1 / 3}
    figure = batch_norm.scale_shift_figure(stats)
    assert [trace.type for trace in figure.data] == ["histogram", "histogram"]
    assert sorted(shape.x0 for shape in figure.layout.shapes) == [0.0, 1.0]
    assert figure.layout.xaxis.title.text.startswith("value after training")
