"""A guard that the suite needs nothing beside its checkout.

A fresh clone must pass its own tests, so no fixture may read a sibling folder of the
checkout (the developers' ``../shared``, say). Python's audit hooks see every ``open`` and
every ``subprocess.Popen`` of the test process; paths that fall under the checkout's parent
folder but outside the checkout (and outside the temporary directories) are recorded, and
the session fails when it ends with any recorded (see ``pytest_sessionfinish`` in conftest).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


class OutsideCheckoutGuard:
    def __init__(self, repo: Path, allowed: tuple[Path, ...] = ()) -> None:
        self.repo = str(repo.resolve())
        self.parent = str(repo.resolve().parent)
        temps = {Path(tempfile.gettempdir()).resolve(), *(p.resolve() for p in allowed)}
        # a temporary folder that holds the checkout's parent (a CI clone under /tmp) does not
        # excuse the checkout's siblings; one that IS the parent leaves nothing to watch
        self.allowed = tuple(
            str(p) for p in temps if not _within(self.parent, str(p)) or str(p) == self.parent
        )
        self.active = self.parent not in (os.sep, *self.allowed)
        self.reached: list[str] = []

    def _outside(self, value: object) -> bool:
        if not self.active:
            return False
        if isinstance(value, bytes):
            value = os.fsdecode(value)
        if not isinstance(value, str | os.PathLike):
            return False
        path = os.path.abspath(os.fspath(value))
        if not path.startswith(self.parent + os.sep):
            return False
        return not any(_within(path, root) for root in (self.repo, *self.allowed))

    def __call__(self, event: str, args: tuple) -> None:
        if event == "open":
            candidates = args[:1]
        elif event == "subprocess.Popen":
            candidates = args[1] if isinstance(args[1], list | tuple) else [args[1]]
        else:
            return
        for value in candidates:
            if self._outside(value):
                self.reached.append(f"{event}: {os.fsdecode(os.fspath(value))}")

    def install(self) -> OutsideCheckoutGuard:
        sys.addaudithook(self)
        return self


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)
