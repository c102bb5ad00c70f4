"""Training the lecture's model with full instrumentation, fast enough to watch live.

One `tf.function` runs a whole chunk of steps per call: it gathers each
mini-batch from the shared uint8 images, takes the gradient step with the Keras
optimizer (whose own clipping applies), and records the batch loss, the
accuracy and the global gradient norm of every step. The last step of each
chunk also records per-layer gradient norms before and after clipping. Chunks
are short (about 0.1 s), so cancelling and progress reports stay responsive.

Nothing here touches process-wide state: each run builds its own model,
optimizer and graph, and seeds only its own initializers and shuffling.
"""

from __future__ import annotations

import functools
import math
import time
from typing import Callable, Optional

from lab.lazy import keras
import numpy as np
from lab.lazy import tf

from lab.config import OPTIMIZER_PARAMETERS, TrainConfig
from lab.data import Dataset, split_indices
from lab.engines import ENGINES
from lab.models import build_loss, build_model, loss_needs_one_hot
from lab.optimizers import build_optimizer
# What a run returns lives in lab.results, which the server can import without TensorFlow.
from lab.results import STOP_REASONS, TrainProgress, TrainResult, flatten_step  # noqa: F401

# A run has diverged when a chunk's mean loss exceeds this multiple of the
# first step's loss (or is NaN/inf): far beyond noise, and never recovered from.
DIVERGENCE_FACTOR = 10.0
PROGRESS_INTERVAL = 0.25  # seconds between on_progress calls (at most 4 a second)
# Work per graph call, in image-parameter products: 100 lecture-model steps of 32
# images, about 0.07 s here, so a cancel lands well within 0.25 s. The chunking
# must not depend on timing: the last step of a chunk runs in its own branch of
# the graph, whose float rounding may differ in the last bit, so chunk boundaries
# are part of what makes a run reproducible.
CHUNK_WORK = 100 * 32 * 266_610
EVAL_BATCH = 2_000  # images per forward pass when evaluating
# Steps whose own batch loss and accuracy are kept one by one, from step 0. The
# step log holds running means from step `log_every` on, so without these a run
# that diverges within its first steps would have nothing to draw.
FIRST_STEPS = 100


def chunk_steps(config: TrainConfig, parameters: int) -> int:
    """Steps per graph call for this config: about CHUNK_WORK of work, at most log_every.

    Args:
        config: its batch_size and log_every.
        parameters: the model's parameter count.
    Returns:
        a whole number of steps, at least 1.
    """
    return max(1, min(config.log_every, CHUNK_WORK // (config.batch_size * max(parameters, 1))))


class _Stop(Exception):
    """Internal signal that ends the epoch loop with a reason."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


# ----------------------------------------------------------------------
# The graph
# ----------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _images_tensor(dataset: Dataset, split: str) -> tf.Tensor:
    # One tensor per dataset and split for the whole process: runs gather their
    # batches from it instead of each copying 47 MB of pixels.
    return tf.constant(getattr(dataset, f"x_{split}"))


@functools.lru_cache(maxsize=4)
def _labels_tensor(dataset: Dataset) -> tf.Tensor:
    return tf.constant(dataset.y_train)


def _layer_groups(model: keras.Model) -> tuple[list[str], list[int]]:
    """Names of layers with trainable weights and, per variable, its layer's index."""
    names, owner = [], {}
    for layer in model.layers:
        if layer.trainable_weights:
            for variable in layer.trainable_weights:
                owner[id(variable)] = len(names)
            names.append(layer.name)
    return names, [owner[id(v)] for v in model.trainable_variables]


class _Graph:
    """The compiled training and prediction functions of one run."""

    def __init__(self, config: TrainConfig, model, optimizer, images, labels, num_classes):
        self.config, self.model, self.optimizer = config, model, optimizer
        self.images, self.labels = images, labels
        self.loss_fn = build_loss(config)
        self.one_hot = loss_needs_one_hot(config)
        self.num_classes = num_classes
        self.variables = model.trainable_variables
        self.layer_names, groups = _layer_groups(model)
        self.membership = tf.constant(
            np.eye(len(self.layer_names), dtype=np.float32)[groups]
        )  # (variables, layers): sums per-variable squares into per-layer squares
        # One trace for every chunk shape: steps and batch size are both dynamic.
        self.run_chunk = tf.function(
            self._run_chunk, input_signature=[tf.TensorSpec([None, None], tf.int32)]
        )

    def _target(self, labels):
        return tf.one_hot(labels, self.num_classes) if self.one_hot else labels

    def _squares(self, grads):
        return tf.stack([tf.reduce_sum(tf.square(g)) for g in grads])

    def _clipped(self, grads, squares, global_norm):
        """Whether clipping changes this step's gradient, by Keras's own rule."""
        threshold = self.config.clip_threshold
        if self.config.clip == "value":
            return tf.reduce_any([tf.reduce_any(tf.abs(g) > threshold) for g in grads])
        if self.config.clip == "norm":
            return tf.reduce_any(tf.sqrt(squares) > threshold)
        if self.config.clip == "global_norm":
            return global_norm > threshold
        return tf.constant(False)

    def _clipped_squares(self, grads, squares, global_norm):
        """Per-variable squared norms after the optimizer's clipping."""
        threshold = self.config.clip_threshold
        if self.config.clip == "value":
            return tf.stack([tf.reduce_sum(tf.square(tf.clip_by_value(g, -threshold, threshold))) for g in grads])
        if self.config.clip == "norm":
            return tf.minimum(squares, threshold**2)
        if self.config.clip == "global_norm":
            return squares * tf.minimum(1.0, threshold / tf.maximum(global_norm, 1e-12)) ** 2
        return squares

    def _step(self, batch, instrument: bool):
        """One gradient step; the norms are computed only where they are needed.

        Per-step norms cost about a tenth of a step, so without clipping they are
        computed only on the instrumented last step of a chunk.
        """
        x = tf.gather(self.images, batch)
        y = tf.gather(self.labels, batch)
        with tf.GradientTape() as tape:
            probabilities = self.model(x, training=True)
            loss = self.loss_fn(self._target(y), probabilities)
        grads = tape.gradient(loss, self.variables)
        learning_rate = tf.cast(self.optimizer.learning_rate, tf.float32)
        self.optimizer.apply_gradients(zip(grads, self.variables))
        predicted = tf.argmax(probabilities, 1, output_type=tf.int32)
        correct = tf.reduce_sum(tf.cast(predicted == tf.cast(y, tf.int32), tf.float32))
        step = {"loss": loss, "correct": correct, "learning_rate": learning_rate}
        if instrument or self.config.clip != "none":
            squares = self._squares(grads)
            global_norm = tf.sqrt(tf.reduce_sum(squares))
            step.update(squares=squares, global_norm=global_norm,
                        clipped=self._clipped(grads, squares, global_norm))
        if instrument:
            clipped_squares = self._clipped_squares(grads, squares, global_norm)
            step.update(
                layer_norms=tf.sqrt(tf.linalg.matvec(self.membership, squares, transpose_a=True)),
                clipped_layer_norms=tf.sqrt(tf.linalg.matvec(self.membership, clipped_squares, transpose_a=True)),
                clipped_global_norm=tf.sqrt(tf.reduce_sum(clipped_squares)),
            )
        return step

    def _run_chunk(self, batches):
        """Train on `batches` (steps x batch indices); instrument the last step fully."""
        steps = tf.shape(batches)[0]
        losses = tf.TensorArray(tf.float32, size=steps)
        corrects = tf.TensorArray(tf.float32, size=steps)
        clipped = tf.TensorArray(tf.bool, size=steps)
        for i in tf.range(steps - 1):
            step = self._step(batches[i], instrument=False)
            losses = losses.write(i, step["loss"])
            corrects = corrects.write(i, step["correct"])
            clipped = clipped.write(i, step.get("clipped", False))
        last = self._step(batches[steps - 1], instrument=True)
        out = {key: last[key] for key in (
            "learning_rate", "global_norm", "layer_norms", "clipped_layer_norms", "clipped_global_norm")}
        out["loss"] = losses.write(steps - 1, last["loss"]).stack()
        out["correct"] = corrects.write(steps - 1, last["correct"]).stack()
        out["clipped"] = clipped.write(steps - 1, last["clipped"]).stack()
        return out

    def predict(self, images: tf.Tensor, indices: Optional[np.ndarray] = None) -> np.ndarray:
        """Softmax outputs for `images[indices]`, in batches, without training behaviour."""
        count = len(indices) if indices is not None else int(images.shape[0])
        outputs = []
        for start in range(0, count, EVAL_BATCH):
            if indices is None:
                batch = images[start : start + EVAL_BATCH]
            else:
                batch = tf.gather(images, indices[start : start + EVAL_BATCH])
            # Eager on purpose: a few large batches gain nothing from a graph, and
            # every new tf.function costs memory that TensorFlow never returns.
            outputs.append(self.model(batch, training=False).numpy())
        return np.concatenate(outputs)

    def evaluate(self, probabilities: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
        """Loss (with the run's own Keras loss) and accuracy of given outputs."""
        target = keras.ops.one_hot(labels, self.num_classes) if self.one_hot else labels
        loss = float(self.loss_fn(target, probabilities))
        accuracy = float(np.mean(np.argmax(probabilities, axis=1) == labels))
        return loss, accuracy


# ----------------------------------------------------------------------
# Engines: traced graphs reused across runs
# ----------------------------------------------------------------------
# TensorFlow never gives back the native memory of a traced function, so a new
# tf.function per run would grow the server by megabytes per run (measured: about
# 8 MB per small run). Runs whose graphs have the same shape therefore share one
# "engine": a model, an optimizer and a traced chunk function. The learning rate
# and decay live in variables read by Keras's own InverseTimeDecay, so they change
# without a retrace; everything else Keras bakes into the graph is in the key.
# They live in lab.engines's one byte-bounded pool, with every other experiment's engines.


def engine_key(config: TrainConfig, dataset: Dataset) -> tuple:
    """The settings a traced graph depends on; runs with equal keys share an engine.

    Args:
        config: the run's config.
        dataset: the dataset its images come from.
    Returns:
        a hashable tuple.
    """
    baked = tuple(
        (name, getattr(config, name))
        for name in OPTIMIZER_PARAMETERS[config.optimizer]
        if name not in ("learning_rate", "decay")
    )
    clip = (config.clip, config.clip_threshold if config.clip != "none" else None)
    return (id(dataset), config.hidden_units, config.activation, config.batch_norm, config.loss,
            config.optimizer, baked, clip)


def _schedule(learning_rate, decay) -> keras.optimizers.schedules.InverseTimeDecay:
    # decay_steps=1 makes this exactly the old Keras 2 `decay=`: lr / (1 + decay * step).
    return keras.optimizers.schedules.InverseTimeDecay(learning_rate, decay_steps=1, decay_rate=decay)


class _Engine:
    """A model, an optimizer and a traced chunk function, reset for each run."""

    def __init__(self, key: tuple, config: TrainConfig, dataset: Dataset):
        self.key = key
        self.learning_rate = keras.Variable(config.learning_rate, dtype="float32", trainable=False)
        self.decay = keras.Variable(config.decay, dtype="float32", trainable=False)
        self.model = build_model(config, dataset.num_classes)
        self.optimizer = build_optimizer(config, _schedule(self.learning_rate, self.decay))
        self.optimizer.build(self.model.trainable_variables)
        self.graph = _Graph(config, self.model, self.optimizer, _images_tensor(dataset, "train"),
                            _labels_tensor(dataset), dataset.num_classes)

    def reset(self, config: TrainConfig, num_classes: int) -> None:
        """Give the engine a new run's seeded weights and a fresh optimizer's state."""
        fresh_model = build_model(config, num_classes)
        self.model.set_weights(fresh_model.get_weights())
        # A fresh optimizer per run, as Keras would build it; its initial slot values
        # (zeros, or AdaGrad's 0.1 accumulators) are copied into the traced one.
        fresh_optimizer = build_optimizer(config, _schedule(config.learning_rate, config.decay))
        fresh_optimizer.build(fresh_model.trainable_variables)
        for target, source in zip(self.optimizer.variables, fresh_optimizer.variables, strict=True):
            target.assign(source)
        self.learning_rate.assign(config.learning_rate)
        self.decay.assign(config.decay)
        self.model.stop_training = False


def _acquire_engine(config: TrainConfig, dataset: Dataset) -> _Engine:
    key = engine_key(config, dataset)
    engine = ENGINES.take(key, lambda: _Engine(key, config, dataset))
    engine.reset(config, dataset.num_classes)
    return engine


def _release_engine(engine: _Engine) -> None:
    ENGINES.give_back(engine.key, engine)


# ----------------------------------------------------------------------
# The run
# ----------------------------------------------------------------------
class _Run:
    """State of one training run; `train()` is the public entry point."""

    def __init__(self, config, dataset, on_progress, should_stop):
        self.config, self.dataset = config, dataset
        self.on_progress, self.should_stop = on_progress, should_stop
        self.start = time.perf_counter()
        self.train_index, self.validation_index = split_indices(
            dataset.y_train, config.train_size, config.validation_size, config.seed
        )
        self.steps_per_epoch = math.ceil(len(self.train_index) / config.batch_size)
        self.total_steps = self.steps_per_epoch * config.epochs
        self.engine = _acquire_engine(config, dataset)
        self.model, self.optimizer, self.graph = self.engine.model, self.engine.optimizer, self.engine.graph
        self.history = {key: [] for key in ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds")}
        self.step_log: list[dict] = []
        self.first_steps: dict[str, list[float]] = {"loss": [], "accuracy": []}
        self.step = 0
        self.clipped_steps = 0
        self.reference_loss: Optional[float] = None
        self.chunk_cap = chunk_steps(config, self.model.count_params())
        self.last_progress = -math.inf
        self.first_progress: Optional[float] = None
        self.early_stopping = self._early_stopping()

    def _early_stopping(self):
        if self.config.early_stopping_patience is None:
            return None
        # Keras's own callback decides when to stop and restores the best weights.
        callback = keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=self.config.early_stopping_patience, restore_best_weights=True
        )
        callback.set_model(self.model)
        callback.on_train_begin()
        return callback

    # -- one epoch ------------------------------------------------------
    def _epoch_batches(self, epoch: int) -> np.ndarray:
        # The order depends only on the run's seed and the epoch number.
        rng = np.random.default_rng([self.config.seed, 2, epoch])
        return self.train_index[rng.permutation(len(self.train_index))].astype(np.int32)

    def _chunks(self, order: np.ndarray):
        """Yield (indices of steps x batch) chunks ending at log points or the cap."""
        batch = self.config.batch_size
        full_steps = len(order) // batch
        taken = 0
        while taken < full_steps:
            to_log = self.config.log_every - (self.step % self.config.log_every)
            size = max(1, min(self.chunk_cap, to_log, full_steps - taken))
            yield order[taken * batch : (taken + size) * batch].reshape(size, batch)
            taken += size
        if len(order) % batch:
            yield order[full_steps * batch :].reshape(1, -1)  # the last, smaller batch

    def _run_epoch(self, epoch: int) -> None:
        epoch_start = time.perf_counter()
        loss_sum = correct_sum = seen = 0.0
        for chunk in self._chunks(self._epoch_batches(epoch)):
            out = {k: v.numpy() for k, v in self.graph.run_chunk(tf.constant(chunk)).items()}
            sizes = chunk.shape[1]
            loss_sum += float(out["loss"].sum()) * sizes
            correct_sum += float(out["correct"].sum())
            seen += chunk.size
            # Count the chunk before checking it, so that a diverged run's stop step
            # and share of clipped steps include the steps it actually took.
            first_step = self.step
            self._keep_first_steps(out, first_step, sizes)
            self.step += len(chunk)
            self.clipped_steps += int(out["clipped"].sum())
            self._check_divergence(out["loss"], epoch, first_step)
            if self.step % self.config.log_every == 0:
                self._log_step(out, epoch, len(chunk), sizes)
            self._report()
            if self.should_stop is not None and self.should_stop():
                raise _Stop("cancelled", f"Stopped by request at epoch {epoch + 1}, step {self.step}.")
        self._end_epoch(epoch, loss_sum / seen, correct_sum / seen, time.perf_counter() - epoch_start)

    def _keep_first_steps(self, out: dict, first_step: int, batch: int) -> None:
        # Whole chunks are kept while they start within FIRST_STEPS, so the chunk in
        # which a run diverges early is kept up to its last step.
        if first_step >= FIRST_STEPS:
            return
        self.first_steps["loss"].extend(float(value) for value in out["loss"])
        self.first_steps["accuracy"].extend(float(value) / batch for value in out["correct"])

    def _check_divergence(self, losses: np.ndarray, epoch: int, first_step: int) -> None:
        if self.reference_loss is None:
            self.reference_loss = float(losses[0])
        # Steps are numbered as the charts number them: step 0's batch loss is measured at the
        # initial weights, and a diverged run's stop step is one past the step whose loss blew up.
        limit = DIVERGENCE_FACTOR * max(self.reference_loss, 1e-3)
        finite = np.isfinite(losses)
        if finite.all() and float(losses.mean()) <= limit:
            return
        # A non-finite loss or the chunk's mean over the limit decides, as before; the run ends at the
        # chunk's first step whose own batch loss is non-finite or over the limit, a point the
        # per-step curve draws at that step, and the text names that step and value.
        blown = int(np.flatnonzero(~finite | (np.where(finite, losses, 0) > limit))[0])
        self._stop_diverged(first_step + blown)
        if not finite[blown]:
            raise _Stop("diverged", f"The batch loss became {losses[blown]} at step {first_step + blown} "
                                    f"(epoch {epoch + 1}).")
        raise _Stop(
            "diverged",
            f"The batch loss rose to {losses[blown]:.3g} at step {first_step + blown} (epoch {epoch + 1}), "
            f"over {DIVERGENCE_FACTOR:g}x its value at step 0, {self.reference_loss:.3g}.",
        )

    def _stop_diverged(self, step: int) -> None:
        """End the run at `step`, the step whose batch loss diverged: later steps of its chunk are dropped."""
        self.step = step + 1
        for values in self.first_steps.values():
            del values[self.step:]

    def _log_step(self, out: dict, epoch: int, steps: int, batch: int) -> None:
        self.step_log.append({
            "step": self.step,
            "epoch": epoch + self._epoch_fraction(),
            "loss": float(out["loss"].mean()),
            "batch_loss": float(out["loss"][-1]),
            "accuracy": float(out["correct"].sum() / (steps * batch)),
            "learning_rate": float(out["learning_rate"]),
            "global_norm": float(out["global_norm"]),
            "clipped_global_norm": float(out["clipped_global_norm"]),
            "clipped": bool(out["clipped"][-1]),
            "layer_norms": out["layer_norms"].tolist(),
            "clipped_layer_norms": out["clipped_layer_norms"].tolist(),
        })

    def _epoch_fraction(self) -> float:
        return (self.step % self.steps_per_epoch) / self.steps_per_epoch if self.step % self.steps_per_epoch else 1.0

    def _end_epoch(self, epoch: int, loss: float, accuracy: float, seconds: float) -> None:
        probabilities = self.graph.predict(self.graph.images, self.validation_index)
        val_loss, val_accuracy = self.graph.evaluate(probabilities, self.dataset.y_train[self.validation_index])
        row = {
            "epoch": epoch + 1, "loss": loss, "accuracy": accuracy, "val_loss": val_loss,
            "val_accuracy": val_accuracy, "learning_rate": float(self.optimizer.learning_rate), "seconds": seconds,
        }
        for key, value in row.items():
            self.history[key].append(value)
        if self.early_stopping is not None:
            self.early_stopping.on_epoch_end(epoch, {"val_loss": val_loss})
            if self.model.stop_training:
                raise _Stop(
                    "early_stopped",
                    f"val_loss did not improve for {self.config.early_stopping_patience} epochs; "
                    f"stopped after epoch {epoch + 1} and restored the weights of epoch {self.early_stopping.best_epoch + 1}.",
                )

    def _report(self, force: bool = False) -> None:
        now = time.perf_counter()
        if self.on_progress is None or (not force and now - self.last_progress < PROGRESS_INTERVAL):
            return
        self.last_progress = now
        if self.first_progress is None:
            self.first_progress = now - self.start
        self.on_progress(TrainProgress(
            epoch=len(self.history["epoch"]), epochs=self.config.epochs, step=self.step,
            total_steps=self.total_steps, seconds=now - self.start,
            history={k: list(v) for k, v in self.history.items()}, step_log=list(self.step_log),
            layer_names=list(self.graph.layer_names),
            first_steps={k: list(v) for k, v in self.first_steps.items()},
        ))

    # -- the whole run --------------------------------------------------
    def run(self) -> TrainResult:
        try:
            return self._run()
        finally:
            # Also on Streamlit's stop exceptions, which are BaseExceptions.
            _release_engine(self.engine)

    def _run(self) -> TrainResult:
        epochs = self.config.epochs
        reason, detail = "completed", "Trained the one epoch." if epochs == 1 else f"Trained all {epochs} epochs."
        try:
            for epoch in range(self.config.epochs):
                self._run_epoch(epoch)
        except _Stop as stop:
            reason, detail = stop.reason, stop.detail
        best_epoch = None
        if self.early_stopping is not None:
            self.early_stopping.on_train_end()  # restores the best weights
            best_epoch = self.early_stopping.best_epoch + 1 if self.early_stopping.best_weights is not None else None
        result = TrainResult(
            config=self.config, history=self.history, step_log=self.step_log,
            layer_names=list(self.graph.layer_names), stop_reason=reason, stop_epoch=len(self.history["epoch"]),
            stop_step=self.step, stop_detail=detail, steps_per_epoch=self.steps_per_epoch,
            clipped_steps=self.clipped_steps, seconds=0.0, best_epoch=best_epoch,
            first_steps={k: list(v) for k, v in self.first_steps.items()},
        )
        self._test(result)
        result.seconds = time.perf_counter() - self.start
        result.first_progress_seconds = self.first_progress
        self._report(force=True)
        return result

    def _test(self, result: TrainResult) -> None:
        probabilities = self.graph.predict(_images_tensor(self.dataset, "test"))
        labels = self.dataset.y_test
        result.test_loss, result.test_accuracy = self.graph.evaluate(probabilities, labels)
        predicted = np.argmax(np.nan_to_num(probabilities, nan=0.0), axis=1)
        k = self.dataset.num_classes
        result.confusion_matrix = np.bincount(labels.astype(np.int64) * k + predicted, minlength=k * k).reshape(k, k)
        result.test_probabilities = probabilities.astype(np.float32)


def train(
    config: TrainConfig,
    dataset: Dataset,
    on_progress: Optional[Callable[[TrainProgress], None]] = None,
    should_stop: Optional[Callable[[], bool]] = None,
) -> TrainResult:
    """Train the lecture's model as `config` says, with full instrumentation.

    Args:
        config: the run's settings (validated on construction).
        dataset: the shared uint8 dataset from `lab.data.load_dataset`.
        on_progress: called with a TrainProgress at most about 4 times a second.
        should_stop: polled after every chunk (about every 0.1 s); True cancels the run.
    Returns:
        a TrainResult; divergence, early stopping and cancelling are stop reasons, not errors.
    """
    if config.dataset != dataset.name:
        raise ValueError(f"config.dataset is {config.dataset!r} but the dataset given is {dataset.name!r}")
    return _Run(config, dataset, on_progress, should_stop).run()

