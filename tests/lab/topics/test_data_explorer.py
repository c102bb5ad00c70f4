"""lab.topics.data_explorer (page 1, the data): real Keras on real Fashion-MNIST and the MNIST subset.

Mechanics on small inputs. The page's outcome claims at its defaults are trained once, in
tests/lab/test_claims.py.
"""

import tracemalloc

import numpy as np
import plotly.graph_objects as go
import pytest

from lab.topics import data_explorer


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


def test_pixel_histogram_counts_every_pixel_without_a_copy_of_the_training_set(fashion, mnist):
    counts = np.bincount(mnist.x_train.ravel(), minlength=256)  # in one piece: the 10,000 digits are small
    assert np.array_equal(data_explorer.pixel_histogram(mnist), counts / counts.sum())
    tracemalloc.start()
    try:
        data_explorer.pixel_histogram(fashion)
        peak_bytes = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # In one piece, bincount's 64-bit copy of the 47 million training pixels was 376 MB.
    assert peak_bytes < 64e6, f"{peak_bytes / 1e6:.0f} MB at the peak"


def test_the_same_code_trains_on_both_datasets(fashion, mnist):
    # The mechanics on 1,000 images for one epoch. What the page says of the outcome at its defaults (4,000 images,
    # 3 epochs: both above 65%, the digits easier in each of seeds 1-3) is a claim: tests/lab/test_claims.py trains it.
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
