"""`ssp-hub demo` stops promptly even when a drop-folder upload hangs (issue 13 §11)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from hub.embedded import die_with_parent

HANGING = textwrap.dedent("""
    import asyncio, contextlib, time
    from hub.demo import {runner}

    async def main() -> None:
        task = asyncio.create_task({call})   # an upload that never returns
        await asyncio.sleep(0.3)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        print("stopped", flush=True)

    asyncio.run(main())
""")


def _exit_time(runner: str, call: str) -> float:
    script = HANGING.format(runner=runner, call=call)
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, check=True)
    assert "stopped" in out.stdout
    return time.monotonic() - start


def test_a_hanging_call_in_the_demos_thread_does_not_keep_it_from_exiting() -> None:
    elapsed = _exit_time("in_daemon_thread", "in_daemon_thread(lambda: time.sleep(40))")
    # (with asyncio.to_thread, as before, the interpreter waits the whole 40 s at exit)

    assert elapsed < 15, f"exit took {elapsed:.1f}s"


def test_in_daemon_thread_returns_the_result_and_raises_the_error() -> None:
    import asyncio

    from hub.demo import in_daemon_thread

    def boom() -> int:
        raise ValueError("x")

    async def main() -> tuple[int, str]:
        value = await in_daemon_thread(lambda: 41 + 1)
        try:
            await in_daemon_thread(boom)
        except ValueError as exc:
            return value, str(exc)
        return value, ""

    assert asyncio.run(main()) == (42, "x")


def test_a_child_started_with_die_with_parent_dies_when_the_parent_is_killed() -> None:
    # The parent starts a long sleep with the demo's preexec_fn, prints its pid, and hangs.
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import subprocess, sys, time
        from hub.embedded import die_with_parent
        child = subprocess.Popen(["sleep", "60"], start_new_session=True,
                                 preexec_fn=die_with_parent())
        print(child.pid, flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert die_with_parent() is not None

    parent.kill()
    parent.wait(10)

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.1)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False
