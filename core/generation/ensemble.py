"""Ensembles: several trained models sampled and scored as one, their next-chord probabilities averaged.

:class:`EnsembleDecoder` is a :class:`~core.generation.decoder.Decoder` over member decoders: each
step feeds the same token to every member and the ensemble's distribution is the mean of theirs
(in probability, not log space: the mixture a user would get by asking each model in turn).
Everything built on the decoder interface (sampling, locks, guidance, scoring, ranking) then works
on an ensemble unchanged. :func:`load_ensemble` is the one call the command line and the studio
make: one model gives that model's own generator, several give an ensemble.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.generation.decoder import Decoder, DecoderState, SongPlace
from core.generation.loading import Generator, load_generator

#: most models one ensemble averages (each member is a full decoder: time and memory grow with the count).
MAX_MEMBERS = 8


def mean_log_probs(log_probs: Sequence[np.ndarray]) -> np.ndarray:
    """``log(mean_i exp(log_probs[i]))`` row-wise, computed stably (log-sum-exp)."""
    stacked = np.stack([np.asarray(lp, dtype=np.float64) for lp in log_probs])
    top = stacked.max(axis=0)
    return top + np.log(np.exp(stacked - top).mean(axis=0))


class EnsembleDecoder:
    """The mean of several decoders' next-token distributions (see the module docstring)."""

    def __init__(self, members: Sequence[Decoder]) -> None:
        if not members:
            raise InputError("an ensemble needs at least one model")
        sizes = {member.vocab_size for member in members}
        if len(sizes) != 1:
            raise InputError(f"the models of an ensemble must share one chord vocabulary, got sizes {sorted(sizes)}")
        self.members = list(members)
        self.vocab_size = sizes.pop()
        self.backend = f"ensemble of {len(self.members)} ({', '.join(sorted({m.backend for m in self.members}))})"

    def _combine(self, states: list[DecoderState]) -> DecoderState:
        timed = [state.durations for state in states if state.durations is not None]
        durations = mean_log_probs(timed) if timed and len({d.shape[-1] for d in timed}) == 1 else None  # timed members'
        return DecoderState(mean_log_probs([state.log_probs for state in states]), {"members": states}, durations)

    def initial(self, condition_ids: np.ndarray, place: SongPlace | None = None) -> DecoderState:
        if place is None:
            return self._combine([member.initial(condition_ids) for member in self.members])
        return self._combine([member.initial(condition_ids, place) for member in self.members])

    def advance(self, state: DecoderState, token_ids: np.ndarray) -> DecoderState:
        return self._combine([member.advance(part, token_ids)
                              for member, part in zip(self.members, state.internal["members"], strict=True)])

    def take(self, state: DecoderState, rows: np.ndarray) -> DecoderState:
        return self._combine([member.take(part, rows)
                              for member, part in zip(self.members, state.internal["members"], strict=True)])


def load_ensemble(models: str | Path | Sequence[str | Path] | None) -> Generator:
    """A generator for one model or the ensemble of several (``None`` or an empty list: the active model).

    Each entry is what ``--model`` accepts (a run folder, a ``models/`` folder, a ``.keras``
    file); one text may also join several with ``os.pathsep`` (``:``), as the studio passes them.
    The same model named twice counts once. An ensemble's ``model_dir`` is its first member's
    (where calibration and samples are read from).
    """
    if isinstance(models, str) and os.pathsep in models:
        models = models.split(os.pathsep)
    if models is None or isinstance(models, str | Path):
        return load_generator(models)
    unique = list(dict.fromkeys(str(model) for model in models))
    if not unique:
        return load_generator(None)
    if len(unique) > MAX_MEMBERS:
        raise InputError(f"an ensemble averages at most {MAX_MEMBERS} models, got {len(unique)}")
    generators = [load_generator(model) for model in unique]
    files = list(dict.fromkeys(g.model_file for g in generators))
    if len(files) == 1:
        return generators[0]
    return Generator(EnsembleDecoder([g.decoder for g in generators]), generators[0].model_dir, None)
