"""Which stored story each article of a file is: the evidence, most certain first.

Pure functions over one file's articles as read and its entries as stored; `corpus` asks them
while it identifies what it read, and keeps every id they give back.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Mapping

from feedsvc.model import Article, Entry
from feedsvc.state import StoredEntry
from feedsvc.text import name_key


def _body(article: Article) -> object:
    return article.body_hash


def _entry_body(entry: Entry) -> object:
    return entry.body_hash


#: Evidence that a new article is an old entry of the same file, most certain first; the
#: third value: only where the value is one article's and one entry's alone.
RULES: tuple[tuple[Callable[[Article], object], Callable[[Entry], object], bool], ...] = (
    (lambda a: a.id, lambda e: e.id, False),  # a front-matter id
    (lambda a: a.content_hash, lambda e: e.content_hash, False),  # nothing changed
    # the title was edited: a body alike says more than a title alike (titles repeat: "Morning
    # briefing"; a story deleted and another given its headline), if no other has it (stubs
    # of breaking news share "More to follow.")
    (_body, _entry_body, True),
    # the body was edited (a discovered section may be stored in another case:
    # `corpus._Lookups.spellings`)
    (
        lambda a: (name_key(a.section), a.title),
        lambda e: (name_key(e.section), e.title),
        False,
    ),
    (_body, _entry_body, False),  # the title was edited, the body one that others share
)


def match(
    articles: list[Article],
    old: list[StoredEntry],
    saved_body: Callable[[str], str | None],
    *,
    refused: bool = False,
    paired: Collection[int] = (),
    held: Collection[str] = (),
    removed: bool = False,
    published: Callable[[Article, frozenset[str]], bool] = lambda article, own: False,
) -> dict[int, StoredEntry]:
    """Pair new articles with old entries of the same file, most certain evidence first. The
    articles at the ordinals `paired` have their entries already: they take none of these.
    `refused`: the file as read refused an article, or itself (`corpus._refuses`): its
    positions say little. `held`: the ids of the file's entries held
    (`corpus._remove_or_hold`). `removed`: `old` are
    entries removed from the file earlier, their positions those of the file then.
    `published`: whether the store knows an article otherwise (a story moved or copied here,
    or put back), told the article's own paragraphs (not the lines it shares with stories
    paired already, such as a sign-off): it takes its own entry later, not another's by its
    place."""
    matches: dict[int, StoredEntry] = {}
    unpaired = [(o, article) for o, article in enumerate(articles) if o not in paired]
    free = {id(stored): stored for stored in old}  # in the file's order, as stored
    for article_key, entry_key, alone in RULES:
        if alone:  # among every article and every old entry of the file, matched or not
            counted = Counter(entry_key(s.entry) for s in old)
            counted.update(article_key(a) for a in articles)
        # each rule looks its key up: a file of thousands of stories rewritten whole would
        # otherwise compare every article with every entry, rule by rule
        waiting = _by(free.values(), entry_key)
        for ordinal, article in unpaired:
            wanted = article_key(article)
            if ordinal in matches or wanted is None or (alone and counted[wanted] != 2):
                continue
            if found := waiting.get(wanted):
                matches[ordinal] = found.popleft()
                del free[id(matches[ordinal])]
    # Last resort: the same place in the file (the title and the body both edited): its
    # position, then where the story next to it moved it down (`_shifted`). A file with an
    # error may lack an article that it still holds, broken (see `corpus._remove_or_hold`):
    # positions say little then, but a title a typo away at the same one still does (held
    # beside a new entry, the story would be shown twice); a body rewritten is no evidence
    # there.
    left = [(o, a) for o, a in unpaired if o not in matches and a.id is None]
    if not left:
        return matches  # the usual edit: every article matched by its title or its body

    # the same-story rule, the ranking, and the shift's checks each ask for an entry's body
    @functools.cache
    def kept_lines(content_hash: str) -> frozenset[str] | None:
        body = saved_body(content_hash)
        return None if body is None else paragraphs(body)

    places = _places(old, held)
    stored_at = _by(old, lambda entry: entry.ordinal)
    shifted = {} if removed else _shifted(len(articles), matches)
    lines = [paragraphs(article.body) for article in articles]
    #: how many articles of the file hold each paragraph; one more than one holds is a desk's
    #: sign-off, a standing line, in every story and evidence of none
    holders = Counter(p for held in lines for p in held)
    shared = {paragraph for paragraph, count in holders.items() if count > 1}

    def best(ordinal: int, article: Article, shifting: bool) -> StoredEntry | None:
        """The entry at the article's own position (or, `shifting`, where the story next to
        it moved it) that is the same story: of two there (one held at its own place, one
        moved up into it), the one whose paragraphs it kept more of."""
        there = stored_at.get(shifted[ordinal], ()) if shifting else places.get(ordinal, ())
        return max(
            (
                s
                for s in there
                if id(s) in free
                and (
                    typo_fixed(s.entry.title, article.title)
                    if refused
                    else same_story(s.entry, article.title, lines[ordinal], kept_lines, shared)
                )
            ),
            key=lambda s: _kept(s.entry, lines[ordinal], kept_lines, shared),
            default=None,
        )

    # Every article at its own position first: one moved there must not take an entry from
    # the article standing at it.
    for ordinal, article in left:
        if (at_position := best(ordinal, article, shifting=False)) is not None:
            matches[ordinal] = at_position
            del free[id(at_position)]
    # Then where the stories next to it moved it, stories added above them all (`_shifted`):
    # only for the one article that reaches an entry there, holding no paragraph of another
    # entry still free, and none of it that another article holds (a follow-up quoting the
    # story, beside its rewrite, is neither). A line that stories paired already hold (a
    # desk's sign-off, or their quote) says nothing of which story an article is.
    paired_lines = {p for o in matches for p in lines[o]}
    own = {o: lines[o] - paired_lines for o, _ in left if o in shifted}
    telling = Counter({p: n for p, n in holders.items() if p not in paired_lines})
    claims: dict[int, list[tuple[int, StoredEntry]]] = {}
    for ordinal, article in left:
        if ordinal in matches or ordinal not in shifted or published(article, own[ordinal]):
            continue  # no story next to it kept (a file rewritten whole), or known otherwise
        if (reached := best(ordinal, article, shifting=True)) is not None:
            claims.setdefault(id(reached), []).append((ordinal, reached))
    unpaired_now = [article for ordinal, article in left if ordinal not in matches]
    kept_by = _kept_by(free.values(), kept_lines) if claims else {}
    for (ordinal, stored), *rivals in claims.values():
        article = articles[ordinal]
        also = {id(s) for p in own[ordinal] for s in kept_by.get(p, ())}
        if (
            not rivals
            and also <= {id(stored)}  # none of another story's paragraphs: that one rewritten
            and not _quoted_elsewhere(
                stored, article, lines[ordinal], unpaired_now, telling, kept_lines
            )
        ):
            matches[ordinal] = stored
            del free[id(stored)]
    return matches


#: an entry's paragraphs, by its content hash, as far as its body was kept (None: no feed
#: showed it); `match` reads and splits each body once
KeptLines = Callable[[str], frozenset[str] | None]


def _kept_by(entries: Iterable[StoredEntry], kept_lines: KeptLines) -> dict[str, list[StoredEntry]]:
    """The entries holding each paragraph, as far as their bodies were kept."""
    holding: dict[str, list[StoredEntry]] = {}
    for stored in entries:
        for paragraph in kept_lines(stored.entry.content_hash) or ():
            holding.setdefault(paragraph, []).append(stored)
    return holding


def _quoted_elsewhere(
    stored: StoredEntry,
    article: Article,
    mine: frozenset[str],
    unpaired: list[Article],
    holders: Counter[str],
    kept_lines: KeptLines,
) -> bool:
    """Whether an article of the file other than `article` (whose paragraphs are `mine`)
    holds a paragraph of `stored` (as counted in `holders`), or, of those `unpaired`, its
    title a typo away: the story rewritten there, or quoted."""
    if any(holders[p] > (p in mine) for p in kept_lines(stored.entry.content_hash) or ()):
        return True
    title = stored.entry.title
    return any(
        other is not article
        and abs(len(other.title) - len(title)) <= _TYPO  # difflib for few: a cheap bound
        and typo_fixed(title, other.title)
        for other in unpaired
    )


def _shifted(count: int, matches: Mapping[int, StoredEntry]) -> dict[int, int]:
    """For the articles not matched, the position (as stored) each had if it moved down as
    the stories just above and below it did, when they were matched: stories added above a
    rewritten one move it and them alike, not it out of its place. None where they moved up
    (stories deleted above: a file's stories replaced but its last, say, would put each new
    one in an old one's place) or apart (a story added or deleted between them)."""
    shifted: dict[int, int] = {}
    for ordinal in range(count):
        moves = {
            next_to - matches[next_to].entry.ordinal
            for next_to in (ordinal - 1, ordinal + 1)
            if next_to in matches
        }
        if ordinal not in matches and len(moves) == 1 and (moved := moves.pop()) > 0:
            shifted[ordinal] = ordinal - moved
    return shifted


def _places(old: list[StoredEntry], held: Collection[str]) -> dict[int, list[StoredEntry]]:
    """The entries that may stand at each position of their file, in stored order: an entry
    at its position as stored, or, read while stories above it were held (refused, kept at
    their own positions), one further down for each of them."""
    held_at = [s.entry.ordinal for s in old if s.entry.id in held]
    places: dict[int, list[StoredEntry]] = {}
    for stored in old:
        at = where = stored.entry.ordinal
        while stored.entry.id not in held:
            further = at + sum(h <= where for h in held_at)
            if further == where:
                break
            where = further
        for place in {at, where}:
            places.setdefault(place, []).append(stored)
    return places


def _by(
    entries: Iterable[StoredEntry], key: Callable[[Entry], object]
) -> dict[object, deque[StoredEntry]]:
    """`entries` grouped by `key` of each entry, each group in their order."""
    groups: dict[object, deque[StoredEntry]] = {}
    for stored in entries:
        groups.setdefault(key(stored.entry), deque()).append(stored)
    return groups


def _kept(old: Entry, lines: frozenset[str], kept_lines: KeptLines, shared: set[str]) -> int:
    """How many of `old`'s paragraphs an article of paragraphs `lines` kept (as far as its
    body was kept to tell)."""
    return len(((kept_lines(old.content_hash) or frozenset()) - shared) & lines)


def same_story(
    old: Entry,
    title: str,
    lines: frozenset[str],
    kept_lines: KeptLines,
    shared: set[str],
) -> bool:
    """In an article's place in its file, a new `title` and a new body (its `paragraphs`,
    `lines`): the story rewritten, or another story put there, which readers must get as new?
    The same story if its title had a typo fixed (`typo_fixed`), or if a paragraph stayed (the
    old body is kept for the entries the feeds show; an edited file's articles keep their
    bodies for this). A title's number or date changed makes the next edition of a story that
    had paragraphs to keep; a stub's ("Quake kills 12", "More to follow.") is its figure
    updated. A paragraph the file's other articles hold too (`shared`) is no evidence."""
    kept = kept_lines(old.content_hash)
    if typo_fixed(old.title, title, editions=kept != frozenset()):  # a stub's, figures change
        return True
    if not kept:
        return False
    return not (kept - shared).isdisjoint(lines)


#: characters changed in a title with a typo fixed: "Ukraine" to "Israel" is another story
_TYPO = 3
#: a title's word, changed into another such, makes the next edition ("Morning briefing:
#: Sunday" to "...: Monday", "3 June" to "4 June"), however few characters change
_EDITIONS = frozenset(
    (
        *("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        *("january", "february", "march", "april", "may", "june", "july", "august"),
        *("september", "october", "november", "december", "today", "tomorrow", "yesterday"),
    )
)


def typo_fixed(before: str, after: str, editions: bool = True) -> bool:
    """A title edited by a few characters ("Tokio" to "Tokyo", "Jnue" to "June", "G7" to
    "G7s": a typo); with `editions`, not by its numbers, nor by a day's or month's name
    changed into another (the next edition)."""
    if _characters_changed(before, after) > _TYPO:
        return False
    if not editions:
        return True
    if re.findall(r"\d+", before) != re.findall(r"\d+", after):
        return False
    old, new = (
        Counter(re.findall(r"\w+", before.lower())),
        Counter(re.findall(r"\w+", after.lower())),
    )
    return not (_EDITIONS.intersection(old - new) and _EDITIONS.intersection(new - old))


def _characters_changed(before: str, after: str) -> int:
    """How many characters an edit from `before` to `after` replaced, added or removed: as
    seen (a title saved again decomposed, "é" as "e" and an accent, changed none)."""
    before, after = unicodedata.normalize("NFC", before), unicodedata.normalize("NFC", after)
    opcodes = difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes()
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in opcodes if tag != "equal")


def paragraphs(body: str) -> frozenset[str]:
    """A body's paragraphs (or Markdown's lines) long enough to say something: a shared `---`,
    code fence or photo credit is no evidence of the same story."""
    lines = (line.strip() for line in body.split("\n"))
    return frozenset(line for line in lines if len(line) >= _EVIDENCE)


#: characters a paragraph needs to count in `same_story`
_EVIDENCE = 30
