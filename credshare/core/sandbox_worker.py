"""The worker side of `credshare.core.sandbox`: processes that run tasks on untrusted bytes
under resource limits, one at a time, and answer over a Unix socket.

Django-free on purpose: it holds no database connection, settings or secret. The parent starts
`python -m credshare.core.sandbox_worker --zygote FD MODULE...`, which imports the modules the
tasks live in and then forks one worker for each socket the parent sends it.

The protocol, both ways, is frames: a 4-byte big-endian length, then that many bytes. The
parent sends a JSON header {"task": "module:function", "params": {...}, "seconds": s,
"memory": bytes} and a frame of data; the task may ask the parent questions (a {"question"}
frame answered by one JSON frame) and ends with one of {"result": ...}, {"too_complex":
reason}, {"error": traceback}. JSON only, never pickle: what this process says must not be
able to run code in the parent even if a parser bug let the input take it over.
"""

import importlib
import json
import logging
import math
import os
import resource
import signal
import socket
import struct
import sys
import traceback
from collections.abc import Callable

FRAME_HEADER = struct.Struct(">I")
TASK_PREFIX = "credshare."


class TooComplex(Exception):  # noqa: N818 -- a verdict on the input, named as callers read it
    """The input exceeds a bound on its structure (objects, revisions, pages, decoded bytes,
    nesting): refuse it rather than spend more on it."""


def write_frame(stream, payload: bytes) -> None:
    stream.write(FRAME_HEADER.pack(len(payload)) + payload)
    stream.flush()


def read_frame(stream) -> bytes | None:
    header = stream.read(FRAME_HEADER.size)
    if len(header) < FRAME_HEADER.size:
        return None
    (length,) = FRAME_HEADER.unpack(header)
    payload = stream.read(length)
    if len(payload) < length:
        return None
    return payload


def _address_space() -> int:
    with open("/proc/self/statm", "rb") as statm:
        pages = int(statm.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


def _limit_task(seconds: float, memory: int) -> None:
    """Bounds for the next task: MEMORY more bytes of address space than now, and SECONDS of
    CPU (rounded up) more than used so far. Over the first, allocations fail (MemoryError);
    over the second, the kernel ends the process (SIGXCPU). The parent's wall clock is the
    bound that holds whatever else happens (a task that sleeps, waits, or loops in C)."""
    resource.setrlimit(resource.RLIMIT_AS, (_address_space() + memory, resource.RLIM_INFINITY))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    resource.setrlimit(
        resource.RLIMIT_CPU, (math.ceil(used) + math.ceil(seconds) + 1, resource.RLIM_INFINITY)
    )


def _unlimit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def _task(name: str) -> Callable:
    module_name, _, function_name = name.partition(":")
    if not module_name.startswith(TASK_PREFIX):
        raise ValueError(f"not a credshare task: {name}")
    return getattr(importlib.import_module(module_name), function_name)


def serve(reader, writer) -> None:
    def send(message: dict) -> None:
        write_frame(writer, json.dumps(message).encode())

    def ask(question: dict) -> dict:
        send({"question": question})
        answer = read_frame(reader)
        if answer is None:
            raise SystemExit(0)
        return json.loads(answer)

    send({"ready": os.getpid()})
    while True:
        header = read_frame(reader)
        data = read_frame(reader) if header is not None else None
        if data is None:
            return  # the parent closed the pipe: it is done with us
        request = json.loads(header)
        exit_after = False
        try:
            task = _task(request["task"])
            _limit_task(request["seconds"], request["memory"])
            try:
                reply = {"result": task(data, request.get("params") or {}, ask)}
            finally:
                _unlimit()
        except TooComplex as error:
            reply = {"too_complex": str(error) or "too complex"}
        except MemoryError:
            reply, exit_after = {"too_complex": "memory"}, True
        except RecursionError:
            reply = {"too_complex": "nesting"}
        except Exception:
            reply = {"error": traceback.format_exc(limit=20)}
        del data
        send(reply)
        if exit_after:
            # After a MemoryError the heap may be in any state: start afresh.
            return


def _serve_socket(connection: socket.socket) -> None:
    with connection, connection.makefile("rb") as reader, connection.makefile("wb") as writer:
        serve(reader, writer)


def zygote(control: socket.socket) -> None:
    """Fork a worker for every socket the parent sends over CONTROL; end when it closes.

    A worker forked from here starts with pyHanko already imported (about 10 ms, where a new
    interpreter takes half a second, several on a loaded machine), so that replacing a worker
    after every failure stays cheap. This process runs no task itself and stays
    single-threaded, so that forking it is safe."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped by the kernel
    while True:
        try:
            message, fds, _flags, _address = socket.recv_fds(control, 16, 1)
        except OSError:
            return
        if not message:
            return  # the parent is gone
        for fd in fds:
            if os.fork() == 0:
                try:
                    control.close()
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    _serve_socket(socket.socket(fileno=fd))
                finally:
                    os._exit(0)
            os.close(fd)


def main(argv: list[str]) -> None:
    """`--zygote FD MODULE...`: import MODULEs, then fork workers on request (see zygote)."""
    # pyHanko logs what it repairs in damaged files; for untrusted input that is noise.
    logging.disable(logging.CRITICAL)
    # Anything a library prints goes to stderr rather than into a frame.
    sys.stdout = sys.stderr
    if argv[:1] != ["--zygote"]:
        raise SystemExit("usage: python -m credshare.core.sandbox_worker --zygote FD MODULE...")
    control = socket.socket(fileno=int(argv[1]))
    for module in argv[2:]:
        importlib.import_module(module)
    zygote(control)


if __name__ == "__main__":
    # Run from the module imported under its own name, so that the task modules and this
    # loop share one TooComplex class (not __main__'s copy).
    from credshare.core import sandbox_worker

    sandbox_worker.main(sys.argv[1:])
