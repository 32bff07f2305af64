"""The Helm chart: its generated catalogue, and the chart rendered and validated offline."""
