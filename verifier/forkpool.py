"""Forked worker processes that give results in the order of their tasks, and that say so
when one of them dies instead of hanging.

``concurrent.futures.ProcessPoolExecutor`` shares one result pipe and its lock between all its
workers. A worker killed while it writes a result (the OOM killer, ``kill -9``) leaves half a
message in that pipe and the lock taken: the executor's thread then waits for the rest of the
message and the other workers wait for the lock, for ever. Here each worker has a pipe of its
own for tasks and one for results, and holds the only write end of its result pipe, so a
worker that dies is seen as the end of its pipe (a half-written message included) and
:class:`BrokenProcessPool` is raised at once.

Workers are forked, so ``function`` and whatever the caller set up before calling are
inherited, not pickled; tasks and results are pickled.
"""

from __future__ import annotations

import gc
import multiprocessing
import queue
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection, wait
from typing import Any

__all__ = ["BrokenProcessPool", "ordered_results"]

_STOP = None


def _serve(tasks: Connection, results: Connection, others: list[Connection],
           function: Callable[..., Any], initializer: Callable[[], None] | None) -> None:
    """A worker: run ``function`` on each task until the parent closes the task pipe."""
    for connection in others:  # the parent's ends of the other workers' pipes: not ours to hold
        connection.close()
    if initializer is not None:
        initializer()
    while True:
        try:
            task = tasks.recv()
        except EOFError:
            return
        try:
            answer: tuple[bool, Any] = (True, function(*task))
        except Exception as e:  # noqa: BLE001 - handed to the parent, which raises it
            answer = (False, e)
        try:
            results.send(answer)
        except Exception as e:  # noqa: BLE001 - a result or an exception that cannot be pickled
            results.send((False, RuntimeError(f"a worker could not send back its result: {type(e).__name__}: {e}")))


def _feed(tasks: Connection, outbox: queue.SimpleQueue[tuple[Any, ...] | None]) -> None:
    """Send a worker its tasks from a thread of its own: a large task the worker cannot read
    yet (it is busy writing a result) must not stop the parent from reading results."""
    try:
        while (task := outbox.get()) is not _STOP:
            tasks.send(task)
    except OSError:  # the worker died; the parent sees it on the result pipe
        pass
    finally:
        tasks.close()


class _Worker:
    def __init__(self, context: Any, function: Callable[..., Any], initializer: Callable[[], None] | None,
                 others: list[Connection]) -> None:
        task_reader, task_writer = multiprocessing.Pipe(duplex=False)
        result_reader, result_writer = multiprocessing.Pipe(duplex=False)
        self.process = context.Process(
            target=_serve, args=(task_reader, result_writer, [*others, task_writer, result_reader], function,
                                 initializer),
            daemon=True,
        )
        self.process.start()
        task_reader.close()
        result_writer.close()  # the worker holds the only write end: its death ends the pipe
        self.results = result_reader
        self.task_writer = task_writer
        self.outbox: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self.feeder = threading.Thread(target=_feed, args=(task_writer, self.outbox), daemon=True)
        self.in_flight: deque[int] = deque()

    def stop(self, *, gently: bool) -> None:
        self.outbox.put(_STOP)
        if not gently and self.process.is_alive():
            self.process.terminate()
        self.process.join(5 if gently else 2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        if self.feeder.is_alive():
            self.feeder.join(2)
        else:
            self.task_writer.close()
        self.results.close()


def ordered_results(
    function: Callable[..., Any],
    tasks: Iterable[tuple[Any, ...]],
    *,
    workers: int,
    initializer: Callable[[], None] | None = None,
    depth: int = 2,
) -> Generator[Any, None, None]:
    """``function(*task)`` for each task, computed by ``workers`` forked processes, yielded in
    the order of ``tasks``; at most ``depth`` tasks wait at each worker. The workers are forked
    at the first ``next()``, with the garbage collector's objects frozen meanwhile (fewer pages
    copied); ``initializer`` runs in each worker once. An exception
    raised by ``function`` is raised here in its turn. Closing the generator (or an exception in the
    caller) terminates the workers.

    :raises BrokenProcessPool: a worker died (killed, out of memory); what was yielded stands.
    """
    if workers < 1 or depth < 1:
        raise ValueError("workers and depth must be at least 1")
    context = multiprocessing.get_context("fork")
    pool: list[_Worker] = []
    gently = False
    try:
        gc.freeze()
        try:  # every worker forked before any thread of this module starts
            for _ in range(workers):
                others = [c for w in pool for c in (w.results, w.task_writer)]
                pool.append(_Worker(context, function, initializer, others))
        finally:
            gc.unfreeze()
        for worker in pool:
            worker.feeder.start()
        by_connection: dict[Any, _Worker] = {w.results: w for w in pool}
        done: dict[int, Any] = {}
        source = iter(tasks)
        given = handed_back = 0
        exhausted = False
        while True:
            while not exhausted:
                worker = min(pool, key=lambda w: len(w.in_flight))
                if len(worker.in_flight) >= depth:
                    break
                try:
                    task = next(source)
                except StopIteration:
                    exhausted = True
                    break
                worker.in_flight.append(given)
                worker.outbox.put(task)
                given += 1
            while handed_back in done:
                ok, value = done.pop(handed_back)
                if not ok:  # in its turn, after the results of the tasks before it
                    raise value
                yield value
                handed_back += 1
            if exhausted and handed_back == given:
                break
            for connection in wait([w.results for w in pool if w.in_flight]):
                worker = by_connection[connection]
                try:
                    answer = worker.results.recv()
                except (EOFError, OSError):
                    code = worker.process.exitcode
                    raise BrokenProcessPool(
                        f"a worker process stopped unexpectedly (exit code {code})" if code is not None
                        else "a worker process stopped unexpectedly"
                    ) from None
                done[worker.in_flight.popleft()] = answer
        gently = True
    finally:
        for worker in pool:
            worker.stop(gently=gently)
