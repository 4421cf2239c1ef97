"""Reading and validating the TOML files: scenarios, sweep/sensitivity studies, cluster files."""
