"""The per-process id → DN memory: bounded, least recently used first out, 0 = off."""

from __future__ import annotations

import threading

import pytest

from gateway.provisioning.dncache import DnCache


def test_a_remembered_dn_is_found_by_type_and_id() -> None:
    cache = DnCache(10)
    cache.remember("User", "a", "uid=a,ou=People")
    assert cache.get("User", "a") == "uid=a,ou=People"
    assert cache.get("Group", "a") is None
    assert cache.get("User", "b") is None


def test_the_least_recently_used_pair_goes_first_when_full() -> None:
    cache = DnCache(2)
    cache.remember("User", "a", "uid=a")
    cache.remember("User", "b", "uid=b")
    assert cache.get("User", "a") == "uid=a"  # a is now the most recent
    cache.remember("User", "c", "uid=c")
    assert cache.get("User", "b") is None
    assert cache.get("User", "a") == "uid=a" and cache.get("User", "c") == "uid=c"
    assert len(cache) == 2


def test_a_new_dn_replaces_the_old_and_forget_drops_it() -> None:
    cache = DnCache(5)
    cache.remember("User", "a", "uid=old")
    cache.remember("User", "a", "uid=new")
    assert cache.get("User", "a") == "uid=new" and len(cache) == 1
    cache.forget("User", "a")
    cache.forget("User", "never-seen")
    assert cache.get("User", "a") is None


def test_size_zero_keeps_nothing() -> None:
    cache = DnCache(0)
    cache.remember("User", "a", "uid=a")
    cache.remember_all("User", [("b", "uid=b")])
    assert cache.get("User", "a") is None and len(cache) == 0
    assert not cache.enabled


def test_pairs_without_an_id_or_dn_are_ignored() -> None:
    cache = DnCache(5)
    cache.remember_all("User", [(None, "uid=x"), ("", "uid=y"), ("z", "")])
    assert len(cache) == 0


def test_a_negative_size_is_refused() -> None:
    with pytest.raises(ValueError):
        DnCache(-1)


def test_threads_sharing_it_never_push_it_past_its_size() -> None:
    cache = DnCache(50)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(2000):
                cache.remember("User", f"{n}-{i}", f"uid={n}-{i}")
                cache.get("User", f"{n}-{i // 2}")
                if i % 7 == 0:
                    cache.forget("User", f"{n}-{i - 1}")
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert len(cache) == 50
