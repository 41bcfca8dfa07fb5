"""The caller's forward pass on the CPU without torch: the checkpoint's weights read from ``model.pt`` with the
standard library and numpy, and ``CallerNet`` + ``Ensemble`` (caller/model.py) evaluated in float32 numpy.

Why: importing torch takes about a second, which on a small region is most of ``oncorisk call``'s time (the
100-kb NA12878 slice: 2.4 s against bcftools' 1.2 s). ``call`` uses this path when it runs on the CPU, torch when a
GPU is used. The two agree to float32 rounding (tests/test_caller.py compares them on the shipped models); each path
is deterministic, so a rerun on the same machine writes the same bytes.

``model.pt`` is torch's zip format (``torch.save``): ``<name>/data.pkl``, a pickle whose tensors point by key at raw
little-endian storages ``<name>/data/<key>``. Only what caller checkpoints hold is accepted: float32 tensors in
dicts; anything else is refused (``load_checkpoint`` with torch reads such files).
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np

from oncorisk.tensors.layout import GENOTYPE_CLASSES, SOMATIC_CLASSES, WINDOW

_DTYPES = {"FloatStorage": "<f4"}  # torch's storage types accepted, and their little-endian layout on disk
_CLASSES = {"genotype": GENOTYPE_CLASSES, "somatic": SOMATIC_CLASSES}


def _rebuild_tensor(storage: np.ndarray, offset, size, stride, *_):
    """torch._utils._rebuild_tensor_v2 for numpy: the strided view of the storage, copied into a native float32
    array (the one copy of the weights)."""
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=tuple(size),
                                           strides=tuple(s * storage.itemsize for s in stride))
    return np.array(view, dtype=np.float32)


class _Unpickler(pickle.Unpickler):
    def __init__(self, fh, archive: zipfile.ZipFile, prefix: str):
        super().__init__(fh)
        self.archive, self.prefix = archive, prefix

    def find_class(self, module: str, name: str):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return name
        raise pickle.UnpicklingError(f"unsupported object {module}.{name}")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, _numel = pid
        if kind != "storage" or storage_type not in _DTYPES:
            raise pickle.UnpicklingError(f"unsupported storage {storage_type}")
        return np.frombuffer(self.archive.read(f"{self.prefix}/data/{key}"), dtype=_DTYPES[storage_type])


def read_state_dicts(path: str | Path) -> dict:
    """The dict ``torch.save`` wrote to ``path`` (a caller checkpoint: member name -> parameter name -> array)."""
    with zipfile.ZipFile(path) as archive:
        pkl = next(n for n in archive.namelist() if n.endswith("/data.pkl"))
        prefix = pkl[: -len("/data.pkl")]
        byteorder = f"{prefix}/byteorder"
        if byteorder in archive.namelist() and archive.read(byteorder).strip() != b"little":
            raise pickle.UnpicklingError("big-endian storages")
        return _Unpickler(io.BytesIO(archive.read(pkl)), archive, prefix).load()


def _conv1d_relu(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """ReLU(Conv1d) with 'same' padding over (batch, width, channels); w is torch's (out, in, kernel). One GEMM gives
    every kernel tap's response at every column; the taps are then added at their offsets."""
    batch, width, channels = x.shape
    out_ch, k = w.shape[0], w.shape[2]
    pad = k // 2
    taps = (x.reshape(batch * width, channels) @ w.transpose(1, 2, 0).reshape(channels, k * out_ch)).reshape(
        batch, width, k, out_ch)
    out = np.empty((batch, width, out_ch), np.float32)
    out[:] = b
    for j in range(k):  # out[:, t] += taps[:, t + j - pad, j] where that column exists (zero padding elsewhere)
        s = j - pad
        lo, hi = max(0, -s), min(width, width - s)
        out[:, lo:hi] += taps[:, lo + s:hi + s, j]
    return np.maximum(out, 0, out=out)


def _lstm_direction(x: np.ndarray, w_ih, w_hh, bias, reverse: bool) -> np.ndarray:
    """One direction of torch's LSTM over (batch, width, in) -> (batch, width, hidden). The weights come from
    ``_lstm_weights``: the gates i, f and o pre-scaled by 1/2, so that one tanh gives every gate
    (sigmoid(v) = (tanh(v/2) + 1) / 2)."""
    batch, width, _ = x.shape
    hidden = w_hh.shape[0]  # W_hh^T: (hidden, 4 hidden)
    pre = (x.reshape(batch * width, -1) @ w_ih + bias).reshape(batch, width, -1)  # (B, W, 4H), one GEMM
    h = np.zeros((batch, hidden), np.float32)
    c = np.zeros((batch, hidden), np.float32)
    out = np.empty((batch, width, hidden), np.float32)
    for t in (range(width - 1, -1, -1) if reverse else range(width)):
        g = np.tanh(pre[:, t] + h @ w_hh)
        i, f, gg, o = (g[:, k * hidden:(k + 1) * hidden] for k in range(4))
        c = 0.5 * ((f + 1) * c + (i + 1) * gg)
        h = 0.5 * (o + 1) * np.tanh(c)
        out[:, t] = h
    return out


def _lstm_weights(p: dict, suffix: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(W_ih^T, W_hh^T, b_ih + b_hh) of one direction, the i, f and o gates' columns halved (``_lstm_direction``)."""
    w_ih, w_hh = p[f"lstm.weight_ih_l0{suffix}"], p[f"lstm.weight_hh_l0{suffix}"]
    bias = p[f"lstm.bias_ih_l0{suffix}"] + p[f"lstm.bias_hh_l0{suffix}"]
    hidden = w_hh.shape[1]
    scale = np.full(4 * hidden, 0.5, np.float32)
    scale[2 * hidden:3 * hidden] = 1.0  # g: tanh itself
    return (np.ascontiguousarray((w_ih * scale[:, None]).T), np.ascontiguousarray((w_hh * scale[:, None]).T),
            bias * scale)


def _softmax(v: np.ndarray) -> np.ndarray:
    e = np.exp(v - v.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class NumpyEnsemble:
    """``Ensemble`` of ``CallerNet`` members in eval mode, from their state dicts (float32)."""

    def __init__(self, states: dict, members: int, somatic: bool):
        self.members = []
        for m in range(members):
            p = dict(states[f"member{m}"])
            p.update({f"lstm{s}": _lstm_weights(p, s) for s in ("", "_reverse")})
            self.members.append(p)
        self.heads = ["genotype"] + (["somatic"] if somatic else [])

    def _member(self, p: dict, x: np.ndarray) -> dict[str, np.ndarray]:
        h = x
        for layer in (0, 2, 4):
            h = _conv1d_relu(h, p[f"conv.{layer}.weight"], p[f"conv.{layer}.bias"])
        lstm = [_lstm_direction(h, *p[f"lstm{s}"], reverse=bool(s)) for s in ("", "_reverse")]
        h = np.concatenate(lstm, axis=2)
        z = np.concatenate([h[:, WINDOW], h.mean(axis=1), x[:, WINDOW]], axis=1)
        z = np.maximum(z @ p["trunk.1.weight"].T + p["trunk.1.bias"], 0)
        return {k: z @ p[f"{k}.weight"].T + p[f"{k}.bias"] for k in self.heads}

    def probabilities(self, x: np.ndarray, batch: int = 1024) -> dict[str, np.ndarray]:
        """As ``model.predict_probabilities``: the softmax of the ensemble's output (the log of its members'
        averaged class probabilities, + 1e-12)."""
        outs: dict[str, list] = {k: [] for k in self.heads}
        for i in range(0, len(x), batch):
            xb = np.asarray(x[i:i + batch], dtype=np.float32)
            per = [self._member(p, xb) for p in self.members]
            for k in self.heads:
                mean = np.mean([_softmax(o[k]) for o in per], axis=0)
                outs[k].append(_softmax(np.log(mean + 1e-12)).astype(np.float32))
        return {k: np.concatenate(v) if v else np.zeros((0, len(_CLASSES[k])), np.float32) for k, v in outs.items()}
