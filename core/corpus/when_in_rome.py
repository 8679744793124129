"""When in Rome: expert Roman-numeral analyses (RomanText) of classical music, read with music21.

Files live at ``<genre>/<Composer,_First>/<set>/<movement>/analysis.txt``; only files named
``analysis.txt`` are read. music21 parses each file (``format='romantext'``); every
``roman.RomanNumeral`` becomes a chord from its ``root()`` and ``pitches`` (mapped to the
nearest listed quality and counted), in the key music21 attaches to it.

Choices, documented:

* **Segments** split where the key (tonic or mode) changes — a pivot chord belongs to the old
  key, as music21 labels it — with ``ends=False``, and at the analysts' phrase boundaries
  (``||`` tokens) with ``ends=True``; the last segment of the piece ends with ``ends=True``.
  Variant measures (``m5var1``) are left out, as music21 leaves them out.
* **Augmented sixths** (``It6``, ``Ger65``, ``Fr43``, ``Sw43``) are read as the dominant
  seventh they sound as, on the lowered sixth degree (``Ger65`` in C = ``Ab7``, ``It6`` =
  ``Ab7`` without fifth, ``Fr43`` -> ``Ab7``), and always counted as mapped: music21 roots them
  on the raised fourth, from which the nearest listed quality would be a meaningless ``sus2``.
* **Scale type** from the key's mode by :func:`core.corpus.modes.scale_type_of_mode`.
* **Labels**: genre ``classical``; subgenre = the top folder (``Early_Choral``,
  ``OpenScore-LiederCorpus``…); ``genre_raw`` = ``when-in-rome:<top folder>``; artist = the
  composer folder with underscores as spaces (``Bach, Johann Sebastian``); title = the set and
  movement folders (``Chorales: 219``; a ``_`` set is left out); no mood evidence.
* **Speed**: music21 takes about half a second per file (cyclic GC is paused while it parses;
  its pickle cache is neither read nor written), so files are parsed in worker processes (two
  by default); workers return chords and skip notes, and the report is
  filled in the parent in file order, so the result does not depend on the number of workers.
  A file music21 cannot read is skipped and reported.
* **Skips** name the file line: a numeral music21 cannot read (it keeps such a token as an empty
  numeral without a key) is reported with its measure, the token and the line that writes the
  measure; a file music21 cannot parse with the line music21 names, without its inner traceback.
"""

from __future__ import annotations

import gc
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from pathlib import Path

from core.chords import Chord, ChordError, from_pitch_classes
from core.corpus.modes import scale_type_of_mode
from core.corpus.rows import BuildReport, Segment, Song

SOURCE = "when-in-rome"
GENRE = "classical"
ANALYSIS_FILE = "analysis.txt"
_AUGMENTED_SIXTH_RE = re.compile(r"^(It|Ger|Fr|Sw)")
_MEASURE_LINE_RE = re.compile(r"^\s*m(\d+)(?:\s*-\s*m?(\d+))?(?=[\s:=]|$)")
_TRANSLATE_LINE_RE = re.compile(r"At line (\d+)")


@dataclass
class _ChordRead:
    """A chord as read from one Roman numeral, with where it stands in the score."""

    figure: str
    chord: Chord
    mapped: bool
    tonic: int
    scale_type: str
    measure: int
    offset: float
    beats: float | None = None  # duration in beats of the metre's beat unit (a quarter in 4/4, an eighth in 6/8)
    metre: int | None = None  # beats per bar (the time signature's numerator)


@dataclass
class FileResult:
    """What parsing one analysis gives: the song (or ``None``), the chords read and the skip notes (file line, reason)."""

    path: str
    song: Song | None = None
    chords: list[tuple[str, bool, Chord]] = field(default_factory=list)
    skips: list[tuple[int | None, str]] = field(default_factory=list)
    measure_lines: dict[int, tuple[int, str]] = field(default_factory=dict)

    def skip_in_measure(self, measure: int, reason: str) -> None:
        """Note a skip in ``measure`` at the file line that writes it (the nearest measure line before it)."""
        known = [number for number in self.measure_lines if number <= measure]
        if not known:
            self.skips.append((None, f"m{measure} {reason}"))
            return
        line_no, text = self.measure_lines[max(known)]
        written = "line" if max(known) == measure else "no line writes it; nearest before"
        self.skips.append((line_no, f"m{measure} {reason} ({written} {text[:80]!r})"))


def measure_lines(text: str) -> dict[int, tuple[int, str]]:
    """Measure number -> (line number, line) of the RomanText lines that write measures (``m12 …``, ``m14-15 = m1-2``).

    Variant measures (``m5var1``) are left out, as music21 leaves them out.
    """
    lines: dict[int, tuple[int, str]] = {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        match = _MEASURE_LINE_RE.match(line)
        if match:
            first = int(match.group(1))
            for number in range(first, int(match.group(2) or first) + 1):
                lines.setdefault(number, (line_no, line.strip()))
    return lines


def analysis_files(source_dir: Path) -> list[Path]:
    """Every ``analysis.txt`` under the genre folders, in path order."""
    return sorted(p for p in Path(source_dir).rglob(ANALYSIS_FILE) if p.is_file())


def song_labels(relative: Path) -> dict[str, str]:
    """Song id, title, artist and genre labels derived from a path ``Genre/Composer/Set/Movement/analysis.txt``."""
    folders = list(relative.parent.parts)
    genre_folder = folders[0] if folders else ""
    composer = folders[1].replace("_", " ").strip() if len(folders) > 1 else ""
    work_parts = [part.replace("_", " ").strip() for part in folders[2:] if part != "_"]
    return {
        "song_id": f"{SOURCE}:{'/'.join(folders)}",
        "title": ": ".join(part for part in work_parts if part),
        "artist": composer,
        "subgenre": genre_folder,
        "genre_raw": f"{SOURCE}:{genre_folder}",
    }


def _measures(score: object) -> list[object]:
    """The score's measures in order (RomanText gives one part)."""
    from music21 import stream

    part = score.parts[0] if isinstance(score, stream.Score) and score.parts else score
    return list(part.getElementsByClass(stream.Measure))


def _read_measure(measure: object, result: FileResult, first_signature: object = None) -> tuple[list[_ChordRead], list[float]]:
    """The chords of one measure (with beats and metre) and the offsets of its phrase boundaries (``||``).

    The metre is the measure's time signature in force, else the score's first (a pickup bar before it).
    """
    from music21 import roman
    from music21.romanText import rtObjects, translate

    chords: list[_ChordRead] = []
    boundaries: list[float] = []
    signature = measure.timeSignature or measure.getContextByClass("TimeSignature") or first_signature
    for element in measure.recurse():
        if isinstance(element, translate.RomanTextUnprocessedToken):
            if isinstance(element.obj, rtObjects.RTPhraseBoundary):
                boundaries.append(float(element.offset))
        elif isinstance(element, roman.RomanNumeral):
            chord = _read_numeral(element, measure.number, result)
            if chord is not None:
                if signature is not None:
                    chord.metre = int(signature.numerator)
                    chord.beats = float(element.quarterLength) * signature.denominator / 4
                chords.append(chord)
    return chords, boundaries


def augmented_sixth_root(pitch_classes: list[int], default: int) -> int:
    """Root of an augmented-sixth chord read as the dominant seventh it sounds as (Ger65 in C: A-flat).

    That is the tone with a major third and a minor seventh (the enharmonic augmented sixth)
    above it; ``default`` if there is none.
    """
    present = set(pitch_classes)
    for pc in pitch_classes:
        if (pc + 4) % 12 in present and (pc + 10) % 12 in present:
            return pc
    return default


def _read_numeral(numeral: object, measure_number: int, result: FileResult) -> _ChordRead | None:
    """One Roman numeral as a chord in its key, or ``None`` (noted as skipped) if unreadable."""
    from music21.exceptions21 import Music21Exception

    try:
        if not numeral.figure:  # music21 keeps a token it cannot read as an empty numeral without a key
            raise ChordError(f"unreadable Roman numeral {getattr(numeral, 'lyric', None) or ''!r}")
        key = numeral.key
        if key is None:
            raise ChordError(f"no key in force for {numeral.figure!r}")
        root = numeral.root()
        pitch_classes = [p.pitchClass for p in numeral.pitches]
        if root is None or not pitch_classes:
            raise ChordError("no root or no pitches")
        if _AUGMENTED_SIXTH_RE.match(numeral.figure):
            chord, mapped = from_pitch_classes(augmented_sixth_root(pitch_classes, root.pitchClass), pitch_classes)
            mapped = True
        else:
            chord, mapped = from_pitch_classes(root.pitchClass, pitch_classes)
        scale_type = scale_type_of_mode(key.mode)
    except (ChordError, Music21Exception, AttributeError, ValueError) as error:
        result.skip_in_measure(measure_number, str(error))
        return None
    return _ChordRead(numeral.figure, chord, mapped, key.tonic.pitchClass, scale_type, measure_number,
                      float(numeral.offset))


def segments_of(reads: list[_ChordRead], phrase_ends: set[int]) -> list[Segment]:
    """Cut chords into segments at key changes (``ends=False``) and after phrase ends (indices, ``ends=True``)."""
    segments: list[Segment] = []
    current: list[_ChordRead] = []

    def close(ends: bool) -> None:
        if current:
            segments.append(Segment([r.chord for r in current], current[0].tonic, current[0].scale_type, "", ends,
                                    metre=current[0].metre, beats=[r.beats for r in current]))
            current.clear()

    for index, read in enumerate(reads):
        if current and (read.tonic, read.scale_type) != (current[0].tonic, current[0].scale_type):
            close(ends=False)
        current.append(read)
        if index in phrase_ends:
            close(ends=True)
    close(ends=True)
    return segments


def _phrase_end_indices(measure_reads: list[tuple[list[_ChordRead], list[float]]]) -> tuple[list[_ChordRead], set[int]]:
    """Flatten measures' chords; a boundary closes after the last chord at or before it (else the one before the measure)."""
    reads: list[_ChordRead] = []
    ends: set[int] = set()
    for chords, boundaries in measure_reads:
        for boundary in boundaries:
            before = [i for i, read in enumerate(chords) if read.offset <= boundary]
            if before:
                ends.add(len(reads) + before[-1])
            elif reads:
                ends.add(len(reads) - 1)
        reads.extend(chords)
    return reads, ends


def parse_analysis(path: Path, source_dir: Path) -> FileResult:
    """Parse one RomanText file into a :class:`FileResult` (never raises for bad input)."""
    from music21 import converter

    relative = path.relative_to(source_dir)
    result = FileResult(str(path))
    gc_was_enabled = gc.isenabled()
    gc.disable()  # music21 builds many small objects; cyclic GC passes cost about a third of the time
    try:
        result.measure_lines = measure_lines(path.read_text(encoding="utf-8"))
        score = converter.parse(str(path), format="romantext", forceSource=True, storePickle=False)
    except Exception as error:  # music21 raises many types for malformed RomanText
        result.skips.append(parse_failure(error))
        return result
    finally:
        if gc_was_enabled:
            gc.enable()
    first_signature = score.recurse().getElementsByClass("TimeSignature").first()
    reads, phrase_ends = _phrase_end_indices([_read_measure(m, result, first_signature) for m in _measures(score)])
    result.chords = [(r.figure, r.mapped, r.chord) for r in reads]
    if not reads:
        result.skips.append((None, "no Roman numerals in the file"))
        return result
    labels = song_labels(relative)
    result.song = Song(source=SOURCE, genre=GENRE, segments=segments_of(reads, phrase_ends), **labels)
    return result


def parse_failure(error: Exception) -> tuple[int | None, str]:
    """(file line, one-line reason) for a file music21 could not parse; its embedded traceback is left out."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    found = _TRANSLATE_LINE_RE.search(lines[0]) if lines else None
    reason = lines[0] if lines else ""
    if len(lines) > 1:  # music21 appends the inner traceback: its last line says what was wrong
        reason = f"{reason.split(', an exception was raised')[0]}: {lines[-1]}"
    return (int(found.group(1)) if found else None), f"music21 could not parse the file: {type(error).__name__}: {reason}"


def _parse_one(args: tuple[str, str]) -> FileResult:
    """Worker entry point: ``(path, source_dir)`` as strings."""
    path, source_dir = args
    return parse_analysis(Path(path), Path(source_dir))


def _pool_context() -> BaseContext:
    """``fork`` where the platform has it (works from unguarded scripts and inherits imports), else ``spawn``."""
    return get_context("fork" if "fork" in get_all_start_methods() else "spawn")


def default_workers() -> int:
    """Worker processes to use: two, or fewer on a one-core machine."""
    return max(1, min(2, os.cpu_count() or 1))


def parse(source_dir: Path, report: BuildReport, workers: int | None = None) -> list[Song]:
    """All analyses under ``source_dir``; ``workers`` > 1 parses in that many processes (default two)."""
    source_dir = Path(source_dir)
    paths = analysis_files(source_dir)
    workers = default_workers() if workers is None else workers
    jobs = [(str(p), str(source_dir)) for p in paths]
    if workers > 1 and len(jobs) > 1:
        import music21  # noqa: F401  (imported once here, inherited by forked workers)

        with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()) as pool:
            results = list(pool.map(_parse_one, jobs, chunksize=8))
    else:
        results = [_parse_one(job) for job in jobs]
    songs: list[Song] = []
    for result in results:
        for original, mapped, chord in result.chords:
            report.chord(SOURCE, original, mapped, chord)
        for line, reason in result.skips:
            report.skip(SOURCE, result.path, line, reason)
        if result.song is not None:
            songs.append(result.song)
    return songs
