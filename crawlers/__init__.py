"""dophu: crawlers."""
