"""The token vocabulary: ``<pad>``/``<start>``/``<end>`` and every root x quality, with fixed ids.

The vocabulary does not depend on the data, so every model, baseline and saved weight file share
it; :data:`VOCAB` turns chords and symbols into token ids and back, and transposes ids.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.chords import QUALITY_NAMES, Chord, parse_symbol

PAD, START, END = "<pad>", "<start>", "<end>"
SPECIAL_TOKENS: tuple[str, ...] = (PAD, START, END)
PAD_ID, START_ID, END_ID = 0, 1, 2


class Vocabulary:
    """Fixed token ids: ``<pad>`` 0, ``<start>`` 1, ``<end>`` 2, then every root x quality.

    The vocabulary does not depend on the data, so every model and baseline share it and a
    transposed chord is always in it.
    """

    def __init__(self) -> None:
        self.tokens: list[str] = list(SPECIAL_TOKENS)
        self.chords: list[Chord | None] = [None, None, None]
        for quality in QUALITY_NAMES:
            for root in range(12):
                chord = Chord(root, quality)
                self.tokens.append(chord.symbol)
                self.chords.append(chord)
        self._id_of_symbol = {token: i for i, token in enumerate(self.tokens)}
        self._id_of_chord = {chord: i for i, chord in enumerate(self.chords) if chord is not None}

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def size(self) -> int:
        """Number of tokens, specials included."""
        return len(self.tokens)

    def id_of(self, chord: Chord) -> int:
        """Token id of a chord."""
        return self._id_of_chord[chord]

    def id_of_symbol(self, symbol: str) -> int:
        """Token id of a canonical symbol (``Am7``) or special token; other spellings are parsed."""
        if symbol in self._id_of_symbol:
            return self._id_of_symbol[symbol]
        return self._id_of_chord[parse_symbol(symbol)]

    def encode(self, chords: Iterable[Chord | str]) -> list[int]:
        """Token ids for chords (or symbols)."""
        return [self.id_of(c) if isinstance(c, Chord) else self.id_of_symbol(c) for c in chords]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Symbols for token ids."""
        return [self.tokens[int(i)] for i in ids]

    def chord(self, token_id: int) -> Chord | None:
        """The chord of a token id, ``None`` for special tokens."""
        return self.chords[int(token_id)]

    def transpose_ids(self, ids: Iterable[int], semitones: int) -> list[int]:
        """Token ids moved by ``semitones``; special tokens stay."""
        out = []
        for i in ids:
            chord = self.chords[int(i)]
            out.append(int(i) if chord is None else self._id_of_chord[chord.transpose(semitones)])
        return out


VOCAB = Vocabulary()
