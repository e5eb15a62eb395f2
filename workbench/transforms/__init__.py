"""Column transforms and masks: pure, vectorized functions over Arrow arrays.

``rules`` parses and applies a column mapping's transform rule (casts, expressions read in
SQL, masks); ``masking`` holds the masks. Matching checks rules, governance previews them,
the engine applies them; none of that needs anything but ``errors`` from here.
"""
