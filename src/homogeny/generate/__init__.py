"""Turns (model, prompt, sampling params, seeds) into stored samples: cached, resumable."""
