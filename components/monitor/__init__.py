"""monitor: drift of served traffic against the baseline frozen in the model bundle."""
