"""Every outcome claim a page states holds on the real data.

Each lab.topics module that declares CLAIMS also declares the experiment they are
about (claims_experiment, at the page's defaults: small subsets, fixed seeds). This
test runs each experiment once with real Keras on real Fashion-MNIST and checks
every claim's predicate, so a page cannot state an outcome that no test checks.
"""

import pytest

from lab.claims import Claim, claim_modules, failed_claims, markdown_list

MODULES = {module.__name__.rsplit(".", 1)[-1]: module for module in claim_modules()}


def test_the_topics_that_state_outcomes_declare_their_claims():
    assert {"architecture", "backprop", "batch_norm", "clipping", "data_explorer", "decay", "gradients",
            "initialisation", "learning_rate", "losses", "optimizers", "outputs", "practice", "splits"} <= set(MODULES)
    for name, module in MODULES.items():
        assert module.CLAIMS and all(isinstance(claim, Claim) and claim.text for claim in module.CLAIMS), name
        assert callable(module.claims_experiment), name
        assert markdown_list(module.CLAIMS).count("\n- ") == len(module.CLAIMS) - 1


# Minutes of training in all (the three-seed activation experiment alone takes about a minute), so these
# run in the full tier that CI runs, not in the everyday one.
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_declared_claim_holds_on_the_real_data(fashion, name):
    module = MODULES[name]
    result = module.claims_experiment(fashion)
    assert failed_claims(module, result) == []


def test_the_lecture_presets_of_pages_6_to_14_state_declared_claims():
    # A preset's note is read out in the lecture: its outcome sentences are claims checked above, not free text.
    from lab.preset_lists import by_slug
    from lab.topics import (batch_norm, clipping, decay, gradients, initialisation, learning_rate, losses,
                            optimizers, practice)

    stated = {
        "lr-too-large": (learning_rate.DIVERGES, learning_rate.LEARNS, learning_rate.GOOD_REGION),
        "lr-range-test": (learning_rate.GOOD_REGION, learning_rate.CRAWLS, learning_rate.LEARNS, learning_rate.DIVERGES),
        "lr-decay": decay.RUN_CLAIMS[:1],
        "zero-init": (initialisation.ZERO_CLAIM, initialisation.RANDOM_CLAIM),
        "vanishing-gradients": gradients.DEFAULT_CLAIMS,
        "exploding-gradients": (gradients.EXPLODING_CLAIM,),
        "batch-norm": batch_norm.PLACEMENT_CLAIMS,
        "clipping-by-norm": clipping.PRESET_CLAIMS[:1],
        "clipping-by-value": clipping.PRESET_CLAIMS[1:],
        "momentum-vs-adam": optimizers.PRESET_CLAIMS,
        "mse-vs-mae": (losses.PRESET_CLAIM,),
        "make-sgd-diverge": (practice.DIVERGE_CLAIM,),
    }
    for slug, claims in stated.items():
        point = by_slug(slug).point
        assert all(claim.text in point for claim in claims), slug
        assert all(any(claim in module.CLAIMS for module in MODULES.values()) for claim in claims), slug


@pytest.mark.slow
def test_the_training_lab_presets_adam_is_well_ahead_of_sgd(fashion):
    # The Training Lab's presets state that SGD learns steadily and that Adam, on the same model, data and seed,
    # ends well ahead. Their page test trains them small (tests/canned.py), so the claim is trained here.
    from lab.preset_lists import by_slug
    from lab.training import train
    from ui.lab_form import config_from_lab_state

    configs = [config_from_lab_state(by_slug(slug).settings) for slug in ("lab-lecture-model", "lab-adam")]
    sgd, adam = (train(config, fashion) for config in configs)
    assert (sgd.config.optimizer, adam.config.optimizer) == ("sgd", "adam")
    assert sgd.history["val_accuracy"][-1] > sgd.history["val_accuracy"][0]
    assert adam.test_accuracy > sgd.test_accuracy + 0.04
