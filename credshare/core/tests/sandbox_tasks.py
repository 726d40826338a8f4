"""Tasks for the sandbox's own tests, run in its worker processes: each misbehaves in one way
a parser could."""

import os
import signal
import time


def echo(data: bytes, params: dict, ask) -> dict:
    answer = ask({"length": len(data)}) if params else None
    return {"length": len(data), "answer": answer, "pid": os.getpid()}


def allocate(data: bytes, params: dict, ask) -> dict:
    hoard = bytearray(params["bytes"])  # more than the memory limit allows
    return {"allocated": len(hoard)}


def spin(data: bytes, params: dict, ask) -> dict:
    while True:
        time.sleep(0.01)


def burn(data: bytes, params: dict, ask) -> dict:
    while True:
        pass


def crash(data: bytes, params: dict, ask) -> dict:
    os.kill(os.getpid(), signal.SIGSEGV)
    return {}


def fail(data: bytes, params: dict, ask) -> dict:
    raise RuntimeError("a defect")


def recurse(data: bytes, params: dict, ask) -> dict:
    def down(depth):
        return down(depth + 1) + 1

    return {"depth": down(0)}
