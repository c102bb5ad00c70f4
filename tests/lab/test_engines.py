"""The one engine pool: engines are reused by key and idle ones are bounded by bytes."""

import pytest

from lab.config import TrainConfig
from lab.engines import MB, TRACED_GRAPH_BYTES, EnginePool, engine_bytes
from lab.models import build_model


def small_model(hidden_units=(300, 100)):
    return build_model(TrainConfig(hidden_units=hidden_units), num_classes=10)


def test_engine_bytes_count_weights_and_optimizer_slots():
    """A 784-300-100-10 model has 266,610 float32 weights; Adam adds two slots per weight."""
    import keras

    model = small_model()
    optimizer = keras.optimizers.Adam()
    optimizer.build(model.trainable_variables)

    class Engine:
        def __init__(self):
            self.model, self.optimizer = model, optimizer

    weights = 266_610 * 4
    assert engine_bytes(model) == TRACED_GRAPH_BYTES + weights
    # Adam's variables: m and v per weight, plus its iteration counter and learning rate.
    assert engine_bytes(Engine()) == pytest.approx(TRACED_GRAPH_BYTES + 3 * weights, abs=64)


def test_pool_lends_an_idle_engine_by_key_and_evicts_past_its_byte_budget():
    pool = EnginePool(max_idle_bytes=2 * (TRACED_GRAPH_BYTES + 266_610 * 4) + MB)
    keys = ["a", "b", "c"]
    for key in keys:
        with pool.borrow(key, small_model):
            pass
    # Three idle 5 MB models do not fit in about 11 MB: the least recently used one went.
    assert pool.stats()["idle"] == 2 and pool.stats()["evicted"] == 1
    assert pool.idle("a") == [] and len(pool.idle("c")) == 1
    kept = pool.idle("c")[0]
    with pool.borrow("c", small_model) as engine:
        assert engine is kept  # reused, so no new graph is traced
        with pool.borrow("c", small_model) as second:
            assert second is not kept  # lent to one borrower at a time
    assert pool.stats()["created"] == 4


def test_an_engine_is_given_back_when_the_body_raises():
    pool = EnginePool(max_idle_bytes=100 * MB)
    with pytest.raises(RuntimeError):
        with pool.borrow("k", small_model):
            raise RuntimeError("interrupted")
    assert len(pool.idle("k")) == 1


def test_a_large_idle_engine_is_not_kept_past_the_budget():
    """The 10 x 1,024 model (about 40 MB of weights) alone passes a 16 MB budget."""
    pool = EnginePool(max_idle_bytes=16 * MB)
    with pool.borrow("big", lambda: small_model((1024,) * 10)):
        pass
    assert pool.stats() == {"idle": 0, "idle_mb": 0.0, "created": 1, "evicted": 1}
