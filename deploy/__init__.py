"""Deployment artefacts: the Helm chart's generated catalogue (`python -m deploy.generate`) and its schemas."""
