"""Articles become entries with identities that never change, and problems never stop the rest."""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest

from feedsvc import corpus, listing
from feedsvc.config import load_config
from feedsvc.corpus import FileBodies, check_files
from feedsvc.errors import StateError
from feedsvc.model import Entry
from feedsvc.readers import ReaderSettings
from feedsvc.refresh import Refresher, RefreshReport
from feedsvc.state import StateStore
from tests.conftest import ALLOW_NEW, SECTIONS, Site, config_text, config_without

ARTICLE = "Europe\nOriginal title\n\nFirst paragraph.\nSecond paragraph.\n"
OTHER = "Asia\nAnother story\n\nIts only paragraph.\n"
LEAD = "Rivers rose two metres overnight.\n"  #: MONSOON's lead, which its rewrite drops
RESCUE = "Rescue teams were sent from the capital on Tuesday morning.\n"  #: and what it keeps
MONSOON = "Asia\nMonsoon floods the delta\n\n" + LEAD + RESCUE
QUAKE_TITLE = "Quake in Nepal"
QUAKE = f"Asia\n{QUAKE_TITLE}\n\nA strong quake struck the hills west of the capital.\n"
VOTE = "Europe\nVote in Paris\n\nThe vote is expected to close late on Sunday night.\n"
#: a paragraph a newsroom's stories share: no evidence of one story
SIGNED = "Reporting by the World Desk; editing by the night desk.\n"
SIGNED_STORY = "Diplomacy\nTalks in Geneva\n\nThe talks went on late.\n" + SIGNED


def entries(site: Site) -> list[Entry]:
    store = StateStore.open(site.root / "var")
    try:
        return store.newest(None, 1000, until=datetime.max.replace(tzinfo=UTC))
    finally:
        store.close()


def published_by_title(site: Site, text: str) -> dict[str, Entry]:
    """`text` published as a.txt; its entries by title."""
    site.write("a.txt", text, mtime=1_700_000_000)
    site.refresh()
    return {e.title: e for e in entries(site)}


def only(site: Site) -> Entry:
    (entry,) = entries(site)
    return entry


def test_the_sample_file_gives_four_entries_with_tag_uris(sample_site: Site) -> None:
    report = sample_site.refresh()
    assert report.added == 4 and report.problems == ()
    found = entries(sample_site)
    assert {e.section for e in found} == {"America"}
    assert all(e.id.startswith("tag:127.0.0.1,2025-06-15:") for e in found)
    assert len({e.id for e in found}) == 4
    # One file, one mtime: the first article counts as the newest, a second apart.
    assert [e.title.split()[0] for e in found] == ["Coup", "Pentagon", "Trump", "US"]
    assert found[0].published - found[1].published == timedelta(seconds=1)


@pytest.mark.parametrize(
    "seconds", [0.4, 0.0, -30.0], ids=["soon after", "same mtime", "an older mtime"]
)
def test_stories_written_above_a_published_one_are_dated_after_it_in_the_files_order(
    site: Site, seconds: float
) -> None:
    """Read a second apart from the file's mtime, the second of two stories written above
    one published a moment before was dated below it: readers got it out of the file's
    order, older than a story they already had."""
    site.write("a.txt", QUAKE, mtime=1_700_000_000)
    site.refresh()
    (quake,) = entries(site)
    site.write("a.txt", VOTE + "\n" + MONSOON + "\n" + QUAKE, mtime=1_700_000_000 + seconds)
    site.refresh()
    found = entries(site)  # newest first
    assert [e.title for e in found] == ["Vote in Paris", "Monsoon floods the delta", QUAKE_TITLE]
    assert (found[2].id, found[2].published, found[2].updated) == (
        quake.id,
        quake.published,
        quake.updated,
    )


def test_new_stories_keep_the_files_order_where_the_dates_after_the_one_below_are_taken(
    site: Site,
) -> None:
    """A story written above one just published, then replaced by two: the first date after
    the published one is the replaced story's, and the lower of the two took the next free
    date only after the upper one had taken it, above it."""
    site.write("a.txt", QUAKE, mtime=1_700_000_000)
    site.refresh()
    site.write("a.txt", OTHER + "\n" + QUAKE, mtime=1_700_000_000 - 30)
    site.refresh()
    site.write("a.txt", VOTE + "\n" + MONSOON + "\n" + QUAKE, mtime=1_700_000_000 - 30)
    site.refresh()
    titles = [e.title for e in entries(site)]  # newest first
    assert titles == ["Vote in Paris", "Monsoon floods the delta", QUAKE_TITLE]


@pytest.mark.parametrize("how", ["renamed", "moved in"])
def test_stories_written_above_one_moved_in_the_same_save_are_dated_after_it(
    site: Site, how: str
) -> None:
    """`mv a.txt b.txt` and two stories on top, or the story moved from another file: found
    as moved (by its text, or its body), it is one of the stories below."""
    site.write("a.txt", QUAKE, mtime=1_700_000_000)
    site.write("z.txt", OTHER, mtime=1_700_000_000 - 100)
    site.refresh()
    (site.articles / "a.txt").unlink()
    quake = QUAKE if how == "renamed" else QUAKE.replace("Quake in Nepal", "Quake in Nepal kills 3")
    target = "b.txt" if how == "renamed" else "z.txt"
    site.write(target, VOTE + "\n" + MONSOON + "\n" + quake, mtime=1_700_000_000.4)
    site.refresh()
    titles = [e.title for e in entries(site) if e.path == target]
    assert titles == ["Vote in Paris", "Monsoon floods the delta", quake.split("\n")[1]]


def test_a_story_moved_from_a_file_read_in_the_same_update_counts_as_below(site: Site) -> None:
    """Moved out of a.txt (where a story was added too: both files wait for the others) and
    retitled: removed as a.txt is applied, after what was removed lately was looked up for
    a.txt's new story; found by its body among this update's removals."""
    site.write("a.txt", QUAKE + "\n" + OTHER, mtime=1_700_000_000)
    site.refresh()
    site.write("a.txt", SIGNED_STORY + "\n" + OTHER, mtime=1_700_000_000 + 5)
    retitled = QUAKE.replace("Quake in Nepal", "Quake in Nepal kills 3")
    site.write("b.txt", VOTE + "\n" + MONSOON + "\n" + retitled, mtime=1_700_000_000.4)
    site.refresh()
    titles = [e.title for e in entries(site) if e.path == "b.txt"]
    assert titles == ["Vote in Paris", "Monsoon floods the delta", "Quake in Nepal kills 3"]


def test_a_story_written_above_one_restored_from_a_backup_is_dated_after_it(site: Site) -> None:
    site.write("a.txt", QUAKE, mtime=1_700_000_000)
    site.refresh()
    (site.articles / "a.txt").unlink()
    site.write("b.txt", OTHER, mtime=1_700_000_000 - 100)  # not an empty articles/
    site.refresh()
    site.write("a.txt", VOTE + "\n" + QUAKE, mtime=1_700_000_000 - 30)
    site.refresh()
    titles = [e.title for e in entries(site)]
    assert titles == ["Vote in Paris", QUAKE_TITLE, "Another story"]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("STORY.TXT", ARTICLE),  # saved so by an older Windows tool
        ("Notes.Md", "---\ntitle: Original title\nsection: Europe\n---\n\nFirst paragraph.\n"),
    ],
)
def test_an_article_file_named_in_capitals_is_read_as_its_suffix_says(
    site: Site, name: str, text: str
) -> None:
    site.write(name, text, mtime=1_700_000_000)
    report = site.refresh()
    assert (report.added, report.problems) == (1, ())
    assert only(site).title == "Original title"


def test_dates_are_timezone_aware_and_published_is_the_first_seen_mtime(site: Site) -> None:
    site.write("a.txt", ARTICLE, mtime=1_700_000_000)
    site.refresh()
    entry = only(site)
    assert entry.published == datetime.fromtimestamp(1_700_000_000, UTC)
    assert entry.published.tzinfo is not None and entry.updated.tzinfo is not None
    assert entry.updated == entry.published


@pytest.mark.parametrize(
    ("edit", "content_changed"),
    [
        (
            lambda s: s.write("a.txt", ARTICLE.replace("Original title", "Edited title"), 1.8e9),
            True,
        ),
        (lambda s: s.write("a.txt", ARTICLE.replace("Second", "Rewritten second"), 1.8e9), True),
        (lambda s: os.utime(s.articles / "a.txt", (1.8e9, 1.8e9)), False),
        (lambda s: os.rename(s.articles / "a.txt", s.articles / "renamed.txt"), False),
        (lambda s: None, False),  # a restart: a new refresher over the same state store
    ],
    ids=["title edit", "body edit", "touch", "rename", "restart"],
)
def test_identity_survives(site: Site, edit, content_changed: bool) -> None:  # type: ignore[no-untyped-def]
    site.write("a.txt", ARTICLE, mtime=1_700_000_000)
    site.write("b.txt", OTHER, mtime=1_700_000_100)
    site.refresh()
    before = {e.section: e for e in entries(site)}
    edit(site)
    report = site.refresh()
    after = {e.section: e for e in entries(site)}
    assert after["Europe"].id == before["Europe"].id
    assert after["Europe"].slug == before["Europe"].slug
    assert after["Europe"].published == before["Europe"].published
    assert (after["Europe"].updated > before["Europe"].updated) is content_changed
    assert after["Asia"] == before["Asia"]
    assert report.added == 0 and report.removed == 0
    assert report.updated == int(content_changed)


@pytest.mark.parametrize(
    "rewritten",
    [
        "Europe\nOriginal titel\n\nFirst paragraph.\nSecond paragraf.\n",  # typos fixed
        "Europe\nA headline rewritten\n\nA new lead.\nSecond paragraph, long enough to count.\n",
    ],
    ids=["title-alike", "a-paragraph-kept"],
)
def test_title_and_body_both_edited_keep_the_id_by_position(site: Site, rewritten: str) -> None:
    article = ARTICLE.replace("Second paragraph.", "Second paragraph, long enough to count.")
    site.write("a.txt", OTHER + "\n" + article)
    site.refresh()
    before = entries(site)
    site.write("a.txt", OTHER + "\n" + rewritten, mtime=1.8e9)
    report = site.refresh()
    assert [e.id for e in entries(site)] == [e.id for e in before]
    assert (report.added, report.updated, report.removed) == (0, 1, 0)


def test_another_story_put_in_an_articles_place_is_a_new_entry(site: Site) -> None:
    """Readers must get it as new (dated now, at the top), not as an edit of the story it
    replaced (dated as that one, perhaps too old for any feed to show)."""
    site.write("a.txt", OTHER + "\n" + ARTICLE)
    site.refresh()
    before = {e.title: e for e in entries(site)}
    site.write("a.txt", OTHER + "\nEurope\nA different story\n\nNothing alike.\n", mtime=1.8e9)
    report = site.refresh()
    after = {e.title: e for e in entries(site)}
    assert (report.added, report.updated, report.removed) == (1, 0, 1)
    assert after["Another story"] == before["Another story"]
    assert after["A different story"].id != before["Original title"].id
    assert after["A different story"].published > before["Original title"].published


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ([MONSOON, VOTE], [QUAKE, "rewritten", VOTE]),  # a story added above it
        ([MONSOON, VOTE], [QUAKE, OTHER, "rewritten", VOTE]),  # two
        ([OTHER, MONSOON], [QUAKE, "rewritten"]),  # replaced by another, and it at the end
    ],
    ids=["one-added-above", "two-added-above", "one-replaced-above"],
)
@pytest.mark.parametrize("sign_off", ["", SIGNED], ids=["", "signed"])
def test_a_story_rewritten_as_stories_above_it_change_keeps_its_id(
    site: Site, before: list[str], after: list[str], sign_off: str
) -> None:
    """Its place is between the stories matched around it, not its position: an editor
    adding the latest story on top rewrites the one below in the same save."""
    site.write("a.txt", "\n".join(story + sign_off for story in before), mtime=1.7e9)
    site.refresh()
    monsoon = {e.title: e for e in entries(site)}["Monsoon floods the delta"]
    rewritten = rewritten_monsoon(MONSOON)
    stories = (rewritten if s == "rewritten" else s for s in after)
    site.write("a.txt", "\n".join(story + sign_off for story in stories), 1.8e9)
    report = site.refresh()
    assert report.updated == 1
    now = {e.title: e for e in entries(site)}
    assert (now["Delta evacuated"].id, now["Delta evacuated"].published) == (
        monsoon.id,
        monsoon.published,
    )
    assert "Monsoon floods the delta" not in now


def test_a_signed_story_rewritten_as_one_is_added_above_keeps_its_id_after_a_deletion(
    site: Site,
) -> None:
    """A story deleted lately is looked for in the file's new stories (put back, edited):
    by a paragraph of its own, not by the desk's line that every story holds."""
    site.write("a.txt", "\n".join(story + SIGNED for story in [OTHER, MONSOON, VOTE]), 1.7e9)
    site.refresh()
    monsoon = {e.title: e for e in entries(site)}["Monsoon floods the delta"]
    site.write("a.txt", "\n".join(story + SIGNED for story in [MONSOON, VOTE]), mtime=1.75e9)
    site.refresh()
    rewritten = rewritten_monsoon(MONSOON)
    site.write("a.txt", "\n".join(story + SIGNED for story in [QUAKE, rewritten, VOTE]), 1.8e9)
    assert site.refresh().updated == 1
    assert {e.title: e for e in entries(site)}["Delta evacuated"].id == monsoon.id


AID = "Asia\nAid ships wait offshore\n\nThree vessels anchored at dawn.\n"  #: a follow-up's own
FOLLOW_UP = AID + RESCUE  # quoting MONSOON
RESULT = "Europe\nParis elects a mayor\n\nTurnout was the lowest in thirty years.\n"


@pytest.mark.parametrize(
    ("before", "saves"),
    [
        ([VOTE, MONSOON], [[FOLLOW_UP, VOTE]]),  # a story kept between their places
        ([VOTE, MONSOON, QUAKE], [[FOLLOW_UP, RESULT, OTHER]]),  # every story replaced
        ([VOTE, MONSOON, QUAKE, OTHER], [[FOLLOW_UP, RESULT, OTHER]]),  # but the last one
        ([VOTE, MONSOON, OTHER], [[FOLLOW_UP, OTHER]]),  # the same, it right above the last
        ([VOTE, MONSOON], [[], [FOLLOW_UP]]),  # the file deleted, then written anew
    ],
    ids=[
        "beyond-a-kept-story",
        "file-rolled-over",
        "rolled-over-but-one",
        "rolled-over-but-the-next-one",
        "file-recreated",
    ],
)
def test_a_story_quoting_one_gone_from_its_file_is_a_new_entry(
    site: Site, before: list[str], saves: list[list[str]]
) -> None:
    """A follow-up repeating a paragraph of a story taken out of the file, written elsewhere
    than in its place, is another story: readers get it as new, not dated as the old one."""
    site.write("a.txt", "\n".join(before), mtime=1.7e9)
    site.refresh()
    monsoon = {e.title: e for e in entries(site)}["Monsoon floods the delta"]
    for mtime, stories in enumerate(saves, start=18):
        if stories:
            site.write("a.txt", "\n".join(stories), mtime=mtime * 1e8)
        else:
            (site.articles / "a.txt").unlink()
        site.refresh()
    now = {e.title: e for e in entries(site)}
    assert "Monsoon floods the delta" not in now
    assert now["Aid ships wait offshore"].id != monsoon.id
    assert now["Aid ships wait offshore"].published > monsoon.published


#: a context line two stories of one topic repeat, and the older of them
CONTEXT = "The delta is home to twelve million people, most of them farmers.\n"
DHAKA = "Asia\nFloods in Dhaka\n\nStreets were under water by noon.\n" + CONTEXT


@pytest.mark.parametrize(
    ("before", "after", "quoted", "rewrite_kept"),
    [
        # the rewrite at the story's own position: it is the story
        ([VOTE, OTHER, MONSOON], [OTHER, "follow-up", "rewritten"], LEAD, True),
        # both where a story right next to them moved the story: neither is said to be it
        (
            [VOTE, OTHER, MONSOON, RESULT],
            [QUAKE, VOTE, OTHER, "follow-up", "rewritten", RESULT],
            LEAD,
            False,
        ),
        # the same, the follow-up quoting more of it, a paragraph the rewrite kept too
        (
            [VOTE, OTHER, MONSOON, RESULT],
            [QUAKE, VOTE, OTHER, "follow-up", "rewritten", RESULT],
            LEAD + RESCUE,
            False,
        ),
        # below the rewrite, in its place, quoting what it kept: that is no evidence of either
        ([VOTE, MONSOON, RESULT], [VOTE, "rewritten", "follow-up", RESULT], LEAD + RESCUE, False),
        # the story written anew, its title's typo fixed, beside a follow-up quoting it
        ([VOTE, MONSOON, RESULT], [QUAKE, VOTE, "follow-up", "retyped", RESULT], LEAD, False),
        # the same, moved past the story below it (so out of its place)
        (
            [VOTE, MONSOON, RESULT, OTHER],
            [QUAKE, VOTE, "follow-up", RESULT, "retyped", OTHER],
            LEAD,
            False,
        ),
    ],
    ids=[
        "rewrite-in-place",
        "both-shifted",
        "both-shifted-quoting-more",
        "follow-up-below",
        "retyped-beside-it",
        "retyped-further-down",
    ],
)
def test_a_follow_up_written_beside_a_rewritten_story_does_not_take_its_id(
    site: Site, before: list[str], after: list[str], quoted: str, rewrite_kept: bool
) -> None:
    """Each holds a paragraph of the story, or its title a typo away."""
    site.write("a.txt", "\n".join(before), mtime=1.7e9)
    site.refresh()
    monsoon = {e.title: e for e in entries(site)}["Monsoon floods the delta"]
    follow_up = AID + quoted
    retyped = "Asia\nMonsoon flood the delta\n\nThe death toll rose to twelve on Wednesday.\n"
    stories = {"follow-up": follow_up, "rewritten": rewritten_monsoon(MONSOON), "retyped": retyped}
    site.write("a.txt", "\n".join(stories.get(s, s) for s in after), mtime=1.8e9)
    site.refresh()
    now = {e.title: e for e in entries(site)}
    rewrite = now["Delta evacuated" if "rewritten" in after else "Monsoon flood the delta"]
    assert (rewrite.id == monsoon.id) is rewrite_kept
    assert now["Aid ships wait offshore"].published > monsoon.published


@pytest.mark.parametrize(
    ("after", "why"),
    [
        ([QUAKE, OTHER, VOTE, "rewritten", RESULT], "the stories around it moved apart"),
        ([QUAKE, OTHER, VOTE, "rewritten"], "it is last: one story around it"),
    ],
    ids=["between-two", "last"],
)
def test_a_rewrite_below_a_deleted_story_sharing_its_context_does_not_take_that_id(
    site: Site, after: list[str], why: str
) -> None:
    """Stories added above, one deleted right above the rewrite: the story's place is not
    sure, and the rewrite holds a paragraph of its own story too."""
    site.write("a.txt", "\n".join([VOTE, DHAKA, MONSOON + CONTEXT, RESULT]), mtime=1.7e9)
    site.refresh()
    before = {e.title: e for e in entries(site)}
    rewritten = rewritten_monsoon(MONSOON.removesuffix(RESCUE)) + CONTEXT  # only that kept
    site.write("a.txt", "\n".join(rewritten if s == "rewritten" else s for s in after), 1.8e9)
    site.refresh()
    now = {e.title: e for e in entries(site)}
    assert now["Delta evacuated"].id != before["Floods in Dhaka"].id, why


def test_a_paragraph_two_stories_held_is_evidence_once_one_of_them_is_deleted(
    site: Site,
) -> None:
    """A context line both stories of a topic repeated is not a sign-off once one is gone:
    the rewrite that kept it is the story."""
    monsoon = MONSOON.removesuffix(RESCUE)
    site.write("a.txt", "\n".join([monsoon + CONTEXT, DHAKA, VOTE]), mtime=1.7e9)
    site.refresh()
    before = {e.title: e for e in entries(site)}["Monsoon floods the delta"]
    rewritten = rewritten_monsoon(MONSOON.removesuffix(RESCUE)) + CONTEXT  # only that kept
    site.write("a.txt", "\n".join([rewritten, VOTE]), mtime=1.8e9)
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (0, 1, 1)
    assert {e.title: e for e in entries(site)}["Delta evacuated"].id == before.id


def test_a_story_moved_unchanged_into_a_deleted_storys_place_keeps_its_own_id(
    site: Site,
) -> None:
    """Archived in place of an older story of its topic (their context line shared), as a
    story is added on top of the archive: exactly a published story, it is that one, not the
    one whose place it took."""
    site.write("archive.txt", "\n".join([VOTE, DHAKA, RESULT]), mtime=1.7e9)
    site.write("today.txt", "\n".join([OTHER, MONSOON + CONTEXT, QUAKE]), mtime=1.7e9)
    site.refresh()
    before = {e.title: e for e in entries(site)}
    site.write("archive.txt", "\n".join([GENEVA, VOTE, MONSOON + CONTEXT, RESULT]), 1.8e9)
    site.write("today.txt", "\n".join([OTHER, QUAKE]), mtime=1.8e9)
    site.refresh()
    now = {e.title: e for e in entries(site)}
    assert now["Monsoon floods the delta"].id == before["Monsoon floods the delta"].id
    assert "Floods in Dhaka" not in now


def test_a_story_put_back_edited_keeps_its_id_as_a_story_is_added_above_it(site: Site) -> None:
    """Pulled for a correction, then put back where it was (its lead corrected) as the next
    story, of its topic, is deleted and one is added on top: its own entry, removed lately,
    not the next story's by its place."""
    site.write("a.txt", "\n".join([VOTE, OTHER, MONSOON + CONTEXT, DHAKA]), mtime=1.7e9)
    site.refresh()
    before = {e.title: e for e in entries(site)}
    site.write("a.txt", "\n".join([VOTE, OTHER, DHAKA]), mtime=1.75e9)
    site.refresh()
    corrected = MONSOON.replace("two metres", "three metres, officials said,") + CONTEXT
    site.write("a.txt", "\n".join([QUAKE, VOTE, OTHER, corrected]), mtime=1.8e9)
    site.refresh()
    now = {e.title: e for e in entries(site)}
    assert now["Monsoon floods the delta"].id == before["Monsoon floods the delta"].id
    assert "Floods in Dhaka" not in now


def test_a_story_put_back_with_its_title_and_lead_corrected_keeps_its_id(site: Site) -> None:
    """Pulled, then put back where it stood with its headline's typo and its lead fixed, as
    the story above it (of its topic) is deleted and one is added on top."""
    typo = MONSOON.replace("Monsoon floods", "Monsoon flods")
    site.write("a.txt", "\n".join([DHAKA, typo + CONTEXT, VOTE]), mtime=1.7e9)
    site.refresh()
    before = {e.title: e for e in entries(site)}
    site.write("a.txt", "\n".join([DHAKA, VOTE]), mtime=1.75e9)
    site.refresh()
    corrected = MONSOON.replace("two metres", "three metres, officials said,") + CONTEXT
    site.write("a.txt", "\n".join([QUAKE, corrected, VOTE]), mtime=1.8e9)
    site.refresh()
    now = {e.title: e for e in entries(site)}
    assert now["Monsoon floods the delta"].id == before["Monsoon flods the delta"].id
    assert "Floods in Dhaka" not in now


def test_a_stubs_figure_updated_keeps_its_id_beside_a_story_moved_up_to_it(site: Site) -> None:
    """The story below it deleted in the same save, and one of its paragraphs reused: the
    stub at its own position is the story, not the one that moved up into it."""
    background = "Asia\nQuake shakes Nepal\n\nBuildings swayed in Kathmandu at dawn.\n" + (
        "The region was hit by a similar quake in 2015, killing 9,000.\n"
    )
    full = "Asia\nQuake kills 15\n\nAt least 15 people died near Gorkha.\n" + (
        "The region was hit by a similar quake in 2015, killing 9,000.\n"
    )
    stub = "Asia\nQuake kills 12\n\nMore to follow.\n"
    site.write("a.txt", "\n".join([stub, background, VOTE]), mtime=1.7e9)
    site.refresh()
    before = {e.title: e for e in entries(site)}["Quake kills 12"]
    site.write("a.txt", "\n".join([full, VOTE]), mtime=1.8e9)
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (0, 1, 1)
    assert {e.title: e for e in entries(site)}["Quake kills 15"].id == before.id


@pytest.mark.parametrize(
    ("title", "next_title"),
    [
        ("Morning briefing: Monday", "Morning briefing: Tuesday"),
        ("Morning briefing: Sunday", "Morning briefing: Monday"),  # two characters
        ("Morning briefing: 3 June", "Morning briefing: 4 June"),
        ("Live: day 9 of the talks", "Live: day 10 of the talks"),
        ("Monthly figures: June", "Monthly figures: July"),
    ],
)
def test_the_next_edition_of_a_briefing_in_its_place_is_a_new_entry(
    site: Site, title: str, next_title: str
) -> None:
    site.write("b.txt", f"Europe\n{title}\n\nThe first item of that edition.\n")
    site.refresh()
    site.write("b.txt", f"Europe\n{next_title}\n\nAnother edition's first item.\n", 1.8e9)
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (1, 0, 1)


@pytest.mark.parametrize(
    ("title", "fixed"),
    [
        ("Earthquake hits Tokio", "Earthquake hits Tokyo"),
        ("Vote due in Jnue", "Vote due in June"),
        ("Fans of the B52 band", "Fans of the B52s band"),  # its number kept
        ("Quake kills 12", "Quake kills 15"),  # a stub's figure updated: no edition
        ("Talks in Peñíscola", "Talks in Pen\u0303i\u0301scola"),  # saved again decomposed
    ],
)
def test_a_typo_fixed_in_a_stubs_title_keeps_its_id_though_its_body_is_new(
    site: Site, title: str, fixed: str
) -> None:
    site.write("b.txt", f"Asia\n{title}\n\nMore to follow.\n")
    site.refresh()
    before = only(site)
    site.write("b.txt", f"Asia\n{fixed}\n\nAt least five dead.\n", 1.8e9)
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (0, 1, 0)
    assert only(site).id == before.id


@pytest.mark.parametrize(
    ("title", "other"),
    [
        ("Talks in Oman", "Talks in Peru"),  # four letters: another country
        ("Strikes in Ukraine", "Strikes in Israel"),
    ],
)
def test_another_stub_in_a_stubs_place_more_than_a_typo_away_is_a_new_entry(
    site: Site, title: str, other: str
) -> None:
    """Neither body says which story it is: only the titles do, and a few letters more than a
    typo's make another story, which readers must get as new."""
    site.write("b.txt", f"Asia\n{title}\n\nMore to follow.\n")
    site.refresh()
    site.write("b.txt", f"Asia\n{other}\n\nAt least five dead.\n", 1.8e9)
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (1, 0, 1)


def test_two_stories_titled_alike_both_edited_keep_their_ids_in_their_order(site: Site) -> None:
    """Titles repeat ("Morning briefing"): with both bodies edited, their order in the file is
    what tells them apart."""
    early = "Europe\nMorning briefing\n\nThe early edition's first item.\n"
    late = "Europe\nMorning briefing\n\nThe late edition's first item.\n"
    site.write("b.txt", early + "\n" + late, mtime=1_700_000_000)
    site.refresh()
    before = [e.id for e in sorted(entries(site), key=lambda e: e.ordinal)]
    edited = [text.replace("first item.", "first item, corrected.") for text in (early, late)]
    site.write("b.txt", "\n".join(edited), mtime=1_700_000_100)
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (0, 2, 0)
    assert [e.id for e in sorted(entries(site), key=lambda e: e.ordinal)] == before


def test_an_article_inserted_above_others_does_not_shift_their_ids(site: Site) -> None:
    site.write("a.txt", ARTICLE + "\n" + OTHER)
    site.refresh()
    before = {e.title: e.id for e in entries(site)}
    site.write("a.txt", "Diplomacy\nBrand new\n\nFresh.\n" + ARTICLE + "\n" + OTHER, mtime=1.8e9)
    report = site.refresh()
    after = {e.title: e.id for e in entries(site)}
    assert report.added == 1
    assert after["Original title"] == before["Original title"]
    assert after["Another story"] == before["Another story"]


def test_a_deleted_article_disappears_and_its_id_is_never_reused(site: Site) -> None:
    site.write("a.txt", ARTICLE)
    site.refresh()
    old = only(site)
    (site.articles / "a.txt").unlink()
    site.write("keep.txt", OTHER)
    assert site.refresh().removed == 1
    assert [e.title for e in entries(site)] == ["Another story"]
    # A different article with the same title on the same day gets an id of its own.
    site.write("c.txt", "Europe\nOriginal title\n\nA different body.\n")
    site.refresh()
    new = next(e for e in entries(site) if e.section == "Europe")
    assert new.id != old.id and new.slug != old.slug


def test_a_restored_file_gets_its_old_ids_back(site: Site) -> None:
    site.write("a.txt", ARTICLE)
    site.write("b.txt", OTHER)
    site.refresh()
    old = only_section(site, "Europe")
    (site.articles / "a.txt").unlink()
    site.refresh()
    site.write("a.txt", ARTICLE)
    site.refresh()
    assert only_section(site, "Europe").id == old.id


def only_section(site: Site, section: str) -> Entry:
    (entry,) = [e for e in entries(site) if e.section == section]
    return entry


def test_a_pages_address_is_made_of_its_title_in_ascii(site: Site) -> None:
    """Accents dropped, an apostrophe no word break, and a headline of a paragraph's length cut
    to 80, in a word or on a hyphen. (Other scripts: `test_titles_and_sections_in_other_scripts
    _get_slugs_of_their_own`.)"""
    long = "Ministers meet " * 10 + "again"
    on_a_hyphen = "Ministers meet " * 5 + "once more"  # the 80th character its hyphen
    titles = ["Coup d'état plan", long, on_a_hyphen]
    for number, title in enumerate(titles):
        site.write(f"{number}.txt", f"Europe\n{title}\n\nStory {number}.\n")
    site.refresh()
    slugs = {e.title: e.slug for e in entries(site)}
    assert slugs == {
        "Coup d'état plan": "coup-detat-plan",
        long: ("ministers-meet-" * 6)[:80],
        on_a_hyphen: "ministers-meet-" * 5 + "once",
    }


def test_a_front_matter_id_wins(site: Site) -> None:
    site.write("a.md", "---\ntitle: T\nsection: Asia\nid: urn:x:1\n---\nBody.\n")
    site.refresh()
    assert only(site).id == "urn:x:1"


@pytest.mark.parametrize(
    ("key", "first", "second", "said"),
    [
        ("id", "urn:x:1", "urn:x:2", "id 'urn:x:2' is ignored: this article was published as "
         "'urn:x:1', and a published id never changes (give it that id, or none)"),
        ("slug", "first", "second", "slug 'second' is ignored: this article's page was "
         "published as 'first', and a published page's URL never changes (give it that slug, "
         "or none)"),
    ],
)  # fmt: skip
def test_a_front_matter_id_or_slug_changed_after_publishing_is_kept_with_a_warning_on_its_line(
    site: Site, key: str, first: str, second: str, said: str
) -> None:
    """On the key's line, not the file's first (the front matter's opening fence), nor a line
    of the summary above it that reads like it."""
    front = f"---\ntitle: T\nsection: Asia\nsummary: |\n  Notes.\n  {key}: as prose\n{key}: "
    site.write("a.md", f"{front}{first}\n---\nBody.\n", 1.7e9)
    site.refresh()
    site.write("a.md", f"{front}{second}\n---\nBody.\n", 1.8e9)
    report = site.refresh()
    assert getattr(only(site), key) == first
    assert [str(p) for p in report.problems] == [f"a.md:7: warning: {said}"]
    assert [str(p) for p in check_files(site.config())[2]] == [f"a.md:7: warning: {said}"]
    # said by the last refresh, with its config: not by check once the config changed
    site.config_path.write_text(config_text().replace("Europe/Paris", "UTC"), "utf-8")
    assert check_files(site.config())[2] == []


def test_a_new_front_matter_id_with_its_title_and_body_edited_is_a_new_story(site: Site) -> None:
    """A story rewritten in its place keeps its id by a paragraph it kept (`pairing`), but one
    given an id of its own is what the author says it is: another story, new to readers. (A
    changed id beside a title or a body unchanged is the same story, its id kept, warned.)"""
    kept = "The delegations met again on Monday, for the third time this month."
    text = "---\ntitle: {}\nsection: Asia\n{}---\n{}\n\n{}\n"
    site.write("a.md", text.format("Talks resume", "", kept, "No date was set."), mtime=1.7e9)
    site.refresh()
    first = only(site).id
    edited = text.format("Talks resume in Geneva", "id: urn:x:2\n", kept, "They meet on Friday.")
    site.write("a.md", edited, mtime=1.8e9)
    report = site.refresh()
    assert (report.added, report.updated, report.removed, report.problems) == (1, 0, 1, ())
    assert only(site).id == "urn:x:2" != first


def test_the_same_article_in_two_files_is_reported_and_published_once(site: Site) -> None:
    site.write("a.txt", ARTICLE)
    site.write("b.txt", ARTICLE)
    report = site.refresh()
    assert len(entries(site)) == 1
    (problem,) = report.problems
    assert (problem.path, problem.line, problem.severity) == ("b.txt", 1, "warning")
    assert "same section, title and body as a.txt" in problem.message


@pytest.mark.parametrize("destination", ["0-split.txt", "z-split.txt"])  # read before, after
def test_an_article_moved_to_another_file_keeps_its_id_and_stays_published(
    site: Site, destination: str
) -> None:
    site.write("m.txt", ARTICLE + "\n" + OTHER)
    site.refresh()
    before = {e.title: e.id for e in entries(site)}
    site.write("m.txt", ARTICLE, mtime=1.8e9)  # split: the second article to its own file
    site.write(destination, OTHER, mtime=1.8e9)
    site.refresh()
    site.refresh()
    assert {e.title: (e.id, e.path) for e in entries(site)} == {
        "Original title": (before["Original title"], "m.txt"),
        "Another story": (before["Another story"], destination),
    }


def test_a_file_renamed_and_retitled_between_two_refreshes_keeps_its_id(site: Site) -> None:
    edited = ARTICLE.replace("Original title", "Corrected title")
    site.write("draft.txt", ARTICLE, mtime=1_700_000_000)
    site.write("other.txt", OTHER, mtime=1_700_000_000)
    site.refresh()
    before = only_section(site, "Europe")
    (site.articles / "draft.txt").unlink()  # `git mv` and an edit, pulled in one commit
    site.write("corrected.txt", edited, mtime=1_700_000_100)
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (0, 1, 0)
    after = only_section(site, "Europe")
    assert (after.id, after.slug, after.published) == (before.id, before.slug, before.published)
    assert after.path == "corrected.txt"


def test_a_file_deleted_and_written_again_edited_within_an_interval_keeps_its_ids(
    site: Site,
) -> None:
    # A deploy's `rm -r` and copy, or an editor saving by way of a backup name, seen half-way
    # by the watcher: a scheduled refresh alone would have seen an edit.
    site.write("a.txt", ARTICLE + "\n" + OTHER, mtime=1_700_000_000)
    site.write("z.txt", "Asia\nUntouched\n\nStays.\n", mtime=1_700_000_000)
    site.refresh()
    before = {e.title: e for e in entries(site)}
    (site.articles / "a.txt").unlink()
    assert site.refresh().removed == 2
    edited = ARTICLE.replace("Second paragraph.", "Second paragraph, corrected.")
    site.write("a.txt", edited + "\n" + OTHER.replace("Another", "One more"), mtime=1_700_000_100)
    report = site.refresh()
    assert (report.added, report.removed) == (2, 0)  # back
    after = {e.id: e for e in entries(site)}
    for title, now in [("Original title", "Original title"), ("Another story", "One more story")]:
        entry = after[before[title].id]
        assert (entry.title, entry.slug, entry.published) == (
            now,
            before[title].slug,
            before[title].published,
        )
    assert after[before["Original title"].id].updated > before["Original title"].updated


@pytest.mark.parametrize("fresh", [False, True], ids=["settled", "written just now"])
def test_a_file_written_again_with_title_and_body_edited_is_the_same_story_by_a_paragraph(
    site: Site, fresh: bool
) -> None:
    """As the same edit made in place: a paragraph kept says so, the removed entry's body kept
    until then, and the new file's compared with it (read once it settled, if written just
    before the refresh, as a deploy's copy is)."""
    kept = "Negotiators met for six hours on Monday without a breakthrough."
    site.write("geneva.txt", f"Europe\nTalks resume in Geneva\n\n{kept}\nUseful.\n", 1.7e9)
    site.write("other.txt", OTHER, mtime=1.7e9)
    site.refresh()
    before = only_section(site, "Europe")
    (site.articles / "geneva.txt").unlink()  # an editor saving by way of a backup name
    assert site.refresh().removed == 1
    edited = f"Europe\nGeneva talks end without a deal\n\nThey left on Tuesday.\n{kept}\n"
    site.write("geneva.txt", edited, mtime=time.time() if fresh else 1.7e9 + 100)
    assert site.refresh().added == 1  # back
    after = only_section(site, "Europe")
    assert (after.id, after.title) == (before.id, "Geneva talks end without a deal")


@pytest.mark.parametrize("into", ["m2.txt", "m3.txt"])  # a file published already, a new one
def test_a_story_moved_to_another_file_and_retitled_later_keeps_its_id(
    site: Site, into: str
) -> None:
    story = "Europe\nTalks resume in Geneva\n\nNegotiators returned to the table on Monday.\n"
    site.write("m1.txt", story, mtime=1_700_000_000)
    site.write("m2.txt", OTHER, mtime=1_700_000_000)
    site.refresh()
    before = only_section(site, "Europe")
    (site.articles / "m1.txt").unlink()  # seen by the watcher before the story's new place
    assert site.refresh().removed == 1
    moved = story.replace("Talks resume", "Talks resume at last")
    site.write(into, (OTHER if into == "m2.txt" else "") + moved, mtime=1_700_000_100)
    assert site.refresh().added == 1  # back
    after = only_section(site, "Europe")
    assert (after.id, after.slug, after.published) == (before.id, before.slug, before.published)
    assert (after.path, after.title) == (into, "Talks resume at last in Geneva")


def test_a_moved_story_brought_back_in_one_file_is_not_claimed_again_by_a_copy_in_another(
    site: Site,
) -> None:
    """Its file deleted, a story comes back retitled in one file (its entry moved there),
    and retitled otherwise in a later one: that copy is a new entry, not the same one taken
    again, which would leave the first file's story with no entry of its own."""
    story = "Europe\nTalks resume in Geneva\n\nNegotiators returned to the table on Monday.\n"
    site.write("m1.txt", story, mtime=1_700_000_000)
    site.write("other.txt", OTHER, mtime=1_700_000_000)
    site.refresh()
    before = only_section(site, "Europe")
    (site.articles / "m1.txt").unlink()
    site.write("m2.txt", "Asia\nA new story\n\nUnrelated to the talks.\n", 1_700_000_100)
    site.write("m3.txt", story.replace("Talks resume", "Talks resume at last"), 1_700_000_100)
    site.write("m4.txt", story.replace("Talks resume", "Talks go on"), 1_700_000_100)
    report = site.refresh()
    assert (report.added, report.removed) == (2, 0)
    by_path = {e.path: e for e in entries(site)}
    assert sorted(by_path) == ["m2.txt", "m3.txt", "m4.txt", "other.txt"]
    assert by_path["m3.txt"].id == before.id and by_path["m4.txt"].id != before.id


def test_an_article_back_within_an_interval_is_not_claimed_by_one_still_there(
    site: Site,
) -> None:
    # Two updates under one recurring title: the first stays, the second is taken out and
    # put back edited. The first, matched already, must not take the second's old entry.
    first = "Europe\nLive updates\n\nThe morning's news from the summit.\n"
    second = "Europe\nLive updates\n\nThe evening's news from the summit.\n"
    site.write("live.txt", first + "\n" + second, mtime=1_700_000_000)
    site.write("z.txt", OTHER, mtime=1_700_000_000)
    site.refresh()
    ids = {e.id for e in entries(site) if e.section == "Europe"}
    site.write("live.txt", first, mtime=1_700_000_100)
    assert site.refresh().removed == 1
    edited = second.replace("evening's news", "evening's late news")
    site.write("live.txt", first + "\n" + edited, mtime=1_700_000_200)
    report = site.refresh()
    assert (report.added, report.removed) == (1, 0)  # back
    assert {e.id for e in entries(site) if e.section == "Europe"} == ids


def test_the_next_briefing_under_the_same_title_in_another_file_is_a_new_story(
    site: Site,
) -> None:
    footer = "Sign up to get this briefing in your inbox every weekday morning.\n"
    site.write("monday.txt", "Europe\nMorning briefing\n\nMonday's news.\n" + footer, 1.7e9)
    site.write("z.txt", OTHER, mtime=1.7e9)
    site.refresh()
    before = only_section(site, "Europe")
    (site.articles / "monday.txt").unlink()
    site.write("tuesday.txt", "Europe\nMorning briefing\n\nTuesday's news.\n" + footer, 1.7e9 + 1)
    report = site.refresh()
    assert (report.added, report.removed) == (1, 1)
    assert only_section(site, "Europe").id != before.id


def test_a_file_written_again_an_interval_after_its_deletion_is_a_new_story(
    site: Site,
) -> None:
    site.config_path.write_text(config_text(refresh="interval_seconds = 1"), encoding="utf-8")
    site.write("briefing.txt", ARTICLE, mtime=1_700_000_000)
    site.write("z.txt", OTHER, mtime=1_700_000_000)
    site.refresh()
    before = only_section(site, "Europe")
    (site.articles / "briefing.txt").unlink()
    site.refresh()
    time.sleep(1.1)  # the next day's briefing, under the same name
    site.write("briefing.txt", ARTICLE.replace("First", "Next"), mtime=1_700_090_000)
    assert site.refresh().added == 1
    assert only_section(site, "Europe").id != before.id


@pytest.mark.parametrize(
    "new",
    [
        "Europe\nA different story\n\nIts own body.\n",
        "Europe\nOriginal title\n\nThe next day's body.\n",  # a recurring title: a new story
    ],
    ids=["different", "same title"],
)
def test_a_new_file_unlike_the_one_deleted_with_it_is_a_new_entry(site: Site, new: str) -> None:
    site.write("old.txt", ARTICLE, mtime=1_700_000_000)
    site.refresh()
    before = only(site)
    (site.articles / "old.txt").unlink()
    site.write("new.txt", new, mtime=1_700_090_000)
    report = site.refresh()
    assert (report.added, report.removed) == (1, 1)
    assert only(site).id != before.id and only(site).published > before.published


def test_a_copy_is_published_once_its_original_is_deleted(site: Site) -> None:
    site.write("a.txt", ARTICLE)
    site.write("b.txt", ARTICLE)  # `cp a.txt b.txt`
    site.refresh()
    before = only(site)
    (site.articles / "a.txt").unlink()  # a later refresh: b.txt's bytes did not change
    report = site.refresh()
    assert (only(site).id, only(site).path) == (before.id, "b.txt")
    assert report.removed == 0 and report.problems == ()


def test_a_backup_copy_made_before_an_edit_is_never_published(site: Site) -> None:
    """`cp a.txt a-old.txt`, then a.txt edited, then the edit undone: one story, one id."""
    site.write("a.txt", ARTICLE, mtime=1_700_000_000)
    site.refresh()
    original = only(site)
    site.write("a-old.txt", ARTICLE, mtime=1_700_000_000)  # `cp -p`
    site.refresh()
    site.write("a.txt", ARTICLE.replace("Original title", "Edited title"), mtime=1_700_000_100)
    assert (site.refresh().added, only(site).id) == (0, original.id)
    site.write("a.txt", ARTICLE, mtime=1_700_000_200)
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (0, 1, 0)
    assert (only(site).id, only(site).path) == (original.id, "a.txt")


def test_check_names_the_copy_that_a_refresh_does_not_publish(site: Site) -> None:
    site.write("b.txt", ARTICLE, mtime=1_700_000_000)
    site.refresh()
    site.write("a.txt", ARTICLE, mtime=1_700_000_100)  # a copy, first by path
    said = "warning: same section, title and body as b.txt; published once, from there"
    assert [str(p) for p in site.refresh().problems] == [f"a.txt:1: {said}"]
    assert [str(p) for p in check_files(site.config())[2]] == [f"a.txt:1: {said}"]


def test_a_copy_edited_then_copied_over_again_is_published_once(site: Site) -> None:
    site.write("a.txt", ARTICLE, mtime=1_700_000_000)
    site.write("b.txt", ARTICLE.replace("First", "An edited first"), mtime=1_700_000_000)
    site.refresh()
    original = {e.path: e for e in entries(site)}["a.txt"]
    site.write("b.txt", ARTICLE, mtime=1_700_000_100)  # `cp a.txt b.txt` over it
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (0, 0, 1)
    assert only(site) == original
    assert [str(p) for p in report.problems] == [
        "b.txt:1: warning: same section, title and body as a.txt; published once, from there"
    ]


MARKDOWN = "---\ntitle: Talks resume in Geneva\nsection: Europe\n---\n\nDelegations met.\n"


@pytest.mark.parametrize(
    ("name", "text", "broken", "finished"),
    [
        (
            "a.md",
            MARKDOWN,
            MARKDOWN.replace("Talks resume in Geneva", ""),  # the title cleared to retype it
            MARKDOWN.replace("in Geneva", "in Geneva on Monday"),
        ),
        (
            "a.txt",
            ARTICLE,
            ARTICLE.replace("Original title\n\n", "Original title\n"),  # no article found
            ARTICLE.replace("First paragraph", "An edited first paragraph"),
        ),
    ],
    ids=["markdown", "text"],
)
def test_a_save_halfway_through_an_edit_keeps_the_article_published_and_its_id(
    site: Site, name: str, text: str, broken: str, finished: str
) -> None:
    site.write(name, text, mtime=1_700_000_000)
    site.refresh()
    before = only(site)
    shown = feedparser.parse(site.published("/feeds/all.atom")).entries
    site.write(name, broken, mtime=1_700_000_100)
    site.write("b.txt", OTHER, mtime=1_700_000_100)  # so that the feed is rendered again
    report = site.refresh()  # a new refresher, as after a restart: nothing rendered in memory
    assert report.removed == 0 and report.added == 1 and only_section(site, "Europe") == before
    by_severity = {p.severity: p for p in report.problems}
    assert sorted(by_severity) == ["error", "warning"] and len(report.problems) == 2
    assert by_severity["warning"].path == by_severity["error"].path == name
    assert f"{before.title!r} is not in this file as read; it stays published" in str(
        by_severity["warning"]
    )
    feed = feedparser.parse(site.published("/feeds/all.atom")).entries
    assert [(e.id, e.title, e.content) for e in feed if e.id == before.id] == [
        (e.id, e.title, e.content) for e in shown
    ]
    assert held(site) == [before.id]
    site.write(name, finished, mtime=1_700_000_200)
    report = site.refresh()
    assert (report.added, report.updated, report.removed, report.problems) == (0, 1, 0, ())
    assert only_section(site, "Europe").id == before.id
    assert held(site) == []  # released: a later error in the file holds afresh, or not


def test_a_text_file_with_a_later_title_cleared_keeps_both_articles_as_published(
    site: Site,
) -> None:
    """Its story is not taken down, nor its body glued to the article above it."""
    two = ARTICLE + "\nAsia\nFloods close the port\n\nThe harbour halted all traffic.\n"
    before = published_by_title(site, two)
    site.write("a.txt", two.replace("Floods close the port", ""), mtime=1_700_000_100)
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (0, 0, 0)
    assert {e.title: e for e in entries(site)} == before
    assert [p.severity for p in report.problems if p.line == 7] == ["error"]
    retitled = two.replace("Floods close the port", "Floods close the port of Chittagong")
    site.write("a.txt", retitled, mtime=1_700_000_200)
    report = site.refresh()
    assert (report.added, report.updated, report.removed, report.problems) == (0, 1, 0, ())
    story = {e.id: e for e in entries(site)}[before["Floods close the port"].id]
    assert story.title == "Floods close the port of Chittagong"


FLOODS_STORY = (
    "Asia\nFloods close the port\n\nThe harbour halted all traffic for a second day running.\n"
)


READ_AS_PARAGRAPHS = (
    "'Floods close the port', published from this file, is read as paragraphs of "
    "'Original title': its section line, or the blank line after its title, is misspelt "
    "or missing; fix it"
)


@pytest.mark.parametrize(
    ("slip", "said"),
    [
        # its section line misspelt: refused by the reader, never read as paragraphs
        (("\nAsia\n", "\nAsai\n"), "section 'Asai' is not configured; spell it as configured"),
        (("\nAsia\n", "\n"), READ_AS_PARAGRAPHS),  # its section line deleted
        (("port\n\nThe", "port\nThe"), READ_AS_PARAGRAPHS),  # the blank line after its title
    ],
    ids=["misspelt", "section-line-deleted", "blank-line-deleted"],
)
def test_a_later_article_lost_to_an_edit_keeps_both_stories_as_published(
    site: Site, slip: tuple[str, str], said: str
) -> None:
    """Its story was taken down, and its text published as the end of the story above."""
    two = ARTICLE + "Extra paragraph to read as the article's own.\n" + "\n" + FLOODS_STORY
    before = published_by_title(site, two)
    site.write("a.txt", two.replace(*slip), mtime=1_700_000_100)
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (0, 0, 0)
    assert {e.title: e for e in entries(site)} == before
    (error,) = [p for p in report.problems if p.severity == "error"]
    assert error.message.startswith(said)
    # a config change reads every file again, bytes unchanged: still held
    site.config_path.write_text(config_text(sections=[*SECTIONS, "Sports"]), encoding="utf-8")
    site.refresh()
    assert {e.title: e for e in entries(site)} == before
    site.write("a.txt", two, mtime=1_700_000_200)
    report = site.refresh()
    assert (report.added, report.updated, report.removed, report.problems) == (0, 0, 0, ())
    assert {e.title: e for e in entries(site)} == before


ROUNDUP = (  # quotes the floods story's headline and lead, as it quoted them before
    "Europe\nThe day's stories\n\nFloods close the port\n"
    "The harbour halted all traffic for a second day running.\nTalks resume.\n"
)


@pytest.mark.parametrize("edit", ["deleted", "retitled"])
def test_a_story_a_roundup_quotes_is_deleted_or_retitled_as_any_other(
    site: Site, edit: str
) -> None:
    """Its headline and lead in the roundup above were taken for the story read as paragraphs
    of it: the file was an error, the story held."""
    published_by_title(site, ROUNDUP + "\n" + FLOODS_STORY)
    retitled = FLOODS_STORY.replace("Floods close the port", "Chittagong shut by floods")
    site.write("a.txt", ROUNDUP + ("\n" + retitled if edit == "retitled" else ""), 1.8e9)
    report = site.refresh()
    assert report.problems == ()
    titles = {e.title for e in entries(site)}
    assert titles == {"The day's stories"} | (
        {"Chittagong shut by floods"} if edit == "retitled" else set()
    )


def test_a_typo_fixed_and_a_body_rewritten_beside_an_error_is_one_story(site: Site) -> None:
    """The file's other title cleared mid-edit made it an error: the story was published
    anew beside its old entry, held, and shown twice."""
    story = "Europe\nVote in Pariss\n\nThe first count gave the mayor a narrow lead tonight.\n"
    other = "Asia\nFloods close the port\n\nThe harbour halted all traffic.\n"
    before = published_by_title(site, story + "\n" + other)
    fixed = "Europe\nVote in Paris\n\nThe mayor won by 212 votes after a recount, officials said.\n"
    site.write("a.txt", fixed + "\n" + other.replace("Floods close the port", ""), 1.8e9)
    report = site.refresh()
    assert (report.added, report.updated) == (0, 1)
    now = {e.title: e for e in entries(site)}
    assert now["Vote in Paris"].id == before["Vote in Pariss"].id and len(now) == 2


def test_a_story_that_entered_the_feeds_after_its_page_was_redone_keeps_its_id_when_rewritten(
    site: Site,
) -> None:
    """Its page rendered while no feed showed it, that render was reused once a feed did, so
    its body, never read again, was never kept: a rewrite keeping a paragraph got a new id."""
    site.config_path.write_text(config_text(feeds="max_entries = 2"), encoding="utf-8")
    kept = "A paragraph about the talks that stays through every rewrite of the story.\n"
    site.write("a.txt", f"Europe\nOld story\n\nIts first paragraph.\n{kept}", mtime=1.70e9)
    site.write("b.txt", "Europe\nNewer story\n\nIts body.\n", mtime=1.70e9 + 10)
    site.write("c.txt", "Europe\nNewest story\n\nIts body.\n", mtime=1.70e9 + 20)
    refresher = Refresher(site.config())
    refresher.refresh()
    # edited while no feed shows it: its page alone is made again
    site.write("a.txt", f"Europe\nOld story\n\nIts first paragraph.\n{kept}Added.\n", 1.70e9 + 30)
    refresher.refresh(paths=["a.txt"])
    (site.articles / "c.txt").unlink()  # the old story enters the feeds
    refresher.refresh(paths=["c.txt"])
    old = {e.title: e for e in entries(site)}["Old story"]
    site.write("a.txt", f"Europe\nTalks collapse at the border\n\nA new lead.\n{kept}", 1.70e9 + 40)
    refresher.refresh(paths=["a.txt"])
    refresher.close()
    assert {e.title: e.id for e in entries(site)}["Talks collapse at the border"] == old.id


def test_the_next_edition_of_a_story_no_feed_shows_is_a_new_entry(site: Site) -> None:
    """Its body not kept, it was taken for a stub, whose figures may change: 'Trial: day 10'
    kept day 9's entry and date, below the feeds' newest, and no feed showed it."""
    site.config_path.write_text(config_text(feeds="max_entries = 2"), encoding="utf-8")
    day = "Europe\nTrial: day {}\n\nThe court heard {} witnesses in a long session today.\n"
    site.write("a.txt", day.format(9, "the defence's"), mtime=1.70e9)
    site.write("b.txt", "Europe\nNewer story\n\nIts body.\n", mtime=1.70e9 + 10)
    site.write("c.txt", "Europe\nNewest story\n\nIts body.\n", mtime=1.70e9 + 20)
    site.refresh()
    site.write("a.txt", day.format(10, "the prosecution's"), mtime=1.70e9 + 30)
    report = site.refresh()
    assert (report.added, report.removed) == (1, 1)
    assert "Trial: day 10" in [e.title for e in entries(site)[:2]]


SIGN_OFF = "Reporting by the Test Desk newsroom; edited by the night desk.\n"


@pytest.mark.parametrize(
    ("text", "slip"),
    [  # a sign-off every story of the file shares; a roundup above quoting the story
        (
            ARTICLE + SIGN_OFF + "\n" + FLOODS_STORY + SIGN_OFF + "\n" + OTHER + SIGN_OFF,
            ("\nAsia\nFloods", "\nAsai\nFloods"),
        ),
        (ROUNDUP + "\n" + FLOODS_STORY + "Ships wait offshore.\n", ("\nAsia\n", "\nAsai\n")),
    ],
    ids=["shared-sign-off", "below-a-roundup-quoting-it"],
)
def test_a_story_read_as_paragraphs_of_the_one_above_is_held_whatever_else_quotes_it(
    site: Site, text: str, slip: tuple[str, str]
) -> None:
    before = published_by_title(site, text)
    site.write("a.txt", text.replace(*slip), mtime=1.8e9)
    report = site.refresh()
    after = {e.title: e for e in entries(site)}
    assert {t: (e.id, e.content_hash) for t, e in after.items()} == {
        t: (e.id, e.content_hash) for t, e in before.items()
    }
    assert [p.severity for p in report.problems].count("error") == 1


def test_beside_an_error_a_new_story_a_typo_away_elsewhere_is_not_a_deleted_ones_edit(
    site: Site,
) -> None:
    """'Storm hits Oslo' deleted, 'Storm hits Osaka' added at the file's end, another title
    cleared mid-edit: the Osaka story was published as the Oslo entry's update."""
    oslo = "Europe\nStorm hits Oslo\n\nWinds tore roofs off in the Norwegian capital.\n"
    osaka = "Asia\nStorm hits Osaka\n\nA typhoon made landfall in western Japan overnight.\n"
    before = published_by_title(site, oslo + "\n" + FLOODS_STORY + "\n" + OTHER)
    cleared = FLOODS_STORY.replace("Floods close the port", "")
    site.write("a.txt", cleared + "\n" + OTHER + "\n" + osaka, mtime=1.8e9)
    site.refresh()
    assert {e.title: e.id for e in entries(site)}["Storm hits Osaka"] != (
        before["Storm hits Oslo"].id
    )


def test_an_edit_undone_from_a_backup_with_its_older_mtime_moves_updated(site: Site) -> None:
    """`mv a.txt~ a.txt`, `cp -p`, `rsync -t`: the content changed back, so `updated` moves
    on, though the file's mtime went back."""
    site.write("a.txt", ARTICLE, mtime=1_700_000_000)
    site.refresh()
    site.write("a.txt", ARTICLE.replace("First", "An edited first"), mtime=1_700_000_100)
    site.refresh()
    edited = only(site)
    site.write("a.txt", ARTICLE, mtime=1_700_000_000)
    report = site.refresh()
    assert report.updated == 1 and only(site).updated > edited.updated


def test_a_story_given_the_headline_of_one_deleted_in_the_same_save_keeps_its_own_id(
    site: Site,
) -> None:
    """Its body unchanged says more than the title it took from the other."""
    before = published_by_title(
        site, ARTICLE + "\nEurope\nPort reopens\n\nShips sailed again at dawn.\n"
    )
    # "Original title" deleted, and "Port reopens" retitled so
    site.write("a.txt", "Europe\nOriginal title\n\nShips sailed again at dawn.\n", 1_700_000_100)
    report = site.refresh()
    assert (report.updated, report.removed) == (1, 1)
    assert only(site).id == before["Port reopens"].id
    assert only(site).published == before["Port reopens"].published


def test_stubs_sharing_a_body_keep_their_ids_when_one_is_written_and_one_retitled(
    site: Site,
) -> None:
    """Breaking news: two stubs say "More to follow."; a body others share is no evidence
    until titles have spoken."""
    stubs = (
        "Asia\nQuake hits coast\n\nMore to follow.\n\n"
        "Europe\nFloods in the north\n\nMore to follow.\n"
    )
    site.write("breaking.txt", stubs, mtime=1_700_000_000)
    site.refresh()
    before = {e.title: e.id for e in entries(site)}
    written = stubs.replace("More to follow.", "A 6.1 quake struck at dawn.", 1).replace(
        "in the north", "in the north of Italy"
    )
    site.write("breaking.txt", written, mtime=1_700_000_100)
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (0, 2, 0)
    assert {e.title: e.id for e in entries(site)} == {
        "Quake hits coast": before["Quake hits coast"],
        "Floods in the north of Italy": before["Floods in the north"],
    }


def test_two_stubs_where_stories_added_above_moved_one_take_neither_its_id(site: Site) -> None:
    """A stub ("Quake kills 12") rewritten as two, each a figure away from it, a story added
    above them all: which one is the stub updated, nothing says. Both are new to readers."""
    vienna = (
        "Europe\nTalks resume in Vienna\n\nThe delegations met again on Monday, a third time.\n"
    )
    envoys = "Diplomacy\nEnvoys named\n\nTwo envoys were named for the talks on Friday.\n"
    stub = "Asia\nQuake kills 12\n\nMore to follow.\n"
    site.write("a.txt", "\n".join([vienna, stub, VOTE]), mtime=1_700_000_000)
    site.refresh()
    before = {e.title: e.id for e in entries(site)}
    rewritten = [
        stub.replace("12", n).replace("More to follow.", f"{n} dead.") for n in ("14", "15")
    ]
    site.write("a.txt", "\n".join([envoys, vienna, *rewritten, VOTE]), mtime=1_700_000_100)
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (3, 0, 1)
    assert before["Quake kills 12"] not in {e.id for e in entries(site)}


def test_a_stub_added_beside_stubs_takes_no_id_of_theirs(site: Site) -> None:
    """A body three hold ("More to follow."), one article of them matched already by its
    unchanged content, is no evidence either."""
    stub = "More to follow."
    two = f"Asia\nQuake hits coast\n\n{stub}\n\nEurope\nFloods in the north\n\n{stub}\n"
    site.write("breaking.txt", two, mtime=1_700_000_000)
    site.refresh()
    before = {e.title: e.id for e in entries(site)}
    written = two.replace(stub, "A 6.1 quake struck the coast at dawn.", 1)
    site.write("breaking.txt", f"{written}\nAmerica\nFire in the hills\n\n{stub}\n", 1.7e9 + 100)
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (1, 1, 0)
    after = {e.title: e.id for e in entries(site)}
    assert {title: after[title] for title in before} == before


def test_a_stub_unchanged_keeps_its_id_as_the_story_titled_alike_above_it_is_deleted(
    site: Site,
) -> None:
    """A stub under the headline of the story above it: that story deleted and a stub added
    on top in one save. Exactly as published, the stub is its own story, not the deleted one
    that its title names too; the stub added, sharing its body, is new to readers."""
    story = "Europe\nStrike in France\n\nTrains stopped across the country on Monday.\n"
    stub = "Europe\nStrike in France\n\nMore to follow.\n"
    site.write("breaking.txt", "\n".join([story, stub]), mtime=1_700_000_000)
    site.refresh()
    before = {e.body_hash: e for e in entries(site)}
    added = "Europe\nFloods in Spain\n\nMore to follow.\n"
    site.write("breaking.txt", "\n".join([added, stub]), mtime=1_700_000_100)
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (1, 0, 1)
    after = {e.title: e for e in entries(site)}
    kept = before[after["Strike in France"].body_hash]
    assert (after["Strike in France"].id, after["Strike in France"].updated) == (
        kept.id,
        kept.updated,
    )
    assert after["Floods in Spain"].id not in {e.id for e in before.values()}


def test_a_stub_written_keeps_its_id_in_a_found_section_other_files_spell_otherwise(
    site: Site,
) -> None:
    """A found section is published as its oldest entries spell it ("Sports" for a file's
    "sports"): the stub written is still its story by its section and title, not a new entry,
    and a stub added beside it takes no id of its by their shared "More to follow."."""
    site.config_path.write_text(config_text(content=ALLOW_NEW), "utf-8")
    site.write("a.txt", "Sports\nCup final tonight\n\nKick-off at nine.\n", mtime=1_600_000_000)
    stubs = (
        "sports\nDerby tonight\n\nMore to follow.\n\nEurope\nFloods in Spain\n\nMore to follow.\n"
    )
    site.write("b.txt", stubs, mtime=1_700_000_000)
    site.refresh()
    before = {e.title: e for e in entries(site)}
    assert before["Derby tonight"].section == "Sports"
    written = stubs.replace("More to follow.", "United won the derby 2-1 at home.", 1)
    site.write("b.txt", written + "\nEurope\nFire in Athens\n\nMore to follow.\n", 1_700_000_100)
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (1, 1, 0)
    after = {e.title: e for e in entries(site)}
    assert after["Derby tonight"].id == before["Derby tonight"].id
    assert after["Fire in Athens"].id not in {e.id for e in before.values()}


def held(site: Site) -> list[str]:
    with closing(sqlite3.connect(site.root / "var" / "state.sqlite3")) as db:
        return [row[0] for row in db.execute("SELECT id FROM held ORDER BY id")]


def test_a_published_article_made_a_draft_stays_published_and_a_new_draft_never_is(
    site: Site,
) -> None:
    """`draft: true` is an error (the README): an entry readers have keeps its place and its
    id, held, not unpublished and published again once the line goes; a new one is not shown."""
    talks = "---\ntitle: Talks resume in Geneva\nsection: Europe\n---\nThe talks resumed.\n"
    site.write("talks.md", talks, mtime=1.7e9)
    site.refresh()
    before = only(site)
    site.write("talks.md", talks.replace("section:", "draft: true\nsection:"), mtime=1.8e9)
    site.write(
        "new.md",
        talks.replace("Talks resume", "Talks end").replace("---\n", "---\ndraft: yes\n", 1),
        mtime=1.8e9,
    )
    report = site.refresh()
    said = {(p.path, p.line, p.severity): p.message for p in report.problems}
    held_warning = ("talks.md", None, "warning")
    drafts = [("talks.md", 3), ("new.md", 2)]  # on the draft's line
    assert said.keys() == {*((path, line, "error") for path, line in drafts), held_warning}
    assert all("'draft' is true" in said[path, line, "error"] for path, line in drafts)
    assert "it stays published as it was" in said[held_warning]
    assert only(site) == before and held(site) == [before.id]
    titles = [e.title for e in feedparser.parse(site.published("/feeds/all.atom")).entries]
    assert titles == ["Talks resume in Geneva"]
    site.write("talks.md", talks.replace("resumed", "resumed at noon"), mtime=1.9e9)
    site.refresh()
    assert only(site).id == before.id and held(site) == []


def test_a_held_article_whose_file_is_deleted_is_unpublished_and_released(site: Site) -> None:
    site.write("a.txt", ARTICLE, mtime=1_700_000_000)
    site.write("b.txt", OTHER, mtime=1_700_000_000)  # not every file goes: that is a fault
    site.refresh()
    site.write("a.txt", ARTICLE.replace("Original title\n\n", "Original title\n"), 1.8e9)
    site.refresh()
    assert len(held(site)) == 1
    (site.articles / "a.txt").unlink()
    assert site.refresh().removed == 1 and len(entries(site)) == 1 and held(site) == []


def test_a_held_article_whose_section_is_taken_out_of_the_config_is_unpublished(
    site: Site,
) -> None:
    """Held while its file reads with an error, a story still leaves with its section: the
    operator took that section out, whatever the state of the file."""
    site.write("a.txt", VOTE + "\n" + OTHER, mtime=1_700_000_000)
    site.refresh()
    # the Europe story deleted in an edit that left another article without its body
    site.write("a.txt", OTHER + "\nAsia\nHalf written\n\n", mtime=1.8e9)
    site.refresh()
    assert len(held(site)) == 1 and len(entries(site)) == 2
    site.config_path.write_text(config_without("Europe"), encoding="utf-8")
    report = site.refresh()
    assert report.removed == 1 and [e.title for e in entries(site)] == ["Another story"]
    assert held(site) == []


def held_without_its_body(site: Site) -> RefreshReport:
    """a.txt's article published, then held by a broken save with no body of it kept (as in
    a store made before bodies were kept), while b.txt adds another: that refresh's report."""
    site.write("a.txt", ARTICLE, mtime=1_700_000_000)
    site.refresh()
    with closing(sqlite3.connect(site.root / "var" / "state.sqlite3")) as db, db:
        db.execute("DELETE FROM bodies")
    site.write("a.txt", ARTICLE.replace("Original title\n\n", "Original title\n"), 1.8e9)
    site.write("b.txt", OTHER, mtime=1.8e9)
    return site.refresh()


def test_an_article_held_without_a_kept_body_is_left_out_until_its_file_is_fixed(
    site: Site,
) -> None:
    report = held_without_its_body(site)
    (before,) = [e for e in entries(site) if e.title == "Original title"]
    assert report.published and report.deferred == () and report.removed == 0
    shown = feedparser.parse(site.published("/feeds/all.atom")).entries
    assert [e.title for e in shown] == ["Another story"]
    left_out = LEFT_OUT.format(title="Original title")
    assert left_out in [str(p) for p in report.problems]
    again = site.refresh()  # nothing to publish (`feedsvc refresh` again, a restart): still said
    assert not again.published and left_out in [str(p) for p in again.problems]
    site.write("a.txt", ARTICLE.replace("First", "Edited first"), mtime=1.9e9)
    report = site.refresh()
    shown = feedparser.parse(site.published("/feeds/all.atom")).entries
    assert before.id in [e.id for e in shown]
    assert report.problems == ()


def test_an_article_left_out_is_shown_again_once_its_file_is_restored_as_it_was(
    site: Site,
) -> None:
    """Restored byte for byte: no entry changes, but the hold ends, and that is published."""
    held_without_its_body(site)
    assert "Original title" not in site.published("/feeds/all.atom").decode()
    site.write("a.txt", ARTICLE, mtime=1_700_000_005)
    report = site.refresh()
    assert report.published and report.problems == ()
    assert "Original title" in site.published("/feeds/all.atom").decode()


def test_the_store_is_on_the_disk_at_each_commit(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version is flushed before it is made current; the ids it shows must be too."""
    connect = sqlite3.connect

    def lax(*args: Any, **kwargs: Any) -> sqlite3.Connection:  # whatever SQLite's default
        db = connect(*args, **kwargs)
        db.execute("PRAGMA synchronous=OFF")
        return db

    monkeypatch.setattr(sqlite3, "connect", lax)
    store = StateStore.open(site.root / "var")
    try:
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        store.close()


LEFT_OUT = (
    "a.txt: warning: {title!r} is left out of the feeds even so: its text as last read was not "
    "kept; it is shown again once its file reads cleanly"
)


def test_a_held_article_without_a_kept_body_leaves_out_only_itself(site: Site) -> None:
    """Held while never shown, so with no body kept; then shown, as a newer story is deleted."""
    site.config_path.write_text(config_text(feeds="max_entries = 1"), encoding="utf-8")
    healthy = "Europe\nHealthy story\n\nIts body is fine.\n\n"
    site.write("a.txt", healthy + "Asia\nOld Asia story\n\nOld body.\n", mtime=1.70e9)
    site.write("c.txt", "Asia\nNewer Asia story\n\nNewer.\n", mtime=1.71e9)
    site.refresh()
    site.write("a.txt", healthy + "Asia\nOld Asia story\n\n", mtime=1.70e9 + 5)  # body cleared
    site.refresh()
    (site.articles / "c.txt").unlink()
    report = site.refresh()
    assert report.published and report.deferred == ()
    shown = feedparser.parse(site.published("/feeds/all.atom")).entries
    assert [e.title for e in shown] == ["Healthy story"]
    assert "Old Asia story" in [e.title for e in entries(site)]  # held, not unpublished
    assert LEFT_OUT.format(title="Old Asia story") in [str(p) for p in report.problems]


HELD = "Europe\nHeld story\n\nHeld body.\n"
BROKEN = "Europe\nHeld story\n\n"  # its body cleared, to be retyped


def test_a_held_article_stays_held_when_its_file_is_read_again_unchanged(site: Site) -> None:
    """Read again for another reason: a copy it holds, when any entry is removed."""
    site.write("a.txt", OTHER, mtime=1.70e9)
    site.write("b.txt", OTHER + "\n" + HELD, mtime=1.70e9)  # a copy of a.txt's, and its own
    site.write("d.txt", "America\nUnrelated\n\nIts body.\n", mtime=1.70e9)
    site.refresh()
    before = only_section(site, "Europe")
    site.write("b.txt", OTHER + "\n" + BROKEN, mtime=1.70e9 + 10)
    site.refresh()
    (site.articles / "d.txt").unlink()
    assert site.refresh().removed == 1
    assert held(site) == [before.id] and only_section(site, "Europe") == before
    site.write("b.txt", OTHER + "\n" + HELD.replace("Held body", "Retyped body"), mtime=1.71e9)
    assert site.refresh().added == 0 and only_section(site, "Europe").id == before.id


def test_a_held_article_stays_held_through_a_config_change(site: Site) -> None:
    site.write("a.txt", HELD, mtime=1.70e9)
    site.refresh()
    site.write("a.txt", BROKEN, mtime=1.70e9 + 10)
    site.refresh()
    before = held(site)
    site.config_path.write_text(config_text() + '[[sections]]\nname = "Africa"\n', "utf-8")
    assert site.refresh().removed == 0 and len(entries(site)) == 1 and held(site) == before


def test_a_held_article_keeps_its_body_when_pushed_out_of_the_feeds_and_back(site: Site) -> None:
    site.config_path.write_text(config_text(feeds="max_entries = 1"), encoding="utf-8")
    site.write("a.txt", HELD, mtime=1.70e9)
    site.refresh()
    site.write("a.txt", BROKEN, mtime=1.70e9 + 10)
    site.refresh()
    site.write("b.txt", "Europe\nBreaking\n\nNews.\n", mtime=1.71e9)  # pushes it out
    site.refresh()
    (site.articles / "b.txt").unlink()  # retracted: the held article is shown again
    site.refresh()
    shown = feedparser.parse(site.published("/feeds/all.atom")).entries
    assert [(e.title, e.content[0].value) for e in shown] == [("Held story", "<p>Held body.</p>")]


def test_held_articles_without_kept_bodies_are_all_left_out_in_one_retry(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not one publish attempt per article that cannot be shown: an archive of hundreds."""
    from feedsvc.refresh import Refresher

    limited = 'articles_dir = "articles"\nstate_dir = "var"\nmax_file_bytes = 3000'
    site.config_path.write_text(config_text(content=limited, feeds="max_entries = 3"), "utf-8")
    archive = "\n".join(f"Europe\nStory {n}\n\nBody {n}.\n" for n in range(30))
    site.write("archive.txt", archive, mtime=1.70e9)
    site.refresh()  # the newest three shown, their bodies kept
    edited = archive.replace("Body", "Text") + "x" * 3000  # edited, and grown past the limit
    site.write("archive.txt", edited, mtime=1.70e9 + 10)
    site.refresh()
    site.config_path.write_text(config_text(content=limited, feeds="max_entries = 30"), "utf-8")
    attempts: list[object] = []
    publish = Refresher._publish
    monkeypatch.setattr(
        Refresher, "_publish", lambda self, *a: attempts.append(a) or publish(self, *a)
    )
    assert site.refresh().published and len(attempts) == 2
    shown = feedparser.parse(site.published("/feeds/all.atom")).entries
    assert [e.title for e in shown] == ["Story 0", "Story 1", "Story 2"]


def test_a_new_article_above_a_broken_one_does_not_take_its_id_by_position(site: Site) -> None:
    site.write("a.txt", HELD, mtime=1.70e9)
    site.refresh()
    before = only(site)
    site.write("a.txt", OTHER + "\n" + BROKEN, mtime=1.70e9 + 10)  # newest first, in one save
    report = site.refresh()
    assert (report.added, report.updated) == (1, 0)
    assert only_section(site, "Europe") == before and only_section(site, "Asia").id != before.id


def test_a_file_grown_over_the_size_cap_keeps_its_articles_published(site: Site) -> None:
    site.write("a.txt", ARTICLE)
    site.refresh()
    before = only(site)
    config = site.config_path.read_text(encoding="utf-8")
    site.config_path.write_text(
        config.replace('state_dir = "var"', 'state_dir = "var"\nmax_file_bytes = 100')
    )
    site.write("a.txt", ARTICLE + "x" * 200, mtime=1.8e9)
    report = site.refresh()
    assert report.removed == 0 and only(site) == before
    assert [p.severity for p in report.problems] == ["error", "warning"]


def test_articles_refused_because_the_config_changed_are_unpublished_not_held(
    site: Site,
) -> None:
    site.write("d.txt", "Diplomacy\nSummit ends\n\nCommunique.\n")
    site.write("big.txt", ARTICLE + "x" * 200)
    site.write("e.txt", OTHER)
    site.refresh()
    config = config_text(
        content='articles_dir = "articles"\nstate_dir = "var"\nmax_file_bytes = 100'
    )
    desk_closed = config.replace(
        '[[sections]]\nname = "Diplomacy"\ndescription = "News: Diplomacy."\n', ""
    )
    site.config_path.write_text(desk_closed, encoding="utf-8")
    report = site.refresh()
    assert report.removed == 2 and [e.title for e in entries(site)] == ["Another story"]
    assert sorted(p.severity for p in report.problems) == ["error", "error"]  # and no "held"


@pytest.mark.parametrize("edited", [False, True], ids=["unchanged", "edited meanwhile"])
def test_articles_the_config_now_refuses_are_unpublished_even_from_an_edited_file(
    site: Site, edited: bool
) -> None:
    limited = 'articles_dir = "articles"\nstate_dir = "var"\nmax_file_bytes = {}'
    site.config_path.write_text(config_text(content=limited.format(1000)), encoding="utf-8")
    site.write("d.txt", "Diplomacy\nSummit ends\n\nCommunique.\n\n" + OTHER, mtime=1.7e9)
    site.write("big.txt", ARTICLE + "x" * 200, mtime=1.7e9)
    site.refresh()
    if edited:  # a typo fixed in each file, in the same refresh interval
        site.write("d.txt", "Diplomacy\nSummit ends\n\nCommuniqué.\n\n" + OTHER, mtime=1.8e9)
        site.write("big.txt", ARTICLE + "y" * 200, mtime=1.8e9)
    desk_closed = config_text(content=limited.format(100)).replace(
        '[[sections]]\nname = "Diplomacy"\ndescription = "News: Diplomacy."\n', ""
    )
    site.config_path.write_text(desk_closed, encoding="utf-8")
    report = site.refresh()
    assert report.removed == 2 and [e.title for e in entries(site)] == ["Another story"]
    assert held(site) == []


LEFT_OUT_BY_CONFIG = {
    # published, then its section taken out of the config: refused wherever it is in its file
    "taken out, first": (f"Diplomacy\nSummit ends\n\nCommunique.\n{SIGNED}\n", "", True),
    "taken out, between": ("", f"\nDiplomacy\nSummit ends\n\nCommunique.\n{SIGNED}", True),
    # never configured: refused on a file's first line (further down it is a paragraph)
    "never configured": (f"Sports\nMatch report\n\nGoal.\n{SIGNED}\n", "", False),
}
GENEVA = "Europe\nTalks open in Geneva\n\nDelegates arrived on Monday.\n" + (
    "The talks are expected to last a week, officials said.\n" + SIGNED
)


def _beside_an_article_the_config_leaves_out(
    site: Site, case: str, stories: str
) -> tuple[str, str]:
    """Publish `stories` in a.txt beside an article that the config leaves out: the text that
    goes above them and the one below."""
    above, below, published = LEFT_OUT_BY_CONFIG[case]
    site.write("a.txt", above + stories + below, mtime=1.7e9)
    site.refresh()
    if published:
        site.config_path.write_text(config_without("Diplomacy"), encoding="utf-8")
        site.refresh()
    return above, below


@pytest.mark.parametrize("case", LEFT_OUT_BY_CONFIG)
def test_a_story_deleted_beside_an_article_the_config_leaves_out_is_unpublished(
    site: Site, case: str
) -> None:
    """That article is an error on every read of its file, but nothing in the file broke: the
    other stories are read as in a clean file, not held as if an edit had broken them."""
    above, below = _beside_an_article_the_config_leaves_out(site, case, OTHER + "\n" + GENEVA)
    site.write("a.txt", above + OTHER + below, mtime=1.8e9)
    report = site.refresh()
    assert report.removed == 1 and [e.title for e in entries(site)] == ["Another story"]
    assert held(site) == []


@pytest.mark.parametrize("case", LEFT_OUT_BY_CONFIG)
def test_a_story_rewritten_beside_an_article_the_config_leaves_out_keeps_its_id(
    site: Site, case: str
) -> None:
    above, below = _beside_an_article_the_config_leaves_out(site, case, OTHER + "\n" + GENEVA)
    before = only_section(site, "Europe")
    rewritten = GENEVA.replace("Talks open in Geneva", "Geneva talks stall").replace(
        "Delegates arrived on Monday.", "No agreement on the agenda yet."
    )
    site.write("a.txt", above + OTHER + "\n" + rewritten + below, mtime=1.8e9)
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (0, 1, 0)
    after = only_section(site, "Europe")  # shown once
    assert (after.id, after.title) == (before.id, "Geneva talks stall")


@pytest.mark.parametrize("case", LEFT_OUT_BY_CONFIG)
@pytest.mark.parametrize(
    "broken",
    [
        GENEVA.replace("Europe", "Eu"),  # its section line being retyped, halfway
        GENEVA.replace("Geneva\n\n", "Geneva\n"),  # the blank line after its title deleted
    ],
    ids=["section line", "blank line"],
)
def test_a_story_broken_beside_an_article_the_config_leaves_out_is_held(
    site: Site, case: str, broken: str
) -> None:
    """Its text is then read as paragraphs of the article above it, or it opens an article in
    a section not configured: either is an edit's, not the config's."""
    above, below = _beside_an_article_the_config_leaves_out(site, case, GENEVA + "\n" + OTHER)
    before = only_section(site, "Europe")
    site.write("a.txt", above + broken + "\n" + OTHER + below, mtime=1.8e9)
    assert site.refresh().removed == 0 and only_section(site, "Europe") == before


def test_a_story_sharing_its_headline_with_another_is_held_when_its_section_line_breaks(
    site: Site,
) -> None:
    """The other story's article keeps the headline in the file as read: the article left out
    is told by the story no article matched."""
    briefing = "{}\nMorning briefing\n\n{} news of the morning, in brief.\n"
    both = briefing.format("Europe", "European") + "\n" + briefing.format("Asia", "Asian")
    site.write("a.txt", both, mtime=1.7e9)
    site.refresh()
    before = only_section(site, "Europe")
    site.write("a.txt", both.replace("Europe", "Eu", 1), mtime=1.8e9)
    assert site.refresh().removed == 0 and only_section(site, "Europe") == before


@pytest.mark.parametrize(
    ("name", "story"),
    [
        ("a.txt", "Europe\nQuake hits Naples\n\nMore to follow.\n"),  # told by its body
        ("a.md", "---\ntitle: Quake hits Naples\nsection: Europe\nid: tag:x.org,2026:q\n---\nA."),
    ],
    ids=["body", "id"],
)
def test_a_story_retitled_as_its_section_line_is_retyped_is_held(
    site: Site, name: str, story: str
) -> None:
    site.write(name, story, mtime=1.7e9)
    site.refresh()
    before = only(site)
    retyped = story.replace("Europe", "Eu").replace("Quake hits Naples", "Quake kills 12 in Naples")
    site.write(name, retyped, mtime=1.8e9)
    assert site.refresh().removed == 0 and only(site) == before


@pytest.mark.parametrize(
    "section",
    [
        "Eruope",  # a near miss of a configured section: a typo
        "Eu",  # a section line being retyped, as the watcher may see it halfway
        "Sports",  # a section not configured yet: the operator is asked to add it
    ],
)
def test_a_section_line_broken_by_an_edit_holds_its_story_until_it_is_fixed(
    site: Site, section: str
) -> None:
    site.write("a.txt", GENEVA + "\n" + OTHER, mtime=1.7e9)
    site.refresh()
    before = only_section(site, "Europe")
    broken = GENEVA.replace("Europe", section) + "\n" + OTHER
    site.write("a.txt", broken, mtime=1.8e9)
    site.refresh()
    site.write("a.txt", broken.replace("Its only", "Its one"), mtime=1.9e9)  # saved again
    site.refresh()
    # every file read again (as after an upgrade, or a timezone changed): nothing new said
    site.config_path.write_text(config_text() + '[[sections]]\nname = "Africa"\n', "utf-8")
    site.refresh()
    assert only_section(site, "Europe") == before and held(site) == [before.id]
    site.write("a.txt", GENEVA + "\n" + OTHER.replace("Its only", "Its one"), mtime=2.0e9)
    site.refresh()
    assert only_section(site, "Europe") == before and held(site) == []


def test_a_story_moved_to_a_section_not_configured_yet_keeps_its_id_once_it_is(
    site: Site,
) -> None:
    site.write("a.txt", GENEVA + "\n" + OTHER, mtime=1.7e9)
    site.refresh()
    before = only_section(site, "Europe")
    moved = GENEVA.replace("Europe", "Sports") + "\n" + OTHER
    site.write("a.txt", moved, mtime=1.8e9)
    site.refresh()
    site.write("a.txt", moved.replace("Its only", "Its one"), mtime=1.9e9)  # saved again
    site.refresh()
    site.config_path.write_text(config_text() + '[[sections]]\nname = "Sports"\n', "utf-8")
    report = site.refresh()
    after = only_section(site, "Sports")
    assert (report.added, report.updated) == (0, 1) and after.id == before.id


def rewritten_monsoon(story: str) -> str:
    """`MONSOON` (or a story starting as it does) rewritten: a new headline and a new lead,
    the rest kept."""
    return story.replace("Monsoon floods the delta", "Delta evacuated").replace(
        "Rivers rose two metres overnight.", "Thousands left their homes by boat."
    )


def test_a_story_rewritten_at_a_position_a_held_story_kept_keeps_its_id(site: Site) -> None:
    """A held entry keeps its old position, and the story below it moved up into it: the
    rewrite of that one was compared with the held one alone, and published as new."""
    monsoon = MONSOON
    site.write("a.txt", GENEVA + "\n" + monsoon, mtime=1.7e9)
    site.refresh()
    before = only_section(site, "Asia")
    untitled = GENEVA.replace("Talks open in Geneva", "")  # held
    site.write("a.txt", untitled + "\n" + monsoon, mtime=1.8e9)
    site.refresh()
    rewritten = rewritten_monsoon(monsoon)
    site.write("a.txt", rewritten, mtime=1.9e9)  # and the held one deleted
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (0, 1, 1)
    after = only(site)
    assert (after.id, after.title) == (before.id, "Delta evacuated")


def test_a_story_below_a_held_one_rewritten_as_the_file_is_fixed_keeps_its_id(
    site: Site,
) -> None:
    """While the story above was held, this one was read a position up: the save that fixed
    the file and rewrote this one (its title's typo fixed) found nothing at its position."""
    lead = VOTE
    floods = "Asia\nFloods in Dhaka\n\nRivers rose two metres overnight in the delta.\n"
    strike = "Europe\nStrike in Lyon\n\nDrivers walked out at dawn over the new rotas.\n"
    site.write("a.txt", "\n".join([lead, floods, strike]), mtime=1.7e9)
    site.refresh()
    before = next(e for e in entries(site) if e.title == "Strike in Lyon")
    cleared = "Asia\nFloods in Dhaka\n\n"  # halfway through retyping its body: held
    site.write("a.txt", "\n".join([lead, cleared, strike]), mtime=1.8e9)
    site.refresh()
    retyped = "Europe\nStrike in Lyons\n\nThe strike spread to the railway and the port.\n"
    site.write("a.txt", "\n".join([lead, floods, retyped]), mtime=1.9e9)
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (0, 1, 0)
    after = next(e for e in entries(site) if e.title == "Strike in Lyons")
    assert after.id == before.id and held(site) == []


def test_a_story_added_as_a_held_one_is_deleted_gets_an_id_of_its_own(site: Site) -> None:
    """Looked for positions further down than a held story's own, a new story at the end was
    taken for the held one, by the sign-off they share: published under its id and date."""
    lead = VOTE
    floods = "Asia\nFloods in Dhaka\n\nRivers rose two metres overnight in the delta.\n"
    ferry = "Europe\nFerry strike ends in Calais\n\nCrossings resume on Friday.\n" + SIGNED
    site.write("a.txt", "\n".join([lead + SIGNED, GENEVA, floods + SIGNED]), mtime=1.7e9)
    site.refresh()
    geneva = next(e for e in entries(site) if e.title == "Talks open in Geneva")
    untitled = GENEVA.replace("Talks open in Geneva", "")  # held
    site.write("a.txt", "\n".join([lead + SIGNED, untitled, floods + SIGNED]), mtime=1.8e9)
    site.refresh()
    site.write("a.txt", "\n".join([lead + SIGNED, floods + SIGNED, ferry]), mtime=1.9e9)
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (1, 0, 1)
    assert geneva.id not in [e.id for e in entries(site)]


def test_a_story_rewritten_where_a_held_one_kept_its_place_keeps_its_id_by_its_paragraphs(
    site: Site,
) -> None:
    """Both entries there share the desk's sign-off with the rewrite: the one whose lead it
    kept is the story, not the first one found."""
    monsoon = MONSOON + SIGNED
    site.write("a.txt", GENEVA + "\n" + monsoon, mtime=1.7e9)
    site.refresh()
    before = only_section(site, "Asia")
    site.write("a.txt", GENEVA.replace("Talks open in Geneva", "") + "\n" + monsoon, mtime=1.8e9)
    site.refresh()
    rewritten = rewritten_monsoon(monsoon)
    site.write("a.txt", rewritten, mtime=1.9e9)  # and the held one deleted
    site.refresh()
    assert [(e.id, e.title) for e in entries(site)] == [(before.id, "Delta evacuated")]


@pytest.mark.parametrize("below", ["added", "rewritten"])
def test_a_first_story_whose_section_line_is_retyped_is_held_whatever_follows_it(
    site: Site, below: str
) -> None:
    """The article below it was read at its position and shared its sign-off: paired as in a
    clean file, it took the story's entry, which was then not looked for."""
    monsoon = MONSOON + SIGNED
    site.write("a.txt", GENEVA + "\n" + monsoon, mtime=1.7e9)
    site.refresh()
    before = only_section(site, "Europe")
    ferry = "Europe\nFerry strike ends in Calais\n\nCrossings resume on Friday.\n" + SIGNED
    rewritten = rewritten_monsoon(monsoon)
    rest = [ferry, monsoon] if below == "added" else [rewritten]
    site.write("a.txt", "\n".join([GENEVA.replace("Europe", "Eu"), *rest]), mtime=1.8e9)
    site.refresh()
    assert before in entries(site) and before.id in held(site)


def test_a_paragraph_every_story_of_the_file_ends_with_is_no_evidence_of_one(site: Site) -> None:
    """An editor working down a file, fixing one story as the next breaks, leaves held stories
    at stale positions; a new story written in a deleted one's place was taken for it by the
    desk's sign-off: published under its id and date, never as new."""
    stories = [
        "Europe\nVote in Paris\n\nThe vote is expected to close late on Sunday night.\n",
        GENEVA.removesuffix(SIGNED),
        "Asia\nFloods in Dhaka\n\nRivers rose two metres overnight in the delta.\n",
        "America\nStorm hits Miami\n\nWinds of 150 km/h were measured at the airport.\n",
        "Asia\nMarkets rally in Tokyo\n\nThe Nikkei closed three per cent higher.\n",
    ]
    a, h1, b, h2, c = (story + SIGNED for story in stories)
    site.write("a.txt", "\n".join([a, h1, b, h2, c]), mtime=1.7e9)
    site.refresh()
    floods = next(e for e in entries(site) if e.title == "Floods in Dhaka")

    def untitled(story: str) -> str:
        return story.replace(story.split("\n")[1], "")

    site.write("a.txt", "\n".join([a, untitled(h1), b, h2, c]), mtime=1.75e9)
    site.refresh()
    site.write("a.txt", "\n".join([a, h1, b, untitled(h2), c]), mtime=1.8e9)
    site.refresh()
    ferry = "Europe\nFerry strike ends in Calais\n\nCrossings resume on Friday.\n" + SIGNED
    site.write("a.txt", "\n".join([a, h1, h2, ferry, c]), mtime=1.9e9)  # b deleted
    report = site.refresh()
    assert (report.added, report.removed) == (1, 1)
    assert floods.id not in [e.id for e in entries(site)]


def test_a_file_over_the_limit_is_not_read_for_the_bodies_of_its_held_articles(
    site: Site,
) -> None:
    site.write("a.txt", ARTICLE)
    site.refresh()
    config = site.config()
    bodies = FileBodies(config, ReaderSettings.from_config(config))
    assert bodies.body(only(site)) == "First paragraph.\nSecond paragraph."
    site.write("a.txt", ARTICLE + "x" * 20_000_000, mtime=1.8e9)  # over the 10 MB default
    assert bodies.body(only(site)) is None  # the kept body is used instead


def test_a_body_read_back_is_read_again_from_a_file_saved_anew_with_its_size_and_mtime(
    site: Site,
) -> None:
    """A publish reads a file once for all of the stories it shows, and again when its stat
    changes: an editor's save (a new file moved onto the name) changes it, even with the same
    size and mtime (the mtime kept, as `cp -p` or a restore keeps it)."""
    site.write("a.txt", ARTICLE + "\n" + OTHER)
    site.refresh()
    config = site.config()
    bodies = FileBodies(config, ReaderSettings.from_config(config))
    first, other = sorted(entries(site), key=lambda entry: entry.ordinal)
    assert bodies.body(first) == "First paragraph.\nSecond paragraph."
    saved = site.write("a.txt.new", (ARTICLE + "\n" + OTHER).replace("First", "Fixed"))
    os.replace(saved, site.articles / "a.txt")
    assert bodies.body(first) is None  # the file no longer holds it
    assert bodies.body(other) == "Its only paragraph."


def test_a_file_refused_as_too_large_is_read_once_the_limit_is_raised(site: Site) -> None:
    limited = 'articles_dir = "articles"\nstate_dir = "var"\nmax_file_bytes = {}'
    site.config_path.write_text(config_text(content=limited.format(100)), encoding="utf-8")
    site.write("big.txt", ARTICLE + "x" * 200)
    assert site.refresh().added == 0
    site.config_path.write_text(config_text(content=limited.format(1000)), encoding="utf-8")
    report = site.refresh()
    assert report.added == 1 and report.problems == ()


def test_an_article_refused_for_a_taken_id_is_published_once_the_other_is_deleted(
    site: Site,
) -> None:
    text = "---\ntitle: {}\nsection: Europe\nid: tag:example.org,2025:geneva\n---\n\nTalks.\n"
    site.write("talks.md", text.format("Talks resume"), mtime=1.70e9)
    site.refresh()
    site.write("talks-geneva.md", text.format("Talks resume in Geneva"), mtime=1.70e9 + 10)
    (problem,) = site.refresh().problems
    assert (problem.path, problem.line) == ("talks-geneva.md", 4)  # the id's
    assert problem.message == (
        "another article has the id 'tag:example.org,2025:geneva' (in talks.md); "
        "give this one its own id"
    )
    (site.articles / "talks.md").unlink()  # at a later refresh: the new file is unchanged
    report = site.refresh()
    assert report.problems == () and (only(site).id, only(site).path) == (
        "tag:example.org,2025:geneva",
        "talks-geneva.md",
    )


def test_an_article_taken_out_of_a_file_that_reads_cleanly_is_unpublished(site: Site) -> None:
    site.write("a.txt", ARTICLE + "\n" + OTHER)
    site.refresh()
    site.write("a.txt", OTHER, mtime=1.8e9)
    report = site.refresh()
    assert report.removed == 1 and report.problems == ()
    assert [e.title for e in entries(site)] == ["Another story"]


def test_the_store_keeps_the_bodies_of_the_entries_shown_and_no_others(site: Site) -> None:
    site.config_path.write_text(config_text(feeds="max_entries = 2"), encoding="utf-8")
    for day in range(4):
        site.write(f"{day}.txt", f"Asia\nDay {day}\n\nBody {day}.\n", mtime=1.7e9 + day)
    site.refresh()
    with closing(sqlite3.connect(site.root / "var" / "state.sqlite3")) as db:
        kept = dict(db.execute("SELECT body, content_hash FROM bodies"))
    newest = {e.title: e.content_hash for e in entries(site)[:2]}
    assert sorted(kept.items()) == [("Body 2.", newest["Day 2"]), ("Body 3.", newest["Day 3"])]


def test_two_different_articles_never_share_an_id(site: Site) -> None:
    for number in range(5):
        site.write(f"{number}.txt", f"Asia\nSame title\n\nBody number {number}.\n")
    site.refresh()
    found = entries(site)
    assert len({e.id for e in found}) == 5 and len({e.slug for e in found}) == 5


def test_bad_files_are_reported_and_the_rest_is_published(site: Site) -> None:
    site.write("good.txt", ARTICLE)
    site.write("empty.txt", "")
    site.write("binary.txt", b"\x00\x01\x02")
    site.write("sub/dir/nested.txt", OTHER)
    site.write("sports.txt", "Sports\nMatch\n\nGoal.\n")
    site.write(".hidden.txt", ARTICLE.replace("Original", "Hidden"))
    site.write("backup.txt~", ARTICLE.replace("Original", "Backup"))
    site.write("#autosave.txt#", ARTICLE.replace("Original", "Autosave"))
    site.write("notes.docx", "not an article")
    outside = site.root / "outside.txt"
    outside.write_text(ARTICLE.replace("Original", "Outside"), encoding="utf-8")
    (site.articles / "link.txt").symlink_to(outside)
    report = site.refresh()
    assert sorted(e.title for e in entries(site)) == ["Another story", "Original title"]
    by_path = {p.path: p for p in report.problems}
    assert set(by_path) == {"empty.txt", "binary.txt", "sports.txt", "link.txt"}
    assert "symbolic link points outside articles/" in by_path["link.txt"].message
    assert all(p.severity == "error" for p in report.problems)


def test_files_swapped_for_links_out_of_articles_after_the_listing_are_never_read(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listing refuses a link pointing outside; a contributor swapping a file (or a
    directory) for one in a loop had a draft kept outside published within a few refreshes,
    the file being opened after it was listed, following links."""
    site.write("x.txt", ARTICLE)
    site.write("desk/y.txt", OTHER)
    outside = site.root / "drafts"
    outside.mkdir()
    for name in ("x.txt", "y.txt"):
        (outside / name).write_text("Europe\nEmbargoed draft\n\nNot for readers.\n", "utf-8")
    listed = listing.scan

    def swapped_once_listed(*args: Any, **kwargs: Any) -> listing.Scan:
        found = listed(*args, **kwargs)
        (site.articles / "x.txt").unlink()
        (site.articles / "x.txt").symlink_to(outside / "x.txt")
        (site.articles / "desk").rename(site.root / "desk-away")
        (site.articles / "desk").symlink_to(outside)
        return found

    monkeypatch.setattr("feedsvc.refresh.scan", swapped_once_listed)
    site.refresh()
    assert entries(site) == []
    assert b"Embargoed" not in site.published("/feeds/all.atom")


def test_a_link_to_an_article_inside_articles_is_read_where_it_points(site: Site) -> None:
    """Its target in a hidden directory, which the scan lists no file of: only the link,
    opened where it points, can publish it."""
    site.write(".originals/story.txt", ARTICLE)
    (site.articles / "today.txt").symlink_to(".originals/story.txt")
    report = site.refresh()
    assert (report.problems, report.deferred) == ((), ())
    assert [(e.path, e.title) for e in entries(site)] == [("today.txt", "Original title")]


def test_a_published_file_made_a_broken_link_is_said_to_be_unpublished(site: Site) -> None:
    """ "fix or remove it" alone read as if it stayed published, as a file in error does."""
    site.write("a.txt", ARTICLE)
    site.write("b.txt", OTHER)
    site.refresh()
    (site.articles / "a.txt").unlink()
    (site.articles / "a.txt").symlink_to("gone.txt")
    report = site.refresh()
    assert report.removed == 1 and [e.path for e in entries(site)] == ["b.txt"]
    assert [p.message for p in report.problems] == [
        "symbolic link points to nothing (its target is gone): nothing of it is published; "
        "fix or remove it"
    ]


def test_a_link_refused_is_said_in_the_refreshers_log_once(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """As a file read with an error is: /healthz and `check` had it, the log never did."""
    site.write("good.txt", ARTICLE)
    (site.articles / "dangling.txt").symlink_to("gone.txt")
    site.refresh()
    assert "dangling.txt: error: symbolic link points to nothing" in caplog.text
    caplog.clear()
    site.write("other.txt", OTHER)
    site.refresh()
    assert "dangling.txt" not in caplog.text  # said when it is new, not at every refresh


def test_links_that_cannot_be_followed_and_names_not_in_utf8_are_reported(site: Site) -> None:
    """One such file must not stop the refresh that publishes the others."""
    site.write("good.txt", ARTICLE)
    (site.articles / "loop.txt").symlink_to("loop.txt")
    (site.articles / "a.md").symlink_to("b.md")
    (site.articles / "b.md").symlink_to("a.md")
    (site.articles / "dangling.txt").symlink_to("gone.txt")
    (site.articles / "notes").symlink_to("gone")  # not an article's name: nothing to say
    latin1 = os.fsencode(site.articles) + b"/caf\xe9.txt"
    with open(latin1, "wb") as file:
        file.write(OTHER.encode())
    os.mkdir(os.fsencode(site.articles) + b"/\xe9t\xe9")
    with open(os.fsencode(site.articles) + b"/\xe9t\xe9/inside.txt", "wb") as file:
        file.write(OTHER.encode())
    report = site.refresh()
    assert [e.title for e in entries(site)] == ["Original title"]
    by_path = {p.path: p.message for p in report.problems}
    assert set(by_path) == {
        "loop.txt",
        "a.md",
        "b.md",
        "dangling.txt",
        "caf\\xe9.txt",
        "\\xe9t\\xe9/",
    }
    assert "in a loop" in by_path["loop.txt"] and "in a loop" in by_path["a.md"]
    assert "points to nothing" in by_path["dangling.txt"]
    assert "not valid UTF-8; rename it" in by_path["caf\\xe9.txt"]
    assert all(p.severity == "error" for p in report.problems)
    # `check` says the same, without a traceback
    assert {p.path for p in check_files(load_config(site.config_path))[2]} == set(by_path)
    # and a watcher's report of that name is left to the full scan, which says it
    assert listing.scan_paths(site.articles, [os.fsdecode(b"caf\xe9.txt")]) is None
    assert listing.scan_paths(site.articles, ["good.txt"]) is not None


def test_a_file_that_cannot_be_read_is_said_so_and_what_it_published_stays(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not "still being written": that would wait forever for a file nobody writes."""
    site.write("good.txt", ARTICLE)
    site.write("locked.txt", OTHER)
    site.refresh()
    site.write("locked.txt", OTHER.replace("Another story", "Another story, edited"))
    site.write("new.txt", "Asia\nA new story\n\nBody.\n")
    real_open = corpus.os.open

    def refusing(path: str | Path, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith(("locked.txt", "new.txt")):  # root reads anything: say it here
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(corpus.os, "open", refusing)
    report = site.refresh()
    said = {p.path: p for p in report.problems}
    assert set(said) == {"locked.txt", "new.txt"}
    assert said["new.txt"].severity == "error"
    assert said["new.txt"].message == (
        f"cannot read the file: Permission denied; let the user feedsvc runs as (uid "
        f"{os.geteuid()}) read it"
    )
    assert report.deferred == () and "still being written" not in report.summary()
    assert sorted(e.title for e in entries(site)) == ["Another story", "Original title"]

    monkeypatch.setattr(corpus.os, "open", real_open)  # permissions fixed: read at once
    report = site.refresh()
    assert report.problems == ()
    titles = sorted(e.title for e in entries(site))
    assert titles == ["A new story", "Another story, edited", "Original title"]


def test_a_file_over_the_size_cap_is_skipped_unread(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    real_open = corpus.os.open

    def noting(path: str | Path, *args: Any, **kwargs: Any) -> int:
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(corpus.os, "open", noting)
    config = site.config_path.read_text(encoding="utf-8")
    site.config_path.write_text(
        config.replace('state_dir = "var"', 'state_dir = "var"\nmax_file_bytes = 100')
    )
    site.write("big.txt", ARTICLE + "x" * 200)
    site.write("small.txt", OTHER)
    report = site.refresh()
    assert [e.title for e in entries(site)] == ["Another story"]
    (problem,) = report.problems
    assert problem.path == "big.txt"
    assert "larger than content.max_file_bytes (100); skipped without reading it" in problem.message
    read = [os.path.basename(path) for path in opened if path.endswith(".txt")]
    assert set(read) == {"small.txt"}  # big.txt never opened (small.txt to read, and its body)


def test_a_corrupt_state_store_is_refused_not_reset(site: Site) -> None:
    (site.root / "var").mkdir()
    (site.root / "var" / "state.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateError, match="unreadable or corrupt.*restore it from a backup"):
        StateStore.open(site.root / "var")


def test_a_store_made_before_bodies_and_holds_were_kept_gets_the_tables_and_keeps_its_version(
    site: Site,
) -> None:
    site.write("a.txt", ARTICLE)
    site.refresh()
    before = only(site)
    created = indexes(site)
    with closing(sqlite3.connect(site.root / "var" / "state.sqlite3")) as db, db:
        db.execute("DROP TABLE bodies")  # as a release before them left the store
        db.execute("DROP TABLE held")
        db.execute("DROP TABLE page_changes")
        db.execute("DROP INDEX entries_updated")
    site.write("b.txt", OTHER)
    assert site.refresh().added == 1
    assert only_section(site, "Europe") == before
    with closing(sqlite3.connect(site.root / "var" / "state.sqlite3")) as db:
        # the same schema version: the release before can still open it (a rollback)
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
            "2",
        )
        assert db.execute("SELECT count(*) FROM bodies").fetchone() == (2,)
        assert db.execute("SELECT count(*) FROM held").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM page_changes").fetchone() == (0,)
    assert indexes(site) == created


def test_a_store_busy_for_too_long_is_reported_as_busy_not_corrupt(site: Site) -> None:
    site.write("a.txt", ARTICLE)
    site.refresh()
    with closing(sqlite3.connect(site.root / "var" / "state.sqlite3")) as db, db:
        db.execute("DROP TABLE bodies")
    with closing(sqlite3.connect(site.root / "var" / "state.sqlite3", isolation_level=None)) as db:
        db.execute("BEGIN IMMEDIATE")  # another process's long write
        with pytest.raises(StateError, match="the state store is busy") as raised:
            StateStore.open(site.root / "var", busy_wait=0.1)
        assert "corrupt" not in str(raised.value)
        db.execute("ROLLBACK")
    StateStore.open(site.root / "var").close()


def test_a_state_store_of_another_version_is_refused(site: Site) -> None:
    site.write("a.txt", ARTICLE)
    site.refresh()
    with sqlite3.connect(site.root / "var" / "state.sqlite3") as db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    with pytest.raises(StateError, match="schema version 0"):
        StateStore.open(site.root / "var")


def indexes(site: Site) -> list[tuple[str, str]]:
    with sqlite3.connect(site.root / "var" / "state.sqlite3") as db:
        return db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "ORDER BY name"
        ).fetchall()


def test_a_first_fill_builds_the_stores_indexes_after_its_rows(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold build drops the lookups' indexes while it inserts and builds them at the end; a
    build that fails half-way leaves the store as it was, indexes included."""
    StateStore.open(site.root / "var").close()
    created = indexes(site)
    assert len(created) == 6
    site.write("a.txt", ARTICLE)
    site.write("b.txt", OTHER)

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk on fire")

    with monkeypatch.context() as patched:
        patched.setattr("feedsvc.corpus._apply", broken)
        with pytest.raises(OSError, match="disk on fire"):
            site.refresh()
    assert indexes(site) == created
    site.refresh()
    assert indexes(site) == created
    assert sorted(e.title for e in entries(site)) == ["Another story", "Original title"]


def test_check_reads_everything_and_stores_nothing(site: Site) -> None:
    site.write("a.txt", ARTICLE)
    site.write("b.txt", ARTICLE)
    site.write("c.txt", "Asia\nNo body\n\n")
    site.write("d.md", "---\ntitle: D\nsection: Asia\nid: urn:x:1\n---\n\nD.\n")
    site.write("e.md", "---\ntitle: E\nsection: Asia\nid: urn:x:1\n---\n\nE.\n")
    files, count, problems = check_files(load_config(site.config_path))
    assert (files, count) == (5, 2)
    assert [(p.path, p.severity) for p in problems] == [
        ("b.txt", "warning"),
        ("c.txt", "error"),
        ("e.md", "error"),
    ]
    assert (
        problems[-1].message
        == "another article has the id 'urn:x:1' (in d.md); give this one its own id"
    )
    assert not (site.root / "var").exists()


def test_check_says_the_entries_a_refresh_would_unpublish_for_files_not_found(
    site: Site,
) -> None:
    """articles_dir pointed elsewhere (a subdirectory of the old one): `check` read clean, and
    the next refresh took the stories away from every reader."""
    site.write("a.txt", QUAKE + "\n" + VOTE)
    site.write("b.txt", OTHER)
    site.write("desk/c.txt", MONSOON)
    site.refresh()
    write_config = site.config_path.write_text
    write_config(config_text(content='articles_dir = "articles/desk"\nstate_dir = "var"'))
    moved = OTHER.replace("Another story", "Another story, retitled")
    site.write("desk/o.txt", moved)  # moved along, retitled: a refresh keeps it, by its body
    files, count, problems = check_files(load_config(site.config_path))
    assert (files, count) == (2, 2)
    assert [(p.path, p.severity, p.message) for p in problems] == [
        (
            str(site.config_path),
            "warning",
            f"a.txt is not in content.articles_dir ({site.articles}/desk) now: a refresh "
            "with this config unpublishes its 2 entries, and their readers see them go; "
            "deleted or moved on purpose? then nothing to do; else put the files back, or "
            "articles_dir as it was",
        )
    ]
    report = site.refresh()
    assert report.removed == 2


def test_check_says_a_refused_file_loses_its_entries_with_its_refusal(
    site: Site, tmp_path: Path
) -> None:
    """A published file made a link out of articles/ is refused, and a refresh unpublishes its
    stories: said on the file's line, where the refusal is, not as a file that is gone."""
    site.write("a.txt", QUAKE + "\n" + VOTE)
    site.write("b.txt", OTHER)
    site.refresh()
    outside = tmp_path / "elsewhere.txt"
    outside.write_text(QUAKE + "\n" + VOTE)
    (site.articles / "a.txt").unlink()
    (site.articles / "a.txt").symlink_to(outside)
    files, count, problems = check_files(load_config(site.config_path))
    assert (files, count) == (1, 1)
    assert [(p.path, p.severity, p.message) for p in problems] == [
        (
            "a.txt",
            "error",
            "symbolic link points outside articles/; refused; a refresh unpublishes its 2 "
            "entries, and their readers see them go",
        )
    ]
    assert site.refresh().removed == 2


def test_check_says_nothing_is_unpublished_where_a_refresh_would_hold_back(site: Site) -> None:
    """articles_dir listing no file at all while entries are published: an unmounted volume,
    which a refresh treats as a fault, unpublishing nothing."""
    site.write("a.txt", QUAKE)
    site.refresh()
    (site.articles / "a.txt").unlink()
    assert check_files(load_config(site.config_path))[2] == []
    assert site.refresh().held_back is not None


@pytest.mark.parametrize("lowered", [True, False], ids=["the limit lowered", "the file grew"])
def test_check_says_a_file_over_the_limit_loses_its_entries_only_if_the_limit_was_lowered(
    site: Site, lowered: bool
) -> None:
    site.write("a.txt", QUAKE + "\n" + VOTE)
    site.refresh()
    size = (site.articles / "a.txt").stat().st_size
    if lowered:
        limit = size - 1
    else:
        limit = size + 10
        site.write("a.txt", QUAKE + "\n" + VOTE + "More of it, " * 10 + "\n")
    write_config = site.config_path.write_text
    write_config(config_text(content=f'state_dir = "var"\nmax_file_bytes = {limit}'))
    said = (
        "(raise the limit or split the file); a refresh unpublishes its 2 entries, and their "
        "readers see them go"
    )
    (problem,) = check_files(load_config(site.config_path))[2]
    assert problem.message.endswith(said) == lowered
    assert site.refresh().removed == (2 if lowered else 0)
    (problem,) = check_files(load_config(site.config_path))[2]  # as that refresh left it
    assert problem.message.endswith("(raise the limit or split the file)")


def test_a_front_matter_slug_already_taken_is_changed_with_a_warning(site: Site) -> None:
    site.write("a.md", "---\ntitle: First\nsection: Asia\nslug: the-story\n---\n\nA.\n")
    site.refresh()
    site.write("b.md", "---\ntitle: Second\nsection: Asia\nslug: the-story\n---\n\nB.\n")
    report = site.refresh()
    assert {e.title: e.slug for e in entries(site)} == {
        "First": "the-story",
        "Second": "the-story-2",
    }
    assert [str(p) for p in report.problems] == [
        "b.md:4: warning: slug 'the-story' is taken by another article; this one is published "
        "as 'the-story-2' (choose another slug to decide it yourself)"
    ]
    _, _, checked = check_files(site.config())  # said before any refresh, too
    assert [str(p) for p in checked] == [
        "b.md:4: warning: slug 'the-story' is also that of an article in a.md: a refresh "
        "gives it to the one published first, the other a slug of its own (the-story-2, say); "
        "choose another slug to decide which"
    ]
    # made of another article's title first, as a refresh would make it
    site.write("0.md", "---\ntitle: The story\nsection: Asia\n---\n\nZero.\n")
    _, _, checked = check_files(site.config())
    assert [(p.path, p.message.split(":")[0]) for p in checked] == [
        ("a.md", "slug 'the-story' is also that of an article in 0.md"),
        ("b.md", "slug 'the-story' is also that of an article in 0.md"),
    ]


@pytest.mark.parametrize(
    "sections", [["Europe"], ["Europe", "Foreign Affairs"]], ids=["out", "renamed"]
)
def test_an_article_of_a_section_taken_out_is_refused_not_glued_to_the_one_above(
    site: Site, sections: list[str]
) -> None:
    # Only a file's first line opens a section that is not configured: further down, a line
    # naming one is a paragraph. Not one that was published: its article is refused, and the
    # article above it keeps its own text.
    text = (
        "Europe\nParis hosts summit\n\nLeaders met on Monday.\n\n"
        "Diplomacy\nArmenia signals withdrawal\n\nYerevan said it may leave.\n"
    )
    site.write("a.txt", text, mtime=1_700_000_000)
    site.refresh()
    paris = only_section(site, "Europe")
    site.config_path.write_text(config_text(sections=sections), "utf-8")
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (0, 0, 1)
    assert only_section(site, "Europe") == paris
    assert [str(p) for p in report.problems] == [
        "a.txt:6: error: section 'Diplomacy' is not configured; add a [[sections]] entry with "
        'name = "Diplomacy" to config.toml, or set content.allow_new_sections = true'
    ]
    assert [str(p) for p in check_files(site.config())[2]] == [str(p) for p in report.problems]
    site.config_path.write_text(config_text(), "utf-8")  # and back: published again, as it was
    assert site.refresh().added == 1
    assert only_section(site, "Europe") == paris


@pytest.mark.parametrize(
    ("left", "mtime"),
    [
        (OTHER, 1_700_000_100),
        (OTHER + "\nAsia\nA new story\n\nJust in.\n", 1_700_000_100),
        (OTHER, None),  # written just now (`git pull && feedsvc refresh`): read once settled
    ],
    ids=["moved", "its old file gains a story too", "just written"],
)
def test_a_story_moved_to_a_file_read_before_its_own_and_retitled_keeps_its_id(
    site: Site, left: str, mtime: float | None
) -> None:
    # One refresh reads both files, the story's new one first (by path): its addition must
    # wait for its removal from the other.
    rome = "Europe\nRome bans cars\n\nThe council voted.\n"
    story = "Europe\nBerlin approves new defence budget\n\nThe Bundestag approved it.\n"
    site.write("a.txt", rome, mtime=1_700_000_000)
    site.write("b.txt", OTHER + "\n" + story, mtime=1_700_000_000)
    site.refresh()
    before = {e.title: e for e in entries(site)}["Berlin approves new defence budget"]
    mtime = time.time() if mtime is None else mtime
    site.write("a.txt", rome + "\n" + story.replace("new", "record"), mtime=mtime)
    site.write("b.txt", left, mtime=mtime)
    report = site.refresh()
    assert (report.added, report.updated, report.removed) == (left.count("\nAsia\n"), 1, 0)
    after = {e.id: e for e in entries(site)}[before.id]
    assert (after.title, after.slug, after.published, after.path) == (
        "Berlin approves record defence budget",
        before.slug,
        before.published,
        "a.txt",
    )


def test_related_headlines_edited_change_the_page_not_the_entry(site: Site) -> None:
    text = "Europe\nTalks resume\n\nNegotiators met.\n-\nAsia2 weeks ago\nAn older headline\n"
    site.write("a.txt", text, mtime=1_700_000_000)
    site.refresh()
    before = only(site)
    site.write("a.txt", text + "-\nEurope4 days ago\nA newer headline\n", mtime=1_700_000_100)
    report = site.refresh()
    assert report.published and (report.added, report.updated, report.removed) == (0, 0, 0)
    assert b"A newer headline" in site.published(f"/articles/{before.slug}/")
    assert only(site).updated == before.updated  # the feeds' entry is as it was


def test_a_section_found_with_allow_new_sections_changes_how_no_other_file_reads(
    site: Site,
) -> None:
    # Found on a file's first line, and only there: the next refresh has nothing to read again.
    site.config_path.write_text(config_text(content=ALLOW_NEW), "utf-8")
    site.write("a.txt", "Sports\nCup final tonight\n\nKick-off at nine.\n", mtime=1_700_000_000)
    column = "Sports\nThe column below is about football\n\nIt is.\n"
    site.write("b.txt", "Europe\nSummit\n\nLeaders met.\n\n" + column, mtime=1_700_000_000)
    assert site.refresh().added == 2
    report = site.refresh()
    assert (report.files_read, report.published) == (0, False)


def test_files_that_wait_for_the_others_keep_their_order_by_path(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    # New files wait for the rest of their refresh, a batch at a time (an import of thousands):
    # files saved at one instant are still dated in path order, the later the newer.
    site.write("a.txt", ARTICLE, mtime=1_700_000_000)
    site.refresh()
    monkeypatch.setattr(corpus, "WAITING_AT_MOST", 2)
    for number in range(5):
        site.write(f"n{number}.txt", f"Asia\nStory {number}\n\nBody {number}.\n", 1_700_000_100)
    assert site.refresh().added == 5
    newest_first = [e.path for e in entries(site) if e.section == "Asia"]
    assert newest_first == ["n4.txt", "n3.txt", "n2.txt", "n1.txt", "n0.txt"]
