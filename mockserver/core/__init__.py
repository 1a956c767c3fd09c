"""Provider-independent machinery: clock, ids, lifecycles, errors, state store. Imports nothing else of mockserver."""
