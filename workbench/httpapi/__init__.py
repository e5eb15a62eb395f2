"""The HTTP API (``workbench serve``): the workbench for other tools, under ``/api/v1``.

An orchestrator, a CI pipeline or a catalog drives the same functions the CLI and the notebook
call: projects, connections (secrets write-only), profiles, match suggestions and decisions,
jobs (start, watch, cancel, validate), lineage and the compliance report. Callers present a
user's token (``workbench token create``); each request then works as that user, in the
token's organization, with the role they hold there now, on the same store with the same
row-level security as everywhere else.

Parts: ``app`` (the application and its state), ``auth`` (tokens, per-token rate limits),
``problems`` (one JSON shape for every error), ``health`` (liveness, readiness), ``runs``
(jobs running in the server's threads), and the routes by subject: ``routes_projects``,
``routes_matching``, ``routes_jobs``, ``routes_governance``; ``bodies`` holds request bodies.
"""
