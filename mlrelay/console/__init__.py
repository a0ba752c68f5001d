"""mlrelay console: a web console over the same adapters as the CLI."""
