"""Governance: what an organization allows and what happened to its data.

Parts:
- ``policy``: a project's masking policy (require masking, exempted columns);
- ``lineage``: the column-lineage model (source table.column -> transform -> target
  table.column): stored per job, queried per project (the engine records it);
- ``masking_suggestions``: masks proposed from profiling's PII flags, and applying one;
- ``mask_preview``: before/after of a mask on real sample values, with the project's salt;
- ``compliance``: the compliance report (PII columns, treatment, runs, validation,
  violations) as data, JSON and self-contained HTML.

Governance's tables are the store's (``store/governance_models.py``), and so are feature
flags (``store/flags.py``: matching and the engine read them). Organizations, roles and
tenant isolation are the store's too (``store/access.py``, ``store/organizations.py``,
``store/tenancy.py``). The masks themselves are pure functions in
``workbench.transforms.masking``. Uses ``store``, ``profiling``, ``matching`` and
``transforms``, never the engine, the CLI or widgets.
"""
