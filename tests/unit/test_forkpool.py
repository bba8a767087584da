"""The forked worker pool behind batch verification: order, errors, and a worker that dies."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tradevc.verifier.forkpool import ordered_results

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the pool forks its workers")


def _slow_square(n: int) -> tuple[int, int]:
    time.sleep(0.001 * (n % 5))  # later tasks often finish first
    return os.getpid(), n * n


def test_results_come_in_the_order_of_the_tasks_from_several_workers():
    answers = list(ordered_results(_slow_square, ((n,) for n in range(200)), workers=2))
    assert [square for _, square in answers] == [n * n for n in range(200)]
    pids = {pid for pid, _ in answers}
    assert len(pids) == 2 and os.getpid() not in pids


def _fails_on_seven(n: int) -> int:
    if n == 7:
        raise LookupError(f"no answer for {n}")
    return n


def test_an_exception_in_a_worker_is_raised_in_the_caller_after_the_results_before_it():
    seen = []
    with pytest.raises(LookupError, match="no answer for 7"):
        for n in ordered_results(_fails_on_seven, ((n,) for n in range(50)), workers=2, depth=1):
            seen.append(n)
    assert seen == list(range(7))


def _unpicklable(n: int) -> object:
    return (lambda: n) if n == 2 else n


def test_a_result_that_cannot_be_sent_back_is_an_error_not_a_hang():
    with pytest.raises(RuntimeError, match="could not send back its result"):
        list(ordered_results(_unpicklable, ((n,) for n in range(5)), workers=2))


def _length(data: bytes) -> int:
    return len(data)


def test_tasks_and_results_larger_than_a_pipe_do_not_deadlock():
    big = [(bytes(3 << 20),) for _ in range(12)]  # 3 MiB each way: far over a pipe's 64 KiB
    assert list(ordered_results(_length, iter(big), workers=2, depth=3)) == [3 << 20] * 12


def _children() -> set[int]:
    path = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    return {int(p) for p in path.read_text().split()} if path.exists() else set()


def test_closing_the_stream_early_stops_the_workers():
    before = _children()
    stream = ordered_results(_slow_square, ((n,) for n in range(10_000)), workers=2)
    next(stream)
    assert len(_children() - before) == 2
    stream.close()
    assert _children() - before == set()


_KILLED_WHILE_WRITING = textwrap.dedent("""
    import os, signal, sys, threading, time
    from tradevc.verifier.forkpool import BrokenProcessPool, ordered_results

    def work(n, delay):
        if n == 3:  # killed after some delay, while its 64 MiB answer is being written, or before
            threading.Thread(target=lambda: (time.sleep(delay), os.kill(os.getpid(), signal.SIGKILL)),
                             daemon=True).start()
            return b"x" * (64 << 20)
        time.sleep(0.01)
        return b"y" * (1 << 20)

    delay = float(sys.argv[1])
    got = 0
    try:
        for _ in ordered_results(work, ((n, delay) for n in range(40)), workers=2):
            got += 1
    except BrokenProcessPool as e:
        print(f"broken after {got}: {e}")
    else:
        print("finished")
""")


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.05, 0.08, 0.12, 0.2])
def test_a_worker_killed_while_it_writes_its_answer_breaks_the_pool_instead_of_hanging(tmp_path, delay):
    """With ``concurrent.futures.ProcessPoolExecutor`` the same kill, landing in the middle
    of the 64 MiB answer (0.08 s on the machine this was written on), hangs for ever: half a
    message in the shared result pipe, and its lock held by the dead worker."""
    script = tmp_path / "kill.py"
    script.write_text(_KILLED_WHILE_WRITING)
    run = subprocess.run([sys.executable, str(script), str(delay)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("broken after "), run.stdout + run.stderr
    assert "stopped unexpectedly" in run.stdout
    assert int(run.stdout.split()[2].rstrip(":")) < 40
