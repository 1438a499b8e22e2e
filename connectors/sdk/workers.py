"""Batches through the pipeline's stages, in worker processes once an increment is large.

The connector's own process reads and publishes; mapping, validating, protecting PII and
encoding cost more than publishing, so a large increment hands them to worker processes and
both halves run at once on two cores. Batches come back in source order, so the runner still
publishes, waits for the broker and saves the cursor one batch after the other.

A worker costs about half a second of start-up, so workers start only once an increment has
passed `POOL_AFTER_ROWS` rows (a demo's or a test's sources stay in one process), and batches
keep running in the connector's own process until the workers are ready. A worker is a plain
`python -c` child talking pickles over its stdin and stdout (POSIX systems): it needs nothing of
the parent's `__main__`, and it exits as soon as its parent is gone (stdin closes), even after
a SIGKILL."""

from __future__ import annotations

import logging
import os
import pickle
import queue
import select
import signal
import subprocess
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from carehub.errors import CarehubError
from connectors.sdk.pipeline import EncodedBatch, StagePlan, Stages
from connectors.sdk.record import Envelope
from connectors.sdk.sources import Batch

log = logging.getLogger("carehub.connect")

#: Rows an increment must pass before worker processes start.
POOL_AFTER_ROWS = 10_000
#: How long a batch waits for starting workers before it runs in the connector's own process.
READY_WAIT_S = 0.0
#: Batches handed to the workers ahead of the one being published, per worker.
AHEAD_PER_WORKER = 2
#: Pipe buffer asked of Linux for jobs and answers (its default is 64 KiB): a batch of a few
#: thousand rows then goes in one write, without waiting for the worker to read it.
PIPE_BYTES = 1 << 20
#: The most workers `workers: auto` starts. A worker needs about half again the CPU per record
#: that the connector's own process needs to read and publish it (34 against 23 µs on Kafka), so
#: one worker leaves the connector waiting; a third would wait for the connector.
AUTO_MAX = 2

READY, DONE, FAILED = "ready", "done", "failed"


class WorkerFailed(CarehubError):
    """A worker process died or hit an error it could not turn into a rejected row."""


def auto_workers(cpus: int | None) -> int:
    """Worker processes for `workers: auto`: one per core, at most AUTO_MAX; none on a single
    core, where they could only take turns with the connector, or off POSIX systems, whose
    pipes `select` cannot watch."""
    cores = cpus or 1
    return min(cores, AUTO_MAX) if cores > 1 and os.name == "posix" else 0


class WorkerProcess:
    """One child running `serve()` for one plan; jobs and answers are pickles, answered in order."""

    def __init__(self, plan: StagePlan):
        # The child finds carehub where this process found it, installed or not.
        path = os.pathsep.join(os.path.abspath(p) for p in sys.path if p)
        self._child = subprocess.Popen(
            [sys.executable, "-c", "from connectors.sdk.workers import serve; serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": path},
        )
        for pipe in (self._child.stdin, self._child.stdout):
            _widen(pipe)
        self._send(plan)
        self.ready = False

    def poll_ready(self, wait_s: float) -> bool:
        """Whether the child has built its stages, waiting at most `wait_s` to know."""
        if not self.ready and select.select([self._child.stdout], [], [], wait_s)[0]:
            self._answer(READY)
            self.ready = True
        return self.ready

    def submit(self, rows: list[dict[str, str | None]], envelope: Envelope) -> None:
        self._send((rows, envelope))

    def result(self) -> EncodedBatch:
        """The answer to the oldest job not yet answered."""
        return self._answer(DONE)

    def close(self) -> None:
        """Stop the child, answers not yet read included (it exits on the closed pipes)."""
        for pipe in (self._child.stdin, self._child.stdout):
            try:
                pipe.close()
            except BrokenPipeError:
                pass
        try:
            self._child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()

    def _send(self, message: object) -> None:
        try:
            pickle.dump(message, self._child.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._child.stdin.flush()
        except BrokenPipeError:
            raise self._died() from None

    def _answer(self, expected: str) -> Any:
        try:
            kind, body = pickle.load(self._child.stdout)
        except (EOFError, pickle.UnpicklingError):
            raise self._died() from None
        if kind == FAILED:
            raise WorkerFailed(f"a connector worker process failed ({body}); its traceback is printed above it")
        if kind != expected:
            raise WorkerFailed(f"a connector worker process answered {kind!r} where {expected!r} was due")
        return body

    def _died(self) -> WorkerFailed:
        return WorkerFailed(f"a connector worker process exited (code {self._child.wait()}); "
                            "set workers: 0 in the connector YAML to keep every stage in one process")


class BatchStages:
    """Runs each batch through the stages here or in worker processes; yields (batch, encoded
    batch) in source order. Use as a context manager: leaving it stops the workers."""

    def __init__(self, name: str, plan: StagePlan, envelope: Callable[[], Envelope], workers: int):
        self._name, self._plan, self._envelope, self._workers = name, plan, envelope, workers
        self._stages = Stages(plan)
        self._pool: list[WorkerProcess] = []
        self.workers_used = 0

    def __enter__(self) -> BatchStages:
        return self

    def __exit__(self, *exc: object) -> None:
        for worker in self._pool:
            worker.close()
        self._pool = []

    def encoded(self, batches: Iterable[Batch]) -> Iterator[tuple[Batch, EncodedBatch]]:
        ahead: deque[tuple[Batch, WorkerProcess]] = deque()
        rows_seen, turn = 0, 0
        for batch in batches:
            if rows_seen >= POOL_AFTER_ROWS and self._workers and not self._pool:
                log.info("%s: %d rows read; starting %d worker process(es)", self._name, rows_seen, self._workers)
                self._pool = [WorkerProcess(self._plan) for _ in range(self._workers)]
            rows = [row.values for row in batch.rows]
            if self._pool_ready():
                worker = self._pool[turn % len(self._pool)]
                turn += 1
                worker.submit(rows, self._envelope())
                ahead.append((batch, worker))
                while len(ahead) > len(self._pool) * AHEAD_PER_WORKER:
                    done, worker = ahead.popleft()
                    yield done, worker.result()
            else:
                yield batch, self._stages.run(rows, self._envelope())
            rows_seen += len(batch.rows)
        while ahead:
            done, worker = ahead.popleft()
            yield done, worker.result()

    def _pool_ready(self) -> bool:
        if not self.workers_used:
            if not self._pool or not all(worker.poll_ready(READY_WAIT_S) for worker in self._pool):
                return False
            self.workers_used = len(self._pool)
            log.info("%s: mapping, validating, protecting and encoding in %d worker process(es)",
                     self._name, self.workers_used)
        return True


def _widen(pipe: IO[bytes]) -> None:
    """Ask for PIPE_BYTES of pipe buffer where the system allows it (Linux); else keep the default."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


def serve() -> None:
    """A worker's life: read the plan from stdin, answer READY, then answer each job in order
    until the parent closes our stdin or dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent stops us
    jobs, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the answers
    inbox: queue.SimpleQueue = queue.SimpleQueue()
    # Reading in a thread of its own, so the parent is never stuck writing while we write.
    threading.Thread(target=_read_all, args=(jobs, inbox), daemon=True).start()

    def answer(kind: str, body: object) -> None:
        pickle.dump((kind, body), answers, protocol=pickle.HIGHEST_PROTOCOL)
        answers.flush()

    try:
        if (plan := inbox.get()) is not None:
            stages = Stages(plan)
            answer(READY, None)
            while (job := inbox.get()) is not None:
                answer(DONE, stages.run(*job))
    except BrokenPipeError:
        pass  # the parent is gone: no one to answer
    except Exception as exc:  # noqa: BLE001 - a bug, not a bad row: the parent stops the run
        traceback.print_exc()
        try:
            answer(FAILED, f"{type(exc).__name__}: {exc}".splitlines()[0])
        except BrokenPipeError:
            pass
    os._exit(0)  # nothing to tidy up: skip the interpreter's teardown, the parent waits for it


def _read_all(jobs: IO[bytes], inbox: queue.SimpleQueue) -> None:
    """Every job the parent sends, then None once it closes our stdin or dies mid-message."""
    try:
        while True:
            inbox.put(pickle.load(jobs))
    except (EOFError, pickle.UnpicklingError):
        inbox.put(None)
