"""Alembic environment and numbered revisions of the store's schema.

Add a revision as ``versions/NNNN_what.py`` with ``revision = "NNNN"`` and
``down_revision`` = the previous number (profiles and matching feedback will be the next
ones). Revisions use ``op.*`` only, never the ORM models, so old revisions stay valid as
the models change. ``tests/store/test_revisions.py`` checks the models and the head agree.
"""
