"""dophu: demo."""
