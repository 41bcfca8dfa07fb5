"""``oncorisk train-caller``: fit the CNN + BiLSTM on labelled tensors and save a versioned checkpoint.

Recipe: class-weighted cross-entropy (or focal loss) against class imbalance, Adam, early stopping on
validation F1 (variant vs not for germline; somatic vs rest for somatic), deterministic seeds. The
validation split is by genomic block (10 kb), so neighbouring candidates never straddle it.
"""

from __future__ import annotations

import json
import logging
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from oncorisk import __version__
from oncorisk.caller.model import CallerConfig, CallerNet, Ensemble, predict_probabilities
from oncorisk.errors import UserError
from oncorisk.io.atomic import atomic_dir
from oncorisk.repro import EarlyStopping, pick_device, seed_everything
from oncorisk.tensors.layout import same_layout
from oncorisk.tensors.run import load_tensors

log = logging.getLogger(__name__)
BLOCK = 10_000


@dataclass
class TrainOptions:
    data: list[str]
    out: str
    name: str
    version: str = "1.0.0"
    epochs: int = 60
    batch: int = 64
    lr: float = 1e-3
    patience: int = 10
    val_fraction: float = 0.2
    loss: str = "ce"  # ce | focal
    seed: int = 1
    device: str = "auto"
    recipe: str = ""
    members: int = 1  # networks trained from seeds seed, seed+1, ...; probabilities averaged
    extra_info: dict = field(default_factory=dict)
    force: bool = False  # write into a non-empty model folder (io.atomic's output rule)
    init_from: str | None = None  # warm start: a checkpoint (name or folder) of the same tensor layout
    min_qual: float | None = None  # PASS threshold recorded for `call` (caller.defaults.model_min_qual)


def load_training_data(folders: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, dict, list]:
    """Labelled rows of every tensors folder: (x, y_gt, y_somatic or None, block ids, layout, sources)."""
    xs, ygt, ysom, blocks, sources, layout = [], [], [], [], [], None
    for k, folder in enumerate(folders):
        sites, tensors, info = load_tensors(folder)
        if "label_gt" not in sites.columns:
            raise UserError(f"{folder}: tensors without labels: re-create them with --truth-vcf (and --confident-bed)")
        if layout is None:
            layout = info
        elif (diff := same_layout(layout, info)):
            raise UserError(f"{folder}: tensor layout differs from {folders[0]} ({diff}): train one model per layout")
        somatic = info["mode"] == "somatic"
        keep = (sites["label_somatic"] >= 0).to_numpy() if somatic else (sites["label_gt"] >= 0).to_numpy()
        xs.append(np.asarray(tensors)[keep])
        ygt.append(sites["label_gt"].to_numpy()[keep])
        if somatic:
            ysom.append(sites["label_somatic"].to_numpy()[keep])
        key = sites["contig"].astype(str) + ":" + (sites["pos"] // BLOCK).astype(str) + f"@{k}"
        blocks.append(np.array([zlib.crc32(s.encode()) for s in key[keep]], dtype=np.uint64))
        sources.append(dict(folder=str(folder), rows=int(keep.sum()), inputs=info.get("inputs"),
                            labels=np.bincount(sites["label_somatic" if somatic else "label_gt"].to_numpy()[keep],
                                               minlength=3).tolist()))
    if not xs or sum(len(x) for x in xs) == 0:
        raise UserError("train-caller: no labelled candidates in the given tensors: check the truth VCF and confident BED")
    return (np.concatenate(xs), np.concatenate(ygt), np.concatenate(ysom) if ysom else None, np.concatenate(blocks),
            layout, sources)


def class_weights(y: np.ndarray, n: int = 3) -> torch.Tensor:
    counts = np.bincount(y[y >= 0], minlength=n).astype(np.float64)
    w = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / n, 0.0)
    return torch.tensor(np.sqrt(w) / max(np.sqrt(w).max(), 1e-9) * n / 2, dtype=torch.float32)


def focal_loss(logits, target, weight, gamma=2.0):
    logp = torch.log_softmax(logits, dim=1)
    ce = nn.functional.nll_loss(logp, target, weight=weight, reduction="none")
    pt = torch.exp(logp.gather(1, target[:, None]).squeeze(1))
    return ((1 - pt) ** gamma * ce).mean()


def f1(pred_pos: np.ndarray, true_pos: np.ndarray) -> float:
    tp = float((pred_pos & true_pos).sum())
    fp = float((pred_pos & ~true_pos).sum())
    fn = float((~pred_pos & true_pos).sum())
    return 2 * tp / max(2 * tp + fp + fn, 1.0)


def validation_f1(probs: dict, y_gt: np.ndarray, y_som: np.ndarray | None) -> dict:
    gt_pred = probs["genotype"].argmax(1)
    out = dict(genotype_accuracy=float((gt_pred == y_gt).mean()),
               variant_f1=f1(gt_pred > 0, y_gt > 0),
               # a true positive needs the right genotype too (as genotype-aware benchmarking)
               genotype_f1=2 * float(((gt_pred == y_gt) & (y_gt > 0)).sum())
               / max(float((gt_pred > 0).sum() + (y_gt > 0).sum()), 1.0))
    if y_som is not None:
        sp = probs["somatic"].argmax(1)
        out["somatic_f1"] = f1(sp == 2, y_som == 2)
        out["germline_f1"] = f1(sp == 1, y_som == 1)
        out["f1"] = out["somatic_f1"]
    else:
        out["f1"] = out["genotype_f1"]
    return out


def train_caller(opts: TrainOptions) -> dict:
    seed_everything(opts.seed)
    device = pick_device(opts.device)
    x, y_gt, y_som, blocks, layout, sources = load_training_data(opts.data)
    somatic = y_som is not None
    u = (blocks % np.uint64(1000)).astype(np.float64) / 1000
    val = u < opts.val_fraction
    if val.all() or not val.any():
        val = np.arange(len(x)) % 5 == 0
    tr = ~val
    log.info("training %s on %d candidates (%d validation), device %s", opts.name, tr.sum(), val.sum(), device)
    cfg = CallerConfig(channels=x.shape[2], somatic=somatic)
    init, init_info = initial_states(opts.init_from, layout, cfg, opts.members) if opts.init_from else (None, None)
    w_gt = class_weights(y_gt[tr]).to(device)
    w_som = class_weights(y_som[tr]).to(device) if somatic else None
    states, member_metrics, histories = {}, [], []
    for k in range(opts.members):
        state, metrics, history = _fit_one(opts, opts.seed + k, cfg, x, y_gt, y_som, tr, val, w_gt, w_som, device,
                                           init[k] if init else None)
        states[f"member{k}"] = state
        member_metrics.append(metrics)
        histories.append(history)
    members = []
    for k in range(opts.members):
        m = CallerNet(cfg)
        m.load_state_dict(states[f"member{k}"])
        members.append(m.to(device))
    ens = Ensemble(members)
    best_metrics = validation_f1(predict_probabilities(ens, x[val], device), y_gt[val], y_som[val] if somatic else None)
    best_metrics["members"] = member_metrics
    history = histories[0] if opts.members == 1 else histories
    info = dict(name=opts.name, version=opts.version, oncorisk_version=__version__,
                layout={k: layout[k] for k in ("format_version", "mode", "window", "width", "dtype", "channels",
                                                "channel_names", "genotype_classes", "somatic_classes")},
                network=cfg.to_dict(), members=opts.members,
                training=dict(sources=sources, rows=int(len(x)), train_rows=int(tr.sum()), validation_rows=int(val.sum()),
                              validation_split=f"10-kb genomic blocks, fraction {opts.val_fraction}",
                              loss=opts.loss, class_weights_genotype=w_gt.cpu().tolist(),
                              class_weights_somatic=w_som.cpu().tolist() if somatic else None,
                              optimizer=f"Adam lr {opts.lr}", batch=opts.batch, max_epochs=opts.epochs,
                              patience=opts.patience, seed=opts.seed, device=str(device), recipe=opts.recipe,
                              init_from=init_info,
                              **opts.extra_info),
                validation=best_metrics, history=history)
    if opts.min_qual is not None:
        info["min_qual"] = float(opts.min_qual)
    folder = Path(opts.out) / f"{opts.name}-v{opts.version}"
    with atomic_dir(folder, "train-caller", opts.force) as tmp:
        torch.save(states, tmp / "model.pt")
        (tmp / "model_info.json").write_text(json.dumps(info, indent=2) + "\n")
    info["folder"] = str(folder)
    return info


def initial_states(spec: str, layout: dict, cfg: CallerConfig, members: int) -> tuple[list[dict], dict]:
    """The warm-start weights for each member (member k of the checkpoint ``spec``, cycled when it has fewer) and
    what model_info.json records of it: name, version and the weights' checksum.

    Raises:
        UserError: when the checkpoint's tensor layout or network differs from the training data's.
    """
    from oncorisk.caller.checkpoint import check_layout, resolve_model
    from oncorisk.io.provenance import sha256

    folder = resolve_model(spec)
    info = json.loads((folder / "model_info.json").read_text())
    check_layout(info, layout, str(folder), "the training tensors")
    if info["network"] != cfg.to_dict():
        raise UserError(f"--init-from {spec}: its network {info['network']} differs from the one these tensors "
                        f"train ({cfg.to_dict()}): start from a checkpoint of the same network, or train from scratch")
    states = torch.load(folder / "model.pt", map_location="cpu", weights_only=True)
    record = dict(name=info["name"], version=info["version"], model_pt_sha256=sha256(folder / "model.pt"))
    return [states[f"member{k % info['members']}"] for k in range(members)], record


def _fit_one(opts: TrainOptions, seed: int, cfg: CallerConfig, x, y_gt, y_som, tr, val, w_gt, w_som, device,
             init: dict | None = None):
    """Train one network (from ``init`` weights when given); returns (best state, its validation metrics,
    history)."""
    seed_everything(seed)
    somatic = y_som is not None
    net = CallerNet(cfg)
    if init is not None:
        net.load_state_dict(init)
    net = net.to(device)
    optim = torch.optim.Adam(net.parameters(), lr=opts.lr, weight_decay=1e-5)

    def loss_fn(logits, target, weight):
        if opts.loss == "focal":
            return focal_loss(logits, target, weight)
        return nn.functional.cross_entropy(logits, target, weight=weight)

    gen = torch.Generator().manual_seed(seed)
    xt = torch.as_tensor(x[tr].astype(np.float32))
    yt = torch.as_tensor(y_gt[tr])
    ys = torch.as_tensor(y_som[tr]) if somatic else None
    stop, best_metrics, history = EarlyStopping(opts.patience, "max"), None, []
    for epoch in range(opts.epochs):
        net.train()
        order = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(order), opts.batch):
            idx = order[i:i + opts.batch]
            out = net(xt[idx].to(device))
            loss = loss_fn(out["genotype"], yt[idx].to(device), w_gt)
            if somatic:
                loss = loss + loss_fn(out["somatic"], ys[idx].to(device), w_som)
            optim.zero_grad()
            loss.backward()
            optim.step()
            total += float(loss.detach()) * len(idx)
        m = validation_f1(predict_probabilities(net, x[val], device), y_gt[val], y_som[val] if somatic else None)
        history.append(dict(epoch=epoch + 1, loss=round(total / max(len(order), 1), 5),
                            **{k: round(v, 5) for k, v in m.items()}))
        log.info("seed %d epoch %d loss %.4f validation F1 %.4f", seed, epoch + 1, total / max(len(order), 1), m["f1"])
        done = stop.step(m["f1"], net)
        if stop.improved:
            best_metrics = dict(epoch=epoch + 1, seed=seed, **m)
        if done:
            break
    return stop.state, best_metrics, history
