"""Prometheus's text format read back: what a scrape of a service found."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class Scrape:
    samples: list[Sample]
    types: dict[str, str]
    """Each metric family's type (counter, gauge, histogram...), from its `# TYPE` line."""

    @property
    def families(self) -> set[str]:
        return set(self.types)

    def values(self, name: str, **labels: str) -> list[float]:
        """The values of the samples named `name` whose labels include `labels`."""
        return [
            s.value
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        ]

    def total(self, name: str, **labels: str) -> float:
        return sum(self.values(name, **labels))

    def label_values(self, name: str, label: str) -> set[str]:
        return {s.labels[label] for s in self.samples if s.name == name and label in s.labels}


def parse(text: str) -> Scrape:
    samples: list[Sample] = []
    types: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            types[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        found = _SAMPLE.match(line)
        if found is None:
            raise ValueError(f"not a Prometheus sample: {line[:120]!r}")
        labels = {k: v.replace('\\"', '"') for k, v in _LABEL.findall(found.group(3) or "")}
        samples.append(Sample(found.group(1), labels, float(found.group(4))))
    return Scrape(samples, types)
