"""``ssp-hub``: the command line (typer). See DESIGN.md §6 for the contract."""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from core.errors import HubError
from core.privacy.keys import provider_for
from core.settings import WORKER_STAGES, Settings
from hub.auth import ROLES, new_token
from hub.cli_audit import audit_app
from hub.cli_common import DataDirOpt, _fail, _settings
from hub.cli_policy import policy_diff
from hub.cli_retention import retention_app
from hub.cli_scrub import scrub
from hub.cli_subject_access import subject_access

if TYPE_CHECKING:
    from connectors.watch import WatchReport
    from hub.administration import Administration

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="SSP Hub: secure §115 integration hub for SSP work.")
users_app = typer.Typer(no_args_is_help=True, help="Principals and their tokens.")
keys_app = typer.Typer(no_args_is_help=True, help="Key material.")
policy_app = typer.Typer(no_args_is_help=True, help="The §115 policy file.")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(policy_app, name="policy")
app.add_typer(audit_app, name="audit")
app.add_typer(retention_app, name="retention")
connector_app = typer.Typer(no_args_is_help=True, help="Agency connectors (native formats).")
app.add_typer(connector_app, name="connector")
audit_app.command("subject-access")(subject_access)
app.command("scrub")(scrub)
policy_app.command("diff")(policy_diff)

MIN_PASSWORD = 8


QueueOpt = Annotated[list[str] | None, typer.Option("--queue", help="a queue (consultants)")]


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option("--role", help=f"one of: {', '.join(ROLES)}")],
    queue: QueueOpt = None,
    password: Annotated[bool, typer.Option("--password", help="also set a login password")]
    = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Create a principal and print its API token (the last line). Consultants need at least
    one --queue. Written to the disclosure log."""
    from hub.administration import check_queues

    settings = _existing_hub(data_dir)
    if role not in ROLES:
        _fail(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")
    queues = list(queue or [])
    _refused(check_queues, role, queues, _policy_queues(settings))
    pw_hash = _read_password() if password else None
    token = new_token()
    with _administration(settings) as admin:
        try:
            _refused(admin.add, name, role, queues, token, pw_hash)
        except Exception as exc:
            import sqlalchemy as sa

            if isinstance(exc, sa.exc.IntegrityError):
                _fail(f"a principal named {name!r} exists already")
            raise
    typer.echo(f"created {role} {name}" + (f" for queues {', '.join(queues)}" if queues else ""))
    typer.echo(token)


def _read_password() -> str:
    """A web password, argon2-hashed: prompted twice on a terminal, else one line from stdin
    (a script, a secret manager); at least MIN_PASSWORD characters."""
    from hub.web.sessions import hash_password

    if sys.stdin.isatty():
        secret = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    else:  # piped: one line, no confirmation
        secret = sys.stdin.readline().rstrip("\r\n")
    if len(secret) < MIN_PASSWORD:
        _fail(f"a web password must have at least {MIN_PASSWORD} characters "
              "(NIST SP 800-63B)")
    return hash_password(secret)


def _policy_queues(settings: Settings) -> tuple[str, ...]:
    from core.policy.evaluator import load_policy

    return tuple(load_policy(settings.resolved_policy_file).queues)


def _refused(change: Callable[..., Any], *args: Any) -> Any:
    """``change(*args)``; a broken rule (:class:`AdminRefused`) exits 2 with its message."""
    from hub.administration import AdminRefused

    try:
        return change(*args)
    except AdminRefused as exc:
        _fail(str(exc))


@contextlib.contextmanager
def _administration(settings: Settings) -> Iterator[Administration]:
    """The hub's store and disclosure log for changes made by whoever runs the command."""
    from core.store import Store
    from hub.administration import Administration
    from hub.cli_common import _admin_log, _operator

    store = Store.open(settings.resolved_database_url)
    try:
        yield Administration(store, _admin_log(settings, store), _operator())
    finally:
        store.close()


def _existing_hub(data_dir: Path | None) -> Settings:
    """The settings of a hub that exists: a principal written to a data dir nobody runs (a
    typo, the wrong working directory) would be a silent mistake, so without a database URL
    the data dir must be there already (``ssp-hub keys init`` or ``ssp-hub demo`` makes it)."""
    settings = _settings(data_dir)
    if settings.database_url is None and not settings.data_dir.is_dir():
        _fail(f"no hub data dir at {settings.data_dir}: give the hub's --data-dir DIR (or "
              "SSP_HUB_DATA_DIR); `ssp-hub keys init` or `ssp-hub demo` creates one")
    return settings


@users_app.command("list")
def users_list(data_dir: DataDirOpt = None) -> None:
    """Every principal: name, role, web login, disabled (since), queues (never a token)."""
    from core.store import Store

    store = Store.open(_existing_hub(data_dir).resolved_database_url)
    try:
        rows = store.list_principals()
    finally:
        store.close()
    width = max([4, *(len(a.name) for a in rows)])  # at least the header's
    typer.echo(f"{'NAME':<{width}}  {'ROLE':<16}  LOGIN  {'DISABLED':<10}  QUEUES")
    for a in rows:
        since = a.disabled_at.date().isoformat() if a.disabled_at else "no"
        typer.echo(f"{a.name:<{width}}  {a.role:<16}  {'yes' if a.login else 'no':<5}  "
                   f"{since:<10}  {','.join(a.queues) or '-'}")


@users_app.command("disable")
def users_disable(name: str, data_dir: DataDirOpt = None) -> None:
    """Refuse the principal's token and web login from now on, and end its web sessions
    (it stays, with its history; `users enable` undoes it). Written to the disclosure log."""
    with _administration(_existing_hub(data_dir)) as admin:
        changed = _refused(admin.set_disabled, name, True)
    typer.echo(f"disabled {name}: its token and web login are refused, its sessions ended"
               if changed else f"{name} is disabled already")


@users_app.command("enable")
def users_enable(name: str, data_dir: DataDirOpt = None) -> None:
    """Let a disabled principal in again (the same token and password). Logged."""
    with _administration(_existing_hub(data_dir)) as admin:
        changed = _refused(admin.set_disabled, name, False)
    typer.echo(f"enabled {name}" if changed else f"{name} is not disabled")


@users_app.command("passwd")
def users_passwd(name: str, data_dir: DataDirOpt = None) -> None:
    """Set a new web password (prompted twice on a terminal, else one line from stdin; at
    least 8 characters); the principal's web sessions end. Logged, never the password."""
    settings = _existing_hub(data_dir)
    with _administration(settings) as admin:
        _refused(admin.existing, name)
        pw_hash = _read_password()
        _refused(admin.set_password, name, pw_hash)
    typer.echo(f"new web password for {name}; its web sessions ended")


@users_app.command("set-queues")
def users_set_queues(name: str, queue: QueueOpt = None, data_dir: DataDirOpt = None) -> None:
    """Replace a consultant's queues with the --queue options given (at least one). Logged."""
    settings = _existing_hub(data_dir)
    queues = list(dict.fromkeys(queue or []))
    with _administration(settings) as admin:
        _refused(admin.set_queues, name, queues, _policy_queues(settings))
    typer.echo(f"{name}: queues {', '.join(queues) or '-'}")


@keys_app.command("init")
def keys_init(data_dir: DataDirOpt = None) -> None:
    """Create the key file (mode 0600) if it does not exist."""
    settings = _settings(data_dir)
    path = settings.resolved_key_file
    if path.exists():
        _fail(f"{path} exists already; refusing to overwrite keys")
    provider_for(settings, create=True).load()
    typer.echo(f"wrote {path} (mode 600)")
    typer.echo(f"wrote {settings.resolved_signing_key_file} (mode 600): the checkpoint "
               "signing key, apart from the data keys; publish its public key with "
               "`ssp-hub audit public-key`")


@keys_app.command("rotate")
def keys_rotate(
    data_dir: DataDirOpt = None,
    signing: Annotated[bool, typer.Option(
        "--signing", help="rotate the checkpoint signing key (only that) instead")] = False,
) -> None:
    """Start new key versions: HMAC for every pseudonym domain, and the AES data key.

    Old versions stay (they decrypt old payloads and vault entries). The vault is re-keyed:
    every identity gets its pseudonym under the new key, linked both ways to the old one, so
    the joint view keeps concerns from before and after the rotation together.

    With --signing: a new Ed25519 checkpoint signing key in the signing-key file. The old
    versions keep only their public keys (old checkpoints still verify); publish the new
    public key (`ssp-hub audit public-key`) so that auditors can pin it.
    """
    from core.privacy.keys import rotate_keyring
    from core.privacy.vault import rekey
    from core.store import Store

    settings = _settings(data_dir)
    provider = provider_for(settings, create=False)
    if signing:
        from core.ledger.auditlog import key_fingerprint, public_keys

        _old, new = provider.rotate_signing()
        kid = f"ed25519:{new.current['ed25519']}"
        typer.echo(f"signing key: {kid} in {provider.signing_path} (mode 600); fingerprint "
                   f"{key_fingerprint(public_keys(new)[kid])}")
        typer.echo("restart the worker and the API to sign with it; publish the new public "
                   "key (`ssp-hub audit public-key`) to auditors")
        return
    old = provider.load()
    new = rotate_keyring(old)
    store = Store.open(settings.resolved_database_url)
    try:
        # The vault first, the key file last: if re-keying fails, the key file is untouched
        # and the hub runs on as before (the command can simply be run again).
        report = rekey(store, new)
    finally:
        store.close()
    provider.write(new, replace=True)
    for name in sorted(new.current):
        if new.current[name] != old.current.get(name):
            typer.echo(f"{name}: version {old.current.get(name)} -> {new.current[name]}")
    typer.echo(f"vault: {report.entries} entries, {report.new_entries} new pseudonyms, "
               f"{report.links} links, {report.skipped} skipped (erased or unreadable)")
    typer.echo("restart the worker and the API to use the new keys; until then they keep "
               "using the old ones (their concerns are linked when the new worker sees the "
               "person again)")


@policy_app.command("test")
def policy_test(file: Annotated[Path | None, typer.Argument(help="policy file")] = None) -> None:
    """Run every rule's examples and print a table. Exit 1 if any fails."""
    from core.policy.evaluator import load_policy, run_examples

    path = file or Settings().resolved_policy_file
    try:
        policy = load_policy(path)
    except HubError as exc:
        _fail(str(exc))
        return
    results = run_examples(policy)
    typer.echo(f"policy {policy.doc.policy} {policy.version}")
    typer.echo(f"{'rule':32} {'#':>2} {'expected':28} {'got':28} result")
    for r in results:
        exp = r.expected.effect + ":" + (",".join(r.expected.queues or []) or
                                         (r.expected.reason or ""))
        got = r.got.effect + ":" + (",".join(r.got.queues) or (r.got.reason or ""))
        typer.echo(f"{r.rule_id:32} {r.index:>2} {exp:28} {got:28} "
                   f"{'ok' if r.passed else 'FAIL'}")
    from streams.aggregation import run_signal_examples

    signals = run_signal_examples(policy.doc.signals)
    for s in signals:
        exp, got = f"concerns:{s.expected}", f"concerns:{s.got}"
        typer.echo(f"{s.rule_id:32} {s.index:>2} {exp:28} {got:28} "
                   f"{'ok' if s.passed else 'FAIL'}")
    from core.policy.evaluator import run_generalise_examples

    generalised = run_generalise_examples(policy)
    for g in generalised:
        typer.echo(f"{'generalise ' + g.given:32} {g.index:>2} {g.expected:28} {g.got:28} "
                   f"{'ok' if g.passed else 'FAIL'}")
    total = len(results) + len(signals) + len(generalised)
    failed = (sum(not r.passed for r in results) + sum(not s.passed for s in signals)
              + sum(not g.passed for g in generalised))
    typer.echo(f"{total - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


@connector_app.command("watch")
def connector_watch(
    directory: Annotated[Path, typer.Argument(help="the drop folder")],
    connector: Annotated[str, typer.Option("--connector", help="e.g. school-absence")],
    api_url: Annotated[str | None, typer.Option("--api", help="the hub's API base URL")]
    = None,
    token_file: Annotated[Path | None, typer.Option(
        "--token-file", help="a file holding the agency's token (else SSP_HUB_CONNECTOR_TOKEN)")]
    = None,
    once: Annotated[bool, typer.Option("--once", help="one pass, then exit")] = False,
    settle: Annotated[float, typer.Option("--settle", help="seconds a file must be unchanged")]
    = 2.0,
    state_dir: Annotated[Path | None, typer.Option(
        "--state-dir", help="the watcher's own 0700 directory "
        "(default <data dir>/watch/<connector>-<folder hash>)")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Send files dropped into DIRECTORY to the hub, each exactly once; move them to done/
    with a .rejected report of refused records, and files the hub cannot take to rejected/.
    Exit 0; with --once, 3 if a file had to wait (hub unavailable, or not yet settled)."""
    from connectors.registry import CONNECTORS
    from connectors.watch import FileDropWatcher, UnsafeFolder, default_state_dir

    settings = _settings(data_dir)
    if connector not in CONNECTORS:
        _fail(f"unknown connector {connector!r}; known: {', '.join(sorted(CONNECTORS))}")
    if not directory.is_dir():
        _fail(f"{directory} is not a directory")
    if token_file is not None:
        token = token_file.read_text(encoding="utf-8").strip()
    elif settings.connector_token is not None:
        token = settings.connector_token.get_secret_value()
    else:
        _fail("no token: use --token-file or set SSP_HUB_CONNECTOR_TOKEN")
    url = api_url or f"http://{settings.api_host}:{settings.api_port}"
    try:
        watcher = FileDropWatcher(
            directory, connector, url, token, settle_s=settle,
            state_dir=state_dir or default_state_dir(settings.resolved_watch_state_dir,
                                                     connector, directory),
            retention_s=settings.drop_retention_days * 86400)
    except (UnsafeFolder, OSError) as exc:
        _fail(str(exc))

    def show(report: WatchReport) -> None:
        typer.echo(f"sent {report.sent} file(s): {report.accepted} records accepted, "
                   f"{report.refused} refused; {report.already_done} already done; "
                   f"{len(report.waiting)} waiting for the hub; {report.unsettled} not yet "
                   f"settled; {report.rejected} rejected (see {directory / 'rejected'})")
        if report.unavailable:
            typer.echo(report.unavailable)
        if report.errors:
            typer.echo(f"reasons: {', '.join(sorted(set(report.errors)))}")
    try:
        if once:
            report = watcher.run_once()
            show(report)
            _once_verdict(report, settle)
        else:
            watcher.run(on_report=show)
    except PermissionError as exc:
        _fail(str(exc))
    finally:
        watcher.close()


def _once_verdict(report: WatchReport, settle: float) -> None:
    """``connector watch --once``: exit 3, saying why on stderr, if a file is still there to
    send (the hub could not be reached — its address named — or a file has not settled yet),
    2 if the folder itself could not be read; else return (exit 0)."""
    if report.unavailable:
        _fail(f"{report.unavailable}; {len(report.waiting)} file(s) kept for the next run", 3)
    if report.waiting:
        _fail(f"{len(report.waiting)} file(s) could not be read and are kept for the next run "
              f"({', '.join(sorted(set(report.errors)))})", 3)
    if report.unsettled:
        _fail(f"{report.unsettled} file(s) not sent: changed less than {settle:g} s ago (still "
              "being written?); run again once they have settled", 3)
    if "folder_io_error" in report.errors:
        _fail("the drop folder could not be read (folder_io_error)")


def _connector_token(settings: Settings, token_file: Path | None) -> str:
    """The agency's token: from --token-file, else SSP_HUB_CONNECTOR_TOKEN (never argv)."""
    if token_file is not None:
        return token_file.read_text(encoding="utf-8").strip()
    if settings.connector_token is not None:
        return settings.connector_token.get_secret_value()
    _fail("no token: use --token-file or set SSP_HUB_CONNECTOR_TOKEN")
    raise AssertionError  # _fail exits


@connector_app.command("kafka")
def connector_kafka(
    connector: Annotated[str, typer.Option("--connector", help="e.g. police-doegnrapport")],
    topic: Annotated[str | None, typer.Option(
        "--topic", help="the agency's own topic (default native.<agency>.<connector>)")] = None,
    api_url: Annotated[str | None, typer.Option("--api", help="the hub's API base URL")]
    = None,
    token_file: Annotated[Path | None, typer.Option(
        "--token-file", help="a file holding the agency's token (else SSP_HUB_CONNECTOR_TOKEN)")]
    = None,
    group: Annotated[str | None, typer.Option("--group", help="consumer group id")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Consume an agency's native documents from its own topic and send them to the hub,
    committing only what the hub answered, then delete the forwarded records from the topic
    (DeleteRecords; the topic is created with SSP_HUB_NATIVE_RETENTION_MS as a second line of
    defence). Refused records go to <topic>.rejected, without their values."""
    from connectors.kafka_native import KafkaNativeConnector, native_topic
    from connectors.registry import CONNECTORS
    from core.logs import configure

    settings = _settings(data_dir)
    configure(settings.log_level)
    if connector not in CONNECTORS:
        _fail(f"unknown connector {connector!r}; known: {', '.join(sorted(CONNECTORS))}")
    token = _connector_token(settings, token_file)
    native = KafkaNativeConnector(
        bootstrap_servers=settings.bootstrap_servers, topic=topic or native_topic(connector),
        connector=connector, token=token,
        api_url=api_url or f"http://{settings.api_host}:{settings.api_port}",
        group_id=group, replication_factor=settings.replication_factor,
        partitions=settings.topic_partitions, retention_ms=settings.native_retention_ms)
    try:
        asyncio.run(native.run())
    except PermissionError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        pass


@app.command("worker")
def worker(
    data_dir: DataDirOpt = None,
    stages: Annotated[str | None, typer.Option(
        "--stages", help="Comma-separated stages this process runs: "
        + ", ".join(WORKER_STAGES) + " (default: all). Run as many workers of each as you "
        "like: each stage is a consumer group they share; sequencing and retention run in "
        "one worker at a time.")] = None,
) -> None:
    """Run the stream processor until stopped (a faust worker when it runs the aggregator)."""
    import faust
    from pydantic import ValidationError

    from core.bus.topics import ensure_topics
    from core.logs import configure
    from core.policy.evaluator import load_policy
    from streams.app import create_stream_app, run_stages

    try:
        settings = _settings(data_dir, worker_stages=stages)
    except ValidationError as exc:
        _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
        raise  # unreachable: _fail exits
    configure(settings.log_level)
    asyncio.run(ensure_topics(settings, load_policy(settings.resolved_policy_file).queues))
    if "aggregate" not in settings.stages:
        _run_until_signalled(run_stages(settings))
        return
    stream_app = create_stream_app(settings)
    level = {"warning": "warn", "critical": "crit"}.get(settings.log_level, settings.log_level)
    runner = faust.Worker(stream_app, loglevel=level, quiet=True)
    # No terminal spinner: it sets the root logger to DEBUG, so every aiokafka send builds a
    # debug record (~4 % of the worker's CPU), and it writes escape codes into the log.
    runner.spinner = None
    runner.execute_from_commandline()


def _run_until_signalled(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` until it ends or SIGTERM/SIGINT arrives, then cancel it (its ``finally``
    blocks run: consumers leave their groups at once, the producer flushes)."""
    async def supervise() -> None:
        task = asyncio.ensure_future(main)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task
    asyncio.run(supervise())


@app.command("api")
def api(data_dir: DataDirOpt = None,
        port: Annotated[int | None, typer.Option("--port")] = None) -> None:
    """Run the HTTP API (uvicorn) until stopped."""
    import uvicorn

    from core.logs import configure
    from hub.api import create_api

    settings = _settings(data_dir, api_port=port)
    configure(settings.log_level)
    uvicorn.run(create_api(settings), host=settings.api_host, port=settings.api_port,
                log_level="warning")


@app.command("demo")
def demo(
    no_sample_data: Annotated[bool, typer.Option("--no-sample-data")] = False,
    port: Annotated[int, typer.Option("--port")] = 8000,
    data_dir: Annotated[Path, typer.Option("--data-dir")] = Path("ssp-hub-demo"),
) -> None:
    """Start the embedded stack (tansu broker, worker, API) with sample data."""
    from hub.demo import run_demo

    sys.exit(run_demo(data_dir=data_dir, port=port, sample_data=not no_sample_data))


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    # A crash below Python (the compiled scrubber, a driver) or a fatal signal writes the
    # stacks (file, line and function names only; no values) to stderr, which is the
    # process's log: a worker that vanishes says where it was.
    faulthandler.enable()
    try:
        app()
    except HubError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
