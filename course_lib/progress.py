"""A progress bar that is a no-op when not wanted (tests, quick notebook cells)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class _Silent:
    def update(self, n: int = 1) -> None:
        pass


@contextmanager
def progress_bar(total: int, description: str, enabled: bool) -> Iterator[Any]:
    """``tqdm`` (notebook-aware) when ``enabled``, else an object whose ``update`` does nothing."""
    if not enabled:
        yield _Silent()
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=description, leave=False) as bar:
        yield bar
