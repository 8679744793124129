"""iReal Pro charts as songs for the song table: each section occurrence with its label, metre and beats.

:func:`core.corpus.ireal.ireal_charts` reads the playlists (its engineer's parser: unscrambling,
repeats, endings, sections, durations); this turns each chart into a :class:`~core.corpus.rows.Song`
whose segments keep what the song table needs and :func:`core.corpus.ireal.song_of_chart` leaves
out: the normalised label and the mark as written, the section's metre (its first bar's beats) and
every chord's beats. The chords, keys and ``section`` strings are the same, so the windows are too.
"""

from __future__ import annotations

from pathlib import Path

from core.corpus.ireal import SOURCE, IrealChart, IrealSection, ireal_charts
from core.corpus.rows import BuildReport, Segment, Song


def section_segment(chart: IrealChart, section: IrealSection) -> Segment:
    """One section occurrence as a segment: chords in played order with their beats (no-chord cells left out)."""
    timed = section.timed_chords()
    metre = section.bars[0].beats if section.bars else None
    return Segment(chords=[item.chord for item in timed], key_tonic=chart.key_tonic, scale_type=chart.scale_type,
                   section=section.label, label=section.label, raw_label=section.raw_label, metre=metre,
                   beats=[float(item.beats) for item in timed])


def timed_song(chart: IrealChart) -> Song:
    """A chart as a song whose segments carry labels, metre and beats."""
    return Song(source=SOURCE, song_id=chart.song_id, title=chart.title, artist=chart.composer, genre=chart.genre,
                genre_raw=chart.style, subgenre=chart.style,
                segments=[section_segment(chart, section) for section in chart.sections])


def parse(source_dir: Path, report: BuildReport) -> list[Song]:
    """Every unique chart of the ``ireal-playlists`` folder as a timed song (the build's entry point)."""
    return [timed_song(chart) for chart in ireal_charts(source_dir, report)]
