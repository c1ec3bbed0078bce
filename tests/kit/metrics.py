"""Scraping ``/metrics`` and reading it with prometheus-client's own parser."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

Key = tuple[str, tuple[tuple[str, str], ...]]


def _key(name: str, labels: dict[str, str]) -> Key:
    return (name, tuple(sorted(labels.items())))


@dataclass(frozen=True)
class Scrape:
    """Every sample of one scrape, by sample name and labels."""

    samples: dict[Key, float]
    #: The families' names and types, as the parser read them.
    types: dict[str, str]

    @classmethod
    def parse(cls, text: str) -> Scrape:
        samples: dict[Key, float] = {}
        types: dict[str, str] = {}
        for family in text_string_to_metric_families(text):
            types[family.name] = family.type
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                assert key not in samples, f"sample {key} appears twice"
                samples[key] = sample.value
        return cls(samples, types)

    def value(self, name: str, **labels: str) -> float:
        """The sample ``name{labels}`` (it must exist)."""
        key = _key(name, labels)
        assert key in self.samples, f"no sample {name}{labels}"
        return self.samples[key]

    def since(self, before: Scrape, name: str, **labels: str) -> float:
        """How much ``name{labels}`` grew since ``before`` (where it may not exist yet: a
        histogram's series appear with their first observation)."""
        return self.value(name, **labels) - before.samples.get(_key(name, labels), 0.0)

    def labels_of(self, name: str, label: str) -> set[str]:
        """Every value ``label`` takes among the samples called ``name``."""
        return {dict(labels)[label] for (n, labels) in self.samples if n == name}


async def scrape(http: httpx.AsyncClient, url: str = "/metrics") -> Scrape:
    """``GET /metrics``, checked to be the Prometheus text format, parsed."""
    response = await http.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version="), response.headers
    return Scrape.parse(response.text)
