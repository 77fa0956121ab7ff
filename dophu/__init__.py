"""dophu: dophu."""
