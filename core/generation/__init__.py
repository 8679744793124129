"""Generation: the fast stateful decoder, sampling, generate/score, and edits (locks, swaps, transposition)."""
