"""register: record every candidate in the model registry with its evaluation and decision."""
