"""Non-reasoning examples: writing, factual QA, self-cognition and translation (R1's ~200k from the DeepSeek-V3 SFT
pipeline, a short CoT added to some).

`synthetic` (small profiles) draws distinct examples per category from the template pools below; `read_local` (full
scale) reads a local parquet or JSONL file with `prompt` and `completion` columns (and optionally `category`, `id`).
`build` picks one by `source` and drops duplicate pairs; `expectations` is the Great Expectations suite that gates
the set. Rows: `id`, `category`, `prompt`, `completion`, `has_cot`. Also the source of the general prompts that the
reward models and the final RL stage use.
"""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl

from r1.config import NonReasoningConfig, Params
from r1.data import NON_REASONING_CATEGORIES
from r1.verify.answer import SPECIAL

NAME = "R1-mini"
MAKER = "r1-build"

CAPITALS = {
    "France": "Paris", "Germany": "Berlin", "Italy": "Rome", "Spain": "Madrid", "Portugal": "Lisbon",
    "Japan": "Tokyo", "China": "Beijing", "India": "New Delhi", "Egypt": "Cairo", "Kenya": "Nairobi",
    "Canada": "Ottawa", "Mexico": "Mexico City", "Brazil": "Brasilia", "Peru": "Lima", "Chile": "Santiago",
    "Norway": "Oslo", "Sweden": "Stockholm", "Finland": "Helsinki", "Poland": "Warsaw", "Greece": "Athens",
    "Turkey": "Ankara", "Ireland": "Dublin", "Austria": "Vienna", "Hungary": "Budapest", "Australia": "Canberra",
    "Argentina": "Buenos Aires", "Morocco": "Rabat", "Ghana": "Accra", "Thailand": "Bangkok", "Vietnam": "Hanoi",
    "Denmark": "Copenhagen", "Belgium": "Brussels", "Netherlands": "Amsterdam", "Cuba": "Havana", "Iran": "Tehran",
}
SYMBOLS = {
    "hydrogen": "H", "helium": "He", "carbon": "C", "nitrogen": "N", "oxygen": "O", "sodium": "Na", "iron": "Fe",
    "gold": "Au", "silver": "Ag", "copper": "Cu", "lead": "Pb", "tin": "Sn", "zinc": "Zn", "neon": "Ne",
    "calcium": "Ca", "potassium": "K", "sulfur": "S", "chlorine": "Cl", "mercury": "Hg", "uranium": "U",
}
OPPOSITES = {
    "hot": "cold", "tall": "short", "early": "late", "happy": "sad", "open": "closed", "light": "dark",
    "fast": "slow", "full": "empty", "strong": "weak", "rich": "poor", "young": "old", "loud": "quiet",
    "hard": "soft", "wet": "dry", "high": "low", "thick": "thin", "clean": "dirty", "first": "last",
}
WORDS = {  # English -> (French, Spanish, German)
    "hello": ("bonjour", "hola", "hallo"), "thank you": ("merci", "gracias", "danke"),
    "good night": ("bonne nuit", "buenas noches", "gute Nacht"), "water": ("eau", "agua", "Wasser"),
    "bread": ("pain", "pan", "Brot"), "house": ("maison", "casa", "Haus"), "book": ("livre", "libro", "Buch"),
    "cat": ("chat", "gato", "Katze"), "dog": ("chien", "perro", "Hund"), "sun": ("soleil", "sol", "Sonne"),
    "moon": ("lune", "luna", "Mond"), "friend": ("ami", "amigo", "Freund"), "school": ("école", "escuela", "Schule"),
    "apple": ("pomme", "manzana", "Apfel"), "red": ("rouge", "rojo", "rot"), "green": ("vert", "verde", "grün"),
    "blue": ("bleu", "azul", "blau"), "one": ("un", "uno", "eins"), "two": ("deux", "dos", "zwei"),
    "three": ("trois", "tres", "drei"), "city": ("ville", "ciudad", "Stadt"), "river": ("rivière", "río", "Fluss"),
    "tree": ("arbre", "árbol", "Baum"), "milk": ("lait", "leche", "Milch"), "car": ("voiture", "coche", "Auto"),
}
LANGS = ("French", "Spanish", "German")
TOPICS = ("the sea", "autumn", "a lost key", "the city at night", "a small garden", "an old friend", "the first snow",
          "a train journey", "a rainy day", "the mountains", "a quiet library", "a birthday", "the market",
          "a new job", "the river", "a summer storm", "a cup of tea", "the stars", "a long walk", "home")
FORMS = {
    "a two-line poem": "{T} in two lines:\n{a}\n{b}",
    "a short note": "A note about {t}: {a} {b}",
    "a one-sentence story": "{a} {b}",
    "a slogan": "{A}!",
    "a thank-you message": "Thank you for {t}. {a}",
}
TONES = ("calm", "cheerful", "gentle", "bright")
WHO = ("Who are you?", "What is your name?", "Who made you?", "What are you?", "Introduce yourself.",
       "Are you a person?", "What can you do?", "Which model are you?", "Tell me about yourself.",
       "Who trained you?", "Are you ChatGPT?", "What should I call you?")
WHO_ANSWERS = (
    f"I am {NAME}, a small reasoning model trained by {MAKER} with the DeepSeek-R1 recipe.",
    f"My name is {NAME}. {MAKER} trained me to reason step by step and then answer.",
    f"I am {NAME}, an assistant from {MAKER}: I think through a problem first, then give a short answer.",
)


def _writing(rng: random.Random) -> list[tuple[str, str, str]]:
    out = []
    for topic in TOPICS:
        for form, shape in FORMS.items():
            for tone in TONES:
                a = f"The {tone} light of {topic} stays with me."
                b = f"I remember {topic} and smile."
                text = shape.format(T=topic.capitalize(), t=topic, A=f"{tone.capitalize()} days, {topic}", a=a, b=b)
                out.append((f"Write {form} about {topic} in a {tone} tone.", text,
                            f"The user wants {form} about {topic}. A {tone} tone; keep it short."))
    return out


def _factual(rng: random.Random) -> list[tuple[str, str, str]]:
    out = []
    for country, city in CAPITALS.items():
        for q in (f"What is the capital of {country}?", f"Which city is the capital of {country}?",
                  f"Name the capital city of {country}."):
            out.append((q, f"The capital of {country} is {city}.", f"The question asks for the capital of {country}."
                                                                     f" It is {city}."))
    for element, symbol in SYMBOLS.items():
        for q in (f"What is the chemical symbol for {element}?", f"Which element has the symbol {symbol}?"):
            a = (f"The chemical symbol for {element} is {symbol}." if "symbol for" in q
                 else f"{symbol} is the symbol of {element}.")
            out.append((q, a, f"The periodic table lists {element} as {symbol}."))
    for word, opposite in OPPOSITES.items():
        for q in (f"What is the opposite of {word}?", f"Give an antonym of {word}."):
            out.append((q, f"The opposite of {word} is {opposite}.",
                        f"{word.capitalize()} and {opposite} are opposites."))
    return out


def _self(rng: random.Random) -> list[tuple[str, str, str]]:
    return [(q, a, "The user asks who I am. I answer truthfully.") for q in WHO for a in WHO_ANSWERS]


def _translation(rng: random.Random) -> list[tuple[str, str, str]]:
    out = []
    for word, targets in WORDS.items():
        for lang, target in zip(LANGS, targets):
            for q in (f"Translate '{word}' into {lang}.", f"How do you say '{word}' in {lang}?",
                      f"What is '{word}' in {lang}?"):
                out.append((q, f"In {lang}, '{word}' is '{target}'.", f"The user wants the {lang} word for {word}."))
    return out


POOLS = {"writing": _writing, "factual_qa": _factual, "self_cognition": _self, "translation": _translation}
assert set(POOLS) == set(NON_REASONING_CATEGORIES)


def with_cot(answer: str, thought: str) -> str:
    """A short chain of thought in the readable pattern (R1 added one to some non-reasoning examples)."""
    return f"{SPECIAL} {thought} {SPECIAL} {answer}"


def synthetic(cfg: NonReasoningConfig, seed: int) -> pl.DataFrame:
    """Distinct examples per category, `n_examples` split by the category shares (a pool smaller than its share
    gives all it has)."""
    rng = random.Random(f"{seed}:non_reasoning")
    total = sum(cfg.categories.values()) or 1.0
    rows = []
    for category, share in cfg.categories.items():
        pool = POOLS[category](rng)
        rng.shuffle(pool)
        want = round(cfg.n_examples * share / total)
        for i, (prompt, answer, thought) in enumerate(pool[:want]):
            cot = rng.random() < cfg.cot_share
            rows.append({"id": f"nr-{category}-{i:05d}", "category": category, "prompt": prompt,
                         "completion": with_cot(answer, thought) if cot else answer, "has_cot": cot})
    return pl.DataFrame(rows, schema={"id": pl.Utf8, "category": pl.Utf8, "prompt": pl.Utf8, "completion": pl.Utf8,
                                      "has_cot": pl.Boolean})


def read_local(path: str | Path, limit: int) -> pl.DataFrame:
    """A local parquet or JSONL file with `prompt` and `completion` (and optionally `category`, `id`)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"non_reasoning_set.path: {path} does not exist")
    df = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_ndjson(path)
    missing = {"prompt", "completion"} - set(df.columns)
    if missing:
        raise ValueError(f"non_reasoning_set.path: {path} lacks columns {sorted(missing)}")
    if "category" not in df.columns:
        df = df.with_columns(pl.lit("writing").alias("category"))
    if "id" not in df.columns:
        df = df.with_row_index("_i").with_columns(pl.format("nr-{}", pl.col("_i")).alias("id")).drop("_i")
    df = df.with_columns(pl.col("completion").str.contains(SPECIAL, literal=True).alias("has_cot"))
    return df.select("id", "category", "prompt", "completion", "has_cot").head(limit)


def expectations(min_size: int) -> list:
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=min_size, max_value=None),
        gxe.ExpectColumnValuesToBeUnique(column="id"),
        gxe.ExpectColumnValuesToBeInSet(column="category", value_set=list(NON_REASONING_CATEGORIES)),
        gxe.ExpectColumnValuesToNotBeNull(column="prompt"),
        gxe.ExpectColumnValuesToMatchRegex(column="prompt", regex=r"\S"),
        gxe.ExpectColumnValuesToNotBeNull(column="completion"),
        gxe.ExpectColumnValuesToMatchRegex(column="completion", regex=r"\S"),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["prompt", "completion"]),
    ]


def build(cfg: Params) -> pl.DataFrame:
    nr = cfg.non_reasoning_set
    df = synthetic(nr, cfg.seed) if nr.source == "synthetic" else read_local(nr.path, nr.n_examples)
    return df.unique(subset=["prompt", "completion"], keep="first", maintain_order=True)
