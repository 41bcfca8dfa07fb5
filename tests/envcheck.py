"""Helpers for checking envs/*.yaml: what each env pins, which env each rule names, what oncorisk modules import."""

from __future__ import annotations

import ast
import re
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([0-9][^\s;]*)$")


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def load_env(path: Path) -> dict:
    """Parsed env file: {'conda': {name: version}, 'pip': {name: version}, 'raw': dict}; raises on unpinned entries."""
    env = yaml.safe_load(path.read_text())
    conda, pip = {}, {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for req in dep["pip"]:
                m = PIN.match(req.strip())
                if not m:
                    raise ValueError(f"{path.name}: pip requirement {req!r} is not pinned with ==")
                pip[norm(m.group(1))] = m.group(2)
        elif dep == "pip":
            conda["pip"] = None
        else:
            name, _, version = dep.partition("=")
            if not version:
                raise ValueError(f"{path.name}: conda dependency {dep!r} is not pinned")
            conda[norm(name)] = version
    return {"conda": conda, "pip": pip, "raw": env}


def rule_envs() -> dict[str, tuple[str, str]]:
    """rule name -> (env file relative to the repo, oncorisk subcommand its shell runs)."""
    out = {}
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"^rule ", smk.read_text(), flags=re.M)[1:]:
            name = block.split(":", 1)[0].strip()
            env = re.search(r"conda:\s*\n\s*\"([^\"]+)\"", block)
            cmd = re.search(r"\"oncorisk ([a-z-]+)", block)
            out[name] = ((smk.parent / env.group(1)).resolve().relative_to(REPO).as_posix() if env else "",
                         cmd.group(1) if cmd else "")
    return out


@lru_cache(maxsize=None)
def _distributions() -> dict[str, list[str]]:
    return metadata.packages_distributions()


@lru_cache(maxsize=None)
def third_party_imports(module: str) -> frozenset[str]:
    """Distributions (normalised names) that an oncorisk module imports anywhere in its source."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    tree = ast.parse(Path(spec.origin).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    names -= set(sys.stdlib_module_names) | {"oncorisk", "__future__"}
    return frozenset(norm(d) for n in names for d in _distributions().get(n, [n]))


def unpinned(modules, env: str) -> set[str]:
    """Third-party packages that the given oncorisk modules import but the env file (relative to the repo)
    does not pin."""
    needed = set().union(*(third_party_imports(m) for m in modules))
    return needed - set(load_env(REPO / env)["pip"])
