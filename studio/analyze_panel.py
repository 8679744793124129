"""The Analyze panel: how probable the model finds a typed progression, chord by chord, and which genre and mood it fits.

One call to :func:`core.generation.analysis.analyze` (through :func:`studio.loaders.analysis`): the chords
read as typed (slash basses kept, symbols outside the vocabulary read as their nearest chord with a
note), spelled in the requested or guessed key, capped at the length the CLI and the API accept;
the calibrated genre and mood fits name a value only when it is clearly ahead.
"""

from __future__ import annotations

import streamlit as st

from core.errors import EnvironmentFault, InputError
from studio import charts, loaders, visitor_budget
from studio.generate_state import Model, widget_key
from studio.page_settings import PageSettings
from studio.plain_text import plain


def analyze_panel(request: PageSettings, model: Model, shown_label) -> None:
    """The text area and, for a typed progression, its scores and fits (``shown_label`` names an open condition)."""
    st.text_area("Progression to analyze", key=widget_key("analyze"), height=80,
                 placeholder="Type or paste chord symbols, e.g. C G Am F or Dm7 G7sus4 C/E (Ctrl+Enter to apply)")
    conditions = request.conditions
    st.caption(f"Scored under the conditions chosen above: genre {plain(shown_label(conditions.genre))} · mood "
               f"{plain(shown_label(conditions.mood))} · key {plain(shown_label(conditions.key))}.")
    if not request.analyze.strip():
        st.info("Type or paste a progression to see how probable each chord is and which genres and moods it fits.",
                icon=":material/edit_note:")
        return
    try:
        visitor_budget.charge_once("analyze", (request.analyze, conditions, model.identity),
                                   visitor_budget.analysis_work(request.analyze), "Analyzing this progression")
        result = loaders.analysis(request.analyze, conditions, model.folder, model.version)
    except (InputError, EnvironmentFault) as error:
        st.error(plain(error), icon=":material/error:")
        return
    for note in result.notes:
        st.caption(f":material/info: {plain(note)}")
    score = result.score
    perplexity, likelihood = st.columns(2)
    perplexity.metric("Perplexity", f"{score['perplexity']:.1f}", help="Lower: the model finds it more natural.")
    likelihood.metric("Log-likelihood", f"{score['log_likelihood']:.2f} nats")
    st.dataframe({"chord": score["chords"], "probability": score["probabilities"], "surprise (bits)": score["surprise"]},
                 hide_index=True, width="stretch",
                 column_config={"probability": st.column_config.ProgressColumn(format="percent", min_value=0,
                                                                               max_value=1)})
    st.caption(f"Spelled in {plain(result.key)}. Probability: the model's p(chord | chords before it).")
    st.plotly_chart(charts.surprise_bars(score["chords"], score["surprise"]), key="gen-surprise")
    genres, moods = st.columns(2)
    for column, name, fit in ((genres, "genre", result.genre), (moods, "mood", result.mood)):
        column.plotly_chart(charts.posterior_bars(fit.posterior, f"{name.capitalize()}s it fits best"), key=f"gen-{name}s")
        column.caption(f"Best fit: **{plain(fit.clear)}**." if fit.clear else  # calibrated on the validation songs
                       f"No clear fit: no {name} is twice as likely as the next.")
