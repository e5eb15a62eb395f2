"""One exception tree for the whole workbench.

Every error the workbench raises derives from :class:`WorkbenchError`. Two marker
bases tell callers what to do next: :class:`TransientError` (retry with backoff) and
:class:`TerminalError` (stop, a person must act). Messages name the object and the next
step and never carry a secret; structured fields ride along for logs and widgets.

Each kind carries the ``workbench`` command's exit code (``exit_code``; see
:data:`EXIT_CODES` and docs/reliability.md), so scripts can tell a failed validation from
an unreachable server without reading the message.
"""

from __future__ import annotations

from typing import Any


class WorkbenchError(Exception):
    """Root of every error the workbench raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def __str__(self) -> str:
        return self.message


class TransientError(WorkbenchError):
    """Marker: the same call may succeed later (server restarting, network blip)."""


class TerminalError(WorkbenchError):
    """Marker: retrying will not help until something is changed."""


# --- input and objects -------------------------------------------------------------


class InvalidInputError(TerminalError, ValueError):
    """A name, URL, option or argument is not acceptable."""


class NotFoundError(TerminalError, LookupError):
    """A project, connection, job, table or column does not exist."""


class AlreadyExistsError(TerminalError):
    """An object with the same name already exists where names must be unique."""


class PermissionDeniedError(TerminalError):
    """The current user's role does not allow this action."""


# --- configuration and store --------------------------------------------------------


class ConfigurationError(TerminalError):
    """Settings are missing or contradictory."""


class StoreSchemaError(TerminalError):
    """The metadata store's schema version does not fit the installed code."""


class SecretError(TerminalError):
    """A secret cannot be encrypted or decrypted (missing or wrong key)."""


# --- connecting ----------------------------------------------------------------------


class DatabaseConnectionError(WorkbenchError):
    """Base for failures to reach or log in to a database."""

    exit_code = 3


class CannotConnectError(DatabaseConnectionError, TransientError):
    """The host or port did not answer within the connect timeout."""


class AuthenticationError(DatabaseConnectionError, TerminalError):
    """The server rejected the user name or password."""


class DatabaseMissingError(DatabaseConnectionError, TerminalError):
    """The server is reachable but the named database does not exist."""


class TlsError(DatabaseConnectionError, TerminalError):
    """TLS was required by one side and refused or unavailable on the other."""


class CatalogPermissionError(DatabaseConnectionError, TerminalError):
    """The user may connect but may not read the catalog needed for introspection."""


class DriverMissingError(TerminalError, ImportError):
    """An optional database driver is not installed; the message names the extra."""


class UnsupportedError(TerminalError):
    """A kind of source, a type or an option the workbench does not handle."""


class SourceQueryError(TerminalError):
    """The source refused one of the workbench's queries: its SQL or a value it produced,
    not the connection (a function the server lacks, a result over its packet limit)."""


class InvalidSourceValueError(TerminalError):
    """A source value cannot be read exactly as its type (e.g. a MySQL zero date)."""


# --- running -------------------------------------------------------------------------


class MigrationError(TerminalError):
    """A migration job cannot start, continue or finish."""


class ErrorBudgetExceededError(MigrationError):
    """More rows failed than the job's error budget allows."""

    exit_code = 6


class ResumeRefusedError(MigrationError):
    """A job cannot be resumed because its mapping or source schema changed."""

    exit_code = 9


class ValidationFailedError(MigrationError):
    """Row counts or checksums differ between source and target."""

    exit_code = 4


class IncompleteJobError(MigrationError):
    """Every row was copied (and validated), but keys, indexes or constraints could not be
    built; ``objects`` names each with its error. ``workbench copy --resume JOB`` retries
    only those."""

    exit_code = 5


class TargetBusyError(MigrationError):
    """Another running job is writing the same target tables."""

    exit_code = 8


class PolicyViolationError(MigrationError):
    """The project's masking policy forbids copying these columns as they are mapped."""


class JobCancelledError(MigrationError):
    """The job was cancelled by a user."""

    exit_code = 7


class InUseError(TerminalError):
    """An object cannot be removed or changed because other objects still reference it."""


# The `workbench` command's exit codes (documented in docs/reliability.md).
EXIT_CODES = {
    0: "success",
    1: "the command failed: bad input, a missing object, a refused permission or policy, ...",
    2: "usage error: unknown command or option, missing argument",
    3: "cannot connect: host unreachable, password rejected, TLS refused, database missing",
    4: "validation failed: row counts or checksums differ between source and target",
    5: "job incomplete: rows copied and validated, some keys/indexes/constraints not built",
    6: "error budget exceeded: too many rows did not fit the target",
    7: "cancelled (by a user or Ctrl-C)",
    8: "target busy: another running job is writing the same target tables",
    9: "resume refused: the source schema or the mapping changed since the job started",
}
