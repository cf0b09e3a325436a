"""Image spec and catalog config models, and their YAML loading."""
