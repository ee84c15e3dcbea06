"""Action handlers, one module per area, each with an `ACTIONS` tuple for the registry."""
