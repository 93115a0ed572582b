"""deploy: promote an approved, infra-validated version and place it where the server loads it."""
