"""McGill Billboard 2.0 (SALAMI-format chord files) -> :class:`Song` objects.

Each ``salami_chords/NNNN.txt`` becomes one song (duplicate transcriptions stay separate songs;
the build groups them by normalised title). A file has ``# title:``/``# artist:``/``# tonic:``
headers (``# tonic:`` can come again mid-file: the key in force changes there) and timed lines::

    22.3  B, verse, | A:min | A:min C:maj | x2, (voice
    29.2  | F:maj . D:maj | ->

A capital letter (``A``, ``B'``, ``Z``) starts a new section, named by the following word
(``verse``) or else by the letter. Bars hold Harte chords; ``.`` continues the previous chord,
``N``/``X``/``*``/``&pause`` are no-chords (skipped); ``xN`` after the bars plays the line's chords
N times; ``->`` marks a section that runs on (elides) into the next. ``silence`` and ``end``
close the current segment.

Segments: one per section occurrence, split again where the tonic changes. ``ends`` is True when a
segment closes at a section boundary or the end of the song, False where a key change or an
elision (``->``) cuts it. Scale type: Billboard gives only a tonic, so it is inferred per tonic with
:func:`core.corpus.scale.infer_scale_type` (minor if minor chords on the tonic outnumber major ones).

Genre: ``acousticbrainz.csv`` ``genre_tags`` mapped by :func:`genre_from_tags`; mood: Deezer
valence/arousal where artist + title match, else Spotify valence x energy, else none.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from core.chords import Chord, ChordError, parse_harte, pitch_class
from core.corpus.mood import DeezerMoods, deezer_mood, spotify_mood
from core.corpus.rows import BuildReport, Segment, Song
from core.corpus.scale import infer_scale_type

SOURCE = "billboard"
UNTAGGED_GENRE_RAW = "billboard-hot-100 (untagged)"
FALLBACK_GENRE = "pop"

#: (genre, tag pattern) in priority order: the first pattern a tag matches gives its genre, so the
#: more specific words (soul, country, blues, folk...) win over "rock", and "rock" wins over "pop".
GENRE_TAG_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (genre, re.compile(pattern))
    for genre, pattern in (
        ("latin", r"\blatin|\bsalsa|\bbossa|\bsamba"),
        ("soul", r"soul|\br ?& ?b\b|\br b\b|\brnb\b|\br and b\b|rhythm (?:&|and) blues|\bfunk|motown|new jack|doo.?wop|"
                 r"gospel|hip.?hop|\brap\b"),
        ("disco", r"disco|\bdance|electronic|\bclub"),
        ("country", r"country|bluegrass|bakersfield"),
        ("blues", r"\bblues"),
        ("jazz", r"jazz|big band|\bswing|lounge"),
        ("folk", r"\bfolk|singer.?songwriter"),
        ("rock", r"rock|metal|punk|psychedelic|new wave|\bprog|\bsurf|garage|alternative|\baor\b"),
        ("pop", r"pop|oldies|easy listening|adult contemporary|soundtrack|film|stage & screen|\bvocal|top 40|"
                r"\bcharts?\b|ballad|evergreen|seventies|80s"),
    )
)

_NO_CHORD_LABELS = frozenset({"N", "X", "*", "&pause"})
_CONTINUE_LABEL = "."
_SECTION_LETTER = re.compile(r"^[A-Z]'*$")
_REPEAT_MARK = re.compile(r"^x(\d+)$")
_HEADER = re.compile(r"^#\s*([a-z]+)\s*:\s*(.*?)\s*$")


def genre_from_tags(raw_tags: str) -> str:
    """Map a ``genre_tags`` cell (``;``-separated, as written) to one of the corpus genres.

    Each tag occurrence votes for the genre of the first rule in :data:`GENRE_TAG_RULES` it matches;
    the most votes wins (ties: the genre voted first). Tags that match no rule (``Other``, ``Reggae``,
    ``Unknown``...) do not vote; with no vote at all the song gets :data:`FALLBACK_GENRE` (``pop``:
    every Billboard song charted on the Hot 100).
    """
    votes: Counter[str] = Counter()
    for tag in raw_tags.split(";"):
        genre = _genre_of_tag(tag.strip().lower())
        if genre:
            votes[genre] += 1
    return votes.most_common(1)[0][0] if votes else FALLBACK_GENRE


def _genre_of_tag(tag: str) -> str:
    for genre, pattern in GENRE_TAG_RULES:
        if tag and pattern.search(tag):
            return genre
    return ""


def _read_csv_by_id(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["id"].strip().zfill(4): row for row in csv.DictReader(handle) if row.get("id")}


def load_genre_tags(path: Path) -> dict[str, str]:
    """Raw ``genre_tags`` per 4-digit song id from ``acousticbrainz.csv`` (empty cells left out)."""
    rows = _read_csv_by_id(path).items()
    return {song_id: row["genre_tags"].strip() for song_id, row in rows if (row.get("genre_tags") or "").strip()}


def load_spotify(path: Path) -> dict[str, tuple[float, float]]:
    """``(valence, energy)`` per 4-digit song id from ``spotify_features.csv`` (unreadable rows left out)."""
    features: dict[str, tuple[float, float]] = {}
    for song_id, row in _read_csv_by_id(path).items():
        try:
            features[song_id] = (float(row["valence"]), float(row["energy"]))
        except (KeyError, TypeError, ValueError):
            continue
    return features


@dataclass
class _Builder:
    """Collects one file's segments as its lines are read."""

    segments: list[tuple[list[Chord], int, str, bool, list[float | None]]] = field(default_factory=list)
    chords: list[Chord] = field(default_factory=list)
    beats: list[float | None] = field(default_factory=list)
    segment_tonic: int = 0
    section: str = ""
    elided: bool = False

    def close(self, ends: bool) -> None:
        if self.chords:
            self.segments.append((self.chords, self.segment_tonic, self.section, ends and not self.elided, self.beats))
        self.chords = []
        self.beats = []
        self.elided = False

    def add(self, chord: Chord, tonic: int, beats: float | None = None) -> None:
        if self.chords and tonic != self.segment_tonic:
            self.close(ends=False)
        if not self.chords:
            self.segment_tonic = tonic
        self.chords.append(chord)
        self.beats.append(beats)


@dataclass
class _FileState:
    path: Path
    report: BuildReport
    headers: dict[str, str] = field(default_factory=dict)
    tonic: int | None = None
    metre: int | None = None  # beats per bar from '# metre:'
    builder: _Builder = field(default_factory=_Builder)


def _read_header(state: _FileState, line: str, line_no: int) -> None:
    match = _HEADER.match(line)
    if not match:
        return
    key, value = match.groups()
    if key == "tonic":
        try:
            state.tonic = pitch_class(value)
        except ChordError:
            state.report.skip(SOURCE, state.path, line_no, f"unreadable tonic {value!r}")
    else:
        state.headers.setdefault(key, value)
        if key == "metre" and state.metre is None:
            state.metre = _metre_of(value)


def _split_line(content: str) -> tuple[list[str], str, list[str]]:
    """Split a line's content into (label tokens before the bars, the bars, tokens after the bars)."""
    first, last = content.find("|"), content.rfind("|")
    if first < 0:
        before, bars, after = content, "", ""
    else:
        before, bars, after = content[:first], content[first:last + 1], content[last + 1:]
    return _comma_tokens(before), bars, _comma_tokens(after)


def _comma_tokens(text: str) -> list[str]:
    return [token.strip() for token in text.split(",") if token.strip()]


def _section_name(tokens: list[str]) -> str | None:
    """Section name if the tokens start a section (``A, verse`` -> ``verse``; ``Z`` -> ``Z``), else None."""
    if not tokens or not _SECTION_LETTER.match(tokens[0]):
        return None
    words = [t for t in tokens[1:] if not t.startswith("(") and not t.endswith(")")]
    return words[0].lower() if words else tokens[0]


def _read_bars(state: _FileState, bars: str, line_no: int) -> list[tuple[Chord, float | None]]:
    """The chords of a line's bars with their beats: a bar's beats (metre, or its own ``(3/4)``) shared by its tokens.

    ``.`` lengthens the chord before it in the bar; a no-chord token takes its share and gives no chord.
    """
    timed: list[tuple[Chord, float | None]] = []
    sounding = False  # a chord read in this line is still sounding (a "." lengthens it)
    for bar in bars.split("|"):
        tokens = bar.split()
        metre = next((_metre_of(t[1:-1]) for t in tokens if t.startswith("(") and t.endswith(")")), None)
        tokens = [t for t in tokens if not t.startswith("(")]
        share = (metre or state.metre) / len(tokens) if tokens and (metre or state.metre) else None
        for label in tokens:
            if label == _CONTINUE_LABEL:
                if sounding and share is not None and timed[-1][1] is not None:
                    timed[-1] = (timed[-1][0], timed[-1][1] + share)
                continue
            sounding = False
            if label in _NO_CHORD_LABELS:
                continue
            try:
                chord, mapped = parse_harte(label)
            except ChordError as error:
                state.report.skip(SOURCE, state.path, line_no, str(error))
                continue
            if chord is None:
                continue
            state.report.chord(SOURCE, label, mapped, chord)
            timed.append((chord, share))
            sounding = True
    return timed


def _metre_of(text: str) -> int | None:
    """Beats per bar of a time signature ``3/4`` (its numerator), or None if unreadable."""
    numerator = text.partition("/")[0].strip()
    return int(numerator) if numerator.isdigit() and int(numerator) > 0 else None


def _repeat_count(after: list[str]) -> int:
    for token in after:
        match = _REPEAT_MARK.match(token)
        if match:
            return max(1, int(match.group(1)))
    return 1


def _read_body_line(state: _FileState, line: str, line_no: int) -> None:
    time_text, tab, content = line.partition("\t")
    try:
        float(time_text)
    except ValueError:
        tab = ""
    if not tab:
        state.report.skip(SOURCE, state.path, line_no, "expected '<time><TAB><content>'")
        return
    content = content.strip()
    builder = state.builder
    if content in ("silence", "end"):
        builder.close(ends=True)
        return
    before, bars, after = _split_line(content)
    section = _section_name(before)
    if section is not None:
        builder.close(ends=True)
        builder.section = section
    if not bars:
        return
    if state.tonic is None:
        state.report.skip(SOURCE, state.path, line_no, "chords before any '# tonic:' line")
        return
    chords = _read_bars(state, bars, line_no) * _repeat_count(after)
    if chords:
        builder.elided = False
    for chord, beats in chords:
        builder.add(chord, state.tonic, beats)
    if "->" in after:
        builder.elided = True


def _segments_with_scale(raw: list[tuple[list[Chord], int, str, bool, list[float | None]]], metre: int | None) -> list[Segment]:
    chords_by_tonic: dict[int, list[Chord]] = {}
    for chords, tonic, _, _, _ in raw:
        chords_by_tonic.setdefault(tonic, []).extend(chords)
    scale_by_tonic = {tonic: infer_scale_type(chords, tonic) for tonic, chords in chords_by_tonic.items()}
    return [Segment(chords, tonic, scale_by_tonic[tonic], section, ends, metre=metre, beats=beats)
            for chords, tonic, section, ends, beats in raw]


def parse_file(path: Path, report: BuildReport) -> tuple[dict[str, str], list[Segment]]:
    """Headers (title, artist, metre...) and key-labelled section segments of one SALAMI chord file."""
    state = _FileState(path, report)
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            _read_header(state, stripped, line_no)
        else:
            _read_body_line(state, line.rstrip(), line_no)
    state.builder.close(ends=True)
    return state.headers, _segments_with_scale(state.builder.segments, state.metre)


def _mood(
    song_id: str, artist: str, title: str, deezer: DeezerMoods | None, spotify: dict[str, tuple[float, float]]
) -> tuple[str, str]:
    mood, evidence = deezer_mood(deezer, artist, title)
    if not mood and song_id in spotify:
        mood, evidence = spotify_mood(*spotify[song_id])
    return mood, evidence


def _default_deezer(source_dir: Path) -> DeezerMoods | None:
    folder = source_dir.parent / "deezer-mood"
    return DeezerMoods(folder) if folder.is_dir() else None


def parse(source_dir: Path, report: BuildReport, deezer: DeezerMoods | None = None) -> list[Song]:
    """Read every ``salami_chords/*.txt`` under ``source_dir`` into songs.

    ``deezer`` defaults to the ``deezer-mood`` folder beside ``source_dir`` (none if it is missing).
    Unreadable files and lines are recorded with ``report.skip`` and left out.
    """
    source_dir = Path(source_dir)
    deezer = deezer if deezer is not None else _default_deezer(source_dir)
    genre_tags = load_genre_tags(source_dir / "acousticbrainz.csv")
    spotify = load_spotify(source_dir / "spotify_features.csv")
    songs: list[Song] = []
    for path in sorted((source_dir / "salami_chords").glob("*.txt")):
        try:
            headers, segments = parse_file(path, report)
        except (OSError, UnicodeDecodeError) as error:
            report.skip(SOURCE, path, None, f"unreadable file: {error}")
            continue
        if not segments:
            report.skip(SOURCE, path, None, "no chords")
            continue
        song_id = path.stem
        title, artist = headers.get("title", song_id), headers.get("artist", "")
        raw_tags = genre_tags.get(song_id, "")
        mood, evidence = _mood(song_id, artist, title, deezer, spotify)
        songs.append(
            Song(
                source=SOURCE, song_id=f"{SOURCE}:{song_id}", title=title, artist=artist,
                genre=genre_from_tags(raw_tags), genre_raw=raw_tags or UNTAGGED_GENRE_RAW,
                mood=mood, mood_evidence=evidence, segments=segments,
            )
        )
    return songs
