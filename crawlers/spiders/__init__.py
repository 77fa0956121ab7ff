"""The spiders: one class crawls any number of configured sources."""
