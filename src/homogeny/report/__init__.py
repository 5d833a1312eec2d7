"""The HTML report and evidence.json, built from the store alone (no model is called)."""

from homogeny.report.build import build_report

__all__ = ["build_report"]
