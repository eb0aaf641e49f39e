"""The sample datasets shipped in ``sample_data/`` (see its README for sources and licences)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.errors import NotFoundError

__all__ = ["Sample", "SAMPLES", "sample_path", "SAMPLE_DIR"]

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"


@dataclass(frozen=True)
class Sample:
    key: str
    file: str
    title: str
    target: str
    task: str
    description: str
    licence: str


SAMPLES: tuple[Sample, ...] = (
    Sample("penguins", "penguins.csv", "Palmer penguins", "species", "multiclass",
           "344 penguins, 3 species: bill and flipper sizes, body mass, island, sex.", "CC0 / MIT"),
    Sample("credit_scoring", "credit_scoring.csv", "Credit scoring", "Status", "binary",
           "4,454 loan applications: will the customer repay? Some values missing.", "MIT"),
    Sample("diamonds", "diamonds.csv", "Diamonds", "price", "regression",
           "53,940 diamonds: price from carat, cut, colour, clarity and size.", "MIT"),
    Sample("bikeshare", "bikeshare.csv", "Bike sharing", "bikers", "regression",
           "8,645 hours of bike rentals in Washington DC, 2011, with weather. Has a leak to find.",
           "BSD-2 / CC BY 4.0"),
)


def sample_path(key: str) -> Path:
    for sample in SAMPLES:
        if sample.key == key:
            return SAMPLE_DIR / sample.file
    raise NotFoundError(f"There is no sample dataset {key!r}.", hint=f"Choose one of {[s.key for s in SAMPLES]}.")


def get_sample(key: str) -> Sample:
    for sample in SAMPLES:
        if sample.key == key:
            return sample
    raise NotFoundError(f"There is no sample dataset {key!r}.", hint=f"Choose one of {[s.key for s in SAMPLES]}.")
