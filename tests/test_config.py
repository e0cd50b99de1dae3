"""config.toml → a validated Config; every mistake names the file, line, key and the fix."""

from __future__ import annotations

import codecs
import re
import shutil
from pathlib import Path

import pytest

from feedsvc.config import load_config, state_dir_of
from feedsvc.errors import ConfigError
from tests.conftest import ROOT, config_text


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    (tmp_path / "articles").mkdir(exist_ok=True)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding=encoding)
    return path


def with_site_key(key: str, value: str) -> str:
    """The test config with one more key in [site]."""
    desk = 'description = "Tests of the desk."'
    return config_text().replace(desk, f'{desk}\n{key} = "{value}"', 1)


def test_the_shipped_config_is_valid_and_lists_the_five_sections() -> None:
    config = load_config(ROOT / "config.toml")
    assert [s.name for s in config.sections] == [
        "America",
        "Europe",
        "Middle East",
        "Asia",
        "Diplomacy",
    ]
    assert [s.slug for s in config.sections] == [
        "america",
        "europe",
        "middle-east",
        "asia",
        "diplomacy",
    ]
    assert config.content.articles_dir == ROOT / "articles"
    assert config.content.state_dir == ROOT / "var"
    assert config.content.max_file_bytes == 10 * 1024 * 1024


def test_relative_paths_are_relative_to_the_file(tmp_path: Path, cwd: Path) -> None:
    nested = tmp_path / "etc"
    nested.mkdir()
    (nested / "articles").mkdir()
    path = nested / "config.toml"
    path.write_text(config_text(), encoding="utf-8")
    config = load_config(path)
    assert config.content.articles_dir == nested / "articles"
    assert config.content.state_dir == nested / "var"


def test_the_file_comes_from_the_environment_then_the_working_directory(
    tmp_path: Path, cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, config_text())
    assert load_config().path == tmp_path / "config.toml"
    other = tmp_path / "other"
    other.mkdir()
    write(other, config_text().replace("Test Desk", "Other Desk"))
    monkeypatch.setenv("FEEDSVC_CONFIG", str(other / "config.toml"))
    assert load_config().site.title == "Other Desk"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("max_entries = 50", "max_entries = true"),
            r"config.toml:\d+: feeds.max_entries: expected an integer, found boolean True",
        ),
        (
            ("max_entries = 50", "max_entries = 50\ncolour = 1"),
            r"config.toml:\d+: feeds.colour: unknown key \(known keys: full_content, max_entries\)",
        ),
        (
            ('base_url = "http://127.0.0.1:8000"', 'base_url = "example.org"'),
            r"site.base_url: expected an absolute http\(s\) URL",
        ),
        (
            ('timezone = "Europe/Paris"', 'timezone = "Mars/Base"'),
            r"site.timezone: unknown time zone 'Mars/Base'",
        ),
        (
            ('articles_dir = "articles"', 'articles_dir = "missing"'),
            r"content.articles_dir: the directory .*missing does not exist",
        ),
        (("[feeds]", "[feeds"), r"config.toml:\d+: invalid TOML: Expected ']'"),
        (
            ("max_entries = 50", "max_entries = " + "[" * 5000 + "]" * 5000),
            r"config.toml:14: invalid TOML: values nested too deep to read; flatten them$",
        ),
        (
            ("interval_seconds = 300", "interval_seconds = 0"),
            r"refresh.interval_seconds: expected a value from 1 to 86400, found 0",
        ),
    ],
)
def test_a_wrong_key_or_type_names_key_line_expected_and_found(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    text = config_text()
    assert change[0] in text
    path = write(tmp_path, text.replace(change[0], change[1], 1))
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_a_value_nested_too_deep_over_many_lines_is_said_on_a_line_of_it(tmp_path: Path) -> None:
    """tomllib's parser recurses: it died with a RecursionError, and `check` with it."""
    deep = "\n".join(["["] * 3000 + ["]"] * 3000)
    text = config_text().replace("max_entries = 50", f"max_entries = {deep}")
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, text))
    said = re.search(r"config.toml:(\d+): invalid TOML: values nested too deep", str(raised.value))
    assert said is not None and text.split("\n")[int(said[1]) - 1] == "["


@pytest.mark.parametrize(
    ("table", "setting", "attribute", "read"),
    [
        ("feeds", "max_entries = 1000", "max_entries", 1000),
        ("refresh", "interval_seconds = 86400", "interval_seconds", 86400),
        ("refresh", "debounce_seconds = 60", "debounce_seconds", 60.0),  # whole seconds
        ("refresh", "debounce_seconds = 0", "debounce_seconds", 0.0),
        ("refresh", "debounce_seconds = 0.5", "debounce_seconds", 0.5),
    ],
)
def test_a_value_at_either_end_of_its_range_and_whole_seconds_are_taken(
    tmp_path: Path, table: str, setting: str, attribute: str, read: float
) -> None:
    """The message of a value out of range names its ends: "from 1 to 1000" takes 1000."""
    path = write(tmp_path, config_text(**{table: setting}))
    found = getattr(getattr(load_config(path), table), attribute)
    assert (found, type(found)) == (read, type(read))


@pytest.mark.parametrize(
    ("language", "taken"),
    [
        ("fr", True),
        ("haw", True),  # ISO 639-2/3: three letters
        ("en-GB", True),
        ("zh-Hant-TW", True),
        ("english", False),
        ("en_GB", False),
    ],
)
def test_the_language_is_a_tag_of_two_or_three_letters_and_its_subtags(
    tmp_path: Path, language: str, taken: bool
) -> None:
    path = write(tmp_path, config_text().replace('language = "en"', f'language = "{language}"'))
    if taken:
        assert load_config(path).site.language == language
        return
    with pytest.raises(ConfigError, match="site.language: expected a language tag such as 'en'"):
        load_config(path)


def test_an_articles_dir_that_is_a_file_is_said_to_be_one(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("", encoding="utf-8")
    path = write(tmp_path, config_text().replace('"articles"', '"notes.txt"', 1))
    with pytest.raises(ConfigError, match=r"articles_dir: .*notes.txt is a file, not a directory"):
        load_config(path)


@pytest.mark.parametrize(
    ("directories", "said"),
    [
        ('articles_dir = "articles"\nstate_dir = "articles/var"', "inside"),
        ('articles_dir = "articles"\nstate_dir = "articles"', "inside"),
        ('articles_dir = "."', "inside"),  # the default state_dir, var, is in there
        ('articles_dir = "articles"\nstate_dir = "~/feedsvc/var"', "'~' is not expanded"),
        ('articles_dir = "articles"\nstate_dir = "$HOME/var"', "variable is not expanded"),
        ('articles_dir = "articles"\nstate_dir = "${STATE}"', "variable is not expanded"),
        ('articles_dir = "articles"\nstate_dir = "articles/.feedsvc"', None),  # never listed
        ('articles_dir = "articles"\nstate_dir = "articles/state~"', None),  # nor a backup's
        ('articles_dir = "articles"\nstate_dir = "cost$"', None),
    ],
)
def test_a_state_dir_a_scan_of_the_articles_would_list_or_a_shell_would_expand_is_refused(
    tmp_path: Path, directories: str, said: str | None
) -> None:
    """Inside articles/, a watcher refreshed at each of the state_dir's own writes without end;
    "~/var" made a directory named "~" beside the config, away from the backups of ~/var."""
    text = config_text(content=directories)
    path = write(tmp_path, text)
    if said is None:
        load_config(path)
        return
    with pytest.raises(ConfigError, match=r"config.toml(:\d+)?: content.state_dir: ") as raised:
        load_config(path)
    assert said in str(raised.value)
    assert not list(tmp_path.glob("[~$]*"))


def test_the_web_side_serves_from_a_state_dir_inside_articles_which_only_a_scan_minds(
    tmp_path: Path,
) -> None:
    """The refresher refuses it and keeps its last good config; a web worker serves what was
    published there rather than drop into its error page."""
    path = write(tmp_path, config_text(content='state_dir = "articles/var"'))
    config = load_config(path, check_articles=False)
    assert config.content.state_dir == tmp_path / "articles" / "var"


def test_a_state_dir_an_earlier_release_made_under_a_literal_tilde_is_named_to_move(
    tmp_path: Path,
) -> None:
    """It holds the store, and the store the published ids: a new one would mint them again."""
    made = tmp_path / "~" / "feedsvc" / "var"
    made.mkdir(parents=True)
    path = write(tmp_path, config_text(content='state_dir = "~/feedsvc/var"'))
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).endswith(
        f"content.state_dir: '~' is not expanded here: write the whole path; move {made}, "
        "made so far, to it, found '~/feedsvc/var'"
    )
    shutil.rmtree(tmp_path / "~")  # none made: nothing to move
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).endswith(
        "content.state_dir: '~' is not expanded here: write the whole path, found '~/feedsvc/var'"
    )


def test_markup_in_a_text_value_is_said_on_its_line_and_published_as_written(
    tmp_path: Path,
) -> None:
    """'&amp;' or a tag in the site's title, author or a description: the W3C validator warned
    on every feed ("title should not contain HTML"), and nothing said so."""
    text = (
        config_text()
        .replace('title = "Test Desk"', 'title = "Tom &amp; Jerry"')
        .replace('author = "Test Desk newsroom"', 'author = "Desk &#38; Co"')
        .replace('description = "News: Asia."', 'description = "News: <b>Asia</b>."')
    )
    config = load_config(write(tmp_path, text))
    lines = text.split("\n")
    said = [(p.path, p.line, p.severity, p.message.split(" holds ")[0]) for p in config.problems]
    path = str(tmp_path / "config.toml")
    assert said == [
        (path, lines.index('title = "Tom &amp; Jerry"') + 1, "warning", "site.title"),
        (path, lines.index('author = "Desk &#38; Co"') + 1, "warning", "site.author"),
        (
            path,
            lines.index('description = "News: <b>Asia</b>."') + 1,
            "warning",
            "sections.description",
        ),
    ]
    assert "write site.title as plain text ('&' for '&amp;'" in config.problems[0].message
    assert config.site.title == "Tom &amp; Jerry"  # published as written: the operator decides
    plain = config_text().replace('title = "Test Desk"', 'title = "Tom & Jerry <3 news"')
    assert load_config(write(tmp_path, plain)).problems == ()


def test_the_line_named_is_the_line_of_the_key(tmp_path: Path) -> None:
    text = config_text().replace("max_entries = 50", "max_entries = 'many'")
    path = write(tmp_path, text)
    line = text.splitlines().index("max_entries = 'many'") + 1
    with pytest.raises(ConfigError, match=f"config.toml:{line}: feeds.max_entries"):
        load_config(path)


@pytest.mark.parametrize(
    ("key", "written", "fix"),
    [
        (
            "base_url",
            "https://bücher.example/nachrichten",
            "https://xn--bcher-kva.example/nachrichten",
        ),
        ("base_url", "https://example.org/café", "https://example.org/caf%C3%A9"),
        ("base_url", "http://[::1]:8000/nü", "http://[::1]:8000/n%C3%BC"),
        (
            "link_pattern",
            "https://cms.example.org/{slug}/ü",
            "https://cms.example.org/{slug}/%C3%BC",
        ),
    ],
)
def test_urls_must_be_ascii_and_the_message_gives_their_ascii_form(
    tmp_path: Path, key: str, written: str, fix: str
) -> None:
    """Feeds carry them in links, self links and new entry ids: as written, every feed had W3C
    errors ("IRI found where URL expected") and ids were minted for a host no tag URI allows."""
    text = config_text(base_url=written) if key == "base_url" else config_text()
    if key != "base_url":
        text = text.replace('language = "en"', f'language = "en"\n{key} = "{written}"')
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith(key))
    said = f"site.{key}: expected a URL in ASCII, as feeds must give it: '{fix}'"
    message = f"config.toml:{line}: {said}"
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(write(tmp_path, text))


def test_two_section_names_alike_in_nfkc_are_refused_as_written(tmp_path: Path) -> None:
    text = config_text(sections=["Europe", "\uff25urope"])  # a full-width E
    with pytest.raises(ConfigError, match="two sections share the name '\uff25urope'"):
        load_config(write(tmp_path, text))


def test_a_host_idna_2003_would_spell_otherwise_gets_no_wrong_suggestion(tmp_path: Path) -> None:
    """Python's codec maps "ß" to "ss": another host than the one browsers reach."""
    with pytest.raises(ConfigError, match=r"the same, with its host as a browser shows it"):
        load_config(write(tmp_path, config_text(base_url="https://straße.example")))


def test_a_key_missing_from_the_second_section_is_said_on_its_header(tmp_path: Path) -> None:
    text = config_text().replace('name = "Europe"', 'slug = "europe"')
    line = [n for n, row in enumerate(text.splitlines(), 1) if row == "[[sections]]"][1]
    with pytest.raises(ConfigError, match=f"config.toml:{line}: sections.name: missing"):
        load_config(write(tmp_path, text))


def test_keys_above_any_table_header_are_said_to_lack_it_once(tmp_path: Path) -> None:
    """One mistake, one line: not one line per key of the table whose header was deleted."""
    text = config_text().replace("[site]\n", "", 1)
    assert said_on(tmp_path, text, 'title = "Test Desk"') == (
        "title, base_url, language, timezone, author, description: unknown keys "
        "(keys of [site]: is its table header missing above them?)"
    )


@pytest.mark.parametrize("value", [0, 1001])
def test_a_sections_max_entries_is_from_1_to_1000(tmp_path: Path, value: int) -> None:
    """0 is no way to empty a feed: refused, not taken for the feeds' number."""
    text = config_text(sections=["Asia"]).replace(
        'name = "Asia"', f'name = "Asia"\nmax_entries = {value}'
    )
    assert said_on(tmp_path, text, f"max_entries = {value}") == (
        f"sections.max_entries: expected a value from 1 to 1000, found {value}"
    )
    text = text.replace(f"max_entries = {value}", "max_entries = 3")
    assert load_config(write(tmp_path, text)).sections[0].max_entries == 3


def test_sections_must_be_unique_and_all_is_reserved(tmp_path: Path) -> None:
    path = write(tmp_path, config_text() + '[[sections]]\nname = "europe"\n')
    with pytest.raises(ConfigError, match="two sections share the name 'europe'"):
        load_config(path)
    path = write(tmp_path, config_text() + '[[sections]]\nname = "All"\n')
    with pytest.raises(ConfigError, match="'all' is reserved"):
        load_config(path)


def test_two_names_that_make_one_slug_are_said_on_the_second_name_s_line(
    tmp_path: Path,
) -> None:
    text = config_text(sections=["Middle East", "Middle-East"])
    line = text.splitlines().index('name = "Middle-East"') + 1
    message = (
        rf"config.toml:{line}: sections.name: two sections share the slug 'middle-east' "
        r"\(this one made of its name"
    )
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_a_mistake_in_a_later_section_names_that_section_s_line(tmp_path: Path) -> None:
    text = config_text().replace('name = "Asia"', 'name = "Asia"\nslug = "Bad Slug"')
    path = write(tmp_path, text)
    line = text.splitlines().index('slug = "Bad Slug"') + 1
    assert line > text.splitlines().index('name = "America"') + 2  # not the first section
    with pytest.raises(ConfigError, match=f"config.toml:{line}: sections.slug"):
        load_config(path)
    text = config_text() + '[[sections]]\nname = "europe"\n'  # the second of two Europes
    path = write(tmp_path, text)
    line = len(text.splitlines())
    with pytest.raises(ConfigError, match=f"config.toml:{line}: sections.name: two sections"):
        load_config(path)


def test_a_section_slug_too_long_for_a_file_name_is_refused(tmp_path: Path) -> None:
    """The section's page is a file named by it: too long, the whole publish failed."""
    row = f'slug = "{"x" * 241}"'
    said = said_on(tmp_path, config_text().replace('name = "Asia"', f'name = "Asia"\n{row}'), row)
    assert said == (
        "sections.slug: expected lowercase letters, digits and single hyphens, at most 240 of "
        f"them, such as 'middle-east', found '{'x' * 241}'"
    )


@pytest.mark.parametrize(
    "base_url",
    [
        "https://news.example.org#top",
        "https://news.example.org/?lang=en",
        " https://news.example.org",
        "https://news .org",
    ],
)
def test_a_base_url_that_would_break_every_link_is_refused(tmp_path: Path, base_url: str) -> None:
    text = config_text().replace("http://127.0.0.1:8000", base_url, 1)
    with pytest.raises(ConfigError, match="site.base_url: expected"):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("https://:80", "expected a host name"),
        ("https://news.example.org:99999", "expected a port from 1 to 65535"),
        ("https://news.example.org:https", "expected a port from 1 to 65535"),
        ("https://user:secret@news.example.org", "expected no 'user:password@'"),
        ("https://[news.example.org", r"expected an absolute http\(s\) URL"),
    ],
)
def test_a_base_url_needs_a_host_a_valid_port_and_no_credentials(
    tmp_path: Path, base_url: str, message: str
) -> None:
    text = config_text(base_url=base_url)
    line = text.splitlines().index(f'base_url = "{base_url}"') + 1
    with pytest.raises(ConfigError, match=rf"config.toml:{line}: site.base_url: {message}"):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize(
    ("key", "url"), [("icon", "https://:80/icon.png"), ("link_pattern", "https://:80/{slug}")]
)
def test_icon_and_link_pattern_need_a_host_too(tmp_path: Path, key: str, url: str) -> None:
    text = with_site_key(key, url)
    line = text.splitlines().index(f'{key} = "{url}"') + 1
    with pytest.raises(ConfigError, match=rf"config.toml:{line}: site.{key}: expected a host name"):
        load_config(write(tmp_path, text))


def test_the_site_author_is_a_name_without_an_email_address(tmp_path: Path) -> None:
    text = config_text().replace('"Test Desk newsroom"', '"Desk <desk@example.org>"')
    line = text.splitlines().index('author = "Desk <desk@example.org>"') + 1
    message = rf"config.toml:{line}: site.author: expected a name, without an email address"
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize("key", ["title", "description"])
def test_a_control_character_no_feed_can_carry_is_refused_on_its_line(
    tmp_path: Path, key: str
) -> None:
    # TOML lets "\u0001" through; lxml refuses it at every refresh after
    text = config_text().replace(f'{key} = "', f'{key} = "World\\u0001 ', 1)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "\\u0001" in row)
    message = rf"config.toml:{line}: site.{key}: contains U\+0001, a character XML cannot carry"
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_a_c1_control_character_loads_as_it_did(tmp_path: Path) -> None:
    """XML carries U+0092 (a Windows-1252 apostrophe pasted as Latin-1): not refused."""
    text = config_text().replace('title = "', 'title = "Editor\\u0092s ', 1)
    assert load_config(write(tmp_path, text)).site.title.startswith("Editor\u0092s ")


@pytest.mark.parametrize(
    ("written", "published"),
    [
        ("HTTPS://News.Example.org", "https://news.example.org"),
        ("http://news.example.org:80/desk", "http://news.example.org/desk"),
        (
            "https://news.example.org.:443/%7edesk/caf%c3%a9",
            "https://news.example.org/~desk/caf%C3%A9",
        ),
        ("http://[::1]:8000/news", "http://[::1]:8000/news"),
    ],
)
def test_a_base_url_is_published_as_validators_compare_urls(
    tmp_path: Path, written: str, published: str
) -> None:
    """The W3C validator warned of every id and self link of an Atom feed otherwise: 'not in
    canonical form'."""
    text = with_site_key("link_pattern", written + "/stories/{slug}")
    text = text.replace("http://127.0.0.1:8000", written, 1)
    site = load_config(write(tmp_path, text)).site
    assert site.base_url == published
    assert site.link_pattern == published + "/stories/{slug}"


@pytest.mark.parametrize(
    ("change", "fix"),
    [
        (('language = "en"', "language = \u201cen\u201d"), "write straight quotes"),
        (('language = "en"', 'language = "en'), "close the string with its quote"),
        (('title = "Test Desk"', 'title = "The world\u2019s desk'), "close the string"),
        (('title = "Test Desk"', 'title = "Test Desk\u201d'), "write straight quotes"),
        (('language = "en"', 'language "en"'), "write each setting as key = value"),
        (("[[sections]]", "[sections]"), "each section is a [[sections]] table, with two"),
        (("[feeds]", "[feeds]\nfull_content = true\n[feeds]"), "this table is given twice"),
        (('language = "en"', 'language = "en"\nlanguage = "fr"'), "this key is given twice"),
        (("[refresh]", "[refresh]\nwatch = True"), "write true and false in lower case"),
    ],
)
def test_a_toml_slip_is_told_on_its_line_with_its_fix(
    tmp_path: Path, change: tuple[str, str], fix: str
) -> None:
    text = config_text()
    assert change[0] in text
    with pytest.raises(
        ConfigError, match=r"config.toml:\d+: invalid TOML: [^;]+; " + re.escape(fix)
    ):
        load_config(write(tmp_path, text.replace(*change, 1)))


@pytest.mark.parametrize(
    ("site_keys", "line"),
    [
        ('language = ["en"', 4),  # tomllib gives up on the line below it
        ('icon = "https://x.org/[a]\\"[\\"" # [\nlanguage = ["en", "x # ]"  # ]', 5),
        ("language = ['en\\']\nicon = [\"x\"", 5),  # no escape in a literal string
        ('language = [\n"""a "]" b""",\n"en"', 4),  # quotes inside a string of three
        ('language = [\n"a \\"]\\" b",\n"en"', 4),  # an escaped quote
    ],
    ids=[
        "one line below",
        "brackets in strings and a comment",
        "a literal string",
        "three quotes",
        "an escaped quote",
    ],
)
def test_a_list_left_open_is_said_where_it_opens(tmp_path: Path, site_keys: str, line: int) -> None:
    text = config_text().replace('language = "en"', site_keys, 1)
    assert refused(write(tmp_path, text)) == [
        f":{line}: invalid TOML: the '[' on this line is never closed; end it with ']'"
    ]
    text = config_text() + '[[sections]]\nname = "Asia"\ndescription = ["Asia."\n'
    line = line_in(text, 'description = ["Asia."')  # at the end of the file
    assert refused(write(tmp_path, text))[0].startswith(f":{line}: invalid TOML: the '['")


def test_a_list_closed_further_down_is_no_list_left_open(tmp_path: Path) -> None:
    """A value wrong inside it: said where tomllib stumbled, as any slip."""
    text = config_text().replace('language = "en"', 'language = [\n  "en",\n  en,\n]', 1)
    assert said_on(tmp_path, text, "  en,") == (
        'invalid TOML: Invalid value; quote text ("like this"); numbers and true/false are '
        "written bare"
    )


def test_a_link_pattern_and_an_icon_may_have_a_query(tmp_path: Path) -> None:
    # a CMS's story URL, a CDN's resized icon: only base_url has paths added to it
    text = with_site_key("link_pattern", "https://cms.example.org/index.php?story={slug}")
    text = text.replace('description = "', 'icon = "https://cdn.example.org/i.png?w=64&h=64"\n'
                        'description = "', 1)  # fmt: skip
    site = load_config(write(tmp_path, text)).site
    assert site.link_pattern == "https://cms.example.org/index.php?story={slug}"
    assert site.icon == "https://cdn.example.org/i.png?w=64&h=64"


@pytest.mark.parametrize("other", ["{id}", "{Slug}", "}"])
def test_slug_is_the_only_placeholder_of_a_link_pattern(tmp_path: Path, other: str) -> None:
    path = write(
        tmp_path, with_site_key("link_pattern", f"https://news.example.org/{{slug}}/{other}")
    )
    message = f"site.link_pattern: expected '{{slug}}' as the only placeholder, not '{other}'"
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(path)


def test_a_config_without_sections_is_refused_unless_new_sections_are_allowed(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, config_text(sections=[]))  # what a file cut short while saved looks like
    fix = 'add a [[sections]] entry with name = "..." for each section, or set content.allow'
    with pytest.raises(ConfigError, match=r"config.toml: sections: none configured, .*; ") as e:
        load_config(path)
    assert fix in str(e.value)
    allowed = 'articles_dir = "articles"\nallow_new_sections = true'
    path = write(tmp_path, config_text(sections=[], content=allowed))
    assert load_config(path).sections == ()


@pytest.mark.parametrize("separator", ["\u2028", "\u0085"])
def test_lines_are_counted_at_newlines_only(tmp_path: Path, separator: str) -> None:
    """TOML comments may hold Unicode line separators; they do not start a line."""
    text = config_text().replace("[feeds]", f"# how many{separator}entries\n[feeds]")
    text = text.replace("max_entries = 50", "max_entries = 'many'")
    path = write(tmp_path, text)
    line = line_in(text, "max_entries = 'many'")
    with pytest.raises(ConfigError, match=f"config.toml:{line}: feeds.max_entries"):
        load_config(path)


@pytest.mark.parametrize(
    ("table", "misspelt", "meant"),
    [("[feeds]", "[feed]", "[feeds]"), ("[site]", "[sitex]", "[site]")],
)
def test_a_misspelt_table_is_named_with_the_line_of_its_header(
    tmp_path: Path, table: str, misspelt: str, meant: str
) -> None:
    """Said once: [site]'s keys are not also said to be missing."""
    text = config_text().replace(table, misspelt)
    path = write(tmp_path, text)
    line = text.splitlines().index(misspelt) + 1
    key = misspelt.strip("[]")
    assert refused(path) == [f":{line}: {key}: unknown key (a misspelt {meant}?)"]


def test_the_state_dir_of_a_config_saved_as_latin_1_is_still_found(tmp_path: Path) -> None:
    """So that a web worker restarting meanwhile serves what is published (see create_app)."""
    text = config_text(content='state_dir = "published"').replace("Test Desk", "Actualités")
    path = write(tmp_path, text, encoding="latin-1")
    line = line_in(text, 'title = "Actualités"')  # the first byte that is not
    said = f":{line}: the config file is not UTF-8 (invalid continuation byte); save it as UTF-8"
    assert refused(path) == [said]
    assert state_dir_of(path) == tmp_path / "published"
    path.write_bytes(codecs.BOM_UTF8 + b"[site]\n\xe9t\xe9\n")  # the mark counts no line
    assert refused(path) == [said.replace(f":{line}:", ":2:")]


def refused(path: Path) -> list[str]:
    """Each line of the error that refuses the file, the file's path taken off: ":7: key:
    message", or ": key: message" where no line is known."""
    with pytest.raises(ConfigError) as refusal:
        load_config(path)
    return [line.removeprefix(str(path)) for line in str(refusal.value).split("\n")]


def test_every_section_s_mistake_is_said_at_once_each_with_its_fix(tmp_path: Path) -> None:
    """A name said twice, a slug that is none and a slug taken came one fix at a time: only a
    section that was right itself was compared with the others (op38)."""
    text = config_text() + (
        '[[sections]]\nname = "asia"\n\n'
        '[[sections]]\nname = "Africa"\nslug = "Europe"\n\n'
        '[[sections]]\nname = "Latin America"\nslug = "america"\n'
    )
    rows = ('name = "asia"', 'slug = "Europe"', 'slug = "america"')
    name, bad, taken = (line_in(text, row) for row in rows)
    assert refused(write(tmp_path, text)) == [
        f":{name}: sections.name: two sections share the name 'asia' (names are compared "
        "without their case and spacing): remove one",
        f":{bad}: sections.slug: expected lowercase letters, digits and single hyphens, at most "
        "240 of them, such as 'middle-east', found 'Europe'",
        f":{taken}: sections.slug: two sections share the slug 'america'",
        ": 3 mistakes, one a line above",
    ]


def test_mistakes_without_a_line_come_after_those_with_one(tmp_path: Path) -> None:
    """[site] missing whole: its keys have no line to be said on."""
    text = config_text(feeds="max_entries = 0")
    text = text[: text.index("[site]")] + text[text.index("[content]") :]
    said = refused(write(tmp_path, text))
    assert keys_of(said) == ["feeds.max_entries", "site"]
    assert said[1] == ": site: missing; expected a table [site] with its title, base_url and author"
    assert said[0].startswith(f":{text.split(chr(10)).index('max_entries = 0') + 1}: ")


def line_in(text: str, row: str) -> int:
    """The number of the line of `text` that is `row`."""
    return text.split("\n").index(row) + 1


def said_on(tmp_path: Path, text: str, row: str) -> str:
    """The one mistake that refuses `text` as config.toml, said on the line that is `row`,
    its place taken off."""
    (said,) = refused(write(tmp_path, text))
    place = f":{line_in(text, row)}: "
    assert said.startswith(place), said
    return said.removeprefix(place)


def keys_of(said: list[str]) -> list[str]:
    """The key of each mistake `refused` gives, without the count that follows several."""
    return [line.split(": ")[1] for line in (said[:-1] if len(said) > 1 else said)]


def test_every_mistake_of_the_file_is_said_at_once_in_its_order(tmp_path: Path) -> None:
    """An operator fixes them all in one go, not one per run."""
    text = config_text(
        feeds="max_entries = 0\nfull_content = true",
        refresh="interval_seconds = 300\nwatch = 1",
    ).replace('timezone = "Europe/Paris"', 'timezone = "Europe/Pariss"\ntheme = "dark"')
    text = text.replace('base_url = "http://127.0.0.1:8000"', 'base_url = "127.0.0.1:8000"')
    text = text.replace('name = "Asia"', 'name = ""')
    path = write(tmp_path, text)
    lines = text.split("\n")
    assert refused(path) == [
        f":{lines.index(line) + 1}: {said}"
        for line, said in [
            (
                'base_url = "127.0.0.1:8000"',
                "site.base_url: expected an absolute http(s) URL such as "
                "'https://news.example.org', found '127.0.0.1:8000'",
            ),
            (
                'timezone = "Europe/Pariss"',
                "site.timezone: unknown time zone 'Europe/Pariss'; use an IANA name like UTC",
            ),
            (
                'theme = "dark"',
                "site.theme: unknown key (known keys: author, base_url, description, icon, "
                "language, link_pattern, timezone, title)",
            ),
            ("max_entries = 0", "feeds.max_entries: expected a value from 1 to 1000, found 0"),
            ("watch = 1", "refresh.watch: expected a boolean, found integer 1"),
            ('name = ""', "sections.name: expected a non-empty string, found ''"),
        ]
    ] + [": 6 mistakes, one a line above"]


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ('site = "Desk"\n\n[content]' + config_text().split("[content]", 1)[1], ["site"]),
        (
            config_text().replace("[site]\n", ""),
            ["title, base_url, language, timezone, author, description"],
        ),
        (
            config_text(content='articles_dir = "~/news"\nstate_dir = "var"'),
            ["content.articles_dir"],
        ),
        (
            config_text(sections=["", "Europe", " "]),
            ["sections.name", "sections.name"],
        ),
        (config_text(sections=["Europe", "Asia", "europe"]), ["sections.name"]),
        (config_text().replace("[content]", "[contents]"), ["contents"]),
        (config_text().replace("[[sections]]", "[[section]]"), ["section"]),
        (  # the others still read, and said
            config_text(sections=["Asia", ""]).replace("[[sections]]", "[[section]]", 1),
            ["section", "sections.name"],
        ),
        (
            config_text(sections=["Asia"]).replace("[[sections]]\n", ""),
            ["refresh.name, refresh.description"],
        ),
        (
            config_text(sections=[], content='allow_new_sections = "yes"'),
            ["content.allow_new_sections"],
        ),
        (  # said with the keys above it, not as "none configured"
            config_text(sections=[], content='state_dir = "v"\nallow_new_sections = true').replace(
                "[content]\n", ""
            ),
            ["site.state_dir, site.allow_new_sections"],
        ),
        (config_text(sections=[]).replace("[site]", "sections = 5\n\n[site]"), ["sections"]),
        (config_text(sections=["Asia"]).replace("[[sections]]", "[sections]"), ["sections"]),
        (
            config_text(content='articles_dir = "nope"\nstate_dir = "nope/var"'),
            ["content.articles_dir"],
        ),
    ],
    ids=[
        "a table not a table",
        "its header missing",
        "a directory unexpanded",
        "names empty",
        "names alike",
        "a table misspelt",
        "sections misspelt",
        "one of the sections misspelt",
        "the sections header missing",
        "allow_new_sections wrong",
        "allow_new_sections under a lost header",
        "sections not tables",
        "one [sections] table",
        "a directory missing, the state_dir in it",
    ],
)
def test_a_mistake_brings_no_others_that_follow_from_it(
    tmp_path: Path, text: str, keys: list[str]
) -> None:
    """Not [site]'s keys missing (its header is), nor a directory "~" missing, nor two names
    or slugs alike, nor no section configured (where [[sections]] is misspelt): what stands in
    for a wrong value, or follows from a mistake said, is never itself said."""
    assert keys_of(refused(write(tmp_path, text))) == keys


@pytest.mark.parametrize("value", ["5", '"~/var"', '"$STATE"'])
def test_a_state_dir_the_config_gives_wrongly_is_not_made_out(tmp_path: Path, value: str) -> None:
    """`feedsvc reload` of a broken config asks no refresher in a directory it only guessed."""
    path = write(tmp_path, config_text(content=f"state_dir = {value}"))
    assert state_dir_of(path) is None


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        (
            config_text(content='articles_dir = "news"').replace("[content]", "[contents]"),
            ["contents"],
        ),
        (config_text(content="articles_dir = 5"), ["content.articles_dir"]),
        ('articles_dir = "news"\n' + config_text(content='state_dir = "var"'), ["articles_dir"]),
        (
            config_text(content='articles_dir = "news"', feeds="max_entries = 0"),
            ["content.articles_dir", "feeds.max_entries"],
        ),
        (config_text(content='articles_dir = "."\nstate_dir = "$STATE"'), ["content.state_dir"]),
        (
            config_text(content='articles_dir = "news"', feeds='articles_dir = "x"'),
            ["content.articles_dir", "feeds.articles_dir"],
        ),
    ],
    ids=[
        "[content] misspelt",
        "articles_dir wrong",
        "articles_dir above [site]",
        "a mistake else",
        "state_dir wrong",
        "articles_dir given twice",
    ],
)
def test_the_directories_are_looked_at_as_the_file_gives_them(
    tmp_path: Path, text: str, keys: list[str]
) -> None:
    """Not the default articles/ where the file's setting is wrong or misplaced: told to create
    it, an operator would empty the feeds; nor a state_dir refused as written, inside
    articles_dir ".". Where the directories are as written, a mistake elsewhere (the same key
    given in another table too) does not keep theirs unsaid."""
    path = write(tmp_path, text)
    (tmp_path / "articles").rmdir()
    assert keys_of(refused(path)) == keys


SITE_KEYS = config_text().split("[site]\n", 1)[1].split("\n\n", 1)[0]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            config_text().replace("[SITE]", "[site]").replace("[site]", "[SITE]"),
            ["SITE: unknown key (a misspelt [site]?)"],
        ),
        (
            config_text().replace("[[sections]]", "[[section]]", 1),
            ["section: unknown key (a misspelt [[sections]]?)"],
        ),
        (
            config_text() + "[feed]\nmax_entries = 10\n",
            ["feed: unknown key (known keys: content, feeds, refresh, sections, site)"],
        ),
        (
            'description = "d"\n' + config_text(),
            ["description: unknown key (a key of [site]: is its table header missing above it?)"],
        ),
        (
            config_text(sections=["Asia"]).replace("[[sections]]", "[sections]"),
            [
                "sections: expected [[sections]] tables, found table: each section is a "
                "[[sections]] table, with two brackets"
            ],
        ),
        (  # [site]'s header lost below another table: its keys said where they are, once
            config_text()
            .replace(f"[site]\n{SITE_KEYS}\n\n", "")
            .replace("interval_seconds = 300\n", f"interval_seconds = 300\n{SITE_KEYS}\n"),
            [  # `description`, a key of [[sections]] too, with them
                "refresh.title, refresh.base_url, refresh.language, refresh.timezone, "
                "refresh.author, refresh.description: unknown keys (keys of [site]: is its "
                "table header missing above them?)"
            ],
        ),
        (
            config_text()
            .replace('title = "Test Desk"\n', "")
            .replace('state_dir = "var"', 'state_dir = "var"\ntitle = "Test Desk"'),
            ["content.title: unknown key (a key of [site]: move it there)"],
        ),
        (  # the first section's header lost: its keys end the table above
            config_text(sections=["Asia", "Europe"]).replace("[[sections]]\n", "", 1),
            [
                "refresh.name, refresh.description: unknown keys (keys of [[sections]]: is its "
                "table header missing above them?)"
            ],
        ),
        (  # `max_entries`, a key of [[sections]] too, with the key only [feeds] has
            config_text(feeds="max_entries = 10\nfull_content = true").replace("[feeds]\n", ""),
            [
                "content.max_entries, content.full_content: unknown keys (keys of [feeds]: is "
                "its table header missing above them?)"
            ],
        ),
        (
            config_text(sections=[]) + "[settings]\ntheme = 1\n",
            [
                "settings: unknown key (known keys: content, feeds, refresh, sections, site)",
                "sections: none configured, so every article would be refused; add a "
                '[[sections]] entry with name = "..." for each section, or set '
                "content.allow_new_sections = true",
            ],
        ),
        (
            config_text(sections=[], content='state_dir = "var"\nsections = [{name = "Asia"}]'),
            [
                "content.sections: unknown key ([[sections]] is a table of its own, above or below "
                "[content])"
            ],
        ),
        (
            config_text(sections=[], content='state_dir = "var"\nmax_entries = 5'),
            [
                "content.max_entries: unknown key (known keys: allow_new_sections, "
                "articles_dir, max_file_bytes, state_dir)",
                "sections: none configured, so every article would be refused; add a "
                '[[sections]] entry with name = "..." for each section, or set '
                "content.allow_new_sections = true",
            ],
        ),
    ],
    ids=[
        "a table in capitals",
        "one of the sections misspelt",
        "[feed] beside [feeds]",
        "a key of two tables at the top",
        "one [sections] table",
        "a header lost below another table",
        "a key in the wrong table",
        "a section's header lost",
        "[feeds]'s header lost",
        "a table misspelt of none",
        "a table inside another",
        "a key of two tables",
    ],
)
def test_a_key_in_the_wrong_place_is_said_where_it_belongs(
    tmp_path: Path, text: str, said: list[str]
) -> None:
    """Once, with where it belongs when that is clear: a table misspelt, a header lost or a
    key moved; a key two tables have, or a table that is no misspelling, proves nothing."""
    mistakes = refused(write(tmp_path, text))
    assert [
        line.split(": ", 1)[1] for line in (mistakes[:-1] if len(mistakes) > 1 else mistakes)
    ] == said


@pytest.mark.parametrize("zone", ["America", "Europe/Paris/" + "x" * 300])
def test_a_time_zone_that_is_a_directory_or_too_long_is_refused_not_a_crash(
    tmp_path: Path, zone: str
) -> None:
    text = config_text().replace("Europe/Paris", zone)
    assert said_on(tmp_path, text, f'timezone = "{zone}"') == (
        f"site.timezone: unknown time zone {zone!r}; use an IANA name like UTC"
    )


def test_an_articles_dir_too_long_to_look_up_is_refused_not_a_crash(tmp_path: Path) -> None:
    name = "a" * 300
    text = config_text(content=f'articles_dir = "{name}"')
    assert said_on(tmp_path, text, f'articles_dir = "{name}"') == (
        "content.articles_dir: cannot be looked up: File name too long"
    )


def test_a_state_dir_refused_does_not_keep_a_missing_articles_dir_unsaid(tmp_path: Path) -> None:
    path = write(tmp_path, config_text(content='articles_dir = "news"\nstate_dir = "~/var"'))
    assert keys_of(refused(path)) == ["content.articles_dir", "content.state_dir"]
