"""Governance: what an organization allows and what happened to its data.

Parts:
- ``models``: the governance tables (feature flags, column lineage) on the store's ``Base``;
  created by the store revision ``0004``;
- ``flags``: feature flags per organization (on/off, named users, a rollout percentage with
  stable per-user hashing), read through one function, :func:`flags.is_enabled`;
- ``lineage``: column-level lineage of a job (source table.column -> transform -> target
  table.column), derived from the job's plan, stored on request and queried per project.

Masking itself lives with the engine's transforms (``workbench.engine.masking``).
Uses only ``store`` (and ``engine`` for lineage), never the CLI or widgets.
"""
