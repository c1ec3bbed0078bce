"""The operator console (API.md §7): static files and the surface that serves them."""
