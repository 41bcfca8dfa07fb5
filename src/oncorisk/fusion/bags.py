"""Whole-slide images as patch-feature bags: the readers and the checks, and a store that streams bags from disk.

A slide is what CLAM (``extract_features_fp.py``) or TRIDENT write for it:
  - CLAM ``h5_files/<slide>.h5``: datasets ``features`` float (N, D) and ``coords`` int (N, 2);
  - CLAM ``pt_files/<slide>.pt``: a tensor (N, D);
  - TRIDENT ``features_<encoder>/<slide>.h5``: ``features`` (N, D), ``coords`` (N, 2), the encoder named in the
    attributes (``encoder`` or ``patch_encoder``, on ``features`` or on the file); no tissue gives N = 0;
  - ``.npy``: (N, D), or (D,) for one slide-level vector; ``.csv``/``.tsv``/``.parquet``: one vector.
Datasets are found by name, never by position. A patient with several slides lists them in the sample sheet's
``image_embedding`` separated by ``;`` (``config.SLIDE_SEPARATOR``): their bags are concatenated and each patch
keeps the index of its slide. A patient whose slides hold no patch (N = 0) has no image and is scored from genomics.

Each check stops with one line naming the file, the field, the value and the fix.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from oncorisk.errors import UserError

log = logging.getLogger(__name__)
ENCODER_ATTRS = ("encoder", "patch_encoder", "encoder_name", "model")  # where TRIDENT-like writers name the encoder
BAG_SUFFIXES = (".h5", ".hdf5", ".pt", ".npy")
VECTOR_SUFFIXES = (".csv", ".tsv", ".parquet")
# patches kept in memory, over the cohort, for the folds' principal components (fusion.mil.BagScaler): a seeded
# subsample of each bag, taken in the checking pass (65,536 x 1,024-d float32 is 256 MB)
PCA_SAMPLE = 1 << 16


@dataclass
class Slide:
    """One slide: ``features`` float32 (N, D), ``coords`` int32 (N, 2) or None, the encoder if the file names it."""

    path: str
    features: np.ndarray
    coords: np.ndarray | None
    encoder: str | None = None


def _decoded(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _h5_slide(path: Path) -> Slide:
    import h5py

    with h5py.File(path, "r") as fh:
        names: list[str] = []
        fh.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
        if "features" in names:
            ds = fh["features"]
        elif len(names) == 1 and names[0] != "coords":
            ds = fh[names[0]]  # a single unnamed dataset: one slide-level vector (or bag) of an older writer
        else:
            raise UserError(f"{path}: datasets {', '.join(names[:6]) or 'none'}: no 'features' dataset: a patch-feature "
                            f"bag needs 'features' (N, D) (CLAM/TRIDENT layout), with 'coords' (N, 2) beside it")
        encoder = next((_decoded(a[k]) for a in (ds.attrs, fh.attrs) for k in ENCODER_ATTRS if k in a), None)
        features = ds[()]
        coords = fh["coords"][()] if "coords" in names and ds.name != "/coords" else None
    return Slide(str(path), np.asarray(features), None if coords is None else np.asarray(coords), encoder)


def _pt_slide(path: Path) -> Slide:
    import torch

    obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, dict):
        if "features" not in obj:
            raise UserError(f"{path}: keys {', '.join(map(str, list(obj)[:6]))}: no 'features': save the (N, D) "
                            f"tensor itself (CLAM's pt_files) or a dict with 'features' and 'coords'")
        coords = obj.get("coords")
        return Slide(str(path), np.asarray(obj["features"]), None if coords is None else np.asarray(coords))
    return Slide(str(path), np.asarray(obj), None)


def _vector_slide(path: Path) -> Slide:
    import pandas as pd

    if path.suffix.lower() == ".parquet":
        v = pd.read_parquet(path).select_dtypes("number").to_numpy(dtype=float)
    else:
        v = pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",", header=None).to_numpy(dtype=float)
    if sum(n > 1 for n in v.shape) > 1:
        raise UserError(f"{path}: table of shape {v.shape}: a table holds one slide-level vector (one row or "
                        f"column); give a patch-feature bag as .h5, .pt or .npy")
    return Slide(str(path), v.ravel(), None)


def read_slide(path: str | Path) -> Slide:
    """One slide file, checked: 2-D numeric features (a 1-D vector is a bag of one), coords (N, 2) of the same N,
    no NaN or infinite value. Features come back float32 (float64 input stays float64)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in BAG_SUFFIXES + VECTOR_SUFFIXES:
        raise UserError(f"{path}: embedding format {suffix!r} not supported: use a patch-feature bag (.h5, .pt, "
                        f".npy) or one vector (.npy, .pt, .csv, .tsv, .parquet, .h5)")
    try:
        if suffix in (".h5", ".hdf5"):
            slide = _h5_slide(path)
        elif suffix == ".pt":
            slide = _pt_slide(path)
        elif suffix == ".npy":
            slide = Slide(str(path), np.load(path, allow_pickle=False), None)
        else:
            slide = _vector_slide(path)
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader error becomes one line
        raise UserError(f"{path}: cannot read the slide ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}): "
                        f"check the file (CLAM/TRIDENT .h5, .pt or .npy)") from None
    f = slide.features
    if f.dtype.kind not in "fiu":
        raise UserError(f"{path}: field features: type {f.dtype}: not numeric: give float features (N, D)")
    if f.size == 0:  # a slide without tissue (TRIDENT writes N = 0): no patch
        return Slide(slide.path, np.zeros((0, f.shape[1] if f.ndim == 2 else 0), np.float32),
                     np.zeros((0, 2), np.int32), slide.encoder)
    if f.ndim == 1:
        f = f[None, :]
    elif f.ndim == 2 and f.shape[1] == 1 and f.shape[0] > 1 and slide.coords is None and suffix not in (".h5", ".hdf5"):
        f = f.T  # a (D, 1) column vector
    if f.ndim != 2:
        raise UserError(f"{path}: field features: shape {tuple(slide.features.shape)}: not 2-D: give (N patches, D "
                        f"dimensions), or (D,) for one slide-level vector")
    c = slide.coords
    if c is not None:
        c = np.asarray(c)
        if c.ndim != 2 or c.shape[1] != 2 or c.shape[0] != f.shape[0]:
            raise UserError(f"{path}: field coords: shape {tuple(c.shape)}: must be (N, 2) with N = {f.shape[0]}, the "
                            f"rows of features: rewrite the file with one (x, y) per patch")
        c = c.astype(np.int32)
    if f.size and not np.isfinite(f).all():
        bad = int(np.flatnonzero(~np.isfinite(f).all(axis=1))[0])
        raise UserError(f"{path}: field features: patch {bad}: NaN or infinite values: re-extract the features, or "
                        f"drop the slide so the patient is treated as missing its image")
    # float16 (as TRIDENT may store) and integers become float32; float64 vectors stay exact
    return Slide(slide.path, np.ascontiguousarray(f, dtype=np.float64 if f.dtype == np.float64 else np.float32), c,
                 slide.encoder)


@dataclass
class PatientBag:
    """A patient's slides joined: patch counts per slide; ``coords`` None where a slide has none."""

    sources: list[str]
    n_patches: int
    dim: int
    encoder: str | None
    slides: list[int] = field(default_factory=list)


def read_patient(cell: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, PatientBag]:
    """The features (N, D), coords (N, 2) (-1 where a slide has none) and slide index (N,) of one patient's slides
    (``image_embedding`` with paths separated by ``;``); refuses slides of different D or encoders."""
    from oncorisk.config import SLIDE_SEPARATOR

    slides = [read_slide(p) for p in cell.split(SLIDE_SEPARATOR)]
    first = slides[0]
    for s in slides[1:]:
        if s.features.shape[1] != first.features.shape[1] and s.features.shape[0] and first.features.shape[0]:
            raise UserError(f"{s.path}: field features: {s.features.shape[1]} dimensions, the patient's slide "
                            f"{first.path} {first.features.shape[1]}: one patient's slides must come from one encoder")
        if s.encoder and first.encoder and s.encoder != first.encoder:
            raise UserError(f"{s.path}: attribute encoder: {s.encoder!r}, the patient's slide {first.path} "
                            f"{first.encoder!r}: one patient's slides must come from one encoder")
    nonempty = [s for s in slides if s.features.shape[0]]
    dim = nonempty[0].features.shape[1] if nonempty else first.features.shape[1]
    feats = np.concatenate([s.features for s in nonempty]) if nonempty else np.zeros((0, dim), np.float32)
    coords = np.concatenate([s.coords if s.coords is not None else np.full((len(s.features), 2), -1, np.int32)
                             for s in nonempty]) if nonempty else np.zeros((0, 2), np.int32)
    index = np.concatenate([np.full(len(s.features), k, np.int32) for k, s in enumerate(slides) if len(s.features)]) \
        if nonempty else np.zeros(0, np.int32)
    info = PatientBag([s.path for s in slides], len(feats), dim, next((s.encoder for s in slides if s.encoder), None),
                      [len(s.features) for s in slides])
    return feats, coords, index, info


class BagStore:
    """The cohort's bags, row-aligned with the patients: read once to check them, then served from memory while
    they fit in ``cache_bytes`` (float32) and streamed from disk otherwise (a benchmark cohort of 1,000 slides x
    2,000 patches x 1,024 dimensions is 8 GB in float32).

    ``cells[i]`` is patient i's ``image_embedding`` (None: no image). Patients whose slides hold no patch have
    ``n[i] == 0`` and count as having no image.
    """

    def __init__(self, cells: list[str | None], encoder: str | None = None, cache_bytes: int = 1 << 30):
        self.cells = list(cells)
        self.n = np.zeros(len(cells), dtype=np.int64)
        self.info: list[PatientBag | None] = [None] * len(cells)
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        # per patient, the float64 sum and sum of squares of its patches, taken in the checking pass: the mean
        # patch and any fold's patch scaler come from them without reading a bag again
        self.sums: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        # per patient, a seeded subsample of its patches (at most an equal share of PCA_SAMPLE): the folds'
        # principal components come from it, again without reading a bag
        self.sample: dict[int, np.ndarray] = {}
        quota = max(16, -(-PCA_SAMPLE // max(1, sum(1 for c in self.cells if c))))
        dims: dict[int, int] = {}  # patient -> D
        encoders: dict[str, str] = {}
        used = 0
        for i, cell in enumerate(self.cells):
            if not cell:
                continue
            feats, coords, index, info = read_patient(cell)
            self.info[i], self.n[i] = info, info.n_patches
            if info.n_patches:
                dims[i] = info.dim
                f = feats.astype(np.float64)
                self.sums[i] = (f.sum(0), (f * f).sum(0))
                keep = np.sort(np.random.default_rng([i, len(feats)]).choice(len(feats), quota, replace=False)) \
                    if len(feats) > quota else slice(None)
                self.sample[i] = np.asarray(feats[keep], dtype=np.float32)  # a small bag: itself, no copy
            if info.encoder:
                encoders.setdefault(info.encoder, info.sources[0])
            if used + feats.nbytes <= cache_bytes:
                self._cache[i] = (feats, coords, index)
                used += feats.nbytes
        if len(set(dims.values())) > 1:
            values = list(dims.values())
            common = max(set(values), key=lambda d: (values.count(d), -values.index(d)))
            bad = next(i for i, d in dims.items() if d != common)
            raise UserError(f"{self.info[bad].sources[0]}: field features: {dims[bad]} dimensions, the other slides "
                            f"{common}: every slide must come from the same patch encoder (re-extract it, or leave it "
                            f"out of the sheet)")
        if len(encoders) > 1:
            (a, pa), (b, pb) = list(encoders.items())[:2]
            raise UserError(f"{pb}: attribute encoder: {b!r}, {pa} says {a!r}: every slide must come from the same "
                            f"patch encoder")
        found = next(iter(encoders), None)
        if encoder and found and found != encoder:
            raise UserError(f"{encoders[found]}: attribute encoder: {found!r}, but the config's fusion.encoder says "
                            f"{encoder!r}: set fusion.encoder to the encoder that made the features, or re-extract")
        self.encoder = encoder or found
        self.dim = next(iter(dims.values()), 0)
        empty = [i for i, c in enumerate(self.cells) if c and self.n[i] == 0]
        if empty:
            log.warning("%d patients' slides hold no patch (no tissue) and are scored from genomics alone (e.g. %s)",
                        len(empty), self.cells[empty[0]])
        self.empty = empty

    def take(self, rows) -> "BagStore":
        """The store of a subset of the patients (rows in the new order), sharing what is cached."""
        sub = object.__new__(BagStore)
        rows = [int(r) for r in rows]
        sub.cells = [self.cells[r] for r in rows]
        sub.n = self.n[rows].copy()
        sub.info = [self.info[r] for r in rows]
        sub._cache = {k: self._cache[r] for k, r in enumerate(rows) if r in self._cache}
        sub.sums = {k: self.sums[r] for k, r in enumerate(rows) if r in self.sums}
        sub.sample = {k: self.sample[r] for k, r in enumerate(rows) if r in self.sample}
        sub.encoder, sub.dim = self.encoder, self.dim
        sub.empty = [k for k, r in enumerate(rows) if r in set(self.empty)]
        return sub

    @property
    def has_image(self) -> np.ndarray:
        return self.n > 0

    def is_bag(self) -> bool:
        """True when some slide has more than one patch (else every image is one vector)."""
        return bool((self.n > 1).any())

    def get(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Patient i's (features float32 (N, D), coords (N, 2), slide index (N,))."""
        if i in self._cache:
            return self._cache[i]
        if not self.cells[i]:
            return np.zeros((0, self.dim), np.float32), np.zeros((0, 2), np.int32), np.zeros(0, np.int32)
        feats, coords, index, _ = read_patient(self.cells[i])
        return feats, coords, index

    def mean(self) -> np.ndarray:
        """Each patient's mean patch (n x D; zeros without an image): the input of the mean-pooling baselines and of
        the one-vector models."""
        out = np.zeros((len(self.cells), self.dim))
        for i, (total, _) in self.sums.items():
            out[i] = total / self.n[i]
        return out

    def record(self) -> dict:
        """What run_info.json records of the cohort's slides."""
        n = self.n[self.has_image]
        return dict(encoder=self.encoder, dimensions=int(self.dim), patients_with_patches=int(len(n)),
                    patients_without_patches=len(self.empty), slides=int(sum(len(b.sources) for b in self.info if b)),
                    patches_total=int(n.sum()), patches_min=int(n.min()) if len(n) else 0,
                    patches_median=float(np.median(n)) if len(n) else 0.0, patches_max=int(n.max()) if len(n) else 0)
