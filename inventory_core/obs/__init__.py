"""The ground floor of observability: the run context, library logging and redaction.

Every layer logs and every layer shows URLs, so these sit below all of them and import
nothing of inventory_core but each other: :mod:`~inventory_core.obs.context` binds the
process's run id and the scoped user, :mod:`~inventory_core.obs.logs` gives each module its
structlog logger, :mod:`~inventory_core.obs.redaction` hides credentials in anything shown
or logged. The application's one-call set-up, :func:`inventory_core.audit.configure_logging`,
reads :class:`~inventory_core.config.Settings` and so lives one floor up, in ``audit``.
"""
