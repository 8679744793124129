"""Generate: progressions for a genre, mood and key; each one locked, regenerated, undone and starred on its own; a composer.

Every chord is heard on a click, spelled in key, voiced (voice-led, root position or a chosen
inversion) the same in notation, audio and downloads. The page's state lives in the session and in
its address (:mod:`studio.generate_state`): leaving the page and coming back, or the browser's Back
button, brings the progressions back, and the address is a link that reproduces them with the model
it names (:mod:`studio.generate_model`).
"""

from dataclasses import replace

import streamlit as st

from core.chords import ROOTS
from core.conditions import GENRES, MOODS, UNSPECIFIED
from core.errors import EnvironmentFault, InputError
from core.paths import shown_paths
from core.voicing import VOICING_STYLES
from studio import composer, favourites, generate_cards, generate_model, generate_state, models, song_mode, visitor_budget
from studio.analyze_panel import analyze_panel
from studio.generate_state import Model, widget_key
from studio.generate_url import VIEWS
from studio.page import input_errors, set_up
from studio.page_settings import (
    GUIDANCE_RANGE,
    LENGTH_RANGE,
    SAMPLES_RANGE,
    SEED_RANGE,
    TEMPERATURE_RANGE,
    TEMPO_RANGE,
    TOP_K_RANGE,
    TOP_P_RANGE,
    TRANSPOSE_RANGE,
    temperature_advice,
)
from studio.plain_text import plain
from studio.progression_view import forget_audition

OPEN = "open"
TAB_LABELS = {"progressions": "Progressions", "compose": "Compose", "favourites": "Favourites",
              "analyze": "Analyze a progression", "song": "Song"}
VIEW_KEY = "gen-view"
MODEL_KEY = "gen-model"
ENSEMBLE_KEY = "ensemble"  # studio.models.with_ensemble's picker
VOICING_LABELS = {"voice-led": "Voice-led", "root": "Root position"}

set_up("Generate")
begun = generate_state.start()
state, problems = begun.state, list(begun.problems)
if begun.outside:  # the widgets that are not settings follow the state too
    st.session_state[VIEW_KEY] = TAB_LABELS[state.view]
    st.session_state.pop(composer.TYPED, None)


def label(value: str) -> str:
    """Selectbox label: open conditions read ``open``."""
    return OPEN if value in ("", UNSPECIFIED) else value


def model_row() -> Model | None:
    """The model picker (and ensemble picker): the link's model when this studio has it, else the model in use."""
    choices = generate_model.options()
    if not choices:
        st.info(f"No trained model yet: {models.NO_MODEL_HINT}.", icon=":material/info:")
        return None
    names = [c.name for c in choices]
    if MODEL_KEY not in st.session_state or begun.outside:
        members, message = generate_model.find(state.model, choices) if state.model else (None, "")
        if message:
            problems.append(f"{message} The chords below come from the model in use, so they differ from the link's.")
            generate_state.report(problems[-1])
        members = members or [generate_model.active(choices) or choices[0]]
        st.session_state[MODEL_KEY] = members[0].name
        st.session_state[ENSEMBLE_KEY] = [m.name for m in members[1:]]
    picker, ensemble = st.columns([2, 3])
    name = picker.selectbox("Model", names, key=MODEL_KEY, format_func=lambda n: choices[names.index(n)].label,
                            help="Which model writes the progressions (here only; the Training page sets the active "
                                 "model). Links name it, so they give the same chords wherever it exists.")
    base = choices[names.index(name)]
    allowed = [c.name for c in choices if c.name != generate_model.DEFAULT_NAME and c.folder != base.folder]
    st.session_state[ENSEMBLE_KEY] = [n for n in st.session_state.get(ENSEMBLE_KEY, []) if n in allowed]
    with ensemble:
        joined, version = models.with_ensemble(base.folder)
    members = [base] + [c for c in choices if c.name in st.session_state.get(ENSEMBLE_KEY, [])]
    shown = " + ".join(m.label for m in members)
    try:
        identity = generate_model.identity(members)
    except (InputError, EnvironmentFault) as error:
        st.error(plain(shown_paths(f"{shown} cannot be used: {error} Pick another model above.")), icon=":material/error:")
        return None
    st.caption(f"Writing with **{plain(shown)}** ({plain(identity)}); links name it.")
    return Model(joined, version, identity)


model = model_row()
if model is None:
    st.stop()
request = generate_state.requested(state, problems)

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
    seeds, samples, seed, switches = st.columns(4)
    seeds.text_input("Seed chords", key=widget_key("seed_chords"), placeholder="e.g. C Am (Enter to apply)",
                     help="Chord symbols every progression opens with, as you see them (after transposition), "
                          "e.g. 'C Am', 'Dm7 G7' or 'C/E F'.")
    samples.number_input("Progressions", *SAMPLES_RANGE, step=1, key=widget_key("samples"))
    seed.number_input("Random seed", *SEED_RANGE, step=1, key=widget_key("seed"),
                      help="The same seed and settings give the same progressions.")
    switches.toggle("In key only", key=widget_key("in_key"), disabled=not request.key,
                    help="Only chords whose notes all lie in the key's scale (choose a key first).")
    switches.toggle("Let the model end it", key=widget_key("let_end"),
                    help="Off: every progression has exactly the length asked for. On: the model may end one sooner.")
    guidance, transpose, tempo, voicing = st.columns([2, 2, 2, 3], vertical_alignment="bottom")
    guidance.slider("Guidance", *GUIDANCE_RANGE, step=0.25, key=widget_key("guidance"),
                    help="How strongly the chords lean toward the genre and mood chosen (0: the model as trained). "
                         "Higher follows them more closely, at the cost of variety.")
    transpose.slider("Transpose (semitones)", *TRANSPOSE_RANGE, key=widget_key("transpose"))
    tempo.slider("Tempo (BPM): notation, audio, MIDI", *TEMPO_RANGE, step=5, key=widget_key("tempo"))
    voicing.segmented_control("Voicing", VOICING_STYLES, key=widget_key("voicing"), required=True,
                              format_func=VOICING_LABELS.get,
                              help="How the chords are played and written: each chord's notes as close as possible to "
                                   "the previous chord's, or every chord in root position. A chord's own bass "
                                   "(chosen in its panel) is kept either way.")
    with st.container(horizontal=True, horizontal_alignment="right"):
        st.button("Generate new", type="primary", icon=":material/casino:", on_click=generate_state.generate_new,
                  key="gen-new", help="A new random seed: every progression is drawn again (locked chords stay).")

for problem in problems:
    st.warning(plain(problem), icon=":material/warning:")

bar = st.empty()
shown_percent = [-1]  # what the bar shows now


def progress(fraction: float) -> None:
    """The progress bar of a redraw, while the progressions with locked chords are drawn around them.

    Moved in steps of 5 %: every update is a message to the browser, and a redraw reports hundreds of steps.
    """
    percent = int(min(1.0, fraction) * 20) * 5
    if percent != shown_percent[0]:
        shown_percent[0] = percent
        bar.progress(percent / 100, text=f"Drawing the progressions around their locked chords: {percent}%")


drawn_before = state.request.generation()
try:
    if request.generation() != drawn_before:  # a visitor's share of the machine (studio.visitor_budget)
        visitor_budget.charge(visitor_budget.redraw_work(state, request), "Drawing these progressions")
    state = generate_state.settled(state, request, model, progress)
    if begun.link is not None:
        state = generate_state.with_older_link(state, begun.link, model)
except (InputError, EnvironmentFault) as error:
    st.error(plain(shown_paths(str(error))), icon=":material/error:")
    st.stop()
bar.empty()
if state.request.generation() != drawn_before:
    forget_audition()  # every progression was drawn again: the chord last heard is gone
view = next((v for v, text in TAB_LABELS.items() if text == st.session_state.get(VIEW_KEY)), VIEWS[0])
state = replace(state, model=model.identity, view=view)
generate_state.commit(state, begun.arrived)

base_url = (st.context.url or "http://localhost:8501/generate").split("?")[0]
with st.expander("Share these progressions", icon=":material/share:"):
    share = st.empty()
    share.code(state.to_link().link(base_url), language=None, wrap_lines=True)
    st.caption(f"Anyone opening this link gets the same progressions with the model it names ({plain(model.identity)}); "
               "a studio without that model says so.")

tabs = st.tabs(list(TAB_LABELS.values()), key=VIEW_KEY, on_change="rerun")
progressions, compose, favourite, analyze, song = tabs

if progressions.open:
    with progressions:
        st.caption(generate_cards.LEGEND)
        for index in range(min(len(state.progressions), generate_cards.FULL_CARDS)):
            generate_cards.progression_card(index, model, share, base_url)
        if len(state.progressions) > generate_cards.FULL_CARDS:
            with input_errors():
                opened = generate_cards.more_progressions(model)
                generate_cards.progression_card(opened, model, share, base_url)

if compose.open:
    with compose:
        composer.composer(model)

if favourite.open:
    with favourite:
        favourites.favourites_panel(model, base_url)

if analyze.open:
    with analyze:
        analyze_panel(request, model, label)

if song.open:
    with song:
        song_mode.song_panel(model)

generate_state.finish()
