"""Every format of a progression at once: MIDI, MusicXML, SVG and WAV files in a folder (``generate --export``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from core import audio
from core.chords import Chord, SlashChord
from core.notation.midi import score_to_midi
from core.notation.musicxml import to_musicxml
from core.notation.score import DEFAULT_BEATS_PER_CHORD, DEFAULT_TEMPO, build_score
from core.notation.svg import to_svg
from core.notation.wav import score_to_wav
from core.voicing import VoicingStyle


def export_progression(
    chords: Sequence[Chord | SlashChord],
    out_dir: str | Path,
    stem: str = "progression",
    title: str | None = None,
    key: tuple[int, str] | tuple[int, str, str] | None = None,
    bpm: float = DEFAULT_TEMPO,
    beats_per_chord: int = DEFAULT_BEATS_PER_CHORD,
    backend: audio.Backend = "auto",
    voicing: VoicingStyle = "voice-led",
) -> dict[str, Path]:
    """Write ``<stem>.mid``, ``.musicxml``, ``.svg`` and ``.wav`` into ``out_dir``; return their paths by extension.

    The title defaults to the spelled symbols.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    score = build_score(chords, "", key=key, bpm=bpm, beats_per_chord=beats_per_chord, voicing=voicing)
    score = dataclasses.replace(score, title=title or " ".join(score.symbols))
    musicxml = to_musicxml(score)
    contents: dict[str, bytes] = {
        "mid": score_to_midi(score),
        "musicxml": musicxml,
        "svg": to_svg(score).encode("utf-8"),
        "wav": score_to_wav(score, backend),
    }
    paths = {}
    for extension, data in contents.items():
        paths[extension] = out_dir / f"{stem}.{extension}"
        paths[extension].write_bytes(data)
    return paths
