"""How the templates' sample tables were made: `python -m mlrelay.templates.samples` writes them again.

tabular-*: the synthetic catalogue (mlrelay/synthetic.py). text-classification:
short grocery product titles in seven languages, each a product word of its
category with a brand, a qualifier and a pack size, so a model has to learn
the words of every language (and cannot lean on the pack size alone).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from mlrelay.synthetic import synthesize

HERE = Path(__file__).parent
TABULAR_ROWS = 1500
TITLES = 1400

PRODUCTS = {
    "dairy": {
        "en": ["whole milk", "greek yoghurt", "cheddar cheese", "salted butter", "cream cheese", "sour cream"],
        "de": ["Vollmilch", "Joghurt griechischer Art", "Bergkäse", "Süßrahmbutter", "Frischkäse", "Schmand"],
        "fr": ["lait entier", "yaourt nature", "fromage comté", "beurre doux", "fromage frais", "crème fraîche"],
        "es": ["leche entera", "yogur griego", "queso manchego", "mantequilla", "queso fresco", "nata para cocinar"],
        "it": ["latte intero", "yogurt greco", "parmigiano reggiano", "burro", "mozzarella", "panna da cucina"],
        "nl": ["volle melk", "Griekse yoghurt", "jonge kaas", "roomboter", "smeerkaas", "kwark"],
        "pl": ["mleko pełne", "jogurt grecki", "ser żółty", "masło ekstra", "serek śmietankowy", "śmietana"],
    },
    "bakery": {
        "en": ["sourdough loaf", "wholemeal bread", "butter croissants", "bagels", "rye bread", "brioche buns"],
        "de": ["Sauerteigbrot", "Vollkornbrot", "Buttercroissants", "Roggenbrot", "Brötchen", "Laugenbrezel"],
        "fr": ["pain de campagne", "baguette tradition", "croissants pur beurre", "pain complet", "brioche", "pain aux céréales"],
        "es": ["pan de masa madre", "pan integral", "cruasanes", "barra de pan", "pan de centeno", "magdalenas"],
        "it": ["pane casereccio", "pane integrale", "cornetti", "focaccia", "pane di segale", "grissini"],
        "nl": ["zuurdesembrood", "volkorenbrood", "croissants", "roggebrood", "krentenbollen", "stokbrood"],
        "pl": ["chleb na zakwasie", "chleb razowy", "rogale maślane", "bułki pszenne", "chleb żytni", "bagietka"],
    },
    "produce": {
        "en": ["bananas", "red apples", "vine tomatoes", "baby spinach", "carrots", "avocados"],
        "de": ["Bananen", "rote Äpfel", "Rispentomaten", "Babyspinat", "Karotten", "Avocados"],
        "fr": ["bananes", "pommes rouges", "tomates grappe", "pousses d'épinards", "carottes", "avocats"],
        "es": ["plátanos", "manzanas rojas", "tomates en rama", "espinacas baby", "zanahorias", "aguacates"],
        "it": ["banane", "mele rosse", "pomodori a grappolo", "spinacini", "carote", "avocado"],
        "nl": ["bananen", "rode appels", "trostomaten", "babyspinazie", "wortels", "avocado's"],
        "pl": ["banany", "jabłka czerwone", "pomidory na gałązce", "szpinak baby", "marchew", "awokado"],
    },
    "beverages": {
        "en": ["orange juice", "sparkling water", "cola", "green tea", "ground coffee", "apple juice"],
        "de": ["Orangensaft", "Mineralwasser mit Kohlensäure", "Cola", "grüner Tee", "Röstkaffee gemahlen", "Apfelsaft"],
        "fr": ["jus d'orange", "eau gazeuse", "soda cola", "thé vert", "café moulu", "jus de pomme"],
        "es": ["zumo de naranja", "agua con gas", "refresco de cola", "té verde", "café molido", "zumo de manzana"],
        "it": ["succo d'arancia", "acqua frizzante", "bibita cola", "tè verde", "caffè macinato", "succo di mela"],
        "nl": ["sinaasappelsap", "bruisend water", "cola", "groene thee", "gemalen koffie", "appelsap"],
        "pl": ["sok pomarańczowy", "woda gazowana", "napój cola", "herbata zielona", "kawa mielona", "sok jabłkowy"],
    },
    "household": {
        "en": ["washing up liquid", "laundry detergent", "kitchen roll", "bin bags", "toilet paper", "dishwasher tablets"],
        "de": ["Spülmittel", "Waschmittel", "Küchenrolle", "Müllbeutel", "Toilettenpapier", "Spülmaschinentabs"],
        "fr": ["liquide vaisselle", "lessive liquide", "essuie-tout", "sacs poubelle", "papier toilette", "tablettes lave-vaisselle"],
        "es": ["lavavajillas a mano", "detergente", "papel de cocina", "bolsas de basura", "papel higiénico", "pastillas lavavajillas"],
        "it": ["detersivo piatti", "detersivo lavatrice", "carta da cucina", "sacchi spazzatura", "carta igienica",
               "pastiglie lavastoviglie"],
        "nl": ["afwasmiddel", "wasmiddel", "keukenrol", "vuilniszakken", "toiletpapier", "vaatwastabletten"],
        "pl": ["płyn do naczyń", "proszek do prania", "ręcznik papierowy", "worki na śmieci", "papier toaletowy", "tabletki do zmywarki"],
    },
    "snacks": {
        "en": ["salted crisps", "dark chocolate", "salted peanuts", "oat biscuits", "popcorn", "gummy bears"],
        "de": ["Kartoffelchips gesalzen", "Zartbitterschokolade", "Erdnüsse gesalzen", "Haferkekse", "Popcorn", "Fruchtgummi"],
        "fr": ["chips salées", "chocolat noir", "cacahuètes salées", "biscuits à l'avoine", "pop-corn", "bonbons gélifiés"],
        "es": ["patatas fritas", "chocolate negro", "cacahuetes salados", "galletas de avena", "palomitas", "gominolas"],
        "it": ["patatine salate", "cioccolato fondente", "arachidi salate", "biscotti all'avena", "popcorn", "caramelle gommose"],
        "nl": ["chips naturel", "pure chocolade", "gezouten pinda's", "havermoutkoekjes", "popcorn", "winegums"],
        "pl": ["chipsy solone", "czekolada gorzka", "orzeszki solone", "ciastka owsiane", "popcorn", "żelki owocowe"],
    },
}
QUALIFIERS = {
    "en": ["organic", "family pack", "value", "finest", ""], "de": ["Bio", "Familienpackung", "Klassik", "Premium", ""],
    "fr": ["bio", "format familial", "classique", "extra", ""], "es": ["ecológico", "pack familiar", "clásico", "selección", ""],
    "it": ["bio", "formato famiglia", "classico", "qualità oro", ""], "nl": ["biologisch", "voordeelverpakking", "huismerk", "premium", ""],
    "pl": ["eko", "opakowanie rodzinne", "klasyczny", "premium", ""],
}
BRANDS = ["Nordlys", "Casa Verde", "Maple & Co", "Gutshof", "Le Petit Pré", "Zielony Koszyk", "Il Podere", "De Molen"]
SIZES = ["250 g", "500 g", "1 kg", "1 L", "500 ml", "6 x 330 ml", "4 pcs", "12 pcs", "200 g", "750 ml"]


def text_titles(rows: int = TITLES, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    languages = sorted(QUALIFIERS)
    categories = sorted(PRODUCTS)
    records = []
    for index in range(rows):
        language, category = languages[rng.integers(len(languages))], categories[rng.integers(len(categories))]
        words = [str(rng.choice(BRANDS)), str(rng.choice(PRODUCTS[category][language])), str(rng.choice(QUALIFIERS[language]))]
        title = " ".join(w for w in words if w) + ", " + str(rng.choice(SIZES))
        added = date(2026, 1, 1) + timedelta(days=int(rng.integers(0, 365)))
        records.append({"item_id": f"T{index:06d}", "added_at": added.isoformat(), "language": language,
                        "title": title, "category": category})
    return pd.DataFrame(records)


def write_samples() -> None:
    for seed, template in ((11, "tabular-classification"), (12, "tabular-regression")):
        synthesize(TABULAR_ROWS, seed=seed).to_csv(HERE / template / "data" / "sample.csv", index=False)
    text_titles().to_csv(HERE / "text-classification" / "data" / "sample.csv", index=False)


if __name__ == "__main__":
    write_samples()
