"""Progression -> piano score -> MusicXML, MIDI, SVG (verovio) and WAV; spelled in key, written directly.

:func:`core.notation.score.build_score` decides everything once: each chord's bass and voicing
(:mod:`core.voicing`: voice-led or root position; a slash chord keeps its bass), its spelling in
the key (:mod:`core.spelling`: the requested key, else the guessed one) and its Roman numeral. The
writers then only write that :class:`~core.notation.score.Score` down, so the symbols, notes and
basses on the page, in the MusicXML, in the MIDI and in the audio are the same:

- :mod:`core.notation.musicxml` (written as text, no music21): a grand staff, chord symbols as
  ``<harmony>`` (root, kind, bass), Roman numerals as lyrics, the key signature, the tempo;
- :mod:`core.notation.svg`: verovio engraves that MusicXML;
- :mod:`core.notation.midi` (written byte by byte): tempo, time and key signature, a track name,
  each chord's symbol as a marker at its onset, every note on once and off once;
- :mod:`core.notation.wav` (:mod:`core.audio`): FluidSynth (in process) or a NumPy synth plays the voicing;
- :mod:`core.notation.export`: every format of a progression into a folder at once.

Writing the formats directly keeps a progression's notation, MIDI and MusicXML to a few
milliseconds (a music21 round trip costs tens); tests read the files back with music21.
"""
