"""counting_round_trips: the counter is current inside its block only, blocks nest."""

from __future__ import annotations

from gateway.directory import operations


def _count() -> None:
    """What ``Directory._call`` does per round trip: count it on the current counter."""
    counter = operations.round_trips.get()
    if counter is not None:
        counter.count += 1


def test_the_counter_is_current_inside_its_block_and_blocks_nest() -> None:
    assert operations.round_trips.get() is None
    with operations.counting_round_trips() as outer:
        assert operations.round_trips.get() is outer
        _count()
        with operations.counting_round_trips() as inner:
            assert operations.round_trips.get() is inner
            _count()
            _count()
        assert operations.round_trips.get() is outer
    assert operations.round_trips.get() is None
    assert (outer.count, inner.count) == (1, 2)


def test_entered_and_left_by_hand_as_the_request_log_does() -> None:
    manager = operations.counting_round_trips()
    counter = manager.__enter__()
    _count()
    manager.__exit__(None, None, None)
    manager.__exit__(None, None, None)  # a second teardown changes nothing
    assert counter.count == 1
    assert operations.round_trips.get() is None
