"""Caller checkpoints: ``models/<name>-v<semver>/`` with ``model.pt`` and ``model_info.json``.

``model.pt`` holds the state dicts of one or more members (``member0``, ...), trained from consecutive
seeds; their class probabilities are averaged.

``model_info.json`` records the package version, the tensor layout (format version, mode, window,
channel names), the network's configuration, the training data and recipe, and validation metrics. A
checkpoint is only applied to tensors of the same layout.

Two loaders: ``load_checkpoint`` (torch: training, fine-tuning, GPU inference) and ``load_cpu_model`` (the same
weights for caller/cpu.py's numpy forward pass, without importing torch). torch is imported only by the first.
"""

from __future__ import annotations

import json
import pickle
import re
import zipfile
from pathlib import Path

from oncorisk.errors import UserError
from oncorisk.resources import resource_path
from oncorisk.tensors.layout import same_layout

NAME_RE = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+?)-v(?P<version>\d+\.\d+\.\d+)$")


def bundled_models() -> dict[str, Path]:
    """Shipped checkpoints by name (the newest version of each) and by name-vX.Y.Z."""
    root = resource_path("models")
    out: dict[str, Path] = {}
    if not root.is_dir():
        return out
    found = []
    for d in sorted(root.iterdir()):
        m = NAME_RE.match(d.name)
        if m and (d / "model_info.json").is_file():
            found.append((m["name"], tuple(int(x) for x in m["version"].split(".")), d))
    for name, version, d in sorted(found):
        out[name] = d  # sorted ascending: the last (newest) wins
        out[d.name] = d
    return out


def resolve_model(spec: str) -> Path:
    """A checkpoint folder from a bundled name (``germline-illumina``) or a path."""
    p = Path(spec)
    if (p / "model_info.json").is_file():
        return p
    models = bundled_models()
    if spec in models:
        return models[spec]
    raise UserError(f"--model: bad value {spec!r}: neither a checkpoint folder (with model_info.json) nor a bundled "
                    f"model ({', '.join(sorted(k for k in models if '-v' not in k)) or 'none installed'})")


def _unusable(folder: Path, exc: BaseException) -> UserError:
    why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return UserError(f"{folder}: not a usable oncorisk caller checkpoint ({why}): re-train it with 'oncorisk "
                     f"train-caller' or use a bundled model")


_BAD = (KeyError, TypeError, RuntimeError, ValueError, OSError, EOFError, StopIteration, pickle.UnpicklingError,
        zipfile.BadZipFile)


def load_cpu_model(spec: str):
    """(caller.cpu.NumpyEnsemble, model_info) of a checkpoint, for inference on the CPU without torch."""
    from oncorisk.caller.cpu import NumpyEnsemble, read_state_dicts

    folder = resolve_model(spec)
    try:
        info = json.loads((folder / "model_info.json").read_text())
        net = NumpyEnsemble(read_state_dicts(folder / "model.pt"), int(info.get("members", 1)),
                            info["layout"]["mode"] == "somatic")
    except _BAD as exc:
        raise _unusable(folder, exc) from None
    return net, info


def load_checkpoint(spec: str, device="cpu"):
    """(model.Ensemble on ``device``, model_info) of a checkpoint (torch)."""
    import torch

    from oncorisk.caller.model import CallerConfig, CallerNet, Ensemble

    folder = resolve_model(spec)
    try:
        info = json.loads((folder / "model_info.json").read_text())
        cfg = CallerConfig(**info["network"])
        states = torch.load(folder / "model.pt", map_location="cpu", weights_only=True)
        members = []
        for k in range(int(info.get("members", 1))):
            m = CallerNet(cfg)
            m.load_state_dict(states[f"member{k}"])
            members.append(m)
        net = Ensemble(members)
    except _BAD as exc:
        raise _unusable(folder, exc) from None
    net.to(device).eval()
    return net, info


def check_layout(model_info: dict, tensor_info: dict, model_path: str, tensors_path: str) -> None:
    """Refuse to apply a model to tensors of another layout, saying what differs."""
    diff = same_layout(model_info["layout"], tensor_info)
    if diff:
        raise UserError(f"{model_path}: the model was trained on tensors of another layout than {tensors_path} "
                        f"({diff}): use a model made for this tensor layout (germline vs somatic, same "
                        f"oncorisk tensor format), or re-create the tensors with the model's oncorisk version")
