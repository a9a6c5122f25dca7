"""Metrics: exact match / token F1, BLEU / chrF, ROUGE, accuracy / macro-F1, with bootstrap
confidence intervals and paired significance tests.

Typical use::

    from promptkit.metrics import MetricContext, score
    scores = score(["token_f1", "exact_match"], predictions, MetricContext(language="en"))
    scores["token_f1"].value, scores["token_f1"].ci_low, scores["token_f1"].ci_high

and to compare two methods on the same rows::

    metric = get_metric("token_f1")
    ctx = MetricContext()
    a = metric.stats([p.output for p in tuned], [p.references for p in tuned], ctx)
    b = metric.stats([p.output for p in zero_shot], [p.references for p in zero_shot], ctx)
    p_value = paired_bootstrap_test(metric, a, b)

Importing this package is cheap: sacrebleu, rouge-score and evaluate are imported when a
metric that needs them is computed.
"""

from promptkit.metrics import classification, matching, qa, rouge, translation  # noqa: F401  (register)
from promptkit.metrics.base import (
    METRICS,
    AdditiveMetric,
    MeanMetric,
    Metric,
    MetricContext,
    MetricError,
    StringMatchOptions,
)
from promptkit.metrics.bootstrap import (
    bootstrap_ci,
    paired_bootstrap_test,
    paired_permutation_test,
)
from promptkit.metrics.hub import HubMetric
from promptkit.metrics.language import normalize_language
from promptkit.metrics.scoring import get_metric, metric_names, score
from promptkit.metrics.significance import (
    format_p,
    holm,
    mcnemar_exact,
    min_detectable_difference,
    two_level_bootstrap_ci,
    two_level_bootstrap_values,
)

__all__ = [
    "METRICS",
    "AdditiveMetric",
    "HubMetric",
    "MeanMetric",
    "Metric",
    "MetricContext",
    "MetricError",
    "StringMatchOptions",
    "bootstrap_ci",
    "format_p",
    "get_metric",
    "holm",
    "mcnemar_exact",
    "metric_names",
    "min_detectable_difference",
    "normalize_language",
    "paired_bootstrap_test",
    "paired_permutation_test",
    "score",
    "two_level_bootstrap_ci",
    "two_level_bootstrap_values",
]
