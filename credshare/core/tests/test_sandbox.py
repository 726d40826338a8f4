"""The sandbox holds its bounds whatever a task does (credshare.core.sandbox): over its time,
memory or CPU, crashed, or too deep, a task is "too complex", and the next task is served by
a fresh worker; a defect is reported as one."""

import select
import signal

import pytest

from credshare.core import sandbox

TASKS = "credshare.core.tests.sandbox_tasks"


def run(task: str, data: bytes = b"data", **kwargs):
    return sandbox.run(f"{TASKS}:{task}", data, **kwargs)


def test_a_task_gets_the_data_and_its_questions_are_answered():
    result = run("echo", b"12345", params={"ask": True}, answer=lambda q: {"seen": q["length"]})

    assert (result["length"], result["answer"]) == (5, {"seen": 5})


@pytest.mark.parametrize(
    "task, params, limits",
    [
        ("allocate", {"bytes": 1024**3}, None),
        ("spin", {}, sandbox.Limits(seconds=0.5)),
        ("burn", {}, sandbox.Limits(seconds=0.5)),
        ("crash", {}, None),
        ("recurse", {}, None),
    ],
)
def test_a_task_over_a_bound_is_too_complex_and_the_next_one_is_served(task, params, limits):
    with pytest.raises(sandbox.TooComplex):
        run(task, params=params, limits=limits)

    assert run("echo", b"after")["length"] == 5


def test_a_task_that_raises_is_a_failure_with_its_traceback():
    with pytest.raises(sandbox.SandboxFailure) as failure:
        run("fail")

    assert "RuntimeError: a defect" in failure.value.detail
    assert run("echo")["length"] == 4


def test_only_credshare_tasks_run():
    with pytest.raises(sandbox.SandboxFailure):
        sandbox.run("os:system", b"true")


def test_a_worker_dead_while_idle_is_replaced_without_failing_the_task():
    run("echo")
    idle = sandbox._current_pool().idle
    assert idle
    for worker in idle:
        signal.pidfd_send_signal(worker.pidfd, signal.SIGKILL)
        select.select([worker.pidfd], [], [], 5)  # readable once the process has ended

    assert run("echo")["length"] == 4


def test_a_worker_is_reused_then_replaced_after_its_quota_of_tasks(monkeypatch):
    monkeypatch.setattr(sandbox, "POOL_SIZE", 1)
    monkeypatch.setattr(sandbox, "MAX_TASKS", 3)
    monkeypatch.setattr(sandbox, "_pool", None)  # a pool of one worker for this test

    pids = [run("echo")["pid"] for _ in range(4)]

    assert pids[0] == pids[1] == pids[2] != pids[3]
    sandbox.shutdown()
