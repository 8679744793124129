"""Training: fit and callbacks, scale-out strategies, the run-folder contract, and starting/stopping runs."""
