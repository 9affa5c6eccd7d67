"""contribkit's invoke tasks, for a project's ``tasks.py``::

    from contribkit.frontends.invoke_tasks import namespace

    ns = namespace()

Each task parses its arguments and calls the same function the ``contribkit`` CLI and the nox
sessions call; configuration comes from ``[tool.contribkit]``, read when a task runs (so
``invoke --list`` stays fast).
"""

from __future__ import annotations

from invoke import Collection


def namespace() -> Collection:
    from contribkit.frontends.invoke_tasks import database, dev, migrations, quality, ui

    ns = Collection()
    for module in (quality, migrations):
        for task in module.TASKS:
            ns.add_task(task)
    ns.add_collection(Collection.from_module(database, name="db"))
    ns.add_collection(Collection.from_module(ui, name="ui"))
    ns.add_collection(Collection.from_module(dev, name="dev"))
    ns.configure({"tests": {"dialect": "sqlite"}})
    return ns
