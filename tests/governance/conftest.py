"""Governance fixtures: the engine's metadata store and target database per test."""

from tests.engine.conftest import store, target_url  # noqa: F401
