"""The monitoring report: one self-contained HTML page (no scripts, no external files) per monitored run."""

from html import escape

import attribution
import data_profile
import numpy as np

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}tr.drifted td{background:#fde8e8}"
    ".chart{display:inline-block;margin:0 1.5em 1.5em 0;vertical-align:top}.legend span{padding:0 6px}"
)
BASELINE_COLOUR, CURRENT_COLOUR = "#8ab4f8", "#f28b82"


def render(summary, baseline_stats, current_stats, results, violations, baseline_attributions, current_attributions):
    title = f"{summary['model_name']} v{summary['model_version']}: run {summary['run_id']}"
    ndcg = "not computed (too few rows to rank features)" if summary["ndcg"] is None else (
        f"{summary['ndcg']:.3f} (alert below {summary['ndcg_threshold']:g})")
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>{summary['rows']:,} rows checked against the training baseline ({summary['baseline_rows']:,} rows). "
        f"{len(violations)} violation(s); {summary['drifted_count']} feature(s) drifted. Attribution NDCG {ndcg}.</p>",
        "<h2>Violations</h2>", violations_table(violations),
        "<h2>Drift per feature</h2>", drift_table(results),
        "<h2>Feature attributions (mean |SHAP|)</h2>", attribution_table(baseline_attributions, current_attributions),
        "<h2>Distributions: baseline against now</h2>",
        f"<p class='legend'><span style='background:{BASELINE_COLOUR}'>baseline</span>"
        f"<span style='background:{CURRENT_COLOUR}'>now</span></p>",
    ]
    current = {f["name"]: f for f in current_stats["features"]}
    for feature in baseline_stats["features"]:
        if feature["name"] in current:
            parts.append(chart(feature, current[feature["name"]]))
    parts.append("</body></html>")
    return "\n".join(parts)


def violations_table(violations):
    if not violations:
        return "<p>None.</p>"
    rows = "".join(f"<tr><td>{escape(v['feature_name'])}</td><td>{escape(v['constraint_check_type'])}</td>"
                   f"<td>{escape(v['description'])}</td></tr>" for v in violations)
    return f"<table><tr><th>feature</th><th>check</th><th>description</th></tr>{rows}</table>"


def drift_table(results):
    rows = []
    for r in sorted(results, key=lambda r: (not r["drifted"], r["feature"])):
        p_value = "" if r["p_value"] is None else f"{r['p_value']:.3g}"
        rows.append(f"<tr class='{'drifted' if r['drifted'] else ''}'><td>{escape(r['feature'])}</td><td>{r['method']}</td>"
                    f"<td>{r['statistic']:.4f}</td><td>{p_value}</td><td>{r['threshold']:g}</td>"
                    f"<td>{'yes' if r['drifted'] else 'no'}</td></tr>")
    header = "<tr><th>feature</th><th>test</th><th>statistic</th><th>p-value</th><th>threshold</th><th>drifted</th></tr>"
    return f"<table>{header}{''.join(rows)}</table>"


def attribution_table(baseline, current):
    before, now = attribution.ranks(baseline), attribution.ranks(current)
    rows = "".join(f"<tr><td>{escape(name)}</td><td>{before[name]}</td><td>{baseline[name]:.4f}</td>"
                   f"<td>{now.get(name, '')}</td><td>{current.get(name, 0.0):.4f}</td></tr>" for name in sorted(before, key=before.get))
    return f"<table><tr><th>feature</th><th>training rank</th><th>training</th><th>now rank</th><th>now</th></tr>{rows}</table>"


def chart(baseline, current):
    """Side-by-side bars of each bucket's share: the baseline's buckets for numbers, its top categories for strings."""
    if baseline["inferred_type"] == "String":
        expected = data_profile.category_counts(baseline)
        labels = list(expected)[:12]
        observed = data_profile.category_counts(current) if "string_statistics" in current else {}
        before = shares([expected.get(c, 0) for c in labels])
        now = shares([observed.get(c, 0) for c in labels])
    else:
        edges = [b["lower_bound"] for b in baseline["numerical_statistics"]["distribution"]["kll"]["buckets"]]
        if not edges:
            return ""
        edges.append(baseline["numerical_statistics"]["max"])
        labels = [f"{lo:.3g}" for lo in edges[:-1]]
        inner = np.array(edges[1:-1])
        before = shares(np.bincount(np.searchsorted(inner, data_profile.numeric_sample(baseline), side="right"), minlength=len(labels)))
        sample = data_profile.numeric_sample(current) if "numerical_statistics" in current else np.array([])
        now = shares(np.bincount(np.searchsorted(inner, sample, side="right"), minlength=len(labels)))
    width, height, slot = 24 * len(labels) + 20, 120, 24
    bars = []
    for i, (b, n) in enumerate(zip(before, now)):
        x = 10 + i * slot
        bars.append(f"<rect x='{x}' y='{100 - 90 * b:.1f}' width='10' height='{90 * b:.1f}' fill='{BASELINE_COLOUR}'/>")
        bars.append(f"<rect x='{x + 10}' y='{100 - 90 * n:.1f}' width='10' height='{90 * n:.1f}' fill='{CURRENT_COLOUR}'/>")
        bars.append(f"<text x='{x}' y='114' font-size='8'>{escape(labels[i][:6])}</text>")
    return (f"<div class='chart'><b>{escape(baseline['name'])}</b><br><svg width='{width}' height='{height}' "
            f"role='img' aria-label='{escape(baseline['name'])}'>{''.join(bars)}</svg></div>")


def shares(counts):
    counts = np.asarray(counts, dtype=float)
    total = counts.sum()
    return counts / total if total else counts
