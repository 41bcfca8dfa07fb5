"""envs/*.yaml: pinned conda environments per rule family (snakemake --sdm conda), each installing oncorisk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from envcheck import REPO, load_env, norm, rule_envs, unpinned

ENVS = sorted((REPO / "envs").glob("*.yaml"))


def test_every_env_parses_is_pinned_and_installs_oncorisk():
    assert {p.stem for p in ENVS} == {"oncorisk", "reads", "impact", "pathways", "fusion"}
    for path in ENVS:
        env = load_env(path)  # raises on any unpinned conda or pip entry
        assert env["raw"]["channels"][:2] == ["conda-forge", "bioconda"], path.name
        assert env["conda"]["python"] == "3.11" and env["pip"], path.name
        hook = path.with_suffix(".post-deploy.sh")  # snakemake runs it once the env exists
        assert hook.is_symlink() and hook.resolve() == REPO / "envs" / "install-oncorisk.sh", path.name
    script = (REPO / "envs" / "install-oncorisk.sh").read_text()
    assert 'pip install --quiet --no-deps --editable "$src"' in script and '^name = "oncorisk"' in script


def test_every_rule_names_a_family_env_and_pins_agree_with_pyproject():
    rules = rule_envs()
    assert len(rules) >= 13
    for rule, (env, command) in rules.items():
        assert env and (REPO / env).is_file() and command, rule
    deps = {norm(Requirement(r).name): Requirement(r)
            for r in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]}
    full = load_env(REPO / "envs" / "oncorisk.yaml")["pip"]
    assert set(deps) <= set(full), set(deps) - set(full)  # the full env has every dependency
    seen: dict[str, str] = {}
    for path in ENVS:
        for name, version in load_env(path)["pip"].items():
            assert seen.setdefault(name, version) == version, f"{path.name}: {name} {version} vs {seen[name]}"
            if name in deps:
                assert deps[name].specifier.contains(version), f"{path.name}: {name}=={version} vs {deps[name]}"


def test_training_rule_env_pins_what_training_imports():
    """train-caller is not in the demo's default target, so the workflow test's import audit does not see it."""
    code = ("import json, sys, oncorisk.cli, oncorisk.caller.train; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('oncorisk'))))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                       check=True).stdout)
    missing = unpinned(loaded, rule_envs()["train_caller"][0])
    assert not missing, missing


def test_install_script_refuses_a_folder_that_is_not_a_checkout(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "ONCORISK_SRC"}
    res = subprocess.run(["bash", str(REPO / "envs" / "install-oncorisk.sh")], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1
    assert f"{tmp_path}/pyproject.toml: not an oncorisk checkout" in res.stderr and "ONCORISK_SRC" in res.stderr


@pytest.mark.slow
def test_install_script_installs_oncorisk_into_an_environment(tmp_path):
    """What snakemake does after creating an env: run the post-deploy script inside it (here: a venv that sees
    this interpreter's packages, standing in for the pinned env), from the folder snakemake runs in."""
    venv = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    bindir = venv / "bin"
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}", VIRTUAL_ENV=str(venv))
    env.pop("ONCORISK_SRC", None)
    res = subprocess.run(["bash", str(REPO / "envs" / "reads.post-deploy.sh")], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert f"installed from {REPO}" in res.stdout
    where = subprocess.run([str(bindir / "python"), "-c", "import oncorisk; print(oncorisk.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, check=True).stdout.strip()
    assert Path(where).resolve() == REPO / "src" / "oncorisk" / "__init__.py"
    listed = subprocess.run([str(bindir / "python"), "-m", "pip", "list", "--path", str(next(venv.glob("lib/python*/site-packages")))],
                            capture_output=True, text=True, check=True).stdout
    assert "oncorisk" in listed and "torch " not in listed  # oncorisk only: dependencies come from the env file
