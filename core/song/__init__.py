"""A whole song: its form (sections, bars, time signature), its chords with durations, and its chart.

:mod:`core.song.form` reads a form (``Intro Verse Chorus …``), bars and a time signature, and holds
the presets; :mod:`core.song.model` is the song itself (sections with chords and durations in
beats), its edits and its JSON; :mod:`core.song.chart` writes the ChordPro and plain-text charts.
Generating a song with a model is :mod:`core.generation.song`; its MIDI and MusicXML are
written by :mod:`core.notation.song`.
"""
