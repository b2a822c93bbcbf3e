"""Tools: the registry, declared function tools, built-in python and browser, MCP servers, approval."""
