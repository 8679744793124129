"""Serving: exported artifacts (SavedModel, TFLite, ONNX), their runtimes, and the HTTP API."""
