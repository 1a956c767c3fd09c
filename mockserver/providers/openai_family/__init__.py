"""OpenAI-compatible batches and files, shared by AnyAPI, Portkey and Phaseo (each a dialect of it)."""
