"""A synthetic product catalogue labelled with the package type it ships in.

The label follows rules a model can learn (size, weight, fragility,
material, category), then `label_noise` of the rows get a random label.
`drift` shifts the population: "size" makes items larger (more ship in their
own container), "mix" moves the category mix towards apparel and books.
Each item has an `added_at` date, so daily inference can pick new items.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

PACKAGE_TYPES = ("MAILER", "BAG", "BOX", "SHIPS_IN_OWN_CONTAINER")
CATEGORIES = ("electronics", "books", "apparel", "home", "toys", "grocery")
MATERIALS = ("paper", "plastic", "glass", "metal", "fabric", "wood")
DRIFTS = ("none", "size", "mix")
FEATURE_COLUMNS = ("length_cm", "width_cm", "height_cm", "weight_g", "fragile", "material", "category", "price")


def synthesize(
    rows: int, seed: int = 0, label_noise: float = 0.02, drift: str = "none",
    start: date = date(2026, 1, 1), days: int = 365,
) -> pd.DataFrame:
    if rows < 1:
        raise ValueError("rows must be at least 1")
    if not 0 <= label_noise <= 1:
        raise ValueError("label_noise is a share of rows, from 0 to 1")
    if drift not in DRIFTS:
        raise ValueError(f"drift must be one of {', '.join(DRIFTS)}")
    rng = np.random.default_rng(seed)
    category_mix = [0.25, 0.15, 0.2, 0.2, 0.1, 0.1] if drift != "mix" else [0.1, 0.35, 0.4, 0.05, 0.05, 0.05]
    category = rng.choice(CATEGORIES, size=rows, p=category_mix)
    material = rng.choice(MATERIALS, size=rows, p=[0.3, 0.3, 0.08, 0.12, 0.12, 0.08])
    scale = 1.5 if drift == "size" else 1.0
    length = np.round(rng.lognormal(3.0, 0.6, rows) * scale, 1)
    width = np.round(length * rng.uniform(0.3, 1.0, rows), 1)
    height = np.round(rng.lognormal(1.8, 0.9, rows) * scale, 1)
    density = np.where(np.isin(material, ["metal", "glass", "wood"]), 0.6, 0.15)
    weight = np.round(length * width * height * density * rng.uniform(0.5, 1.5, rows), 0) + 20
    fragile = ((material == "glass") | (rng.random(rows) < 0.08)).astype(int)
    price = np.round(rng.lognormal(3.2, 0.8, rows), 2)
    label = _package_type(length, width, height, weight, fragile, material, category)
    noisy = rng.random(rows) < label_noise
    label[noisy] = rng.choice(PACKAGE_TYPES, size=int(noisy.sum()))
    added = [start + timedelta(days=int(d)) for d in rng.integers(0, max(days, 1), rows)]
    return pd.DataFrame(
        {
            "item_id": [f"I{seed:03d}{i:07d}" for i in range(rows)],
            "added_at": [d.isoformat() for d in added],
            "category": category, "material": material,
            "length_cm": length, "width_cm": width, "height_cm": height, "weight_g": weight,
            "fragile": fragile, "price": price, "package_type": label,
        }
    )


def _package_type(length, width, height, weight, fragile, material, category) -> np.ndarray:
    largest = np.maximum(np.maximum(length, width), height)
    return np.select(
        [
            (largest > 70) | (weight > 20_000),
            (fragile == 1) | (material == "glass"),
            (category == "apparel") & (weight < 2_000),
            (height < 4) & (weight < 1_000),
        ],
        ["SHIPS_IN_OWN_CONTAINER", "BOX", "BAG", "MAILER"],
        default="BOX",
    ).astype(object)


def write(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        raise ValueError("Parquet needs pyarrow, which mlrelay does not install; write .csv")
    frame.to_csv(path, index=False)
    return path
