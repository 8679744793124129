"""Plotly figures the pages show; one builder per kind of chart, shared by every page that needs it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

ACCENT = "#6C4AB6"
SECOND = "#E07A5F"
_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "template": "plotly_white"}


def count_bars(counts: pd.DataFrame, column: str, title: str, measure: str = "songs") -> go.Figure:
    """Horizontal bars of ``measure`` (songs or windows) per value of ``column``, largest on top."""
    ordered = counts.sort_values(measure)
    figure = px.bar(ordered, x=measure, y=column, orientation="h", title=title, color_discrete_sequence=[ACCENT],
                    hover_data=["songs", "windows"])
    figure.update_layout(**_LAYOUT, height=max(220, 24 * len(ordered) + 80), yaxis_title=None)
    return figure


def length_bars(lengths: pd.Series) -> go.Figure:
    """Windows per progression length (chords)."""
    figure = px.bar(x=lengths.index, y=lengths.values, labels={"x": "chords in the window", "y": "windows"},
                    title="Progression length", color_discrete_sequence=[ACCENT])
    figure.update_layout(**_LAYOUT, height=320)
    figure.update_xaxes(dtick=1)
    return figure


def chord_bars(counts: pd.Series) -> go.Figure:
    """The most frequent chords, in order."""
    figure = px.bar(x=list(counts.index), y=counts.values, labels={"x": "chord", "y": "occurrences"},
                    title=f"The {len(counts)} most frequent chords", color_discrete_sequence=[ACCENT])
    figure.update_layout(**_LAYOUT, height=340)
    return figure


def transition_heatmap(matrix: pd.DataFrame) -> go.Figure:
    """P(next chord | chord) among the most frequent chords."""
    figure = px.imshow(matrix, color_continuous_scale="Purples", aspect="auto", zmin=0,
                       labels={"x": "next chord", "y": "chord", "color": "P(next | chord)"},
                       title="Chord-to-chord transitions (row: from, column: to)")
    figure.update_layout(**_LAYOUT, height=560)
    figure.update_xaxes(side="bottom", tickangle=0)
    return figure


def _series(records: Sequence[Mapping[str, Any]], key: str) -> tuple[list[int], list[float]]:
    points = [(int(r["epoch"]), float(r[key])) for r in records if isinstance(r.get(key), int | float)]
    return [p[0] for p in points], [p[1] for p in points]


def training_curves(records: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Loss, accuracy (top-1 and top-5) and learning rate per epoch, training and validation."""
    figure = make_subplots(rows=1, cols=3, subplot_titles=("Loss", "Accuracy", "Learning rate"), horizontal_spacing=0.07)
    traces = (
        (1, "loss", "train loss", ACCENT, "solid"), (1, "val_loss", "val loss", SECOND, "solid"),
        (2, "accuracy", "train top-1", ACCENT, "solid"), (2, "val_accuracy", "val top-1", SECOND, "solid"),
        (2, "top5", "train top-5", ACCENT, "dot"), (2, "val_top5", "val top-5", SECOND, "dot"),
        (3, "lr", "learning rate", "#3D5A80", "solid"),
    )
    for col, key, name, colour, dash in traces:
        epochs, values = _series(records, key)
        if values:
            figure.add_trace(go.Scatter(x=epochs, y=values, name=name, mode="lines+markers",
                                        line={"color": colour, "dash": dash}), row=1, col=col)
    figure.update_xaxes(title_text="epoch")
    figure.update_yaxes(type="log", row=1, col=3, dtick=1, exponentformat="power")
    figure.update_layout(**{**_LAYOUT, "margin": {"l": 10, "r": 10, "t": 60, "b": 10}}, height=360,
                         legend={"orientation": "h", "y": -0.25})
    return figure


def compare_runs(records_by_run: Mapping[str, Sequence[Mapping[str, Any]]], metric: str) -> go.Figure:
    """One metric per epoch for several runs on one chart."""
    figure = go.Figure()
    for run, records in records_by_run.items():
        epochs, values = _series(records, metric)
        figure.add_trace(go.Scatter(x=epochs, y=values, name=run, mode="lines+markers"))
    figure.update_layout(**_LAYOUT, height=380, title=f"{metric} per epoch", xaxis_title="epoch", yaxis_title=metric,
                         legend={"orientation": "h", "y": -0.2})
    return figure
