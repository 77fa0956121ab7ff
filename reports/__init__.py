"""dophu: reports."""
