"""How a metric is declared, and the metric families of one scrape.

Every metric is a `Metric` constant next to the code that fills it, so that the
catalog (`build.CATALOG`), the docs, the alerting rules and the dashboard can be
checked against one list.  `Families` collects the samples of one scrape and
yields them as prometheus_client families, in the order the metrics were
declared, each family once, with or without samples.

Per-object and per-kind metrics are `scoped`: where the snapshot holds objects of
more than one IPC namespace they gain the labels `namespace` and `container`;
on a machine with one namespace they have neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.core import Metric as Family

SCOPE_LABELS = ("namespace", "container")


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric: its full name, its help text and its labels (scope labels not included)."""

    name: str
    help: str
    labels: tuple[str, ...] = ()
    type: Literal["gauge", "counter"] = "gauge"
    scoped: bool = False  # gains `namespace` and `container` where there is more than one namespace


class Families:
    """The samples of one scrape, by metric.

    `scoped` tells whether scoped metrics carry the scope labels in this scrape
    (true only when the snapshot spans more than one IPC namespace).
    """

    def __init__(self, catalog: Sequence[Metric], scoped: bool = False) -> None:
        self.scoped = scoped
        self._catalog = {metric.name: metric for metric in catalog}
        self._samples: dict[str, list[tuple[tuple[str, ...], float]]] = {metric.name: [] for metric in catalog}

    def add(self, metric: Metric, labels: Sequence[str], value: float, scope: Sequence[str] = ()) -> None:
        """One sample; `scope` (namespace, container) is used only when this scrape is scoped."""
        if len(labels) != len(metric.labels):
            raise ValueError(f"{metric.name} takes labels {metric.labels}, given {tuple(labels)}")
        values = tuple(labels)
        if metric.scoped and self.scoped:
            values += tuple(scope) if scope else ("", "")
        self._samples[metric.name].append((values, float(value)))

    def samples(self, metric: Metric) -> list[tuple[tuple[str, ...], float]]:
        return self._samples[metric.name]

    def __iter__(self) -> Iterator[Family]:
        for name, samples in self._samples.items():
            metric = self._catalog[name]
            labels = list(metric.labels) + (list(SCOPE_LABELS) if metric.scoped and self.scoped else [])
            if metric.type == "counter":
                family: Family = CounterMetricFamily(name.removesuffix("_total"), metric.help, labels=labels)
            else:
                family = GaugeMetricFamily(name, metric.help, labels=labels)
            for values, value in samples:
                family.add_metric(list(values), value)
            yield family


def names(metrics: Iterable[Metric]) -> list[str]:
    return [metric.name for metric in metrics]
