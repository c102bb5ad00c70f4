"""One module per lecture topic: the experiments and figures behind each concept page."""
