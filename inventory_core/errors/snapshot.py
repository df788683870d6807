"""BAK_: CSV snapshots, their manifests, files, rows and cells."""

from __future__ import annotations

from inventory_core.errors.backup import BackupError
from inventory_core.errors.i18n import Steps, Text


class SnapshotError(BackupError):
    """A CSV snapshot cannot be exported or imported as asked."""

    code = "BAK_020"
    template = Text("The CSV snapshot '{path}' cannot be used: {detail}")
    steps = Steps(
        Text("Nothing was imported."),
        Text("Use an untouched snapshot made by 'inventory-core export' (folder or .zip)."),
    )
    runbook = "runbook.md#restore"


class SnapshotMismatchError(SnapshotError):
    """A CSV snapshot's files do not match its manifest (edited, missing or extra rows)."""

    code = "BAK_021"
    template = Text("The CSV snapshot '{path}' does not match its manifest: {detail}")
    steps = Steps(
        Text("Nothing was imported."),
        Text("The files were changed after the export; export again from the source database."),
    )
    runbook = "runbook.md#restore"


class SnapshotTargetNotEmptyError(SnapshotError):
    """A CSV snapshot is imported only into an empty, migrated database."""

    code = "BAK_022"
    template = Text(
        "The database already holds data ({detail}); a snapshot is imported only into "
        "an empty database."
    )
    steps = Steps(
        Text("Nothing was imported."),
        Text("Create a new database ('inventory-core --db NEW.db init') and import into it."),
    )
    runbook = "runbook.md#restore"


class SnapshotManifestError(SnapshotError):
    """A CSV snapshot's manifest.json is not the JSON object the export writes."""

    code = "BAK_040"
    template = Text(
        "The manifest of the CSV snapshot '{path}' cannot be used ({file}, row {row}, "
        "key {column}): {detail}"
    )
    steps = Steps(
        Text("Nothing was imported."),
        Text(
            "The manifest is written by 'inventory-core export' and never edited by hand: "
            "export again from the source database."
        ),
    )
    runbook = "runbook.md#restore"


class SnapshotPathError(SnapshotError):
    """A CSV snapshot names a file outside itself, or something that is not a plain file in it."""

    code = "BAK_041"
    template = Text(
        "The CSV snapshot '{path}' names '{file}' (row {row}, column {column}), which the "
        "import does not read: {detail}"
    )
    steps = Steps(
        Text("Nothing was imported, and nothing outside the snapshot was read."),
        Text(
            "A snapshot names only plain file names inside its own folder or zip: use an "
            "untouched snapshot made by 'inventory-core export'."
        ),
    )
    runbook = "runbook.md#restore"


class SnapshotArchiveError(SnapshotError):
    """A CSV snapshot zip cannot be read safely: damaged, encrypted or with too many entries."""

    code = "BAK_042"
    template = Text(
        "The zip '{file}' of the CSV snapshot '{path}' cannot be read safely (row {row}, "
        "column {column}): {detail}"
    )
    steps = Steps(
        Text("Nothing was imported."),
        Text(
            "Copy the zip again from where it was made, or export again with "
            "'inventory-core export FOLDER --zip'."
        ),
    )
    runbook = "runbook.md#restore"


class SnapshotEncodingError(SnapshotError):
    """A CSV file of a snapshot is not UTF-8 text (it was saved again in another encoding)."""

    code = "BAK_043"
    template = Text(
        "In the CSV snapshot '{path}', {file} row {row}, column {column} is not UTF-8 "
        "text: {detail}"
    )
    steps = Steps(
        Text("Nothing was imported."),
        Text(
            "The file was saved again in another encoding (latin-1, UTF-16...), for example "
            "by a spreadsheet: export again from the source database."
        ),
    )
    runbook = "runbook.md#restore"


class SnapshotCellError(SnapshotError):
    """A cell of a CSV snapshot is not a value of its column, written as the export writes it."""

    code = "BAK_044"
    template = Text("In the CSV snapshot '{path}', {file} row {row}, column {column}: {detail}")
    steps = Steps(
        Text("Nothing was imported."),
        Text(
            "The cell was changed after the export (numbers, dates and quoted text are "
            "written in one exact form): export again from the source database."
        ),
    )
    runbook = "runbook.md#restore"


class SnapshotRowError(SnapshotError):
    """A row of a CSV snapshot has the wrong number of cells, or the schema rejects it."""

    code = "BAK_045"
    template = Text("In the CSV snapshot '{path}', {file} row {row}, column {column}: {detail}")
    steps = Steps(
        Text("Nothing was imported."),
        Text(
            "Rows were added, cut or duplicated after the export: export again from the "
            "source database."
        ),
    )
    runbook = "runbook.md#restore"


class SnapshotHeaderError(SnapshotMismatchError):
    """A CSV file's first row does not name its table's columns, in order."""

    code = "BAK_046"
    template = Text("In the CSV snapshot '{path}', {file} row {row}, column {column}: {detail}")
    steps = Steps(
        Text("Nothing was imported."),
        Text(
            "The snapshot comes from another schema revision or its header was edited: "
            "export again from a source database at this revision."
        ),
    )
    runbook = "runbook.md#restore"


class SnapshotUnhealthyError(SnapshotError):
    """A CSV snapshot's data fails the full check or the audit chain walk; nothing is kept."""

    code = "BAK_047"
    template = Text(
        "The CSV snapshot '{path}' is not a faithful snapshot and was not imported: "
        "{detail} (first finding: {file} row {row}, column {column})"
    )
    steps = Steps(
        Text("Nothing was imported: the import was rolled back before it committed."),
        Text(
            "Check the source database with 'inventory-core --db SOURCE check --full -v'; if "
            "it is healthy, export it again and import the new snapshot."
        ),
        Text("Files changed after the export with a recomputed manifest are refused on purpose."),
    )
    runbook = "runbook.md#restore"


__all__ = [
    "SnapshotArchiveError",
    "SnapshotCellError",
    "SnapshotEncodingError",
    "SnapshotError",
    "SnapshotHeaderError",
    "SnapshotManifestError",
    "SnapshotMismatchError",
    "SnapshotPathError",
    "SnapshotRowError",
    "SnapshotTargetNotEmptyError",
    "SnapshotUnhealthyError",
]
