"""A shop's catalogue: the application the template project migrates."""
