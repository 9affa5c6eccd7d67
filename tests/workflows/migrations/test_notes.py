"""MIGRATION-NOTES.md entries: found in any heading style, and written in the file's own."""

from __future__ import annotations

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
