"""ipywidgets front ends. They hold no logic: each handler calls a function of the parts
below and shows its result or typed error."""
