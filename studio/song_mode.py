"""The Generate page's Song mode: a form, then a whole song, section by section, with its harmonic rhythm to edit.

The song is drawn by :func:`core.generation.song.generate_song` under the page's genre, mood, key and
sampling settings, in the form chosen here (a preset or typed, bars per section, time signature,
tempo). Each section shows its chords as a strip whose widths follow their beats, with bar lines; a
chord's button plays it and opens its panel (lock, longer, shorter, split, merge, bass, alternatives);
a section can be drawn again around its locks, played alone and starred (its chords join the
favourites); the whole song plays, downloads (MIDI, MusicXML,
ChordPro, text, JSON) and shows its notation. Every change is written to the page's address
(``song=``, :mod:`studio.song_url`), so the share link reproduces the song exactly. The song's
logic lives in :mod:`core.song` and :mod:`core.generation.song`; this module only draws and calls.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import replace

import streamlit as st

from core.chords import SlashChord, chord_tones, read_symbol
from core.config import MAX_SEED, SONG_CONTEXT_CHORDS, SONG_TEMPO_HIGH, SONG_TEMPO_LOW, TIME_SIGNATURES, SongSettings
from core.errors import EnvironmentFault, InputError
from core.generation.song import TODAY_NOTE
from core.song import model as song_model
from core.song.form import PRESETS, form_text, read_form
from core.song.model import Song
from studio import generate_state, visitor_budget
from studio.generate_state import Model
from studio.plain_text import plain
from studio.song_url import read_song_text, song_text

PREFIX = "song-"
_OPEN = PREFIX + "open"  # (section, position) whose chord panel is open
_PROBLEM = PREFIX + "problem"
_HEAR = PREFIX + "hear"  # what to play: {"sections": [...] or None, "chord": (section, position) or None, "nonce"}
_HISTORY = PREFIX + "history"  # earlier songs (their song= text), for Undo
CUSTOM = "custom"
#: bars per row of a section's strip (the chart's bars per line).
BARS_PER_ROW = 4
INVERSION_NAMES = ("root position", "1st inversion", "2nd inversion", "3rd inversion")
#: the chord edits a chord's panel offers: (name, button label, icon, help).
EDITS = (("lock", "Lock", ":material/lock:", "Keep this chord when the section is drawn again (click again to release)."),
         ("lengthen", "Longer", ":material/add:", "One beat longer; the next chord (or the one before) one shorter."),
         ("shorten", "Shorter", ":material/remove:", "One beat shorter; the next chord (or the one before) one longer."),
         ("split", "Split", ":material/call_split:", "Two chords sharing its beats (the same chord twice, to change "
                                                     "or draw again)."),
         ("merge", "Merge with next", ":material/merge:", "This chord and the next one as one chord."))


def current_song() -> Song | None:
    """The song in the page's state, ``None`` when there is none (a song that no longer reads is reported and dropped)."""
    text = generate_state.current().song
    if not text:
        return None
    try:
        return read_song_text(text)
    except InputError as error:
        st.warning(f"The song could not be read ({plain(error)}); write a new one.", icon=":material/warning:")
        return None


def _set_song(song: Song | None, remember: bool = True) -> None:
    """Make ``song`` the page's (written to the address); the song before it is kept for Undo."""
    state = generate_state.current()
    if remember and state.song:
        st.session_state.setdefault(_HISTORY, []).append(state.song)
    generate_state.commit(replace(state, song="" if song is None else song_text(song), view="song"))


# --- the form ------------------------------------------------------------------------------------------------


def _form_defaults(song: Song | None) -> None:
    """The form widgets' first values: the song's own form, else the pop preset."""
    if PREFIX + "form" in st.session_state:
        return
    if song is not None:
        values = {"form": song.form, "bars": ",".join(str(s.bars) for s in song.sections),
                  "time": song.time.text, "tempo": song.tempo, "preset": CUSTOM}
    else:
        preset = PRESETS["pop"]
        values = {"form": preset.form, "bars": preset.bars, "time": preset.time_signature, "tempo": preset.tempo,
                  "preset": "pop"}
    for name, value in values.items():
        st.session_state[PREFIX + name] = value


def _apply_preset() -> None:
    """Callback: the chosen preset's form, bars, time signature and tempo into the widgets."""
    name = st.session_state[PREFIX + "preset"]
    if name in PRESETS:
        preset = PRESETS[name]
        st.session_state.update({PREFIX + "form": preset.form, PREFIX + "bars": preset.bars,
                                 PREFIX + "time": preset.time_signature, PREFIX + "tempo": preset.tempo})


def song_settings() -> SongSettings:
    """The song settings the form's widgets hold (checked: :class:`InputError` for a value refused)."""
    return SongSettings(form=st.session_state[PREFIX + "form"], bars=st.session_state[PREFIX + "bars"] or None,
                        time_signature=st.session_state[PREFIX + "time"], tempo=st.session_state[PREFIX + "tempo"])


def _write(model: Model) -> None:
    """Callback: draw a whole new song in the form's shape with the page's conditions and settings."""
    from core.generation.ensemble import load_ensemble
    from core.generation.song import generate_song, song_work
    from core.serving.schemas import guidance_factor

    request = generate_state.current().request
    try:
        settings = request.settings(random_seed=secrets.randbelow(MAX_SEED + 1))
        shape = song_settings()
        work = song_work(read_form(shape)) * guidance_factor(settings.guidance, request.conditions)
        visitor_budget.charge(work, "Writing this song")
        song = generate_song(load_ensemble(model.folder), shape, request.conditions, settings)
    except (InputError, EnvironmentFault) as error:
        st.session_state[_PROBLEM] = str(error)
        return
    st.session_state.pop(_OPEN, None)
    _set_song(song)


def form_row(model: Model) -> None:
    """Preset, form, bars, time signature, tempo, and the button that writes the song."""
    presets = [CUSTOM, *PRESETS]
    preset, form, bars = st.columns([2, 5, 3])
    preset.selectbox("Preset", presets, key=PREFIX + "preset", on_change=_apply_preset,
                     format_func=lambda n: "Your own form" if n == CUSTOM else PRESETS[n].title,
                     help="A ready form (its bars, time signature and tempo); the genre stays the one chosen above.")
    form.text_input("Form", key=PREFIX + "form", help=SongSettings.settings()["form"].help)
    bars.text_input("Bars per section", key=PREFIX + "bars", placeholder="e.g. 4,8,8,8 (empty: usual lengths)",
                    help=SongSettings.settings()["bars"].help)
    time, tempo, button = st.columns([2, 2, 6], vertical_alignment="bottom")
    time.selectbox("Time signature", TIME_SIGNATURES, key=PREFIX + "time")
    tempo.number_input("Tempo (beats per minute)", SONG_TEMPO_LOW, SONG_TEMPO_HIGH, step=5, key=PREFIX + "tempo")
    with button.container(horizontal=True, horizontal_alignment="right"):
        st.button("Write the song", type="primary", icon=":material/queue_music:", key=PREFIX + "write",
                  on_click=_write, args=(model,),
                  help="Draw every section anew with a new random seed (the settings above: genre, mood, key, "
                       "temperature, guidance…).")


# --- one section ---------------------------------------------------------------------------------------------


def strip_rows(song: Song, index: int) -> list[list[int]]:
    """Section ``index``'s chord positions in rows of :data:`BARS_PER_ROW` bars (a chord in the row of its first beat)."""
    per_row = BARS_PER_ROW * song.time.beats
    rows: dict[int, list[int]] = {}
    for position, onset in enumerate(song.sections[index].onsets):
        rows.setdefault(onset // per_row, []).append(position)
    return [rows[row] for row in sorted(rows)]


def strip_html(song: Song, index: int, positions: list[int]) -> str:
    """Chords ``positions`` of section ``index`` as a strip of :data:`BARS_PER_ROW` bars: each chord a box as wide as
    its beats, a heavy line at each bar line (a row shorter than the others keeps the same scale)."""
    section, symbols, per_bar = song.sections[index], song.symbols(index), song.time.beats
    total = max(BARS_PER_ROW * per_bar, sum(section.durations[p] for p in positions))
    boxes = []
    for position in positions:
        symbol, onset, beats = symbols[position], section.onsets[position], section.durations[position]
        inner_bars = "".join(
            f'<span style="position:absolute;left:{100 * (b - onset) / beats:.3f}%;top:0;bottom:0;'
            'border-left:2px solid #888"></span>' for b in range(onset + 1, onset + beats) if b % per_bar == 0)
        left = "3px solid #444" if onset % per_bar == 0 else "1px dotted #aaa"
        lock = " · locked" if position in section.locked else ""
        boxes.append(f'<div style="position:relative;flex:0 0 {100 * beats / total:.3f}%;border-left:{left};'
                     f'padding:6px 4px;box-sizing:border-box;overflow:hidden;white-space:nowrap">'
                     f'{inner_bars}<b>{html.escape(symbol)}</b><br><small>{beats} beat'
                     f'{"s" if beats != 1 else ""}{lock}</small></div>')
    return ('<div style="display:flex;width:100%;font-family:sans-serif">'
            '<div style="display:flex;border:1px solid #ccc;border-right:3px solid #444;'
            f'flex:0 0 {100 * sum(section.durations[p] for p in positions) / total:.3f}%">{"".join(boxes)}</div></div>')


def chord_rows(song: Song, index: int) -> None:
    """The section as rows of bars: the strip, then a button per chord as wide as its beats (a click plays it)."""
    section, symbols = song.sections[index], song.symbols(index)
    per_row = BARS_PER_ROW * song.time.beats
    for positions in strip_rows(song, index):
        st.html(strip_html(song, index, positions))
        widths = [section.durations[p] for p in positions]
        spare = per_row - sum(widths)
        columns = st.columns(widths + ([spare] if spare > 0 else []), gap=None)
        for column, position in zip(columns, positions, strict=False):
            column.button(symbols[position], key=f"{PREFIX}chord-{index}-{position}", on_click=_select,
                          args=(index, position), width="stretch", help="Hear this chord and open its panel")


def _regenerate(index: int, model: Model) -> None:
    """Callback: section ``index`` drawn again around its locks (and every time it is played)."""
    from core.generation.ensemble import load_ensemble
    from core.generation.song import regenerate_section

    song, request = current_song(), generate_state.current().request
    if song is None:
        return
    settings, section = request.settings(), song.sections[index]
    context = min(SONG_CONTEXT_CHORDS, len(song.sections[index - 1].chords)) if index else 0
    fixed = set(range(context)) | {context + p for p in section.locked}
    try:
        visitor_budget.charge(visitor_budget.drawing_work(context + len(section.chords), [fixed], settings.gibbs_passes,
                                                          settings.guidance, request.conditions),
                              "Regenerating this section")
        redrawn = regenerate_section(load_ensemble(model.folder), song, index, settings,
                                     draw=secrets.randbelow(MAX_SEED) + 1)
    except (InputError, EnvironmentFault) as error:
        st.session_state[_PROBLEM] = str(error)
        return
    _set_song(redrawn)


def _vary(index: int, model: Model) -> None:
    """Callback: section ``index`` becomes a variation of the one it repeats (its second half drawn again)."""
    from core.generation.ensemble import load_ensemble
    from core.generation.song import vary_section

    song, request = current_song(), generate_state.current().request
    if song is None:
        return
    settings, section = request.settings(), song.sections[index]
    try:
        visitor_budget.charge(visitor_budget.drawing_work(SONG_CONTEXT_CHORDS + len(section.chords),
                                                          [set(range(SONG_CONTEXT_CHORDS + len(section.chords) // 2))],
                                                          settings.gibbs_passes, settings.guidance, request.conditions),
                              "Varying this section")
        varied = vary_section(load_ensemble(model.folder), song, index, settings, draw=secrets.randbelow(MAX_SEED) + 1)
    except (InputError, EnvironmentFault) as error:
        st.session_state[_PROBLEM] = str(error)
        return
    _set_song(varied)


def _edit(name: str, index: int, position: int) -> None:
    """Callback: one chord edit (:func:`core.song.model.chord_edits`); a refusal is shown, the song kept."""
    song = current_song()
    if song is None:
        return
    try:
        edited = song_model.chord_edits()[name](song, index, position)
    except InputError as error:
        st.session_state[_PROBLEM] = str(error)
        return
    _set_song(edited)


def _select(index: int, position: int) -> None:
    """Callback: open chord ``position`` of section ``index`` and play it."""
    st.session_state[_OPEN] = (index, position)
    _hear(None, (index, position))


def _hear(sections: list[int] | None, chord: tuple[int, int] | None = None) -> None:
    nonce = st.session_state.get(_HEAR, {}).get("nonce", 0) + 1
    st.session_state[_HEAR] = {"sections": sections, "chord": chord, "nonce": nonce}


def section_card(song: Song, index: int, model: Model) -> None:
    """Section ``index``: heading and actions, the strip, a button per chord (widths by beats), the open chord's panel."""
    section = song.sections[index]
    first = song_model.first_of(song, index)
    again = f" · the chords of section {first + 1} again" if first != index else ""
    variation = " · a variation" if section.variation else ""
    with st.container(border=True, key=f"{PREFIX}section-{index}"):
        about, actions = st.columns([3, 2], vertical_alignment="center")
        about.markdown(f"**{index + 1}. {plain(section.name)}** · {section.bars} bar{'s' if section.bars != 1 else ''} · "
                       f"{len(section.chords)} chord{'s' if len(section.chords) != 1 else ''}"
                       f"{again}{variation}")
        with actions.container(horizontal=True, horizontal_alignment="right", gap="small"):
            st.button("Play", key=f"{PREFIX}play-{index}", icon=":material/play_arrow:", on_click=_hear, args=([index],),
                      help="Hear this section at the song's tempo.")
            starred = section.chords in generate_state.current().favourites
            st.button("Starred" if starred else "Star", key=f"{PREFIX}star-{index}", icon=":material/star:",
                      type="primary" if starred else "secondary", on_click=_star, args=(index,),
                      help="Keep this section's chords among the favourites (their own tab and link).")
            if first != index:
                st.button("Vary", key=f"{PREFIX}vary-{index}", icon=":material/shuffle:", on_click=_vary,
                          args=(index, model), help="Make this return a variation: its first half kept, the rest drawn "
                          "again; the other times this section is played stay as they are.")
            st.button("Regenerate", key=f"{PREFIX}regen-{index}", icon=":material/autorenew:", on_click=_regenerate,
                      args=(index, model), help="Draw this section's chords again (locked chords and the durations "
                      "stay); every time it is played changes with it.")
        chord_rows(song, index)
        opened = st.session_state.get(_OPEN)
        if opened and opened[0] == index and opened[1] < len(section.chords):
            chord_panel(song, index, opened[1], model)


def _swap(index: int, position: int, symbol: str) -> None:
    """Callback: chord ``position`` of section ``index`` replaced by ``symbol`` (its duration kept)."""
    song = current_song()
    if song is not None:
        _set_song(song_model.with_chord(song, index, position, read_symbol(symbol).slash))
        _hear(None, (index, position))


def alternatives_row(song: Song, index: int, position: int, model: Model) -> None:
    """The chords that could stand here given both neighbours, each a button that puts it in (its beats kept)."""
    from studio import song_loaders

    request = generate_state.current().request
    try:
        ranked = song_loaders.chord_alternatives(model.folder, model.version, song_text(song), index, position,
                                                 request.guidance)
    except (InputError, EnvironmentFault) as error:
        st.caption(f"No alternatives: {plain(error)}")
        return
    st.caption("Or one of these, ranked by p(chord | both neighbours) under the song's genre, mood and key:")
    with st.container(horizontal=True, gap="small"):
        for rank, (symbol, probability) in enumerate(ranked):
            shown = song.spelling.symbol(read_symbol(symbol).slash)
            st.button(f"{shown} · {probability:.0%}", key=f"{PREFIX}alt-{index}-{position}-{rank}", on_click=_swap,
                      args=(index, position, symbol), help="Put this chord here and hear it")


def _bass(index: int, position: int, inversion: int) -> None:
    """Callback: chord ``position`` of section ``index`` in ``inversion`` (0 root position, 1 the third in the bass…)."""
    song = current_song()
    if song is not None:
        chord = song.sections[index].chords[position].chord
        _set_song(song_model.with_chord(song, index, position, SlashChord.inverted(chord, inversion)))
        _hear(None, (index, position))


def bass_row(song: Song, index: int, position: int) -> None:
    """The chord's inversions as buttons (its bass), the one in use marked."""
    current = song.sections[index].chords[position]
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.caption("Bass:")
        for inversion in range(len(chord_tones(current.chord))):
            shown = song.spelling.symbol(SlashChord.inverted(current.chord, inversion))
            st.button(shown, key=f"{PREFIX}bass-{index}-{position}-{inversion}", on_click=_bass,
                      args=(index, position, inversion), type="primary" if current.inversion == inversion else "secondary",
                      help=f"{INVERSION_NAMES[inversion].capitalize()}: hear it and keep it")


def _star(index: int) -> None:
    """Callback: section ``index``'s chords among the page's favourites, or out of them again."""
    song = current_song()
    if song is not None:
        generate_state.commit(generate_state.current().toggled_favourite(song.sections[index].chords))


def chord_panel(song: Song, index: int, position: int, model: Model) -> None:
    """The open chord's edits: lock, longer, shorter, split, merge with the next chord; its alternatives."""
    section = song.sections[index]
    symbol = song.symbols(index)[position]
    st.caption(f"Chord {position + 1} of {plain(section.name)}: **{plain(symbol)}**, {section.durations[position]} "
               f"beat(s) from beat {section.onsets[position] + 1}")
    with st.container(horizontal=True, gap="small"):
        for name, label, icon, help_text in EDITS:
            shown = "Unlock" if name == "lock" and position in section.locked else label
            st.button(shown, key=f"{PREFIX}{name}-{index}-{position}", icon=icon, on_click=_edit,
                      args=(name, index, position), help=help_text)
    bass_row(song, index, position)
    alternatives_row(song, index, position, model)


# --- the whole song ------------------------------------------------------------------------------------------


def _undo() -> None:
    """Callback: back to the song before the last change."""
    history = st.session_state.get(_HISTORY, [])
    if history:
        state = generate_state.current()
        generate_state.commit(replace(state, song=history.pop(), view="song"))


def _player(text: str, voicing: str) -> None:
    """The player of what was last asked for (the song, a section or a chord); it starts on its own."""
    from studio import song_loaders

    asked = st.session_state.get(_HEAR)
    if not asked:
        return
    try:
        if asked["chord"] is not None:
            data = song_loaders.chord_audio(text, *asked["chord"], voicing)
        else:
            sections = None if asked["sections"] is None else tuple(asked["sections"])
            data = song_loaders.song_audio(text, sections, voicing)
    except (InputError, StopIteration):  # the chord or section asked for is gone (an edit since)
        st.session_state.pop(_HEAR, None)
        return
    with st.container(key=f"{PREFIX}hear-{asked['nonce']}"):
        st.audio(data, format="audio/wav", autoplay=True)


def song_heading(song: Song) -> None:
    """What the song is (key, time, tempo, form, seed) and its actions: play it all, undo."""
    about, actions = st.columns([3, 2], vertical_alignment="center")
    seed = "" if song.seed is None else f" · seed {song.seed}"
    about.markdown(f"**{plain(song.key_name)}** · {song.time.text} · {song.tempo} bpm · {song.genre} · "
                   f"{plain(form_text([s.form_section for s in song.sections]))}{seed}")
    with actions.container(horizontal=True, horizontal_alignment="right", gap="small"):
        st.button("Play the song", key=PREFIX + "play-all", icon=":material/play_arrow:", type="primary",
                  on_click=_hear, args=(None,), help="Hear the whole song at its tempo.")
        st.button("Undo", key=PREFIX + "undo", icon=":material/undo:", on_click=_undo,
                  disabled=not st.session_state.get(_HISTORY), help="Back to the song before the last change.")


def downloads_and_notation(song: Song, text: str, voicing: str) -> None:
    """The downloads (MIDI, MusicXML, ChordPro, text chart, JSON) and the notation, a system per section."""
    from studio import song_loaders

    files = song_loaders.song_downloads(text, voicing)
    stem = f"chordsmith-song-{song.seed if song.seed is not None else 'edited'}"
    kinds = {"mid": ("MIDI", "audio/midi"), "musicxml": ("MusicXML", "application/vnd.recordare.musicxml+xml"),
             "chordpro": ("ChordPro", "text/plain"), "txt": ("Text chart", "text/plain"),
             "json": ("JSON", "application/json")}
    for column, (extension, (label, mime)) in zip(st.columns(len(kinds)), kinds.items(), strict=True):
        column.download_button(label, files[extension], f"{stem}.{extension}", mime, icon=":material/download:",
                               key=f"{PREFIX}download-{extension}", width="stretch", on_click="ignore")
    if st.toggle("Show the notation", key=PREFIX + "notation",
                 help="The song's MusicXML engraved: chord symbols, a rehearsal mark and a new system per section."):
        st.image(song_loaders.song_svg(text, voicing), width="stretch")


def song_panel(model: Model) -> None:
    """The Song mode: the form, then the song (see the module docstring)."""
    song = current_song()
    _form_defaults(song)
    st.caption(f":material/info: {TODAY_NOTE} A section that returns (the second Chorus) is the first one's chords; "
               "end its name with ' (Chorus') for a variation.")
    form_row(model)
    if problem := st.session_state.pop(_PROBLEM, None):
        st.error(plain(problem), icon=":material/error:")
    if song is None:
        st.info("Choose a form (or a preset) and press **Write the song**.", icon=":material/queue_music:")
        return
    text, voicing = song_text(song), generate_state.current().request.voicing
    song_heading(song)
    _player(text, voicing)
    for index in range(len(song.sections)):
        section_card(song, index, model)
    downloads_and_notation(song, text, voicing)
