"""Each predicted item's top K features by SHAP value (Clarify's local explanations), as warehouse rows.

The Monitor step calls `explain` when the config sets monitoring.explain_predictions: K. Attributions are those of
the same random-forest surrogate the global ranking uses (attribution.py), for the predicted class, measured against
the training rows' K-means summary (shap_background.json, written by the Evaluate step). A run with more items than
monitoring.explain_max_items explains a random sample of that many, and its summary says so. Writes, under
<output>/explanations/: CSV parts (item_id, rank, feature, feature_value, attribution, explained) and a COPY manifest
naming them, which the Load step copies in the predictions' transaction.
"""

import glob
import json
import os
import time

import numpy as np
import pandas as pd

ROWS_PER_PART = 1_000_000
FOLDER = "explanations"


def read_ids(directory):
    """The item ids of the Prepare step's parts, in the order the items are read (sorted part names)."""
    paths = sorted(glob.glob(os.path.join(directory, "**", "*.csv"), recursive=True))
    parts = [pd.read_csv(p, header=None, dtype=str, keep_default_na=False)[0] for p in paths if os.path.getsize(p)]
    return pd.concat(parts, ignore_index=True).tolist() if parts else []


def explain(spec, baseline, table, predictions, ids, domains, output, output_uri):
    """The summary of what was explained (None when the config asks for nothing); the files under output/explanations."""
    import attribution

    settings, features = spec["monitoring"], spec["feature_columns"]
    top_k = int(settings.get("explain_predictions") or 0)
    if not top_k:
        return None
    started = time.monotonic()
    folder = os.path.join(output, FOLDER)
    os.makedirs(folder, exist_ok=True)
    background = baseline.get("shap_background")
    if not background or not len(table):
        write_parts(folder, f"{output_uri.rstrip('/')}/{FOLDER}", pd.DataFrame())
        why = "no items" if background else "the approved version was trained before mlrelay kept a SHAP background"
        return {"k": top_k, "items": 0, "of": int(len(table)), "sampled": False, "rows": 0, "skipped": why}
    if len(ids) != len(table):
        raise ValueError(f"{len(ids)} item ids for {len(table)} items: the Prepare step's parts do not pair up")
    positions, ranked = attribution.local_explanations(
        table, predictions, spec["task"], features, domains, background, top_k, settings["explain_max_items"],
        settings["attribution_sample_rows"],
    )
    shown = table[list(features)].astype(object).where(table[list(features)].notna(), "").astype(str).to_numpy()
    column = ranked["feature"].map({name: i for i, name in enumerate(features)}).to_numpy()
    rows = pd.DataFrame({
        "item_id": np.asarray(ids, dtype=object)[ranked["position"].to_numpy()],
        "rank": ranked["rank"].to_numpy(),
        "feature": ranked["feature"].to_numpy(),
        "feature_value": pd.Series(shown[ranked["position"].to_numpy(), column]).str.slice(0, 256).to_numpy(),
        "attribution": ranked["attribution"].to_numpy(),
        "explained": ranked["explained"].to_numpy(),
    })
    write_parts(folder, f"{output_uri.rstrip('/')}/{FOLDER}", rows)
    return {"k": top_k, "items": int(len(positions)), "of": int(len(table)), "sampled": bool(len(positions) < len(table)),
            "rows": int(len(rows)), "seconds": round(time.monotonic() - started, 3)}


def write_parts(folder, folder_uri, rows):
    """CSV parts of at most ROWS_PER_PART rows and the COPY manifest naming them (no entry when there are no rows)."""
    entries = []
    for number, start in enumerate(range(0, len(rows), ROWS_PER_PART)):
        name = f"part-{number:05d}.csv"
        path = os.path.join(folder, name)
        rows.iloc[start:start + ROWS_PER_PART].to_csv(path, header=False, index=False)
        entries.append({"url": f"{folder_uri}/{name}", "mandatory": True, "meta": {"content_length": os.path.getsize(path)}})
    with open(os.path.join(folder, "manifest.json"), "w") as handle:
        json.dump({"entries": entries}, handle, indent=1)
