"""One turn (render, stream, parse, tool loop), the agent loop, replay, set-up and persistence."""
