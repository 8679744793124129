"""The conditioning labels (genre, mood, key, scale type) and their ids.

Id 0 of every condition is "unspecified": the corpus uses it where a source carries no
evidence (mood, mostly), training uses it for condition dropout, and generation uses it for
any condition the user leaves open. Keys are 24 (tonic x major/minor) plus unspecified.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from core.chords import ROOTS, ChordError, pitch_class
from core.errors import InputError
from core.spelling import key_name

UNSPECIFIED = "unspecified"
GENRES: tuple[str, ...] = (
    UNSPECIFIED, "pop", "rock", "soul", "country", "blues", "disco", "jazz", "latin", "folk", "classical",
)
MOODS: tuple[str, ...] = (UNSPECIFIED, "happy", "calm", "tense", "sad")
SCALE_TYPES: tuple[str, ...] = (UNSPECIFIED, "major", "minor")
#: key id k>0: tonic (k-1) % 12, major for k <= 12, minor for k > 12.
KEYS: tuple[str, ...] = (UNSPECIFIED,) + tuple(f"{r} major" for r in ROOTS) + tuple(f"{r} minor" for r in ROOTS)

CONDITION_NAMES: tuple[str, ...] = ("genre", "mood", "key", "scale_type")
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "genre": GENRES, "mood": MOODS, "key": KEYS, "scale_type": SCALE_TYPES,
}


def key_id(tonic: int | None, scale_type: str | None) -> int:
    """Id of a key (1..24) from tonic pitch class and scale type; 0 if the tonic is unknown."""
    if tonic is None:
        return 0
    return 1 + tonic % 12 + (12 if scale_type == "minor" else 0)


def key_of_id(kid: int) -> tuple[int, str] | None:
    """(tonic, scale type) of a key id, ``None`` for unspecified."""
    if kid == 0:
        return None
    return (kid - 1) % 12, "minor" if kid > 12 else "major"


def _choose(kind: str, value: str | None, accepted: tuple[str, ...]) -> str:
    if value is None or value == "" or value.lower() in (UNSPECIFIED, "any", "none"):
        return UNSPECIFIED
    lowered = value.strip().lower()
    aliases = {"r&b": "soul", "soul/r&b": "soul", "rnb": "soul", "dance": "disco", "maj": "major", "min": "minor"}
    lowered = aliases.get(lowered, lowered)
    if lowered not in accepted:
        raise InputError(f"unknown {kind} {value!r}; accepted: {', '.join(accepted)}")
    return lowered


def parse_key(text: str) -> tuple[int, str | None]:
    """Read a key as typed: ``A``, ``Am``, ``A minor``, ``Bb major``, ``f#m``, ``C:min``.

    Returns the tonic pitch class and the mode named in the text (``None`` if only a tonic).
    """
    raw = text.strip()
    cleaned = raw.replace(":", " ").replace("_", " ")
    parts = cleaned.split()
    if not parts:
        raise InputError("empty key; give a tonic such as C, Am or 'Eb major'")
    head, mode_word = parts[0], " ".join(parts[1:]).lower()
    mode: str | None = None
    if len(head) >= 2 and head[-1] == "m" and head[:-1] and head[-2] != "m":
        head, mode = head[:-1], "minor"
    if mode_word in ("minor", "min", "m"):
        mode = "minor"
    elif mode_word in ("major", "maj"):
        mode = "major"
    elif mode_word:
        raise InputError(f"unknown key {raw!r}; give a tonic such as C, Am or 'Eb major'")
    try:
        tonic = pitch_class(head[0].upper() + head[1:])
    except ChordError:
        raise InputError(
            f"unknown key {raw!r}; accepted tonics: {', '.join(ROOTS)} (optionally 'm', 'major' or 'minor')"
        ) from None
    return tonic, mode


def typed_tonic(text: str) -> str:
    """The tonic as written in a key typed as :func:`parse_key` reads it: ``"Gbm"`` -> ``"Gb"``, ``"f# minor"`` -> ``"f#"``."""
    head = text.strip().replace(":", " ").replace("_", " ").split()[0]
    return head[:-1] if len(head) >= 2 and head[-1] == "m" and head[-2] != "m" else head


@dataclass(frozen=True)
class Conditions:
    """The labels a progression is generated or scored under; any may be ``unspecified``."""

    genre: str = UNSPECIFIED
    mood: str = UNSPECIFIED
    key: str = UNSPECIFIED  # e.g. "A minor"
    scale_type: str = UNSPECIFIED

    @classmethod
    def parse(
        cls,
        genre: str | None = None,
        mood: str | None = None,
        key: str | None = None,
        scale_type: str | None = None,
    ) -> Conditions:
        """Validate user-typed labels; raises :class:`InputError` naming the bad value and the accepted ones.

        A key typed without a mode (``A``) takes the scale type's mode, or major if that is open
        too; a key with a mode (``Am``) sets the scale type when that is open.
        """
        genre_label = _choose("genre", genre, GENRES)
        mood_label = _choose("mood", mood, MOODS)
        scale_label = _choose("scale type", scale_type, SCALE_TYPES)
        key_label = UNSPECIFIED
        if key not in (None, "") and key.strip().lower() not in (UNSPECIFIED, "any", "none"):
            tonic, mode = parse_key(key)
            if mode and scale_label != UNSPECIFIED and mode != scale_label:
                raise InputError(f"key {key!r} is {mode} but scale type is {scale_label}")
            mode = mode or (scale_label if scale_label != UNSPECIFIED else "major")
            key_label = key_name(tonic, mode, typed_tonic(key))  # as named: Gb major stays Gb, not F#
            if scale_label == UNSPECIFIED:
                scale_label = mode
        return cls(genre_label, mood_label, key_label, scale_label)

    def ids(self) -> dict[str, int]:
        """Ids for the model's condition inputs: ``{"genre": g, "mood": m, "key": k, "scale_type": s}``."""
        ids = {name: VOCABULARIES[name].index(getattr(self, name)) for name in CONDITION_NAMES if name != "key"}
        return {**ids, "key": key_id(self.tonic, self.mode)}  # "Gb major" is the model's "F# major"

    @property
    def tonic(self) -> int | None:
        """Tonic pitch class of the key, ``None`` if open."""
        return None if self.key == UNSPECIFIED else pitch_class(self.key.split()[0])

    @property
    def mode(self) -> str | None:
        """``major``/``minor`` from the key, else from the scale type, else ``None``."""
        if self.key != UNSPECIFIED:
            return self.key.split()[1]
        return None if self.scale_type == UNSPECIFIED else self.scale_type

    def as_dict(self) -> dict[str, str]:
        """Plain dict of the labels."""
        return asdict(self)
