"""Small text helpers shared by every stage: slugs, names, XML-safe strings, the file names no
scan lists, and the fixes of TOML's usual slips (in config.toml and in front matter alike)."""

from __future__ import annotations

import functools
import html.entities
import os
import re
import sys
import tomllib
import unicodedata
from collections.abc import Callable, Collection
from typing import Any, NamedTuple

from anyascii import anyascii

# XML 1.0 forbids C0 controls but tab, LF and CR, plus U+FFFE/U+FFFF (and lone surrogates);
# C1 controls, DEL and the other noncharacters are allowed but "discouraged", and feed readers
# choke on them too (HTML parsers refuse them: "invalid codepoint"), so an article's text loses
# them as well.
_NOT_XML = "\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff"
_NOT_XML_CHARACTER = re.compile(f"[{_NOT_XML}]")
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    chr(plane << 16 | last) for plane in range(1, 17) for last in (0xFFFE, 0xFFFF)
)
#: the replacement character: text lost in a conversion, which the W3C validator warns of
#: ("BadCharacters"): a literal one, or what a Markdown reference to no character (`&#0;`) gives
_REPLACEMENT = "\ufffd"
_FORBIDDEN = re.compile(f"[{_NOT_XML}\x7f-\x9f{_NONCHARACTERS}{_REPLACEMENT}]")


def name_key(name: str) -> str:
    """What a section's name, or a tag, is compared by: "Middle East" pasted with a no-break
    space, or "Türkiye" in decomposed form (as some editors save it), in any case, is the same
    name."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


#: at most, in characters: a URL's path stays readable
_SLUG_LENGTH = 80


#: at most, in characters, for a slug given in front matter: its page's file name is it and
#: `.html`, within the 255 bytes file systems allow (251 failed the whole publish); one taken
#: already is given its `-2` within it (`unique`)
SLUG_MOST = 250


def is_slug(value: str, most: int = SLUG_MOST) -> bool:
    """What `slugify` makes: lowercase ASCII letters and digits, single hyphens between."""
    return len(value) <= most and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", value) is not None


def slugify(text: str) -> str:
    """An article's ASCII slug, made once and stored: 'Coup d\u2019état plan' → 'coup-detat-plan'.
    Never empty.

    A letter is its accents dropped where that leaves one ('é' → 'e'), else transliterated:
    'Łódź' → 'lodz', 'Straße' → 'strasse', 'Зеленский meets Biden' → 'zelenskiy-meets-biden'
    (releases before this one dropped such letters: 'odz', 'strae', 'meets-biden').
    """
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii")
    if any(c.isalnum() for c in _NOT_ASCII_NOR_ACCENT.findall(decomposed)):  # a letter lost
        ascii_text = "".join(map(_in_ascii, text))
    return _shortened(_hyphenated(ascii_text))


def section_slug(name: str) -> str:
    """A section's slug, made from its name at every start: never made otherwise than it was,
    or its feeds' URLs would move from under their subscribers. Letters that do not decompose
    to ASCII are left out ('Straße' → 'strae'; `slug` in config.toml gives another); text that
    leaves nothing so (Greek, Cyrillic, Japanese) is transliterated: 'Ελλάδα' → 'ellada', not
    'untitled' (as releases before that one made it).
    """
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _shortened(_hyphenated(ascii_text) or _hyphenated(anyascii(name)))


def _shortened(slug: str) -> str:
    return slug[:_SLUG_LENGTH].rstrip("-") or "untitled"


#: what dropping the accents of NFKD's letters does not bring to ASCII
_NOT_ASCII_NOR_ACCENT = re.compile(r"[^\x00-\x7f\u0300-\u036f]")


@functools.cache
def _in_ascii(character: str) -> str:
    """A character's accents dropped, or a letter or digit that leaves nothing so transliterated;
    any other mark or sign ('\u2019', '«') is left out, as it is in the text's other words."""
    bare = unicodedata.normalize("NFKD", character).encode("ascii", "ignore").decode("ascii")
    if bare or not character.isalnum():
        return bare
    return anyascii(character)


def _hyphenated(ascii_text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower().replace("'", "")).strip("-")


def unique(candidate: str, taken: Callable[[str], bool], most: int | None = None) -> str:
    """`candidate`, or the first of `candidate-2`, `candidate-3`... not `taken`; cut short where
    that is needed to stay within `most` characters (a slug's `SLUG_MOST`)."""
    name, number = candidate, 2
    while taken(name):
        suffix = f"-{number}"
        kept = candidate if most is None else candidate[: most - len(suffix)].rstrip("-")
        name = kept + suffix
        number += 1
    return name


#: what an address's part before the '@' is made of (RFC 5322's atext, and dots): a bare
#: address starts where a run of them does, so that each run is tried once
_LOCAL = r"\w.!#$%&'*+/=?^`{|}~-"
#: an email address in a name, where feeds give a person's name and the W3C validator warns
#: (`ContainsEmail`) at one: in angle brackets or parentheses, or bare (its domain dotted:
#: "@handle" and "Jane@Reuters" are not addresses). Each of these three tries a run of blanks
#: from its first only (`(?:(?!\s)|(?<!\s))`): tried from each, the rest of the run was read
#: again, and 20,000 blanks took seconds. From any other, none of them could match anyway.
_ADDRESS_IN_NAME = re.compile(
    r"(?:(?!\s)|(?<!\s))\s*(?:<[^<>@\s]+@[^<>\s]+>|\([^()@\s]+@[^()\s]+\)"
    rf"|(?<![@{_LOCAL}])(?:mailto:)?[{_LOCAL}]+@[\w-]+(?:\.[\w-]+)+)\s*"
)
#: what an address taken out of parentheses leaves: "(; ext. 5)", "( )"
_LEFT_IN_PARENTHESES = re.compile(
    r"\(\s*[,;:]?\s*\)|(?<=\()\s*[,;:]\s*|(?:(?!\s)|(?<!\s))\s*[,;:]\s*(?=\))"
)
_LINE_BREAKS = re.compile(r"(?:(?![ \t])|(?<![ \t]))[ \t]*[\r\n\u2028\u2029]+[ \t]*")


def has_address(name: str) -> bool:
    return _ADDRESS_IN_NAME.search(name) is not None


def without_address(name: str) -> str:
    """'Jane Doe <jane@example.org>', 'Jane Doe (jane@example.org)' or 'Jane Doe,
    jane@example.org' → 'Jane Doe'."""
    left = _LEFT_IN_PARENTHESES.sub("", _ADDRESS_IN_NAME.sub(" ", name))
    return _LEFT_BY_AN_ADDRESS.sub("", " ".join(left.split())).strip(",;:|-\u2013\u2014 ")


#: a blank an address leaves before a comma ("Who (BBC) , Amy"), and the full stop that ended
#: the sentence it closed ("Jane Doe jane@example.org.")
_LEFT_BY_AN_ADDRESS = re.compile(r" (?=[,;:])| \.$")


def one_line(text: str) -> str:
    """A title written over lines (a YAML `|` block, a TOML multi-line string, or with Unicode's
    line or paragraph separator, U+2028 or U+2029, which readers break a line at) on one."""
    return _LINE_BREAKS.sub(" ", text)


#: what readers of one format take as markup and of another as text: a tag's opening, a
#: character reference (the W3C validator warns: ContainsHTML, CharacterData...)
_MARKUP = re.compile(
    r"<(?:[!?]|/?([A-Za-z][A-Za-z0-9-]*))|&(#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z]+);?"
)


def markup_warning(text: str, what: str) -> str | None:
    """Titles, summaries, names, tags and descriptions are plain text: '<em>' or '&amp;' in
    one is taken as markup by RSS readers (the RSS Best Practices Profile lets them) and
    validators, and shown as written by Atom and JSON Feed readers."""
    found = markup_in(text)
    if found is None:
        return None
    return (
        f"{what} holds {found!r}, which some feed readers take as markup and others show as "
        f"written; write {what} as plain text ('&' for '&amp;', no tags)"
    )


def markup_in(text: str, elements: Collection[str] | None = None) -> str | None:
    """The first tag, comment or character reference in `text`, as written: a tag whole
    where it closes soon ('<b>', '<!--'), else its start ('<em'). `elements`: the only tags
    looked for, by name ('<Enter>' and '<desk@example.org>' are text to a reader of HTML too).
    """
    if "<" not in text and "&" not in text:
        return None
    for found in _MARKUP.finditer(text):
        tag, entity = found.groups()
        if entity is not None:
            if entity.startswith("#") or entity in html.entities.name2codepoint:
                return found.group()
            continue
        if tag is not None and elements is not None and tag.lower() not in elements:
            continue
        start = found.start()
        if text.startswith("<!--", start):
            return "<!--"
        end = text.find(">", start)
        return text[start : end + 1] if tag is not None and 0 < end - start < 40 else found.group()
    return None


def forbidden_characters(text: str) -> list[str]:
    """The characters XML (or a sane feed reader) cannot carry, as U+XXXX codes."""
    return [f"U+{ord(c):04X}" for c in _FORBIDDEN.findall(text)]


def not_xml_characters(text: str) -> list[str]:
    """The characters XML cannot hold at all (lxml refuses them), as U+XXXX codes."""
    return [f"U+{ord(c):04X}" for c in _NOT_XML_CHARACTER.findall(text)]


#: the forbidden characters that are one byte in UTF-8 (C0 controls and DEL), from `_FORBIDDEN`
_CONTROL_BYTES = bytes(b for b in range(0x80) if _FORBIDDEN.match(chr(b)))
_OTHER_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
#: C1, U+FFFD-U+FFFF, U+FDD0-U+FDEF, and U+1FFFE-U+10FFFF's last two of each plane
_FORBIDDEN_UTF8 = re.compile(
    rb"\xc2[\x80-\x9f]|\xef(?:\xbf[\xbd-\xbf]|\xb7[\x90-\xaf])|[\xf0-\xf4][\x8f\x9f\xaf\xbf]\xbf[\xbe\xbf]"
)
#: a byte each of those holds (C1's lead, the three-byte ones' lead, the four-byte ones' third):
#: looked for one at a time, at memory speed (an emoji's \xf0 would send most text to the regex)
_FORBIDDEN_LEADS = (b"\xc2", b"\xef", b"\xbf")


def has_forbidden(text: str) -> bool:
    return _FORBIDDEN.search(text) is not None


def has_forbidden_utf8(data: bytes) -> bool:
    """`has_forbidden` for valid UTF-8 bytes, at memory speed: almost no file has one."""
    if data.translate(None, _OTHER_BYTES):  # what is left are the C0 controls and DEL
        return True
    if data.isascii():
        return False
    # one byte each: memchr, where a two-byte search is ten times slower on non-ASCII text
    leads = any(lead in data for lead in _FORBIDDEN_LEADS)
    return leads and _FORBIDDEN_UTF8.search(data) is not None


def xml_safe(text: str) -> str:
    """`text` without the characters `forbidden_characters` names."""
    return _FORBIDDEN.sub("", text)


def load_toml(text: str) -> dict[str, Any]:
    """`tomllib.loads`, with values nested too deep for its parser, which recurses, refused as
    any other slip in the file: on the line where they got too deep."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        lines = text.split("\n")
    # The fewest first lines that are too deep alone: fewer fail otherwise (a list not closed)
    # or not at all, so their count is found by halves.
    fewest, most = 1, len(lines)
    while fewest < most:
        middle = (fewest + most) // 2
        if _too_deep("\n".join(lines[:middle])):
            most = middle
        else:
            fewest = middle + 1
    message = "values nested too deep to read; flatten them"
    if sys.version_info >= (3, 14):  # the position given apart, as tomllib gives its own
        raise tomllib.TOMLDecodeError(message, text, len("\n".join(lines[: most - 1])) + 1)
    raise tomllib.TOMLDecodeError(f"{message} (at line {most}, column 1)")


def _too_deep(text: str) -> bool:
    try:
        tomllib.loads(text)
    except RecursionError:
        return True
    except tomllib.TOMLDecodeError:
        pass
    return False


class TomlSlip(NamedTuple):
    """A TOML error as config.toml and front matter say it."""

    number: int | None  #: the line tomllib found it on, if it says one
    written: str  #: what is written on that line
    message: str  #: tomllib's, without its position
    said: str  #: the message with the fix of an operator's usual slip, if it is one


def toml_slip(error: tomllib.TOMLDecodeError, text: str) -> TomlSlip:
    """Before Python 3.14 the position is only in the message ("... (at line 3, column 12)")."""
    at = _TOML_AT.search(str(error))
    if at is None:
        return TomlSlip(None, "", str(error), str(error))
    message = str(error)[: at.start()] + str(error)[at.end() :]
    lines = text.split("\n")
    # where tomllib gave up, a line or more below a list left open (or the end of the text)
    opened = unclosed(lines, "[]") if message in ("Unclosed array", "Invalid value") else None
    if opened is not None and opened <= int(at.group(1) or len(lines)):
        said = never_closed("[]")
        return TomlSlip(opened, lines[opened - 1], said, said)
    if at.group(1) is None:  # at the end of the text
        return TomlSlip(None, "", message, message)
    number = int(at.group(1))
    written = lines[number - 1] if number <= len(lines) else ""
    fix = next((fix for slip, fix in _TOML_SLIPS if slip(message, written)), "")
    return TomlSlip(number, written, message, message + (f"; {fix}" if fix else ""))


_TOML_AT = re.compile(r" \(at (?:line (\d+), column \d+|end of document)\)")


def unclosed(lines: list[str], pair: str, yaml: bool = False) -> int | None:
    """The line (from 1) of the last opening bracket of `pair` ("[]", "{}") still open after
    `lines`, outside strings and comments: a list whose `]` was forgotten. TOML's quoting, or
    with `yaml` YAML's, where a quote opens a string only where a value starts (not in
    `Biden's visit`) and `#` a comment only after a blank (not in `c#`)."""
    opened: list[int] = []
    quote = ""  #: the string being read: its opening quote(s)
    for number, line in enumerate(lines, start=1):
        index = 0
        while index < len(line):
            if quote:
                if line.startswith(quote, index) and not _escaped(line, index, quote):
                    index += len(quote)
                    quote = ""
                else:
                    index += 1
                continue
            char = line[index]
            before = line[:index].rstrip()
            if char == "#" and (not yaml or not line[:index] or line[index - 1] in " \t"):
                break
            if char in "\"'" and (not yaml or not before or before[-1] in ":[{,-?"):
                triple = not yaml and line.startswith(char * 3, index)
                quote = char * 3 if triple else char
                index += len(quote)
                continue
            if char == pair[0]:
                opened.append(number)
            elif char == pair[1] and opened:
                opened.pop()
            index += 1
    return opened[-1] if opened else None


def never_closed(pair: str) -> str:
    """What is said of a bracket of `pair` that `unclosed` found open, on its line."""
    return f"the {pair[0]!r} on this line is never closed; end it with {pair[1]!r}"


def _escaped(line: str, index: int, quote: str) -> bool:
    """Whether the quote at `index` is escaped: only in a basic string, by an odd run of \\."""
    if quote.startswith("'"):
        return False
    run = len(line[:index]) - len(line[:index].rstrip("\\"))
    return run % 2 == 1


#: what an operator's slip looks like to tomllib, and its fix
_TOML_SLIPS: tuple[tuple[Callable[[str, str], bool], str], ...] = (
    (  # a double one anywhere; a single one opening a value, not one inside a word
        lambda message, line: re.search("[\u201c\u201d]|=\\s*[\u2018\u2019]", line) is not None,
        'write straight quotes ("), not typographic ones',
    ),
    (
        lambda message, line: "Illegal character '\\n'" in message,
        "close the string with its quote on the same line",
    ),
    (
        lambda message, line: re.search(r"=\s*(True|False)\b", line) is not None,
        "write true and false in lower case",
    ),
    (
        lambda message, line: message.startswith("Cannot declare"),
        "this table is given twice: keep one, with all its keys",
    ),
    (
        lambda message, line: message.startswith("Cannot overwrite a value"),
        "this key is given twice in its table: keep one",
    ),
    (
        lambda message, line: message.startswith("Expected '=' after a key"),
        "write each setting as key = value",
    ),
    (
        lambda message, line: message.startswith("Invalid value"),
        'quote text ("like this"); numbers and true/false are written bare',
    ),
)


def is_ignored(name: str) -> bool:
    """Hidden files, editor backups and swap files are never articles."""
    return (
        name.startswith(".")
        or name.endswith("~")
        or name.endswith((".swp", ".swo", ".tmp"))
        or (name.startswith("#") and name.endswith("#"))
    )


def let_read(error: OSError) -> str:
    """The fix of a file or directory feedsvc may not read."""
    return (
        f"; let the user feedsvc runs as (uid {os.geteuid()}) read it"
        if isinstance(error, PermissionError)
        else ""
    )
