"""The HTTP routers; each delegates to a core module and only translates HTTP in and out."""
