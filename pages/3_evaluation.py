"""Evaluation: test-set accuracy and perplexity against n-gram baselines, per genre, mood and scale type,
top-k, confusion, and whether generated progressions follow their conditions (at a chosen guidance)
without copying the corpus.

Test figures come from the model's ``test_results.json`` (core.evaluation.evaluate; a button computes it when
missing). The confusion view and the conditioning checks decode and generate with the model, so
they run on request with a progress bar and are kept for the server's life (studio.loaders).
"""

from pathlib import Path

import streamlit as st

from core.conditions import GENRES, UNSPECIFIED
from core.config import DEFAULT_GUIDANCE, MAX_GUIDANCE
from core.evaluation import condition_checks as conditioning
from core.evaluation.evaluate import evaluate_run
from core.evaluation.results import CONDITION_LABELS, overall_frame, per_condition_frame, topk_curve
from core.generation.loading import load_generator
from studio import access, charts, loaders, models
from studio.page import input_errors, set_up

set_up("Evaluation")
folder = models.choose_model_folder(key="eval-model")
if folder is None:
    st.stop()
version = models.model_version(folder)


#: the page's technical words, one line each for a newcomer (shown under the test-set table).
GLOSSARY: tuple[tuple[str, str], ...] = (
    ("top-1 / top-5", "how often the true next chord is the model's first choice / among its five likeliest."),
    ("perplexity", "how many chords the model is, in effect, choosing between at each step: lower is better "
                   "(1 would be always certain and right)."),
    ("cross-entropy (nats)", "the average surprise at the true next chord, −ln p(chord); *nats* are the units of "
                             "the natural logarithm (1 nat ≈ 1.44 bits). Perplexity is e to this power."),
    ("END included", "the model also predicts where a progression stops (an END token); those predictions are "
                     "counted with the chords."),
    ("unigram / bigram / trigram", "simple baselines that predict the next chord from how often chords follow the "
                                   "0, 1 or 2 chords before them in the training songs."),
    ("Kneser-Ney", "the standard way such n-gram counts are smoothed, so a chord pair never seen in training still "
                   "gets a small probability (it trusts chords that follow many different chords)."),
    ("key-relative", "the baseline counts chords as if every song were in C, then moves them back to each test "
                     "song's key: the fair comparison, since the LSTM is told the key."),
)


def bounded_number(column, label: str, low: float, high: float, default: float, step: float, key: str,
                   help: str | None = None) -> float | None:
    """A number field whose out-of-range value is refused with a message (and ``None``), never silently replaced.

    Streamlit's own bounds keep the last valid value when a number outside them is typed, so the
    checks would run with a number the field no longer shows; here the typed value is kept and judged.
    """
    value = column.number_input(label, value=default, step=step, key=key, help=help)
    if value is None or not low <= value <= high:
        column.error(f"{label}: between {low:g} and {high:g}, not {value:g}.", icon=":material/error:")
        return None
    return value


def progress_bar(text: str):
    """A progress bar and the callback core functions report to: ``(done, total, what)``."""
    bar = st.progress(0.0, text=text)
    return lambda done, total, what: bar.progress(min(1.0, done / max(total, 1)), text=f"{text} {what} ({done}/{total})")


# --------------------------------------------------------------------------- test results

st.header("Test set")
results = loaders.test_results(folder)
if results is None:
    st.info("This model has no test results yet (`test_results.json`): compute them on the test songs "
            "(the LSTM with and without its conditions, and unigram/bigram/trigram baselines).", icon=":material/info:")
    if not access.is_owner():  # it writes test_results.json and takes minutes: the owner's, refused here
        st.caption(access.refusal("Computing test results"))
    elif st.button("Compute test results", type="primary", icon=":material/calculate:", key="eval-compute"):
        with input_errors(), st.status("Evaluating on the test songs…", expanded=True) as status:
            access.require_owner("Computing test results")
            st.write("Reading the corpus, fitting the n-gram baselines, scoring every test chord…")
            load_generator(folder)  # a model file that cannot be read is reported here, in one line
            evaluate_run(folder, frame=loaders.corpus())
            status.update(label="Test results written", state="complete")
            st.rerun()
else:
    with input_errors():
        split = results.get("split", "test")
        st.caption(f"{results.get(f'{split}_songs', '?')} songs, {results.get(f'{split}_windows', '?')} windows, "
                   f"{results.get(f'{split}_tokens', '?')} chord tokens · per chord token (END included) · "
                   f"computed {results.get('created', '?')}")
        st.dataframe(overall_frame(results), hide_index=True, width="stretch", column_config={
            "top1": st.column_config.NumberColumn("top-1", format="percent"),
            "top5": st.column_config.NumberColumn("top-5", format="percent"),
            "perplexity": st.column_config.NumberColumn(format="%.2f"),
            "cross_entropy": st.column_config.NumberColumn("cross-entropy (nats)", format="%.3f"),
        })
        with st.expander("What do these words mean?", icon=":material/help:"):
            st.markdown("\n".join(f"- **{word}**: {meaning}" for word, meaning in GLOSSARY))
        breakdown_column, curve_column = st.columns(2)
        with breakdown_column:
            per = st.segmented_control("Per", list(CONDITION_LABELS), default="genre", format_func=CONDITION_LABELS.get,
                                       key="eval-per") or "genre"
            metric = st.segmented_control("Metric", ["top1", "top5", "perplexity"], default="top1", key="eval-metric")
            metric = metric or "top1"
            per_value = per_condition_frame(results, per, metric)
            if per_value.empty:
                st.caption(f"These test results have no per-{CONDITION_LABELS[per]} figures: recompute them "
                           "(`python -m core evaluate --write`).")
            else:
                st.plotly_chart(charts.grouped_bars(per_value, per, metric, "model", f"{metric} per {CONDITION_LABELS[per]}",
                                                    percent=metric != "perplexity"), key="eval-per-value")
        with curve_column:
            curve = topk_curve(results)
            if curve:
                st.plotly_chart(charts.topk_curves(curve), key="eval-topk")

# --------------------------------------------------------------------------- confusion and conditioning

reports = loaders.computed_reports()
st.header("Which chords does it confuse?")
with input_errors():
    table_path = loaders.corpus_path()
    table_version = Path(table_path).stat().st_mtime
    confusion_key = ("confusion", str(folder), version, table_version)
    top = st.slider("Most frequent chords shown", 6, 25, 12, key="eval-top")
    if confusion_key not in reports:
        st.caption("Decodes every test window once and compares the model's first choice with the true next chord.")
        if not access.is_owner():  # long work: the owner's
            st.caption(access.refusal("Computing the confusion view"))
        elif st.button("Compute the confusion view", icon=":material/grid_on:", key="eval-confusion"):
            report = progress_bar("Decoding the test songs…")
            reports[confusion_key] = conditioning.test_predictions(load_generator(folder), loaders.corpus(),
                                                                   progress=report)
            st.rerun()
    else:
        targets, predictions = reports[confusion_key]
        st.plotly_chart(charts.confusion_heatmap(conditioning.confusion_top_chords(targets, predictions, top=top)),
                        key="eval-confusion-chart")

    st.header("Does it follow its conditions?")
    settings, samples_column, guidance_column, _ = st.columns([1, 1, 1, 1])
    per_value = bounded_number(settings, "Samples per mood / genre", 10, 200, 30, 10, "eval-samples")
    length = bounded_number(samples_column, "Chords per sample", 4, 16, 8, 1, "eval-length")
    weight = bounded_number(guidance_column, "Guidance", 0.0, MAX_GUIDANCE, DEFAULT_GUIDANCE, 0.5, "eval-guidance",
                            help="How strongly generation leans toward the requested genre and mood (0 = the model as "
                                 f"trained; the Generate page's default is {DEFAULT_GUIDANCE:g}).")
    settings_ok = per_value is not None and length is not None and weight is not None
    conditioning_key = settings_ok and ("conditioning", str(folder), version, table_version, int(per_value), int(length),
                                        float(weight))
    if not settings_ok:
        st.caption("The conditioning checks run once every setting above is in its range.")
    elif conditioning_key not in reports:
        st.caption("Generates progressions for each mood and each genre (other conditions open) at this guidance and "
                   "compares them with the corpus: how often a judge names the requested value (next to how often it "
                   "names real test songs of that value), minor chords per mood, chords per genre, copied 4-grams.")
        if not access.is_owner():  # long work: the owner's
            st.caption(access.refusal("Running the conditioning checks"))
        elif st.button("Run the conditioning checks", icon=":material/science:", key="eval-conditioning"):
            report = progress_bar("Generating…")
            reports[conditioning_key] = conditioning.conditioning_report(
                load_generator(folder), loaders.corpus(), samples_per_value=int(per_value),
                length=int(length), progress=report, guidance={"genre": float(weight), "mood": float(weight)})
            st.rerun()
    else:
        checks = reports[conditioning_key]
        for column, name in zip(st.columns(2), ("genre", "mood"), strict=True):
            adherence = checks["adherence"].get(name)
            if adherence is None:
                column.caption(f"Too few labelled {name}s in the training songs to judge {name}.")
            else:
                column.plotly_chart(charts.paired_bars(adherence[["generated", "real"]],
                                                       f"Judged as the requested {name}: generated vs real test songs"),
                                    key=f"eval-adherence-{name}")
        st.caption("The judge (naive Bayes on key-relative Roman-numeral pairs, trained on the training songs) reads "
                   "each progression. *generated*: share of the progressions asked for a value that it names that "
                   "value; *real*: share of the real test songs of that value it names correctly — the ceiling, "
                   "what real music of that label reaches.")
        mood_column, genre_column = st.columns(2)
        mood_column.plotly_chart(charts.paired_bars(checks["minor_share"], "Share of minor chords per requested mood"),
                                 key="eval-minor")
        with genre_column:
            genre = st.selectbox("Genre", [g for g in GENRES if g != UNSPECIFIED], key="eval-genre")
            distribution, distance = checks["genre_distributions"][genre]
            st.plotly_chart(charts.paired_bars(distribution, f"Chords in {genre}: generated vs real"),
                            key="eval-genre-chords")
            st.caption(f"Total variation distance between the two distributions: {distance:.2f} (0 = identical, 1 = disjoint).")
        exact, any_key = checks["novelty"], checks["novelty_any_key"]
        copied, copied_any, counted = st.columns(3)
        copied.metric("4-grams copied from training", f"{exact.copied_share:.0%}")
        copied_any.metric("…in any key", f"{any_key.copied_share:.0%}")
        counted.metric("Generated progressions", f"{checks['samples']:,}")
        st.caption("A copied 4-gram is four chords in a row that occur somewhere in the training windows; common "
                   "cadences are copied by any good model, whole progressions should not be.")
