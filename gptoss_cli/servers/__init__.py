"""One profile per server kind, as data, with detection, discovery, context length and `gptoss serve`."""
