"""Prompt suites shipped with homogeny and readers for user prompt files."""
