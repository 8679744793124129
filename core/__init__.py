"""Chordsmith core: corpus, chords, model, training, evaluation, generation and notation."""
