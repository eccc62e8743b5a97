"""The served process's garbage collector: long-lived state (open streams) is not walked again and again."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# Run in a process of its own: `_settle_collector` freezes and re-tunes the whole interpreter's collector.
BURST = textwrap.dedent(
    """
    import gc
    from server.__main__ import YOUNG_ALLOCATIONS, _settle_collector

    _settle_collector()
    collected = []
    gc.callbacks.append(lambda phase, info: phase == "start" and collected.append(info["generation"]))
    # What 2,000 streams set up at once leave alive: many young collections' worth of objects that
    # outlive them all.
    kept = [[] for _ in range(30 * YOUNG_ALLOCATIONS)]
    print(collected.count(0), collected.count(1), collected.count(2))
    """
)


def test_a_burst_of_long_lived_objects_is_not_walked_by_the_older_generations() -> None:
    run = subprocess.run([sys.executable, "-c", BURST], capture_output=True, text=True, check=True)
    young, middle, old = map(int, run.stdout.split())
    assert young >= 25  # the young generation is still collected as the objects come
    assert (middle, old) == (0, 0)  # every 20 young ones (ours before): one of the middle
