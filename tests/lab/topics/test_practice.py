"""lab.topics.practice (page 14, practice: the checkers on real results): real Keras on real Fashion-MNIST.

Mechanics on small inputs. The page's outcome claims at its defaults are trained once, in
tests/lab/test_claims.py.
"""

import dataclasses
import re
import math

import pytest

from lab.config import TrainConfig
from lab.topics import practice
from lab.training import train


def test_diverge_check_on_real_runs(fashion):
    diverged = train(practice.diverge_config(3.0), fashion)
    check = practice.check_diverges(diverged)
    assert check.passed and "Diverged at learning rate 3" in check.feedback
    calm = train(practice.diverge_config(0.01), fashion)
    check = practice.check_diverges(calm)
    assert not check.passed and "Try a larger one" in check.feedback
    # Issue 10: "final training loss 1.878" sat beside a line ending near 1.58. The text names the
    # chart's line, and its number is that line's last point.
    from ui.live import result_curves

    found = re.search(r"epoch-mean loss of the last epoch: ([\d.]+)", check.feedback)
    assert found, check.feedback
    line = next(trace for trace in result_curves(calm, "loss").data if trace.name == "epoch-mean loss")
    assert f"{line.y[-1]:.3f}" == found.group(1)
    # The rules read the config that trained: another optimizer or clipping does not count.
    as_adam = dataclasses.replace(diverged, config=dataclasses.replace(diverged.config, optimizer="adam"))
    assert not practice.check_diverges(as_adam).passed
    clipped = dataclasses.replace(diverged, config=dataclasses.replace(diverged.config, clip="norm"))
    assert "Clipping was on" in practice.check_diverges(clipped).feedback


def test_target_accuracy_check_on_real_runs(fashion):
    fast = train(practice.target_config("adam", 0.003, 256, None), fashion)
    check = practice.check_target_accuracy(fast)
    assert check.passed, check.feedback
    slow = train(practice.target_config("sgd", 0.01, 32, 5_000, epochs=1), fashion)
    check = practice.check_target_accuracy(slow)
    assert not check.passed and "short of 85%" in check.feedback
    too_long = dataclasses.replace(fast, config=dataclasses.replace(fast.config, epochs=3))
    assert "at most 2" in practice.check_target_accuracy(too_long).feedback
    # A run that finished an epoch and then diverged is told so, not that it never finished an epoch.
    late = dataclasses.replace(slow, stop_reason="diverged", stop_detail="The loss became nan at step 300 (epoch 2).")
    feedback = practice.check_target_accuracy(late).feedback
    assert "diverged after 1 epoch(s)" in feedback and "did not finish" not in feedback


def test_deep_sigmoid_check_on_real_runs(fashion):
    stuck = train(practice.deep_sigmoid_config(epochs=1), fashion)
    check = practice.check_deep_sigmoid(stuck)
    assert not check.passed and stuck.history["val_accuracy"][-1] < 0.2 and "chance is 10%" in check.feedback
    fixed = train(practice.deep_sigmoid_config("adam", 0.001, batch_norm="before", epochs=2), fashion)
    check = practice.check_deep_sigmoid(fixed)
    assert check.passed, check.feedback
    # After its first epoch, the batch-norm run's training accuracy was up but validation (which uses the
    # moving statistics) still at chance: the checker explains that instead of calling it a failure to learn.
    first_epoch = {key: values[:1] for key, values in fixed.history.items()}
    assert first_epoch["accuracy"][0] > 0.5 and first_epoch["val_accuracy"][0] < 0.2
    early = dataclasses.replace(fixed, history=first_epoch, config=dataclasses.replace(fixed.config, epochs=1))
    check = practice.check_deep_sigmoid(early)
    assert not check.passed and "moving averages" in check.feedback
    shallow = dataclasses.replace(fixed, config=dataclasses.replace(fixed.config, hidden_units=(64,) * 9))
    assert "10 sigmoid" in practice.check_deep_sigmoid(shallow).feedback


def test_zero_init_answer_and_the_evidence_behind_it(fashion):
    assert practice.check_zero_init_answer(practice.ZERO_INIT_ANSWER).passed
    wrong = [practice.check_zero_init_answer(i) for i in range(len(practice.ZERO_INIT_CHOICES))
             if i != practice.ZERO_INIT_ANSWER]
    assert not any(check.passed for check in wrong) and all(check.feedback for check in wrong)
    with pytest.raises(ValueError):
        practice.check_zero_init_answer(7)
    # The evidence: zero kernels stay at chance while Glorot learns, and the starting loss is ln 10.
    zeros = train(TrainConfig(kernel_initializer="zeros", train_size=2_000, epochs=1, validation_size=1_000), fashion)
    assert zeros.history["val_accuracy"][-1] < 0.2
    assert zeros.step_log[0]["batch_loss"] == pytest.approx(math.log(10), abs=0.05)


def test_progress_counts_only_known_exercises():
    assert practice.progress(set()) == (0, 4)
    assert practice.progress({"diverge", "zero_init", "unknown"}) == (2, 4)
