"""loopline's KFP component suite: each subpackage holds one component's contract and logic."""
