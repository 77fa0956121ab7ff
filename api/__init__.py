"""dophu: api."""
