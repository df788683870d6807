"""The exception hierarchy, its error codes, and messages in English and Italian.

Every error that reaches a user is an :class:`InventoryError`: it carries a stable ``code``
(``DB_002``), a message, recovery steps, and a ``context`` dict with the facts that explain
it (the SKU, the path, the revision). Codes are grouped in families:

- ``REPO_`` rows that are missing, duplicated or refer to nothing;
- ``DB_`` the database file, its locks, its schema revision;
- ``VAL_`` input or configuration that does not validate;
- ``WF_`` domain workflows (stock, receiving, reversals);
- ``IO_`` files and folders;
- ``BAK_`` backups, restores and snapshots;
- ``AUD_`` the audit trail;
- ``INV_`` invariants and health checks.

The language follows ``INVENTORY_CORE_LANG`` (``en`` or ``it``), read when the message is
built so that a process can switch it at run time. ``docs/errors.md`` lists every code; a
test keeps it in step with :func:`catalogue`.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from sqlalchemy import exc as sa_exc

LANGUAGES = ("en", "it")


def current_language() -> str:
    """Return the message language, ``en`` unless ``INVENTORY_CORE_LANG`` says ``it``."""
    lang = os.environ.get("INVENTORY_CORE_LANG", "en").strip().lower()[:2]
    return lang if lang in LANGUAGES else "en"


class _Missing(dict[str, Any]):
    """A format map that leaves unknown placeholders visible instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class InventoryError(Exception):
    """Base of every error raised by inventory_core."""

    code: ClassVar[str] = "INV_000"
    title: ClassVar[dict[str, str]] = {
        "en": "inventory_core error",
        "it": "errore di inventory_core",
    }
    template: ClassVar[dict[str, str]] = {
        "en": "An unexpected error occurred: {detail}",
        "it": "Si è verificato un errore imprevisto: {detail}",
    }
    steps: ClassVar[dict[str, tuple[str, ...]]] = {
        "en": ("Run the command again with --debug and report the output.",),
        "it": ("Ripeti il comando con --debug e segnala l'output.",),
    }
    runbook: ClassVar[str | None] = None

    def __init__(self, detail: str | None = None, /, **context: Any) -> None:
        self.detail = detail or ""
        self.context: dict[str, Any] = dict(context)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The message in the current language, with the context filled in."""
        values = _Missing(self.context)
        values.setdefault("detail", self.detail)
        text = self.template[current_language()].format_map(values)
        return text

    @property
    def recovery_steps(self) -> list[str]:
        """What the user can do about it, in the current language."""
        values = _Missing(self.context)
        values.setdefault("detail", self.detail)
        return [step.format_map(values) for step in self.steps[current_language()]]

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view: code, message, steps and context."""
        return {
            "code": self.code,
            "error": type(self).__name__,
            "message": self.message,
            "recovery_steps": self.recovery_steps,
            "context": {k: _jsonable(v) for k, v in self.context.items()},
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


# --- REPO_: rows ---------------------------------------------------------------------------


class RepositoryError(InventoryError):
    """A row is missing, duplicated or points at nothing."""

    code = "REPO_000"
    template = {
        "en": "The data could not be stored: {detail}",
        "it": "I dati non possono essere salvati: {detail}",
    }
    steps = {
        "en": ("Check the values you passed and try again.",),
        "it": ("Controlla i valori inseriti e riprova.",),
    }


class NotFoundError(RepositoryError):
    """The requested row (a SKU, an order, a transaction) does not exist."""

    code = "REPO_001"
    template = {
        "en": "{entity} '{key}' does not exist.",
        "it": "{entity} '{key}' non esiste.",
    }
    steps = {
        "en": ("Check the spelling of '{key}'.", "List what exists with 'inventory-core info'."),
        "it": (
            "Controlla di aver scritto bene '{key}'.",
            "Elenca i dati con 'inventory-core info'.",
        ),
    }


class DuplicateError(RepositoryError):
    """A row with the same unique key already exists."""

    code = "REPO_002"
    template = {
        "en": "A row with the same key already exists: {detail}",
        "it": "Esiste già una riga con la stessa chiave: {detail}",
    }
    steps = {
        "en": ("Use the existing row, or choose a different key.",),
        "it": ("Usa la riga esistente oppure scegli una chiave diversa.",),
    }


class ForeignKeyViolationError(RepositoryError):
    """A row points at a SKU, order or document that does not exist, or is still referenced."""

    code = "REPO_003"
    template = {
        "en": "A row refers to data that does not exist (or is still in use): {detail}",
        "it": "Una riga fa riferimento a dati inesistenti (o ancora in uso): {detail}",
    }
    steps = {
        "en": (
            "Create the SKU or order first, then retry.",
            "History is never deleted: revert transactions instead of deleting rows.",
        ),
        "it": (
            "Crea prima lo SKU o l'ordine, poi riprova.",
            "Lo storico non si cancella: storna le transazioni invece di eliminarle.",
        ),
    }


class ConstraintViolationError(RepositoryError):
    """A CHECK or NOT NULL rule of the schema rejected a value."""

    code = "REPO_004"
    template = {
        "en": "A value breaks a rule of the schema: {detail}",
        "it": "Un valore viola una regola dello schema: {detail}",
    }
    steps = {
        "en": ("Check signs, dates and required fields of the values you passed.",),
        "it": ("Controlla segni, date e campi obbligatori dei valori inseriti.",),
    }


class AppendOnlyViolationError(RepositoryError):
    """Someone tried to UPDATE or DELETE a row of an append-only table."""

    code = "REPO_005"
    template = {
        "en": "The ledger and the audit log are append-only: {detail}",
        "it": "Il registro e il log di audit accettano solo inserimenti: {detail}",
    }
    steps = {
        "en": (
            "Record a correction instead: Inventory.adjust() or Inventory.revert().",
            "Never edit the transactions, transaction_reversals, lot_draws or audit_log tables "
            "by hand.",
        ),
        "it": (
            "Registra una correzione: Inventory.adjust() o Inventory.revert().",
            "Non modificare a mano le tabelle transactions, transaction_reversals, lot_draws o "
            "audit_log.",
        ),
    }


# --- DB_: the database ---------------------------------------------------------------------


class DatabaseError(InventoryError):
    """The database could not complete the operation."""

    code = "DB_001"
    template = {
        "en": "The database reported an error: {detail}",
        "it": "Il database ha segnalato un errore: {detail}",
    }
    steps = {
        "en": (
            "Retry the operation.",
            "If it keeps failing, run 'inventory-core check --full -v'.",
        ),
        "it": (
            "Ripeti l'operazione.",
            "Se l'errore persiste, esegui 'inventory-core check --full -v'.",
        ),
    }


class DatabaseLockedError(DatabaseError):
    """Another connection kept the database locked past the busy timeout and every retry."""

    code = "DB_002"
    template = {
        "en": "The database is locked by another program and stayed locked after "
        "{attempts} attempts over {waited_s} s.",
        "it": "Il database è bloccato da un altro programma ed è rimasto bloccato dopo "
        "{attempts} tentativi in {waited_s} s.",
    }
    steps = {
        "en": (
            "Nothing was written: retry when the other program has finished.",
            "Find the program holding a long write transaction (a DB browser with unsaved "
            "changes, a stuck script) and close it.",
            "Raise INVENTORY_CORE_BUSY_TIMEOUT_MS or INVENTORY_CORE_RETRY_ATTEMPTS if such waits "
            "are expected.",
        ),
        "it": (
            "Non è stato scritto nulla: riprova quando l'altro programma ha finito.",
            "Trova il programma che tiene aperta una lunga transazione di scrittura (un editor "
            "di database con modifiche non salvate, uno script bloccato) e chiudilo.",
            "Aumenta INVENTORY_CORE_BUSY_TIMEOUT_MS o INVENTORY_CORE_RETRY_ATTEMPTS se queste "
            "attese sono normali.",
        ),
    }
    runbook = "runbook.md#database-locked"


class WriterTimeoutError(DatabaseError):
    """Another thread of this process held the writer lock past the writer-lock timeout."""

    code = "DB_003"
    template = {
        "en": "Waited {timeout_s} s for the writer lock held by thread '{holder}' since "
        "{held_s} s; only one write unit of work runs at a time per process.",
        "it": "Attesa di {timeout_s} s per il lock di scrittura tenuto dal thread '{holder}' "
        "da {held_s} s; in un processo gira una sola scrittura alla volta.",
    }
    steps = {
        "en": (
            "Nothing was written: retry.",
            "Keep write units of work short: no network calls or user prompts inside them.",
            "Raise INVENTORY_CORE_WRITER_LOCK_TIMEOUT_S if long writes are expected.",
        ),
        "it": (
            "Non è stato scritto nulla: riprova.",
            "Mantieni brevi le scritture: niente chiamate di rete o richieste all'utente dentro.",
            "Aumenta INVENTORY_CORE_WRITER_LOCK_TIMEOUT_S se le scritture lunghe sono normali.",
        ),
    }
    runbook = "runbook.md#database-locked"


class SchemaMismatchError(DatabaseError):
    """The database schema revision is behind the code: it needs a migration."""

    code = "DB_004"
    template = {
        "en": "The database schema is at revision {found} but this version of inventory_core "
        "needs {expected}.",
        "it": "Lo schema del database è alla revisione {found} ma questa versione di "
        "inventory_core richiede {expected}.",
    }
    steps = {
        "en": (
            "Back up the database, then run 'inventory-core upgrade' (or 'alembic upgrade head').",
        ),
        "it": (
            "Fai un backup del database, poi esegui 'inventory-core upgrade' "
            "(o 'alembic upgrade head').",
        ),
    }
    runbook = "runbook.md#schema-mismatch"


class SchemaTooNewError(SchemaMismatchError):
    """The database was migrated by a newer inventory_core than the one running."""

    code = "DB_005"
    template = {
        "en": "The database schema is at revision {found}, newer than this version of "
        "inventory_core knows ({expected}).",
        "it": "Lo schema del database è alla revisione {found}, più recente di quella che "
        "questa versione di inventory_core conosce ({expected}).",
    }
    steps = {
        "en": (
            "Upgrade inventory_core: pip install --upgrade inventory-core.",
            "Do not downgrade the database by hand; the file was left untouched.",
        ),
        "it": (
            "Aggiorna inventory_core: pip install --upgrade inventory-core.",
            "Non retrocedere il database a mano; il file non è stato modificato.",
        ),
    }
    runbook = "runbook.md#schema-mismatch"


class NotADatabaseError(DatabaseError):
    """The file exists but is not an SQLite database (or is encrypted)."""

    code = "DB_006"
    template = {
        "en": "'{path}' is not an SQLite database.",
        "it": "'{path}' non è un database SQLite.",
    }
    steps = {
        "en": (
            "Check that the URL points at the right file; the file was left untouched.",
            "If it used to be a database, restore the newest backup: "
            "'inventory-core restore PATH'.",
        ),
        "it": (
            "Controlla che l'URL indichi il file giusto; il file non è stato modificato.",
            "Se era un database, ripristina il backup più recente: "
            "'inventory-core restore PERCORSO'.",
        ),
    }
    runbook = "runbook.md#corruption-detected"


class CorruptDatabaseError(DatabaseError):
    """The database file is damaged (malformed pages, truncated file)."""

    code = "DB_007"
    template = {
        "en": "The database '{path}' is damaged: {detail}",
        "it": "Il database '{path}' è danneggiato: {detail}",
    }
    steps = {
        "en": (
            "Stop every program that writes to it; the file was left untouched.",
            "Run 'inventory-core check --full -v' to see what is damaged.",
            "Restore the newest good backup: 'inventory-core backups', then "
            "'inventory-core restore PATH'.",
        ),
        "it": (
            "Ferma tutti i programmi che ci scrivono; il file non è stato modificato.",
            "Esegui 'inventory-core check --full -v' per vedere cosa è danneggiato.",
            "Ripristina l'ultimo backup valido: 'inventory-core backups', poi "
            "'inventory-core restore PERCORSO'.",
        ),
    }
    runbook = "runbook.md#corruption-detected"


class ReadOnlyDatabaseError(DatabaseError):
    """The database file or its folder cannot be written by this process."""

    code = "DB_008"
    template = {
        "en": "The database '{path}' is read-only for this process: {detail}",
        "it": "Il database '{path}' è in sola lettura per questo processo: {detail}",
    }
    steps = {
        "en": (
            "Give this user write permission on the file AND its folder (SQLite writes "
            "-wal and -shm files next to it).",
            "Check that the disk is not mounted read-only.",
            "To only read it, use a command that only reads (info, check, export, report, "
            "audit verify) or Database.open(url, read_only=True): they open it read-only.",
        ),
        "it": (
            "Dai a questo utente il permesso di scrittura sul file E sulla sua cartella "
            "(SQLite scrive accanto i file -wal e -shm).",
            "Controlla che il disco non sia montato in sola lettura.",
            "Per leggerlo soltanto, usa un comando che legge (info, check, export, report, "
            "audit verify) o Database.open(url, read_only=True): lo aprono in sola lettura.",
        ),
    }
    runbook = "runbook.md#read-only-database"


class DiskFullError(DatabaseError):
    """The disk holding the database (or its temp files) is full."""

    code = "DB_009"
    template = {
        "en": "The disk is full; the write was rolled back: {detail}",
        "it": "Il disco è pieno; la scrittura è stata annullata: {detail}",
    }
    steps = {
        "en": (
            "Free space on the disk holding the database and its backups.",
            "Apply backup retention: 'inventory-core retention'.",
            "Then retry: nothing was half-written.",
        ),
        "it": (
            "Libera spazio sul disco del database e dei backup.",
            "Applica la conservazione dei backup: 'inventory-core retention'.",
            "Poi riprova: non è stato scritto nulla a metà.",
        ),
    }
    runbook = "runbook.md#disk-full"


class DiskIOError(DatabaseError):
    """The operating system reported an I/O error reading or writing the database."""

    code = "DB_010"
    template = {
        "en": "A disk I/O error occurred: {detail}",
        "it": "Si è verificato un errore di I/O su disco: {detail}",
    }
    steps = {
        "en": (
            "Check the disk (dmesg, SMART) and that the database is not on a network share.",
            "Run 'inventory-core check --full -v'; restore a backup if it reports damage.",
        ),
        "it": (
            "Controlla il disco (dmesg, SMART) e che il database non sia su una cartella di rete.",
            "Esegui 'inventory-core check --full -v'; ripristina un backup se segnala danni.",
        ),
    }
    runbook = "runbook.md#corruption-detected"


class NotMigratedError(DatabaseError):
    """The database has no inventory_core schema yet (or a table is missing)."""

    code = "DB_011"
    template = {
        "en": "The database has no inventory_core schema (or misses a table): {detail}",
        "it": "Il database non ha lo schema di inventory_core (o manca una tabella): {detail}",
    }
    steps = {
        "en": ("Create the schema: 'inventory-core init' (or 'alembic upgrade head').",),
        "it": ("Crea lo schema: 'inventory-core init' (o 'alembic upgrade head').",),
    }
    runbook = "runbook.md#schema-mismatch"


class SerializationConflictError(DatabaseError):
    """PostgreSQL kept aborting the transaction for a serialization failure or deadlock."""

    code = "DB_012"
    template = {
        "en": "Concurrent writers kept conflicting; gave up after {attempts} attempts: {detail}",
        "it": "Scritture concorrenti in conflitto; rinuncia dopo {attempts} tentativi: {detail}",
    }
    steps = {
        "en": (
            "Nothing was written: retry.",
            "If it is frequent, raise INVENTORY_CORE_RETRY_ATTEMPTS or spread the writers.",
        ),
        "it": (
            "Non è stato scritto nulla: riprova.",
            "Se succede spesso, aumenta INVENTORY_CORE_RETRY_ATTEMPTS o distribuisci le scritture.",
        ),
    }
    runbook = "runbook.md#postgresql-serialization-errors"


class UnsupportedDatabaseError(DatabaseError):
    """The URL names a database this library does not support."""

    code = "DB_013"
    template = {
        "en": "Unsupported database URL '{url}': use sqlite:/// or postgresql+psycopg://.",
        "it": "URL di database non supportato '{url}': usa sqlite:/// o postgresql+psycopg://.",
    }
    steps = {
        "en": ("Set INVENTORY_CORE_DATABASE_URL or --db to a SQLite or PostgreSQL URL.",),
        "it": ("Imposta INVENTORY_CORE_DATABASE_URL o --db a un URL SQLite o PostgreSQL.",),
    }


class DatabaseClosedError(DatabaseError):
    """The Database object was closed and cannot be used any more."""

    code = "DB_014"
    template = {
        "en": "This Database was closed; open it again with Database.open().",
        "it": "Questo Database è stato chiuso; riaprilo con Database.open().",
    }
    steps = {
        "en": ("Call Database.open() again.",),
        "it": ("Richiama Database.open().",),
    }


class ReadOnlyModeError(ReadOnlyDatabaseError):
    """A write was asked of a database opened read-only (``Database.open(read_only=True)``)."""

    code = "DB_020"
    template = {
        "en": "The database '{path}' is open read-only, so it cannot be written: {detail}",
        "it": "Il database '{path}' è aperto in sola lettura e non può essere scritto: {detail}",
    }
    steps = {
        "en": (
            "Nothing was written.",
            "Write through a database opened for writing: Database.open(url) without "
            "read_only=True; the commands that only read (info, check, export, report, "
            "profile, audit) always open it read-only.",
        ),
        "it": (
            "Non è stato scritto nulla.",
            "Scrivi attraverso un database aperto in scrittura: Database.open(url) senza "
            "read_only=True; i comandi che leggono soltanto (info, check, export, report, "
            "profile, audit) lo aprono sempre in sola lettura.",
        ),
    }
    runbook = "runbook.md#read-only-database"


class ReadOnlyUnsafeError(ReadOnlyDatabaseError):
    """A database file cannot be opened read-only without risk or without leaving files."""

    code = "DB_021"
    template = {
        "en": "The database '{path}' cannot be opened read-only here: {detail}",
        "it": "Il database '{path}' non può essere aperto in sola lettura qui: {detail}",
    }
    steps = {
        "en": (
            "Nothing was changed.",
            "Copy the database (with its -wal and -shm files, if any) to a folder this user "
            "can write, and read the copy.",
            "If no program writes it any more, remove every write permission (chmod a-w "
            "FILE): it then opens read-only without any side file.",
        ),
        "it": (
            "Non è stato modificato nulla.",
            "Copia il database (con i suoi file -wal e -shm, se ci sono) in una cartella in "
            "cui questo utente può scrivere, e leggi la copia.",
            "Se nessun programma lo scrive più, togli ogni permesso di scrittura (chmod a-w "
            "FILE): si aprirà allora in sola lettura senza alcun file accanto.",
        ),
    }
    runbook = "runbook.md#read-only-database"


# --- VAL_: input ---------------------------------------------------------------------------


class ValidationError(InventoryError):
    """An input value does not validate; nothing was written."""

    code = "VAL_001"
    template = {
        "en": "Invalid value for '{field}': {detail}",
        "it": "Valore non valido per '{field}': {detail}",
    }
    steps = {
        "en": ("Correct '{field}' and try again; nothing was written.",),
        "it": ("Correggi '{field}' e riprova; non è stato scritto nulla.",),
    }


class ConfigurationError(ValidationError):
    """A setting (environment variable or .env entry) has a bad value."""

    code = "VAL_002"
    template = {
        "en": "Bad setting {variable}: {detail}",
        "it": "Impostazione errata {variable}: {detail}",
    }
    steps = {
        "en": ("Fix {variable} in the environment or in .env (see README, Configuration).",),
        "it": ("Correggi {variable} nell'ambiente o in .env (vedi README, Configuration).",),
    }


class GenerateTargetNotEmptyError(ValidationError):
    """``generate`` was pointed at a database that already holds SKUs or ledger events."""

    code = "VAL_030"
    template = {
        "en": "The database already holds {skus} SKUs and {events} ledger events; generate "
        "writes demo data only into an empty ledger.",
        "it": "Il database contiene già {skus} articoli e {events} movimenti; generate scrive "
        "dati dimostrativi solo in un registro vuoto.",
    }
    steps = {
        "en": (
            "Nothing was written.",
            "Generate into a new database: 'inventory-core --db demo.db init', then "
            "'inventory-core --db demo.db generate ...'.",
            "To add demo SKUs (GEN-*) beside the data already there, pass --into-existing "
            "(into_existing=True in Python).",
        ),
        "it": (
            "Non è stato scritto nulla.",
            "Genera in un nuovo database: 'inventory-core --db demo.db init', poi "
            "'inventory-core --db demo.db generate ...'.",
            "Per aggiungere articoli dimostrativi (GEN-*) accanto ai dati già presenti, usa "
            "--into-existing (into_existing=True in Python).",
        ),
    }


class StockLimitError(ValidationError):
    """The write would take a SKU's stock past what a 32-bit INTEGER column holds."""

    code = "VAL_010"
    template = {
        "en": "{sku} would hold {on_hand} units on {date}, more than the {limit} a stock "
        "figure can hold on every database; nothing was written.",
        "it": "{sku} avrebbe {on_hand} pezzi il {date}, più dei {limit} che una giacenza può "
        "contenere su ogni database; non è stato scritto nulla.",
    }
    steps = {
        "en": (
            "Check '{field}': a few extra digits are the usual cause.",
            "If the stock really is this large, count it in larger units (packs, not pieces).",
        ),
        "it": (
            "Controlla '{field}': di solito sono cifre in più.",
            "Se la giacenza è davvero così grande, contala in unità più grandi (confezioni).",
        ),
    }


class OptionalDependencyError(InventoryError):
    """A feature needs an optional extra (such as ``plots`` for charts) that is not installed."""

    code = "VAL_003"
    template = {
        "en": "{feature} needs the optional package '{package}', which is not installed.",
        "it": "{feature} richiede il pacchetto opzionale '{package}', che non è installato.",
    }
    steps = {
        "en": ('Install the extra: pip install "inventory-core[{extra}]", then run it again.',),
        "it": ('Installa l\'extra: pip install "inventory-core[{extra}]", poi ripeti il comando.',),
    }


# --- WF_: workflows ------------------------------------------------------------------------


class WorkflowError(InventoryError):
    """A domain rule refused the operation; nothing was written."""

    code = "WF_000"
    template = {
        "en": "The operation is not allowed: {detail}",
        "it": "L'operazione non è consentita: {detail}",
    }
    steps = {
        "en": ("Nothing was written; check the request.",),
        "it": ("Non è stato scritto nulla; controlla la richiesta.",),
    }


class InsufficientStockError(WorkflowError):
    """The write would make on-hand stock negative on its date or a later one."""

    code = "WF_001"
    template = {
        "en": "Not enough stock of {sku}: on {date} on-hand would be {shortfall} short.",
        "it": "Scorta insufficiente di {sku}: il {date} mancherebbero {shortfall} pezzi.",
    }
    steps = {
        "en": (
            "Nothing was written.",
            "Record the missing receipt or a stock count (snapshot) first, or reduce the quantity.",
            "Backdated writes are checked against every later day too.",
        ),
        "it": (
            "Non è stato scritto nulla.",
            "Registra prima il ricevimento mancante o un inventario (snapshot), oppure riduci la "
            "quantità.",
            "Anche le scritture retrodatate sono verificate su tutti i giorni successivi.",
        ),
    }


class ConflictError(WorkflowError):
    """The request conflicts with what is already recorded (a document, a reversal)."""

    code = "WF_002"
    template = {
        "en": "Conflict with what is already recorded: {detail}",
        "it": "Conflitto con quanto già registrato: {detail}",
    }
    steps = {
        "en": (
            "Nothing was written.",
            "Look at the existing record with Inventory.history() before retrying.",
        ),
        "it": (
            "Non è stato scritto nulla.",
            "Guarda il dato esistente con Inventory.history() prima di riprovare.",
        ),
    }


class OverReceiptError(WorkflowError):
    """A receipt would take an order above its ordered quantity."""

    code = "WF_003"
    template = {
        "en": "Receiving {qty} on order {order_id} of {sku} exceeds what is still open "
        "({open_qty}).",
        "it": "Ricevere {qty} sull'ordine {order_id} di {sku} supera la quantità aperta "
        "({open_qty}).",
    }
    steps = {
        "en": (
            "Nothing was written.",
            "Receive the extra quantity on a line without order_id.",
        ),
        "it": (
            "Non è stato scritto nulla.",
            "Ricevi la quantità in più su una riga senza order_id.",
        ),
    }


class LotConsumedError(WorkflowError):
    """A RECEIPT cannot be reverted while other transactions hold units drawn from its lot."""

    code = "WF_010"
    template = {
        "en": "Receipt {transaction_id} of {sku} cannot be reverted: transactions "
        "{drawn_by} took units from its lot {lot_id}.",
        "it": "Il ricevimento {transaction_id} di {sku} non può essere annullato: le "
        "transazioni {drawn_by} hanno prelevato pezzi dal suo lotto {lot_id}.",
    }
    steps = {
        "en": (
            "Nothing was written.",
            "Revert transactions {drawn_by} first (their units go back to lot {lot_id}), "
            "then the receipt, then record those movements again.",
            "Or keep the receipt and record the goods sent back as a WASTE with lot_id={lot_id}.",
        ),
        "it": (
            "Non è stato scritto nulla.",
            "Annulla prima le transazioni {drawn_by} (i loro pezzi tornano nel lotto "
            "{lot_id}), poi il ricevimento, poi registra di nuovo quei movimenti.",
            "Oppure tieni il ricevimento e registra la merce resa come WASTE con lot_id={lot_id}.",
        ),
    }


class LotDrawsMismatchError(WorkflowError):
    """A lot no longer matches its recorded draws, so a reversal cannot give units back."""

    code = "WF_011"
    template = {
        "en": "Lot {lot_id} of {sku} holds {qty_remaining} of {qty_received} received: giving "
        "back the {qty} units transaction {transaction_id} drew would exceed what it received.",
        "it": "Il lotto {lot_id} di {sku} contiene {qty_remaining} dei {qty_received} ricevuti: "
        "restituire i {qty} pezzi prelevati dalla transazione {transaction_id} supererebbe il "
        "ricevuto.",
    }
    steps = {
        "en": (
            "Nothing was written; the lot was changed outside the library.",
            "Run 'inventory-core check --only lots_consistent' to see every lot that "
            "disagrees with its draws and what it should hold.",
            "Restore the newest good backup, or set the lot's qty_remaining to the value the "
            "check reports, then revert again.",
        ),
        "it": (
            "Non è stato scritto nulla; il lotto è stato modificato fuori dalla libreria.",
            "Esegui 'inventory-core check --only lots_consistent' per vedere ogni lotto che "
            "non torna con i suoi prelievi e quanto dovrebbe contenere.",
            "Ripristina l'ultimo backup valido, oppure imposta qty_remaining del lotto al "
            "valore indicato dal controllo, poi annulla di nuovo.",
        ),
    }


class OrderNotOpenError(WorkflowError):
    """An order that is not open (PENDING or PARTIAL) cannot be closed short."""

    code = "WF_012"
    template = {
        "en": "Order {order_id} of {sku} is {status}: only a PENDING or PARTIAL order can be "
        "closed.",
        "it": "L'ordine {order_id} di {sku} è {status}: si può chiudere solo un ordine PENDING "
        "o PARTIAL.",
    }
    steps = {
        "en": (
            "Nothing was written.",
            "A RECEIVED order has nothing left to close; a CLOSED one can be reopened with "
            "Inventory.reopen_order() (CLI: 'inventory-core close-order --reopen').",
        ),
        "it": (
            "Non è stato scritto nulla.",
            "Un ordine RECEIVED non ha più nulla da chiudere; uno CLOSED si può riaprire con "
            "Inventory.reopen_order() (CLI: 'inventory-core close-order --reopen').",
        ),
    }


class OrderClosedError(WorkflowError):
    """A closed order takes no receipt and cannot be changed until it is reopened."""

    code = "WF_013"
    template = {
        "en": "Order {order_id} of {sku} was closed short: {detail}",
        "it": "L'ordine {order_id} di {sku} è stato chiuso: {detail}",
    }
    steps = {
        "en": (
            "Nothing was written.",
            "Reopen the order with Inventory.reopen_order(order_id, reason=...) first, or "
            "receive the goods on a line without order_id.",
        ),
        "it": (
            "Non è stato scritto nulla.",
            "Riapri prima l'ordine con Inventory.reopen_order(order_id, reason=...), oppure "
            "ricevi la merce su una riga senza order_id.",
        ),
    }


# --- IO_: files ----------------------------------------------------------------------------


class FileAccessError(InventoryError):
    """A file or folder could not be used as asked."""

    code = "IO_001"
    template = {
        "en": "Cannot use '{path}': {detail}",
        "it": "Impossibile usare '{path}': {detail}",
    }
    steps = {
        "en": ("Check the path, that it is a file (not a folder) and its permissions.",),
        "it": ("Controlla il percorso, che sia un file (non una cartella) e i permessi.",),
    }
    runbook: ClassVar[str | None] = "runbook.md#read-only-database"


class PathIsDirectoryError(FileAccessError):
    """A path that must be a file is a directory."""

    code = "IO_002"
    template = {
        "en": "'{path}' is a directory, not a database file.",
        "it": "'{path}' è una cartella, non un file di database.",
    }
    steps = {
        "en": ("Point the URL at a file inside the folder, e.g. sqlite:///{path}/inventory.db.",),
        "it": ("Indica un file dentro la cartella, ad esempio sqlite:///{path}/inventory.db.",),
    }
    runbook = None


class DatabaseNotFoundError(FileAccessError):
    """A database file that does not exist was named where only ``init`` may create one."""

    code = "IO_003"
    template = {
        "en": "There is no database at '{path}'.",
        "it": "Non esiste alcun database in '{path}'.",
    }
    steps = {
        "en": (
            "Check the path given with --db or INVENTORY_CORE_DATABASE_URL; nothing was created.",
            "To start a new database there, run 'inventory-core init'.",
        ),
        "it": (
            "Controlla il percorso dato con --db o INVENTORY_CORE_DATABASE_URL; non è stato "
            "creato nulla.",
            "Per creare lì un nuovo database, esegui 'inventory-core init'.",
        ),
    }
    nearby: ClassVar[dict[str, str]] = {
        "en": "Did you mean {candidates}?",
        "it": "Forse intendevi {candidates}?",
    }
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
            shown = " or ".join(f"'{c}'" for c in candidates)
            steps.insert(0, self.nearby[current_language()].format(candidates=shown))
        return steps


class UnsafeFileError(FileAccessError):
    """A file the library was about to create is already there, or was swapped while written."""

    code = "IO_010"
    template = {
        "en": "Refused to write '{path}': {detail}",
        "it": "Scrittura di '{path}' rifiutata: {detail}",
    }
    steps = {
        "en": (
            "Nothing was written through that name and no other file was changed.",
            "If you did not put that file or symbolic link there, find out who did: whoever "
            "may write in the folder could be redirecting the library's files.",
            "Remove it (or choose another path) and try again.",
        ),
        "it": (
            "Non è stato scritto nulla attraverso quel nome e nessun altro file è cambiato.",
            "Se non hai messo tu quel file o collegamento simbolico, scopri chi è stato: chi "
            "può scrivere nella cartella potrebbe dirottare i file della libreria.",
            "Rimuovilo (o scegli un altro percorso) e riprova.",
        ),
    }
    runbook = "runbook.md#unsafe-files"


# --- BAK_, AUD_, INV_ ----------------------------------------------------------------------


class BackupError(InventoryError):
    """A backup, restore or snapshot could not be completed."""

    code = "BAK_001"
    template = {
        "en": "Backup failed: {detail}",
        "it": "Backup non riuscito: {detail}",
    }
    steps = {
        "en": (
            "Check free space and permissions of the backup folder; no partial backup was "
            "left behind.",
        ),
        "it": (
            "Controlla spazio libero e permessi della cartella dei backup; non è rimasto "
            "nessun backup parziale.",
        ),
    }
    runbook = "runbook.md#restore"


class BackupSpaceError(BackupError):
    """The backup folder ran out of space while a backup was being written."""

    code = "BAK_002"
    template = {
        "en": "The backup folder '{folder}' ran out of space: {detail}",
        "it": "Lo spazio nella cartella dei backup '{folder}' è esaurito: {detail}",
    }
    steps = {
        "en": (
            "No partial backup was left behind and the database was not touched.",
            "Free space, or delete old backups with 'inventory-core retention'.",
            "Or point INVENTORY_CORE_BACKUP_DIR at a disk with more room, then retry.",
        ),
        "it": (
            "Non è rimasto nessun backup parziale e il database non è stato toccato.",
            "Libera spazio o elimina i backup vecchi con 'inventory-core retention'.",
            "Oppure imposta INVENTORY_CORE_BACKUP_DIR su un disco più capiente, poi riprova.",
        ),
    }
    runbook = "runbook.md#disk-full"


class BackupToolMissingError(BackupError):
    """A PostgreSQL backup or restore needs pg_dump / pg_restore, which are not installed."""

    code = "BAK_003"
    template = {
        "en": "'{tool}' is not installed, so PostgreSQL backups cannot be taken or restored.",
        "it": "'{tool}' non è installato: i backup PostgreSQL non si possono fare né ripristinare.",
    }
    steps = {
        "en": (
            "Install the PostgreSQL client tools (e.g. apt install postgresql-client).",
            "Or take a CSV snapshot instead, which works on every database: "
            "'inventory-core export FOLDER --zip'.",
        ),
        "it": (
            "Installa gli strumenti client di PostgreSQL (es. apt install postgresql-client).",
            "Oppure fai uno snapshot CSV, che funziona su ogni database: "
            "'inventory-core export CARTELLA --zip'.",
        ),
    }
    runbook = "runbook.md#restore"


class RestoreError(BackupError):
    """A backup cannot be restored; the live database was left exactly as it was."""

    code = "BAK_010"
    template = {
        "en": "The backup '{path}' cannot be restored: {detail}",
        "it": "Il backup '{path}' non può essere ripristinato: {detail}",
    }
    steps = {
        "en": (
            "The live database was not changed.",
            "List the other backups with 'inventory-core backups' and restore a verified one.",
        ),
        "it": (
            "Il database in uso non è stato modificato.",
            "Elenca gli altri backup con 'inventory-core backups' e ripristinane uno verificato.",
        ),
    }
    runbook = "runbook.md#restore"


class RestoreChecksumError(RestoreError):
    """The backup's bytes do not match the sha256 recorded in its manifest."""

    code = "BAK_011"
    template = {
        "en": "The backup '{path}' was changed after it was taken: its sha256 is {actual}, "
        "the manifest says {expected}.",
        "it": "Il backup '{path}' è stato modificato dopo la creazione: lo sha256 è {actual}, "
        "il manifest indica {expected}.",
    }
    steps = {
        "en": (
            "The live database was not changed.",
            "Do not use this file: restore an older verified backup ('inventory-core backups').",
            "Check the disk holding the backups; silent changes point at failing storage.",
        ),
        "it": (
            "Il database in uso non è stato modificato.",
            "Non usare questo file: ripristina un backup verificato più vecchio "
            "('inventory-core backups').",
            "Controlla il disco dei backup; modifiche silenziose indicano un supporto guasto.",
        ),
    }
    runbook = "runbook.md#restore"


class RestoreTruncatedError(RestoreError):
    """The backup file is shorter than its SQLite header says: it was cut off."""

    code = "BAK_012"
    template = {
        "en": "The backup '{path}' is truncated: {detail}",
        "it": "Il backup '{path}' è troncato: {detail}",
    }
    steps = {
        "en": (
            "The live database was not changed.",
            "The copy was cut short (full disk, interrupted transfer): restore another backup.",
        ),
        "it": (
            "Il database in uso non è stato modificato.",
            "La copia è incompleta (disco pieno, trasferimento interrotto): ripristina un "
            "altro backup.",
        ),
    }
    runbook = "runbook.md#restore"


class RestoreNotADatabaseError(RestoreError):
    """The backup file is empty or is not an SQLite database at all."""

    code = "BAK_013"
    template = {
        "en": "The backup '{path}' is not an SQLite database: {detail}",
        "it": "Il backup '{path}' non è un database SQLite: {detail}",
    }
    steps = {
        "en": (
            "The live database was not changed.",
            "Check that you picked a .db file made by 'inventory-core backup'.",
        ),
        "it": (
            "Il database in uso non è stato modificato.",
            "Controlla di aver scelto un file .db creato da 'inventory-core backup'.",
        ),
    }
    runbook = "runbook.md#restore"


class RestoreWrongSchemaError(RestoreError):
    """The backup is a valid SQLite file but not an inventory_core database."""

    code = "BAK_014"
    template = {
        "en": "The backup '{path}' is an SQLite database of another application: {detail}",
        "it": "Il backup '{path}' è un database SQLite di un'altra applicazione: {detail}",
    }
    steps = {
        "en": (
            "The live database was not changed.",
            "Pick a backup made by inventory_core ('inventory-core backups' lists them).",
        ),
        "it": (
            "Il database in uso non è stato modificato.",
            "Scegli un backup creato da inventory_core ('inventory-core backups' li elenca).",
        ),
    }
    runbook = "runbook.md#restore"


class RestoreSchemaTooNewError(RestoreError):
    """The backup was taken by a newer inventory_core, at a revision this code does not know."""

    code = "BAK_015"
    template = {
        "en": "The backup '{path}' is at schema revision {found}, newer than this version of "
        "inventory_core knows ({expected}).",
        "it": "Il backup '{path}' è alla revisione di schema {found}, più recente di quella che "
        "questa versione di inventory_core conosce ({expected}).",
    }
    steps = {
        "en": (
            "The live database was not changed.",
            "Upgrade inventory_core (pip install --upgrade inventory-core), then restore again.",
        ),
        "it": (
            "Il database in uso non è stato modificato.",
            "Aggiorna inventory_core (pip install --upgrade inventory-core), poi ripeti il "
            "ripristino.",
        ),
    }
    runbook = "runbook.md#restore"


class RestorePathIsDirectoryError(RestoreError):
    """The path given as a backup is a folder."""

    code = "BAK_016"
    template = {
        "en": "'{path}' is a folder, not a backup file.",
        "it": "'{path}' è una cartella, non un file di backup.",
    }
    steps = {
        "en": (
            "The live database was not changed.",
            "Pass one of the .db files inside it; 'inventory-core backups' lists them.",
        ),
        "it": (
            "Il database in uso non è stato modificato.",
            "Indica uno dei file .db al suo interno; 'inventory-core backups' li elenca.",
        ),
    }
    runbook = "runbook.md#restore"


class RestoreManifestMissingError(RestoreError):
    """The backup has no manifest, so its integrity cannot be proven."""

    code = "BAK_017"
    template = {
        "en": "The backup '{path}' has no manifest '{manifest}'; it cannot be verified.",
        "it": "Il backup '{path}' non ha il manifest '{manifest}'; non può essere verificato.",
    }
    steps = {
        "en": (
            "The live database was not changed.",
            "Keep each backup together with its .manifest.json file.",
            "If the manifest is lost, open the file as a database elsewhere, check it with "
            "'inventory-core --db FILE check --full', then take a new backup from it.",
        ),
        "it": (
            "Il database in uso non è stato modificato.",
            "Conserva ogni backup insieme al suo file .manifest.json.",
            "Se il manifest è perso, apri il file altrove come database, controllalo con "
            "'inventory-core --db FILE check --full', poi fanne un nuovo backup.",
        ),
    }
    runbook = "runbook.md#restore"


class RestoreMissingError(RestoreError):
    """The backup file does not exist."""

    code = "BAK_018"
    template = {
        "en": "The backup '{path}' does not exist.",
        "it": "Il backup '{path}' non esiste.",
    }
    steps = {
        "en": (
            "The live database was not changed.",
            "List the backups with 'inventory-core backups' and copy a path from there.",
        ),
        "it": (
            "Il database in uso non è stato modificato.",
            "Elenca i backup con 'inventory-core backups' e copia un percorso da lì.",
        ),
    }
    runbook = "runbook.md#restore"


class RestoreRolledBackError(RestoreError):
    """The restored database failed its checks, so the previous database was put back."""

    code = "BAK_019"
    template = {
        "en": "The restore of '{path}' failed and was rolled back: {detail}",
        "it": "Il ripristino di '{path}' non è riuscito ed è stato annullato: {detail}",
    }
    steps = {
        "en": (
            "The previous database is back in place, byte for byte.",
            "A safety backup was also taken: {safety_backup}.",
            "Run 'inventory-core verify {path}' to see what is wrong with the backup.",
        ),
        "it": (
            "Il database precedente è stato rimesso al suo posto, byte per byte.",
            "È stato fatto anche un backup di sicurezza: {safety_backup}.",
            "Esegui 'inventory-core verify {path}' per vedere cosa non va nel backup.",
        ),
    }
    runbook = "runbook.md#restore"


class SnapshotError(BackupError):
    """A CSV snapshot cannot be exported or imported as asked."""

    code = "BAK_020"
    template = {
        "en": "The CSV snapshot '{path}' cannot be used: {detail}",
        "it": "Lo snapshot CSV '{path}' non può essere usato: {detail}",
    }
    steps = {
        "en": (
            "Nothing was imported.",
            "Use an untouched snapshot made by 'inventory-core export' (folder or .zip).",
        ),
        "it": (
            "Non è stato importato nulla.",
            "Usa uno snapshot intatto creato da 'inventory-core export' (cartella o .zip).",
        ),
    }
    runbook = "runbook.md#restore"


class SnapshotMismatchError(SnapshotError):
    """A CSV snapshot's files do not match its manifest (edited, missing or extra rows)."""

    code = "BAK_021"
    template = {
        "en": "The CSV snapshot '{path}' does not match its manifest: {detail}",
        "it": "Lo snapshot CSV '{path}' non corrisponde al suo manifest: {detail}",
    }
    steps = {
        "en": (
            "Nothing was imported.",
            "The files were changed after the export; export again from the source database.",
        ),
        "it": (
            "Non è stato importato nulla.",
            "I file sono stati modificati dopo l'esportazione; esporta di nuovo dal database "
            "di origine.",
        ),
    }
    runbook = "runbook.md#restore"


class SnapshotTargetNotEmptyError(SnapshotError):
    """A CSV snapshot is imported only into an empty, migrated database."""

    code = "BAK_022"
    template = {
        "en": "The database already holds data ({detail}); a snapshot is imported only into "
        "an empty database.",
        "it": "Il database contiene già dati ({detail}); uno snapshot si importa solo in un "
        "database vuoto.",
    }
    steps = {
        "en": (
            "Nothing was imported.",
            "Create a new database ('inventory-core --db NEW.db init') and import into it.",
        ),
        "it": (
            "Non è stato importato nulla.",
            "Crea un nuovo database ('inventory-core --db NUOVO.db init') e importa lì.",
        ),
    }
    runbook = "runbook.md#restore"


class BackupFolderUnsafeError(BackupError):
    """The backup folder is a dangling link, not a folder, or writable by every user."""

    code = "BAK_030"
    template = {
        "en": "The backup folder '{folder}' cannot be used safely: {detail}",
        "it": "La cartella dei backup '{folder}' non si può usare in sicurezza: {detail}",
    }
    steps = {
        "en": (
            "No backup was written and the database was not touched.",
            "Point INVENTORY_CORE_BACKUP_DIR at a real folder that only this user may write "
            "to (for example 'chmod 700 FOLDER'), then retry.",
        ),
        "it": (
            "Non è stato scritto nessun backup e il database non è stato toccato.",
            "Imposta INVENTORY_CORE_BACKUP_DIR su una cartella vera in cui possa scrivere solo "
            "questo utente (ad esempio 'chmod 700 CARTELLA'), poi riprova.",
        ),
    }
    runbook = "runbook.md#unsafe-files"


class SnapshotManifestError(SnapshotError):
    """A CSV snapshot's manifest.json is not the JSON object the export writes."""

    code = "BAK_040"
    template = {
        "en": "The manifest of the CSV snapshot '{path}' cannot be used ({file}, row {row}, "
        "key {column}): {detail}",
        "it": "Il manifest dello snapshot CSV '{path}' non è utilizzabile ({file}, riga {row}, "
        "chiave {column}): {detail}",
    }
    steps = {
        "en": (
            "Nothing was imported.",
            "The manifest is written by 'inventory-core export' and never edited by hand: "
            "export again from the source database.",
        ),
        "it": (
            "Non è stato importato nulla.",
            "Il manifest è scritto da 'inventory-core export' e non si modifica a mano: "
            "esporta di nuovo dal database di origine.",
        ),
    }
    runbook = "runbook.md#restore"


class SnapshotPathError(SnapshotError):
    """A CSV snapshot names a file outside itself, or something that is not a plain file in it."""

    code = "BAK_041"
    template = {
        "en": "The CSV snapshot '{path}' names '{file}' (row {row}, column {column}), which the "
        "import does not read: {detail}",
        "it": "Lo snapshot CSV '{path}' indica '{file}' (riga {row}, colonna {column}), che "
        "l'importazione non legge: {detail}",
    }
    steps = {
        "en": (
            "Nothing was imported, and nothing outside the snapshot was read.",
            "A snapshot names only plain file names inside its own folder or zip: use an "
            "untouched snapshot made by 'inventory-core export'.",
        ),
        "it": (
            "Non è stato importato nulla e non è stato letto nulla fuori dallo snapshot.",
            "Uno snapshot indica solo nomi di file semplici dentro la propria cartella o zip: "
            "usa uno snapshot intatto creato da 'inventory-core export'.",
        ),
    }
    runbook = "runbook.md#restore"


class SnapshotArchiveError(SnapshotError):
    """A CSV snapshot zip cannot be read safely: damaged, encrypted or with too many entries."""

    code = "BAK_042"
    template = {
        "en": "The zip '{file}' of the CSV snapshot '{path}' cannot be read safely (row {row}, "
        "column {column}): {detail}",
        "it": "Lo zip '{file}' dello snapshot CSV '{path}' non si può leggere in sicurezza "
        "(riga {row}, colonna {column}): {detail}",
    }
    steps = {
        "en": (
            "Nothing was imported.",
            "Copy the zip again from where it was made, or export again with "
            "'inventory-core export FOLDER --zip'.",
        ),
        "it": (
            "Non è stato importato nulla.",
            "Copia di nuovo lo zip dall'origine, oppure esporta di nuovo con "
            "'inventory-core export CARTELLA --zip'.",
        ),
    }
    runbook = "runbook.md#restore"


class SnapshotEncodingError(SnapshotError):
    """A CSV file of a snapshot is not UTF-8 text (it was saved again in another encoding)."""

    code = "BAK_043"
    template = {
        "en": "In the CSV snapshot '{path}', {file} row {row}, column {column} is not UTF-8 "
        "text: {detail}",
        "it": "Nello snapshot CSV '{path}', {file} riga {row}, colonna {column} non è testo "
        "UTF-8: {detail}",
    }
    steps = {
        "en": (
            "Nothing was imported.",
            "The file was saved again in another encoding (latin-1, UTF-16...), for example "
            "by a spreadsheet: export again from the source database.",
        ),
        "it": (
            "Non è stato importato nulla.",
            "Il file è stato salvato di nuovo con un'altra codifica (latin-1, UTF-16...), per "
            "esempio da un foglio di calcolo: esporta di nuovo dal database di origine.",
        ),
    }
    runbook = "runbook.md#restore"


class SnapshotCellError(SnapshotError):
    """A cell of a CSV snapshot is not a value of its column, written as the export writes it."""

    code = "BAK_044"
    template = {
        "en": "In the CSV snapshot '{path}', {file} row {row}, column {column}: {detail}",
        "it": "Nello snapshot CSV '{path}', {file} riga {row}, colonna {column}: {detail}",
    }
    steps = {
        "en": (
            "Nothing was imported.",
            "The cell was changed after the export (numbers, dates and quoted text are "
            "written in one exact form): export again from the source database.",
        ),
        "it": (
            "Non è stato importato nulla.",
            "La cella è stata modificata dopo l'esportazione (numeri, date e testo tra apici "
            "sono scritti in un'unica forma esatta): esporta di nuovo dal database di origine.",
        ),
    }
    runbook = "runbook.md#restore"


class SnapshotRowError(SnapshotError):
    """A row of a CSV snapshot has the wrong number of cells, or the schema rejects it."""

    code = "BAK_045"
    template = {
        "en": "In the CSV snapshot '{path}', {file} row {row}, column {column}: {detail}",
        "it": "Nello snapshot CSV '{path}', {file} riga {row}, colonna {column}: {detail}",
    }
    steps = {
        "en": (
            "Nothing was imported.",
            "Rows were added, cut or duplicated after the export: export again from the "
            "source database.",
        ),
        "it": (
            "Non è stato importato nulla.",
            "Sono state aggiunte, tagliate o duplicate righe dopo l'esportazione: esporta di "
            "nuovo dal database di origine.",
        ),
    }
    runbook = "runbook.md#restore"


class SnapshotHeaderError(SnapshotMismatchError):
    """A CSV file's first row does not name its table's columns, in order."""

    code = "BAK_046"
    template = {
        "en": "In the CSV snapshot '{path}', {file} row {row}, column {column}: {detail}",
        "it": "Nello snapshot CSV '{path}', {file} riga {row}, colonna {column}: {detail}",
    }
    steps = {
        "en": (
            "Nothing was imported.",
            "The snapshot comes from another schema revision or its header was edited: "
            "export again from a source database at this revision.",
        ),
        "it": (
            "Non è stato importato nulla.",
            "Lo snapshot viene da un'altra revisione dello schema o la sua intestazione è "
            "stata modificata: esporta di nuovo da un database di origine a questa revisione.",
        ),
    }
    runbook = "runbook.md#restore"


class SnapshotUnhealthyError(SnapshotError):
    """A CSV snapshot's data fails the full check or the audit chain walk; nothing is kept."""

    code = "BAK_047"
    template = {
        "en": "The CSV snapshot '{path}' is not a faithful snapshot and was not imported: "
        "{detail} (first finding: {file} row {row}, column {column})",
        "it": "Lo snapshot CSV '{path}' non è uno snapshot fedele e non è stato importato: "
        "{detail} (primo problema: {file} riga {row}, colonna {column})",
    }
    steps = {
        "en": (
            "Nothing was imported: the import was rolled back before it committed.",
            "Check the source database with 'inventory-core --db SOURCE check --full -v'; if "
            "it is healthy, export it again and import the new snapshot.",
            "Files changed after the export with a recomputed manifest are refused on purpose.",
        ),
        "it": (
            "Non è stato importato nulla: l'importazione è stata annullata prima del commit.",
            "Controlla il database di origine con 'inventory-core --db ORIGINE check --full "
            "-v'; se è sano, esportalo di nuovo e importa il nuovo snapshot.",
            "I file modificati dopo l'esportazione con il manifest ricalcolato sono rifiutati "
            "di proposito.",
        ),
    }
    runbook = "runbook.md#restore"


class WriteCancelledError(DatabaseError):
    """The server cancelled a write before it committed (a restore holding off the writers)."""

    code = "DB_030"
    template = {
        "en": "The server cancelled this write before it committed: {detail}",
        "it": "Il server ha annullato questa scrittura prima del commit: {detail}",
    }
    steps = {
        "en": (
            "Nothing of it was written.",
            "A restore (or an administrator) was holding the writers off: when it is over, "
            "check the data and run the write again if it is still needed.",
        ),
        "it": (
            "Non ne è stato scritto nulla.",
            "Un ripristino (o un amministratore) teneva ferme le scritture: quando è finito, "
            "controlla i dati e ripeti la scrittura se serve ancora.",
        ),
    }
    runbook = "runbook.md#restore"


class RestoreManifestMismatchError(RestoreError):
    """The backup's file contradicts a claim of its manifest (rows, revision, head, identity)."""

    code = "BAK_050"
    template = {
        "en": "The backup '{path}' does not hold what its manifest says: {detail}",
        "it": "Il backup '{path}' non contiene ciò che dice il suo manifest: {detail}",
    }
    steps = {
        "en": (
            "The live database was not changed.",
            "The file or its manifest was edited after the backup was taken: do not use it.",
            "Restore another backup that verifies ('inventory-core verify PATH').",
        ),
        "it": (
            "Il database in uso non è stato modificato.",
            "Il file o il suo manifest sono stati modificati dopo il backup: non usarlo.",
            "Ripristina un altro backup che supera la verifica ('inventory-core verify PATH').",
        ),
    }
    runbook = "runbook.md#restore"


class RestoreAuditChainError(RestoreError):
    """The audit chain inside the backup is broken: a row in it was edited, added or removed."""

    code = "BAK_051"
    template = {
        "en": "The audit trail inside the backup '{path}' does not verify: {detail}",
        "it": "Il registro di audit dentro il backup '{path}' non supera la verifica: {detail}",
    }
    steps = {
        "en": (
            "The live database was not changed.",
            "The history in this backup was falsified after it was taken: keep the file for "
            "the investigation and do not restore it.",
            "Restore an older backup whose chain verifies ('inventory-core verify PATH').",
        ),
        "it": (
            "Il database in uso non è stato modificato.",
            "La storia in questo backup è stata falsificata dopo il backup: conserva il file "
            "per l'indagine e non ripristinarlo.",
            "Ripristina un backup più vecchio la cui catena è valida "
            "('inventory-core verify PATH').",
        ),
    }
    runbook = "runbook.md#audit-chain-broken"


class RestoreOtherDatabaseError(RestoreError):
    """The backup is of another database than the one it would be restored over."""

    code = "BAK_052"
    template = {
        "en": "The backup '{path}' is of another database ({found}), not of this one ({expected}).",
        "it": "Il backup '{path}' è di un altro database ({found}), non di questo ({expected}).",
    }
    steps = {
        "en": (
            "The live database was not changed.",
            "Check that --db and the backup folder belong to the same shop.",
            "To replace this database with the other one on purpose (a new machine, a new "
            "empty file), pass --other-database (allow_other_database=True).",
        ),
        "it": (
            "Il database in uso non è stato modificato.",
            "Controlla che --db e la cartella dei backup siano dello stesso negozio.",
            "Per sostituire di proposito questo database con l'altro (una nuova macchina, un "
            "nuovo file vuoto), aggiungi --other-database (allow_other_database=True).",
        ),
    }
    runbook = "runbook.md#restore"


class RestoreBusyError(RestoreError):
    """Other writers kept the live database locked, so the restore could not begin."""

    code = "BAK_053"
    template = {
        "en": "The database '{path}' stayed locked by other writers for {waited_s} s; the "
        "restore did not start.",
        "it": "Il database '{path}' è rimasto bloccato da altri processi in scrittura per "
        "{waited_s} s; il ripristino non è iniziato.",
    }
    steps = {
        "en": (
            "The live database was not changed.",
            "Run the restore again when the long write (an import, a maintenance run) is over.",
        ),
        "it": (
            "Il database in uso non è stato modificato.",
            "Ripeti il ripristino quando la scrittura lunga (un import, una manutenzione) è "
            "finita.",
        ),
    }
    runbook = "runbook.md#restore"


class RestoreBackupChangedError(RestoreError):
    """The backup changed between the plan the operator confirmed and the restore."""

    code = "BAK_054"
    template = {
        "en": "The backup '{path}' changed after its plan was shown (sha256 {actual}, the "
        "plan was made for {expected}).",
        "it": "Il backup '{path}' è cambiato dopo che il piano è stato mostrato (sha256 "
        "{actual}, il piano era per {expected}).",
    }
    steps = {
        "en": (
            "The live database was not changed.",
            "Find out who is writing into the backup folder, then run the restore again "
            "and read the new plan.",
        ),
        "it": (
            "Il database in uso non è stato modificato.",
            "Scopri chi scrive nella cartella dei backup, poi ripeti il ripristino e leggi "
            "il nuovo piano.",
        ),
    }
    runbook = "runbook.md#restore"


class RestoreDatabaseInUseError(RestoreError):
    """A damaged database cannot be swapped out while another program still has it open."""

    code = "BAK_055"
    template = {
        "en": "Another program still has the database '{live}' open; a damaged file is "
        "replaced only when nothing uses it.",
        "it": "Un altro programma ha ancora aperto il database '{live}'; un file danneggiato "
        "si sostituisce solo quando nessuno lo usa.",
    }
    steps = {
        "en": (
            "Nothing was changed.",
            "Stop every program using the database (its writes would go to the replaced "
            "file and be lost), then run the restore again.",
        ),
        "it": (
            "Non è stato modificato nulla.",
            "Ferma ogni programma che usa il database (le sue scritture finirebbero nel file "
            "sostituito e andrebbero perse), poi ripeti il ripristino.",
        ),
    }
    runbook = "runbook.md#restore"


class AuditError(InventoryError):
    """The audit trail is broken or could not be written."""

    code = "AUD_001"
    template = {
        "en": "Audit trail problem: {detail}",
        "it": "Problema nel registro di audit: {detail}",
    }
    steps = {
        "en": ("Run 'inventory-core audit verify' to find the first broken row.",),
        "it": ("Esegui 'inventory-core audit verify' per trovare la prima riga alterata.",),
    }
    runbook = "runbook.md#audit-chain-broken"


class AuditChainBrokenError(AuditError):
    """The audit hash chain does not verify: a row was edited, deleted, inserted or rewritten."""

    code = "AUD_002"
    template = {
        "en": "The audit chain is broken at row {audit_id}: {reason}",
        "it": "La catena di audit è interrotta alla riga {audit_id}: {reason}",
    }
    steps = {
        "en": (
            "Stop writing to the database and keep a copy of it as evidence.",
            "Compare with the newest backup: 'inventory-core audit verify --against "
            "MANIFEST.json'.",
            "Restore the newest backup whose chain verifies: 'inventory-core restore PATH'.",
        ),
        "it": (
            "Smetti di scrivere nel database e conservane una copia come prova.",
            "Confronta con il backup più recente: 'inventory-core audit verify --against "
            "MANIFEST.json'.",
            "Ripristina il backup più recente la cui catena è integra: "
            "'inventory-core restore PERCORSO'.",
        ),
    }
    runbook = "runbook.md#audit-chain-broken"


class LedgerTamperedError(AuditError):
    """The ledger differs from what the audit trail sealed: rows were changed behind its back."""

    code = "AUD_010"
    template = {
        "en": "The ledger does not match its audit trail ({findings} findings): {detail}",
        "it": "Il registro non corrisponde alla sua traccia di audit ({findings} anomalie): "
        "{detail}",
    }
    steps = {
        "en": (
            "Stop writing to the database and keep a copy of it as evidence.",
            "The rows named were inserted, edited or deleted without the library: find out "
            "who had access to the database file or server.",
            "Restore the newest backup that verifies ('inventory-core verify PATH', then "
            "'inventory-core restore PATH') and enter again what happened since.",
        ),
        "it": (
            "Smetti di scrivere nel database e conservane una copia come prova.",
            "Le righe indicate sono state inserite, modificate o cancellate senza la "
            "libreria: scopri chi aveva accesso al file o al server del database.",
            "Ripristina il backup più recente che si verifica ('inventory-core verify "
            "PERCORSO', poi 'inventory-core restore PERCORSO') e registra di nuovo ciò che "
            "è successo da allora.",
        ),
    }
    runbook = "runbook.md#ledger-does-not-match-its-audit-trail"


class AuditManifestError(AuditError):
    """A backup manifest given to verify the audit chain cannot be read or has no head hash."""

    code = "AUD_003"
    template = {
        "en": "Cannot use '{path}' to verify the audit chain: {detail}",
        "it": "Impossibile usare '{path}' per verificare la catena di audit: {detail}",
    }
    steps = {
        "en": (
            "Pass the JSON manifest written next to a backup (it holds audit_head_hash and "
            "audit_rows).",
        ),
        "it": (
            "Indica il manifest JSON scritto accanto a un backup (contiene audit_head_hash e "
            "audit_rows).",
        ),
    }
    runbook = "runbook.md#audit-chain-broken"


class HealthCheckError(InventoryError):
    """The database failed its start-up health check."""

    code = "INV_001"
    template = {
        "en": "The database failed its health check: {detail}",
        "it": "Il database non ha superato il controllo di salute: {detail}",
    }
    steps = {
        "en": (
            "Run 'inventory-core check --full -v' to see every failing invariant.",
            "Restore the newest good backup if data is damaged: 'inventory-core restore PATH'.",
        ),
        "it": (
            "Esegui 'inventory-core check --full -v' per vedere ogni invariante violata.",
            "Se i dati sono danneggiati ripristina l'ultimo backup valido: "
            "'inventory-core restore PERCORSO'.",
        ),
    }
    runbook = "runbook.md#corruption-detected"


def catalogue() -> list[type[InventoryError]]:
    """Every error class, sorted by code (what docs/errors.md documents)."""
    seen: list[type[InventoryError]] = []
    stack: list[type[InventoryError]] = [InventoryError]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return sorted(set(seen), key=lambda c: c.code)


# --- translation of driver errors ----------------------------------------------------------

_SQLITE_CONSTRAINT_MAP: dict[str, type[InventoryError]] = {
    "SQLITE_CONSTRAINT_UNIQUE": DuplicateError,
    "SQLITE_CONSTRAINT_PRIMARYKEY": DuplicateError,
    "SQLITE_CONSTRAINT_FOREIGNKEY": ForeignKeyViolationError,
    "SQLITE_CONSTRAINT_CHECK": ConstraintViolationError,
    "SQLITE_CONSTRAINT_NOTNULL": ConstraintViolationError,
    "SQLITE_CONSTRAINT_TRIGGER": AppendOnlyViolationError,
}

_SQLITE_PRIMARY_MAP: dict[int, type[InventoryError]] = {
    sqlite3.SQLITE_BUSY: DatabaseLockedError,
    sqlite3.SQLITE_LOCKED: DatabaseLockedError,
    sqlite3.SQLITE_READONLY: ReadOnlyDatabaseError,
    sqlite3.SQLITE_IOERR: DiskIOError,
    sqlite3.SQLITE_CORRUPT: CorruptDatabaseError,
    sqlite3.SQLITE_FULL: DiskFullError,
    sqlite3.SQLITE_CANTOPEN: FileAccessError,
    sqlite3.SQLITE_NOTADB: NotADatabaseError,
}

_PG_SQLSTATE_MAP: dict[str, type[InventoryError]] = {
    "23505": DuplicateError,
    "23503": ForeignKeyViolationError,
    "23514": ConstraintViolationError,
    "23502": ConstraintViolationError,
    "40001": SerializationConflictError,
    "40P01": SerializationConflictError,
    "55P03": DatabaseLockedError,
    "42P01": NotMigratedError,
    "53100": DiskFullError,
    "25006": ReadOnlyDatabaseError,
    "P0001": AppendOnlyViolationError,
}


def _sqlite_class(orig: sqlite3.Error) -> type[InventoryError]:
    name = getattr(orig, "sqlite_errorname", "") or ""
    code = getattr(orig, "sqlite_errorcode", None)
    text = str(orig).lower()
    if name in _SQLITE_CONSTRAINT_MAP:
        return _SQLITE_CONSTRAINT_MAP[name]
    if "append-only" in text:
        return AppendOnlyViolationError
    if code is not None and (code & 0xFF) in _SQLITE_PRIMARY_MAP:
        return _SQLITE_PRIMARY_MAP[code & 0xFF]
    if isinstance(orig, sqlite3.IntegrityError):
        if "unique" in text:
            return DuplicateError
        if "foreign key" in text:
            return ForeignKeyViolationError
        return ConstraintViolationError
    if "no such table" in text:
        return NotMigratedError
    if "database is locked" in text or "database table is locked" in text:
        return DatabaseLockedError
    if "malformed" in text:
        return CorruptDatabaseError
    if "not a database" in text:
        return NotADatabaseError
    if "readonly" in text or "read-only" in text:
        return ReadOnlyDatabaseError
    if "disk" in text and "full" in text:
        return DiskFullError
    return DatabaseError


def _pg_class(orig: BaseException) -> type[InventoryError]:
    sqlstate = getattr(orig, "sqlstate", None) or ""
    if sqlstate in _PG_SQLSTATE_MAP:
        return _PG_SQLSTATE_MAP[sqlstate]
    if sqlstate.startswith("23"):
        return ConstraintViolationError
    return DatabaseError


def translate(exc: BaseException, **context: Any) -> InventoryError:
    """Turn a DBAPI / SQLAlchemy / OS error into the matching :class:`InventoryError`.

    Args:
        exc: the error raised by the driver, SQLAlchemy or the operating system.
        **context: facts to attach (``path``, ``attempts``...), used in the message.

    Returns:
        The translated error; the caller raises it ``from exc``.
    """
    if isinstance(exc, InventoryError):
        return exc
    orig: BaseException = exc
    if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None:
        orig = exc.orig
    detail = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    cls: type[InventoryError]
    if isinstance(orig, sqlite3.Error):
        cls = _sqlite_class(orig)
    elif hasattr(orig, "sqlstate"):
        cls = _pg_class(orig)
    elif isinstance(orig, IsADirectoryError):
        cls = PathIsDirectoryError
    elif isinstance(orig, OSError):
        import errno

        cls = DiskFullError if orig.errno == errno.ENOSPC else FileAccessError
    elif isinstance(exc, sa_exc.SQLAlchemyError):
        cls = DatabaseError
    else:
        cls = InventoryError
    if context.get("read_only") and cls is ReadOnlyDatabaseError:
        cls = ReadOnlyModeError
    context.setdefault("attempts", 1)
    context.setdefault("waited_s", 0)
    context.setdefault("path", context.get("path", "?"))
    return cls(detail, **context)


def is_driver_error(exc: BaseException) -> bool:
    """True for errors raised by SQLAlchemy, a DBAPI driver or the OS (not our own)."""
    if isinstance(exc, InventoryError):
        return False
    return isinstance(exc, sa_exc.SQLAlchemyError | sqlite3.Error | OSError) or hasattr(
        exc, "sqlstate"
    )


@contextmanager
def translate_db_errors(**context: Any) -> Iterator[None]:
    """Re-raise any database error inside the block as an :class:`InventoryError`.

    The original error stays attached as ``__cause__`` (``raise ... from exc``) so
    ``--debug`` still shows what the driver said.
    """
    try:
        yield
    except Exception as exc:
        if is_driver_error(exc):
            raise translate(exc, **context) from exc
        raise


def is_retryable(exc: BaseException) -> bool:
    """True for lock/busy errors (SQLite) and serialization/deadlock failures (PostgreSQL).

    Only these are transient: retrying anything else would repeat a bug or a bad input.
    """
    orig: BaseException | None = exc
    if isinstance(exc, sa_exc.DBAPIError):
        orig = exc.orig
    if isinstance(exc, DatabaseLockedError | SerializationConflictError):
        return True
    if isinstance(exc, InventoryError):
        cause = exc.__cause__
        return cause is not None and cause is not exc and is_retryable(cause)
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        if code is not None and (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return True
        return "database is locked" in str(orig).lower()
    sqlstate = getattr(orig, "sqlstate", None)
    return sqlstate in ("40001", "40P01", "55P03")
