"""Training Lab: train the lecture's model live with every knob, watch it learn, and compare runs.

Teaching point: every setting on the slides (learning rate, optimizer, initialisation,
batch normalisation, clipping, loss) changes how the same model learns, and with the
same seed a single changed setting explains the whole difference between two runs.
"""

import contextlib

import streamlit as st

from lab import runs as lab_runs
from lab.config import (
    ACTIVATIONS, BATCH_NORM_PLACES, CLIP_MODES, DATASETS, INITIALIZERS, LOSSES, MAX_EPOCHS, OPTIMIZER_LABELS,
    OPTIMIZER_PARAMETERS, OPTIMIZERS, SETTINGS, lecture_config,
)
from lab.cost import describe_seconds
from lab.plots import (
    compare_figure, confusion_matrix_figure, gradient_norms_figure, learning_rate_figure,
    per_class_accuracy_figure, prediction_figure, run_colors, waiting_curves_figure,
)
from ui.common import get_dataset, show_keras_code
from ui.present import chart, more_settings, presenting
from ui.presets import run_requested
from ui.service import warm_start
from ui.share import accept_other_spellings
from ui.lab_form import (
    LAB_DEFAULT, LAB_OPTIONS, apply_lab_config, config_from_lab_state, init_lab_widgets, keep_linked_result,
    lab_key, lab_widget_state,
)
from ui.live import SOURCE_TEXT, PROJECTOR_CHART_HEIGHT, result_curves, settle_interrupted_run, train_lab_run

RUNS_KEY = "training_lab_runs"  # the session's lab.runs.RunHistory
PENDING_KEY = "training_lab_pending"  # a same-seed B run queued by its button: (config, note, A's id)
VERSION_KEY = "training_lab_version"  # bumps when runs change, so the pickers jump to the newest run
UPLOAD_KEY = "training_lab_upload_message"
AB_ERROR_KEY = "training_lab_ab_error"
RUNS_TAB_KEY = "lab_runs_tab"  # the open tab of "Runs in this session"
STOPPED_KEY = "training_lab_stopped"  # the id of the last run a rerun or a Stop interrupted
GALLERY_SIZE = 12
# Settings survive a visit to another page and travel in the URL, so a link reproduces the run.
PERSIST = dict(persist_state="session", bind="query-params")
WIDGET_DEFAULTS = lab_widget_state(LAB_DEFAULT)

CLIP_LABELS = SETTINGS["clip"].choice_labels
BATCH_NORM_LABELS = SETTINGS["batch_norm"].choice_labels
LOSS_LABELS = SETTINGS["loss"].choice_labels


def _number(value) -> str:
    return "all" if value == 0 else f"{value:,}" if isinstance(value, int) else f"{value:g}"  # 0 images = all


def _runs() -> lab_runs.RunHistory:
    return st.session_state.setdefault(RUNS_KEY, lab_runs.RunHistory())


def _bump_version() -> None:
    st.session_state[VERSION_KEY] = st.session_state.get(VERSION_KEY, 0) + 1


# ----------------------------------------------------------------------
# Controls
# ----------------------------------------------------------------------
def presets() -> None:
    buttons = st.container(horizontal=True)
    buttons.button("Fast default (10k images)", key="lab_preset_fast", icon=":material/bolt:",
                   on_click=apply_lab_config, args=(LAB_DEFAULT,),
                   help="10,000 training images, SGD, learning rate 0.01, batch 32, 5 epochs: a few seconds.")
    buttons.button("Full lecture configuration (55k images)", key="lab_preset_lecture", icon=":material/school:",
                   on_click=apply_lab_config, args=(lecture_config(),),
                   help="The slides' setup: all 55,000 training images, SGD, learning rate 0.01, batch 32, "
                        "5 epochs. A few seconds per epoch on a quiet server.")


def linked(name: str, options=None) -> dict:
    """The keyword arguments that bind the widget of field `name` to the URL, with the lab's default as its own.

    Streamlit takes a widget's own default (its value=, else the first option or the minimum) as
    what a link need not carry: a link naming it is dropped as "the default", and moving the widget
    there leaves it out of the URL. The lab's defaults come from session state instead, so without
    this a link with the lowest option (500 images, 1 epoch) was refused and the default used.

    Args:
        name: a TrainConfig field of the form.
        options: a selectbox's options (it takes an index), or None for a widget that takes a value.
    Returns:
        keyword arguments for the widget.
    """
    default = WIDGET_DEFAULTS[lab_key(name)]
    own_default = {"value": default} if options is None else {"index": list(options).index(default)}
    return {**PERSIST, **own_default}


def select(column, label: str, name: str, **kwargs):
    """A select slider over LAB_OPTIONS[name], keyed "lab_<name>"."""
    format_func = kwargs.pop("format_func", _number)
    # A link may spell an option unlike its label (lab_learning_rate=1.0 for "1"); it means the same setting.
    accept_other_spellings(f"lab_{name}", LAB_OPTIONS[name], format_func)
    return column.select_slider(label, options=LAB_OPTIONS[name], key=f"lab_{name}",
                                format_func=format_func, **linked(name), **kwargs)


def choices() -> None:
    """The choices that decide which settings the form shows; outside the form so they apply at once."""
    columns = st.columns(4, gap="medium", vertical_alignment="bottom")
    columns[0].caption("These three choices change which settings the form shows. "
                       "Nothing trains until you press **Train**.")
    columns[1].selectbox(SETTINGS["kernel_initializer"].title, INITIALIZERS, key="lab_kernel_initializer",
                         **linked("kernel_initializer", INITIALIZERS))
    columns[2].selectbox(SETTINGS["optimizer"].title, OPTIMIZERS, key="lab_optimizer", format_func=OPTIMIZER_LABELS.get,
                         **linked("optimizer", OPTIMIZERS))
    columns[3].selectbox(SETTINGS["clip"].title, CLIP_MODES, key="lab_clip", format_func=CLIP_LABELS.get,
                         **linked("clip", CLIP_MODES))


def settings_form(fold: bool) -> bool:
    """The settings, grouped like the slides (folded away when `fold`); returns True when Train was pressed."""
    choices()
    with st.form("lab_form", border=False, enter_to_submit=False):
        # The expander sits inside the form, so Train stays in sight when the details fold away.
        if fold:
            # The slide's knob stays in sight on a projector; the other settings fold away.
            select(st, SETTINGS["learning_rate"].title, "learning_rate", format_func=_parameter_text)
        details = more_settings("All settings") if fold else contextlib.nullcontext()
        with details:
            _form_columns(learning_rate_shown=fold)
        pressed = st.form_submit_button("Train", type="primary", key="lab_train", icon=":material/play_arrow:",
                                        width="stretch")
        _estimate_caption()
    return pressed


def _estimate_caption() -> None:
    """How long the settings as last applied would train here, against the server's per-run limit."""
    try:
        config = config_from_lab_state(st.session_state)
    except ValueError:
        return  # the form shows what is wrong when Train is pressed
    service = warm_start()
    seconds, limit = service.estimate(config), service.max_run_seconds
    text = f"Estimated time: {describe_seconds(seconds)} on this server (limit {limit:g} s per run)."
    if seconds > limit:
        st.warning(text + " Use fewer images, epochs or units to train.", icon=":material/timer_off:")
    else:
        st.caption(text)


def _parameter_text(value) -> str:
    return "0 (off)" if value == 0 else f"{value:g}"


def _form_columns(learning_rate_shown: bool = False) -> None:
    """The form's four columns: data, model, optimizer, and clipping, loss and training (without the learning rate when shown above)."""
    data, model, optimizer, rest = st.columns(4, gap="medium")
    data.markdown("**Data**")
    data.selectbox(SETTINGS["dataset"].title, DATASETS, key="lab_dataset", format_func=SETTINGS["dataset"].choice_labels.get,
                  **linked("dataset", DATASETS))
    select(data, SETTINGS["train_size"].title, "train_size", help="A stratified subset; 'all' is 55,000.")
    select(data, SETTINGS["validation_size"].title, "validation_size")
    data.number_input(SETTINGS["seed"].title, 0, 2**31 - 1, step=1, key="lab_seed", **linked("seed"),
                      help="Fixes the split, the initial weights and the batch order.")
    model.markdown("**Model**")
    model.text_input(SETTINGS["hidden_units"].title, key="lab_hidden_units", max_chars=80, **linked("hidden_units"),
                     help="Widths of the Dense layers, input side first, e.g. 300, 100.")
    model.selectbox(SETTINGS["activation"].title, ACTIVATIONS, key="lab_activation", **linked("activation", ACTIVATIONS))
    model.selectbox(SETTINGS["batch_norm"].title, BATCH_NORM_PLACES, key="lab_batch_norm",
                    format_func=BATCH_NORM_LABELS.get, **linked("batch_norm", BATCH_NORM_PLACES))
    if st.session_state.get("lab_kernel_initializer") in ("random_normal", "random_uniform"):
        select(model, SETTINGS["init_stddev"].title, "init_stddev")
    optimizer.markdown(f"**Optimizer: {OPTIMIZER_LABELS[st.session_state['lab_optimizer']]}**")
    for parameter in OPTIMIZER_PARAMETERS[st.session_state["lab_optimizer"]]:
        if parameter == "learning_rate" and learning_rate_shown:
            continue
        select(optimizer, SETTINGS[parameter].title, parameter, format_func=_parameter_text)
    rest.markdown("**Clipping, loss and training**")
    if st.session_state.get("lab_clip", "none") != "none":
        select(rest, f"Clip threshold ({CLIP_LABELS[st.session_state['lab_clip']]})", "clip_threshold")
    select(rest, SETTINGS["batch_size"].title, "batch_size")
    rest.slider(SETTINGS["epochs"].title, 1, MAX_EPOCHS, key="lab_epochs", **linked("epochs"))
    rest.selectbox(SETTINGS["loss"].title, LOSSES, key="lab_loss", format_func=LOSS_LABELS.get,
                   **linked("loss", LOSSES))
    select(rest, SETTINGS["early_stopping_patience"].title, "early_stopping_patience",
           format_func=lambda value: "off" if value == 0 else f"{value} epochs",
           help="Stop when val_loss has not improved for this many epochs, and restore the best weights.")


# ----------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------
def train(config, note: str = "", ab_of=None) -> None:
    dataset = get_dataset(config.dataset)
    problem = lab_runs.check_fits(config, len(dataset.y_train))
    if problem:
        st.error(problem)
        return
    _bump_version()
    train_lab_run(config, dataset, _runs(), note=note, ab_of=ab_of)
    _bump_version()


# ----------------------------------------------------------------------
# One run's results
# ----------------------------------------------------------------------
def waiting_chart() -> None:
    # Empty loss axes before the first run: the browser loads Plotly now, not when the first live point arrives.
    waiting = waiting_curves_figure("loss", st.session_state.get(lab_key("epochs"), 5))
    chart(figure=waiting.update_layout(height=PROJECTOR_CHART_HEIGHT), key="lab_waiting_loss")


def show_run(record) -> None:
    config = record.config
    notes = lab_runs.explain(record)
    # On a projector the key numbers and the curves come first, so they fit the screen after Train; a
    # diverged run's one sentence (the slide's "learning rate too large") goes between them, in sight.
    notes_area = None if presenting() else st.container()
    show_metrics(record)
    if notes_area is None and record.status == "diverged":
        _show_notes(notes[:1])
        notes = notes[1:]
    tabs = st.tabs(["Curves", "Gradients and learning rate", "Test results", "Predictions"],
                   key="lab_result_tab", on_change="rerun")
    with notes_area or st.container():
        _show_notes(notes)
        if record.source in SOURCE_TEXT:
            st.caption(SOURCE_TEXT[record.source])
        if record.note:
            st.caption(record.note)
    with tabs[0]:
        if tabs[0].open:
            left, right = st.columns(2)
            chart(container=left, figure=result_curves(record, "loss"), key="lab_run_loss",
                  projector_height=PROJECTOR_CHART_HEIGHT)
            chart(container=right, figure=result_curves(record, "accuracy"), key="lab_run_accuracy",
                  projector_height=PROJECTOR_CHART_HEIGHT)
    with tabs[1]:
        if tabs[1].open:
            show_gradients(record)
    with tabs[2]:
        if tabs[2].open:
            show_test_results(record)
    with tabs[3]:
        if tabs[3].open:
            show_gallery(record)
    show_keras_code(config)
    st.button("Load this run's settings into the form", key="lab_load_settings", icon=":material/input:",
              on_click=apply_lab_config, args=(config,))


def _show_notes(notes) -> None:
    for note in notes:
        getattr(st, note.kind)(note.text)


def show_metrics(record) -> None:
    # A wrapping row: five across on a projector, two or three per line on a phone.
    row = st.container(horizontal=True, gap="small")
    test = "—" if record.test_accuracy is None else f"{record.test_accuracy:.1%}"
    loss = "—" if record.test_loss is None else f"{record.test_loss:.3f}"
    val = "—" if record.final_val_accuracy is None else f"{record.final_val_accuracy:.1%}"
    clipped = "off" if record.config.clip == "none" else f"{record.clipped_fraction or 0:.0%}"
    for label, value in (("Test accuracy", test), ("Test loss", loss), ("Validation accuracy", val),
                         ("Epochs · steps", f"{record.epochs_done} · {record.stop_step:,}"), ("Steps clipped", clipped)):
        row.metric(label, value, width="content", border=True)


def show_gradients(record) -> None:
    if not record.step_log:
        st.info("No steps were logged before the run ended, so there are no gradient norms to show.")
        return
    clipped = record.config.clip != "none"
    left, right = st.columns(2)
    chart(container=left, figure=gradient_norms_figure(record.step_log, record.layer_names, clipped), key="lab_run_gradients")
    chart(container=right, figure=learning_rate_figure(record.step_log), key="lab_run_learning_rate")
    if clipped:
        st.caption(f"Solid: gradient norm before clipping; dashed: after. Clipping changed the gradient at "
                   f"{record.clipped_fraction or 0:.0%} of the steps.")


def show_test_results(record) -> None:
    if record.confusion_matrix is None:
        st.info("No test results: the run was stopped or diverged before a usable model existed.")
        return
    class_names = get_dataset(record.config.dataset).class_names
    left, right = st.columns([2, 3])
    chart(container=left, figure=per_class_accuracy_figure(record.per_class_accuracy, class_names), key="lab_run_per_class")
    chart(container=right, figure=confusion_matrix_figure(record.confusion_matrix, class_names), key="lab_run_confusion")


def show_gallery(record) -> None:
    if record.sample_indices is None:
        st.info("No predictions: the run was stopped or diverged before a usable model existed.")
        return
    dataset = get_dataset(record.config.dataset)
    left, right = st.columns(2)
    mistakes = left.segmented_control("Show", ("all", "misclassified"), key="lab_gallery_filter",
                                      format_func=str.capitalize, default="all") == "misclassified"
    chosen = right.selectbox("True class", ("all classes",) + dataset.class_names, key="lab_gallery_class")
    class_index = None if chosen == "all classes" else dataset.class_names.index(chosen)
    indices, probabilities = lab_runs.gallery_selection(record, dataset.y_test, mistakes, class_index)
    if not len(indices):
        st.info("No test images in the sample match this filter.")
        return
    pages = (len(indices) + GALLERY_SIZE - 1) // GALLERY_SIZE
    page = st.pagination(pages, key="lab_gallery_page") if pages > 1 else 1
    start = (min(page, pages) - 1) * GALLERY_SIZE
    st.caption(f"{len(indices)} of the {len(record.sample_indices)} sampled test images match, mistakes first. "
               "Titles read true class → predicted class (confidence); green bar: the true class, red bar: "
               "a wrong prediction.")
    columns = st.columns(3)
    for position, (index, row) in enumerate(zip(indices[start:start + GALLERY_SIZE],
                                                probabilities[start:start + GALLERY_SIZE])):
        chart(container=columns[position % 3], figure=
            prediction_figure(dataset.x_test[index], row, dataset.class_names, int(dataset.y_test[index])),
            key=f"lab_prediction_{position}", config={"displayModeBar": False})


# ----------------------------------------------------------------------
# All runs: compare, A/B, delete, download, upload
# ----------------------------------------------------------------------
def show_compare(runs) -> None:
    version = st.session_state.get(VERSION_KEY, 0)
    latest = runs.latest
    default = [r.run_id for r in runs.records[-2:]]
    if latest.ab_of is not None and runs.get(latest.ab_of) is not None:
        default = [latest.ab_of, latest.run_id]
    ids = [r.run_id for r in runs.records]
    chosen = st.multiselect("Runs to compare", ids, default=default, key=f"lab_compare_runs_{version}",
                            format_func=lambda run_id: lab_runs.run_label(runs.get(run_id)))
    records = [runs.get(run_id) for run_id in chosen]
    if not records:
        st.info("Pick at least one run to compare.")
        return
    x_col, metric_col, log_col = st.columns([1, 1, 1], vertical_alignment="bottom")
    x_axis = x_col.segmented_control("Against", ("epoch", "step"), key="lab_compare_x", default="epoch") or "epoch"
    metrics = lab_runs.EPOCH_METRICS if x_axis == "epoch" else lab_runs.STEP_METRICS
    metric = metric_col.selectbox("Metric", metrics, key=f"lab_compare_metric_{x_axis}", format_func=lab_runs.metric_label,
                                  index=metrics.index("val_accuracy") if "val_accuracy" in metrics else 0)
    log_y = log_col.toggle("Log scale", key="lab_compare_log")
    # A learning rate (or an optimizer) that tells the runs apart has its own colour, as on every page.
    colors, colored_by = run_colors([r.config for r in records], [r.run_id for r in records])
    series = [(_overlay_label(r, colored_by), *lab_runs.metric_series(r, metric, x_axis)) for r in records]
    if any(value is not None for _, _, ys in series for value in ys):
        chart(figure=compare_figure(series, lab_runs.metric_label(metric), x_axis, log_y, colors=colors),
              key="lab_compare_chart")
    else:  # e.g. a run that diverged before its first epoch ended: an empty chart would say nothing
        st.info(f"No run here has a {lab_runs.metric_label(metric)} {'by epoch' if x_axis == 'epoch' else 'yet'}: "
                "a run that stopped or diverged before its first epoch ended has values only by step. "
                "Choose **step** under *Against*.", icon=":material/info:")
    differing = lab_runs.differing_settings(records)
    table = lab_runs.compare_table(records)
    st.dataframe(lab_runs.highlight_differences(table, differing), key="lab_compare_table")
    if len(records) > 1:
        names = ", ".join(map(lab_runs.setting_label, differing)) if differing else "none: the runs have identical settings"
        st.caption(f"Highlighted settings differ between these runs: {names}.")


def _overlay_label(record, colored_by) -> str:
    """A run's legend entry: its number, and the value of the setting that gives it its colour."""
    if colored_by is None:
        return f"#{record.run_id}"
    value = getattr(record.config, colored_by)
    text = lab_runs.OPTIMIZER_LABELS[value] if colored_by == "optimizer" else f"learning rate {value:g}"
    return f"#{record.run_id} {text}"


def _queue_ab(base_id: int, setting: str, value) -> None:
    base = _runs().get(base_id)
    try:
        config = lab_runs.ab_config(base.config, setting, value).canonical().with_log_points()
    except ValueError as error:
        st.session_state[AB_ERROR_KEY] = str(error)
        return
    apply_lab_config(config)
    note = lab_runs.ab_note(base.run_id, setting, getattr(base.config, setting), value)
    st.session_state[PENDING_KEY] = (config, note, base.run_id)


def show_ab(runs) -> None:
    base = runs.latest
    st.markdown(f"Re-run **#{base.run_id}** ({lab_runs.short_settings(base.config)}) with one setting changed. "
                "The seed stays the same, so the split, the batch order and (when the layer shapes stay the "
                "same) the initial weights are identical: the difference is due to that setting alone.")
    setting_col, value_col, button_col = st.columns([1, 1, 1], vertical_alignment="bottom")
    setting = setting_col.selectbox("Setting to change", tuple(lab_runs.AB_CHOICES), key="lab_ab_setting")
    current = getattr(base.config, setting)
    options = [value for value in lab_runs.AB_CHOICES[setting] if value != current]
    value = value_col.selectbox(f"New value (now {_number(current) if not isinstance(current, str) else current})",
                                options, key=f"lab_ab_value_{setting}",
                                format_func=lambda v: v if isinstance(v, str) else f"{v:g}")
    button_col.button("Train B with the same seed", key="lab_ab_run", icon=":material/compare_arrows:",
                      on_click=_queue_ab, args=(base.run_id, setting, value), width="stretch")
    error = st.session_state.pop(AB_ERROR_KEY, None)
    if error:
        st.error(f"That change is not possible: {error}")


def _delete(run_ids) -> None:
    _runs().delete(run_ids)
    _bump_version()


def _import_upload() -> None:
    uploaded = st.session_state.get("lab_upload")
    if uploaded is None:  # the file was removed: so is the message about it
        st.session_state.pop(UPLOAD_KEY, None)
        return
    try:
        if uploaded.size > lab_runs.MAX_UPLOAD_BYTES:
            raise lab_runs.RunFileError(f"The file is {uploaded.size / 1e6:.1f} MB; a runs file may be at most "
                                        f"{lab_runs.MAX_UPLOAD_BYTES / 1e6:.0f} MB.")
        stored = _runs().import_records(lab_runs.runs_from_json(uploaded.getvalue()))
    except lab_runs.RunFileError as error:
        st.session_state[UPLOAD_KEY] = ("error", f"{uploaded.name} was not loaded. {error}")
        return
    _bump_version()
    names = ", ".join(f"#{record.run_id}" for record in stored)
    st.session_state[UPLOAD_KEY] = ("success", f"Restored {len(stored)} run(s) from {uploaded.name} as {names}.")


def show_manage(runs) -> None:
    version = st.session_state.get(VERSION_KEY, 0)
    records = list(runs.records)
    left, right = st.columns(2)
    doomed = left.multiselect("Runs to delete", [r.run_id for r in records], key=f"lab_delete_runs_{version}",
                              format_func=lambda run_id: lab_runs.run_label(runs.get(run_id)))
    left.button("Delete selected runs", key="lab_delete", icon=":material/delete:", disabled=not doomed,
                on_click=_delete, args=(doomed,))
    right.download_button("Download runs as CSV", lambda: lab_runs.runs_to_csv(records),
                          file_name="training-lab-runs.csv", mime="text/csv", key="lab_download_csv",
                          on_click="ignore", icon=":material/table:")
    right.download_button("Download runs as JSON", lambda: lab_runs.runs_to_json(records),
                          file_name="training-lab-runs.json", mime="application/json", key="lab_download_json",
                          on_click="ignore", icon=":material/download:",
                          help="Upload this file later (or in another browser) to restore the runs.")


def show_upload() -> None:
    st.file_uploader("Restore runs from a JSON file downloaded here", type=["json"], key="lab_upload",
                     on_change=_import_upload,
                     help=f"At most {lab_runs.MAX_UPLOAD_BYTES // 2**20} MB; checked before anything is loaded.")
    message = st.session_state.get(UPLOAD_KEY)
    if message:
        getattr(st, message[0])(message[1])


# ----------------------------------------------------------------------
# The page
# ----------------------------------------------------------------------
title = st.empty()
title.title("Training Lab")
results_first = presenting()
if not results_first:
    st.caption("The lecture's model (Flatten, Dense 300 relu, Dense 100 relu, Dense 10 softmax) trained live on "
               "real images, with every knob from the slides.")
init_lab_widgets()
runs = _runs()
interrupted = settle_interrupted_run()  # the run of a training the last interaction interrupted, kept
if interrupted is not None:
    _bump_version()
    # A run that ended by itself just before the interaction (completed, diverged) is shown like any other.
    if interrupted.status == "stopped":
        st.session_state[STOPPED_KEY] = interrupted.run_id
# The notice stays while the stopped run is the newest: the rerun that follows a training (see
# ui.live._watch_for_toolbar_stop) must not take it away.
stopped = runs.get(st.session_state.get(STOPPED_KEY)) if runs.records else None
if stopped is not None and stopped is not runs.latest:
    stopped = None
# On a projector the results come first: the live chart and the key numbers fill the screen after
# Train, and the form follows with only the learning rate and the three choices unfolded.
results_area = st.container() if results_first else contextlib.nullcontext()
controls = st.container() if results_first else contextlib.nullcontext()
with controls:
    if not results_first:
        presets()
    with st.container(border=True):
        submitted = settings_form(fold=results_first)
    if results_first:
        presets()

with results_area:
    if stopped is not None:
        st.warning(f"Run #{stopped.run_id} was stopped at step {stopped.stop_step:,}; what it trained so far is "
                   "kept below as a run marked 'stopped'.", icon=":material/stop_circle:")
    pending = st.session_state.pop(PENDING_KEY, None)
    # The training and its messages go in one container that every run of the page has, so the results below
    # keep their place in the page whether or not this run trains. Without it, the rerun that follows each
    # training (ui.live._watch_for_toolbar_stop) drew them two places higher, and until it ended a loaded
    # browser showed the run's metrics and "Runs in this session" twice, the old copy greyed out.
    with st.container():
        if pending is not None:
            train(*pending)
        elif submitted or run_requested():  # a lecture preset link counts as pressing Train
            try:
                config = config_from_lab_state(st.session_state)
            except ValueError as error:
                st.error(str(error))
            else:
                train(config)
        elif keep_linked_result(runs, get_dataset) is not None:  # a shared link of a run this server already has
            _bump_version()

    if results_first and runs.records:
        # On a projector the results take the title's place: the key numbers, a diverged run's sentence
        # and the curves fill a 1280x720 screen only without it (the sidebar and the browser tab name the page).
        title.empty()
    if not runs.records:
        st.info("Press **Train** to train the model; the default run takes a few seconds. Then change one "
                "setting and train again to compare, or restore runs from a file below.")
        if not results_first:
            waiting_chart()
    else:
        if not results_first:
            st.header("Results")
        ids = [r.run_id for r in reversed(runs.records)]
        view_key = f"lab_view_run_{st.session_state.get(VERSION_KEY, 0)}"

        def run_picker():
            return st.selectbox("Run", ids, key=view_key, format_func=lambda run_id: lab_runs.run_label(runs.get(run_id)))

        if results_first:
            # The picker goes below the curves; until it exists its key holds no value, which means the newest run.
            show_run(runs.get(st.session_state.get(view_key)) or runs.get(ids[0]))
            run_picker()
        else:
            show_run(runs.get(run_picker()))

if results_first and not runs.records:
    waiting_chart()  # on a projector below the settings, so the learning-rate knob stays on the first screen
if runs.records:
    st.header(f"Runs in this session ({len(runs)} of at most {runs.max_runs})")
    # Keyed and tracked: the chosen tab is session state, so a rerun from a widget inside it (such as
    # the A/B's "Setting to change") keeps it open instead of going back to Compare; only it runs.
    compare_tab, ab_tab, manage_tab = st.tabs(["Compare", "Same-seed A/B", "Delete and download"],
                                              key=RUNS_TAB_KEY, on_change="rerun")
    with compare_tab:
        if compare_tab.open:
            show_compare(runs)
    with ab_tab:
        if ab_tab.open:
            show_ab(runs)
    with manage_tab:
        if manage_tab.open:
            show_manage(runs)
show_upload()
