"""MIGRATION-NOTES.md: one entry per change, naming each dialect's revision id.

An entry::

    ## Add flow run new column

    SQLite: `1a2b3c4d5e6f`
    Postgres: `6f5e4d3c2b1a`

    - data-dependent: add column flow_run.x VARCHAR NOT NULL without a server default

A shared history's entry names its one revision instead: ``Revision: `1a2b3c4d5e6f```.

New entries go first, below the file's preamble; the file is replaced atomically.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from contribkit.core.config import DIALECT_LABELS, SHARED
from contribkit.core.ownership import uninterrupted
from contribkit.core.signals import deferred_signals

PREAMBLE = """# Migration notes

Every database change, newest first. Each entry names the revision id of each dialect's
migration file (`versions/<dialect>/`), or of the one file every dialect runs (`versions/`);
`invoke migrate` writes the entries and
`invoke migrate --check` fails when this file and the revision files disagree.
"""
_LABEL_TO_DIALECT = {label.lower(): dialect for dialect, label in DIALECT_LABELS.items()}
_LABEL_TO_DIALECT["postgresql"] = "postgresql"
_LABEL_TO_DIALECT["mariadb"] = "mysql"
#: The label of a shared history's revision: every dialect runs it.
SHARED_LABEL = "Revision"
_LABEL_TO_DIALECT[SHARED_LABEL.lower()] = SHARED
_REVISION_LINE = re.compile(r"^(?P<label>[A-Za-z]+):\s*`?(?P<rev>[0-9a-f]{6,})`?\s*$")


def recorded_revisions(text: str) -> dict[str, set[str]]:
    """Dialect (or :data:`~contribkit.core.config.SHARED`) → revision ids named by the notes."""
    found: dict[str, set[str]] = {}
    for line in text.splitlines():
        match = _REVISION_LINE.match(line.strip())
        if match and match["label"].lower() in _LABEL_TO_DIALECT:
            found.setdefault(_LABEL_TO_DIALECT[match["label"].lower()], set()).add(match["rev"])
    return found


@dataclass(frozen=True)
class EntryStyle:
    """How a notes file writes its entries: heading marker, blank line after the heading."""

    heading: str = "##"
    gap: bool = True


_HEADING = re.compile(r"^(?P<marks>#{1,6}) ", flags=re.MULTILINE)


def _newest_entry(text: str) -> re.Match[str] | None:
    """The heading of the first entry: a heading whose section names a revision (the file's own
    title, often a ``#`` heading too, names none)."""
    headings = list(_HEADING.finditer(text))
    for i, heading in enumerate(headings):
        end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
        section = text[heading.end() : end].splitlines()[1:]
        if any(_REVISION_LINE.match(line.strip()) for line in section):
            return heading
    return None


def entry_style(text: str | None) -> EntryStyle:
    """The style of the newest existing entry, so a new one looks like its neighbours."""
    heading = _newest_entry(text or "")
    if heading is None:
        return EntryStyle()
    following = (text or "")[heading.end() :].splitlines()[1:2]
    return EntryStyle(heading["marks"], gap=bool(following) and not following[0].strip())


def render_entry(
    title: str, revisions: dict[str, str], concerns: list[str], style: EntryStyle = EntryStyle()
) -> str:
    """``revisions``: dialect (or :data:`~contribkit.core.config.SHARED`) → revision id."""
    lines = [f"{style.heading} {title}", *([""] if style.gap else [])]
    labels = {**DIALECT_LABELS, SHARED: SHARED_LABEL}
    lines += [f"{labels[d]}: `{rev}`" for d, rev in revisions.items()]
    if concerns:
        lines += ["", *(f"- {concern}" for concern in concerns)]
    return "\n".join(lines) + "\n"


def with_entry(existing: str | None, entry: str, replacing: dict[str, str] | None = None) -> str:
    """The notes text with ``entry`` inserted before the newest existing entry; an existing
    entry naming any revision of ``replacing`` (dialect → revision id, an amended change's)
    is replaced by it instead, where it is."""
    text = existing if existing and existing.strip() else PREAMBLE
    ids = set((replacing or {}).values())
    preamble, entries = _entries(text)
    if ids and any(_names_any(e, ids) for e in entries):
        kept = [entry.rstrip("\n") if _names_any(e, ids) else e for e in entries]
        return preamble.rstrip("\n") + "\n\n" + "\n".join(e + "\n" for e in dict.fromkeys(kept))
    match = _newest_entry(text)
    if match is None:
        return text.rstrip("\n") + "\n\n" + entry
    head, tail = text[: match.start()], text[match.start() :]
    return head.rstrip("\n") + "\n\n" + entry + "\n" + tail


def write_atomically(path: Path, text: str | bytes, *, mode_of: Path | None = None) -> None:
    """Replace ``path`` with ``text`` (UTF-8, ``\\n``; bytes as they are) in one rename: readers
    see the old or the new file. It keeps the permissions of ``mode_of`` (default: its own)."""
    tmp: str | None = None
    try:
        # Held, so that no interrupt lands between creating the file and owning its removal.
        with deferred_signals():
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            handle = os.fdopen(fd, "wb")  # owns fd from here
        with handle:
            handle.write(text if isinstance(text, bytes) else text.encode("utf-8"))
        like = mode_of or path
        if like.exists():
            os.chmod(tmp, like.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        if tmp is not None:
            uninterrupted(Path(tmp).unlink, missing_ok=True)
        raise


def put_back(created: list[Path], originals: dict[Path, bytes]) -> None:
    """Undo a group of writes: remove the files it ``created`` and give each file of
    ``originals`` its bytes back, each in one rename."""
    for path in created:
        path.unlink(missing_ok=True)
    for path, data in originals.items():
        if not path.exists() or path.read_bytes() != data:
            tmp = path.with_name(f".{path.name}.restore")
            tmp.write_bytes(data)
            os.replace(tmp, path)


def rebased(text: str, ours: set[str]) -> str:
    """The notes of a merge of two branches with the entries naming ``ours`` first, git's
    conflict markers between them resolved; :class:`ValueError` (why) where the two sides
    differ in anything else."""
    first, second = _sides(text)
    preamble, entries = _entries(first)
    other_preamble, other_entries = _entries(second)
    if preamble.strip() != other_preamble.strip():
        raise ValueError("the two branches changed the text before the entries: merge it by hand")
    mine = list(dict.fromkeys(e for e in (*entries, *other_entries) if _names_any(e, ours)))
    for entry in mine:
        named = {rev for found in recorded_revisions(entry).values() for rev in found}
        if named - ours:  # an older entry this branch edited: which version holds?
            raise ValueError(
                f"the entry {entry.splitlines()[0]!r} names revisions of both branches: merge it "
                "by hand"
            )
    rest, other_rest = ([e for e in side if e not in mine] for side in (entries, other_entries))
    if rest[len(rest) - len(other_rest) :] == other_rest:
        kept = rest
    elif other_rest[len(other_rest) - len(rest) :] == rest:
        kept = other_rest
    else:
        raise ValueError(
            "the two branches differ in entries other than this branch's new ones: merge them "
            "by hand"
        )
    return preamble.rstrip("\n") + "\n\n" + "\n".join(e + "\n" for e in (*mine, *kept))


def _sides(text: str) -> tuple[str, str]:
    """The two versions of a file holding git's conflict markers (the same text twice without)."""
    sides: tuple[list[str], list[str]] = ([], [])
    state = "both"
    for line in text.splitlines(keepends=True):
        marker = _marker(line)
        if marker == "<<<<<<<" and state == "both":
            state = "first"
        elif marker == "|||||||" and state == "first":
            state = "base"  # diff3's common ancestor: neither side
        elif marker == "=======" and state in ("first", "base"):
            state = "second"
        elif marker == ">>>>>>>" and state == "second":
            state = "both"
        elif marker:
            raise ValueError(f"a conflict marker out of place: {line.strip()!r}")
        else:
            if state in ("both", "first"):
                sides[0].append(line)
            if state in ("both", "second"):
                sides[1].append(line)
    if state != "both":
        raise ValueError("a conflict is not closed (no '>>>>>>>' line)")
    return "".join(sides[0]), "".join(sides[1])


def conflicted(text: str) -> bool:
    """Whether ``text`` holds a git conflict marker."""
    return any(_marker(line) for line in text.splitlines())


def _marker(line: str) -> str:
    """The conflict marker ``line`` is (``""``: none). ``=======`` alone on its line, the others
    followed by a space or nothing: a longer run of ``=`` underlines a heading."""
    stripped = line.rstrip("\r\n")
    head = stripped[:7]
    if head == "=======":
        return head if stripped == head else ""
    if head in ("<<<<<<<", "|||||||", ">>>>>>>") and stripped[7:8] in ("", " "):
        return head
    return ""


def _entries(text: str) -> tuple[str, list[str]]:
    """The text before the first entry, and each entry (its heading to the next entry's, without
    the blank lines after it)."""
    newest = _newest_entry(text)
    if newest is None:
        return text, []
    level = re.compile(rf"^{newest['marks']} ", flags=re.MULTILINE)
    starts = [m.start() for m in level.finditer(text) if m.start() >= newest.start()]
    bounds = zip(starts, [*starts[1:], len(text)], strict=True)
    return text[: newest.start()], [text[a:b].rstrip() for a, b in bounds]


def entry_naming(text: str, revision: str) -> str | None:
    """The entry of the notes ``text`` that names ``revision`` (``None``: none does)."""
    return next((e for e in _entries(text)[1] if _names_any(e, {revision})), None)


def _names_any(entry: str, revisions: set[str]) -> bool:
    return any(rev in revisions for found in recorded_revisions(entry).values() for rev in found)
