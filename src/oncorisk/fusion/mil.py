"""Multiple-instance models over patch-feature bags, and their training with bags streamed from a BagStore.

- ``attention`` (the imaging model): patches -> a linear layer -> gated attention pooling (ABMIL, Ilse et al.
  2018: a_n = w^T (tanh(V h_n) * sigmoid(U h_n)), softmax over the bag's patches) -> the slide representation.
- ``mean``: the same, pooling by the mean patch (the baseline that measures what attention adds).
- ``coattention`` (the fused model): genomic tokens, one per pathway score (token_p = s_p e_p + b_p, as SurvPath's
  pathway tokens), attend over the patches (MCAT's genomic-guided co-attention: softmax(q_p k_n / sqrt(h)));
  the co-attended tokens are pooled by gated attention into the slide representation, which is joined with the
  genomic branch by the fusion ``strategy`` (concat, weighted, gated) of ``fusion.model``. A patch's attention in
  the fused model is sum_p beta_p A_pn (beta: the tokens' pooling weights), so it sums to 1 over the bag.

Bags of unequal N share a batch by padding with a patch mask. Training takes at most ``max_patches`` patches per
bag (a fresh seeded subsample per epoch); validation and inference use every patch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from oncorisk.fusion.model import Fuse, mlp

POOLS = ("attention", "mean", "coattention")
NEG = -1e9  # the logit of a padded patch


class GatedAttention(nn.Module):
    """ABMIL's gated attention: one weight per instance, softmax over the unmasked ones."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.v, self.u, self.w = nn.Linear(dim, hidden), nn.Linear(dim, hidden), nn.Linear(hidden, 1)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a = self.w(torch.tanh(self.v(h)) * torch.sigmoid(self.u(h))).squeeze(-1).masked_fill(~mask, NEG)
        w = torch.softmax(a, dim=1)
        return (w.unsqueeze(-1) * h).sum(1), w


class MILNet(nn.Module):
    """genomic_dim (0: no genomic branch), imaging_dim (patch D) -> one output (logit or log-risk; ``bins`` outputs
    for the discrete-time survival loss).

    Args:
        pool: attention | mean | coattention (needs genomic tokens: ``tokens`` column indices of xg).
        strategy: how the genomic and slide representations are joined (fusion.model.Fuse).
    """

    def __init__(self, genomic_dim: int, imaging_dim: int, hidden: int = 32, pool: str = "attention",
                 strategy: str = "gated", dropout: float = 0.2, tokens: list[int] | None = None, outputs: int = 1):
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}")
        self.pool, self.hidden = pool, hidden
        self.tokens = list(tokens or [])
        if pool == "coattention" and not self.tokens:
            raise ValueError("coattention needs genomic tokens")
        self.gen = mlp(genomic_dim, hidden, dropout) if genomic_dim else None
        self.patch = nn.Sequential(nn.Linear(imaging_dim, hidden), nn.ReLU(), nn.Dropout(dropout))
        if pool == "attention":
            self.attn = GatedAttention(hidden, hidden)
        if pool == "coattention":
            p = len(self.tokens)
            self.token_scale = nn.Parameter(torch.randn(p, hidden) * 0.1)
            self.token_bias = nn.Parameter(torch.randn(p, hidden) * 0.1)
            self.q, self.k, self.v = (nn.Linear(hidden, hidden) for _ in range(3))
            self.token_pool = GatedAttention(hidden, hidden)
        self.slide = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU())
        self.fuse = Fuse(hidden, strategy, self.gen is not None)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.fuse.width, outputs))
        self.outputs = outputs

    def forward(self, xg: torch.Tensor, bags: torch.Tensor, pmask: torch.Tensor, imask: torch.Tensor,
                explain: bool = False):
        """xg (B, G); bags (B, N, D) padded; pmask (B, N) bool, True for a real patch; imask (B,) 1 with an image.
        Returns the outputs (B,) (or (B, bins)); with ``explain``, also the patch attention (B, N) and, for
        co-attention, the token weights (B, P) and the co-attention (B, P, N)."""
        h = self.patch(bags)
        beta = co = None
        if self.pool == "mean":
            m = pmask.float().unsqueeze(-1)
            s = (h * m).sum(1) / m.sum(1).clamp(min=1)
            attn = pmask.float() / pmask.float().sum(1, keepdim=True).clamp(min=1)
        elif self.pool == "attention":
            s, attn = self.attn(h, pmask)
        else:
            t = xg[:, self.tokens].unsqueeze(-1) * self.token_scale + self.token_bias  # (B, P, h)
            logits = torch.einsum("bph,bnh->bpn", self.q(t), self.k(h)) / self.hidden ** 0.5
            co = torch.softmax(logits.masked_fill(~pmask.unsqueeze(1), NEG), dim=2)  # (B, P, N)
            tokens = torch.einsum("bpn,bnh->bph", co, self.v(h))
            s, beta = self.token_pool(tokens, torch.ones(tokens.shape[:2], dtype=torch.bool, device=h.device))
            attn = torch.einsum("bp,bpn->bn", beta, co)
        i = self.slide(s) * imask[:, None]
        g = self.gen(xg) if self.gen is not None else None
        out = self.head(self.fuse(g, i))
        out = out.squeeze(-1) if self.outputs == 1 else out
        return (out, attn, beta, co) if explain else out


@dataclass(frozen=True)
class BagScaler:
    """What the models see of a patch: its features standardised by the training patches' per-dimension mean and
    sd, then (with ``components``) projected onto the top principal components of the standardised training
    patches (D x K). With a few hundred training slides, a 1,024-d patch encoder's features give the first layer
    far more weights than the labels can fit; the components come from the patches themselves (tens of thousands
    per fold, no label), so the directions that vary between patches (tissue kinds, the tumour) are kept and the
    rest of the noise is not."""

    mean: np.ndarray
    sd: np.ndarray
    components: np.ndarray | None = None

    @classmethod
    def fit(cls, store, rows: np.ndarray, components: int = 0) -> "BagScaler":
        """From the store's per-patient sums and patch subsamples (fusion.bags.BagStore.sums, .sample): no bag is
        read. ``components`` 0, or not fewer than D: no projection."""
        d = store.dim
        s, ss, n = np.zeros(d), np.zeros(d), 0
        for i in rows:
            if int(i) in store.sums:
                total, squares = store.sums[int(i)]
                s += total
                ss += squares
                n += int(store.n[i])
        mean = s / max(n, 1)
        sd = np.sqrt(np.maximum(ss / max(n, 1) - mean ** 2, 0))
        sd = np.where(sd > 0, sd, 1.0)
        proj = None
        sample = [store.sample[int(i)] for i in rows if int(i) in store.sample]
        if 0 < components < d and sample:
            cov = np.zeros((d, d))
            for f in sample:  # one patient at a time: no copy of the whole sample in float64
                z = (f.astype(np.float64) - mean) / sd
                cov += z.T @ z
            vals, vecs = np.linalg.eigh(cov / sum(len(f) for f in sample))
            proj = vecs[:, np.argsort(vals)[::-1][:components]]
            proj *= np.where(proj[np.abs(proj).argmax(0), np.arange(proj.shape[1])] < 0, -1.0, 1.0)  # fixed signs
            proj = proj.astype(np.float32)
        return cls(mean.astype(np.float32), sd.astype(np.float32), proj)

    @property
    def dim(self) -> int:
        return len(self.mean) if self.components is None else self.components.shape[1]

    def transform(self, f: np.ndarray) -> np.ndarray:
        z = (f - self.mean) / self.sd
        return z if self.components is None else z @ self.components


def batch(store, scaler: BagScaler, rows, max_patches: int | None, rng: np.random.Generator | None):
    """Padded (B, N, K) model inputs (BagScaler.transform) and (B, N) patch mask of the bags of ``rows`` (at most
    ``max_patches`` each, a sorted seeded subsample)."""
    feats = []
    for i in rows:
        f = store.get(int(i))[0]
        if max_patches and len(f) > max_patches:
            f = f[np.sort(rng.choice(len(f), size=max_patches, replace=False))]
        feats.append(scaler.transform(f))
    n = max(1, max(len(f) for f in feats))
    x = np.zeros((len(feats), n, scaler.dim), np.float32)
    m = np.zeros((len(feats), n), bool)
    for b, f in enumerate(feats):
        x[b, :len(f)] = f
        m[b, :len(f)] = True
    return torch.from_numpy(x), torch.from_numpy(m)


def fit_mil(cfg, xg: np.ndarray, store, imask: np.ndarray, outcome, tr: np.ndarray, va: np.ndarray,
            pool: str, genomic: bool, seed: int, scaler: BagScaler, tokens: list[int], outputs: int = 1):
    """Train one bag model on rows ``tr`` (minibatches of ``cfg.bag_batch`` bags, at most ``cfg.max_patches``
    patches each), early stopping on the loss of rows ``va`` with all their patches. ``xg``: the standardised
    genomic features; ``outcome``: fusion.train.Outcome. Returns the model."""
    from oncorisk.repro import EarlyStopping, pick_device, seed_everything

    seed_everything(seed)
    dev = pick_device(cfg.device)
    model = MILNet(xg.shape[1] if genomic else 0, scaler.dim, cfg.hidden, pool, cfg.strategy, cfg.dropout,
                   tokens, outputs).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng = np.random.default_rng(seed)
    pos_weight = outcome.pos_weight(tr)
    G = torch.as_tensor(xg, dtype=torch.float32)
    M = torch.as_tensor(imask, dtype=torch.float32)
    stop = EarlyStopping(cfg.bag_patience)
    for _ in range(cfg.bag_epochs):
        model.train()
        order = rng.permutation(tr)
        for start in range(0, len(order), cfg.bag_batch):
            rows = order[start:start + cfg.bag_batch]
            if outcome.y is None and outcome.bins is None and outcome.event[rows].sum() == 0:
                continue  # a Cox batch without an event has no gradient
            x, pm = batch(store, scaler, rows, cfg.max_patches, rng)
            im = M[rows]
            if genomic and cfg.modality_dropout:
                im = im * (torch.as_tensor(rng.random(len(rows))) >= cfg.modality_dropout).float()
            out = model(G[rows].to(dev), x.to(dev), pm.to(dev), im.to(dev))
            loss = outcome.loss(out, rows, pos_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            vo = predict_mil(model, cfg, xg, store, imask, va, scaler)[0]
            vl = float(outcome.loss(torch.as_tensor(vo, dtype=torch.float32), va, pos_weight))
        if stop.step(vl, model):
            break
    stop.restore(model)
    return model.eval()


def predict_mil(model, cfg, xg, store, imask, rows, scaler: BagScaler, explain: bool = False):
    """Outputs of ``rows`` with all their patches; with ``explain``, per row the patch attention (N,), and for
    co-attention the token weights (P,) and the co-attention (P, N)."""
    from oncorisk.repro import pick_device

    dev = pick_device(cfg.device)
    outs, attn, beta, co = [], [], [], []
    with torch.no_grad():
        for start in range(0, len(rows), cfg.bag_batch):
            r = np.asarray(rows[start:start + cfg.bag_batch])
            x, pm = batch(store, scaler, r, None, None)
            res = model(torch.as_tensor(xg[r], dtype=torch.float32, device=dev), x.to(dev), pm.to(dev),
                        torch.as_tensor(imask[r], dtype=torch.float32, device=dev), explain=True)
            outs.append(res[0].cpu().numpy())
            if explain:
                for b, i in enumerate(r):
                    n = int(store.n[i])
                    attn.append(res[1][b, :n].cpu().numpy())
                    beta.append(None if res[2] is None else res[2][b].cpu().numpy())
                    co.append(None if res[3] is None else res[3][b, :, :n].cpu().numpy())
    out = np.concatenate(outs) if outs else np.zeros(0)
    return (out, attn, beta, co) if explain else (out,)
