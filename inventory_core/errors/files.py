"""IO_: files and folders."""

from __future__ import annotations

from typing import ClassVar

from inventory_core.errors.base import InventoryError
from inventory_core.errors.i18n import Steps, Text, current_language


class FileAccessError(InventoryError):
    """A file or folder could not be used as asked."""

    code = "IO_001"
    template = Text("Cannot use '{path}': {detail}")
    steps = Steps(
        Text("Check the path, that it is a file (not a folder) and its permissions."),
    )
    runbook: ClassVar[str | None] = "runbook.md#read-only-database"


class PathIsDirectoryError(FileAccessError):
    """A path that must be a file is a directory."""

    code = "IO_002"
    template = Text("'{path}' is a directory, not a database file.")
    steps = Steps(
        Text("Point the URL at a file inside the folder, e.g. sqlite:///{path}/inventory.db."),
    )
    runbook: ClassVar[str | None] = None


class DatabaseNotFoundError(FileAccessError):
    """A database file that does not exist was named where only ``init`` may create one."""

    code = "IO_003"
    template = Text("There is no database at '{path}'.")
    steps = Steps(
        Text("Check the path given with --db or INVENTORY_CORE_DATABASE_URL; nothing was created."),
        Text("To start a new database there, run 'inventory-core init'."),
    )
    nearby = Text("Did you mean {candidates}?")
    joiner = Text(" or ")
    runbook = "runbook.md#no-database-at-the-path"

    @property
    def recovery_steps(self) -> list[str]:
        """The steps, led by the existing databases whose names are close, when there are any.

        ``candidates`` in the context is a list of paths (see
        :func:`inventory_core.db.locate.nearby_databases`).
        """
        steps = super().recovery_steps
        candidates = self.context.get("candidates") or []
        if candidates:
            language = current_language()
            shown = self.joiner[language].join(f"'{c}'" for c in candidates)
            steps.insert(0, self.nearby[language].format(candidates=shown))
        return steps


class UnsafeFileError(FileAccessError):
    """A file the library was about to create is already there, or was swapped while written."""

    code = "IO_010"
    template = Text("Refused to write '{path}': {detail}")
    steps = Steps(
        Text("Nothing was written through that name and no other file was changed."),
        Text(
            "If you did not put that file or symbolic link there, find out who did: whoever "
            "may write in the folder could be redirecting the library's files."
        ),
        Text("Remove it (or choose another path) and try again."),
    )
    runbook = "runbook.md#unsafe-files"


__all__ = ["DatabaseNotFoundError", "FileAccessError", "PathIsDirectoryError", "UnsafeFileError"]
