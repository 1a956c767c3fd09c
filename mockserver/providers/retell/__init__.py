"""Retell AI batch tests: test-case definitions, batch test jobs and their test runs (``provider.PROVIDER``)."""
