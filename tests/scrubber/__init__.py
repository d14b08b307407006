"""The scrubber's labelled evaluation set, its generator and the evaluation script."""
