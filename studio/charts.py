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


def grouped_bars(frame: pd.DataFrame, x: str, y: str, colour: str, title: str, percent: bool = False) -> go.Figure:
    """Bars of ``y`` per ``x``, one colour per ``colour`` value side by side (e.g. top-1 per genre per model)."""
    figure = px.bar(frame, x=x, y=y, color=colour, barmode="group", title=title,
                    color_discrete_sequence=[ACCENT, SECOND, "#3D5A80", "#81B29A", "#F2CC8F", "#9C89B8"])
    figure.update_layout(**_LAYOUT, height=420, xaxis_title=None, legend={"orientation": "h", "y": -0.3, "title": None})
    figure.update_xaxes(tickangle=-30)
    if percent:
        figure.update_yaxes(tickformat=".0%")
    return figure


def topk_curves(curve: Mapping[str, Sequence[float]]) -> go.Figure:
    """Top-k accuracy against k, one line per model (``curve`` holds ``k`` and one list per model)."""
    figure = go.Figure()
    for name, values in curve.items():
        if name != "k":
            figure.add_trace(go.Scatter(x=list(curve["k"]), y=list(values), name=name, mode="lines+markers"))
    figure.update_layout(**_LAYOUT, height=380, title="Top-k accuracy on the test songs", xaxis_title="k",
                         yaxis_title="accuracy", legend={"orientation": "h", "y": -0.25})
    figure.update_xaxes(dtick=1)
    figure.update_yaxes(tickformat=".0%", range=[0, 1])
    return figure


def confusion_heatmap(matrix: pd.DataFrame) -> go.Figure:
    """Row-normalised confusion: the share of each true chord (row) predicted as each chord (column)."""
    figure = px.imshow(matrix, color_continuous_scale="Purples", aspect="auto", zmin=0, zmax=1, text_auto=".0%",
                       labels={"x": "model's first choice", "y": "true next chord", "color": "share of row"},
                       title="Confusion among the most frequent chords (rows sum to 100%)")
    figure.update_layout(**_LAYOUT, height=max(420, 34 * len(matrix) + 140))
    figure.update_xaxes(side="bottom", tickangle=0)
    return figure


def paired_bars(frame: pd.DataFrame, title: str, percent: bool = True, height: int = 340) -> go.Figure:
    """Generated next to real per row label (``frame`` indexed by label with ``generated`` and ``real`` columns)."""
    figure = go.Figure()
    for column, colour in (("generated", ACCENT), ("real", SECOND)):
        figure.add_trace(go.Bar(x=list(frame.index), y=list(frame[column]), name=column, marker_color=colour))
    figure.update_layout(**_LAYOUT, height=height, title=title, barmode="group", legend={"orientation": "h", "y": -0.2})
    if percent:
        figure.update_yaxes(tickformat=".0%")
    return figure


def posterior_bars(posterior: Mapping[str, float], title: str) -> go.Figure:
    """How well a progression fits each value of a condition (posterior shares), best on top."""
    ordered = sorted(posterior.items(), key=lambda item: item[1])
    figure = go.Figure(go.Bar(x=[v for _, v in ordered], y=[k for k, _ in ordered], orientation="h",
                              marker_color=ACCENT, text=[f"{v:.0%}" for _, v in ordered], textposition="outside"))
    figure.update_layout(**_LAYOUT, height=max(220, 28 * len(ordered) + 80), title=title)
    figure.update_xaxes(tickformat=".0%", range=[0, 1.1])
    return figure


def surprise_bars(chords: Sequence[str], surprise: Sequence[float]) -> go.Figure:
    """Surprise (bits) of each chord of a progression, in order."""
    labels = [f"{i + 1}. {c}" for i, c in enumerate(chords)]
    figure = go.Figure(go.Bar(x=labels, y=list(surprise), marker_color=SECOND,
                              text=[f"{s:.1f}" for s in surprise], textposition="outside"))
    figure.update_layout(**_LAYOUT, height=300, title="Surprise per chord (bits; higher = less expected)",
                         yaxis_title="bits")
    return figure
