"""`gptoss doctor`: probes of a live server and the verdicts drawn from them."""
