"""One package or module per provider; ``registry`` lists them all."""
