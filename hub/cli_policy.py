"""``ssp-hub policy diff NEW.yaml``: what a proposed policy version would have decided
differently over the last days (``hub/policy_diff.py``). Counts and event ids only, never
event content. A proposed file that does not load exits 2 with the loader's error, which names
the field and its line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from core.errors import HubError
from hub.cli_common import DataDirOpt, _fail, _settings
from hub.policy_diff import DEFAULT_DAYS, MAX_DAYS, PolicyDiff


def policy_diff(
    new: Annotated[Path, typer.Argument(help="the proposed policy file (YAML)",
                                        metavar="NEW.yaml", show_default=False)],
    days: Annotated[int, typer.Option("--days", min=1, max=MAX_DAYS,
                                      help="replay the decisions of this many days")]
    = DEFAULT_DAYS,
    data_dir: DataDirOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the diff as JSON")] = False,
) -> None:
    """Replay the stored decisions of the last N days against a proposed policy and show,
    per rule and queue, which events would change outcome. Nothing is changed."""
    from core.policy.evaluator import load_policy
    from core.store import Store
    from hub.policy_diff import policy_diff as replay

    settings = _settings(data_dir)
    try:
        proposed = load_policy(new)
    except HubError as exc:
        _fail(f"the proposed policy is not valid: {exc}")
        return
    if settings.database_url is None and not settings.data_dir.is_dir():
        _fail(f"no hub data dir at {settings.data_dir}: give the hub's --data-dir DIR (or "
              "SSP_HUB_DATA_DIR)")
    try:
        current = load_policy(settings.resolved_policy_file)
    except HubError as exc:
        _fail(f"the current policy does not load: {exc}")
        return
    store = Store.open(settings.resolved_database_url)
    try:
        diff = replay(store, current, proposed, days=days)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(diff.as_json(), indent=2))
    else:
        for line in diff_lines(diff):
            typer.echo(line)


def diff_lines(diff: PolicyDiff) -> list[str]:
    """The diff as text: the summary, then each change with its event ids, per rule, per
    queue."""
    lines = [
        f"proposed policy {diff.proposed_version}",
        f"current policy  {diff.current_version}",
        f"decisions from {diff.since:%Y-%m-%d %H:%M} to {diff.until:%Y-%m-%d %H:%M} UTC "
        f"({diff.days} days): {diff.replayed} replayed, {diff.changed} would change, "
        f"{diff.replayed - diff.changed} unchanged",
    ]
    if diff.not_replayable:
        lines.append(f"{diff.not_replayable} decided before the hub stored decision inputs "
                     "(migration 0011_decision_inputs): not replayable")
    if diff.failing_examples:
        lines.append(f"the proposal's own examples fail: {', '.join(diff.failing_examples)} "
                     "(`ssp-hub policy test NEW.yaml` shows them)")
    if not diff.changes:
        lines.append("no event would change outcome")
        return lines
    lines += ["", "changes:"]
    for change in diff.changes:
        lines.append(f"  {len(change.event_ids):>6}  {change.before.describe()}  ->  "
                     f"{change.after.describe()}")
        lines += [f"          {ident}" for ident in change.event_ids]
    lines += ["", "per rule (among the changed events):"]
    lines += [f"  {r.rule_id:32} would now decide {len(r.newly)}, "
              f"no longer {len(r.no_longer)}" for r in diff.rules]
    lines += ["", "per queue:"]
    lines += [f"  {q.queue:32} would gain {len(q.gained)}, lose {len(q.lost)}"
              for q in diff.queues]
    if not diff.queues:
        lines.append("  (no queue would receive a different set of events)")
    return lines
