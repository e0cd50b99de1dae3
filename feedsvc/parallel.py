"""Work on every core, for batches of thousands of files: worker processes kept between refreshes.

Only large batches use them (a first build, a big drop of files, the stat of a large archive);
a refresh of a few files stays in one process, where sending work away costs more than it saves.
Whatever goes wrong with a worker, the work is done anyway: in this process, more slowly.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import select
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

log = logging.getLogger(__name__)

#: A batch of at least this many files goes to the worker processes, when there are any; for
#: fewer, sending the work away costs more than it saves.
PARALLEL_FROM = 2000
#: Each worker is a Python process of some 30 MB. Beyond a few, a build waits on the one
#: process that identifies and stores what they read, not on them.
MAX_WORKERS = 4
#: Results each worker may have ready before the consumer takes them. The consumer stalls
#: now and then (a cold build sends its rows to SQLite 1,000 at a time, ~8 ms each): with two
#: per worker the workers stopped then too: reading a 10k cold build took 1.15x as long.
AHEAD = 8

Item = TypeVar("Item")
Result = TypeVar("Result")


def cores() -> int:
    """The cores this process may run on (a container may be given fewer than the machine's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Workers:
    """Up to `count` worker processes, started at first use and kept until `close`."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._pool: ProcessPoolExecutor | None = None
        self._forked = False
        #: which workers each task went to: a failure collected after they were replaced must
        #: not bring down their successors (with work of theirs in flight)
        self._pool_of: WeakKeyDictionary[Future[Any], ProcessPoolExecutor] = WeakKeyDictionary()

    @property
    def forked(self) -> bool:
        """Running, and forked from this process: they have every module it had imported."""
        return self._pool is not None and self._forked

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def submit(self, function: Callable[[Item], Result], item: Item) -> Future[Result]:
        """Run `function(item)` in a worker; in this process if no worker can be started."""
        try:
            pool = self._started()
            future = pool.submit(function, item)
        except (BrokenProcessPool, OSError) as e:
            self._broken(e)
            done: Future[Result] = Future()
            done.set_result(function(item))
            return done
        self._pool_of[future] = pool
        return future

    def result(
        self, future: Future[Result], function: Callable[[Item], Result], item: Item
    ) -> Result:
        """What a worker answered for `function(item)`; done here if the worker died (or the
        task was cancelled when its workers were found broken)."""
        try:
            return future.result()
        except (BrokenProcessPool, CancelledError) as e:
            if self._pool is not None and self._pool_of.get(future) is self._pool:
                self._broken(e)
            return function(item)

    def map(self, function: Callable[[Item], Result], items: Iterable[Item]) -> Iterator[Result]:
        """`map(function, items)` run by the workers, in order.

        At most `AHEAD` results per worker wait for the consumer: however far the workers get
        ahead, memory stays bounded (a 100k-file build never holds the archive in memory).
        """
        pending: deque[tuple[Future[Result], Item]] = deque()
        for item in items:
            pending.append((self.submit(function, item), item))
            if len(pending) >= AHEAD * self.count:
                future, asked = pending.popleft()
                yield self.result(future, function, asked)
        while pending:
            future, asked = pending.popleft()
            yield self.result(future, function, asked)

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # fork starts a worker in a millisecond, but is safe only where no other thread
            # runs (`feedsvc build`); a service runs threads, so its workers come from a clean
            # server process that has imported feedsvc once.
            method = "fork" if threading.active_count() == 1 else "forkserver"
            self._forked = method == "fork"
            context = multiprocessing.get_context(method)
            if method == "forkserver":
                context.set_forkserver_preload(["feedsvc.corpus"])
            self._pool = ProcessPoolExecutor(
                self.count, mp_context=context, initializer=_end_with, initargs=(os.getpid(),)
            )
        return self._pool

    def _broken(self, error: BaseException) -> None:
        log.warning("worker processes failed (%s); this work is done in-process instead", error)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _end_with(parent: int) -> None:
    """In each worker: exit when the process that started the workers is gone.

    A refresher stopped by SIGTERM or SIGKILL runs no cleanup, and the workers of a pool (and a
    fork server, which they keep open) would otherwise wait for work forever, one set more at
    every restart of the service. A SIGTERM ends a worker at once, as it ends any process by
    default: the refresher's own handler, forked with it, is not theirs; and a terminal's
    Ctrl-C, which reaches the workers too, is the refresher's to take (a worker interrupted
    failed the refresh under way, or left it waiting for its result).
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        handle = os.pidfd_open(parent)
    except ProcessLookupError:
        # Gone before this worker started (killed while the pool was growing): nobody will
        # send work, and a worker left waiting keeps the fork server alive too.
        os._exit(0)
    except (AttributeError, OSError):
        return  # no pidfd here (Linux 5.3+): the workers end with the refresher's normal exit

    def wait() -> None:
        select.select([handle], [], [])  # readable once the parent has exited
        os._exit(0)

    threading.Thread(target=wait, name="end-with-parent", daemon=True).start()
