"""corenn package."""
