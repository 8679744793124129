"""Build-time parsers that turn the raw public corpora into the shipped progression table.

One module per source; each exposes ``parse(source_dir, report) -> list[Song]``. Only
``python -m core data build`` runs them; the product reads ``data/progressions.csv.gz``.
"""
