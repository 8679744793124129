"""The Generate page's state as plain data: each progression with its own chords, padlocks and history; favourites; the composer.

Progression ``i`` is sample ``i`` of the batch the settings and the random seed draw, until the
user changes it (locks a chord, swaps one in, regenerates it, inverts one): from then on it is its
own :class:`~studio.generate_url.Edited` (explicit chords in the generated key, slash basses and
padlocks kept), and the settings no longer decide it. Each change keeps the version it replaced in
that progression's history, so Undo steps back one progression at a time and regenerating one
never touches another. Everything here is immutable and free of Streamlit and of the model:
:mod:`studio.generate_state` holds the state in the session and the URL, :mod:`studio.loaders`
runs the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from core.chords import Chord, SlashChord
from core.generation.sample import Sample
from studio.generate_url import VIEWS, Edited, PageLink
from studio.page_settings import PageSettings, SlashChords

#: versions kept per progression for Undo.
HISTORY_LIMIT = 30


def as_edited(sample: Sample, locks: frozenset[int] = frozenset()) -> Edited:
    """A drawn sample (generated key) as an explicit progression."""
    return Edited(tuple(sample.slash_chords), sample.ended, locks)


@dataclass(frozen=True)
class Progression:
    """One progression: ``edited`` (``None``: the batch's sample) and the versions it replaced, oldest first."""

    edited: Edited | None = None
    history: tuple[Edited, ...] = ()

    def current(self, drawn: Sample) -> Edited:
        """What the progression is now, given the batch's sample for its place."""
        return self.edited if self.edited is not None else as_edited(drawn)

    @property
    def locks(self) -> frozenset[int]:
        """Its locked positions (0-based)."""
        return frozenset() if self.edited is None else self.edited.locks

    def changed(self, new: Edited, drawn: Sample) -> Progression:
        """This progression now ``new``, the version it was kept for Undo."""
        history = (*self.history, self.current(drawn))[-HISTORY_LIMIT:]
        return Progression(new, history)

    def undone(self) -> Progression:
        """Back one version (unchanged when there is none)."""
        if not self.history:
            return self
        return Progression(self.history[-1], self.history[:-1])


# --- edits of one progression (generated key) ----------------------------------------------------------


def swapped(edited: Edited, position: int, chord: Chord) -> Edited:
    """``chord`` (root position) at ``position``; padlocks and ending kept."""
    chords = list(edited.chords)
    chords[position] = SlashChord(chord)
    return replace(edited, chords=tuple(chords))


def appended(chords: SlashChords, chord: Chord | SlashChord, position: int | None = None) -> SlashChords:
    """``chord`` added at the end, or inserted before ``position`` (0-based)."""
    item = chord if isinstance(chord, SlashChord) else SlashChord(chord)
    where = len(chords) if position is None else position
    return (*chords[:where], item, *chords[where:])


def inverted(edited: Edited, position: int, inversion: int) -> Edited:
    """The chord at ``position`` in ``inversion`` (0 root position, 1 first, …): shown and voiced as a slash chord."""
    chords = list(edited.chords)
    chords[position] = SlashChord.inverted(chords[position].chord, inversion)
    return replace(edited, chords=tuple(chords))


def with_lock(edited: Edited, position: int, locked: bool) -> Edited:
    """The padlock at ``position`` set or released."""
    locks = edited.locks | {position} if locked else edited.locks - {position}
    return replace(edited, locks=frozenset(locks))


def fixed_chords(request: PageSettings, edited: Edited | None) -> dict[int, SlashChord]:
    """Position -> chord a redraw keeps: the seed chords, then the progression's locked chords (a padlock wins)."""
    fixed = dict(enumerate(request.seeds))
    if edited is not None:
        fixed.update({p: edited.chords[p] for p in edited.locks if p < min(len(edited.chords), request.length)})
    return fixed


# --- the page ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageState:
    """Everything the Generate page shows (the URL's :class:`~studio.generate_url.PageLink` plus each progression's history)."""

    request: PageSettings
    progressions: tuple[Progression, ...]
    favourites: tuple[SlashChords, ...] = ()
    compose: SlashChords = ()
    model: str = ""
    view: str = VIEWS[0]
    song: str = ""  # the song mode's song (studio.song_url)

    @classmethod
    def from_link(cls, link: PageLink) -> PageState:
        """The state a link describes (no history)."""
        edits = dict(link.edits)
        progressions = tuple(Progression(edits.get(i)) for i in range(link.request.samples))
        return cls(link.request, progressions, link.favourites, link.compose, link.model, link.view, link.song)

    def to_link(self) -> PageLink:
        """The link that reproduces this state."""
        edits = tuple((i, p.edited) for i, p in enumerate(self.progressions) if p.edited is not None)
        return PageLink(self.request, edits, self.favourites, self.compose, self.model, self.view, song=self.song)

    def with_progression(self, index: int, progression: Progression) -> PageState:
        """This state with progression ``index`` replaced."""
        progressions = list(self.progressions)
        progressions[index] = progression
        return replace(self, progressions=tuple(progressions))

    def redrawn(self, request: PageSettings, drawn: Sequence[Sample], new: Sequence[Edited | None]) -> PageState:
        """Every progression redrawn under ``request``: progression ``i`` becomes ``new[i]`` (``None``: the new batch's),
        its version before (``drawn[i]`` resolves the old batch's) kept for Undo."""
        progressions = []
        for index in range(request.samples):
            old = self.progressions[index] if index < len(self.progressions) else None
            if old is None or index >= len(drawn):
                progressions.append(Progression(new[index]))
                continue
            history = (*old.history, old.current(drawn[index]))[-HISTORY_LIMIT:]
            progressions.append(Progression(new[index], history))
        return replace(self, request=request, progressions=tuple(progressions))

    def toggled_favourite(self, chords: SlashChords) -> PageState:
        """``chords`` added to the favourites, or removed when already there."""
        if chords in self.favourites:
            return replace(self, favourites=tuple(f for f in self.favourites if f != chords))
        return replace(self, favourites=(*self.favourites, chords))
