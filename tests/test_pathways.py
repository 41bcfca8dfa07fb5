"""Pathways stage: network and GMT parsing, propagation and BH on hand-built cases, calibration and power."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, simulate
from oncorisk.errors import UserError
from oncorisk.pathways.genesets import load_gmt
from oncorisk.pathways.network import load_edge_list
from oncorisk.pathways.scoring import bh, gene_features, propagate, rank_pathways


def test_edge_list_drops_self_loops_and_merges_duplicates(tmp_path):
    p = tmp_path / "net.tsv"
    p.write_text("gene_a\tgene_b\tweight\nA\tB\t0.5\nB\tA\t0.9\nC\tC\t1\nC\tD\n")
    net = load_edge_list(p)
    assert net.genes == ["A", "B", "C", "D"]
    assert net.graph["A"]["B"]["weight"] == 0.9 and net.graph["C"]["D"]["weight"] == 1.0
    assert net.report["self_loops_dropped"] == 1 and net.report["duplicate_edges_merged"] == 1
    ei, w = net.edge_index()
    assert tuple(ei.shape) == (2, 4) and len(w) == 4  # both directions, for torch-geometric


def test_bad_network_and_gmt(tmp_path):
    (tmp_path / "bad.tsv").write_text("A\tB\tstrong\n")
    with pytest.raises(UserError, match=r"line 1, column 3 \(weight\): bad value 'strong'"):
        load_edge_list(tmp_path / "bad.tsv")
    (tmp_path / "empty.gmt").write_text("SET1\tdesc\tA\tB\nSET2\tdesc\n")
    with pytest.raises(UserError, match=r"line 2 \(set 'SET2'\).*at least one gene"):
        load_gmt(tmp_path / "empty.gmt")
    (tmp_path / "dup.gmt").write_text("SET1\td\tA\nSET1\td\tB\n")
    with pytest.raises(UserError, match="duplicate gene-set name"):
        load_gmt(tmp_path / "dup.gmt")
    (tmp_path / "ids.gmt").write_text("WP1\td\t5290\t207\t9999\n")
    (tmp_path / "map.tsv").write_text("5290\tPIK3CA\n207\tAKT1\n")
    assert load_gmt(tmp_path / "ids.gmt", tmp_path / "map.tsv")["WP1"][1] == ["PIK3CA", "AKT1"]


def test_propagation_on_a_path_graph_by_hand():
    """Path A-B-C, heat on A only, restart 0.5: s = 0.5 W s + 0.5 h solved exactly."""
    import scipy.sparse as sp

    adj = sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=float))
    s = propagate(adj, np.array([1.0, 0.0, 0.0]))
    w = np.array([[0, 0.5, 0], [1, 0, 1], [0, 0.5, 0]])  # column-normalised
    exact = np.linalg.solve(np.eye(3) - 0.5 * w, 0.5 * np.array([1.0, 0, 0]))
    assert np.allclose(s, exact, atol=1e-8) and s[0] > s[1] > s[2] > 0


def test_benjamini_hochberg_by_hand():
    # sorted p 0.01, 0.03, 0.04, 0.5 -> p*n/rank 0.04, 0.06, 0.0533, 0.5 -> running min from the top
    assert np.allclose(bh(np.array([0.01, 0.04, 0.03, 0.5])), [0.04, 0.16 / 3, 0.16 / 3, 0.5])


def test_capped_evidence_keeps_one_extreme_gene_from_deciding_a_set():
    """40 equal genes; set P has four members at z = 4-5; one non-member X has z = 60 (another pathway's driver).

    Uncapped, any random 4-gene set that draws X scores 15 > P's 4.5, so p ~ P(draw X) ~ 0.1. Capped at 4, a
    random set must draw all four of P's members or X plus three of them: p near 1/(1 + permutations).
    """
    genes = [f"G{i}" for i in range(40)]
    z = np.zeros(40)
    z[[0, 1, 2, 3]] = [4.0, 4.5, 5.0, 4.5]
    z[39] = 60.0
    sets = {"P": ("", genes[:4]), "Q": ("", genes[10:14])}
    flat = np.ones(40)
    kwargs = dict(hit=z > 0, permutations=2000, n_bins=1)
    capped = rank_pathways(z, genes, flat, flat, sets, rng=np.random.default_rng(1), **kwargs).set_index("pathway")
    raw = rank_pathways(z, genes, flat, flat, sets, rng=np.random.default_rng(1), cap=np.inf, **kwargs).set_index("pathway")
    assert capped.loc["P", "p"] < 0.002 and 0.05 < raw.loc["P", "p"] < 0.2
    assert capped.loc["P", "score"] == 4.0 and raw.loc["P", "score"] == 4.5
    assert capped.loc["Q", "p"] == 1.0 and capped.loc["P", "leading_genes"] == "G2,G1,G3,G0"


def test_gene_evidence_adjusts_for_length():
    m = pd.DataFrame({"s1": [2.0, 2.0, 0.0], "s2": [2.0, 0.0, 0.0]}, index=["LONG", "SHORT", "NONE"])
    f = gene_features(m, ["LONG", "SHORT", "NONE"], {"LONG": 8.0, "SHORT": 1.0, "NONE": 1.0})
    # expected impact: total 6 spread by length 8:1:1 -> 4.8, 0.6, 0.6; SHORT is the one in excess
    assert f.loc["SHORT", "evidence_z"] > f.loc["LONG", "evidence_z"]
    assert f.loc["NONE", "evidence_z"] < 0 and f.loc["LONG", "frac_samples_hit"] == 1.0


def _run_cohort(tmp_path, seed, null):
    from oncorisk.impact.run import ImpactOptions, run_impact
    from oncorisk.impact.scores import load_weights
    from oncorisk.pathways.run import PathwayOptions, run_pathways

    sim = tmp_path / f"sim{seed}"
    simulate(sim, seed=seed, patients=200, bam_patients=0, null=null)
    vcfs = [f"{p.name.split('.')[0]}={p}" for p in sorted((sim / "vcfs").glob("*.vcf.gz"))]
    run_impact(ImpactOptions(out=str(tmp_path / f"imp{seed}"), vcfs=vcfs, gtf=str(sim / "genes.gtf"),
                             ref=str(sim / "reference.fa"), weights=load_weights(hotspots=str(sim / "hotspots.tsv"))))
    return run_pathways(PathwayOptions(impact=str(tmp_path / f"imp{seed}" / "impact_matrix.parquet"),
                                       gene_sets=str(REPO / "resources/pathways/oncogenic_pathways.gmt"),
                                       network=str(REPO / "resources/network/gene_network.tsv"),
                                       gtf=str(sim / "genes.gtf"), callable=str(sim / "panel.bed"),
                                       out=str(tmp_path / f"pw{seed}"), seed=seed))["ranking"]


@pytest.mark.slow
def test_perturbed_pathways_lead_and_null_mode_is_calibrated(tmp_path):
    for seed in (2, 3):
        r = _run_cohort(tmp_path, seed, null=False)
        assert set(r["pathway"].head(2)) == {"PI3K-Akt", "MAPK"}
        assert (r["q"].head(2) < 0.05).all(), r.head(3)
    significant = [bool((_run_cohort(tmp_path, seed, null=True)["q"] < 0.05).any()) for seed in range(11, 16)]
    assert sum(significant) <= 1, significant
    out = tmp_path / "pw2"
    scores = pd.read_parquet(out / "pathway_scores.parquet").set_index("sample")
    assert scores.shape == (200, 15) and (scores >= 0).all().all()
    genes = pd.read_csv(out / "gene_scores.tsv", sep="\t").set_index("gene")
    assert genes["evidence_z"].idxmax() in {"PIK3CA", "AKT1", "KRAS", "NRAS", "HRAS", "BRAF", "PTEN", "MAP2K1", "PIK3R1"}


def test_network_sharing_no_gene_fails_clearly(tmp_path):
    m = pd.DataFrame({"gene": ["KRAS"], "S1": [1.0]})
    m.to_parquet(tmp_path / "m.parquet")
    (tmp_path / "n.tsv").write_text("A\tB\n")
    (tmp_path / "s.gmt").write_text("P\td\tA\tB\n")
    res = subprocess.run([sys.executable, "-m", "oncorisk", "pathways", "--impact", str(tmp_path / "m.parquet"),
                          "--network", str(tmp_path / "n.tsv"), "--gene-sets", str(tmp_path / "s.gmt"),
                          "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "shares no gene with the impact matrix" in res.stderr
    assert not (tmp_path / "o").exists()


def test_gnn_constructor_shapes_and_batched_inference_on_a_hand_built_graph():
    import torch

    from oncorisk.pathways.gnn import GnnConfig, build_model
    from oncorisk.pathways.graph_model import batched_logits, graph_operator

    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4], [1, 0, 2, 1, 3, 2, 4, 3]])
    x = torch.randn(3, 5, 6)
    for model in ("sage", "gcn", "gat"):
        net = build_model(GnnConfig(model=model, hidden=8, layers=2), in_channels=6).eval()
        adj = graph_operator(edge_index, torch.linspace(0.2, 1.0, 8), 5, model)
        one = torch.stack([net(xb, adj) for xb in x])
        assert one.shape == (3, 5) and torch.isfinite(one).all()
        with torch.no_grad():  # the permutation null's batched pass equals the model run vector by vector
            assert torch.allclose(batched_logits(net, x, adj), one, atol=1e-5)


@pytest.mark.slow
def test_gnn_beats_frequency_and_hotnet2_baselines_on_held_out_genes(tmp_path):
    import json

    from oncorisk.impact.run import ImpactOptions, run_impact
    from oncorisk.impact.scores import load_weights
    from oncorisk.pathways.run import PathwayOptions, run_pathways

    sim = tmp_path / "sim"
    simulate(sim, seed=2, patients=200, bam_patients=0)
    vcfs = [f"{p.name.split('.')[0]}={p}" for p in sorted((sim / "vcfs").glob("*.vcf.gz"))]
    run_impact(ImpactOptions(out=str(tmp_path / "imp"), vcfs=vcfs, gtf=str(sim / "genes.gtf"),
                             ref=str(sim / "reference.fa"), weights=load_weights(hotspots=str(sim / "hotspots.tsv"))))
    run_pathways(PathwayOptions(impact=str(tmp_path / "imp" / "impact_matrix.parquet"),
                                gene_sets=str(REPO / "resources/pathways/oncogenic_pathways.gmt"),
                                network=str(REPO / "resources/network/gene_network.tsv"), gtf=str(sim / "genes.gtf"),
                                callable=str(sim / "panel.bed"), labels=str(sim / "known_cancer_genes.tsv"),
                                out=str(tmp_path / "pw"), seed=2))
    m = json.loads((tmp_path / "pw" / "gnn_metrics.json").read_text())
    assert m["positives"] == 14 and m["labelled_genes"] == 270
    gnn = m["pooled"]["gnn"]["auprc"]
    assert gnn > m["pooled"]["mutation_frequency"]["auprc"] + 0.2
    assert gnn > m["pooled"]["hotnet2_propagation"]["auprc"] + 0.2
    assert m["gnn_at_least_best_baseline"] and gnn >= m["pooled"]["evidence_propagation"]["auprc"]  # it earns its place
    assert m["low_own_evidence"]["genes"] == 256 + 7 and m["low_own_evidence"]["positives"] == 7  # weak half of 14
    genes = pd.read_csv(tmp_path / "pw" / "gene_scores.tsv", sep="\t")
    assert genes["gnn_score"].between(0, 1).all()


def test_gpml_interactions_become_gene_pairs():
    from conftest import SHARED_DATA
    from oncorisk.pathways.gpml import gpml_edges

    path = SHARED_DATA / "pathway_diagrams" / "WP4172.gpml"
    if not path.exists():
        pytest.skip(f"{path} is absent (real data only in the team's CI)")
    edges = {tuple(sorted(e)) for e in gpml_edges(path)}
    genes = {g for e in edges for g in e}
    assert len(edges) > 500 and {"PIK3CA", "AKT1", "PIK3R1"} <= genes


def test_string_and_hotnet2_networks(tmp_path):
    from oncorisk.pathways.network import load_hotnet2, load_string

    (tmp_path / "links.txt").write_text("protein1 protein2 combined_score\n9606.P1 9606.P2 900\n9606.P2 9606.P3 400\n"
                                        "9606.P1 9606.P9 950\n")
    (tmp_path / "info.txt").write_text("#string_protein_id\tpreferred_name\n9606.P1\tKRAS\n9606.P2\tBRAF\n9606.P3\tMAP2K1\n")
    net = load_string(tmp_path / "links.txt", tmp_path / "info.txt", min_score=700)
    assert net.genes == ["BRAF", "KRAS"] and net.graph["KRAS"]["BRAF"]["weight"] == 0.9  # 400 is below the cut-off
    assert net.report["unmapped_proteins"] == 1  # P9 has no name
    (tmp_path / "index.txt").write_text("1 KRAS\n2 BRAF\n3 MAP2K1\n")
    (tmp_path / "edges.txt").write_text("1 2\n2 3 0.5\n")
    net = load_hotnet2(tmp_path / "index.txt", tmp_path / "edges.txt")
    assert net.graph.number_of_edges() == 2 and net.graph["BRAF"]["MAP2K1"]["weight"] == 0.5
    (tmp_path / "bad_edges.txt").write_text("1 7\n")
    with pytest.raises(UserError, match="indices present in"):
        load_hotnet2(tmp_path / "index.txt", tmp_path / "bad_edges.txt")


def _hand_built(tmp_path, carriers: list[int], labels: bool):
    """20 genes: a ring 0-1-...-19-0, set P = genes 0-4 (a path), set D = genes 10-14 made a clique; the genes
    in ``carriers`` are mutated in most of 40 samples, the others rarely (same length for all)."""
    from oncorisk.pathways.run import PathwayOptions, run_pathways

    genes = [f"G{i:02d}" for i in range(20)]
    edges = {(i, (i + 1) % 20) for i in range(20)} | {(a, b) for a in range(10, 15) for b in range(a + 1, 15)}
    (tmp_path / "net.tsv").write_text("".join(f"{genes[a]}\t{genes[b]}\n" for a, b in sorted(edges)))
    (tmp_path / "sets.gmt").write_text("P\tpath\t" + "\t".join(genes[:5]) + "\nD\tclique\t"
                                       + "\t".join(genes[10:15]) + "\n")
    rng = np.random.default_rng(0)
    impact = (rng.random((20, 40)) < 0.05).astype(float)
    impact[carriers] = (rng.random((len(carriers), 40)) < 0.6).astype(float) * 2
    pd.DataFrame(impact, index=pd.Index(genes, name="gene"),
                 columns=[f"S{j}" for j in range(40)]).reset_index().to_csv(tmp_path / "m.tsv", sep="\t", index=False)
    if labels:  # four known cancer genes among the carriers' kind, four not
        (tmp_path / "lab.tsv").write_text("gene\tlabel\n" + "".join(f"{genes[i]}\t{int(i in carriers)}\n"
                                                                   for i in sorted(set(carriers) | {6, 8, 16, 18})))
    out = tmp_path / f"out{carriers[0]}{int(labels)}"
    from oncorisk.pathways.gnn import GnnConfig

    run_pathways(PathwayOptions(impact=str(tmp_path / "m.tsv"), gene_sets=str(tmp_path / "sets.gmt"),
                                network=str(tmp_path / "net.tsv"), labels=str(tmp_path / "lab.tsv") if labels else None,
                                permutations=2000, out=str(out), seed=1,
                                gnn=GnnConfig(hidden=8, folds=2, bagging=1, epochs=60, seed=1)))
    return pd.read_csv(out / "pathway_ranking.tsv", sep="\t").set_index("pathway")


@pytest.mark.parametrize("labels", [False, True], ids=["propagation", "gnn"])
def test_network_null_keeps_the_network_fixed_on_a_hand_built_graph(tmp_path, labels):
    """Evidence on P's members: P significant; the same evidence on non-members (P's neighbours along the
    ring): P is not. The clique D without evidence: not significant under the propagation score, which can only
    gain when evidence lands next to D (under the GNN's learnt score D's p is merely uniform, one draw of it is
    no test)."""
    on = _hand_built(tmp_path, [0, 1, 2, 3, 4], labels)
    off = _hand_built(tmp_path, [5, 6, 7, 8, 9] if not labels else [5, 7, 9, 17, 19], labels)
    assert on.loc["P", "p"] < 0.05 and off.loc["P", "p"] > 0.05, (on, off)
    if not labels:
        assert on.loc["D", "p"] > 0.05 and off.loc["D", "p"] > 0.05, (on, off)
    assert {"baseline_score", "baseline_p", "baseline_q"} <= set(on.columns)
    # what the evidence's placement adds: positive on the carriers' set, and the leading genes are carriers
    assert on.loc["P", "excess"] > 0 and on.loc["P", "excess"] > off.loc["P", "excess"], (on, off)
    assert set(on.loc["P", "leading_genes"].split(",")) <= {f"G{i:02d}" for i in range(5)}
