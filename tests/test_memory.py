"""Compiled code per loss is held in bounded caches that free what they drop: a process that sees a
new loss per keystroke (the lab page) does not grow with every loss."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import weakref

import jax.numpy as jnp
import numpy as np
import pytest

import gdlab
from gdlab import _cache


def _small_caches(monkeypatch, size: int = 2) -> None:
    from gdlab import _descend, _host, _sgd, _sweep  # noqa: F401  (their caches exist once imported)

    for cache in list(_cache._ALL):
        monkeypatch.setattr(cache, "size", size)
    monkeypatch.setattr(_cache._RING, "size", size)  # the losses whose code is kept


def _freed(run) -> bool:
    """Whether the first of four new losses is gone once three more have pushed it out of the caches."""
    losses = [lambda b, k=k: (b - k) ** 2 + jnp.sin(k * b) for k in range(4)]
    first = weakref.ref(losses[0])
    for f in losses:
        run(f)
    del losses, f
    gc.collect()
    return first() is None


def test_a_loss_dropped_from_the_caches_is_freed_with_its_compiled_code(monkeypatch):
    _small_caches(monkeypatch)
    assert _freed(lambda f: gdlab.descend(f, 0.5, lr=0.1, steps=20, tol=1e-8))
    assert _freed(lambda f: gdlab.sweep(f, 0.5, lrs=[0.01, 0.1], steps=20, tol=1e-8))
    data = {"x": np.linspace(-1, 1, 16)}
    assert _freed(lambda f: gdlab.sgd(lambda b, d: jnp.mean(f(b * d["x"])), 0.5, data, lr=0.1, batch_size=4))


def test_one_ring_of_losses_frees_a_losss_code_from_every_cache_at_once(monkeypatch):
    """Only the number of losses kept is lowered (each cache could hold 16 or more): a loss pushed out
    of the ring leaves the descent's, the sweep's and the Hessians' caches together, and is freed."""
    from gdlab import _descend, _stability, _sweep  # noqa: F401  (their caches exist once imported)

    monkeypatch.setattr(_cache._RING, "size", 2)

    def everything(f):
        gdlab.descend(f, 0.5, lr=0.1, steps=20, tol=1e-8)
        gdlab.sweep(f, 0.5, lrs=[0.01, 0.1], steps=20, tol=1e-8)
        gdlab.stability(f, 0.5)

    assert _freed(everything)
    kept = [key[0] for cache in list(_cache._ALL) if cache.per_loss for key in cache._entries]
    assert len(set(map(id, kept))) <= 2 and len(kept) >= 6  # two losses, each in several caches


def test_keep_compiled_takes_a_whole_number_and_gives_back_the_previous_one():
    before = _cache.keep_compiled(3)
    try:
        assert _cache.keep_compiled(5) == 3 and _cache.keep_compiled(5) == 5
        for bad in (0, -1, 2.5, True, "4"):
            with pytest.raises(ValueError, match="whole number of losses, at least 1"):
                _cache.keep_compiled(bad)
    finally:
        _cache.keep_compiled(before)


def test_a_cache_keeps_the_most_recently_used_and_counts_what_compiled():
    kept = _cache.Compiled(2)
    built = []
    for key in ["a", "b", "a", "c", "a"]:
        kept.get(key, lambda key: built.append(key) or key.upper())
    assert built == ["a", "b", "c"] and len(kept) == 2  # "b" was the least recently used
    assert kept.get([1], lambda key: "unhashable") == "unhashable" and len(kept) == 2


CHILD = textwrap.dedent(
    """
    import gc, psutil, gdlab
    from gdlab import _cache, _descend, _sweep

    for cache in list(_cache._ALL):  # small caches, so that a few losses fill them
        cache.size = 8

    def rss():
        gc.collect()
        return psutil.Process().memory_info().rss / 2**20

    def one(k):
        start = {"b": 0.0, "c": 0.0}
        if k % 2:
            gdlab.descend(f"(b-{k})^2+0.5*(c+{k})^2", start, lr=0.1, steps=50, tol=1e-8)
        else:
            loss = lambda p: (p["b"] - k) ** 2 + 0.5 * (p["c"] + k) ** 2
            gdlab.sweep(loss, start, lrs=[0.01, 0.1, 0.5], steps=50, tol=1e-8)

    for k in range(30):  # more than the caches hold: they are full
        one(k)
    full = rss()
    for k in range(30, 150):
        one(k)
    print(rss() - full)
    """
)


def test_memory_stays_flat_over_150_distinct_losses_once_the_caches_are_full():
    """150 distinct losses, half through descend (typed) and half through sweep (callables), in a fresh
    process: once the caches are full, 120 more add little (descend alone kept 4.6 MB a loss)."""
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    growth = float(done.stdout.split()[-1])
    assert growth < 150, f"grew {growth:.0f} MB over 120 losses after the caches were full"
