"""Article files → articles and problems: the two formats, and every kind of bad input."""

from __future__ import annotations

import ast
import dataclasses
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from markdown_it import MarkdownIt

from feedsvc import readers
from feedsvc.markup import first_paragraph, to_html
from feedsvc.readers import ReaderSettings, front_matter_syntax, read_bytes
from feedsvc.text import SLUG_MOST, has_forbidden, has_forbidden_utf8, slugify, unique
from tests.conftest import SAMPLE, SECTIONS

PARIS = ZoneInfo("Europe/Paris")
SETTINGS = ReaderSettings(tuple(SECTIONS), allow_new_sections=False, timezone=PARIS)


def read(text: str | bytes, name: str = "a.txt", settings: ReaderSettings = SETTINGS):  # type: ignore[no-untyped-def]
    data = text.encode("utf-8") if isinstance(text, str) else text
    return read_bytes(name, data, settings)


def messages(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{p.line}:{p.severity}:{p.message}" for p in result.problems]


# -- the sample file -------------------------------------------------------------------------


def test_the_sample_gives_exactly_four_america_articles() -> None:
    result = read(SAMPLE.read_bytes(), SAMPLE.name)
    assert result.problems == ()
    assert [a.section for a in result.articles] == ["America"] * 4
    assert [a.title for a in result.articles] == [
        "Coup d’état plan in Venezuela orchestrated with the US support",
        "Pentagon removes all bureaucratic hurdles for drone production",
        "Trump to send more weapons to Ukraine via NATO allies",
        "US used pro-Israel Canary Mission website for deportation efforts, records show",
    ]
    assert [len(a.body.split("\n")) for a in result.articles] == [27, 8, 15, 37]
    assert [a.line for a in result.articles] == [1, 31, 42, 60]


def test_the_related_block_is_data_not_an_entry() -> None:
    result = read(SAMPLE.read_bytes(), SAMPLE.name)
    related = result.articles[0].related
    assert len(related) == 8
    assert related[0].section == "Europe"
    assert related[0].age == "2 weeks ago"
    assert related[1].section == "Middle East"
    assert related[1].age == "3 days ago"
    bodies = "\n".join(a.body for a in result.articles)
    assert "BlackRock halts work" not in bodies
    assert "Europe2 weeks ago" not in bodies
    assert all(a.related == related for a in result.articles)


@pytest.mark.parametrize(
    "section",
    [
        *("Middle East", "U.S.", "العالم", "国际", "Latin America & Caribbean", "World news"),
        *("Science, Tech & Health", "Life and style", "eSports", "Iran (Islamic Republic of)"),
        "Europe ",  # written apart, as a section the site knows may be
    ],
)
def test_related_headlines_of_sections_named_any_way_are_read(section: str) -> None:
    text = f"Europe\nTalks resume\n\nFirst paragraph.\n-\n{section}2 days ago\nThe bill passes\n"
    (article,) = read(text).articles  # none of them configured but Middle East and Europe
    assert article.body == "First paragraph."
    assert [(r.section, r.title) for r in article.related] == [(section.strip(), "The bill passes")]


@pytest.mark.parametrize(
    "sentence",
    [
        "The final communique was published today",
        "Voting closed, officials said today",
        "Polls close today",
        "It rained 3 days ago",
        "Protests in Tbilisi today",
        "Updated 2 hours ago",
        "He moved to Canada years ago",  # "Canad", "a years ago"
        "Rome was founded 2,700 years ago",
        "The talks failed 1.5 years ago",
        "We must adjust now",  # "ad", "just now"
    ],
)
def test_a_sentence_ending_in_an_age_after_a_dash_is_body_not_a_related_headline(
    sentence: str,
) -> None:
    body = f"Leaders left Brussels.\n-\n{sentence}\nTalks resume."
    (article,) = read(f"Europe\nSummit ends without a deal\n\n{body}\n").articles
    assert (article.body, article.related) == (body, ())


def test_a_related_block_belongs_to_the_articles_above_it() -> None:
    first = "Europe\nFirst story\n\nBody one.\n-\nAsia2 weeks ago\nAn older headline\n"
    second = "Asia\nSecond story\n\nBody two.\n-\nEurope3 days ago\nA related headline\n"
    merged = read(first + "\n" + second)  # two sample files concatenated
    assert [(a.title, a.body) for a in merged.articles] == [
        ("First story", "Body one."),
        ("Second story", "Body two."),
    ]
    assert [[r.title for r in a.related] for a in merged.articles] == [
        ["An older headline"],
        ["A related headline"],
    ]
    assert merged.problems == ()
    spaced = first.replace("-\n", "\n-\n") + "\n-\nEurope1 day ago\nA second one\n\n" + second
    assert [[r.title for r in a.related] for a in read(spaced).articles] == [
        ["An older headline", "A second one"],  # blank lines between, as a last block may have
        ["A related headline"],
    ]
    # a paragraph that is only "-", then one that ends in "today" (and one more), is no block
    # either: a block inside a file names configured sections
    for end in ("", "Then it was postponed.\n"):
        text = (
            f"Europe\nFirst\n\nBody.\n-\nThe vote is expected today\n{end}\nAsia\nSecond\n\nMore.\n"
        )
        first, second = read(text).articles
        assert first.body == ("Body.\n-\nThe vote is expected today\n" + end).strip()
        assert (second.body, first.related, second.related) == ("More.", (), ())


def test_an_article_appended_below_the_block_leaves_the_articles_above_as_they_were() -> None:
    before = read(SAMPLE.read_bytes(), SAMPLE.name)
    appended = SAMPLE.read_bytes() + b"\nAsia\nA late story\n\nIt came after the block.\n"
    after = read(appended, SAMPLE.name)
    assert after.articles[:-1] == before.articles  # bodies, related blocks, hashes
    assert (after.articles[-1].title, after.articles[-1].related) == ("A late story", ())
    assert after.problems == before.problems == ()


def test_content_hashes_stay_what_earlier_releases_stored() -> None:
    # Stored hashes decide whether an entry changed: a new formula would move every entry's
    # `updated` after an upgrade, and feed readers would show the whole archive as edited.
    first = read(SAMPLE.read_bytes(), SAMPLE.name).articles[0]
    assert (first.body_hash, first.content_hash) == (
        "99d820c426709337cad200a925162548",
        "2ce8718601598ce41c44ee239e7b5e1e",
    )
    md = "---\ntitle: T\nsection: Asia\nauthor: A\nsummary: S\ntags: [x, y]\n---\nBody.\n"
    article = read(md, "a.md").articles[0]
    assert article.content_hash == "c1dbb55cbd2f629da987dc896f67abfe"
    # what a worker sends back keeps them
    bare = article.without_body()
    assert (bare.body, bare.body_hash, bare.content_hash) == (
        "",
        article.body_hash,
        article.content_hash,
    )


GLUED = (
    "5:warning:a section line inside the article 'Title one', read as one of its paragraphs; "
    "if a new article starts here, put a blank line after its title"
)


def test_a_section_name_inside_a_body_does_not_start_an_article_but_is_pointed_out() -> None:
    text = "Europe\nTitle one\n\nFirst paragraph.\nAsia\nStill the same article.\n"
    result = read(text)
    assert [a.title for a in result.articles] == ["Title one"]
    assert result.articles[0].body == "First paragraph.\nAsia\nStill the same article."
    assert messages(result) == [GLUED]  # the blank line under a title forgotten, maybe


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("Europe\nTitle one\n\nFirst paragraph.\n \tasia \nSecond title\nIts body.\n", [GLUED]),
        ("Europe\nTitle one\n\nAsia\nSecond title\nIts body.\n", [GLUED.replace("5:", "4:")]),
        ("Europe\nTitle one\n\nFirst paragraph.\nThe Asia desk\nMore.\n", []),
        ("Europe\nTitle one\n\nFirst paragraph.\nAsia\n", []),  # nothing after it
    ],
    ids=["glued", "first paragraph", "inside a line", "last line"],
)
def test_only_a_section_line_above_text_is_pointed_out(text: str, problems: list[str]) -> None:
    assert messages(read(text)) == problems


TREATY = "Diplomacy\nTreaty signed\n\nDelegates met.\nIt holds.\n\n"


@pytest.mark.parametrize(
    ("line", "meant", "title"),
    [
        ("Midle East", "Middle East", "Ceasefire talks resume"),
        ("Aisa", "Asia", "Ceasefire talks resume"),
        ("aisa", "Asia", "Ceasefire talks resume"),  # lower case, as "asia" opens one
        ("Aisa", "Asia", "China overtakes the U.S."),  # an abbreviation's period
    ],
    ids=["two words", "swapped letters", "lower case", "title ending in U.S."],
)
def test_a_misspelt_section_line_inside_a_file_is_an_error_and_glues_nothing(
    line: str, meant: str, title: str
) -> None:
    """Its story is refused, as on a file's first line: read as paragraphs, it would be
    published inside the story above, and a feed item cannot be taken back."""
    result = read(f"{TREATY}{line}\n{title}\n\nNegotiators returned.\n")
    assert [(a.title, a.body) for a in result.articles] == [
        ("Treaty signed", "Delegates met.\nIt holds.")
    ]
    assert messages(result) == [
        f"7:error:section {line!r} is not configured; spell it as configured: {meant!r}?"
    ]


def test_lines_in_lower_case_in_a_body_are_paragraphs_unless_a_section_misspelt() -> None:
    """Verse, a lyric, a list: short lines in lower case are no section line, and not said as
    one; only a near miss of a section is refused ("aisa", above)."""
    text = f"{TREATY}The minister quoted a song:\nwe will\nnot give up\n\nHe left the room.\n"
    result = read(text)
    assert [a.title for a in result.articles] == ["Treaty signed"]
    assert messages(result) == []


def test_a_misspelt_section_line_with_its_story_yet_to_come_is_refused_too() -> None:
    """A save halfway through the new story: its title would be published as the last
    paragraphs of the one above."""
    result = read(f"{TREATY}Aisa\nMonsoon arrives\n\n")
    assert [(a.title, a.body) for a in result.articles] == [
        ("Treaty signed", "Delegates met.\nIt holds.")
    ]
    assert messages(result) == [
        "7:error:section 'Aisa' is not configured; spell it as configured: 'Asia'?"
    ]


@pytest.mark.parametrize(
    ("line", "below"),
    [
        ("Midle East", "Negotiators returned on Monday."),
        ("Midle East:", "Talks in Doha"),
        ("Americans", "What does it mean for Washington?"),
        ("AMERICANS", "What does it mean for Washington?"),
    ],
    ids=["above a sentence", "a label", "a word made of a section's name", "in capitals"],
)
def test_a_near_miss_of_a_section_not_shaped_as_an_opening_is_a_paragraph_and_said(
    line: str, below: str
) -> None:
    """A sentence below it, a sentence's punctuation in it, or a subheading in a body spaced
    out with blank lines ("Americans"): a paragraph, maybe, so it is read as one; said all the
    same."""
    result = read(f"{TREATY}{line}\n{below}\n\nMore.\n")
    assert [a.title for a in result.articles] == ["Treaty signed"]
    assert result.articles[0].body.splitlines()[2:4] == [line, below]
    meant = "America" if line.lower() == "americans" else "Middle East"
    assert messages(result) == [
        f"7:warning:{line!r} is read as a paragraph: no section is named so; if a new "
        f"article starts here, spell its section as configured ({meant!r}?)"
    ]


def test_a_related_headline_named_as_a_section_is_a_headline() -> None:
    result = read(
        "Diplomacy\nTalks resume in Geneva\n\nDelegates met on Monday.\n"
        "-\nEurope2 weeks ago\nAsia\n\n-\nAsia3 days ago\nChina, US reach agreement\n"
    )
    (article,) = result.articles
    assert article.body == "Delegates met on Monday."
    assert [h.title for h in article.related] == ["Asia", "China, US reach agreement"]
    assert result.problems == ()


def test_an_article_whose_title_was_cleared_is_an_error_and_glued_to_nothing() -> None:
    """A save halfway through a new headline: the file is in error, so it keeps what it
    published (`corpus`), and the article above keeps its own body."""
    result = read("Diplomacy\nTreaty signed\n\nDelegates met.\n\nMiddle East\n\nNegotiators.\n")
    assert [(a.title, a.body) for a in result.articles] == [("Treaty signed", "Delegates met.")]
    assert messages(result) == [
        "6:error:a section line followed by a blank line: an article without its title; put its "
        "title on the line after 'Middle East'"
    ]


@pytest.mark.parametrize("allow_new_sections", [False, True])
def test_an_article_in_a_section_not_configured_inside_a_file_is_said(
    allow_new_sections: bool,
) -> None:
    """Only a file's first line opens a section not configured: further down, its lines join
    the article above, never silently."""
    text = "Europe\nHost story\n\nHost body.\nSports\nCup final tonight\n\nGoal scored.\n"
    settings = dataclasses.replace(SETTINGS, allow_new_sections=allow_new_sections)
    result = read_bytes("a.txt", text.encode(), settings)
    assert [a.title for a in result.articles] == ["Host story"]
    (problem,) = result.problems
    assert (problem.line, problem.severity) == (5, "warning")
    assert problem.message.startswith("'Sports' and the line after it are read as paragraphs")
    assert 'name = "Sports"' in problem.message
    assert ("start a file with it" in problem.message) == allow_new_sections


@pytest.mark.parametrize(
    "end",
    [
        "By Jane Doe\nin Brussels\n\n",  # a byline, then the file's end
        "By Jane Doe\nin Brussels\n\n-\nAsia2 weeks ago\nAn older headline\n",  # the block
        "Jane Doe\nBrussels correspondent\n\nAsia\nNext story\n\nIts body.\n",  # an article
    ],
    ids=["end", "related block", "next article"],
)
def test_a_byline_above_a_blank_line_is_no_article_in_a_section_not_configured(
    end: str,
) -> None:
    assert messages(read("Europe\nA story\n\nIts body.\n" + end)) == []


def test_paragraphs_above_a_blank_line_are_only_paragraphs() -> None:
    text = "Asia\nTitle\n\nOne paragraph.\nAnother one, then a blank line.\n\nA third.\n"
    assert messages(read(text)) == []
    assert messages(read("Asia\nTitle\n\nOne.\nA short line\nTwo.\n\nThree.\n")) == []


def test_text_before_the_first_article_is_an_error_on_its_line() -> None:
    result = read(
        "\nA note to the desk,\nover lines,\nthree of them.\n\nAsia\nTitle two\n\nBody.\n"
    )
    assert [a.title for a in result.articles] == ["Title two"]
    assert messages(result) == [
        "2:error:text before the first article is not read; delete it, or start an article "
        f"here with a section line (one of: {', '.join(SECTIONS)})"
    ]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Asia\n", "1:error:'Asia' alone: put the article's title on the next line"),
        (
            "Asia\nOnly a title\n",
            "2:error:the article has a title but no body; add a blank line, then its text",
        ),
        (
            "\nEurope\nTitle one\nFirst paragraph.\n\nAsia\nTitle two\n\nBody.\n",
            "4:error:put a blank line between the title and the article's text",
        ),
        (
            "Asia\n\nThe title was cleared.\n\nAsia\nSecond\n\nBody two.\n",
            "2:error:a section line followed by a blank line: an article without its title; put "
            "its title on the line after 'Asia'",
        ),
        (
            "Asia\n\nThe title was cleared.\n",
            "2:error:a section line followed by a blank line: an article without its title; put "
            "its title on the line after 'Asia'",
        ),
        (
            "Europe\nA title, its text not written yet\nAsia\nSecond\n\nBody two.\n",
            "2:error:the article has a title but no body; add a blank line, then its text",
        ),
    ],
    ids=[
        "section-alone",
        "title-alone",
        "no-blank-line",
        "title-cleared",
        "title-cleared-alone",
        "title-alone-above-another",
    ],
)
def test_a_first_article_that_does_not_read_is_told_its_slip(text: str, said: str) -> None:
    """Each was told "no article found; an article starts with a section line" though the
    file started with one, or to put a blank line after a title it no longer had."""
    assert said in messages(read(text))


def test_section_lines_match_ignoring_case_and_outer_spaces() -> None:
    result = read("  middle east  \nA title\n\nBody.\n")
    assert result.articles[0].section == "Middle East"
    # however much padding, and not only on a file's first line
    padded = "Asia\nFirst\n\nOne.\n" + " " * 12 + "Europe" + " " * 14 + "\nSecond\n\nTwo.\n"
    assert [a.section for a in read(padded).articles] == ["Asia", "Europe"]
    related = "Asia\nTitle\n\nBody.\n\n" + " " * 9 + "-\nEurope2 weeks ago\nOlder story\n"
    article = read(related).articles[0]
    assert article.body == "Body." and [r.title for r in article.related] == ["Older story"]


def test_section_names_match_as_written_in_any_unicode_form_or_spacing() -> None:
    """A no-break space pasted from the web, or an editor that saves "Türkiye" decomposed, names
    the configured section: no second feed, and no story glued to the one above."""
    settings = ReaderSettings(("Middle East", "Türkiye"), allow_new_sections=True, timezone=PARIS)
    text = "Türkiye\nFirst\n\nOne.\nMiddle\u00a0 East\nSecond\n\nTwo.\n"
    result = read(unicodedata.normalize("NFD", text), settings=settings)
    assert [a.section for a in result.articles] == ["Türkiye", "Middle East"]
    assert result.problems == ()
    md = "---\ntitle: Third\nsection: tu\u0308rkiye\n---\nThree.\n"
    assert read(md, "b.md", settings).articles[0].section == "Türkiye"
    glued = "Türkiye\nFirst\n\nOne.\nMiddle\u00a0East\nSecond\nTwo.\n"  # no blank line
    assert "blank line" in str(read(glued, settings=settings).problems)


@pytest.mark.parametrize(
    "data",
    [b"\xef\xbb\xbfAsia\r\nA title\r\n\r\nOne.\r\nTwo.\r\n", b"Asia\rA title\r\rOne.\rTwo.\r"],
    ids=["bom-crlf", "old-mac-cr"],
)
def test_bom_crlf_and_lone_cr_are_accepted_silently(data: bytes) -> None:
    result = read(data)
    assert result.problems == ()
    assert result.articles[0].title == "A title"
    assert result.articles[0].body == "One.\nTwo."


def test_plain_text_paragraphs_are_escaped_and_questions_stand_out() -> None:
    body = "Is <b>this</b> escaped?\nA & B said <script>x</script>."
    assert to_html(body, "text", "https://news.example/articles/a/") == (
        "<p><strong>Is &lt;b&gt;this&lt;/b&gt; escaped?</strong></p>\n"
        "<p>A &amp; B said &lt;script&gt;x&lt;/script&gt;.</p>"
    )
    assert first_paragraph(body, "text") == "Is <b>this</b> escaped?"


def test_a_long_paragraph_ending_in_a_question_mark_is_no_interview_question() -> None:
    """Questions are shown in bold: a whole long paragraph that happens to end in one is not."""
    long = "Nobody in the delta could say " + "where the water would go next, " * 10 + "could they?"
    assert len(long) > 300
    assert to_html(long, "text", "https://x/") == f"<p>{long}</p>"


@pytest.mark.parametrize("question", ["你怎么看？", "ما رأيك؟"])
def test_a_question_in_chinese_or_arabic_stands_out_too(question: str) -> None:
    assert to_html(f"{question}\nAn answer.", "text", "https://x/").startswith(
        f"<p><strong>{question}</strong></p>"
    )


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\n  \t\n"])
def test_an_empty_file_is_an_error(text: str) -> None:
    result = read(text)
    assert result.articles == ()
    assert messages(result) == ["None:error:the file is empty; add an article or delete the file"]


def test_a_title_without_a_body_is_an_error_and_the_next_article_survives() -> None:
    result = read("Asia\nNo body here\n\nAsia\nSecond\n\nIts body.\n")
    # "No body here" has only a blank line before the next article start.
    assert [a.title for a in result.articles] == ["Second"]
    assert any("'No body here' has a title but no body" in m for m in messages(result))
    assert result.problems[0].line == 1


def test_an_unconfigured_section_is_reported_with_the_fix() -> None:
    result = read("Sports\nMatch report\n\nGoal.\n")
    assert result.articles == ()
    assert messages(result) == [
        "1:error:section 'Sports' is not configured; add a [[sections]] entry with "
        'name = "Sports" to config.toml, or set content.allow_new_sections = true'
    ]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Midle East\nTalks resume\n\nBody.\n", "a.txt"),
        ("---\ntitle: Talks resume\nsection: Diplomcy\n---\nBody.\n", "a.md"),
        ("Aisa\nMonsoon\n\nBody.\n", "b.txt"),  # two letters swapped in a short name
        ("Asai\nMonsoon\n\nBody.\n", "b.txt"),
    ],
)
def test_a_misspelt_section_is_told_its_spelling_not_to_configure_it(text: str, name: str) -> None:
    """Adding the misspelt name as a section, as the message said, made feeds of the typo."""
    (message,) = [p.message for p in read(text, name).problems]
    meant = {"a.txt": "Middle East", "a.md": "Diplomacy", "b.txt": "Asia"}[name]
    assert message.endswith(f"is not configured; spell it as configured: {meant!r}?")


@pytest.mark.parametrize("line", ["Aias", "Iasa", "Ais", "Aais", "Axya", "Aiza", "Aisb"])
def test_letters_swapped_apart_or_lost_in_a_short_name_are_no_near_miss(line: str) -> None:
    """Only two neighbours swapped: a short word further off is more likely a paragraph."""
    assert SETTINGS.section_like(line, swapped=True) is None


def test_a_body_line_with_two_letters_swapped_is_no_section_line() -> None:
    """In a body, short words read so ("Rats" for "Arts"): said only of a line that opens an
    article, above a title (`test_a_misspelt_section_line_inside_a_file_is_an_error...`)."""
    assert SETTINGS.section_like("Aisa", swapped=True) == "Asia"
    assert SETTINGS.section_like("Aisa") is None
    text = "Europe\nTalks\n\nFirst paragraph.\nAisa\nThe monsoon arrives.\n\nRain fell.\n"
    result = read(text)
    assert result.problems == ()
    assert result.articles[0].body.splitlines()[1] == "Aisa"


def test_new_sections_can_be_allowed() -> None:
    settings = ReaderSettings(tuple(SECTIONS), allow_new_sections=True, timezone=PARIS)
    result = read("Sports\nMatch report\n\nGoal.\n", settings=settings)
    assert [a.section for a in result.articles] == ["Sports"]


def test_a_binary_file_is_skipped_with_where_its_first_nul_is() -> None:
    """A stray NUL in a text file (a disk, a bad copy) is said on its line, not the file's."""
    fix = "If it is text: saved as UTF-16 without its mark, save it as UTF-8; a few stray NULs, "
    fix += "remove them"
    result = read(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert result.articles == ()
    assert messages(result) == [
        f"3:error:binary file (3 NUL byte(s), the first on this line); skipped. {fix}"
    ]
    result = read(b"Asia\nA story\n\nOne.\nTw\x00o.\n")
    assert result.articles == ()
    assert messages(result) == [
        f"5:error:binary file (1 NUL byte(s), the first on this line); skipped. {fix}"
    ]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf_16_with_its_mark_is_read_with_a_warning(encoding: str) -> None:
    assert "binary file" in messages(read("Europe\nT\n\nB.\n".encode("utf-32")))[0]  # not it
    text = "Europe\r\nCafé “quotes”\r\n\r\nBody.\r\n"
    data = text.encode(encoding) if encoding == "utf-16" else b"\xfe\xff" + text.encode(encoding)
    result = read(data)
    assert [(a.title, a.body) for a in result.articles] == [("Café “quotes”", "Body.")]
    assert messages(result) == [
        "1:warning:saved as UTF-16; read so (save it as UTF-8 to silence this)"
    ]


def test_windows_1252_is_decoded_with_a_warning() -> None:
    result = read("Europe\nCafé “quotes”\n\nBody.\n".encode("cp1252"))
    assert result.articles[0].title == "Café “quotes”"
    assert messages(result) == [
        "2:warning:bytes that are not UTF-8 (the first on this line), read as Windows-1252 "
        "(save the file as UTF-8 to silence this)"
    ]


def test_a_windows_1252_file_whose_bytes_utf8_would_take_for_a_character_reads_whole() -> None:
    """ "ß“" is 0xDF 0x93, one character to UTF-8: read byte by byte, it was published so."""
    result = read("Europe\n„Zu groß“: Streit um die Brücke\n\nÄrger über „Maß“.\n".encode("cp1252"))
    assert result.articles[0].title == "„Zu groß“: Streit um die Brücke"
    assert result.articles[0].body == "Ärger über „Maß“."


def test_word_quotes_pasted_beside_a_single_accent_leave_the_utf8_as_written() -> None:
    """One 'é' against two stray quotes was not "mostly UTF-8": the title read 'CafÃ©'."""
    data = "Europe\nCafé reopens\n\nThe owner said ".encode() + b"\x93we are back\x94.\n"
    assert read(data).articles[0].title == "Café reopens"


def test_a_stray_windows_1252_byte_in_a_utf8_file_leaves_the_rest_as_written() -> None:
    """A Word quote pasted into a UTF-8 file: every "é" read as "Ã©" gave the story another
    title, and another id once the byte was fixed."""
    text = "Europe\nThe “café” reopens\n\nIts owner said “bienvenue”.\n"
    result = read(text.encode() + b"Price: 5 \x80, with \x93quotes\x94.\n")
    assert result.articles[0].title == "The “café” reopens"
    assert result.articles[0].body == "Its owner said “bienvenue”.\nPrice: 5 €, with “quotes”."
    assert messages(result) == [
        "5:warning:bytes that are not UTF-8 (the first on this line), read as Windows-1252 "
        "(save the file as UTF-8 to silence this)"
    ]


def test_bytes_windows_1252_does_not_define_are_left_out_and_said() -> None:
    """A Central European (Windows-1250) file's "ť" is 0x9D: published as U+FFFD, validators
    called the feed's characters bad."""
    result = read("Europe\nMes\u0165anka\n\nBody.\n".encode("cp1250"))
    assert result.articles[0].title == "Mesanka"
    assert messages(result) == [
        "2:warning:bytes that are not UTF-8 (the first on this line), read as Windows-1252, and "
        "1 byte(s) undefined there left out (save the file as UTF-8 to silence this)"
    ]


def test_control_characters_are_removed_with_a_warning() -> None:
    result = read("Europe\nBell\x07 title\n\nA\x0b paragraph\x1b.\n")
    assert result.articles[0].title == "Bell title"
    assert result.articles[0].body == "A paragraph."
    assert messages(result) == [
        "2:warning:removed 1 character(s) that feeds cannot carry (U+0007) from the title",
        "4:warning:removed 2 character(s) that feeds cannot carry (U+000B, U+001B) from a "
        "paragraph",
    ]
    # C1 controls and noncharacters take two to four bytes in UTF-8
    result = read("Europe\nNext\u0085 line\n\nNo\ufffe character.\n".encode())
    assert (result.articles[0].title, result.articles[0].body) == ("Next line", "No character.")
    assert messages(result) == [
        "2:warning:removed 1 character(s) that feeds cannot carry (U+0085) from the title",
        "4:warning:removed 1 character(s) that feeds cannot carry (U+FFFE) from a paragraph",
    ]
    # the other noncharacters, which an HTML parser (the W3C validator's) calls invalid
    result = read("Europe\nTitle\n\nNo\ufdd0 non\U0001fffechar\U0010ffffacter.\n".encode())
    assert result.articles[0].body == "No noncharacter."
    assert messages(result) == [
        "4:warning:removed 3 character(s) that feeds cannot carry (U+FDD0, U+1FFFE, U+10FFFF) "
        "from a paragraph"
    ]
    # the replacement character, which the W3C validator calls bad: text lost in a conversion
    result = read("Europe\nCaf\ufffd opens\n\nBody.\n".encode())
    assert result.articles[0].title == "Caf opens"
    assert messages(result) == [
        "2:warning:removed 1 character(s) that feeds cannot carry (U+FFFD) from the title (U+FFFD "
        "stands for text lost in a conversion: put back what it replaced)"
    ]
    # a paragraph of nothing else is dropped, and said so
    result = read("Europe\nTitle\n\nKept.\n\x07\x1b\nAlso kept.\n")
    assert result.articles[0].body == "Kept.\nAlso kept."
    assert messages(result) == [
        "5:warning:removed 2 character(s) that feeds cannot carry (U+0007, U+001B) from a paragraph"
    ]


def test_the_bytes_check_finds_the_characters_the_text_check_does() -> None:
    """A file is looked at character by character only where its bytes hold one: every code
    point of the first plane, and the last ones of each other plane."""
    points = [*range(0xD800), *range(0xE000, 0x10000)]
    points += [plane << 16 | low for plane in range(1, 17) for low in (0, 0xFFFD, 0xFFFE, 0xFFFF)]
    for point in points:
        character = chr(point)
        found = has_forbidden_utf8(character.encode())
        assert found == has_forbidden(character), hex(point)


def test_a_file_with_no_article_start_is_an_error() -> None:
    result = read("just some text\nwith no structure\n")
    assert result.articles == ()
    assert result.problems[0].severity == "error"
    assert "no article found" in result.problems[0].message


# -- Markdown --------------------------------------------------------------------------------

MD = """---
title: "A <b>bold</b> claim"
section: europe
date: 2025-07-01 09:30:00
author: Jane Doe
tags: [energy, eu]
---

First *paragraph* with <script>alert(1)</script>.

Second paragraph with [a link](https://example.org) and [bad](javascript:alert(1)).

A [relative link](../b/), a [rooted one](/about/), an ![image](img/map.png), a [note](#n1).
"""


@pytest.mark.parametrize(
    ("front", "line"),
    [
        ('+++\nsummary = """\ntitle: see below\n"""\ntitle = "A <b>bold</b> claim"\n', 5),
        ('---\nsummary: |\n  title = see below\ntitle: "A <b>bold</b> claim"\n', 4),
    ],
)
def test_a_keys_line_is_found_as_its_format_writes_it(front: str, line: int) -> None:
    """Not a line of another value's text written as the other format writes a key."""
    text = front + (
        "section = 'Asia'\n+++\nB.\n" if front[0] == "+" else "section: Asia\n---\nB.\n"
    )
    (problem,) = read(text, "c.md").problems
    assert (problem.line, problem.message.split(",")[0]) == (line, "the title holds '<b>'")


def test_markdown_with_yaml_front_matter() -> None:
    result = read(MD, "a.md")
    # a title is plain text: its tags are said, and kept as text; a javascript: link is
    # published without its address; an image beside the article's file is never published
    markup, link, image = sorted(result.problems, key=lambda p: p.line or 0)
    assert [(p.line, p.severity) for p in (markup, link, image)] == [
        (2, "warning"),
        (11, "warning"),
        (13, "warning"),
    ]
    assert link.message.startswith("a link to a javascript: address is published without it")
    assert markup.message.startswith(
        "the title holds '<b>', which some feed readers take as markup"
    )
    assert image.message.startswith("image 'img/map.png' is relative to the article's page")
    (article,) = result.articles
    assert article.title == "A <b>bold</b> claim"
    assert article.section == "Europe"
    assert article.date == datetime(2025, 7, 1, 9, 30, tzinfo=PARIS)
    assert article.author == "Jane Doe"
    assert article.tags == ("energy", "eu")
    html = to_html(article.body, "markdown", "https://news.example/articles/a/")
    assert "<script>" not in html and "&lt;script&gt;" in html
    # absolute, as the article's page resolves them: a feed reader would resolve them against
    # the feed's URL, or not at all
    for url in ("/articles/b/", "/about/", "/articles/a/img/map.png", "/articles/a/#n1"):
        assert f'"https://news.example{url}"' in html
    assert 'href="https://example.org"' in html and "javascript:" not in html.split("[bad]")[0]
    assert "<em>paragraph</em>" in html
    assert (
        first_paragraph(article.body, "markdown")
        == "First paragraph with <script>alert(1)</script>."
    )


def test_an_image_whose_alt_text_holds_brackets_is_found_too() -> None:
    """CommonMark takes balanced brackets in an image's text; the look for one ran on past them
    to the line's end (from each `![`: a line of them took a minute)."""
    result = read("---\ntitle: T\nsection: Asia\n---\nThe ![map [2025]](img/map.png).\n", "a.md")
    assert [p.message.split(" is ")[0] for p in result.problems] == ["image 'img/map.png'"]


#: long enough that reading it again from each blank takes hours: the suite hangs, not slows
BLANKS = " " * 500_000


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("a.txt", f"Europe\nStory\n\nBody.\n-\nEurope{BLANKS}1x\nHeadline\n"),  # related block
        ("a.md", f"---\ntitle: |\n  T{BLANKS}x\n  y\nsection: Asia\n---\nBody.\n"),
        ("a.md", f"---\ntitle: T\nsection: Asia\nauthor: x{BLANKS}y\n---\nBody.\n"),
        ("a.md", f"---\ntitle: T\nsection: Asia\nauthor: x{']' * 500_000}y\n---\nBody.\n"),
        ("a.md", f"---\ntitle: T\nsection: Asia\nauthor: Jane{BLANKS}Doe <jane@x.org>\n---\nB.\n"),
        ("a.md", f"---\ntitle: T\nsection: Asia\n#{BLANKS}x\n---\nBody.\n"),  # a key's line
        ("a.md", "---\ntitle: T\nsection: Asia\n---\n" + "![" * 250_000 + "\n"),
    ],
)
def test_a_long_run_of_blanks_or_brackets_is_read_in_one_pass(name: str, text: str) -> None:
    """Each took a regex from seconds to hours, reading the run again from each of its
    characters, while the refresh (and under `serve` every request) waited: a contributor's
    file could stop the service. No time is asserted; the suite would hang if one came back."""
    (article,) = read(text, name).articles
    assert article.title.startswith("T" if name == "a.md" else "Story")


def test_a_table_column_keeps_its_alignment() -> None:
    html = to_html("| Region | Votes |\n|:--|--:|\n| North | 5 |", "markdown", "https://x/")
    assert '<th style="text-align:right">Votes</th>' in html
    assert '<td style="text-align:left">North</td>' in html


@pytest.mark.parametrize(
    ("body", "summary"),
    [
        ("Inflation rose ~~5.1%~~ 4.1% in October.\n\nMore.", "Inflation rose 4.1% in October."),
        (
            "| Region | Votes |\n|---|---|\n| North | 5 |\n\nThe count went on.",
            "The count went on.",
        ),
        ("## Background\n\nThe talks began.", "The talks began."),
        ("## Only a heading", "Only a heading"),
        ("- point one\n- point two", "point one"),
    ],
)
def test_the_summary_is_the_first_paragraph_as_it_reads(body: str, summary: str) -> None:
    """Not a table's first header cell, nor the text a correction struck through."""
    assert first_paragraph(body, "markdown") == summary


@pytest.mark.parametrize(
    ("title", "said"),
    [
        ("AT&amp;T deal", "'&amp;'"),
        ("Prices &#8364; rise", "'&#8364;'"),
        ("Why a<b matters", "'<b'"),
        ("Tom & Jerry return", None),
        ("Rates: 2 < 3 & falling", None),
        ("R&D &Co", None),
    ],
)
def test_a_title_that_readers_would_take_as_markup_is_said(title: str, said: str | None) -> None:
    problems = read(f"Asia\n{title}\n\nBody.\n").problems
    assert [p.message.split(",")[0] for p in problems] == (
        [f"the title holds {said}"] if said else []
    )


@pytest.mark.parametrize(
    ("date", "published", "said"),
    [
        ("0999-12-31T00:00:00Z", False, "error:front-matter 'date' is in 999, before 1990: a "
         "typo? feeds cannot carry it"),  # an RSS date's year has four digits
        ("1985-05-01T10:00:00Z", True, "warning:front-matter 'date' is in 1985, before 1990: a "
         "typo? feed validators doubt it"),
        ("1990-01-01T00:00:00Z", True, None),
        ("1990-01-01T00:30:00", True, None),  # in Paris: 1989 in UTC, but written 1990
    ],
)  # fmt: skip
def test_a_date_feeds_cannot_carry_is_refused_and_one_validators_doubt_is_said(
    date: str, published: bool, said: str | None
) -> None:
    result = read(f"---\ntitle: T\nsection: Asia\ndate: {date}\n---\nBody.\n", "a.md")
    assert bool(result.articles) == published
    assert messages(result) == ([f"4:{said}"] if said else [])


def test_an_empty_tag_is_left_out_with_a_warning() -> None:
    result = read('---\ntitle: T\nsection: Asia\ntags: [energy, "", " "]\n---\nBody.\n', "t.md")
    assert result.articles[0].tags == ("energy",)
    assert [(p.line, p.severity, p.message) for p in result.problems] == [
        (4, "warning", "an empty tag is left out; remove it")
    ]


def test_an_email_address_in_the_author_is_left_out_with_a_warning() -> None:
    # a feed gives a person's name; the W3C validator warns (ContainsEmail) at an address in one
    text = "---\ntitle: T\nsection: Asia\nauthor: Jane Doe <jane@example.org>\n---\nBody.\n"
    result = read(text, "t.md")
    assert result.articles[0].author == "Jane Doe"
    assert [(p.line, p.severity) for p in result.problems] == [(4, "warning")]
    assert "write the name alone" in result.problems[0].message
    alone = read(text.replace("Jane Doe <", "<"), "t.md")
    assert alone.articles[0].author is None  # the site's author, as when none is given
    assert messages(alone) == [
        "4:warning:'author' is an email address alone, and feeds give an author's name only: "
        "the site's author is credited; write the name"
    ]


@pytest.mark.parametrize(
    ("written", "published"),
    [
        ("newsdesk@example.org", None),
        ("Jane Doe (jane@example.org)", "Jane Doe"),
        ("Jane Doe, jane@example.org", "Jane Doe"),
        ("mailto:jane@example.org", None),
        ("Ana Lima (ana@example.org; ext. 5)", "Ana Lima (ext. 5)"),
        ("Dr. Who (BBC) <who@bbc.co.uk>, Amy <amy@example.org>", "Dr. Who (BBC), Amy"),
        ("Jane Doe jane.doe@example.co.uk.", "Jane Doe"),  # the full stop ended the address
        ("J. Doe Jr. <j@example.org>", "J. Doe Jr."),
    ],
)
def test_an_email_address_is_left_out_however_it_is_written(
    written: str, published: str | None
) -> None:
    text = f"---\ntitle: T\nsection: Asia\nauthor: {written}\n---\nBody.\n"
    result = read(text, "t.md")
    assert result.articles[0].author == published
    assert [(p.line, p.severity) for p in result.problems] == [(4, "warning")]


def test_markup_in_a_summary_an_author_or_a_tag_is_said_as_in_a_title() -> None:
    """Each is plain text: '&amp;' in one showed as "&amp;" in Atom and JSON Feed readers, and
    the W3C validator warned of HTML in the summary, the author's name and the category."""
    front = (
        'title: Q&A\nsection: Asia\nsummary: "Don&#8217;t panic"\nauthor: "Tom &amp; Jerry"\n'
        'tags: ["Q&amp;A", "R&D"]'
    )
    result = read(f"---\n{front}\n---\nBody.\n", "t.md")
    assert [(p.line, p.message.split(",")[0]) for p in result.problems] == [
        (5, "the author holds '&amp;'"),
        (4, "the summary holds '&#8217;'"),
        (6, "a tag holds '&amp;'"),
    ]
    assert result.articles[0].summary == "Don&#8217;t panic"  # said, not changed


@pytest.mark.parametrize(
    ("title", "said"),
    [
        ("Why <!-- breaks readers", "'<!--'"),
        ("Parsing <?xml in titles", "'<?'"),
        ("A <b>bold</b> claim", "'<b>'"),
        ("Rates: a < b, and c <3", None),  # no tag can start so
    ],
)
def test_what_a_reader_would_take_for_a_tag_or_a_comment_is_said(
    title: str, said: str | None
) -> None:
    """An RSS reader rendering the title as HTML showed 'Why  breaks readers'."""
    result = read(f"Asia\n{title}\n\nBody.\n")
    assert result.articles[0].title == title  # said, not changed
    found = [p.message.split(",")[0] for p in result.problems]
    assert found == ([f"the title holds {said}"] if said else [])


def test_a_tag_given_twice_or_naming_the_section_is_one_category() -> None:
    front = 'title: T\nsection: Asia\ntags: ["caf\u00e9", "energy", "cafe\u0301", "Energy"]'
    (article,) = read(f"---\n{front}\n---\nBody.\n", "t.md").articles
    assert article.tags == ("caf\u00e9", "energy")


def test_an_author_of_only_invisible_characters_is_left_out() -> None:
    result = read('---\ntitle: T\nsection: Asia\nauthor: "\u200b"\n---\nBody.\n', "t.md")
    assert result.articles[0].author is None  # the site's
    assert "shows nothing" in result.problems[0].message


@pytest.mark.parametrize(
    "name",
    ["@janedoe", "Jane@Reuters", "Ann (Reuters)", "@jane@mastodon.social", "Jo (@jo@social.ex)"],
)
def test_a_handle_or_an_at_sign_is_not_an_address(name: str) -> None:
    text = f"---\ntitle: T\nsection: Asia\nauthor: '{name}'\n---\nBody.\n"
    result = read(text, "t.md")
    assert result.articles[0].author == name and result.problems == ()


@pytest.mark.parametrize(
    "front_matter",
    [
        "---\ntitle: |\n  Talks resume\n  in Geneva\nauthor: >-\n  Jane\n  Doe\nsection: Asia\n---",
        '+++\ntitle = """Talks resume\r\nin Geneva"""\nauthor = "Jane\\nDoe"\n'
        'section = "Asia"\n+++',
        '+++\ntitle = "Talks resume\u2028in Geneva"\nauthor = "Jane\u2029Doe"\n'
        'section = "Asia"\n+++',
    ],
)
def test_a_title_written_over_lines_is_published_on_one(front_matter: str) -> None:
    (article,) = read(front_matter + "\nBody.\n", "t.md").articles
    assert article.title == "Talks resume in Geneva"
    assert article.author == "Jane Doe"


def test_a_text_title_with_unicode_s_line_separator_is_published_on_one_line() -> None:
    """Readers break a line at U+2028; its slug glued the words: 'talks-resumein-geneva'."""
    result = read("Asia\nTalks resume\u2028in Geneva\n\nBody.\n")
    assert [(a.title, a.slug) for a in result.articles] == [("Talks resume in Geneva", None)]
    assert slugify(result.articles[0].title) == "talks-resume-in-geneva"


def test_an_image_beside_the_article_file_is_said_to_be_unpublished() -> None:
    body = "![map](img/map.png) ![web](https://e.org/a.png) ![site](/a.png)\n\n![b](<my map.png>)\n"
    result = read("---\ntitle: T\nsection: Asia\n---\n" + body, "a.md")
    assert [(p.line, p.message.split(" is ")[0]) for p in result.problems] == [
        (5, "image 'img/map.png'"),
        (7, "image 'my map.png'"),
    ]
    assert result.articles  # published, as written


def test_markdown_with_toml_front_matter_and_every_field() -> None:
    text = """+++
title = "Summit"
section = "Diplomacy"
date = 2025-07-02T08:00:00+02:00
updated = 2025-07-03T08:00:00Z
summary = "Short."
id = "urn:uuid:2b9f8a4e-1c1d-4a53-9a1e-0f3c3d9d6a11"
slug = "the-summit"
+++
Body.
"""
    (article,) = read(text, "b.md").articles
    assert article.summary == "Short."
    assert article.id == "urn:uuid:2b9f8a4e-1c1d-4a53-9a1e-0f3c3d9d6a11"
    assert article.slug == "the-summit"
    assert article.date is not None and article.date.utcoffset() == timedelta(hours=2)
    assert article.updated is not None and article.updated.utcoffset() == timedelta(0)


def test_an_html_comment_in_markdown_is_said_since_it_is_published_as_text() -> None:
    body = "Text.\n\n<!-- ask legal -->\n\n```html\n<!-- code -->\n```\n\n    <!-- code too -->\n"
    result = read(f"---\ntitle: T\nsection: Asia\n---\n{body}", "c.md")
    assert messages(result) == [
        "7:warning:an HTML comment is published as text, for readers to see (raw HTML is off); "
        "remove it, or keep notes out of the article"
    ]
    assert "&lt;!-- ask legal --&gt;" in to_html(result.articles[0].body, "markdown", "https://x/")


@pytest.mark.parametrize(
    "code",
    [
        "````markdown\n```html\n<!-- c -->\n```\n````",  # a longer fence holds a shorter one
        "```\n```python\n<!-- c -->\n```",  # a fence with an info string closes nothing
        "\t<!-- c -->",  # a tab in: indented code
        "## Template\n    <!-- c -->",  # code may follow a heading (never a paragraph)
        "---\n    <!-- c -->",
    ],
    ids=["longer fence", "info string", "tab", "after a heading", "after a rule"],
)
def test_an_html_comment_in_code_is_not_said(code: str) -> None:
    result = read(f"---\ntitle: T\nsection: Asia\n---\nText.\n\n{code}\n\n<!-- said -->\n", "c.md")
    assert [m.split(":")[0] for m in messages(result)] == [str(9 + code.count("\n"))]


@pytest.mark.parametrize(
    "text",
    [
        "A paragraph\n\t<!-- c -->",  # further in, it continues the paragraph: shown as text
        "```rm -rf``` deletes everything.\n\n<!-- c -->",  # inline code, not a fence
    ],
    ids=["continued paragraph", "inline code"],
)
def test_an_html_comment_outside_code_is_said(text: str) -> None:
    result = read(f"---\ntitle: T\nsection: Asia\n---\n{text}\n", "c.md")
    assert [m.split(":")[0] for m in messages(result)] == [str(5 + text.count("\n"))]


@pytest.mark.parametrize(
    "text",
    [
        *("Text.\n\n-\n    <!-- c -->", "Text.\n\n--\n    <!-- c -->", "# H\n==\n    <!-- c -->"),
        *(
            "Text\n    # x\n    <!-- c -->",
            "Text\n    ---\n    <!-- c -->",
            "Para\n===\n    <!-- c -->",
        ),
        *("Para\n---\n    <!-- c -->", "***\n    <!-- c -->", "A paragraph\n\t<!-- c -->"),
    ],
)
def test_an_html_comment_is_said_exactly_when_markdown_shows_it_as_text(text: str) -> None:
    shown_as_code = "<pre><code>&lt;!-- c" in MarkdownIt("commonmark").render(text)
    result = read(f"---\ntitle: T\nsection: Asia\n---\n{text}\n", "c.md")
    assert bool(result.problems) is not shown_as_code, messages(result)


def test_markdown_nested_deep_keeps_the_rest_of_the_article() -> None:
    outline = "".join(f"{'  ' * level}- level {level + 1}\n" for level in range(30))
    html = to_html(f"Intro.\n\n{outline}\nThe end.\n", "markdown", "https://news.example/a/")
    assert "level 30" in html and "<p>The end.</p>" in html


@pytest.mark.parametrize(
    ("front", "line", "expected"),
    [
        (
            "title: NO\nsection: Asia",
            2,
            "front-matter 'title' must be a non-empty string, found bool False",
        ),
        ('title: "\\x07"\nsection: Asia', 2, "front-matter 'title' must be a non-empty string"),
        ("title: T\nsection: Asia\ndate: 10:00", 4, "front-matter 'date' must be a date and time"),
        ("title: T\nsection: Asia\ndate: 2025-02-30", 4, "invalid date in the front matter"),
        ("title: T\nsection: Asia\ndate: 2025-02-30  # a note", 4, "invalid date in the front"),
        (
            "title: T\nsection: Asia\ndate: 2025-01-01\nupdated: 2025-02-30 10:00:00",
            5,
            "invalid date in the front matter: day is out of range for month",
        ),
        (
            "title: T\nsection: Asia\ntags: energy",
            4,
            "front-matter 'tags' must be a list of strings",
        ),
        ("title: T\nsection: Asia\nid: not a uri", 4, "front-matter 'id' must be an absolute URI"),
        ("section: Asia", 1, "front-matter 'title' is required"),
        (
            "title: [unclosed\nsection: Asia",
            2,  # where it opened, not where PyYAML gave up
            "invalid YAML front matter: the '[' on this line is never closed; end it with ']'",
        ),
        (
            "title: T\nsection: Asia\nauthor: {name: A",
            4,
            "invalid YAML front matter: the '{' on this line is never closed; end it with '}'",
        ),
        (
            "title: T\n\tsection: Asia",
            3,
            "invalid YAML front matter: found a tab character that violates indentation; "
            "indent with spaces: YAML refuses tabs",
        ),
        (
            "title: T\nsection: Asia\ntags:\n\t- a",
            5,
            "invalid YAML front matter: found character that cannot start any token; "
            "indent with spaces: YAML refuses tabs",
        ),
        (  # closed: a comma missing, not a list left open
            'title: T\nsection: Asia\ntags: ["a" "b"]',
            4,
            "invalid YAML front matter: did not find expected ',' or ']'",
        ),
        (  # YAML's `#` in a word opens no comment: the list above is closed
            "title: T\nsection: Asia\ntags: [c#, f#]\nx: [a b: c: d]",
            5,
            "invalid YAML front matter: did not find expected ',' or ']'",
        ),
        (  # a list left open below the slip is not the slip
            "title: T\nx: [a b: c: d]\nsection: Asia\ntags: [a, b",
            3,
            "invalid YAML front matter: did not find expected ',' or ']'",
        ),
        (  # nor does an apostrophe in a word open a string
            "title: Biden's visit\nsection: Asia\ntags: [a, b",
            4,
            "invalid YAML front matter: the '[' on this line is never closed; end it with ']'",
        ),
        (
            "title: Ukraine: talks resume\nsection: Asia",
            2,
            "quote a value that holds ': ' (title: \"Ukraine: talks resume\")",
        ),
        (  # tuples of !!pairs, aliases of aliases: no more counted as lists than written out
            "section: Asia\nl0: &l0 !!pairs [a: x, b: x]\n"
            + "".join(f"l{n}: &l{n} !!pairs [a: *l{n - 1}, b: *l{n - 1}]\n" for n in range(1, 24))
            + "title: *l23",
            4,
            "its aliases (*name) stand for over 1,000,000 values and characters",
        ),
        (  # a long comment makes room for no more
            "# "
            + "x" * 1_100_000
            + "\ntitle: T\nsection: Asia\n_s: &s "
            + "x" * 1000
            + "\ntags: ["
            + "*s, " * 1000
            + "*s]",
            6,
            "its aliases (*name) stand for over 1,000,000 values and characters",
        ),
        ("title: 0x" + "f" * 5000 + "\nsection: Asia", 2, "found int <an integer of 20000 bits>"),
        (
            "title: T\nsection: Asia\n_s: &s " + "x" * 1000 + "\ntags: [" + "*s, " * 1000 + "*s]",
            5,
            "its aliases (*name) stand for over 1,000,000 values and characters",
        ),
        (
            "title: First\nsection: Asia\ntitle: Second",  # YAML keeps the last, unsaid
            4,
            "'title' is given twice, on lines 2 and 4 (YAML would keep the last in silence)",
        ),
        # anchors and aliases: a list holding itself, a few lines standing for 2**24 values
        (
            'title: "a \\\\ b"\nsection: Asia\nx: &a [*a]',
            4,
            "its aliases (*name) stand for over 1,000,000 values and characters",
        ),
        (
            "title: T\nsection: Asia\nl0: &l0 [x, x]\n"
            + "".join(f"l{n}: &l{n} [*l{n - 1}, *l{n - 1}]\n" for n in range(1, 24))
            + "tags: *l23",
            5,
            "its aliases (*name) stand for over 1,000,000 values and characters",
        ),
        ("title: T\nsection: Asia\nauthor: A\x07", 4, "character U+0007 is refused"),
    ],
)
def test_yaml_surprises_are_reported_not_published(
    front: str, line: int | None, expected: str
) -> None:
    result = read(f"---\n{front}\n---\nBody.\n", "c.md")
    assert result.articles == ()
    assert any(
        expected in p.message and (p.line, p.severity) == (line, "error") for p in result.problems
    ), messages(result)


@pytest.mark.parametrize(
    ("front", "said"),
    [
        # a known key's colon with no space: said on its line, not the next key's
        (
            "title:Elections in Europe\nsection: Asia",
            "c.md:2: error: invalid YAML front matter: put a space after 'title:' "
            "(title: Elections in Europe)",
        ),
        (
            "section: Asia\ntitle:Elections",
            "c.md:3: error: invalid YAML front matter: put a space after 'title:' "
            "(title: Elections)",
        ),
        (  # so all through, it is one text to YAML, no mapping
            "title:Elections\nsection:Asia",
            "c.md:2: error: invalid YAML front matter: put a space after 'title:' "
            "(title: Elections)",
        ),
        # a quoted value that goes on after its closing quote
        (
            "title: 'Don't panic'\nsection: Asia",
            "c.md:2: error: invalid YAML front matter: quote the whole value with double quotes "
            '(title: "Don\'t panic")',
        ),
        (
            'title: "Breaking" news from Kyiv\nsection: Asia',
            "c.md:2: error: invalid YAML front matter: quote the whole value with single quotes "
            "(title: '\"Breaking\" news from Kyiv')",
        ),
        (  # a list written over lines above is no slip
            "tags: [a,\n  b]\ntitle: 'Don't panic'\nsection: Asia",
            "c.md:4: error: invalid YAML front matter: quote the whole value with double quotes "
            '(title: "Don\'t panic")',
        ),
        (
            'title: "Breaking news\nsection: Asia',
            "c.md:2: error: invalid YAML front matter: close the quote on the same line "
            '(title: "Breaking news")',
        ),
        # a value opening with an indicator
        (
            "title: [Live] Kyiv talks\nsection: Asia",
            "c.md:2: error: invalid YAML front matter: quote the value: YAML reads '[' at its "
            'start as a list (title: "[Live] Kyiv talks")',
        ),
        (  # an anchor above is no slip
            "section: Asia\ntags: &t [x]\ntitle: @desk reports",
            "c.md:4: error: invalid YAML front matter: quote the value: YAML reserves '@' at the "
            'start of a value (title: "@desk reports")',
        ),
        (
            "title: T\nsection: Asia\ntags:\n- `code`\n- b",
            "c.md:5: error: invalid YAML front matter: quote the value: YAML reserves '`' at the "
            'start of a value (- "`code`")',
        ),
        (
            "title: > Breaking\nsection: Asia",
            "c.md:2: error: invalid YAML front matter: quote the value: YAML reads '>' at its "
            'start as a block of text below (title: "> Breaking")',
        ),
        (  # a block's text above, holding what would be a slip on a line of its own
            'summary: |\n  - [x] milk\n  title:Eggs\ntitle: "Groceries" list\nsection: Asia',
            "c.md:5: error: invalid YAML front matter: quote the whole value with single quotes "
            "(title: '\"Groceries\" list')",
        ),
        (  # a bracket inside a quoted item closes nothing
            'tags: ["a]", b]\ntitle: "Groceries" list\nsection: Asia',
            "c.md:3: error: invalid YAML front matter: quote the whole value with single quotes "
            "(title: '\"Groceries\" list')",
        ),
        (
            "title: !important news\nsection: Asia",
            "c.md:2: error: invalid YAML front matter: quote the value: YAML reads '!' at its "
            'start as a tag (title: "!important news"); YAML says: could not determine a '
            "constructor for the tag '!important'",
        ),
    ],
)
def test_a_yaml_slip_is_told_on_its_line_with_its_fix(front: str, said: str) -> None:
    result = read(f"---\n{front}\n---\nBody.\n", "c.md")
    assert [str(p) for p in result.problems] == [said]


def test_a_summary_that_is_only_a_yaml_comment_is_none_and_said() -> None:
    """`summary: # later` may mean no summary yet: the first paragraph stands in, as without one."""
    result = read("---\ntitle: Talks\nsection: Asia\nsummary: # later\n---\nBody.\n", "c.md")
    (article,) = result.articles
    assert article.summary is None
    assert [str(p) for p in result.problems] == [
        "c.md:4: warning: 'summary' is only a YAML comment, so the first paragraph is the "
        "summary; quote it if the '#' is the summary's (summary: \"# later\")"
    ]


@pytest.mark.parametrize(
    ("front", "said"),
    [
        (
            "title: Why Asia is #1 again\nsection: Asia",
            "c.md:2: error: 'title' is cut at its '#', which YAML reads as the start of a "
            "comment: quote the whole value with double quotes if the '#' is the title's "
            '(title: "Why Asia is #1 again"), or put the comment on a line of its own',
        ),
        (  # all of it: no title at all, said as its slip rather than "required"
            "section: Asia\ntitle: #MeToo, a year on",
            "c.md:3: error: 'title' is cut at its '#', which YAML reads as the start of a "
            "comment: quote the whole value with double quotes if the '#' is the title's "
            '(title: "#MeToo, a year on"), or put the comment on a line of its own',
        ),
        (
            "title: Talks\nsection: Asia\nsummary: Talks on the #ceasefire resume",
            "c.md:4: error: 'summary' is cut at its '#', which YAML reads as the start of a "
            "comment: quote the whole value with double quotes if the '#' is the summary's "
            '(summary: "Talks on the #ceasefire resume"), or put the comment on a line of its '
            "own",
        ),
        (
            "title: &desk reports from the front\nsection: Asia",
            "c.md:2: error: 'title' starts with '&desk', which YAML reads as an anchor's name, "
            "not as text (and nothing refers to it as '*desk'): quote the whole value with "
            'double quotes (title: "&desk reports from the front")',
        ),
        (
            "title: Talks\nsection: Asia\nsummary: &notes Talks resume",
            "c.md:4: error: 'summary' starts with '&notes', which YAML reads as an anchor's name, "
            "not as text (and nothing refers to it as '*notes'): quote the whole value with "
            'double quotes (summary: "&notes Talks resume")',
        ),
    ],
)
def test_a_title_or_summary_yaml_cuts_at_a_hash_or_an_anchor_is_refused_on_its_line(
    front: str, said: str
) -> None:
    """Published as "Why Asia is" (or "reports from the front"), with a slug and an id of that
    for good, and nothing said."""
    result = read(f"---\n{front}\n---\nBody.\n", "c.md")
    assert (result.articles, [str(p) for p in result.problems]) == ((), [said])


@pytest.mark.parametrize(
    ("front", "title", "summary"),
    [
        ('title: "&desk reports"', "&desk reports", None),
        ("title: &t Talks resume\nsummary: *t", "Talks resume", "Talks resume"),  # an alias uses it
        ("title: AT&T results", "AT&T results", None),
        ("title: Talks\nsummary: &s\n  Talks resume", "Talks", "Talks resume"),  # cut nothing
    ],
)
def test_an_anchor_yaml_reads_as_it_was_meant_is_no_slip(
    front: str, title: str, summary: str | None
) -> None:
    result = read(f"---\n{front}\nsection: Asia\n---\nBody.\n", "c.md")
    assert result.problems == ()
    (article,) = result.articles
    assert (article.title, article.summary) == (title, summary)


@pytest.mark.parametrize(
    ("front", "title", "author"),
    [
        ('title: "Why Asia is #1 again"', "Why Asia is #1 again", None),
        ("title: C# 12 is out", "C# 12 is out", None),  # no space before it: no comment
        ("title: Talks\nauthor: Jane Doe  # freelance", "Talks", "Jane Doe"),
        ("title: Talks\ntags: [asia] # more later", "Talks", None),
        # a line of another value's text, which YAML read as meant
        ('summary: "Rules,\ntitle: the #1 rule\n  of the desk"\ntitle: Talks', "Talks", None),
        ("+++", None, None),
    ],
)
def test_a_hash_yaml_reads_as_it_was_meant_is_no_slip(
    front: str, title: str | None, author: str | None
) -> None:
    if front == "+++":  # TOML has no unquoted text, and a line in a string is no key's
        summary = 'summary = """\ntitle: Why Asia is #1 again # a line of the summary\n"""\n'
        text = f'+++\n{summary}title = "Why Asia is #1 again" # draft\nsection = "Asia"\n+++\nB.\n'
        title = "Why Asia is #1 again"
    else:
        text = f"---\n{front}\nsection: Asia\n---\nBody.\n"
    result = read(text, "c.md")
    assert result.problems == ()
    (article,) = result.articles
    assert (article.title, article.author) == (title, author)


@pytest.mark.parametrize(
    ("fence", "draft", "said"),
    [
        ("---", "draft: true", "error: 'draft' is true: this article is not published"),
        ("---", "draft: yes", "error: 'draft' is true: this article is not published"),
        ("+++", "draft = true", "error: 'draft' is true: this article is not published"),
        ("+++", 'draft = "yes"', "error: 'draft' is true: this article is not published"),
        ("---", 'draft: "True"', "error: 'draft' is true: this article is not published"),
        ("---", "draft: 1", "error: 'draft' is true: this article is not published"),
        ("---", "draft: maybe", "error: front-matter 'draft' must be true or false"),
        ("---", "draft: false", None),
        ("---", "draft:", None),  # empty: not a draft, as Hugo reads it
        ("---", 'draft: "false"', None),
        ("---", 'draft: "no"', None),  # YAML 1.1's false, quoted
        ("---", "draft: 0", None),
    ],
)
def test_a_draft_is_never_published(fence: str, draft: str, said: str | None) -> None:
    """Hugo and Jekyll leave a draft out; read as an unknown key, it went out to readers."""
    if fence == "+++":
        front = f'title = "Talks"\nsection = "Asia"\n{draft}'
    else:
        front = f"title: Talks\nsection: Asia\n{draft}"
    result = read(f"{fence}\n{front}\n{fence}\nBody.\n", "c.md")
    if said is None:
        assert (len(result.articles), result.problems) == (1, ())
        return
    (problem,) = result.problems
    assert result.articles == () and str(problem).startswith(f"c.md:4: {said}")


@pytest.mark.parametrize("title", ["\u200b", "\u2800\u3164", " \u2060 "])
@pytest.mark.parametrize("name", ["a.txt", "a.md"])
def test_a_title_of_invisible_characters_is_refused(name: str, title: str) -> None:
    text = f"Asia\n{title}\n\nBody.\n" if name == "a.txt" else f"---\ntitle: '{title}'\n"
    result = read(text + ("" if name == "a.txt" else "section: Asia\n---\nBody.\n"), name)
    assert result.articles == ()
    if name == "a.txt" and title != "\u2800\u3164":  # zero-width: a blank line, as a reader sees
        said = "a section line followed by a blank line: an article without its title; put its "
        assert messages(result) == [f"2:error:{said}title on the line after 'Asia'"]
        return
    assert messages(result) == [
        f"2:error:the title {title.strip()!r} shows nothing, only invisible characters; "
        "write a title"
    ]


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("urn:uuid:{6F9619FF-8B86-D011-B42D-00C04FC964FF}", "is not a valid URI"),
        ("urn:uuid:6F9619FF8B86D011B42D00C04FC964FF", "holds no UUID"),
        ("http://example.org/a|b", "is not a valid URI"),
        ("http://example.org/story/\u00fcmlaut", "is not a valid URI"),
        ("urn:uuid:6f9619ff-8b86-d011-b42d-00c04fc964ff", None),
        ("http://example.org/caf%C3%A9?x=1#y", None),
        ("tag:example.org,2025:story-1", None),
        ("tag:desk@example.org,2025-11-02:story-1#top", None),
        ("tag:example.org:6", "is not a tag URI as RFC 4151 writes one"),
        ("tag:Example.ORG,2026:8", "is not a tag URI as RFC 4151 writes one"),
        ("TAG:example.org,2026:5", "is not a tag URI as RFC 4151 writes one"),
        ("HTTPS://EXAMPLE.ORG/story/1", "is not written as feed validators compare URIs"),
        ("http://example.org:80/story/2", "is not written as feed validators compare URIs"),
        ("https://example.org/%7edesk/a/./b/../4", "is not written as feed validators compare"),
        ("http://example.org", "is not written as feed validators compare URIs"),
        ("http://example.org:99999/story", None),  # a port validators leave as it is
    ],
)
def test_an_id_validators_reject_is_said_and_kept(given: str, said: str | None) -> None:
    """Said, not refused: one published already must stay so, under its id."""
    result = read(f"---\ntitle: T\nsection: Asia\nid: '{given}'\n---\nBody.\n", "t.md")
    assert result.articles[0].id == given
    assert [p.message.startswith(f"'id' {given!r} {said}") for p in result.problems] == (
        [True] if said else []
    )


def test_an_id_not_written_as_validators_compare_uris_is_said_with_the_form_they_want() -> None:
    given = "HTTPS://Example.ORG:443/%7edesk/a/./b/../story"
    result = read(f"---\ntitle: T\nsection: Asia\nid: '{given}'\n---\nBody.\n", "t.md")
    assert messages(result) == [
        f"4:warning:'id' {given!r} is not written as feed validators compare URIs, and they "
        "warn of it: write 'https://example.org/~desk/a/story' (before it is published: a "
        "published id never changes)"
    ]


def test_two_files_joined_with_cat_are_two_stories_across_the_second_s_byte_order_mark() -> None:
    first = b"Europe\nFirst story\n\nBody one.\n"
    second = "Asia\nSecond story\n\nBody two.\n".encode("utf-8-sig")
    result = read(first + second)
    assert [(a.section, a.title, a.body) for a in result.articles] == [
        ("Europe", "First story", "Body one."),
        ("Asia", "Second story", "Body two."),
    ]
    assert result.problems == ()


@pytest.mark.parametrize("invisible", ["\u200b", "\ufeff", "\u2060", " \u200b\u200d "])
def test_a_line_of_zero_width_characters_is_the_blank_line_a_reader_sees(invisible: str) -> None:
    result = read(f"Europe\nFirst story\n\nBody one.\nAsia\nSecond story\n{invisible}\nTwo.\n")
    assert [(a.title, a.body) for a in result.articles] == [
        ("First story", "Body one."),
        ("Second story", "Two."),
    ]
    assert result.problems == ()


def test_zero_width_characters_inside_a_line_are_kept_and_at_its_ends_dropped() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one emoji, joined
    result = read(f"Europe\nA {family} story\n\nBody \u2060one {family}\u200b\n")
    assert [(a.title, a.body) for a in result.articles] == [
        (f"A {family} story", f"Body \u2060one {family}")
    ]


@pytest.mark.parametrize("fence", ["---", "+++"])
def test_front_matter_never_closed_is_said_with_its_fix(fence: str) -> None:
    result = read(f"{fence}\ntitle: T\nsection: Asia\n\nBody.\n", "c.md")
    assert result.articles == ()
    assert messages(result) == [
        f"1:error:the front matter opened with {fence!r} is never closed; end it with a line "
        f"of {fence!r} above the body"
    ]


def test_a_title_of_control_characters_only_is_refused() -> None:
    result = read("Asia\n\x01\x02\n\nBody.\n")
    assert result.articles == ()
    assert messages(result) == [
        "2:warning:removed 2 character(s) that feeds cannot carry (U+0001, U+0002) from the title",
        "2:error:the title is empty after removing control characters; write a title",
    ]


def test_a_stray_line_in_the_related_block_is_said_and_the_headlines_around_it_kept() -> None:
    related = "-\nEurope2 weeks ago\nA headline\nstray line\n-\nAsia2 days ago\nAnother\n"
    result = read("Asia\nA story\n\nBody.\n" + related)
    assert [(a.title, a.body) for a in result.articles] == [("A story", "Body.")]
    assert [(r.section, r.title) for r in result.articles[0].related] == [
        ("Europe", "A headline"),
        ("Asia", "Another"),
    ]
    assert messages(result) == [
        "8:warning:unexpected line in the related-headlines block (expected '-', "
        "'<Section><age> ago', '<headline>'); ignored"
    ]


def test_markup_in_a_text_body_is_said_once_where_it_first_is() -> None:
    """Shown as written: 'AT&amp;T' copied from a page reached readers so, and an editor's
    '<!-- check -->' too, without a word (fz38)."""
    text = "Asia\nA deal\n\nPlain, R&D and 3 < 5.\nAT&amp;T said <b>so</b>.\n<!-- check -->\n"
    result = read(text)
    assert (
        result.articles[0].body == "Plain, R&D and 3 < 5.\nAT&amp;T said <b>so</b>.\n<!-- check -->"
    )
    assert messages(result) == [
        "5:warning:a paragraph holds '&amp;', which readers are shown as written: a .txt "
        "article is plain text ('&' for '&amp;'; markup, and notes, belong elsewhere: a "
        "Markdown file takes markup)"
    ]
    assert "holds '<!--'" in messages(read("Asia\nA deal\n\nText.\n<!-- check -->\n"))[0]
    assert "holds '<em'" in messages(read("Asia\nA deal\n\nSo <em said.\n"))[0]
    # text to a reader of HTML too: no tag it knows (rv38)
    plain = "Press the <Enter> key.\nWrite to <desk@example.org>.\nIf x<y and y>z, c <3.\n"
    assert messages(read(f"Asia\nA deal\n\n{plain}")) == []


@pytest.mark.parametrize(
    "address",
    [
        "https://example.org/a",
        "HTTP://example.org/a",
        "mailto:desk@example.org",
        "tel:+15551234",
        "urn:isbn:0451450523",
        "git://example.org/x.git",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:image/png;base64,AAAA",
    ],
)
@pytest.mark.parametrize(
    "written",
    ["Read [it]({}) now.", "Read ![it]({}) now.", "Read <{}> now.", "Read [it][r] now.\n\n[r]: {}"],
)
def test_a_link_published_without_its_address_is_said_and_one_published_with_it_is_not(
    address: str, written: str
) -> None:
    """A urn: link went out as its text alone, a javascript: one as the Markdown written, and
    check said nothing (fz38). Said exactly where readers get no address: as rendered."""
    body = written.format(address) + "\n"
    result = read(f"---\ntitle: T\nsection: Asia\n---\n{body}", "a.md")
    rendered = to_html(result.articles[0].body, "markdown", "https://example.org/p/")
    published = f'="{address}"' in rendered or f'="{address.lower()}' in rendered.lower()
    said = [p for p in result.problems if "is published without it" in p.message]
    assert bool(said) != published, rendered


def test_a_problem_of_a_file_named_with_a_newline_is_said_on_one_line() -> None:
    (problem,) = read("just text\n", "desk\nnotes.txt").problems
    assert str(problem).startswith("desk\\nnotes.txt:1: error: ")
    assert "\n" not in str(problem) and problem.path == "desk\nnotes.txt"


def test_a_link_in_code_or_a_paragraph_like_a_definition_is_not_said() -> None:
    """Code shows `[x](javascript:...)` as written on purpose; `[Update]: Correction: ...` is a
    paragraph, published whole (rv38)."""
    body = (
        "Use `[x](javascript:go())` nowhere.\n\n```\n[x](javascript:go())\n```\n\n"
        "[Update]: Correction: the ministry said so.\n\n[^1]: Source: the ministry.\n"
    )
    result = read(f"---\ntitle: T\nsection: Asia\n---\n{body}", "a.md")
    assert result.problems == ()
    # indented in a list item, a paragraph of it: said (a code block is not told from it)
    listed = "- A step\n\n    see [x](javascript:go())\n"
    result = read(f"---\ntitle: T\nsection: Asia\n---\n{listed}", "a.md")
    assert [p.line for p in result.problems] == [7]


def test_a_name_made_unique_is_cut_only_where_a_limit_is_given() -> None:
    """A slug's `-2` stays within a file name's 250 characters; an id has no such limit, and
    keeps its whole name (rv38b)."""
    long, taken = "a" * 250, {"a" * 250}.__contains__
    assert unique(long, taken, SLUG_MOST) == "a" * 248 + "-2"
    assert unique(f"tag:x,2026:{long}", {f"tag:x,2026:{long}"}.__contains__).endswith(long + "-2")
    assert unique("b", taken, SLUG_MOST) == "b"


def test_a_direction_override_in_a_title_is_said() -> None:
    result = read("Asia\nA \u202eclaim\n\nBody.\n")
    assert [a.title for a in result.articles] == ["A \u202eclaim"]
    assert messages(result) == [
        "2:warning:the title holds a direction override (U+202D or U+202E): it turns the text "
        "after it around in readers' lists and in the page's title; remove it"
    ]
    assert read("Asia\nعربي \u2067x\u2069\n\nBody.\n").problems == ()  # an isolate: ordinary


def test_aliases_keys_feedsvc_ignores_and_merges_are_read_as_yaml_reads_them() -> None:
    front = (
        "_d: &d\n  author: Jane\n_e: &e\n  summary: S\n"  # anchors, merged twice below
        "layout: post\ntitle: T\nsection: Asia\ntags: &t [a, b]\nlayout: page\n<<: *d\n<<: *e\n"
        "keywords: *t\n"  # an alias repeating a list: a few values, not billions
    )
    (article,) = read(f"---\n{front}---\nBody.\n", "c.md").articles
    assert (article.author, article.summary, article.tags) == ("Jane", "S", ("a", "b"))


def test_a_long_list_without_aliases_is_read() -> None:
    track = ", ".join(f"[{n}, {n}]" for n in range(4000))  # a GPS track an exporter left
    result = read(f"---\ntitle: T\nsection: Asia\ntrack: [{track}]\n---\nBody.\n", "c.md")
    assert [a.title for a in result.articles] == ["T"]


def test_many_unknown_keys_and_a_huge_key_are_each_said_on_their_line() -> None:
    keys = "".join(f"k{n}: 1\n" for n in range(20_000))  # once: minutes, a line looked up a key
    huge = "? 0x" + "f" * 5000 + "\n: 1\n"  # a key of 20,000 bits, which str() refuses
    result = read(f"---\ntitle: T\nsection: Asia\n{keys}{huge}---\nBody.\n", "c.md")
    assert [a.title for a in result.articles] == ["T"]
    said = messages(result)
    assert len(said) == 20_001 and said[19_999].startswith(
        "20003:warning:unknown front-matter key 'k19999'"
    )
    assert said[-1].startswith("None:warning:unknown front-matter key '<an integer of 20000 bits>'")


def test_an_indented_fence_is_inside_a_value_and_a_capitalised_key_is_said() -> None:
    summary = "summary: |\n  Line one\n  ---\n  Line three\n"
    result = read(f"---\nTitle: T\ntitle: T\nsection: Asia\n{summary}---\nBody.\n", "c.md")
    assert [(a.summary, a.body) for a in result.articles] == [
        ("Line one\n---\nLine three", "Body.")
    ]
    assert messages(result) == [
        "2:warning:unknown front-matter key 'Title' ignored (keys are lower-case: 'title')"
    ]


@pytest.mark.parametrize(
    ("front_matter", "said"),
    [
        (
            '---\ntitle: T\ncategories: ["Europe", "Asia"]\n---\n',
            [
                "3:warning:unknown front-matter key 'categories' ignored (Hugo's and Jekyll's: "
                "an article is in one section, its 'section')",
                "3:error:front-matter 'section' is required; 'categories' is not read (an "
                'article is in one section): write section: "Europe"',
            ],
        ),
        (
            '+++\ntitle = "T"\nsection = "Asia"\ntags = "politics, eu"\n+++\n',
            [
                "4:error:front-matter 'tags' must be a list of strings, found str 'politics, eu' "
                '(write a list: tags = ["politics", "eu"])'
            ],
        ),
        (
            "---\ntitle: T\ncategories: [Sports, 2024, Asia]\n---\n",  # one configured
            [
                "3:warning:unknown front-matter key 'categories' ignored (Hugo's and Jekyll's: "
                "an article is in one section, its 'section')",
                "3:error:front-matter 'section' is required; 'categories' is not read (an "
                'article is in one section): write section: "Asia"',
            ],
        ),
        (
            "---\ntitle: T\ncategories: Europe\n---\n",  # one, as text
            [
                "3:warning:unknown front-matter key 'categories' ignored (Hugo's and Jekyll's: "
                "an article is in one section, its 'section')",
                "3:error:front-matter 'section' is required; 'categories' is not read (an "
                'article is in one section): write section: "Europe"',
            ],
        ),
        (
            "---\ntitle: T\nsection: Asia\ntags: politique, économie\n---\n",
            [
                "4:error:front-matter 'tags' must be a list of strings, found str 'politique, "
                'économie\' (write a list: tags: ["politique", "économie"])'
            ],
        ),
        (
            "---\ntitle: T\nsection: Asia\ndescription: In short\n---\n",
            [
                "4:warning:unknown front-matter key 'description' ignored (Hugo's, Jekyll's and "
                "Pelican's: feedsvc's is 'summary')"
            ],
        ),
    ],
    ids=[
        "categories",
        "tags as text",
        "a configured category",
        "one as text",
        "accents",
        "description",
    ],
)
def test_front_matter_from_another_generator_is_told_feedsvcs_key(
    front_matter: str, said: list[str]
) -> None:
    """A file moved from Hugo, Jekyll or Pelican: "section is required" named no section, and
    "must be a list of strings" showed no list."""
    assert messages(read(front_matter + "Body.\n", "a.md")) == said


def test_deeply_nested_front_matter_is_read_without_recursing() -> None:
    nested = "[" * 999 + "]" * 999  # as deep as libyaml goes
    result = read(f'---\ntitle: "a \\\\ b"\nsection: Asia\nx: {nested}\n---\nBody.\n', "c.md")
    assert [a.title for a in result.articles] == ["a \\ b"]
    assert messages(result)[0].startswith("4:warning:unknown front-matter key 'x' ignored")


#: Front-matter values a newsroom might write, each a trap for a hand-made YAML reader.
TRICKY_VALUES = [
    *("yes", "No", "on", "OFF", "true", "y", "n", "~", "null", "Null", "", "0", "-1", "+1"),
    *("1_000", "0o17", "017", "0x1F", "1:30", "190:20:30", "1.5", "1e3", ".5", ".inf", ".NaN"),
    *("<<", "=", "2025-07-01", "2025-07-01T10:00:00Z", "2025-07-01 10:00:00.5 -2", "2025-7-1"),
    *("2025-07-01T10:00:00+02:00", "2025-02-30", "000000-coup-rafah", "12 hours ago", "Mr. X"),
    *("a: b", "a:", "a #b", "a#b", "C#", "50% off", "a, b", "[a, b]", "{a: b}", "- a", "-a"),
    *("'quoted'", '"quoted"', "“curly”", "&anchor", "*alias", "!tag x", "|", ">", "%x", "@x"),
    *("`x`", "?x", ":x", "a\tb", "trailing ", "Coup d’état", "naïve café", "日本語", "x\u2028y"),
    *(
        "x\ufeffy",
        "x\x85y",
        "x\x7fy",
        "\\n",
        "a 'b' c",
        'a "b" c',
        "a | b",
        "a > b",
        "https://x.y/z",
    ),
]


@pytest.mark.parametrize("value", TRICKY_VALUES)
@pytest.mark.parametrize("key", ["title", "date", "slug", "on", "Title", "colour"])
def test_flat_front_matter_reads_as_pyyaml_reads_it(key: str, value: str) -> None:
    """The fast path for `key: value` front matter gives what PyYAML gives, or steps aside."""
    source = f"section: Asia\n{key}: {value}"
    try:
        expected: object = yaml.load(source, front_matter_syntax._Loader)
    except (yaml.YAMLError, ValueError) as e:
        expected = type(e)
    try:
        flat: object = front_matter_syntax._flat_yaml(source)
    except (yaml.YAMLError, ValueError) as e:
        flat = type(e)
    assert flat is None or repr(flat) == repr(expected)  # repr: a date's time zone too


def test_front_matter_as_generators_write_it_takes_the_fast_path() -> None:
    source = (
        "title: Coup d’état plan, again\nslug: 000000-coup-d-etat\n"
        "date: 2025-04-14T07:46:57+00:00\ncategory: America\nsection: America"
    )
    flat = front_matter_syntax._flat_yaml(source)
    assert flat is not None and repr(flat) == repr(
        yaml.load(source, front_matter_syntax._YamlLoader)
    )


def test_a_category_naming_another_section_is_said_and_one_in_another_case_is_not() -> None:
    def said(category: str) -> list[str]:
        text = f"---\ntitle: Talks\nsection: Middle East\ncategory: {category}\n---\nBody.\n"
        result = read(text, "c.md")
        assert [a.section for a in result.articles] == ["Middle East"]
        return messages(result)

    assert said("Asia") == ["4:warning:'category' differs from 'section'; 'section' wins"]
    assert said("middle  EAST") == []


def test_a_yes_no_boolean_says_to_quote_it() -> None:
    result = read("---\ntitle: NO\nsection: Asia\n---\nBody.\n", "c.md")
    assert result.problems[0].line == 2
    assert "quote the value" in result.problems[0].message


@pytest.mark.parametrize(
    ("text", "line", "said"),
    [
        ("---\ntitle: 1984\nsection: Asia\n---\nB.\n", 2, "(read as a number: put it in quotes"),
        (
            '+++\ntitle = 1984\nsection = "Asia"\n+++\nB.\n',
            2,
            "(read as a number: put it in quotes",
        ),
        ("---\ntitle: T\nsection: Asia\ntags: [2024, 2025]\n---\nB.\n", 4, "put each in quotes"),
        ("---\ntitle: T\nsection: Asia\ntags: [x, yes]\n---\nB.\n", 4, "as booleans: quote"),
        ("\n---\ntitle: T\n---\nB.\n", 2, "must open on line 1: remove the blank line above"),
        (" \n\n+++\ntitle = 'T'\n+++\nB.\n", 3, "remove the blank lines above it"),
        ('+++\ntitle = "T"\ndate = 2025-13-01\n+++\nB.\n', 3, "date in the front matter: month"),
        ("---\ntitle: T\ndate: 2024-05-01T10:00:00+25:00\n---\nB.\n", 3, "offsets run from"),
        ('+++\ntitle = "T"\ndate = 2024-05-01T10:00:00+25:00\n+++\nB.\n', 3, "offsets run from"),
        ('+++\ntitle = "T"\ndate = 2025-01-01 10:00\n+++\nB.\n', 3, "TOML wants seconds in a time"),
    ],
)
def test_a_front_matter_mistake_is_told_with_its_fix(text: str, line: int, said: str) -> None:
    result = read(text, "c.md")
    assert result.articles == ()
    assert any(p.line == line and said in p.message for p in result.problems), messages(result)


@pytest.mark.parametrize(
    ("written", "said"),
    [
        (
            "title = Elections in Europe",
            'Invalid value; quote text ("like this"); numbers and true/false are written bare',
        ),
        (
            "title = \u201cElections\u201d",
            'Invalid value; write straight quotes ("), not typographic ones',
        ),
        (
            'title: "Elections"',
            "Expected '=' after a key in a key/value pair; write each setting as key = value",
        ),
        (  # the last line of the front matter: said on it, not "at end of document"
            'title = "Elections',
            "Illegal character '\\n'; close the string with its quote on the same line",
        ),
        ("title = True", "Invalid value; write true and false in lower case"),
        (
            'section = "Europe"',
            "Cannot overwrite a value; this key is given twice in its table: keep one",
        ),
        (  # at the end: tomllib gave no line ("at end of document")
            'tags = ["summit", "g20"',
            "the '[' on this line is never closed; end it with ']'",
        ),
        ('tags = ["summit" "g20"]', "Unclosed array"),  # closed: a comma missing, as tomllib says
        (  # tomllib's parser recurses: it failed, with a traceback, as feedsvc's own fault
            "tags = " + "[" * 5000 + "]" * 5000,
            "values nested too deep to read; flatten them",
        ),
    ],
)
def test_a_toml_front_matter_slip_gets_the_fix_it_gets_in_config_toml(
    written: str, said: str
) -> None:
    result = read(f'+++\nsection = "Asia"\n{written}\n+++\nBody.\n', "c.md")
    assert [str(p) for p in result.problems] == [
        f"c.md:3: error: invalid TOML front matter: {said}"
    ]


def test_an_updated_before_the_date_is_said() -> None:
    """It was dropped in silence: the feeds show the story's date as its update."""
    text = "---\ntitle: T\nsection: Asia\ndate: 2025-06-10\nupdated: 2025-06-01\n---\nBody.\n"
    assert messages(read(text, "c.md")) == [
        "5:warning:'updated' is before 'date': no story is updated before it is out; ignored"
    ]


def test_unquoted_text_that_starts_like_a_date_is_not_told_of_dates() -> None:
    result = read('+++\ntitle = 2024-25 season preview\nsection = "Asia"\n+++\nB.\n', "c.md")
    assert [m.split(":", 3)[2] for m in messages(result)] == ["invalid TOML front matter"]


def test_a_number_where_no_text_would_do_gets_no_quoting_advice() -> None:
    result = read("---\ntitle: T\nsection: Asia\ndate: 20250115\n---\nB.\n", "c.md")
    assert messages(result) == [
        "4:error:front-matter 'date' must be a date and time, e.g. 2025-07-15T12:00:00+02:00, "
        "found int 20250115"
    ]
    toml = read(
        '+++\ntitle = "T"\nsection = "Asia"\ndate = 2025-01-01T10:00:00+0200\n+++\nB.\n', "c.md"
    )
    assert messages(toml) == [
        "4:error:invalid TOML front matter: Expected newline or end of document after a statement"
    ]


@pytest.mark.parametrize(
    "matter",
    [
        "date: 2026-13-01\ntags: politics\nauthor: [A, B]",  # the fast path steps aside
        "date: 2026-13-01\nupdated: 2026-02-30 10:00:00",  # both fast
    ],
    ids=["with others", "two dates"],
)
def test_a_markdown_date_that_is_none_hides_none_of_the_files_other_mistakes(matter: str) -> None:
    """Said on its line beside the others, so that the author fixes them in one go."""
    result = read(f"---\ntitle: T\nsection: Asia\n{matter}\n---\nBody.\n", "d.md")
    assert result.articles == ()
    said = {p.line: p.message for p in result.problems}
    assert said[4] == "invalid date in the front matter: month must be in 1..12"
    if "tags" in matter:
        assert said[5].startswith("front-matter 'tags' must be a list of strings, found str")
        assert said[6].startswith("front-matter 'author' must be a string, found list")
    else:
        assert said[5] == "invalid date in the front matter: day is out of range for month"
    assert len(said) == len(result.problems) == (3 if "tags" in matter else 2)


@pytest.mark.parametrize(
    ("matter", "line"),
    [
        ("title: 2026-13-01", 2),
        ("title: T\ntags: [a, 2026-13-01]", 3),
        ("title: 'Report of 2026-13-01'\ntags: [a, 2026-13-01]", 3),  # its line, not the text's
    ],
    ids=["a title", "in a list", "in a list, its text above"],
)
def test_a_date_that_is_none_elsewhere_refuses_the_front_matter_on_its_line(
    matter: str, line: int
) -> None:
    result = read(f"---\n{matter}\nsection: Asia\n---\nBody.\n", "d.md")
    assert messages(result) == [
        f"{line}:error:invalid date in the front matter: month must be in 1..12"
    ]


def test_a_number_too_long_for_python_refuses_the_front_matter_not_the_reader() -> None:
    result = read("---\ntitle: T\nsection: Asia\nx: " + "9" * 5000 + "\n---\nB.\n", "d.md")
    assert result.articles == ()
    (problem,) = result.problems
    assert problem.message.startswith("invalid front matter: Exceeds the limit (4300 digits)")


def test_an_impossible_toml_date_is_reported_on_its_line() -> None:
    result = read(
        '+++\ntitle = "T"\nsection = "Asia"\ndate = 2025-02-30T00:00:00Z\n+++\nB.\n', "d.md"
    )
    assert result.articles == ()
    assert messages(result) == [
        "4:error:invalid date in the front matter: day is out of range for month"
    ]


def test_markdown_without_front_matter_or_body() -> None:
    assert "no front matter" in read("# Just a heading\n", "e.md").problems[0].message
    no_body = read("---\ntitle: T\nsection: Asia\n---\n\n", "f.md")
    assert no_body.articles == ()
    assert no_body.problems[0].message.startswith("the article has no body; add text after")
    # said of an article without its title too, where "has a title" would mislead
    untitled = read("---\nsection: Asia\n---\n\n", "g.md")
    assert sorted(messages(untitled)) == [
        "1:error:front-matter 'title' is required",
        "4:error:the article has no body; add text after the front matter",
    ]


def test_unknown_front_matter_keys_are_warned_about() -> None:
    result = read("---\ntitle: T\nsection: Asia\ncolour: red\n---\nBody.\n", "g.md")
    assert len(result.articles) == 1
    assert messages(result)[0].startswith("4:warning:unknown front-matter key 'colour' ignored")


def test_every_date_is_timezone_aware() -> None:
    for front in ("date: 2025-07-01", "date: 2025-07-01 10:00:00", "date: '2025-07-01T10:00'"):
        (article,) = read(f"---\ntitle: T\nsection: Asia\n{front}\n---\nB.\n", "h.md").articles
        assert article.date is not None and article.date.tzinfo is not None


def test_a_local_mean_time_offset_becomes_utc_the_same_instant() -> None:
    """Amsterdam before 1937 was +00:19:32; RFC 3339 and RFC 822 offsets are whole minutes."""
    amsterdam = ReaderSettings(tuple(SECTIONS), False, ZoneInfo("Europe/Amsterdam"))
    text = "---\ntitle: T\nsection: Asia\ndate: 1930-05-01T12:00:00\n---\nB.\n"
    (article,) = read(text, "h.md", amsterdam).articles
    assert article.date is not None and article.date.utcoffset() == timedelta(0)
    assert article.date == datetime(1930, 5, 1, 12, tzinfo=ZoneInfo("Europe/Amsterdam"))
    (later,) = read(text.replace("1930", "1990"), "h.md", amsterdam).articles
    assert later.date is not None and later.date.utcoffset() == timedelta(hours=2)


def test_the_reader_digest_covers_every_module_that_shapes_what_is_read() -> None:
    """A fix in any of them must make every file be read again; the config gives only the
    settings, which the digest holds themselves."""
    imported = {
        node.module
        for module in Path(readers.__file__).parent.glob("*.py")
        for node in ast.walk(ast.parse(module.read_text("utf-8")))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("feedsvc.")
    }
    covered = {
        "feedsvc." + name.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        for name in readers.READING_CODE
    }
    assert covered == imported - {"feedsvc.config"} | {"feedsvc.readers"}
