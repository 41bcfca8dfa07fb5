"""Patch-feature bags (CLAM/TRIDENT): readers and checks, the attention models, attention outputs, survival
metrics beside Cox."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pandas as pd
import pytest
import torch

from oncorisk.errors import UserError


def _write_cohort(d, n=40, dim=12, seed=0):
    """A hand-made cohort: CLAM .h5 bags (coords first, as CLAM writes) and .pt bags of unequal N, one with N = 0;
    the label lives in 10% of each positive bag's patches."""
    rng = np.random.default_rng(seed)
    y = np.array([0, 1] * (n // 2))
    pd.DataFrame({"sample": [f"S{i}" for i in range(n)], "A": rng.normal(size=n) + 0.5 * y,
                  "B": rng.normal(size=n)}).to_parquet(d / "ps.parquet")
    (d / "x.vcf").write_text("")
    direction = rng.normal(size=dim)
    rows = []
    for i in range(n):
        n_patches = 0 if i == 3 else int(rng.integers(15, 60))
        f = rng.normal(size=(n_patches, dim)).astype(np.float32)
        f[: max(1, n_patches // 10) if n_patches else 0] += (2 * y[i] - 1) * 2.0 * direction
        coords = np.stack([np.arange(n_patches) % 8 * 256, np.arange(n_patches) // 8 * 256], 1).astype(np.int32)
        if i % 2:
            with h5py.File(d / f"S{i}.h5", "w") as fh:
                fh["coords"] = coords
                fh["features"] = f
            path = f"S{i}.h5"
        else:
            torch.save(torch.from_numpy(f), d / f"S{i}.pt")
            path = f"S{i}.pt"
        rows.append(f"S{i}\tx.vcf\t{path}\t{y[i]}\n")
    (d / "s.tsv").write_text("sample\tvcf\timage_embedding\tlabel\n" + "".join(rows))
    return y


def test_fusion_on_clam_h5_and_pt_bags_of_unequal_n(tmp_path, capsys):
    from oncorisk.cli import main

    _write_cohort(tmp_path)
    out = tmp_path / "o"
    args = ["fusion", "--samples", str(tmp_path / "s.tsv"), "--pathway-scores", str(tmp_path / "ps.parquet"),
            "--folds", "3", "--bootstrap", "20", "--shap-samples", "5", "--max-patches", "20", "--bag-batch", "8"]
    assert main(args + ["--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    for model in ("fused", "genomic", "imaging", "imaging_meanpool", "baseline_linear_imaging",
                  "baseline_linear_fused"):
        lo, hi = m[model]["roc_auc"]["ci"]
        assert lo <= m[model]["roc_auc"]["value"] <= hi, model
    files = sorted(p.name for p in (out / "attention").iterdir())
    assert len(files) == 39 and "S3.h5" not in files  # N = 0: no image, scored from genomics
    with h5py.File(out / "attention" / "S1.h5") as fh, h5py.File(tmp_path / "S1.h5") as src:
        assert fh["attention_scores"].shape == (len(src["features"]),)
        assert abs(float(fh["attention_scores"][()].sum()) - 1) < 1e-4
        assert abs(float(fh["attention_scores_imaging"][()].sum()) - 1) < 1e-4
        assert (fh["coords"][()] == src["coords"][()]).all()
        assert list(fh["coattention"].attrs["pathways"]) == ["A", "B"]
        assert np.allclose(fh["coattention"][()].sum(axis=1), 1, atol=1e-4)
    co = pd.read_csv(out / "coattention.tsv", sep="\t")
    assert len(co) == 2 * 39 and set(co["pathway"]) == {"A", "B"}
    assert (out / "attention_heatmaps.png").stat().st_size > 5000
    info = json.loads((out / "run_info.json").read_text())
    assert info["slides"]["patients_without_patches"] == 1 and info["slides"]["dimensions"] == 12
    assert info["slides"]["patches_min"] >= 15
    # a bag of another D is refused with one line naming its file; nothing is written
    torch.save(torch.ones(30, 7), tmp_path / "S4.pt")
    bad = tmp_path / "bad"
    assert main(args + ["--out", str(bad)]) != 0
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "S4.pt: field features: 7 dimensions, the other slides 12" in err
    assert not bad.exists()


def test_bag_checks_name_file_and_field(tmp_path):
    from oncorisk.fusion.bags import BagStore, read_patient

    for name, encoder, dim in (("a", "uni_v1", 4), ("b", "conch_v1", 4), ("c", "uni_v1", 4)):
        with h5py.File(tmp_path / f"{name}.h5", "w") as fh:  # TRIDENT: the encoder in the features' attributes
            fh["features"] = np.ones((3, dim), dtype=np.float16)
            fh["features"].attrs["encoder"] = encoder
            fh["coords"] = np.zeros((3, 2), dtype=np.int64)
    with pytest.raises(UserError, match=r"b.h5: attribute encoder: 'conch_v1', .*a.h5 says 'uni_v1'"):
        BagStore([str(tmp_path / "a.h5"), str(tmp_path / "b.h5")])
    with pytest.raises(UserError, match=r"a.h5: attribute encoder: 'uni_v1', but the config's fusion.encoder says"):
        BagStore([str(tmp_path / "a.h5")], encoder="virchow2")
    store = BagStore([str(tmp_path / "a.h5"), None, str(tmp_path / "c.h5")])
    assert store.encoder == "uni_v1" and store.record()["patches_total"] == 6 and store.get(0)[0].dtype == np.float32
    # two slides of one patient: concatenated, each patch keeps its slide
    with h5py.File(tmp_path / "empty.h5", "w") as fh:
        fh["features"] = np.zeros((0, 4), dtype=np.float32)
        fh["coords"] = np.zeros((0, 2), dtype=np.int32)
    feats, coords, slide, info = read_patient(f"{tmp_path / 'a.h5'};{tmp_path / 'empty.h5'};{tmp_path / 'c.h5'}")
    assert feats.shape == (6, 4) and slide.tolist() == [0, 0, 0, 2, 2, 2] and info.slides == [3, 0, 3]
    torch.save({"features": torch.ones(5, 3)}, tmp_path / "d.pt")
    with pytest.raises(UserError, match=r"d.pt: field features: 3 dimensions, the patient's slide .*a.h5 4"):
        read_patient(f"{tmp_path / 'a.h5'};{tmp_path / 'd.pt'}")


def test_a_sheet_lists_several_slides_of_a_patient(tmp_path):
    from oncorisk.config import load_samples

    for name in ("a.h5", "b.pt"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "x.vcf").write_text("")
    (tmp_path / "s.tsv").write_text("sample\tvcf\timage_embedding\nP1\tx.vcf\ta.h5;b.pt\n")
    s = load_samples(tmp_path / "s.tsv", "germline")[0]
    assert s.image_embedding == f"{tmp_path / 'a.h5'};{tmp_path / 'b.pt'}"
    (tmp_path / "s.tsv").write_text("sample\tvcf\timage_embedding\nP1\tx.vcf\ta.h5;missing.pt\n")
    with pytest.raises(UserError, match="missing.pt"):
        load_samples(tmp_path / "s.tsv", "germline")


def test_patch_projection_keeps_the_directions_patches_vary_along(tmp_path, monkeypatch):
    """BagScaler's principal components come from the training rows' patch subsamples (no bag is read again):
    they span the two directions the patches vary along, a held-out patient cannot move them, and the model input
    is (N, K)."""
    import oncorisk.fusion.bags as bags
    from oncorisk.fusion.mil import BagScaler, batch

    monkeypatch.setattr(bags, "PCA_SAMPLE", 200)  # 4 patients -> at most 50 patches each in the sample
    rng = np.random.default_rng(3)
    dim = 20
    basis = np.linalg.qr(rng.normal(size=(dim, 2)))[0].T  # two orthonormal directions
    cells = []
    for i in range(5):
        f = rng.normal(size=(120, dim)) * 0.3 + rng.normal(size=(120, 2)) * [4.0, 2.0] @ basis
        if i == 4:  # a held-out patient varying along another direction
            f = rng.normal(size=(120, dim)) * 0.3 + rng.normal(size=(120, 1)) * 30.0 * np.eye(dim)[:1]
        with h5py.File(tmp_path / f"{i}.h5", "w") as fh:
            fh["features"] = f.astype(np.float32)
            fh["coords"] = np.zeros((120, 2), np.int32)
        cells.append(str(tmp_path / f"{i}.h5"))
    store = bags.BagStore(cells)
    assert all(len(store.sample[i]) == 40 for i in range(5))  # max(16, ceil(200 / 5))
    rows = np.arange(4)
    sc = BagScaler.fit(store, rows, 2)
    # the components, mapped back to feature space, span the two directions (the features were standardised)
    back = np.linalg.qr(sc.components * sc.sd[:, None])[0]
    assert np.linalg.svd(back.T @ basis.T, compute_uv=False).min() > 0.95
    assert np.array_equal(sc.components, BagScaler.fit(store, rows, 2).components)  # deterministic, signs fixed
    x, m = batch(store, sc, [0, 4], None, None)
    assert x.shape == (2, 120, 2) and sc.dim == 2 and m.all()
    for k in (0, dim, dim + 5):
        assert BagScaler.fit(store, rows, k).components is None and BagScaler.fit(store, rows, k).dim == dim


def test_attention_pooling_is_a_distribution_and_ignores_padding():
    from oncorisk.fusion.mil import MILNet

    torch.manual_seed(0)
    for pool in ("attention", "mean", "coattention"):
        net = MILNet(3, 5, hidden=8, pool=pool, tokens=[0, 1] if pool == "coattention" else None,
                     dropout=0.0).eval()
        xg, bag = torch.randn(1, 3), torch.randn(1, 6, 5)
        out, attn, beta, co = net(xg, bag, torch.ones(1, 6, dtype=torch.bool), torch.ones(1), explain=True)
        assert abs(float(attn.sum()) - 1) < 1e-5 and attn.shape == (1, 6)
        padded = torch.cat([bag, torch.randn(1, 4, 5) * 50], dim=1)
        mask = torch.tensor([[True] * 6 + [False] * 4])
        out2, attn2, *_ = net(xg, padded, mask, torch.ones(1), explain=True)
        assert torch.allclose(out, out2, atol=1e-5) and float(attn2[0, 6:].abs().max()) < 1e-6, pool
        if pool == "coattention":
            assert beta.shape == (1, 2) and co.shape == (1, 2, 6)
        # no image (mask 0): the slide cannot move the output
        a = net(xg, bag, torch.ones(1, 6, dtype=torch.bool), torch.zeros(1))
        b = net(xg, bag * 10, torch.ones(1, 6, dtype=torch.bool), torch.zeros(1))
        assert torch.allclose(a, b)


def test_survival_metrics_by_hand():
    from oncorisk.fusion.metrics import c_index
    from oncorisk.fusion.survival import (assign_bins, breslow_curves, discrete_nll, integrated_brier, time_bins,
                                          uno_c_index)

    t = np.array([1.0, 2, 3, 4, 5, 6])
    e = np.ones(6, dtype=int)
    r = np.array([6.0, 5, 4, 3, 2, 1])
    assert uno_c_index(t, e, r, tau=10) == c_index(t, e, r) == 1.0  # without censoring, Uno's is Harrell's
    e2 = np.array([1, 0, 1, 1, 0, 1])
    assert uno_c_index(t, e2, r, tau=10) == 1.0 and uno_c_index(t, e2, -r, tau=10) == 0.0
    cuts = time_bins(t, e2, 3)  # from the event times only
    assert len(cuts) == 2 and assign_bins(np.array([0.5, 10.0]), cuts).tolist() == [0, 2]
    # the discrete-time likelihood prefers an early hazard for an early event
    early = torch.tensor([[3.0, -3.0, -3.0]])
    late = torch.tensor([[-3.0, -3.0, 3.0]])
    b, ev = torch.tensor([0]), torch.tensor([1.0])
    assert discrete_nll(early, b, ev) < discrete_nll(late, b, ev)
    # Brier: curves that know the order score better than curves that reverse it
    grid = np.linspace(1.5, 5.5, 9)
    good = breslow_curves(r, t, e, r, grid)
    bad = breslow_curves(r, t, e, -r, grid)
    assert integrated_brier(t, e, good, grid) < integrated_brier(t, e, bad, grid)
    assert 0 <= integrated_brier(t, e, good, grid) < 0.25


def test_survival_on_bags_with_the_discrete_time_loss(tmp_path):
    from oncorisk.cli import main

    _write_cohort(tmp_path)
    rng = np.random.default_rng(2)
    rows = (tmp_path / "s.tsv").read_text().splitlines()[1:]
    (tmp_path / "s.tsv").write_text("sample\tvcf\timage_embedding\ttime\tevent\n" + "".join(
        "\t".join(r.split("\t")[:3]) + f"\t{rng.exponential(10):.2f}\t{int(rng.random() < 0.7)}\n" for r in rows))
    out = tmp_path / "o"
    assert main(["fusion", "--samples", str(tmp_path / "s.tsv"), "--pathway-scores", str(tmp_path / "ps.parquet"),
                 "--folds", "3", "--bootstrap", "20", "--shap-samples", "0", "--survival-loss", "nll",
                 "--time-bins", "3", "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["mode"] == "survival" and m["config"]["survival_loss"] == "nll"
    for model in ("fused", "imaging", "imaging_meanpool", "genomic"):
        for key in ("c_index", "c_index_ipcw", "integrated_brier"):
            v = m[model][key]
            assert 0 <= v["value"] <= 1 and v["ci"][0] <= v["ci"][1], (model, key)
    assert "integrated_brier" not in m["baseline_linear_fused"] and 0 <= m["baseline_linear_fused"]["c_index"]["value"] <= 1
    assert (out / "kaplan_meier.png").exists() and len(list((out / "attention").iterdir())) == 39
