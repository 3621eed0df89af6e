"""The ways to keep results: ``.txt`` files (chapter 01) and MLflow (chapter 04 on)."""
