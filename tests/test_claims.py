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
    assert {"architecture", "backprop", "batch_norm", "clipping", "data_explorer", "decay", "learning_rate",
            "optimizers2d", "outputs", "splits"} <= set(MODULES)
    for name, module in MODULES.items():
        assert module.CLAIMS and all(isinstance(claim, Claim) and claim.text for claim in module.CLAIMS), name
        assert callable(module.claims_experiment), name
        assert markdown_list(module.CLAIMS).count("\n- ") == len(module.CLAIMS) - 1


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_declared_claim_holds_on_the_real_data(fashion, name):
    module = MODULES[name]
    result = module.claims_experiment(fashion)
    assert failed_claims(module, result) == []
