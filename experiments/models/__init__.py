"""What can be swept: ModelSpec, the registry of models, and analytic test functions."""
