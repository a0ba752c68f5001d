"""Charts as Plotly figure specs (data and layout, plain JSON): the page hands them to the plotly.js the plotly
package ships, served by the console itself, so nothing is fetched from the network."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.aws.model_versions import VersionRecord
from mlrelay.console.model_view import ApprovalRule, metric_series

STATUS_COLOURS = {"Approved": "#039855", "Rejected": "#d92d20", "PendingManualApproval": "#dc6803"}
_LAYOUT = {"margin": {"l": 60, "r": 20, "t": 30, "b": 50}, "height": 340, "legend": {"orientation": "h", "y": -0.25},
           "paper_bgcolor": "white", "plot_bgcolor": "#fcfcfd", "font": {"size": 12}}


def metric_chart(records: list[VersionRecord], rule: ApprovalRule | None, primary: str | None) -> dict[str, Any]:
    """The approval metric across versions, each point coloured by its status, the threshold drawn as a line; the
    other metrics are in the legend, a click away."""
    series = metric_series(records)
    labels = [f"v{record.version}" for record in records]
    metric = rule.metric if rule else primary
    data: list[dict[str, Any]] = []
    for name, values in series.items():
        main = name == metric
        trace: dict[str, Any] = {"type": "scatter", "mode": "lines+markers", "name": name, "x": labels, "y": values,
                                 "connectgaps": True}
        if main:
            trace["marker"] = {"size": 11, "color": [STATUS_COLOURS.get(r.status, "#667085") for r in records]}
            trace["line"] = {"color": "#344054", "width": 2}
            trace["text"] = [r.status for r in records]
            trace["hovertemplate"] = "%{x} %{text}: %{y:.4f}<extra>" + name + "</extra>"
        else:
            trace["visible"] = "legendonly"
        data.append(trace)
    data.sort(key=lambda trace: trace["name"] != metric)
    layout: dict[str, Any] = {**_LAYOUT, "xaxis": {"title": {"text": "version"}, "type": "category"},
                              "yaxis": {"title": {"text": metric or "metric"}}}
    if rule is not None and rule.threshold is not None:
        side = "at most" if rule.lower_is_better else "at least"
        layout["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": rule.threshold, "y1": rule.threshold,
                             "line": {"color": "#d92d20", "dash": "dash", "width": 2}}]
        layout["annotations"] = [{"xref": "paper", "x": 1, "y": rule.threshold, "xanchor": "right", "yanchor": "bottom",
                                  "showarrow": False, "text": f"threshold: {side} {rule.threshold:g}",
                                  "font": {"color": "#d92d20"}}]
    return {"data": data, "layout": layout}


def drift_chart(series: dict[str, list[tuple[datetime, float, bool]]]) -> dict[str, Any]:
    """Each feature's drift statistic per checked run; the runs where it was a violation marked with a red cross."""
    data: list[dict[str, Any]] = []
    for feature, points in sorted(series.items()):
        data.append({"type": "scatter", "mode": "lines+markers", "name": feature, "legendgroup": feature,
                     "x": [_when(at) for at, _, _ in points], "y": [value for _, value, _ in points]})
        drifted = [(at, value) for at, value, violated in points if violated]
        if drifted:
            data.append({"type": "scatter", "mode": "markers", "name": f"{feature}: drifted", "legendgroup": feature,
                         "showlegend": False, "x": [_when(at) for at, _ in drifted], "y": [value for _, value in drifted],
                         "marker": {"symbol": "x", "size": 12, "color": "#d92d20"}})
    # one category per run: runs minutes apart (a retry, a test) or a month apart are spaced alike
    return {"data": data, "layout": {**_LAYOUT, "xaxis": {"title": {"text": "run started (UTC)"}, "type": "category"},
                                     "yaxis": {"title": {"text": "drift statistic (PSI, KS or chi-squared)"}}}}


def quality_chart(points: list[tuple[datetime, float]], metric: str) -> dict[str, Any]:
    data = [{"type": "scatter", "mode": "lines+markers", "name": metric,
             "x": [_when(at) for at, _ in points], "y": [value for _, value in points]}]
    return {"data": data, "layout": {**_LAYOUT, "xaxis": {"title": {"text": "labels judged (UTC)"}, "type": "category"},
                                     "yaxis": {"title": {"text": metric}}}}


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S")
