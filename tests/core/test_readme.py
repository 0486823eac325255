"""Every code block of the README runs as written.

Blocks are taken from ``README.md`` in order. ``python`` blocks run in a fresh interpreter,
``bash`` blocks in ``bash -e``, both in a temporary folder that links the repository's
top-level entries (so relative paths resolve and files they write land there), with
``$LIF_BRIDGE_CACHE`` pointing into it; ``toml`` blocks must parse; blocks without a
language are pictures (diagrams, trees) and are not run.

An HTML comment on the line before a block marks it: ``<!-- readme-test: torch -->`` (or
``slow``, ``brian2``, ``lava``; several separated by commas) gives the test those pytest
markers; ``<!-- readme-test: ci (REASON) -->`` marks the test command itself: it is checked
to be what ``.ci/run`` runs, not run again here.

Blocks not marked ``torch`` run with torch hidden (an importable ``torch`` that raises
``ImportError``), as on the README's main install, which has no torch.

``pip`` in a bash block is a stand-in placed first on ``PATH``: installing is not done again
by the tests, but every ``pip install`` line is checked — extras named in ``pyproject.toml``,
and the main command (the first block) must not pull torch.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 (the lava stage): the same parser as a package
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MARK = re.compile(r"<!--\s*readme-test:\s*(.*?)\s*-->")
FENCE = re.compile(r"^```(\w*)\s*$")


@dataclass(frozen=True)
class Block:
    line: int
    lang: str
    code: str
    marks: tuple[str, ...]
    ci: str | None


def blocks() -> list[Block]:
    """The fenced blocks of the README with their markers."""
    lines = README.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1)
        j = i + 1
        while not lines[j].startswith("```"):
            j += 1
        prev = lines[start - 1] if start > 0 else ""
        tag = MARK.search(prev)
        marks: tuple[str, ...] = ()
        ci = None
        if tag:
            text = tag.group(1)
            if text.startswith("ci"):
                ci = text[2:].strip(" ()") or "the CI command"
            else:
                marks = tuple(t.strip() for t in text.split(",") if t.strip())
        out.append(Block(start + 1, lang, "\n".join(lines[start + 1 : j]) + "\n", marks, ci))
        i = j + 1
    return out


PIP_SHIM = r"""#!/usr/bin/env python3
import os, re, sys
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
root = os.environ["README_REPO"]
extras = set(tomllib.load(open(os.path.join(root, "pyproject.toml"), "rb"))["project"]
             ["optional-dependencies"])
args = sys.argv[1:]
with open(os.environ["README_PIP_LOG"], "a") as log:
    log.write(" ".join(args) + "\n")
if not args or args[0] != "install":
    sys.exit(f"pip stand-in: only 'pip install' is expected, got {args}")
rest = args[1:]
if "torch" in rest:
    assert "--index-url" in rest, "torch must come from the CPU wheel index"
    sys.exit(0)
for a in rest:
    m = re.fullmatch(r"\.(?:\[([\w,]+)\])?", a)
    if m and m.group(1):
        unknown = set(m.group(1).split(",")) - extras
        if unknown:
            sys.exit(f"pip stand-in: unknown extra(s) {unknown}; pyproject has {sorted(extras)}")
"""


def _params() -> list[object]:
    out: list[object] = []
    for b in blocks():
        if not b.lang:
            continue
        marks = [getattr(pytest.mark, m) for m in b.marks]
        out.append(pytest.param(b, id=f"line{b.line}-{b.lang}", marks=marks))
    return out


def _workdir(tmp_path: Path) -> Path:
    """An empty folder that looks like the repository root (its entries linked in), so the
    README's relative paths resolve while what a block writes lands in the folder."""
    work = tmp_path / "repo"
    work.mkdir()
    for entry in ("lif_bridge", "backends", "examples", "scripts", "tests", "pyproject.toml"):
        if (ROOT / entry).exists():
            (work / entry).symlink_to(ROOT / entry)
    return work


def _env(tmp_path: Path, block: Block) -> dict[str, str]:
    shim_dir = tmp_path / ".shim"
    shim_dir.mkdir()
    shim = shim_dir / "pip"
    shim.write_text(PIP_SHIM)
    shim.chmod(0o755)
    env = dict(os.environ)
    if "torch" not in block.marks:  # as on the README's torch-free install: torch is absent
        hidden = tmp_path / ".no-torch" / "torch"
        hidden.mkdir(parents=True)
        (hidden / "__init__.py").write_text(
            "raise ImportError('torch is hidden: this README block is not marked torch')\n"
        )
        env["PYTHONPATH"] = os.pathsep.join(
            [str(hidden.parent), *filter(None, [env.get("PYTHONPATH")])]
        )
    env.update(
        PATH=os.pathsep.join([str(shim_dir), str(Path(sys.executable).parent), env["PATH"]]),
        LIF_BRIDGE_CACHE=str(tmp_path / ".cache"),
        MPLBACKEND="Agg",
        README_REPO=str(ROOT),
        README_PIP_LOG=str(tmp_path / "pip.log"),
    )
    return env


@pytest.mark.parametrize("block", _params())
def test_readme_block_runs(block: Block, tmp_path: Path) -> None:
    """The block runs as written (exit status 0) in an empty folder."""
    if block.lang == "toml":
        tomllib.loads(block.code)
        return
    if block.ci:  # the test command itself: CI runs it; here it must be exactly that command
        ci = [ln for ln in (ROOT / ".ci/run").read_text().splitlines() if ln.startswith("bash ")]
        assert ci == [block.code.strip()], f"README line {block.line} is not what .ci/run runs"
        return
    assert block.lang in ("python", "bash"), f"README line {block.line}: unknown {block.lang!r}"
    cmd = (
        [sys.executable, "-c", block.code]
        if block.lang == "python"
        else ["bash", "-e", "-c", block.code]
    )
    proc = subprocess.run(
        cmd,
        cwd=_workdir(tmp_path),
        env=_env(tmp_path, block),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, (
        f"README block at line {block.line} failed ({proc.returncode}):\n"
        f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )


def test_main_command_installs_without_torch() -> None:
    """The first bash block is the main job: a plain install (no torch extra) and demo."""
    first = next(b for b in blocks() if b.lang == "bash")
    assert first.code.strip() == "pip install -e . && lif-bridge demo"
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not [d for d in deps if re.match(r"(torch|scikit-learn|brian2|lava)", d)], deps


def test_every_language_block_is_collected() -> None:
    """Each python/bash/toml block is a test (none silently dropped by the parser)."""
    found = [b for b in blocks() if b.lang]
    text = README.read_text(encoding="utf-8")
    assert len(found) == len(re.findall(r"^```(?:python|bash|toml)\s*$", text, flags=re.M))
    assert len(found) >= 6
