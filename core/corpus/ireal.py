"""iReal Pro playlists (``ireal-playlists/``): whole charts in played order, with sections and chord durations.

Each playlist file (``.txt`` or ``.html``) holds one ``irealb://`` URL: percent-encoded songs separated
by ``===`` (the last part is the playlist name), each song's fields separated by ``=``: title,
composer, (unused), style, key, (transpose), music, groove, tempo, repeats. The music string, after the
``1r34LbKcu7`` marker, is obfuscated (:func:`unscramble`) and then read cell by cell.

Choices (each a rule, so the counts can be checked):

* **Bars and cells.** ``|``, ``[``, ``{`` open a bar, ``|``, ``]``, ``}``, ``Z`` close one; anything
  else outside a bar (a section mark after ``]``) opens one implicitly, spaces outside bars are layout.
  Inside a bar each chord, ``x``, ``r``, ``n``, ``p``, ``W`` and each space is one *cell*; ``,`` only
  separates. ``s``/``l`` (small/large chord size), ``Y`` (spacer), ``f`` (fermata), ``U`` (end),
  ``S`` (segno) and ``Q`` (coda) take no cell; segno, coda and the ``D.S./D.C./Fine`` comments are
  read into :attr:`IrealChart.jumps` but **not followed**: the coda's bars are played where they are
  written, the segno's stretch is not played twice.
* **Durations** (:func:`bar_beats`): a chord holds its own cell and the empty or ``p`` cells after it in
  the bar. Where the cells add up to the bar's beats they are the beats (``C7 F7 `` in 4/4 is 2 + 2,
  ``C7   `` is 4); a bar short of cells whose last chord, given the missing cells, would hold as many
  as each other chord reads so (``C7 F7`` is 2 + 2, not 3 + 1); otherwise the beats are shared in
  proportion to the cells (``C7,F7`` is 2 + 2, ``Ab  sDb,`` in 3/4 is 2 + 1), rounded to whole beats,
  at least one each, leftover beats to the largest remainder (ties to the earlier chord). More chords
  than beats share the bar equally. Beats are counted in the time signature's own unit (``T68``:
  6 beats a bar; ``T12`` is 12/8). ``s``/``l`` only change how chords are drawn, not their cells.
* **Repeat signs.** ``x`` repeats the previous written bar, ``r`` the previous two (its bar and the
  empty bar after it); ``W`` (an invisible root, usually a new bass) and a leading ``p`` hold the
  previous chord; an empty bar holds the previous chord for the whole bar; ``n`` is no chord
  (``TimedChord.chord is None``). Alternate chords in parentheses are dropped; a slash bass is dropped.
* **Repeats and endings** (:func:`played_order`): ``N1 N2 N3`` start endings (``N0`` = the previous
  number + 1); an ending lasts to its ``}`` (the last one, to ``]``/``Z`` or the next ``{``). A repeat
  ``{ }`` is played as often as a ``3x``/``x3`` comment inside it says, else once more than it has
  endings closed by ``}`` (at least twice). An ending plays on its own pass (with more passes than
  endings the first ending takes the extra passes); a last ending not closed by ``}`` also plays on a
  pass whose own ending does not go back (a long second ending, then the "to end" ending).
* **Sections.** ``*A``-``*Z`` keep their letter, ``*i`` is ``intro``, ``*v``/``*V`` ``verse``; any other
  mark is ``other`` with the raw mark kept. A comment naming a section (``<Verse>``,
  ``<*74Chorus>``) on a bar with no mark starts a section with that label. Bars before the first mark
  are ``other``. A new section occurrence starts at each played bar carrying a mark.
* **Metadata.** Titles ``Boy Named Sue, A`` read ``A Boy Named Sue``; a two-word composer is iReal's
  "Last First" (``Cash Johnny`` -> ``Johnny Cash``). Key ``Eb`` / ``C-`` gives tonic and mode (estimated
  from the chords, and reported, when missing). Genre from the style words (:data:`STYLE_GENRES`), else
  the playlist's own genre (:data:`PLAYLISTS`); ``genre_raw`` keeps the style. Multi-part charts
  (``Title 1``, ``Title 2``) stay separate charts.
* **Duplicates**: the same normalised title with composers sharing a word (or one composer empty) is one
  chart, kept from the first playlist in :data:`PLAYLISTS` order; :attr:`IrealChart.playlists` lists all.

Symbols go through :func:`core.corpus.jazz_standards.read_symbol` (the iReal spellings ``^7 -7 h7 o7
7b9 sus 69 alt``, mapped to the nearest quality and counted by the :class:`BuildReport`).
"""

from __future__ import annotations

import functools
import re
import urllib.parse
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.chords import Chord, ChordError
from core.corpus.jazz_standards import estimate_key, parse_key, read_symbol
from core.corpus.mood import normalise_title
from core.corpus.rows import BuildReport, Segment, Song
from core.errors import InputError

SOURCE = "ireal"
FOLDER_NAME = "ireal-playlists"
MUSIC_MARKER = "1r34LbKcu7"
#: playlist file -> (playlist name, genre when the style names none), in de-duplication order.
PLAYLISTS: dict[str, tuple[str, str]] = {
    "pop400.txt": ("Pop 400", "pop"), "brendan.html": ("Brendan's Rep", "pop"),
    "country.txt": ("Country 50", "country"), "blues50.txt": ("Blues 50", "blues"),
    "dixieland1.txt": ("Dixieland Tunes 1", "jazz"),
}
NOT_PLAYLISTS = frozenset({"SOURCE.txt", "LICENSE.txt", "README.txt"})
#: style words -> genre, first match wins ("Country Rock" is country, "Rock Pop" rock, "Soul Ballad" soul).
STYLE_GENRES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("bossa", "samba", "latin", "salsa", "mambo", "cha cha", "rhumba", "rumba", "calypso", "tango"), "latin"),
    (("country", "bluegrass", "western"), "country"),
    (("blues", "shuffle"), "blues"),
    (("soul", "rnb", "r'n'b", "r&b", "funk", "motown", "gospel"), "soul"),
    (("disco", "dance", "house", "techno"), "disco"),
    (("rock",), "rock"),
    (("folk", "celtic", "irish"), "folk"),
    (("swing", "dixieland", "bebop", "jazz"), "jazz"),
    (("pop",), "pop"),
)
#: the time signature codes that are not simply beats + unit (T12 is 12/8).
TIME_SIGNATURES: dict[str, tuple[int, int]] = {"12": (12, 8)}
#: section-naming comments -> label (a comment naming anything else is not a label).
COMMENT_LABELS: dict[str, str] = {
    "intro": "intro", "verse": "verse", "prechorus": "pre-chorus", "chorus": "chorus", "refrain": "chorus",
    "bridge": "bridge", "solo": "instrumental", "solos": "instrumental", "instrumental": "instrumental",
    "interlude": "instrumental", "outro": "outro",
}
MARK_LABELS: dict[str, str] = {"i": "intro", "v": "verse", "V": "verse"}
OTHER = "other"
#: the most bars expanding repeats may give per written bar before the chart is reported as looping.
MAX_PLAYED_PER_WRITTEN = 20

_URL_RE = re.compile(r'irealb(?:ook)?://([^"\s<>]+)')
#: an alternate chord in parentheses; a custom quality between asterisks inside it may hold parentheses.
_ALT_ONE = r"\((?:\*[^*]*\*|[^)*])*\)"
_ALT = f"(?:{_ALT_ONE})?"
_TOKEN_RE = re.compile(
    r"(?P<mark>\*[A-Za-z])|(?P<time>T\d\d)|(?P<ending>N\d)|(?P<comment><[^>]*>)"
    rf"|(?P<chord>[A-G][#b]?(?:sus|alt|add|[+\-^\dhob#])*(?:\*[^*<>|]*\*)?(?:/[A-G][#b]?)?{_ALT})"
    rf"|(?P<invisible>W(?:/[A-G][#b]?)?{_ALT})|(?P<alternate>{_ALT_ONE})"
    r"|(?P<cell>[xrnp ])|(?P<bar>[|\[\]{}Z])|(?P<sign>[,sYlfUSQ])"
)
_REPEAT_COUNT_RE = re.compile(r"\s*(?:(\d+)\s*x|x\s*(\d+))\s*")
_COMMENT_OFFSET_RE = re.compile(r"^\*\d\d")
_CUSTOM_QUALITY_RE = re.compile(r"\*([^*]*)\*")
_JUMP_WORDS = ("D.S", "D.C", "DS", "DC", "Fine", "Coda")


@dataclass(frozen=True)
class TimedChord:
    """One chord as played: the chord (``None`` = no chord, ``n``), its beats, and the symbol as written."""

    chord: Chord | None
    beats: float
    symbol: str


@dataclass(frozen=True)
class IrealBar:
    """One played bar: its chords in order (their beats add up to ``beats``) and its time signature."""

    chords: tuple[TimedChord, ...]
    beats: int
    time_signature: str  # "4/4", "3/4", "6/8", "12/8"


@dataclass(frozen=True)
class IrealSection:
    """One occurrence of a section in played order: normalised label, the mark as written, its bars."""

    label: str  # "A".."Z", "intro", "verse", "chorus"... or "other"
    raw_label: str  # "*A", "*i", "<Chorus>", or "" where the chart marks nothing
    bars: tuple[IrealBar, ...]

    def timed_chords(self) -> list[TimedChord]:
        """The section's chords in order, no-chord stretches left out."""
        return [timed for bar in self.bars for timed in bar.chords if timed.chord is not None]


@dataclass(frozen=True)
class IrealChart:
    """One chart: metadata, key, genre, and its sections in played order (repeats expanded)."""

    title: str
    composer: str
    style: str
    key: str  # as written: "Eb", "C-"
    key_tonic: int
    scale_type: str
    genre: str
    playlists: tuple[str, ...]
    song_id: str
    sections: tuple[IrealSection, ...]
    jumps: tuple[str, ...] = ()  # segno/coda signs and D.S./D.C./Fine comments read but not followed
    tempo: int | None = None  # beats per minute where the chart gives one


@dataclass
class _Cell:
    """One cell of a written bar: what it holds (``chord``, ``invisible``, ``x``, ``r``, ``n``, ``p``, ``empty``)."""

    kind: str
    symbol: str = ""
    chord: Chord | None = None


@dataclass
class _Bar:
    """A bar as written, with everything the expansion and the sectioning need."""

    cells: list[_Cell] = field(default_factory=list)
    opens_repeat: bool = False
    closes_repeat: bool = False
    closes_section: bool = False
    mark: str = ""
    ending: int | None = None
    time: tuple[int, int] = (4, 4)
    comments: list[str] = field(default_factory=list)
    timed: list[TimedChord] = field(default_factory=list)
    region: int | None = None  # the ending this bar belongs to, after :func:`_label_endings`


def unscramble(music: str) -> str:
    """The readable music string of an obfuscated one (the text after :data:`MUSIC_MARKER`).

    While more than 51 characters remain, each 50-character block has characters 0-4 swapped with
    49-45 and 10-23 with 39-26 (mirror positions); the rest is left as is. Then the three
    substitutions are undone: ``Kcl`` -> ``| x``, ``LZ`` -> `` |``, ``XyQ`` -> three spaces.
    """
    swapped = [*range(5), *range(10, 24)]
    out: list[str] = []
    rest = music
    while len(rest) > 51:
        block, rest = list(rest[:50]), rest[50:]
        for i in swapped:
            block[i], block[49 - i] = block[49 - i], block[i]
        out.append("".join(block))
    out.append(rest)
    return "".join(out).replace("Kcl", "| x").replace("LZ", " |").replace("XyQ", "   ")


def tokens(music: str) -> tuple[list[tuple[str, str]], list[str]]:
    """``(kind, text)`` tokens of a readable music string, and the characters no token explains."""
    found: list[tuple[str, str]] = []
    unknown: list[str] = []
    position = 0
    while position < len(music):
        match = _TOKEN_RE.match(music, position)
        if match is None:
            unknown.append(music[position])
            position += 1
            continue
        found.append((match.lastgroup or "", match.group()))
        position = match.end()
    return found, unknown


def time_signature(code: str) -> tuple[int, int]:
    """``(beats, unit)`` of a ``T`` code's digits: ``44`` -> (4, 4), ``68`` -> (6, 8), ``12`` -> (12, 8)."""
    return TIME_SIGNATURES.get(code, (int(code[0]), int(code[1])))


def written_bars(found: list[tuple[str, str]]) -> tuple[list[_Bar], list[str]]:
    """The bars written in a music string's :func:`tokens` (cells unread), and the jump signs they carry.

    A bar of nothing but empty cells is layout, not a held chord, where it comes right after a ``}``,
    ``]`` or ``Z`` (``}    |    |N2``) or is ended by an opening ``[`` or ``{`` (``]|        {*A``).
    """
    bars: list[_Bar] = []
    current: _Bar | None = None
    jumps: list[str] = []
    time, after_close = (4, 4), False

    def close_bar(by: str) -> None:
        nonlocal current, after_close
        if current is not None:
            blank = all(cell.kind == "empty" for cell in current.cells) and not (
                current.mark or current.ending is not None or current.comments)
            if not (blank and (after_close or by in ("[", "{"))) and (current.cells or not blank):
                bars.append(current)
                after_close = by in ("}", "]", "Z")
        current = None

    for kind, text in found:
        if kind == "bar":
            if current is not None and text in "}]Z":
                current.closes_repeat, current.closes_section = text == "}", text in "]Z"
            close_bar(text)
            if text in "|[{":
                current = _Bar(time=time, opens_repeat=text == "{")
        elif kind == "sign":
            if text in "SQ":
                jumps.append({"S": "segno", "Q": "coda"}[text])
        elif current is None and (text == " " or kind == "alternate"):
            continue  # layout spaces between bars
        else:
            if current is None:
                current = _Bar(time=time)
            if kind == "time":
                time = current.time = time_signature(text[1:])
            else:
                _add_to_bar(current, kind, text, jumps)
    close_bar("")
    return bars, jumps


def _add_to_bar(bar: _Bar, kind: str, text: str, jumps: list[str]) -> None:
    """Put one non-bar-line token into the bar being read."""
    if kind == "mark":
        bar.mark = text[1:]
    elif kind == "ending":
        bar.ending = int(text[1:])
    elif kind == "comment":
        comment = _COMMENT_OFFSET_RE.sub("", text[1:-1]).strip()
        bar.comments.append(comment)
        if any(word in comment for word in _JUMP_WORDS):
            jumps.append(comment)
    elif kind == "chord":
        bar.cells.append(_Cell("chord", re.sub(_ALT_ONE, "", text)))
    elif kind == "invisible":
        bar.cells.append(_Cell("invisible", text))
    elif kind == "alternate" or text == " ":
        bar.cells.append(_Cell("empty"))
    else:
        bar.cells.append(_Cell(text))


def bar_beats(weights: list[int], beats: int) -> list[float]:
    """Each chord's beats in a bar of ``beats`` beats from the cells it holds (see the module docstring)."""
    count = len(weights)
    if count == 0:
        return []
    if sum(weights) == beats:
        return [float(weight) for weight in weights]
    if count > beats:
        return [beats / count] * count
    padded = [*weights[:-1], weights[-1] + beats - sum(weights)]
    if sum(weights) < beats and len(set(padded)) == 1:
        return [float(weight) for weight in padded]  # "C7 F7" short of its last cell
    exact = [beats * weight / sum(weights) for weight in weights]
    whole = [max(1, int(share)) for share in exact]
    while sum(whole) < beats:
        whole[max(range(count), key=lambda k: (exact[k] - whole[k], -k))] += 1
    while sum(whole) > beats:
        whole[max((k for k in range(count) if whole[k] > 1), key=lambda k: (whole[k] - exact[k], k))] -= 1
    return [float(share) for share in whole]


@functools.lru_cache(maxsize=8192)
def read_chart_symbol(symbol: str) -> tuple[Chord, bool, str]:
    """A written chord symbol as ``(chord, mapped, symbol read)``; raises :class:`ChordError`.

    A custom quality between asterisks (``A*m*``, ``Eb*sus2*``) is read in place (``Am``, ``Ebsus2``);
    when that is unreadable the chord is read without it and counted as mapped. The bass is dropped.
    """
    text = re.sub(r"/.*$", "", symbol)
    custom = _CUSTOM_QUALITY_RE.search(text)
    if custom is None:
        chord, mapped = read_symbol(text)
        return chord, mapped, text
    inline = _CUSTOM_QUALITY_RE.sub(lambda match: match.group(1).strip(), text)
    try:
        chord, mapped = read_symbol(inline)
        return chord, mapped, inline
    except ChordError:
        chord, _ = read_symbol(_CUSTOM_QUALITY_RE.sub("", text))
        return chord, True, inline


def _read_chords(bars: list[_Bar], where: _Where) -> None:
    """Read every written chord symbol once (reported when unreadable, counted when mapped)."""
    for bar in bars:
        for cell in bar.cells:
            if cell.kind != "chord":
                continue
            try:
                cell.chord, mapped, read = read_chart_symbol(cell.symbol)
            except ChordError as error:
                where.skip(f"unreadable chord {cell.symbol!r} (its cells go to the chord before): {error}")
                cell.kind = "empty"
                continue
            where.report.chord(SOURCE, read, mapped, cell.chord)


def _resolve_repeat_signs(bars: list[_Bar], where: _Where) -> None:
    """Replace ``x`` bars by the previous bar's cells and ``r`` bars (and the bar after) by the two before."""
    for index, bar in enumerate(bars):
        kinds = [cell.kind for cell in bar.cells if cell.kind != "empty"]
        if kinds[:1] == ["x"]:
            if index == 0:
                where.skip("repeat sign 'x' in the first bar: left empty")
            bar.cells = list(bars[index - 1].cells) if index else []
        elif kinds[:1] == ["r"]:
            if index < 2:
                where.skip("repeat sign 'r' before two bars: left empty")
                bar.cells = []
                continue
            bar.cells = list(bars[index - 2].cells)
            following = bars[index + 1] if index + 1 < len(bars) else None
            if following is not None and all(cell.kind == "empty" for cell in following.cells):
                following.cells = list(bars[index - 1].cells)


def _time_bars(bars: list[_Bar]) -> None:
    """Give every written bar its timed chords; ``W``, ``p`` and empty bars hold the chord before."""
    held: tuple[Chord | None, str] | None = None
    for bar in bars:
        entries: list[list] = []  # [chord, symbol, cells]
        for cell in bar.cells:
            if cell.kind == "chord":
                held = (cell.chord, cell.symbol)
                entries.append([cell.chord, cell.symbol, 1])
            elif cell.kind == "n":
                held = (None, "N.C.")
                entries.append([None, "N.C.", 1])
            elif cell.kind in ("invisible", "p") and (cell.kind == "invisible" or not entries) and held:
                entries.append([held[0], held[1] if cell.kind == "p" else cell.symbol, 1])
            elif entries:
                entries[-1][2] += 1
        if not entries and held is not None and bar.cells:
            entries.append([held[0], held[1], 1])
        beats = bar_beats([entry[2] for entry in entries], bar.time[0])
        bar.timed = [TimedChord(entry[0], share, entry[1]) for entry, share in zip(entries, beats, strict=True)]


def _repeat_count(comments: list[str]) -> int | None:
    """The count a ``3x`` / ``x3`` comment gives, ``None`` without one."""
    for comment in comments:
        match = _REPEAT_COUNT_RE.fullmatch(comment)
        if match:
            return int(match.group(1) or match.group(2))
    return None


@dataclass
class _Block:
    """One repeat block (from a ``{`` to the next): how often it is played and its endings."""

    passes: int = 2
    endings: set[int] = field(default_factory=set)
    closed: set[int] = field(default_factory=set)  # endings closed by "}" (they send the music back)

    def plays(self, ending: int, pass_number: int) -> bool:
        """Whether a bar of ``ending`` plays on ``pass_number``.

        An ending plays on its own pass (with more passes than endings, the first ending takes the
        extra passes); the last ending, when no ``}`` closes it, also plays on a pass whose own ending
        does not send the music back (so a chart's "to end" ending follows a long second ending).
        """
        surplus = self.passes - len(self.endings)
        chosen = max(1, pass_number - surplus) if surplus > 0 else pass_number
        if ending == chosen:
            return True
        return ending == max(self.endings) and ending not in self.closed and chosen not in self.closed


def _blocks(bars: list[_Bar]) -> list[_Block]:
    """Each bar's repeat block (a new one at every ``{``), labelling each bar's ending region on the way.

    An ending lasts from its ``N`` to its ``}``; the last to ``]``, ``Z`` or the next ``{``. A block is
    played as often as a ``3x``/``x3`` comment before its first ``}`` says, else once more than it has
    endings closed by ``}`` (at least twice).
    """
    block_of: list[_Block] = []
    block, region, last, counting, counted = _Block(), None, 0, True, False
    for bar in bars:
        previous = block
        if bar.opens_repeat:
            block, region, last, counting, counted = _Block(), None, 0, True, False
        if bar.ending is not None and bar.opens_repeat and previous.endings:
            # "}{N2": the block before's ending opens a repeat of its own; only this bar is that ending
            bar.region = bar.ending or max(previous.endings) + 1
            previous.endings.add(bar.region)
            block_of.append(previous)
        else:
            if bar.ending is not None:
                last = region = bar.ending if bar.ending > 0 else last + 1
                block.endings.add(region)
            bar.region = region
            block_of.append(block)
        count = _repeat_count(bar.comments) if counting else None
        if count:
            block.passes, counted = count, True
        if bar.closes_repeat:
            counting = False
            if region is not None:
                block.closed.add(region)
                block.passes = block.passes if counted else max(2, len(block.closed) + 1)
        if bar.closes_repeat or bar.closes_section:
            region = None
    return block_of


def played_order(bars: list[_Bar]) -> list[int]:
    """Indices of the written bars in played order: repeats taken, endings chosen per pass.

    Raises :class:`InputError` when the repeat signs would play more than
    :data:`MAX_PLAYED_PER_WRITTEN` bars per written bar.
    """
    block_of = _blocks(bars)
    order: list[int] = []
    start, pass_number, index, jumped_to = 0, 1, 0, None
    while index < len(bars):
        bar, block = bars[index], block_of[index]
        opens = bar.opens_repeat and index != jumped_to
        own_block = index == 0 or block is not block_of[index - 1]
        if bar.region is not None and not block.plays(bar.region, 1 if opens and own_block else pass_number):
            index, jumped_to = index + 1, None
            continue
        if opens:
            start, pass_number = index, 1
        jumped_to = None
        order.append(index)
        if len(order) > MAX_PLAYED_PER_WRITTEN * len(bars):
            raise InputError("repeat signs never end")
        if bar.closes_repeat and pass_number < block.passes:
            pass_number, index, jumped_to = pass_number + 1, start, start
            continue
        if bar.closes_repeat:
            start, pass_number = index + 1, 1
        index += 1
    return order


def _section_start(bar: _Bar) -> tuple[str, str] | None:
    """``(label, raw label)`` when the bar starts a section: a mark, or else a section-naming comment."""
    if bar.mark:
        label = bar.mark if bar.mark.isupper() and bar.mark != "V" else OTHER
        return MARK_LABELS.get(bar.mark, label), f"*{bar.mark}"
    for comment in bar.comments:
        word = re.sub(r"[\s\-]", "", comment).lower()
        if word in COMMENT_LABELS:
            return COMMENT_LABELS[word], f"<{comment}>"
    return None


def sections_of(bars: list[_Bar]) -> tuple[IrealSection, ...]:
    """The played sections of timed written bars.

    A section with no chord written in it (only bars holding the chord before, or no chord) is left out.
    """
    grouped: list[tuple[str, str, list[IrealBar], list[bool]]] = []
    for index in played_order(bars):
        bar = bars[index]
        start = _section_start(bar)
        if start is not None or not grouped:
            label, raw = start or (OTHER, "")
            grouped.append((label, raw, [], []))
        if bar.cells:  # a bar of only a comment or a mark is no bar to play
            grouped[-1][2].append(IrealBar(tuple(bar.timed), bar.time[0], f"{bar.time[0]}/{bar.time[1]}"))
            grouped[-1][3].append(any(cell.kind == "chord" for cell in bar.cells))
    return tuple(IrealSection(label, raw, tuple(played)) for label, raw, played, written in grouped if any(written))


@dataclass
class _Where:
    """Where a chart comes from, so that every problem is reported by file and chart title."""

    report: BuildReport
    path: Path
    title: str

    def skip(self, reason: str) -> None:
        """Report one thing in this chart that could not be read."""
        self.report.skip(SOURCE, self.path, None, f"{self.title}: {reason}")


def display_title(raw: str) -> str:
    """iReal's sorted title in reading order: ``Boy Named Sue, A`` -> ``A Boy Named Sue``."""
    return re.sub(r"^(.*), (A|An|The)$", r"\2 \1", raw.strip())


def display_composer(raw: str) -> str:
    """iReal's "Last First" composer in reading order when it is two words (``Cash Johnny`` -> ``Johnny Cash``)."""
    words = raw.split()
    return f"{words[1]} {words[0]}" if len(words) == 2 else raw.strip()


def genre_of_style(style: str, playlist_genre: str) -> str:
    """The project genre a style names (:data:`STYLE_GENRES`), else the playlist's genre."""
    lowered = style.lower()
    for words, genre in STYLE_GENRES:
        if any(re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", lowered) for word in words):
            return genre
    return playlist_genre


def _chart_sections(music: str, where: _Where) -> tuple[tuple[IrealSection, ...], list[str]]:
    """The played sections of an obfuscated music string, and its jump signs; problems go to ``where``."""
    readable = unscramble(music.split(MUSIC_MARKER, 1)[1])
    found, unknown = tokens(readable)
    if unknown:
        where.skip(f"unreadable characters {''.join(unknown)!r} skipped")
    bars, jumps = written_bars(found)
    _read_chords(bars, where)
    _resolve_repeat_signs(bars, where)
    _time_bars(bars)
    return sections_of(bars), jumps


def chart_of(song_text: str, path: Path, number: int, report: BuildReport) -> IrealChart | None:
    """One ``=``-separated song of a playlist as a chart, or ``None`` (reported by title) when unreadable."""
    fields = song_text.lstrip("=").split("=")
    where = _Where(report, path, display_title(fields[0]) or f"chart {number} (no title)")
    if len(fields) < 7 or MUSIC_MARKER not in fields[6]:
        where.skip(f"no music string carrying the {MUSIC_MARKER} marker ({len(fields)} fields)")
        return None
    try:
        sections, jumps = _chart_sections(fields[6], where)
    except InputError as error:
        where.skip(str(error))
        return None
    if not sections:
        where.skip("no chords")
        return None
    key_text = fields[4].strip()
    key = parse_key(key_text)
    if key is None:
        where.skip(f"{f'unreadable key {key_text!r}' if key_text else 'no key'}: key estimated from the chords")
        key = estimate_key([[t.chord for t in bar.chords if t.chord] for s in sections for bar in s.bars
                            if any(t.chord for t in bar.chords)])
    style = fields[3].strip()
    return IrealChart(
        title=where.title, composer=display_composer(fields[1]), style=style, key=key_text, key_tonic=key[0],
        scale_type=key[1], genre=genre_of_style(style, PLAYLISTS.get(path.name, ("", ""))[1]),
        playlists=(PLAYLISTS.get(path.name, (path.stem, ""))[0],), song_id=f"{SOURCE}:{path.stem}:{number:04d}",
        sections=sections, jumps=tuple(jumps), tempo=_tempo(fields),
    )


def _tempo(fields: list[str]) -> int | None:
    """The chart's tempo field (the ninth), ``None`` where it is missing or 0."""
    text = fields[8].strip() if len(fields) > 8 else ""
    return int(text) if text.isdigit() and int(text) > 0 else None


def read_playlist(path: Path, report: BuildReport) -> list[IrealChart]:
    """Every readable chart of one playlist file (the file itself reported when it holds no playlist)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        report.skip(SOURCE, path, None, f"unreadable file: {error}")
        return []
    urls = _URL_RE.findall(text)
    if not urls:
        report.skip(SOURCE, path, None, "no irealb:// playlist link in the file")
        return []
    songs = [song for url in urls for song in _playlist_songs(urllib.parse.unquote(url))]
    charts = [chart_of(song, path, number, report) for number, song in enumerate(songs, start=1)]
    return [chart for chart in charts if chart is not None]


def _playlist_songs(decoded: str) -> list[str]:
    """The song texts of one decoded ``irealb://`` link (the last ``===`` part is the playlist's name)."""
    parts = decoded.split("===")
    return [part for part in (parts[:-1] if len(parts) > 1 else parts) if part.strip("= ")]


def _composer_words(composer: str) -> set[str]:
    """The words naming a chart's people, parenthesised ones too (``Willie Nelson (Fred Rose)``)."""
    return set(normalise_title(re.sub(r"[()\[\]]", " ", composer)).split()) - {"and", "the", "a", "of"}


def deduplicate(charts: list[IrealChart]) -> list[IrealChart]:
    """One chart per song: the same normalised title and composers sharing a word (or one unknown).

    The first chart is kept (playlists are read in :data:`PLAYLISTS` order); it lists every playlist.
    """
    kept: list[IrealChart] = []
    by_title: dict[str, list[int]] = {}
    for chart in charts:
        title, words = normalise_title(chart.title), _composer_words(chart.composer)
        match = next((i for i in by_title.get(title, [])
                      if not words or not _composer_words(kept[i].composer) or words & _composer_words(kept[i].composer)),
                     None)
        if match is None:
            by_title.setdefault(title, []).append(len(kept))
            kept.append(chart)
        elif chart.playlists[0] not in kept[match].playlists:
            kept[match] = replace(kept[match], playlists=kept[match].playlists + chart.playlists)
    return kept


def playlist_files(folder: Path) -> list[Path]:
    """The playlist files of the folder: the known ones in :data:`PLAYLISTS` order, then any other ``.txt``/``.html``."""
    known = [folder / name for name in PLAYLISTS if (folder / name).is_file()]
    others = sorted(path for path in folder.iterdir() if path.suffix in (".txt", ".html")
                    and path.name not in PLAYLISTS and path.name not in NOT_PLAYLISTS)
    return known + others


def ireal_charts(folder: Path, report: BuildReport) -> list[IrealChart]:
    """Every unique chart of the ``ireal-playlists`` folder; raises :class:`InputError` when the folder is unusable."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder: expected the iReal Pro playlists ({', '.join(PLAYLISTS)})")
    files = playlist_files(folder)
    if not files:
        raise InputError(f"{folder} holds no playlist file (.txt or .html with an irealb:// link)")
    charts = [chart for path in files for chart in read_playlist(path, report)]
    if not charts:
        raise InputError(f"{folder}: no readable iReal Pro chart in {', '.join(path.name for path in files)}")
    return deduplicate(charts)


def song_of_chart(chart: IrealChart) -> Song:
    """A chart as a plain :class:`Song`: one segment per section occurrence, chords in played order."""
    segments = [
        Segment(chords=[timed.chord for timed in section.timed_chords()], key_tonic=chart.key_tonic,
                scale_type=chart.scale_type, section=section.label)
        for section in chart.sections
    ]
    return Song(source=SOURCE, song_id=chart.song_id, title=chart.title, artist=chart.composer, genre=chart.genre,
                genre_raw=chart.style, subgenre=chart.style, segments=segments)


def ireal_songs(folder: Path, report: BuildReport) -> list[Song]:
    """Every unique chart of the ``ireal-playlists`` folder as a :class:`Song` (see :func:`ireal_charts`)."""
    return [song_of_chart(chart) for chart in ireal_charts(folder, report)]
