"""``guarded = true``: a project whose new databases are ``create_all`` of today's models
followed by every revision (Langflow's) gets revisions whose operations run only where the
database lacks what they make (tests/template_project: one history, its own plain Alembic)."""

from __future__ import annotations

import textwrap

import sqlalchemy as sa
from test_adopt_template import DIALECTS, MODELS, SECOND, STARS, alembic

from contribkit.databases.throwaway import ephemeral_database

TITLE = '    sa.Column("title", sa.String(120), nullable=True, index=True),\n'
#: An enum column on an existing table: on PostgreSQL its type is created before the column.
MOOD = '    sa.Column("mood", sa.Enum("glad", "sad", name="review_mood"), nullable=True),\n'
TAG = """
tag = sa.Table(
    "tag",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("product_id", sa.Integer, sa.ForeignKey("product.id"), nullable=False),
    sa.Column("colour", sa.Enum("red", "green", name="tag_colour"), nullable=False),
)
"""


def guarded_change(template) -> str:  # type: ignore[no-untyped-def]
    """Turn guards on, change the models (a column with its index, a table with an enum) and
    migrate: the new revision's id."""
    template.edit(
        "pyproject.toml",
        'database_url_env = "SHOP_DATABASE_URL"',
        'database_url_env = "SHOP_DATABASE_URL"\nguarded = true',
    )
    assert template.cli("baseline").code == 0
    template.edit(MODELS, STARS, STARS + TITLE + MOOD)
    (template.root / MODELS).write_text((template.root / MODELS).read_text() + TAG)
    before = set(template.migrations.glob("versions/*.py"))
    made = template.cli("migrate", "-m", "add_review_title_and_tag")
    assert made.code == 0, made.out + made.err
    (written,) = set(template.migrations.glob("versions/*.py")) - before
    for dialect in DIALECTS:
        assert f"{dialect}: {written.name} runs on a database create_all made" in made.out
    return written.name.rsplit("_", 1)[1].removesuffix(".py")


def catalogue(url: str) -> tuple[str, set[str], set[str], set[str]]:
    """The version row, review's columns and indexes, and the tables, as the database holds them."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            return (
                version.scalar_one(),
                {c["name"] for c in inspector.get_columns("review")},
                {i["name"] for i in inspector.get_indexes("review")},
                set(inspector.get_table_names()),
            )
    finally:
        engine.dispose()


def create_all(template, url: str) -> None:  # type: ignore[no-untyped-def]
    """What the project's own set-up makes of an empty database: today's models."""
    template.forget_modules()
    from shop.models import metadata  # the edited models, from the project copy

    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            metadata.create_all(connection)
    finally:
        engine.dispose()


def test_the_projects_upgrade_takes_a_guarded_revision_on_a_database_it_made_after(
    template,
) -> None:
    rev = guarded_change(template)
    checked = template.cli("check")
    assert checked.code == 0, checked.out + checked.err
    for dialect in DIALECTS:
        with ephemeral_database(dialect) as url:
            create_all(template, url)
            alembic(template, url, "stamp", SECOND)
            alembic(template, url, "upgrade", "head")  # unguarded: "duplicate column title"
            version, columns, indexes, tables = catalogue(url)
            assert version == rev, dialect
            assert {"title", "mood"} <= columns and "ix_review_title" in indexes and "tag" in tables


def test_a_guarded_revision_still_changes_a_database_made_before(template) -> None:
    rev = guarded_change(template)
    for dialect in DIALECTS:
        with ephemeral_database(dialect) as url:
            alembic(template, url, "upgrade", SECOND)
            _version, columns, _indexes, tables = catalogue(url)
            assert "title" not in columns and "tag" not in tables
            alembic(template, url, "upgrade", "head")
            version, columns, indexes, tables = catalogue(url)
            assert version == rev, dialect
            assert {"title", "mood"} <= columns and "ix_review_title" in indexes and "tag" in tables
            alembic(template, url, "downgrade", SECOND)
            version, columns, indexes, tables = catalogue(url)
            assert version == SECOND
            assert not {"title", "mood"} & columns and "ix_review_title" not in indexes
            assert "tag" not in tables


NOTE = '    sa.Column("note", sa.String(200), nullable=True),\n'
QUANTITY = '    sa.Column("quantity", sa.Integer, nullable=False, server_default="0"),\n'


def test_every_guarded_revision_runs_after_create_all_per_dialect(sample, tmp_path) -> None:
    """Langflow's way of making a database: create_all of today's models, then the whole
    history from base (tests/sample_project: one history per dialect, plain Alembic)."""
    from alembic import command
    from migrations_support import SAMPLE_SERVER, plain_alembic

    sample.edit("pyproject.toml", 'notes = "NOTES.md"', 'notes = "NOTES.md"\nguarded = true')
    assert sample.cli("init").code == 0
    assert sample.cli("migrate", "-m", "initial").code == 0
    first = {dialect: set(sample.versions(dialect)) for dialect in ("sqlite", SAMPLE_SERVER)}
    sample.edit("inventory/models.py", QUANTITY, QUANTITY + NOTE)
    made = sample.cli("migrate", "-m", "add_item_note")
    assert made.code == 0, made.out + made.err
    for dialect in ("sqlite", SAMPLE_SERVER):
        # Both files may be named in one second: the new one is the one the first run left out.
        (second,) = set(sample.versions(dialect)) - first[dialect]
        rev = second.name.split("_")[4]
        with ephemeral_database(dialect) as url:
            sample.forget_modules()
            from inventory.models import metadata

            engine = sa.create_engine(url)
            try:
                with engine.begin() as connection:
                    metadata.create_all(connection)
                command.upgrade(
                    plain_alembic(sample.versions(dialect)[0].parent, url, tmp_path), "head"
                )
                with engine.connect() as connection:
                    version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
                    assert version.scalar_one() == rev, dialect
                    columns = {c["name"] for c in sa.inspect(connection).get_columns("item")}
                    assert "note" in columns
            finally:
                engine.dispose()


def hand_written(  # type: ignore[no-untyped-def]
    template, rev: str, title: str, upgrade: str, downgrade: str, *, noted: bool = False
) -> str:
    """A revision after SECOND as the shop writes them by hand (SQLite's PRAGMA lines around
    each function's ``upgrade`` / ``downgrade`` statements), with its notes entry unless it
    is ``noted`` already: its file name."""
    slug = title.lower().replace(" ", "_")
    name = f"20230201_{slug}_{rev}.py"

    def body(statements: str) -> str:
        return textwrap.indent(f"{PRAGMA.format('OFF')}{statements}{PRAGMA.format('ON')}", "    ")

    (template.migrations / "versions" / name).write_text(
        f'''"""{title}

Revision ID: {rev}
Revises: {SECOND}
Create Date: 2023-02-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '{rev}'
down_revision = '{SECOND}'
branch_labels = None
depends_on = None


def upgrade():
    """Apply: {title}."""
{body(upgrade)}

def downgrade():
    """Revert: {title}."""
{body(downgrade)}'''
    )
    if not noted:
        notes = template.migrations / "CHANGES.md"
        entry = f"## {title}\nRevision: `{rev}`\n\n## Add review table"
        notes.write_text(notes.read_text().replace("## Add review table", entry))
    return name


PRAGMA = 'if op.get_context().dialect.name == "sqlite":\n    op.execute("PRAGMA foreign_keys={}")\n'
ADD_TITLE = 'op.add_column("review", sa.Column("title", sa.String(120), nullable=True))\n'
DROP_TITLE = 'with op.batch_alter_table("review") as batch_op:\n    batch_op.drop_column("title")\n'


def test_check_holds_a_hand_written_revision_to_the_guards(template) -> None:
    template.edit(
        "pyproject.toml",
        'database_url_env = "SHOP_DATABASE_URL"',
        'database_url_env = "SHOP_DATABASE_URL"\nguarded = true',
    )
    assert template.cli("baseline").code == 0
    template.edit(MODELS, STARS, STARS + '    sa.Column("title", sa.String(120), nullable=True),\n')
    name = hand_written(template, "6f2e3b8d1c03", "Add review title", ADD_TITLE, DROP_TITLE)
    outcome = template.cli("check")
    assert outcome.code == 1, outcome.out + outcome.err
    for dialect in DIALECTS:
        found = [
            line for line in outcome.out.splitlines() if line.startswith(f"! {dialect}: {name}")
        ]
        assert len(found) == 1, found
        (found,) = found
        assert "on a database create_all of the models made, upgrade to it failed" in found
        assert found.endswith("(guarded = true)")

    guarded = (
        'if "title" not in [c["name"] for c in sa.inspect(op.get_bind()).get_columns("review")]:\n'
    )
    title = "Add review title"
    hand_written(
        template, "6f2e3b8d1c03", title, guarded + "    " + ADD_TITLE, DROP_TITLE, noted=True
    )
    passed = template.cli("check")
    assert passed.code == 0, passed.out + passed.err


KEYED_LATER = """op.create_table(
    "tag",
    sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
    sa.Column("label", sa.String(40), nullable=False),
    sa.UniqueConstraint("id"),
)
with op.batch_alter_table("tag") as batch_op:
    batch_op.create_primary_key("pk_tag", ["id"])
"""
KEYED_TAG = """
tag = sa.Table(
    "tag",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, unique=True, autoincrement=False),
    sa.Column("label", sa.String(40), nullable=False),
)
"""


def test_what_create_all_itself_leaves_different_is_no_fault_of_the_revision(template) -> None:
    """PostgreSQL does not create a unique constraint beside the primary key on the same
    column: a database create_all made differs from the models there (Langflow's), before the
    new revision as after it; the history, keyed after its unique constraint, has both."""
    hand_written(template, "7a1b2c3d4e05", "Add tag table", KEYED_LATER, 'op.drop_table("tag")\n')
    (template.root / MODELS).write_text((template.root / MODELS).read_text() + KEYED_TAG)
    template.edit(
        "pyproject.toml",
        'database_url_env = "SHOP_DATABASE_URL"',
        'database_url_env = "SHOP_DATABASE_URL"\nguarded = true',
    )
    assert template.cli("baseline").code == 0
    checked = template.cli("check")
    assert checked.code == 0, checked.out + checked.err
    # The history holds what the models say: no drift for the baseline to accept.
    assert "drift" not in (template.root / "contribkit-baseline.toml").read_text()
    template.edit(MODELS, STARS, STARS + TITLE)
    made = template.cli("migrate", "-m", "add_review_title")
    assert made.code == 0, made.out + made.err
    for dialect in DIALECTS:
        assert "runs on a database create_all made" in made.out, dialect


def test_a_database_without_the_table_is_left_without_it(template) -> None:
    """One history for several storages (Dagster's): each database holds some of the tables,
    and an operation on a table runs only where the table is."""
    rev = guarded_change(template)
    for dialect in DIALECTS:
        with ephemeral_database(dialect) as url:
            alembic(template, url, "upgrade", SECOND)
            engine = sa.create_engine(url)
            try:
                with engine.begin() as connection:
                    connection.execute(sa.text("DROP TABLE review"))
            finally:
                engine.dispose()
            alembic(template, url, "upgrade", "head")
            engine = sa.create_engine(url)
            try:
                with engine.connect() as connection:
                    inspector = sa.inspect(connection)
                    version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
                    assert version.scalar_one() == rev
                    assert "review" not in inspector.get_table_names()
                    assert "tag" in inspector.get_table_names()
            finally:
                engine.dispose()
