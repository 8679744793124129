"""Small table-shaped frames of well-known progressions, typed in for tests (not a training corpus)."""

from __future__ import annotations

import pandas as pd

from core.corpus.table import COLUMNS

#: (genre, mood, key tonic as the table writes it, scale type, chords, ends) — familiar progressions.
PROGRESSIONS: tuple[tuple[str, str, str, str, str, int], ...] = (
    ("pop", "happy", "C", "major", "C G Am F", 1),  # I-V-vi-IV
    ("pop", "", "G", "major", "G D Em C G D C", 1),
    ("rock", "", "A", "major", "A D E D A", 1),
    ("jazz", "calm", "D", "major", "Em7 A7 Dmaj7 Bm7 Em7 A7 Dmaj7", 1),  # ii-V-I
    ("jazz", "", "C", "minor", "Dm7b5 G7 Cm7 Fm7 Bb7 Ebmaj7 Abmaj7 Dm7b5 G7 Cm7", 0),
    ("blues", "", "E", "major", "E7 A7 E7 B7 A7 E7 B7", 1),
    ("soul", "sad", "A", "minor", "Am F C G Am F C G Am F C G E7", 0),  # longer than 11: truncated
    ("folk", "", "", "", "D G D A D", 1),  # no key known
    ("classical", "tense", "D", "minor", "Dm A7 Dm Gm A7 Dm", 1),
    ("country", "happy", "G", "major", "G C G D7 G", 0),
    ("latin", "", "E", "minor", "Em Am B7 Em", 1),
    ("disco", "happy", "F", "major", "Fmaj7 Em7 Dm7 C", 1),
)


def progression_frame(repeat: int = 1, splits: tuple[str, ...] = ("train", "validation")) -> pd.DataFrame:
    """A frame with the table's columns: every progression ``repeat`` times in each split."""
    rows = []
    for split in splits:
        for copy in range(repeat):
            for index, (genre, mood, tonic, scale, chords, ends) in enumerate(PROGRESSIONS):
                rows.append({
                    "window_id": f"{split}-{copy}-{index}", "song_id": f"test:{index}", "song_group": f"test:{index}",
                    "split": split, "source": "test", "title": f"progression {index}", "artist": "", "section": "",
                    "genre": genre, "genre_raw": genre, "subgenre": "", "mood": mood, "mood_evidence": "",
                    "key_tonic": tonic, "scale_type": scale, "chords": chords, "n_chords": len(chords.split()), "ends": ends,
                })
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["n_chords"] = frame["n_chords"].astype(int)
    frame["ends"] = frame["ends"].astype(int)
    return frame
