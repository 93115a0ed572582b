"""One racer of tests/components/lib/test_registry_races.py, as its own process (as two pipeline runs would be):
`python registry_race.py ROOT MODEL ROLE COUNT START_AT SEED [BUNDLE EVALUATION]`.

It waits until the wall-clock time START_AT so every racer starts together, then COUNT times:
- `register`: the register step's executor on BUNDLE and EVALUATION (one new version each);
- `promote`: promotes a version drawn (seeded) from the model's complete versions;
- `rollback`: rolls back, counting the refusals when nothing is left to roll back to.
Prints one JSON line: what it did (version numbers, or counts).
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from components.lib.registry import Registry
from components.lib.registry_records import RegistryError
from components.register.executor import register


def main(root: str, model: str, role: str, count: int, start_at: float, seed: int, *files: str) -> dict:
    """Race as `role`; what it did."""
    registry, draw = Registry(root), random.Random(seed)
    time.sleep(max(0.0, start_at - time.time()))
    done: dict = {"role": role, "versions": [], "refused": 0}
    for i in range(count):
        run = f"{role}-{seed}-{i}"
        if role == "register":
            done["versions"].append(register(Path(files[0]), Path(files[1]), root, model, run, log=lambda _: None)
                                    .number)
        elif role == "promote":
            number = draw.choice([v.number for v in registry.versions(model)])
            registry.promote(model, number, run=run, reason="race")
            done["versions"].append(number)
        else:
            try:
                done["versions"].append(registry.rollback(model, run=run, reason="race").number)
            except RegistryError as err:
                if "no previous version" not in str(err):
                    raise
                done["refused"] += 1
    return done


if __name__ == "__main__":
    root_, model_, role_, count_, start_, seed_, *rest = sys.argv[1:]
    print(json.dumps(main(root_, model_, role_, int(count_), float(start_), int(seed_), *rest)))
