"""train: a Keras model with its preprocessing inside, exported as a model bundle."""
