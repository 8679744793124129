"""A dependency-free architecture diagram of a functional Keras model: plain text and SVG.

``keras.utils.plot_model`` needs pydot and Graphviz; this draws the same layer graph (layers in
rows by depth, arrows from each layer's inputs) without them.
"""

from __future__ import annotations

import html
from pathlib import Path

BOX_WIDTH, BOX_HEIGHT, COLUMN_GAP, ROW_GAP, MARGIN = 220, 46, 20, 34, 20


def layer_graph(model) -> list[tuple[str, str, str, list[str]]]:
    """``(name, class, output shape, input layer names)`` per layer, in the model's order."""
    config = model.get_config()
    rows = []
    for layer_config in config["layers"]:
        name = layer_config["name"]
        parents: list[str] = []

        def collect(value, parents=parents):
            if isinstance(value, dict):
                history = value.get("config", {}).get("keras_history") if value.get("class_name") == "__keras_tensor__" else None
                if history:
                    parents.append(history[0])
                for item in value.values():
                    collect(item)
            elif isinstance(value, list | tuple):
                for item in value:
                    collect(item)

        collect(layer_config.get("inbound_nodes", []))
        shape = model.get_layer(name).output.shape
        rows.append((name, layer_config["class_name"], str(tuple(shape)), list(dict.fromkeys(parents))))
    return rows


def diagram_text(model) -> str:
    """One line per layer: ``name (Class) shape <- inputs``."""
    lines = [f"{model.name}: {model.count_params():,} parameters"]
    for name, class_name, shape, parents in layer_graph(model):
        source = f"  <- {', '.join(parents)}" if parents else ""
        lines.append(f"{name} ({class_name}) {shape}{source}")
    return "\n".join(lines) + "\n"


def diagram_svg(model) -> str:
    """An SVG drawing of the layer graph, one row per depth."""
    graph = layer_graph(model)
    depth: dict[str, int] = {}
    for name, _, _, parents in graph:  # model order is topological
        depth[name] = 1 + max((depth[p] for p in parents), default=-1)
    rows: dict[int, list[str]] = {}
    for name, *_ in graph:
        rows.setdefault(depth[name], []).append(name)
    widest = max(len(names) for names in rows.values())
    width = 2 * MARGIN + widest * BOX_WIDTH + (widest - 1) * COLUMN_GAP
    height = 2 * MARGIN + len(rows) * BOX_HEIGHT + (len(rows) - 1) * ROW_GAP + 24
    position: dict[str, tuple[float, float]] = {}
    for level, names in rows.items():
        row_width = len(names) * BOX_WIDTH + (len(names) - 1) * COLUMN_GAP
        left = (width - row_width) / 2
        for index, name in enumerate(names):
            position[name] = (left + index * (BOX_WIDTH + COLUMN_GAP), MARGIN + 24 + level * (BOX_HEIGHT + ROW_GAP))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        'font-family="sans-serif" font-size="12">',
        '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="8" refY="4" orient="auto">'
        '<path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>',
        f'<text x="{MARGIN}" y="{MARGIN + 4}" font-weight="bold">'
        f"{html.escape(model.name)}: {model.count_params():,} parameters</text>",
    ]
    for name, _, _, parents in graph:
        x, y = position[name]
        for parent in parents:
            px, py = position[parent]
            parts.append(
                f'<line x1="{px + BOX_WIDTH / 2:.0f}" y1="{py + BOX_HEIGHT:.0f}" x2="{x + BOX_WIDTH / 2:.0f}" y2="{y:.0f}" '
                'stroke="#555" marker-end="url(#arrow)"/>'
            )
    for name, class_name, shape, _ in graph:
        x, y = position[name]
        parts.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="6" fill="#eef3fb" stroke="#3a5f9f"/>'
        )
        parts.append(f'<text x="{x + 8:.0f}" y="{y + 18:.0f}" font-weight="bold">{html.escape(name)}</text>')
        parts.append(f'<text x="{x + 8:.0f}" y="{y + 36:.0f}" fill="#444">{html.escape(class_name)} {html.escape(shape)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_diagram(model, svg_path: Path) -> list[Path]:
    """Write ``svg_path`` and the text version beside it (``.txt``); returns the paths written."""
    svg_path = Path(svg_path)
    svg_path.parent.mkdir(parents=True, exist_ok=True)
    text_path = svg_path.with_suffix(".txt")
    svg_path.write_text(diagram_svg(model), encoding="utf-8")
    text_path.write_text(diagram_text(model), encoding="utf-8")
    return [svg_path, text_path]
