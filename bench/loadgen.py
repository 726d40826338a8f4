"""A small HTTP/1.1 load generator for the benchmarks: asyncio, raw keep-alive connections,
loopback only, bounded in requests and in time.

Debian's `wrk` is not a dependency of the project; this does the part of it the benchmarks
need. It runs in the benchmark's own process, so on a small machine it takes CPU from the
server it measures: bench/load.py says so in its reports.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

LOOPBACK = {"127.0.0.1", "::1"}
# A response larger than this is a bug of the benchmark, not a document.
MAX_BODY_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Target:
    """One request to make: a path and its extra headers (a session cookie, say)."""

    path: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class LoadResult:
    connections: int
    seconds: float
    latencies_ms: list[float]
    statuses: Counter
    body_bytes: int
    # Responses that were a 200 but failed the caller's check of the body.
    bad_bodies: int
    errors: list[str]

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def request_bytes(target: Target, host: str) -> bytes:
    lines = [f"GET {target.path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    lines += [f"{name}: {value}" for name, value in target.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, whether the server keeps the connection open)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers = {}
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        length = int(headers["content-length"])
        if length > MAX_BODY_BYTES:
            raise ValueError(f"response of {length} bytes")
        body = await reader.readexactly(length)
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(chunks)
    else:
        body = await reader.read(MAX_BODY_BYTES)
        return status, body, False
    return status, body, headers.get("connection", "").lower() != "close"


async def _load(
    *,
    host: str,
    port: int,
    targets: list[Target],
    connections: int,
    max_requests: int,
    max_seconds: float,
    body_ok: Callable[[bytes], bool] | None,
) -> LoadResult:
    requests = [request_bytes(target, f"{host}:{port}") for target in targets]
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors: list[str] = []
    counters = {"issued": 0, "bytes": 0, "bad": 0}
    started = time.perf_counter()
    deadline = started + max_seconds

    async def client() -> None:
        reader = writer = None
        while counters["issued"] < max_requests and time.perf_counter() < deadline:
            # Targets are taken in turn across all connections, so every one is hit alike.
            request = requests[counters["issued"] % len(requests)]
            counters["issued"] += 1
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                sent = time.perf_counter()
                writer.write(request)
                status, body, keep_alive = await read_response(reader)
                latencies.append((time.perf_counter() - sent) * 1000)
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                errors.append(f"{type(error).__name__}: {error}")
                if len(errors) > 100:
                    raise RuntimeError(f"too many errors, the first: {errors[0]}") from error
                writer = _close(writer)
                continue
            statuses[status] += 1
            counters["bytes"] += len(body)
            if status == 200 and body_ok is not None and not body_ok(body):
                counters["bad"] += 1
            if not keep_alive:
                writer = _close(writer)
        _close(writer)

    await asyncio.gather(*(client() for _ in range(connections)))
    return LoadResult(
        connections=connections,
        seconds=time.perf_counter() - started,
        latencies_ms=latencies,
        statuses=statuses,
        body_bytes=counters["bytes"],
        bad_bodies=counters["bad"],
        errors=errors,
    )


def _close(writer: asyncio.StreamWriter | None) -> None:
    if writer is not None:
        writer.close()


def run_load(
    *,
    port: int,
    targets: list[Target],
    connections: int,
    max_requests: int,
    max_seconds: float,
    host: str = "127.0.0.1",
    body_ok: Callable[[bytes], bool] | None = None,
) -> LoadResult:
    """Keep CONNECTIONS connections busy with TARGETS in turn until MAX_REQUESTS have been
    sent or MAX_SECONDS have passed, whichever comes first."""
    if host not in LOOPBACK:
        raise ValueError(f"the load generator only hits loopback, not {host!r}")
    if not targets or connections < 1 or max_requests < 1 or max_seconds <= 0:
        raise ValueError("needs targets, a connection, a request and some time")
    return asyncio.run(
        _load(
            host=host,
            port=port,
            targets=targets,
            connections=connections,
            max_requests=max_requests,
            max_seconds=max_seconds,
            body_ok=body_ok,
        )
    )
