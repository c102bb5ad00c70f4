"""Faster optimizers: momentum, Nesterov, AdaGrad, RMSprop and Adam against plain SGD.

Teaching point: momentum remembers past gradients and rolls through long, flat
valleys; adaptive methods scale each coordinate by its gradient history. On the
network they beat SGD from the same initial weights. AdaGrad's scaling only ever
grows, so its steps only shrink: that stalls it on the 2-D bowl, while on the network
a few hundred steps lower its rate only a little (the page says so, measured).
"""

import streamlit as st

from lab.admission import TRAINING, train_shared
from lab.claims import in_points, markdown_list
from lab.config import OPTIMIZERS
from lab.runs import with_dashes
from lab.topics import optimizers as opt
from ui import present, presets
from ui.common import get_dataset, show_keras_code, stored_result
from ui.service import cached_only, compute, keep_cached, session_id
from ui.live import wait_text

TRAJECTORIES_KEY = "opt_trajectories"
RACE_KEY = "opt_race"
ADAGRAD_KEY = "opt_adagrad"
# Numbers as plain as Python writes them ("2", "0.5", "3000"): what a select slider shows is also what
# a shared link carries, so a lecturer can type ?opt_sgd_lr=0.05.
PLAIN_NUMBER = "{:g}".format
RESULT_HEIGHT = 420  # the paths' height on a projector: with the steps slider they fit 1280x720


@st.cache_data(max_entries=16, show_spinner=False)
def trajectories(surface_key: str, optimizers: tuple, settings: opt.OptimizerSettings, steps: int) -> dict:
    # Identical requests (every student opening the same link) are computed once per server.
    # Real Keras optimizers step on the surface, in the worker, without waiting behind trainings.
    return compute(opt.run_trajectories, surface_key, optimizers, settings, steps, quick=True)


@st.cache_data(max_entries=16, show_spinner="Training with model.fit (a few seconds)...")
def adagrad_logs(_dataset, learning_rate: float, epochs: int, compare: bool) -> list:
    # The dataset is the one shared Fashion-MNIST; its name is not hashed (the leading underscore).
    return compute(opt.adagrad_comparison, _dataset, learning_rate, epochs, compare)


# A lecture preset asks once, on the run that opens it, for the surface and the race to run
# (the AdaGrad experiment below runs only from its own button: it is the slowest).
preset_run = presets.run_requested()

st.title("Faster optimizers")
result_area = present.ResultArea("opt_result_area")  # on a projector the optimizers' paths come first
st.markdown(
    "**Claim.** Plain SGD steps along the current gradient only, so it zig-zags across a steep valley once its "
    "learning rate is too large for that steepness, and crawls along flat ones. **Momentum** and **Nesterov** "
    "build up speed in directions that stay consistent; **AdaGrad**, **RMSprop** and **Adam** divide each "
    "coordinate's step by the size of its past gradients. "
    "Adam combines both ideas. AdaGrad never forgets, so its steps only ever shrink: the slides' reason to call it "
    "\"not for neural networks\". How fast they shrink on the lecture's network is measured below."
)
with present.folded("The update rules"):
    tabs = st.tabs([opt.LABELS[name] for name in OPTIMIZERS])
    for tab, name in zip(tabs, OPTIMIZERS):
        with tab:
            for line in opt.EQUATIONS[name]:
                st.latex(line)
            if name in opt.KERAS_NOTES:
                st.caption("In Keras: " + opt.KERAS_NOTES[name])

# ----------------------------------------------------------------------
st.header("1. Six optimizers on a 2-D loss surface")
st.caption("Each path is a real Keras optimizer moving a 2-component keras.Variable from the same start; the "
           "gradient comes from TensorFlow's autodiff of the surface.")
with st.form("opt_surface_form"):
    first, second = st.columns(2)
    # Plain option values (Keras's own optimizer strings), so a shared link reads
    # ?opt_surface=saddle&opt_optimizers=momentum&opt_optimizers=adam, exactly as the boxes show.
    surface_key = first.selectbox("Surface", options=list(opt.SURFACES), key="opt_surface", bind="query-params")
    steps = second.slider("Steps", 10, 200, 100, step=10, key="opt_steps", bind="query-params")
    # A row of its own: in a third of the width the six names were cut off after "nes".
    chosen = st.multiselect("Optimizers", options=list(OPTIMIZERS), default=list(OPTIMIZERS),
                            key="opt_optimizers", bind="query-params")
    with present.more_settings("Learning rates and hyperparameters"):
        # One row of columns per group, in the optimizers' order (SGD and momentum, then the adaptive ones): a phone
        # stacks the columns one after another, and three columns filled across two rows came out as SGD's rate,
        # RMSprop's rho, the adaptive rate, Adam's beta 1, momentum, Adam's beta 2.
        first, second, third = st.columns(3)
        sgd_lr = first.select_slider("Learning rate: SGD, Momentum, Nesterov",
                                     options=[0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4], value=0.1, key="opt_sgd_lr", format_func=PLAIN_NUMBER,
                                     bind="query-params")
        momentum = second.slider("Momentum \u03b2", 0.0, 0.99, 0.9, step=0.01, key="opt_momentum",
                                 bind="query-params")
        adaptive_lr = third.select_slider("Learning rate: AdaGrad, RMSprop, Adam",
                                          options=[0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5], value=0.1,
                                          key="opt_adaptive_lr", format_func=PLAIN_NUMBER, bind="query-params")
        first, second, third = st.columns(3)
        rho = first.slider("RMSprop \u03c1", 0.5, 0.999, 0.9, step=0.001, format="%.3f", key="opt_rho",
                           bind="query-params")
        beta_1 = second.slider("Adam \u03b2\u2081", 0.5, 0.99, 0.9, step=0.01, key="opt_beta_1",
                               bind="query-params")
        beta_2 = third.select_slider("Adam \u03b2\u2082", options=[0.9, 0.99, 0.999, 0.9999], value=0.999,
                                     key="opt_beta_2", format_func=PLAIN_NUMBER, bind="query-params")
    run_surface = st.form_submit_button("Run the optimizers", type="primary", key="opt_run")

settings = opt.OptimizerSettings(sgd_learning_rate=sgd_lr, adaptive_learning_rate=adaptive_lr,
                                 momentum=momentum, rho=rho, beta_1=beta_1, beta_2=beta_2)
if run_surface or preset_run:
    if not chosen:
        st.warning("Pick at least one optimizer.")
    else:
        with st.spinner(f"Taking {steps} steps with {len(chosen)} Keras optimizers..."):
            st.session_state[TRAJECTORIES_KEY] = {
                "surface": surface_key, "settings": settings, "steps": steps,
                "trajectories": trajectories(surface_key, tuple(chosen), settings, steps),
            }
elif chosen and st.session_state.get(TRAJECTORIES_KEY) is None:
    # Paths this server has already computed (a link, or the defaults) are drawn at once.
    paths = cached_only(trajectories, surface_key, tuple(chosen), settings, steps)
    if paths is not None:
        st.session_state[TRAJECTORIES_KEY] = {"surface": surface_key, "settings": settings, "steps": steps,
                                              "trajectories": paths}

experiment = stored_result(TRAJECTORIES_KEY, "Press **Run the optimizers** to draw their paths (a second or two).")
if experiment is not None:
    surface = opt.SURFACES[experiment["surface"]]
    paths = experiment["trajectories"]
    with result_area.head(bool(run_surface or preset_run)):
        with present.folded(f"The surface: {surface.title}"):
            st.latex(surface.latex)
            st.caption(f"**{surface.title}.** {surface.note}")
        longest = max(t.steps for t in paths.values())
        upto = st.slider("Show the first ... steps", 1, longest, longest, key="opt_step", bind="query-params")
        present.chart(opt.surface_figure(experiment["surface"], paths, upto), key="opt_surface_chart",
                      projector_height=RESULT_HEIGHT)
    left, right = st.columns(2)
    present.chart(opt.loss_by_step_figure(paths, experiment["surface"]), container=left, key="opt_loss_chart")
    summary = opt.summary_frame(paths, surface)
    formats = {"learning rate": "{:g}", "final loss": "{:.4g}", "distance to nearest minimum": "{:.4f}",
               "left the picture at step": lambda step: "no" if step != step or step is None else f"{step:.0f}"}
    right.table(summary.style.hide(axis="index").format({k: v for k, v in formats.items() if k in summary}))

    st.subheader("The update equations with live values")
    names = list(paths)
    shown = st.selectbox("Optimizer", options=names, key="opt_equation_optimizer",
                         index=names.index("adam") if "adam" in names else 0, bind="query-params")
    trajectory = paths[shown]
    step = min(upto, trajectory.steps)
    st.caption(f"Step {step} of {opt.LABELS[shown]}, in Keras's own form of the rule; the state (m, s) is read "
               "from the optimizer's variables. Move the step slider above to follow it.")
    for line in opt.live_equations(trajectory, step):
        st.latex(line)
    if "adagrad" in paths or "rmsprop" in paths:
        present.chart(opt.effective_rate_2d_figure(paths), key="opt_effective_2d")
    default_settings = experiment["settings"].is_default() and experiment["steps"] == 100
    st.info("**What to notice.** " + (surface.notice if default_settings else
            surface.notice + " (That is with the default settings; yours differ, so compare with the paths above.)"))
    with st.expander("Show Keras code"):
        st.code(opt.trajectory_code(experiment["surface"], experiment["settings"], experiment["steps"]),
                language="python")

# ----------------------------------------------------------------------
st.header("2. The race on Fashion-MNIST")
st.markdown("The lecture's model, trained once per optimizer **from the same initial weights and the same batches** "
            "(one seed), each at its usual learning rate.")
with st.form("opt_race_form"):
    racers = st.multiselect("Optimizers", options=list(OPTIMIZERS), default=list(OPTIMIZERS),
                            key="opt_race_optimizers", bind="query-params")
    with present.more_settings():
        first, second = st.columns(2)
        race_size = first.select_slider("Training images", options=[1_000, 2_000, 3_000, 5_000], value=2_000,
                                        key="opt_race_train_size", format_func=PLAIN_NUMBER, bind="query-params")
        race_epochs = second.slider("Epochs", 1, 3, 2, key="opt_race_epochs", bind="query-params")
    st.caption("Learning rates: " + ", ".join(f"{opt.LABELS[n]} {lr:g}" for n, lr in opt.RACE_LEARNING_RATES.items()))
    start_race = st.form_submit_button("Start the race", type="primary", key="opt_race_run")

if start_race or preset_run:
    if not racers:
        st.warning("Pick at least one optimizer.")
    else:
        configs = opt.race_configs(racers, train_size=race_size, epochs=race_epochs)
        dataset = get_dataset("fashion_mnist")
        bar = st.progress(0.0, text="Starting the race...")
        partial, finished = st.empty(), {}

        def shared_train(config, data):
            # Through the server-wide queue and result cache; results may be shared, so they are read-only.
            result = train_shared(config, on_wait=lambda info: bar.progress(0.0, text=wait_text(info)),
                                  owner=session_id()).result
            # Each racer's curve shows as soon as it finishes: the first result comes after one run, not six.
            finished[config.optimizer] = result
            present.chart(opt.race_figure(finished, "val_accuracy"), container=partial,
                          key=f"opt_race_partial_{len(finished)}")
            return result

        st.session_state[RACE_KEY] = opt.race(
            configs, dataset, trainer=shared_train,
            on_start=lambda name, index: bar.progress(index / len(configs), text=f"Training {opt.LABELS[name]}..."))
        bar.empty()
        partial.empty()
elif racers and st.session_state.get(RACE_KEY) is None:
    # A race this server has already run (a link, or the defaults) is shown at once; never trained here.
    served = {name: TRAINING.cached(config) for name, config in
              opt.race_configs(racers, train_size=race_size, epochs=race_epochs).items()}
    if all(served.values()):
        st.session_state[RACE_KEY] = {name: each.result for name, each in served.items()}

race_results = stored_result(RACE_KEY, "Press **Start the race**: about two seconds per optimizer.")
if race_results is not None:
    left, right = st.columns(2)
    present.chart(opt.race_figure(race_results, "val_accuracy"), container=left, key="opt_race_accuracy")
    present.chart(opt.race_steps_figure(race_results), container=right, key="opt_race_steps")
    table = opt.race_table(race_results)
    st.table(with_dashes(table, {"learning rate": "{:g}", "validation accuracy": "{:.1%}", "training loss": "{:.3f}",
                                 "seconds": "{:.1f}"}).hide(axis="index"))
    # "Finished first" read as a time; the table is sorted by the last epoch's validation accuracy, so say that.
    notice = (f"**What to notice.** Same start, same batches, different optimizer: {table['optimizer'][0]} ended with "
              f"the highest validation accuracy, {table['validation accuracy'][0]:.1%}")
    if len(table) > 1:
        runner_up = table["optimizer"][1]
        notice += " (" + in_points(table["validation accuracy"][0] - table["validation accuracy"][1],
                                   f"above {runner_up}", f"below {runner_up}", f"the same as {runner_up}") + ")"
    notice += "."
    if opt.is_default_race(race_results):
        notice += " With these default settings:\n" + markdown_list(opt.RACE_CLAIMS)
    st.info(notice)
    first_racer = next(iter(race_results.values())).config
    st.caption(f"The code below is {opt.LABELS[first_racer.optimizer]}'s run; the others differ only in the "
               "optimizer line.")
    show_keras_code(first_racer)

# ----------------------------------------------------------------------
st.header("3. AdaGrad's effective learning rate on the network")
st.latex(r"s_t = s_{t-1} + g_t \otimes g_t \;\Rightarrow\; \frac{\eta}{\sqrt{s_t + \varepsilon}} \text{ never grows}")
st.markdown("The network is trained with `model.fit`, and a callback reads the optimizer's squared-gradient "
            "slots: AdaGrad's accumulator *s* against RMSprop's moving average.")
with st.form("opt_adagrad_form"):
    first, second = st.columns(2)
    adagrad_lr = first.select_slider("AdaGrad learning rate", options=[0.001, 0.003, 0.01, 0.03, 0.1], value=0.01,
                                     key="opt_adagrad_lr", format_func=PLAIN_NUMBER, bind="query-params")
    compare = second.checkbox("Compare with RMSprop (learning rate 0.001)", value=True, key="opt_adagrad_compare",
                              bind="query-params")
    with present.more_settings():
        adagrad_epochs = st.slider("Epochs (2,000 images each)", 1, 8, 5, key="opt_adagrad_epochs",
                                   bind="query-params")
    run_adagrad = st.form_submit_button("Train and watch the effective learning rate", type="primary",
                                        key="opt_adagrad_run")

if run_adagrad:
    st.session_state[ADAGRAD_KEY] = adagrad_logs(get_dataset("fashion_mnist"), adagrad_lr, adagrad_epochs, compare)
else:  # already trained on this server: shown at once
    keep_cached(ADAGRAD_KEY, adagrad_logs, get_dataset("fashion_mnist"), adagrad_lr, adagrad_epochs, compare)

logs = stored_result(ADAGRAD_KEY, "Press **Train and watch the effective learning rate** (a few seconds).")
if logs is not None:
    present.chart(opt.effective_rate_figure(logs), key="opt_effective_chart")
    columns = st.columns(len(logs))
    for column, log in zip(columns, logs):
        column.metric(f"{opt.LABELS[log.optimizer]}: output layer's rate at the end",
                      f"{log.ratio('output'):.0%} of step {opt.REFERENCE_STEP}'s",
                      help="Median effective learning rate of the output layer at the last step, divided by "
                           f"its value at step {opt.REFERENCE_STEP}.")
        column.caption("Validation accuracy per epoch: " + ", ".join(f"{a:.1%}" for a in log.val_accuracy))
    adagrad = logs[0]
    hidden = min(adagrad.ratio(name) for name in adagrad.layer_names if name != "output")
    notice = (
        "**What to notice.** AdaGrad's lines only go down and will keep going down: every squared gradient adds "
        f"to *s* and nothing is ever taken away. In this run, from step {opt.REFERENCE_STEP} to step "
        f"{adagrad.steps[-1]}, the output layer's rate fell to {adagrad.ratio('output'):.0%} and the hidden "
        f"layers kept at least {hidden:.0%}; a rate falling like 1/√t would keep "
        f"{opt.one_over_sqrt_t_ratio(adagrad):.0%}."
    )
    if opt.is_default_adagrad(logs):
        notice += " With these default settings:\n" + markdown_list(opt.ADAGRAD_CLAIMS)
    st.info(notice)
    st.caption("The slides' \"not for neural networks\" is about long trainings: AdaGrad's rates fall for as long "
               "as it trains, so they end too small before the minimum. That needs far more steps than a lecture "
               "demo runs; on the 2-D bowl above, where the gradients are large, the stall shows within the "
               "default 100 steps.")
    with st.expander("Show Keras code"):
        st.code(opt.adagrad_code(logs), language="python")
