"""Project code that is broken or exits: one line naming the file, a failing exit code, never a
traceback and never a silent exit 0 (CI would go green having checked nothing)."""

from __future__ import annotations

import pytest

COMMANDS = (
    ["check"],
    ["migrate", "-m", "x", "--dialect", "sqlite"],
    ["db", "current"],
    ["db", "upgrade"],
)


@pytest.fixture
def adopted(sample, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    assert sample.cli("init").code == 0
    assert sample.cli("migrate", "-m", "initial", "--dialect", "sqlite").code == 0
    monkeypatch.setenv("INVENTORY_DATABASE_URL", f"sqlite:///{tmp_path / 'real.db'}")
    assert sample.cli("db", "upgrade").code == 0  # the real database, at the first revision
    return sample


def _second_revision(
    project, body: str, *, revision: str = "d1d1d1d1d1d1", down: str | None = None
):  # type: ignore[no-untyped-def]
    first = project.versions("sqlite")[0]
    parent = first.name.split("_")[4]
    path = first.with_name(f"2030_01_01_000000_{revision}_second.py")
    down_revision = repr(down if down is not None else parent)
    path.write_text(
        f"revision = {revision!r}\ndown_revision = {down_revision}\nbranch_labels = None\n"
        f"depends_on = None\n{body}\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
    )
    return path


def _one_line_failure(outcome, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert outcome.code in (1, 2), outcome.out + outcome.err
    assert "Traceback" not in outcome.out + outcome.err
    errors = [line for line in outcome.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, outcome.err
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_revision_that_exits_at_import_fails_naming_it(adopted, args) -> None:  # type: ignore[no-untyped-def]
    path = _second_revision(adopted, "import sys\nsys.exit(0)")
    _one_line_failure(adopted.cli(*args), path.name, "sys.exit(0)", "nothing was checked")


def test_models_that_exit_fail_naming_them(adopted) -> None:  # type: ignore[no-untyped-def]
    adopted.edit(
        "inventory/models.py",
        "import sqlalchemy as sa",
        "import sqlalchemy as sa\nimport sys\nsys.exit(3)",
    )
    _one_line_failure(
        adopted.cli("migrate", "-m", "x", "--dialect", "sqlite"), "models.py", "sys.exit(3)"
    )


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("def broken(:\n    pass", "SyntaxError"),
        ("raise RuntimeError('boom at import')", "boom at import"),
    ],
    ids=["syntax", "raises"],
)
def test_a_revision_that_cannot_be_loaded_is_one_line(adopted, args, body, fragment) -> None:  # type: ignore[no-untyped-def]
    path = _second_revision(adopted, body)
    _one_line_failure(adopted.cli(*args), path.name, fragment)


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
@pytest.mark.parametrize(
    ("down", "fragment"),
    [("d1d1d1d1d1d1", "d1d1d1d1d1d1"), ("e2e2e2e2e2e2", "e2e2e2e2e2e2")],
    ids=["self-loop", "missing-parent"],
)
def test_a_broken_revision_graph_is_one_line(adopted, args, down, fragment) -> None:  # type: ignore[no-untyped-def]
    _second_revision(adopted, "", down=down)
    outcome = adopted.cli(*args)
    _one_line_failure(outcome, fragment)


def test_two_files_with_one_revision_id_say_so(adopted) -> None:  # type: ignore[no-untyped-def]
    first = adopted.versions("sqlite")[0]
    rev = first.name.split("_")[4]
    first.with_name(first.name.replace("initial", "copy")).write_text(first.read_text())
    outcome = adopted.cli("check")
    _one_line_failure(outcome, rev)
    assert "heads" not in outcome.err


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_revision_that_is_not_utf8_is_refused_by_every_command(adopted, args) -> None:  # type: ignore[no-untyped-def]
    """Python imports a stray latin-1 byte in a comment; check could not read it: one rule."""
    path = _second_revision(adopted, "")
    path.write_bytes(path.read_bytes() + "# café\n".encode("latin-1"))
    _one_line_failure(adopted.cli(*args), path.name, "is not UTF-8 text (line 13)")


def test_a_revision_that_declares_its_encoding_is_read_in_it(adopted) -> None:  # type: ignore[no-untyped-def]
    path = _second_revision(adopted, "")
    text = "# -*- coding: latin-1 -*-\n# café\n" + path.read_text()
    path.write_bytes(text.encode("latin-1"))
    upgraded = adopted.cli("db", "upgrade")
    assert upgraded.code == 0, upgraded.err
    checked = adopted.cli("check", "--dialect", "sqlite")
    assert "Traceback" not in checked.err and "UnicodeDecodeError" not in checked.err
    # Only the notes miss the hand-written revision: its text was read and judged.
    problems = [line for line in checked.out.splitlines() if line.startswith("!")]
    assert problems == [
        f"! sqlite: {path.name}: revision d1d1d1d1d1d1 has no entry in the notes"
    ], checked.out
