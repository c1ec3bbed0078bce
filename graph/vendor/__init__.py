"""The third-party browser files that Gatehouse serves itself, and the tool that copies them."""
