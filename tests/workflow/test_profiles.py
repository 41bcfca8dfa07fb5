"""Workflow profiles under workflow/profiles/: each parses, names its executor, and only configures real rules."""

from __future__ import annotations

import subprocess

import yaml

from conftest import REPO
from envcheck import rule_envs

PROFILES = REPO / "workflow" / "profiles"


def test_every_profile_parses_and_sets_resources_of_real_rules_only():
    rules = set(rule_envs())
    executors = {}
    for path in sorted(PROFILES.glob("*/config.yaml")):
        profile = yaml.safe_load(path.read_text())
        executors[path.parent.name] = profile.get("executor", "local")
        unknown = set(profile.get("set-resources", {})) - rules
        assert not unknown, f"{path}: set-resources names no rule: {sorted(unknown)}"
        if executors[path.parent.name] not in ("local", "cluster-generic"):
            # remote executors: the caller's rules ask for a GPU, and software comes from envs/*.yaml
            assert profile["software-deployment-method"] == "conda", path
            gpu_rules = {r for r, res in profile["set-resources"].items() if any(k.startswith("gpu") for k in res)}
            assert gpu_rules == {"call_shard", "train_caller"}, (path, gpu_rules)
    assert executors == {"default": "local", "local-cluster": "cluster-generic", "slurm": "slurm",
                         "kubernetes": "kubernetes", "googlebatch": "googlebatch"}


def test_default_profile_dry_runs():
    res = subprocess.run(["snakemake", "--workflow-profile", str(PROFILES / "default"), "-n", "--quiet", "rules"],
                         cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
