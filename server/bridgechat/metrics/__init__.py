"""Prometheus metrics: what a monitoring system scrapes (--metrics-listen).

- `meters.py`: `NodeMetrics`, one node's meters in a registry of its own (held by the node);
- `probes.py`: what is measured by asking (readiness, the pool, loop lag, Redis latency);
- `listener.py`: /metrics on a listener of its own, never the members' port.

docs/metrics.md lists every metric.
"""
