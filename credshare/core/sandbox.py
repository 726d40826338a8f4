"""Running a parser on untrusted bytes in a small pool of resource-limited worker processes.

Why a separate process: a parser (pyHanko's, for PDFs) can be made to spend any amount of time
and memory by a small hostile file, in ways nobody listed yet. Inside the web process nothing
can stop it: a thread cannot be killed, and an address-space limit would apply to every
request. A worker process can be: it runs with an address-space limit (RLIMIT_AS) and a CPU
limit (RLIMIT_CPU) per task, and the caller kills it when its wall-clock time is up. Whatever
the file does, the caller gets an answer within `Limits.seconds` and the worker's memory never
grows past its limit; then the worker is gone and its memory with it.

Why a pool: starting a Python process that imports pyHanko costs about half a second (several
on a loaded machine), far more than a verification (a few milliseconds). Each web process
starts one "zygote" process that imports the task modules once and forks workers on request
(about 10 ms each); it keeps up to `POOL_SIZE` workers alive and sends them one task at a
time. A worker is retired after `MAX_TASKS` tasks (memory fragmentation) and after any
failure (killed, over a limit, crashed), and a replacement is forked at once. A task costs
the caller a few socket writes and reads on top of the work itself.

Workers are Django-free (`credshare.core.sandbox_worker`): tasks get bytes and JSON
parameters, may ask the caller questions (`answer`), and return JSON. A task that needs the
database asks for what it needs.
"""

import atexit
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from credshare.core.sandbox_worker import FRAME_HEADER, TooComplex

__all__ = ["Limits", "SandboxFailure", "TooComplex", "run"]

POOL_SIZE = 2  # workers per web process: tasks beyond this wait for one
MAX_TASKS = 500  # tasks a worker runs before it is replaced
START_SECONDS = 60.0  # a new worker's imports, on a loaded machine
# The modules the zygote imports before it forks workers (register_task_module): imported
# once there, not in every worker. A task's module not listed is imported by each worker at
# its first task.
_task_modules: list[str] = []


def register_task_module(module: str) -> None:
    """Have the workers import MODULE (where tasks live) before they run any task. Called by
    the modules that send tasks, at import, before the first task starts the zygote."""
    if module not in _task_modules:
        _task_modules.append(module)


MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds on one task. SECONDS: wall clock from sending the task to its answer (the caller
    kills the worker then). MEMORY: address space the task may add to the worker's, plus
    MEMORY_PER_INPUT_BYTE for each byte of input (a larger file legitimately needs more)."""

    seconds: float = 2.5
    memory: int = 80 * MiB
    memory_per_input_byte: int = 4

    def memory_for(self, data: bytes) -> int:
        return self.memory + self.memory_per_input_byte * len(data)


class SandboxFailure(Exception):  # noqa: N818 -- named as callers read it
    """A task raised an unexpected exception in the worker: a defect, not the input's size.
    DETAIL is the worker's traceback."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class _WorkerGone(Exception):
    """The worker ended (or stopped answering) during a task."""


def _worker_environment() -> dict[str, str]:
    # The workers import the same credshare as this process, wherever it was loaded from.
    import credshare

    root = str(Path(credshare.__file__).resolve().parent.parent)
    environment = dict(os.environ)
    path = environment.get("PYTHONPATH")
    environment["PYTHONPATH"] = root + (os.pathsep + path if path else "")
    return environment


class _Zygote:
    """The process that imports the task modules once and forks the workers
    (sandbox_worker.zygote)."""

    def __init__(self):
        self.control, theirs = socket.socketpair()
        with theirs:
            self.process = subprocess.Popen(  # noqa: S603 -- our own module, an argument list
                [
                    sys.executable,
                    "-m",
                    "credshare.core.sandbox_worker",
                    "--zygote",
                    str(theirs.fileno()),
                    *_task_modules,
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=_worker_environment(),
                pass_fds=[theirs.fileno()],
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def fork_worker(self) -> socket.socket:
        ours, theirs = socket.socketpair()
        with theirs:
            socket.send_fds(self.control, [b"w"], [theirs.fileno()])
        return ours

    def stop(self) -> None:
        self.control.close()  # the zygote ends when its control socket closes
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class _Worker:
    def __init__(self, connection: socket.socket):
        self.connection = connection
        self.tasks = 0
        self.pid: int | None = None
        self.pidfd: int | None = None
        self._buffer = bytearray()

    # -- reading with a deadline --------------------------------------------------------------

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        fd = self.connection.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        while len(self._buffer) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(remaining * 1000):
                raise _WorkerGone("time")
            try:
                chunk = self.connection.recv(max(65536, size - len(self._buffer)))
            except OSError as error:
                raise _WorkerGone("ended") from error
            if not chunk:
                raise _WorkerGone("ended")
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _read_message(self, deadline: float) -> dict:
        (length,) = FRAME_HEADER.unpack(self._read_exactly(FRAME_HEADER.size, deadline))
        return json.loads(self._read_exactly(length, deadline))

    def _write(self, payload: bytes) -> None:
        try:
            # MSG_NOSIGNAL: a worker that died must not take this process with it (SIGPIPE).
            self.connection.sendall(FRAME_HEADER.pack(len(payload)), socket.MSG_NOSIGNAL)
            self.connection.sendall(payload, socket.MSG_NOSIGNAL)
        except OSError as error:
            raise _WorkerGone("pipe") from error

    # -- a task -------------------------------------------------------------------------------

    def wait_ready(self) -> None:
        if self.pid is None:
            self.pid = int(self._read_message(time.monotonic() + START_SECONDS)["ready"])
            # A handle on the process itself, so that a kill never reaches a recycled pid.
            with contextlib.suppress(OSError, AttributeError):
                self.pidfd = os.pidfd_open(self.pid)

    def run(self, task: str, data: bytes, params: dict, answer, limits: Limits) -> dict:
        self.tasks += 1
        header = {
            "task": task,
            "params": params,
            "seconds": limits.seconds,
            "memory": limits.memory_for(data),
        }
        try:
            self._write(json.dumps(header).encode())
        except _WorkerGone:
            raise _WorkerGone("stale") from None  # it ended while idle, not for this input
        deadline = time.monotonic() + limits.seconds
        self._write(data)
        while True:
            message = self._read_message(deadline)
            if "question" in message:
                if answer is None:
                    raise SandboxFailure(f"{task} asked a question nobody answers")
                self._write(json.dumps(answer(message["question"])).encode())
                continue
            return message

    def stop(self) -> None:
        if self.pidfd is not None:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            os.close(self.pidfd)
            self.pidfd = None
        elif self.pid is not None:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
        self.connection.close()  # a worker not yet started ends when it sees this


class _Pool:
    def __init__(self):
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(POOL_SIZE)
        self.idle: list[_Worker] = []
        self.zygote: _Zygote | None = None

    def _new_worker(self) -> _Worker:
        # Called with the lock held.
        if self.zygote is None or not self.zygote.alive():
            if self.zygote is not None:
                self.zygote.stop()
            self.zygote = _Zygote()
        try:
            return _Worker(self.zygote.fork_worker())
        except OSError:
            self.zygote.stop()
            self.zygote = _Zygote()
            return _Worker(self.zygote.fork_worker())

    def take(self) -> _Worker:
        with self.lock:
            if self.idle:
                return self.idle.pop()
            try:
                return self._new_worker()
            except OSError as error:  # no process could be started: out of memory, of pids
                raise SandboxFailure(f"cannot start a sandbox worker: {error}") from error

    def give_back(self, worker: _Worker) -> None:
        if worker.tasks >= MAX_TASKS:
            self.replace(worker)
            return
        with self.lock:
            self.idle.append(worker)

    def replace(self, worker: _Worker) -> None:
        worker.stop()
        # Forked now, so that it is ready when the next task comes (or, failing that, when
        # the next task asks for one).
        with self.lock, contextlib.suppress(OSError):
            self.idle.append(self._new_worker())

    def close(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
            zygote, self.zygote = self.zygote, None
        for worker in idle:
            worker.stop()
        if zygote is not None:
            zygote.stop()


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def _current_pool() -> _Pool:
    """This process's pool; a forked child (a server's worker forked after the pool was made)
    starts its own rather than share its parent's pipes."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool.pid != os.getpid():
            _pool = _Pool()
        return _pool


def shutdown() -> None:
    """Stop this process's idle workers (at exit; tests)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None and pool.pid == os.getpid():
        pool.close()


atexit.register(shutdown)


def run(task: str, data: bytes, *, params: dict | None = None, answer=None, limits=None) -> dict:
    """The result of TASK ("module:function") run on DATA in a limited worker process.

    ANSWER(question) -> dict answers the task's questions, in this process (the task waits).
    Raises TooComplex when the task went over a limit (time, memory, CPU, or a bound of its
    own), or the worker died during it (a crash in a parser counts as too complex: the input
    got there); SandboxFailure when the task raised something unexpected."""
    limits = limits or Limits()
    pool = _current_pool()
    with pool.slots:
        for attempt in range(2):
            worker = pool.take()
            try:
                worker.wait_ready()
            except _WorkerGone:
                worker.stop()
                if attempt:
                    raise SandboxFailure("a sandbox worker did not start") from None
                continue
            try:
                message = worker.run(task, data, params or {}, answer, limits)
            except _WorkerGone as gone:
                pool.replace(worker)
                if str(gone) == "stale" and not attempt:
                    continue
                raise TooComplex(f"the worker {gone}") from None
            except BaseException:
                pool.replace(worker)
                raise
            break
        if "too_complex" in message:
            pool.replace(worker)
            raise TooComplex(message["too_complex"])
        if "error" in message:
            pool.replace(worker)
            raise SandboxFailure(message["error"])
        pool.give_back(worker)
        return message["result"]
