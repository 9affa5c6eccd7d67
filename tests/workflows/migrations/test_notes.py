"""MIGRATION-NOTES.md entries: found in any heading style, and written in the file's own."""

from __future__ import annotations

import pytest

from contribkit.workflows.migrations import notes

HASH_STYLE = """# Migration notes

Each change, newest first.

# Add tags
SQLite: `c3d2c0de0003`
Postgres: None

Tags for entries.
"""


def test_a_new_entry_follows_the_newest_entrys_style_and_goes_before_it() -> None:
    style = notes.entry_style(HASH_STYLE)
    assert style == notes.EntryStyle("#", gap=False)
    entry = notes.render_entry("Add memo", {"sqlite": "aaaaaaaaaaaa"}, [], style)
    text = notes.with_entry(HASH_STYLE, entry)
    assert text.startswith("# Migration notes\n\nEach change, newest first.\n\n# Add memo\n")
    assert "SQLite: `aaaaaaaaaaaa`\n\n# Add tags\n" in text
    assert notes.recorded_revisions(text) == {"sqlite": {"aaaaaaaaaaaa", "c3d2c0de0003"}}


def test_a_file_without_entries_gets_the_default_style_after_its_preamble() -> None:
    assert notes.entry_style(notes.PREAMBLE) == notes.EntryStyle("##", gap=True)
    entry = notes.render_entry("Initial", {"postgresql": "bbbbbbbbbbbb"}, ["a concern"])
    text = notes.with_entry(notes.PREAMBLE, entry)
    assert text.endswith("\n\n## Initial\n\nPostgres: `bbbbbbbbbbbb`\n\n- a concern\n")


OLD = "## Initial\n\nSQLite: `aaaaaaaaaaaa`\n"
THEIRS = "## Add a\n\nSQLite: `bbbbbbbbbbbb`\n"
OURS = "## Add b\n\nSQLite: `cccccccccccc`\n\n- data-dependent: x\n"


def test_a_merge_conflict_between_two_new_entries_resolves_with_ours_first() -> None:
    conflicted = f"{notes.PREAMBLE}\n<<<<<<< HEAD\n{OURS}||||||| base\n=======\n{THEIRS}>>>>>>> main\n\n{OLD}"
    expected = f"{notes.PREAMBLE}\n{OURS}\n{THEIRS}\n{OLD}"
    assert notes.rebased(conflicted, {"cccccccccccc"}) == expected
    # merged without a conflict (a union merge), ours below theirs: moved up all the same
    assert notes.rebased(f"{notes.PREAMBLE}\n{THEIRS}\n{OURS}\n{OLD}", {"cccccccccccc"}) == expected


def test_a_conflict_in_anything_but_whole_new_entries_is_refused() -> None:
    edited_old = OLD.replace("Initial", "Initial schema")
    cases = {
        "changed the text before the entries": f"<<<<<<< HEAD\n# Notes\n=======\n{notes.PREAMBLE}>>>>>>> m\n\n{OLD}",
        "differ in entries other than": f"{notes.PREAMBLE}\n<<<<<<< HEAD\n{OURS}\n{OLD}=======\n{THEIRS}\n{edited_old}>>>>>>> m\n",
        "is not closed": f"{notes.PREAMBLE}\n<<<<<<< HEAD\n{OURS}=======\n{THEIRS}",
        "out of place": f"{notes.PREAMBLE}\n=======\n{OURS}",
    }
    for why, text in cases.items():
        with pytest.raises(ValueError, match=why):
            notes.rebased(text, {"cccccccccccc"})


def test_an_entry_naming_both_branches_revisions_is_refused_and_setext_lines_are_not_markers() -> (
    None
):
    edited = OLD + "SQLite: `cccccccccccc`\n"  # this branch added its id to an older entry
    with pytest.raises(ValueError, match="names revisions of both branches"):
        notes.rebased(f"{notes.PREAMBLE}\n{THEIRS}\n{edited}", {"cccccccccccc"})
    setext = "Migration notes\n===============\n\nNewest first.\n\n"
    assert (
        notes.rebased(f"{setext}{THEIRS}\n{OURS}", {"cccccccccccc"}) == f"{setext}{OURS}\n{THEIRS}"
    )
