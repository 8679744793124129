"""Evaluation: the model against n-gram baselines on the test songs, conditioning checks, result tables."""
