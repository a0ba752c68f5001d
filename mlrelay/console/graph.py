"""A Step Functions state machine drawn as an inline SVG, each state coloured by its status in one run.

Pure and standard-library only: a simplified Sugiyama layout (layers by longest path, barycenter ordering within a layer),
drawn with its own scoped <style> so the server-rendered console page needs no script or stylesheet for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

NODE_W, NODE_H = 190, 44
H_GAP, V_GAP, MARGIN = 30, 56, 16
LANE = 14  # between the gutter lanes of loops
NAME_CHARS = 26
# status -> fill, stroke, stroke width
PALETTE: dict[str, tuple[str, str, int]] = {
    "succeeded": ("#d1fadf", "#039855", 2),
    "failed": ("#fee4e2", "#d92d20", 3),
    "caught": ("#fef0c7", "#dc6803", 2),
    "running": ("#d1e9ff", "#1570ef", 2),
    "not run": ("#f2f4f7", "#98a2b3", 1),
}
# An inline <style> applies to the whole HTML page, so every rule is scoped to the drawing's own class.
STYLE = (
    ".mlrelay-graph .edge{fill:none;stroke:#475467;stroke-width:1.5}"
    ".mlrelay-graph .edge.catch{stroke:#98a2b3;stroke-dasharray:5 4}"
    ".mlrelay-graph text{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;text-anchor:middle}"
    ".mlrelay-graph .name{font-size:12px;font-weight:600;fill:#101828}.mlrelay-graph .name.long{font-size:10.5px}"
    ".mlrelay-graph .meta{font-size:11px;fill:#475467}"
)
MARKERS = "".join(
    f'<marker id="{id_}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
    f'<path d="M0,0L10,5L0,10z" fill="{colour}"/></marker>'
    for id_, colour in (("mlrelay-arrow", "#475467"), ("mlrelay-arrow-catch", "#98a2b3"))
)
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]")
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in XML 1.0 even as character references

Edge = tuple[str, str, bool]  # source, target, whether it is a Catch


@dataclass(frozen=True)
class StateView:
    status: str = "not run"  # one of: "succeeded", "failed", "caught", "running", "not run"
    attempts: int = 0
    seconds: float | None = None  # time spent in the state, if it ended
    detail: str = ""  # e.g. the error name; shown in the node's tooltip


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("\ufffd", value))


def _attr(value: str) -> str:
    return quoteattr(_NOT_XML.sub("\ufffd", value))


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else f"{seconds / 60:.1f} min" if seconds < 3600 else f"{seconds / 3600:.1f} h"


def _edges(states: Mapping[str, Any]) -> list[Edge]:
    """Every transition once, in definition order; a Catch going where a Next also goes is drawn only as the Next."""
    found: dict[tuple[str, str], bool] = {}
    for name, state in states.items():
        targets = [(state.get("Next"), False)] + [(rule.get("Next"), False) for rule in state.get("Choices", [])]
        targets += [(state.get("Default"), False)] + [(catcher.get("Next"), True) for catcher in state.get("Catch", [])]
        for target, catch in targets:
            if isinstance(target, str) and target in states:
                found[(name, target)] = found.get((name, target), True) and catch
    return [(source, target, catch) for (source, target), catch in found.items()]


def _layers(states: Mapping[str, Any], edges: list[Edge], start: str) -> dict[str, int]:
    """Longest path from StartAt, ignoring the back edges that close loops; states it does not reach go below."""
    successors: dict[str, list[str]] = {name: [] for name in states}
    predecessors: dict[str, list[str]] = {name: [] for name in states}
    for source, target, _ in edges:
        successors[source].append(target)
        predecessors[target].append(source)
    # Iterative DFS (no recursion limit on long machines): from StartAt first, then from each state left, in definition order.
    seen: set[str] = set()
    post: list[str] = []
    reached = 0
    for root in ([start] if start in states else []) + list(states):
        if root in seen:
            continue
        seen.add(root)
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(successors[root]))]
        while stack:
            node, rest = stack[-1]
            following = next(rest, None)
            if following is None:
                stack.pop()
                post.append(node)
            elif following not in seen:
                seen.add(following)
                stack.append((following, iter(successors[following])))
        if root == start:
            reached = len(post)  # post[:reached] is what StartAt reaches
    # Reverse post-order is a topological order of the graph without its back edges: when a state is placed, its forward
    # predecessors already are and a back edge's source is not yet, so "predecessors already placed" drops the back edges.
    layer: dict[str, int] = {}
    for group in (post[:reached][::-1], post[reached:][::-1]):
        floor = max(layer.values(), default=-1) + 1
        for node in group:
            layer[node] = max([floor] + [layer[p] + 1 for p in predecessors[node] if p in layer])
    return layer


def _order(rows: list[list[str]], edges: list[Edge], layer: Mapping[str, int]) -> None:
    """A few barycenter sweeps, down then up: each state moves towards the mean position of its neighbours, to cut crossings."""
    above: dict[str, list[str]] = {name: [] for row in rows for name in row}
    below: dict[str, list[str]] = {name: [] for row in rows for name in row}
    for source, target, _ in edges:
        if layer[target] > layer[source]:  # loops are drawn to the side, so they do not pull
            above[target].append(source)
            below[source].append(target)
    # Positions are centred on 0, as the rows are drawn centred, so rows of different lengths compare.
    pos = {name: i - (len(row) - 1) / 2 for row in rows for i, name in enumerate(row)}
    for _ in range(3):
        for sweep, neighbours in ((rows[1:], above), (rows[-2::-1], below)):
            for row in sweep:
                keys = {n: sum(pos[m] for m in neighbours[n]) / len(neighbours[n]) if neighbours[n] else pos[n] for n in row}
                row.sort(key=keys.__getitem__)  # stable, so ties keep their order and the output is deterministic
                pos.update({name: i - (len(row) - 1) / 2 for i, name in enumerate(row)})


def _node(name: str, kind: str, view: StateView, x: int, y: int, node_id: str, highlighted: bool) -> str:
    fill, stroke, width = PALETTE.get(view.status, PALETTE["not run"])
    ran, took = view.status != "not run", _duration(view.seconds) if view.seconds is not None else ""
    meta = [kind, f"×{view.attempts}" if ran and view.attempts > 1 else "", took if ran else ""]  # empty parts are left out
    tooltip = [name, f"{kind} · {view.status}", f"attempts: {view.attempts}" if view.attempts else ""]
    tooltip += [f"time: {took}" if took else "", view.detail]
    shown = name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"
    classes = f"state status-{view.status.replace(' ', '-')}" + (" highlight" if highlighted else "")
    parts = [f"<g class={_attr(classes)} id={_attr(node_id)} data-state={_attr(name)} data-status={_attr(view.status)}>"]
    parts.append(f"<title>{_text(chr(10).join(filter(None, tooltip)))}</title>")
    if highlighted:  # a thick red halo behind the node: the failed step must be the first thing the eye finds
        parts.append(f'<rect x="{x - 6}" y="{y - 6}" width="{NODE_W + 12}" height="{NODE_H + 12}" rx="12" fill="none" '
                     'stroke="#d92d20" stroke-width="4" stroke-opacity="0.55"/>')
    parts.append(f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="8" fill="{fill}" stroke="{stroke}" '
                 f'stroke-width="{width}"/>')
    size = "name long" if len(shown) > 22 else "name"  # a smaller font, so that a long name still fits the box
    parts.append(f'<text class="{size}" x="{x + NODE_W // 2}" y="{y + 19}">{_text(shown)}</text>')
    parts.append(f'<text class="meta" x="{x + NODE_W // 2}" y="{y + 35}">{_text(" · ".join(filter(None, meta)))}</text></g>')
    return "".join(parts)


def render_svg(definition: dict[str, Any], views: Mapping[str, StateView], highlight: str | None = None) -> str:
    """The state machine as an <svg> element: top to bottom from StartAt, one node per top-level state (a Map or a
    Parallel is one node), Catch edges dashed, loops climbing back beside the rows, the `highlight` state haloed in red."""
    states: Mapping[str, Any] = definition.get("States", {})
    edges = _edges(states)
    layer = _layers(states, edges, str(definition.get("StartAt", "")))
    rows: list[list[str]] = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for name in states:  # definition order is the starting order within a row
        rows[layer[name]].append(name)
    _order(rows, edges, layer)

    # Loops climb back up in a gutter beside the rows rather than through them, on the side with fewer states in the way,
    # each in its own lane, the shortest innermost so that nested loops do not cross.
    beside = {name: (j, len(row) - 1 - j) for row in rows for j, name in enumerate(row)}  # states to its left, to its right
    lanes: dict[tuple[str, str], int] = {}  # signed: negative on the left, positive on the right
    used_lanes = {-1: 0, 1: 0}
    for source, target, _ in sorted(edges, key=lambda edge: layer[edge[0]] - layer[edge[1]]):
        if layer[target] <= layer[source]:
            side = -1 if beside[source][0] + beside[target][0] < beside[source][1] + beside[target][1] else 1
            used_lanes[side] += 1
            lanes[(source, target)] = side * used_lanes[side]

    pitch, widest = NODE_W + H_GAP, max((len(row) for row in rows), default=0)
    left, right = MARGIN + LANE * used_lanes[-1], MARGIN + LANE * used_lanes[-1] + max(widest * pitch - H_GAP, 0)
    box: dict[str, tuple[int, int]] = {}  # each node's top-left corner; rows centred on the widest
    for i, row in enumerate(rows):
        for j, name in enumerate(row):
            box[name] = (left + (widest - len(row)) * pitch // 2 + j * pitch, MARGIN + i * (NODE_H + V_GAP))

    paths: list[str] = []
    for source, target, catch in edges:
        (sx, sy), (tx, ty) = box[source], box[target]
        if layer[target] > layer[source]:  # downwards: bottom centre to top centre, an S-curve over any rows between
            x1, y1, x2, y2 = sx + NODE_W // 2, sy + NODE_H, tx + NODE_W // 2, ty
            bend = (y2 - y1) // 2
            d = f"M{x1},{y1} C{x1},{y1 + bend} {x2},{y2 - bend} {x2},{y2}"
        else:  # a loop: out of the source's side to its lane, up, and into the target's same side, with rounded corners
            lane = lanes[(source, target)]
            side, gutter = (1, right + LANE * lane) if lane > 0 else (-1, left + LANE * lane)
            x1, x2 = (sx + NODE_W, tx + NODE_W) if side > 0 else (sx, tx)
            y1, y2 = sy + NODE_H // 2 + 6, ty + NODE_H // 2 - 6
            r, inner = min(8, (y1 - y2) // 2), gutter - side * min(8, (y1 - y2) // 2)
            d = f"M{x1},{y1} H{inner} Q{gutter},{y1} {gutter},{y1 - r} V{y2 + r} Q{gutter},{y2} {inner},{y2} H{x2}"
        kind, marker = ("edge catch", "mlrelay-arrow-catch") if catch else ("edge", "mlrelay-arrow")
        paths.append(f'<path class="{kind}" d="{d}" marker-end="url(#{marker})"/>')

    used: set[str] = set()
    nodes: list[str] = []
    for name, state in states.items():
        node_id = "state-" + _UNSAFE_ID.sub("_", name)
        while node_id in used:  # two names can make the same safe id; ids must stay unique
            node_id += "_"
        used.add(node_id)
        view = views.get(name, StateView())
        nodes.append(_node(name, str(state.get("Type", "")), view, *box[name], node_id, name == highlight))

    width, height = right + LANE * used_lanes[1] + MARGIN, MARGIN * 2 + max(len(rows) * (NODE_H + V_GAP) - V_GAP, 0)
    label = f"Step Functions state machine, {len(states)} states" + (f", failed at {highlight}" if highlight in states else "")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="mlrelay-graph" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label={_attr(label)}>'
        f"<defs><style>{STYLE}</style>{MARKERS}</defs>"
        + "".join(paths) + "".join(nodes) + "</svg>"
    )
