"""HTTP routes: thin layers that validate, call the pipeline and render."""
