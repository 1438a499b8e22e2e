"""National identifiers: parsing, normalisation and validation rules."""
