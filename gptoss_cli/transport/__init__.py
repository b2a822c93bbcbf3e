"""HTTP to the server: prompt (token ids or text) in, decoded deltas out; knows no Harmony."""
