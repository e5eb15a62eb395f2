"""The organization's model: the shipped model retrained from the organization's stored feedback.

Feedback rows live in the store (``workbench.store.feedback``); :func:`organization_model`
retrains from all of them once and caches the result, keyed by the store, the organization
and its newest feedback row, so new feedback triggers a retrain on the next call and
nothing else does. With no feedback the shipped model is used unchanged (origin "fuzzy");
a model retrained from feedback gives origin "learned".
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from workbench.matching.feedback import FeedbackRecord, retrain
from workbench.matching.model import MatcherModel, default_model
from workbench.store import feedback as stored
from workbench.store.flags import is_enabled

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from workbench.store import Store

_CACHE: dict[tuple[str, int], tuple[tuple[int, int], MatcherModel]] = {}
_LOCK = threading.Lock()


def _key(store: Store, organization_id: int) -> tuple[str, int]:
    return (str(store.engine.url), organization_id)


def organization_model(store: Store, organization_id: int | None = None) -> MatcherModel:
    """The model suggestions for this organization use (cached; retrained on new feedback)."""
    org = store.identity.organization_id if organization_id is None else organization_id
    if not is_enabled(store, "learned_matcher", organization_id=org):
        return default_model()
    state = stored.feedback_state(store, org)
    key = _key(store, org)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached and cached[0] == state:
            return cached[1]
    if state[0] == 0:
        model = default_model()
    else:
        records = [FeedbackRecord.from_dict(r) for r in stored.list_feedback(store, org)]
        model = retrain(records, default_model())
    with _LOCK:
        _CACHE[key] = (state, model)
    return model


def origin_of(model: MatcherModel) -> str:
    """The column_mapping origin of a suggestion made by ``model``."""
    return "learned" if model.info.get("feedback_records") else "fuzzy"


def save_feedback(
    session: Session,
    store: Store,
    records: Iterable[FeedbackRecord],
    project_id: int | None = None,
) -> int:
    """Store records for the current organization in the caller's transaction."""
    return stored.add_feedback(
        session, store, [r.to_dict() for r in records], project_id=project_id
    )
