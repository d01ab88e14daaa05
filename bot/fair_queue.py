"""A round-robin queue across owners: one user's many questions cannot starve others.

Each owner (a user id; None for callers without one, such as the terminal) has its own
FIFO line; `pop` serves the owners in turn, one item each. An owner who arrives later
joins the rotation at its end. Not thread-safe on its own: the worker guards it.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class FairQueue(Generic[T]):
    def __init__(self) -> None:
        self._lines: OrderedDict[Hashable, deque[T]] = OrderedDict()

    def push(self, owner: Hashable, item: T) -> None:
        self._lines.setdefault(owner, deque()).append(item)

    def pop(self) -> T:
        """The next item in turn; IndexError when empty."""
        owner, line = next(iter(self._lines.items()))
        item = line.popleft()
        if line:
            self._lines.move_to_end(owner)  # served: wait for the others' turn
        else:
            del self._lines[owner]
        return item

    def remove(self, item: T) -> bool:
        for owner, line in self._lines.items():
            if item in line:
                line.remove(item)
                if not line:
                    del self._lines[owner]
                return True
        return False

    def order(self) -> Iterator[T]:
        """The items in the order `pop` would return them."""
        lines = [list(line) for line in self._lines.values()]
        depth = max((len(line) for line in lines), default=0)
        for turn in range(depth):
            for line in lines:
                if turn < len(line):
                    yield line[turn]

    def position(self, item: T) -> int:
        """1 for the next item to be served, 0 when the item is not queued."""
        for n, queued in enumerate(self.order(), 1):
            if queued is item:
                return n
        return 0

    def clear(self) -> list[T]:
        items = list(self.order())
        self._lines.clear()
        return items

    def __len__(self) -> int:
        return sum(len(line) for line in self._lines.values())
