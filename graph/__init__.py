"""The HTTP and GraphQL surface: Starlette app, strawberry types, auth, websockets, device REST."""
