"""pytest plugin (entry point ``pytest11``): fixtures for a live or in-process fake."""
