"""Developer tools: screenshots, the soak loop, the translation catalogs (not installed)."""
