"""The training helpers every stage's models share (oncorisk.repro)."""

from __future__ import annotations

import pytest
import torch

from oncorisk.repro import EarlyStopping


def _model(value: float) -> torch.nn.Module:
    m = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        m.weight.fill_(value)
    return m


@pytest.mark.parametrize("mode,scores,best,stops_at", [
    ("min", [1.0, 0.8, 0.9, 0.85, 0.8, 0.7], 0.8, 4),  # a loss: 0.8 at epoch 2, three epochs without a gain
    ("max", [0.1, 0.5, 0.5, 0.4, 0.3, 0.9], 0.5, 4),  # an F1: a tie is no gain
])
def test_early_stopping_keeps_the_best_state_and_stops_after_patience(mode, scores, best, stops_at):
    stop = EarlyStopping(patience=3, mode=mode)
    model = _model(0.0)
    for epoch, score in enumerate(scores):
        with torch.no_grad():
            model.weight.fill_(float(epoch))  # the state after this epoch
        if stop.step(score, model):
            break
    assert epoch == stops_at and stop.best == best  # stopped on the third epoch in a row without a gain
    stop.restore(model)
    assert float(model.weight) == 1.0  # the state of epoch 2 (index 1), the best
    assert not stop.improved


def test_early_stopping_without_a_recorded_epoch_leaves_the_model_as_it_is():
    model = _model(3.0)
    EarlyStopping(patience=2).restore(model)
    assert float(model.weight) == 3.0
    with pytest.raises(ValueError):
        EarlyStopping(patience=2, mode="best")
