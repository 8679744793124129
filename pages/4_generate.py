"""Generate: progressions for a genre, mood and key; lock chords, swap alternatives, transpose, listen, share.

The whole page is a function of its URL (see :mod:`studio.generate_state` and
:mod:`studio.generate_url`): the address bar is always a link that reproduces it.
"""

import json

import streamlit as st

from core.chords import ROOTS
from core.conditions import GENRES, MOODS, UNSPECIFIED
from core.generation.generate import Sample
from studio import charts, generate_state, loaders, models
from studio.generate_state import ALTERNATIVES_FOR, apply, lock_key, widget_key
from studio.generate_url import (
    LENGTH_RANGE,
    SAMPLES_RANGE,
    SEED_RANGE,
    TEMPERATURE_RANGE,
    TEMPO_RANGE,
    TOP_K_RANGE,
    TOP_P_RANGE,
    TRANSPOSE_RANGE,
    sample_key,
    temperature_advice,
)
from studio.page import input_errors, set_up

CHORDS_PER_ROW = 8
#: progressions shown in full (chord cards, notation, audio, downloads); the others are listed in a table and opened one
#: at a time, so the page shows every progression the one samples limit allows (core.config) and stays quick.
FULL_CARDS = 8
OPEN = "open"

set_up("Generate")
folder = models.active_model_folder()
if folder is None:
    st.stop()
folder, version = models.with_ensemble(folder)  # the model in use, or it averaged with the runs chosen (an ensemble)
request, problems = generate_state.current_request()


def label(value: str) -> str:
    """Selectbox label: open conditions read ``open``."""
    return OPEN if value in ("", UNSPECIFIED) else value


# --------------------------------------------------------------------------- settings

with st.container(border=True):
    genre, mood, key, scale = st.columns(4)
    genre.selectbox("Genre", GENRES, key=widget_key("genre"), format_func=label)
    mood.selectbox("Mood", MOODS, key=widget_key("mood"), format_func=label)
    key.selectbox("Key", ["", *ROOTS], key=widget_key("key"), format_func=label)
    scale.selectbox("Scale type", ["", "major", "minor"], key=widget_key("scale"), format_func=label,
                    help="With a key and no scale type, the key is major.")
    length, temperature, top_k, top_p = st.columns(4)
    length.slider("Length (chords)", *LENGTH_RANGE, key=widget_key("length"))
    temperature.slider("Temperature", *TEMPERATURE_RANGE, step=0.05, key=widget_key("temperature"))
    temperature.caption(temperature_advice(request.temperature))
    top_k.number_input("Top-k (0 = off)", *TOP_K_RANGE, step=1, key=widget_key("top_k"),
                       help="Draw only among the k most probable chords.")
    top_p.number_input("Top-p", *TOP_P_RANGE, step=0.05, key=widget_key("top_p"), format="%.2f",
                       help="Draw only among the most probable chords that together reach this probability.")
    seeds, samples, seed, in_key = st.columns(4)
    seeds.text_input("Seed chords", key=widget_key("seed_chords"), placeholder="e.g. C Am (Enter to apply)",
                     help="Chord symbols the progressions open with, e.g. 'C Am' or 'Dm7 G7'.")
    samples.number_input("Progressions", *SAMPLES_RANGE, step=1, key=widget_key("samples"))
    seed.number_input("Random seed", *SEED_RANGE, step=1, key=widget_key("seed"),
                      help="The same seed and settings give the same progressions.")
    in_key.toggle("In key only", key=widget_key("in_key"), disabled=not request.key,
                  help="Only chords whose notes all lie in the key's scale (choose a key first).")
    transpose, tempo, action = st.columns([2, 2, 1], vertical_alignment="bottom")
    transpose.slider("Transpose (semitones)", *TRANSPOSE_RANGE, key=widget_key("transpose"))
    tempo.slider("Tempo (BPM) for audio and MIDI", *TEMPO_RANGE, step=5, key=widget_key("tempo"))
    action.button("Generate new", type="primary", icon=":material/casino:", width="stretch",
                  on_click=lambda: apply(request.with_new_seed()), key="gen-new")

for problem in problems:
    st.warning(problem, icon=":material/warning:")

base_url = (st.context.url or "http://localhost:8501/generate").split("?")[0]
with st.expander("Share these progressions", icon=":material/share:"):
    st.code(request.link(base_url), language=None, wrap_lines=True)
    st.caption("Anyone opening this link gets the same progressions (with the same model).")

# --------------------------------------------------------------------------- results


def percent(probability: float) -> str:
    """A probability as a percentage, with a decimal below 10% (so small ones do not all read 0%)."""
    return f"{probability:.0%}" if probability >= 0.1 else f"{probability:.1%}"


def chord_cards(index: int, sample: Sample) -> None:
    """One card per chord: symbol, Roman numeral, probability, a padlock and an alternatives button."""
    for start in range(0, len(sample.chords), CHORDS_PER_ROW):
        columns = st.columns(CHORDS_PER_ROW)
        for offset, column in enumerate(columns[: len(sample.chords) - start]):
            position = start + offset
            with column.container(border=True):
                st.markdown(f"**{sample.chords[position].symbol}**  \n{sample.roman[position]}")
                st.caption(f"p {percent(sample.probabilities[position])}")
                with st.container(horizontal=True, gap="small"):
                    st.checkbox(":material/lock:", key=lock_key(request, index, position), value=position in sample.locked,
                                help="Lock: keep this chord when regenerating")
                    st.button(":material/swap_horiz:", key=f"gen-alt-{index}-{position}", help="Alternatives for this chord",
                              on_click=lambda p=position: st.session_state.update({ALTERNATIVES_FOR: (index, p)}))


def regenerate_unlocked(index: int, sample: Sample) -> None:
    """Keep this sample's ticked chords, draw the rest anew (a new random seed)."""
    ticked = [p for p in range(len(sample.chords)) if st.session_state.get(lock_key(request, index, p))]
    apply(request.lock_chords(sample.chords, ticked))


def alternatives_panel(index: int, sample: Sample, position: int) -> None:
    """The most probable chords at one position given both neighbours; clicking one swaps it in."""
    with input_errors():
        options = loaders.alternatives(request, str(folder), version, index, position)
        st.markdown(f"Alternatives for chord {position + 1} (**{sample.chords[position].symbol}**), given both neighbours:")
        columns = st.columns(len(options) + 1)
        for column, (chord, probability) in zip(columns, options, strict=False):
            column.button(f"{chord.symbol} · {percent(probability)}", key=f"gen-swap-{index}-{position}-{chord.symbol}",
                          on_click=lambda c=chord: apply(request.swap(index, position, c)), width="stretch")
        columns[-1].button("close", key=f"gen-alt-close-{index}", icon=":material/close:",
                           on_click=lambda: st.session_state.pop(ALTERNATIVES_FOR, None))


def listen_and_download(index: int, sample: Sample) -> None:
    """Notation, audio and the MIDI / MusicXML / JSON downloads of one sample."""
    symbols = " ".join(sample.symbols)
    title = f"Progression {index + 1}"
    st.image(loaders.notation_svg(symbols, sample_key(sample), title), width="stretch")
    st.audio(loaders.progression_wav(symbols, request.tempo), format="audio/wav")
    midi, musicxml, as_json = st.columns(3)
    stem = f"chordsmith-{request.seed}-{index + 1}"
    midi.download_button("MIDI", loaders.progression_midi(symbols, request.tempo), f"{stem}.mid", "audio/midi",
                         icon=":material/download:", key=f"gen-midi-{index}", width="stretch")
    musicxml.download_button("MusicXML", loaders.progression_musicxml(symbols, sample_key(sample), title, request.tempo),
                             f"{stem}.musicxml", "application/vnd.recordare.musicxml+xml", icon=":material/download:",
                             key=f"gen-xml-{index}", width="stretch")
    payload = {**sample.to_dict(), "transpose": request.transpose, "link": request.link(base_url)}
    as_json.download_button("JSON", json.dumps(payload, indent=2), f"{stem}.json", "application/json",
                            icon=":material/download:", key=f"gen-json-{index}", width="stretch")


def show_sample(index: int, sample: Sample) -> None:
    """One generated progression, everything about it in one bordered box."""
    with st.container(border=True):
        st.subheader(f"Progression {index + 1}: {' '.join(sample.symbols)}")
        ending = "the model ended it" if sample.ended else "cut at the length"
        st.caption(f"Roman numerals in {sample.roman_key} · {len(sample.chords)} chords, {ending}"
                   + (f" · transposed {request.transpose:+d}" if request.transpose else ""))
        chord_cards(index, sample)
        chosen = st.session_state.get(ALTERNATIVES_FOR)
        if chosen and chosen[0] == index and chosen[1] < len(sample.chords):
            alternatives_panel(index, sample, chosen[1])
        regenerate, release = st.columns(2)
        regenerate.button("Regenerate unlocked chords", key=f"gen-regen-{index}", icon=":material/lock_reset:",
                          on_click=regenerate_unlocked, args=(index, sample), width="stretch",
                          help="Locked chords stay; the others are drawn again, shaped by the locks on both sides.")
        if request.locks:
            release.button("Release all locks", key=f"gen-release-{index}", icon=":material/lock_open:",
                           on_click=lambda: apply(request.lock_chords([], [])), width="stretch")
        listen_and_download(index, sample)


def more_progressions(shown: list[Sample]) -> None:
    """The progressions after the first :data:`FULL_CARDS`: all of them in a table, and one opened in full."""
    rest = range(FULL_CARDS, len(shown))
    st.subheader(f"Progressions {FULL_CARDS + 1} to {len(shown)}")
    st.dataframe({"#": [i + 1 for i in rest], "chords": [" ".join(shown[i].symbols) for i in rest],
                  "roman numerals": [" ".join(shown[i].roman) for i in rest], "key": [shown[i].roman_key for i in rest]},
                 hide_index=True, width="stretch")
    opened = st.selectbox("Open one in full", rest, format_func=lambda i: f"Progression {i + 1}", key="gen-open-more")
    show_sample(opened, shown[opened])


progressions, analyze = st.tabs(["Progressions", "Analyze a progression"])

with progressions:
    shown: list[Sample] | None = None
    with input_errors():
        shown = loaders.generated(request, str(folder), version)
    if shown is not None:
        for index, sample in enumerate(shown[:FULL_CARDS]):
            show_sample(index, sample)
        if len(shown) > FULL_CARDS:
            more_progressions(shown)

with analyze:
    st.text_area("Progression to analyze", key=widget_key("analyze"), height=80,
                 placeholder="Type or paste chord symbols, e.g. C G Am F (Ctrl+Enter to apply)")
    conditions = request.conditions
    st.caption(f"Scored under the conditions chosen above: genre {label(conditions.genre)} · mood {label(conditions.mood)} · "
               f"key {label(conditions.key)}.")
    if not request.analyze.strip():
        st.info("Type or paste a progression to see how probable each chord is and which genres and moods it fits.",
                icon=":material/edit_note:")
    else:
        with input_errors():
            result = loaders.analysis(request.analyze, request.conditions, str(folder), version)
            score = result["score"]
            perplexity, likelihood = st.columns(2)
            perplexity.metric("Perplexity", f"{score['perplexity']:.1f}", help="Lower: the model finds it more natural.")
            likelihood.metric("Log-likelihood", f"{score['log_likelihood']:.2f} nats")
            st.dataframe({"chord": score["chords"], "probability": score["probabilities"], "surprise (bits)": score["surprise"]},
                         hide_index=True, width="stretch",
                         column_config={"probability": st.column_config.ProgressColumn(format="percent", min_value=0,
                                                                                       max_value=1)})
            st.plotly_chart(charts.surprise_bars(score["chords"], score["surprise"]), key="gen-surprise")
            genres, moods = st.columns(2)
            genres.plotly_chart(charts.posterior_bars(result["genre"], "Genres it fits best"), key="gen-genres")
            moods.plotly_chart(charts.posterior_bars(result["mood"], "Moods it fits best"), key="gen-moods")

