"""The layering of docs/architecture.md, read from the source: genome and io at the bottom, the stages above,
the CLI and workflow on top, the simulator beside as a client. A new upward import fails here."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

SRC = REPO / "src" / "oncorisk"
STAGES = ("tensors", "caller", "impact", "pathways", "fusion")
BOTTOM = ("genome", "io")


def _imports(path: Path) -> set[str]:
    """oncorisk modules a file imports (at any depth: imports inside functions count too)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("oncorisk"):
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("oncorisk"))
    return out


def _package(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def test_no_real_stage_and_no_primitive_imports_the_simulator():
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        if _package(path) in STAGES + BOTTOM + ("config", "errors", "runinfo", "repro", "resources"):
            bad += [f"{path.relative_to(SRC)} imports {m}" for m in _imports(path) if m.startswith("oncorisk.simulate")]
    assert bad == [], bad


def test_genome_and_io_import_nothing_above_them():
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        if _package(path) in BOTTOM:
            allowed = ("oncorisk.genome", "oncorisk.io", "oncorisk.errors")
            bad += [f"{path.relative_to(SRC)} imports {m}" for m in _imports(path)
                    if not m.startswith(allowed) and m not in ("oncorisk", "oncorisk.__version__")]
    assert bad == [], bad


def package_graph():
    """Directed graph of imports between oncorisk's packages and top-level modules."""
    import networkx as nx

    g = nx.DiGraph()
    for path in sorted(SRC.rglob("*.py")):
        a = _package(path)
        g.add_node(a)
        for m in _imports(path):
            parts = m.split(".")
            if len(parts) > 1 and ((SRC / parts[1]).is_dir() or (SRC / f"{parts[1]}.py").is_file()) and parts[1] != a:
                g.add_edge(a, parts[1])
    return g


def test_no_import_cycle_between_packages():
    import networkx as nx

    g = package_graph()
    assert g.has_edge("impact", "genome") and g.has_edge("cli", "impact")  # the graph is really built
    cycles = list(nx.simple_cycles(g))
    assert cycles == [], cycles


def test_every_run_info_has_the_one_provenance_shape():
    """Each module that writes a run_info.json builds it with io.provenance.stage_info; options_record keeps
    values and nested options and leaves out data loaded from files (their files are in inputs)."""
    import pytest

    from oncorisk.impact.run import ImpactOptions
    from oncorisk.impact.scores import Weights
    from oncorisk.io.provenance import PROVENANCE_KEYS, options_record, stage_info

    writers = [p for p in sorted(SRC.rglob("*.py")) if '"run_info.json"' in p.read_text()]
    assert {p.relative_to(SRC).as_posix() for p in writers} >= {"impact/run.py", "pathways/run.py", "fusion/run.py"}
    assert [p.name for p in writers if "stage_info(" not in p.read_text()] == []
    weights = Weights(hotspot_positions={("chr1", 5)}, genes={"TP53": 2.0}, sources={"hotspots": "h.tsv"})
    record = options_record(ImpactOptions(out="o", vcfs=["a=x.vcf"], sample_calls=[("a", "x.vcf")], weights=weights))
    assert record["sample_calls"] == [["a", "x.vcf"]] and record["weights"]["sources"] == {"hotspots": "h.tsv"}
    assert "hotspot_positions" not in record["weights"] and "genes" not in record["weights"]
    assert record["weights"]["hotspot_weight"] == 3.0 and record["out"] == "o"
    info = stage_info("impact", ImpactOptions(out="o"), {}, seed=1)
    assert set(info) == set(PROVENANCE_KEYS) and info["stage"] == "impact"
    with pytest.raises(ValueError, match="provenance keys"):
        stage_info("impact", ImpactOptions(out="o"), {}, seed=1, packages={})


def test_the_simulator_layout_is_written_once():
    """The workflow takes the demo's paths from oncorisk.simulate.layout, the simulator writes by it."""
    from oncorisk.simulate import layout

    rules = {p.name: p.read_text() for p in sorted((REPO / "workflow" / "rules").glob("*.smk"))}
    spelled = [f"{name}: {SIM}" for name, text in rules.items() for SIM in
               (layout.SHEET, layout.MANIFEST, layout.LABELS, layout.HOTSPOTS, "truth/", "bams/")
               if f"/{SIM}" in text or f'"{SIM}' in text]
    assert spelled == [], spelled
    cohort = (SRC / "simulate" / "cohort.py").read_text()
    assert "layout.MANIFEST" in cohort and '"manifest.json"' not in cohort and '"samples.tsv"' not in cohort


def test_rules_copy_no_config_into_flags_by_hand():
    """The flags a rule passes come from the package (oncorisk.rules.stage_flags and friends): no ``*_options``
    function in the .smk files, and no flag spelled beside a config value there."""
    import re

    texts = {p.name: p.read_text() for p in sorted((REPO / "workflow" / "rules").glob("*.smk"))}
    texts["Snakefile"] = (REPO / "Snakefile").read_text()
    defined = [f"{name}: {m}" for name, text in texts.items() for m in re.findall(r"^def (\w+_options)\(", text, re.M)]
    assert defined == [], defined
    by_hand = [f"{name}: {m}" for name, text in texts.items()
               for m in re.findall(r"--[a-z-]+ \{(?:shlex\.quote\()?config\[[^\n]*", text)]
    assert by_hand == [], by_hand
    used = "".join(texts.values())
    for stage in ("tensors", "call", "impact", "pathways", "fusion", "validate"):
        assert f'stage_flags("{stage}", config)' in used, stage
