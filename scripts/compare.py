"""compare: the strategies of one experiment, side by side, and which one becomes `production`.

    python -m scripts.compare [--experiment tubetags] [--parent-run-id ID] [--latency-budget-ms 50] [--out reports]
    mlflow run . -e compare --env-manager local -P latency_budget_ms=50

Reads everything from MLflow (default: the child runs of the latest finished run tagged
tubetags.kind=experiment) and writes to --out:
- results.md / results.json: mean and 95% CI per strategy and metric, and why production won;
- comparison.png: grouped bars with CI error bars;
- error_analysis.md: false positives/negatives, worst talks, length and tag-frequency effects;
- costs.md: size, memory, latency and throughput of each strategy's best version, loaded as a
  gunicorn worker loads it, and where to run it (scripts/vm_prices.yaml).
Then it points registry aliases at each strategy's best version and `production` at the winner.
Defaults: experiments/configs/compare.yaml. The logic lives in tubetags.evaluation.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from tubetags.evaluation.compare import CompareConfig, compare
from tubetags.tracking import NoExperimentRun


def main(argv: Sequence[str] | None = None) -> dict:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = CompareConfig.from_cli(argv, __doc__)
    try:
        result = compare(config)
    except NoExperimentRun as error:
        raise SystemExit(f"compare: {error}") from None
    production = result["production"]
    print(f"\n{production['reason']}\n")
    for strategy, entry in result["strategies"].items():
        p5 = entry["metrics"]["test_p_at_5"]
        p50 = entry.get("latency_p50_ms")
        print(f"  {strategy:13s} P@5 {p5['mean']:.3f} [{p5['low']:.3f}, {p5['high']:.3f}]  "
              f"p50 {'–' if p50 is None else f'{p50:.0f} ms'}  version {entry.get('version')}")
    print(f"production: {production['strategy']} (version {production['version']}); reports in {config.out}",
          file=sys.stdout)
    return result


if __name__ == "__main__":
    main()
