"""Training: start a run in the background, follow it live, stop it, fine-tune, compare runs, manage runs and the model in use.

Everything shown comes from the run folders and the training lock (core.training.follow), not from the
session, so a reload or a second tab sees the same training.
"""

import streamlit as st

from core.config import CELLS, SETTINGS, TrainConfig
from core.key_relative import CHORD_ENCODINGS
from core.run_files import LIVE_STATUSES, STOP_WAITS_FOR, TRAIN_OUTPUT_FILE
from core.song_context import CONTEXTS
from core.training import active_model, follow, processes, run_management, run_names
from core.training.lock import current_training
from core.training.run_folder import epoch_records
from studio import access, charts, fine_tune
from studio.page import input_errors, set_up
from studio.run_tables import format_duration, runs_frame, tensorboard_command


def hint(setting: str) -> str:
    """A form field's help: what the setting does and the values it accepts (from core.config)."""
    spec = SETTINGS[setting]
    return f"{spec.help[0].upper()}{spec.help[1:]}: {spec.accepted()}."


set_up("Training")
access.owner_page("The Training page (training, fine-tuning, the model in use, the runs)")
# The note after an action ("… is now the model the studio uses") sits in a slot drawn on every run: were it drawn
# only when there is one, everything below would move up a place on the next run and Streamlit would redraw the
# Fine-tune section closed, on its first tab.
flash_slot = st.empty()
if flash := st.session_state.pop("training_flash", None):
    flash_slot.success(flash, icon=":material/rocket_launch:")

requested = st.query_params.get("run")
if requested:
    with input_errors():
        run_names.existing_run_dir(requested)


def resume_controls(run_name: str, offer: processes.ResumeOffer) -> None:
    """Resume an interrupted or stopped run from its last saved epoch, for as many epochs in all as asked."""
    total, go = st.columns([1, 3], vertical_alignment="bottom")
    epochs = total.number_input("Epochs in all", min_value=offer.epoch + 1, value=max(offer.planned, offer.epoch + 1),
                                step=1, key=f"resume-epochs-{run_name}")
    if go.button(f"Resume from epoch {offer.epoch}", icon=":material/resume:", key=f"resume-{run_name}"):
        with input_errors():
            processes.resume_training(run_name, int(epochs))
            st.rerun(scope="app")


@st.fragment(run_every=2)
def live_panel() -> None:
    """The run in progress (else the one asked for in the URL, else the newest): progress, curves, Stop."""
    access.owner_page("Following a training")  # a fragment reruns without the page's own check
    shown = follow.run_to_follow(st.query_params.get("run"))
    if shown is None:
        st.info("No training runs yet: start one below.", icon=":material/info:")
        return
    with input_errors():
        progress = follow.run_progress(shown)
        live = progress.status in LIVE_STATUSES
        if st.session_state.get("was_live") and not live:
            st.session_state["was_live"] = False
            st.rerun(scope="app")  # the run just ended: refresh the run list and the form
        st.session_state["was_live"] = live

        head, button = st.columns([4, 1], vertical_alignment="bottom")
        head.subheader(f"{'Training now' if live else 'Run'}: {shown}")
        if live and button.button("Stop training", type="primary", icon=":material/stop_circle:", key="stop"):
            access.require_owner("Stopping a training")
            processes.stop_training(shown)
            st.toast(f"Stop requested for {shown}: it waits for {STOP_WAITS_FOR}.")
        planned = progress.epochs_planned or "?"
        st.progress(progress.fraction, text=f"epoch {progress.epoch} of {planned} · {progress.phase_label}")
        if progress.status == "stopping":
            st.info(f"Stopping: waiting for {STOP_WAITS_FOR}.", icon=":material/hourglass_top:")
        status, epoch, elapsed, eta = st.columns(4)
        status.metric("Now" if live else "Status", progress.phase if live else progress.status, help=progress.phase_label)
        epoch.metric("Epoch", f"{progress.epoch} / {planned}")
        elapsed.metric("Elapsed", format_duration(progress.elapsed_s))
        eta.metric("Time left (ETA)", format_duration(progress.eta_s))
        if not live and (offer := processes.resume_offer(shown)) is not None:
            resume_controls(shown, offer)
        if not live and (tuned := follow.fine_tune_result(shown)) is not None:
            songs = "the held-out song" if tuned.songs == 1 else f"the {tuned.songs} held-out songs"
            st.metric(f"Perplexity on {songs} (lower is better)", f"{tuned.perplexity_after:.2f}",
                      delta=f"{tuned.perplexity_after - tuned.perplexity_before:+.2f} from "
                      f"{tuned.perplexity_before:.2f} before fine-tuning", delta_color="inverse")
        records = epoch_records(progress.records)
        if records:
            st.plotly_chart(charts.training_curves(records), key="live-curves")
        elif live:
            st.caption("Waiting for the first epoch to end…")
        if progress.status in ("failed", "interrupted") or (live and not records):
            with st.expander(f"Trainer output ({TRAIN_OUTPUT_FILE})", expanded=progress.status == "failed"):
                st.code(follow.train_output_tail(shown) or "(nothing printed yet)", language="text")


live_panel()

busy = current_training()
with st.expander("Start a training run", expanded=busy is None, icon=":material/play_circle:"):
    if busy is not None:
        st.warning(f"Training now: {busy.describe()}. One training at a time: stop it above or wait for it to end.")
    defaults = TrainConfig()
    with st.form("train-form"):
        optimise, network, limits = st.columns(3)
        optimise.markdown("**Optimisation**")
        epochs = optimise.number_input("Epochs", value=defaults.epochs, step=5, help=hint("epochs"))
        batch_size = optimise.number_input("Batch size", value=defaults.batch_size, step=16, help=hint("batch_size"))
        lr = optimise.number_input("Learning rate", value=defaults.lr, step=0.0005, format="%.5f", help=hint("lr"))
        seed = optimise.number_input("Seed", value=defaults.seed, step=1, help=hint("seed"))
        network.markdown("**Network**")
        cell = network.selectbox("Recurrent cell", CELLS, index=CELLS.index(defaults.model.cell), help=hint("cell"))
        layers = network.number_input("Recurrent layers", value=defaults.model.lstm_layers, step=1, help=hint("lstm_layers"))
        lstm_units = network.number_input("Units per layer", value=defaults.model.lstm_units, step=32, help=hint("lstm_units"))
        embedding_dim = network.number_input("Chord embedding size", value=defaults.model.embedding_dim, step=16,
                                             help=hint("embedding_dim"))
        dropout = network.number_input("Dropout", value=defaults.model.dropout, step=0.05, format="%.2f", help=hint("dropout"))
        attention = network.checkbox("Self-attention after the recurrent layers", value=defaults.model.attention)
        encoding = network.selectbox("Chord encoding", CHORD_ENCODINGS, help=hint("chord_encoding"),
                                     index=CHORD_ENCODINGS.index(defaults.model.chord_encoding))
        context = network.selectbox("Context", CONTEXTS, index=CONTEXTS.index(defaults.model.context), help=hint("context"))
        length = network.number_input("Chords per example (0 = the context's: 12 a window, 32 a song span)", value=0,
                                      step=4, help=hint("sequence_length"))
        limits.markdown("**Data and limits**")
        augment = limits.checkbox("Augment: random transposition", value=defaults.augment,
                                  help=hint("augment"))
        max_minutes = limits.number_input("Time budget, minutes (0 = none)", value=float(defaults.max_minutes or 0), step=5.0,
                                          help=hint("max_minutes"))
        max_windows = limits.number_input("Train-window slice (0 = all; try 2000 for a quick run)",
                                          value=defaults.max_train_windows or 0, step=500, help=hint("max_train_windows"))
        run_name = limits.text_input("Run name", placeholder="empty: run-<date>-<time>", help=hint("run_name"))
        submitted = st.form_submit_button("Start training", type="primary", icon=":material/play_arrow:")
    if submitted:
        with input_errors():
            name = processes.start_training(TrainConfig.from_values({
                "epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed, "cell": cell, "lstm_layers": layers,
                "lstm_units": lstm_units, "embedding_dim": embedding_dim, "dropout": dropout, "attention": attention,
                "chord_encoding": encoding, "augment": augment, "max_minutes": max_minutes, "max_train_windows": max_windows,
                "run_name": run_name, "context": context, **({"sequence_length": length} if length else {}),
            }))
            st.session_state["training_flash"] = f"Started **{name}** in the background: follow it above."
            st.query_params["run"] = name
            st.rerun()

with st.expander("Fine-tune a trained model: on a genre, a source, a mood, or your own songs", icon=":material/tune:",
                 key="fine-tune-section", on_change="rerun"):  # open/closed and the tab kept by the server
    on_subset, on_songs = st.tabs(["A genre, source or mood", "Your own songs"], key="fine-tune-tabs", on_change="rerun")
    with on_subset:
        fine_tune.subset_panel()
    with on_songs:
        fine_tune.songs_panel()

st.header("Model in use")
choices = active_model.model_choices()
model = active_model.model_in_use()
active = next((i for i, choice in enumerate(choices) if choice.run == active_model.active_run_name()), 0)
pick, use = st.columns([3, 1], vertical_alignment="bottom")
chosen = pick.selectbox(f"The studio generates and scores with {model.label}", choices, index=active,
                        format_func=lambda c: c.label, key="model-choice")
if use.button("Make active", type="primary", key="make-active"):
    with input_errors():
        active_model.activate(chosen)
        st.session_state["training_flash"] = f"**{chosen.label}** is now the model the studio uses."
        st.rerun()

#: while a run trains, the runs table and the Compare chart redraw this often (seconds), as the live panel does.
LIVE_REFRESH_S = 2
refresh_every = LIVE_REFRESH_S if busy is not None else None


@st.fragment(run_every=refresh_every)
def runs_table() -> None:
    """The runs table, read afresh from the run folders (each redraw while a run trains shows its epochs)."""
    with input_errors(), st.container(key="runs-table"):
        st.dataframe(runs_frame(follow.list_runs()), hide_index=True, width="stretch")


@st.fragment(run_every=refresh_every)
def compare_runs(names: list[str]) -> None:
    """The Compare chart of the picked runs' per-epoch metrics, redrawn with each new epoch while a run trains."""
    st.subheader("Compare runs")
    picked = st.multiselect("Runs", names, default=names[:2], key="compare")
    metric = st.selectbox("Metric", ["val_loss", "loss", "val_accuracy", "accuracy", "val_top5", "top5", "lr"],
                          key="metric")
    if picked:
        with input_errors():
            st.plotly_chart(charts.compare_runs(follow.metrics_by_run(picked), metric), key="compare-chart")


st.header("Runs")
summaries = follow.list_runs()
if not summaries:
    st.caption("Finished and running runs appear here.")
else:
    runs_table()
    names = [run.name for run in summaries]
    compare, chosen_run = st.columns([3, 2])
    with compare:
        compare_runs(names)
    with chosen_run:
        st.subheader("One run")
        selected = st.selectbox("Run", names, key="selected-run")
        if st.button("Show its curves above", key="show-run"):
            st.query_params["run"] = selected
            st.rerun()
        new_name, rename = st.columns([3, 1], vertical_alignment="bottom")
        renamed = new_name.text_input("New name", placeholder=selected, key="rename-to")
        if rename.button("Rename", key="rename"):
            with input_errors():
                run_management.rename_run(selected, renamed)
                st.session_state["training_flash"] = f"**{selected}** is now called **{renamed.strip()}**."
                st.session_state.pop("rename-to", None)
                st.rerun()
        zipped = access.owner_guarded("Downloading a run", lambda: run_management.run_zip(selected))
        st.download_button("Download as a zip", data=zipped, file_name=f"{selected}.zip",
                           mime="application/zip", icon=":material/download:", key="download-run", on_click="ignore")
        if st.session_state.get("confirm-delete") != selected:
            if st.button("Delete…", icon=":material/delete:", key="delete-run"):
                st.session_state["confirm-delete"] = selected
                st.rerun()
        else:
            st.warning(f"Delete **{selected}** and every file in it? This cannot be undone.")
            sure, cancel = st.columns(2)
            if sure.button("Delete for good", type="primary", key="delete-confirmed"):
                with input_errors():
                    was_active = run_management.delete_run(selected)
                    st.session_state["training_flash"] = f"Deleted **{selected}**." + (
                        " The shipped default is the model in use again." if was_active else "")
                    st.session_state.pop("confirm-delete", None)
                    st.rerun()
            if cancel.button("Keep it", key="delete-cancelled"):
                st.session_state.pop("confirm-delete", None)
                st.rerun()
    st.markdown(f"TensorBoard for **{selected}**:")
    with input_errors():
        st.code(tensorboard_command(selected), language="bash")
