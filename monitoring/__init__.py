"""What the people running returnflow watch: the returns counted for the metrics, and the
Prometheus alert rules and Grafana dashboard beside this package (docs/telemetry.md)."""
