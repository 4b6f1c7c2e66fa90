"""classical_ml package."""
