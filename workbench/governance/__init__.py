"""Governance: what an organization allows and what happened to its data.

Parts:
- ``models``: the governance tables (feature flags, column lineage, masking policies) on the
  store's ``Base``; created by the store revisions ``0004`` and ``0005``;
- ``flags``: feature flags per organization (on/off, named users, a rollout percentage with
  stable per-user hashing), read through one function, :func:`flags.is_enabled`;
- ``lineage``: column-level lineage of a job (source table.column -> transform -> target
  table.column), derived from the job's plan, recorded by every job, queried per project;
- ``policy``: a project's masking policy (require masking, exempted columns);
- ``masking_suggestions``: masks proposed from profiling's PII flags, and applying one;
- ``mask_preview``: before/after of a mask on real sample values, with the project's salt;
- ``compliance``: the compliance report (PII columns, treatment, runs, validation,
  violations) as data, JSON and self-contained HTML.

Organizations, roles and tenant isolation are the store's (``store/access.py``,
``store/organizations.py``, ``store/tenancy.py``). Masking itself lives with the engine's
transforms (``workbench.engine.masking``). Uses ``store`` and ``engine``, never the CLI or
widgets.
"""
