"""Tiny language models trained here from scratch (torch, CPU), synthetic tasks, RL and
self-training loops: the training-stage claims (C2, C5, C7) need models whose training we
control. See `gpt` (the model), `arithmetic` (tasks and formats), `rl` (GRPO fine-tuning)."""
