"""bot.fair_queue: round-robin across owners, positions that match the serving order."""

from __future__ import annotations

from bot.fair_queue import FairQueue


def drain(queue: FairQueue[str]) -> list[str]:
    return [queue.pop() for _ in range(len(queue))]


def test_one_owner_is_served_in_order() -> None:
    queue: FairQueue[str] = FairQueue()
    for item in ("a1", "a2", "a3"):
        queue.push("a", item)
    assert drain(queue) == ["a1", "a2", "a3"]


def test_owners_take_turns_so_nobody_is_starved() -> None:
    queue: FairQueue[str] = FairQueue()
    for item in ("a1", "a2", "a3"):
        queue.push("a", item)
    queue.push("b", "b1")
    queue.push("c", "c1")
    assert drain(queue) == ["a1", "b1", "c1", "a2", "a3"]


def test_a_late_owner_joins_the_rotation() -> None:
    queue: FairQueue[str] = FairQueue()
    queue.push("a", "a1")
    queue.push("a", "a2")
    assert queue.pop() == "a1"
    queue.push("b", "b1")
    assert drain(queue) == ["a2", "b1"]


def test_positions_match_the_order_items_are_served() -> None:
    queue: FairQueue[str] = FairQueue()
    for owner, item in [("a", "a1"), ("a", "a2"), ("b", "b1"), ("a", "a3"), ("c", "c1")]:
        queue.push(owner, item)
    queue.pop()  # a1: a moves behind b and c
    order = list(queue.order())
    assert [queue.position(item) for item in order] == [1, 2, 3, 4]
    assert drain(queue) == order == ["b1", "c1", "a2", "a3"]
    assert queue.position("a1") == 0


def test_remove_and_clear() -> None:
    queue: FairQueue[str] = FairQueue()
    queue.push("a", "a1")
    queue.push("b", "b1")
    assert queue.remove("a1") and not queue.remove("zz")
    assert len(queue) == 1 and queue.clear() == ["b1"] and len(queue) == 0
