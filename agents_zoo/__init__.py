"""agents_zoo package."""
