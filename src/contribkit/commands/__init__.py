"""One function per user command, each returning a :class:`~contribkit.commands.spec.Result`
that the frontends print; :data:`contribkit.commands.table.COMMANDS` lists them all."""
