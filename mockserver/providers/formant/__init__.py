"""FormantAI Voice batch calls: CSV campaigns of outbound calls and their metrics (``provider.PROVIDER``)."""
