"""The contract-test kit: property-based checks of the fake and of real providers, drift reports."""
