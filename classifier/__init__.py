"""dophu: classifier."""
