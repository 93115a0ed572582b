"""TFDV statistics over Parquet with two engines that give the same result.

`in_memory` streams Arrow record batches through TFDV's combiners in this process, or in one forked
process per core for large data (fast, memory bounded by the batch); `beam` runs
`tfdv.GenerateStatistics` in an Apache Beam pipeline, so the same step scales out on Dataflow,
Flink or Spark through `beam_pipeline_args`.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import pyarrow as pa
import pyarrow.parquet as pq
import tensorflow_data_validation as tfdv
from tensorflow_data_validation.statistics import stats_impl
from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx_bsl.arrow import table_util

from components.errors import LooplineInputError

ENGINES = ("auto", "in_memory", "beam")
BATCH_ROWS = 65_536
# Above this many rows `auto` picks Beam (it can spread over machines); below it the in-process
# engine is faster on one machine (bench/bench_validate.py: 4x the DirectRunner at 1M rows).
AUTO_BEAM_MIN_ROWS = 50_000_000
WORKER_MIN_ROWS = 500_000


def stats_options() -> tfdv.StatsOptions:
    """The options both engines use, so their statistics are comparable."""
    return tfdv.StatsOptions(num_top_values=20, num_rank_histogram_buckets=1000)


def count_rows(paths: Sequence[str]) -> int:
    """Rows in Parquet files, from their footers (no data read)."""
    return sum(pq.ParquetFile(p).metadata.num_rows for p in paths)


def choose_engine(engine: str, paths: Sequence[str], beam_pipeline_args: Sequence[str]) -> str:
    """Resolve `auto`: Beam for a non-local runner or very large data, in-memory otherwise."""
    if engine not in ENGINES:
        raise LooplineInputError(f"statistics engine must be one of {ENGINES}, got {engine!r}")
    if engine != "auto":
        return engine
    remote = any(a.startswith("--runner") and "DirectRunner" not in a for a in beam_pipeline_args)
    return "beam" if remote or count_rows(paths) > AUTO_BEAM_MIN_ROWS else "in_memory"


def _accumulate(paths: Sequence[str], batch_rows: int, worker: int, workers: int) -> list[Any]:
    """TFDV accumulators over every `workers`-th batch, starting at `worker` (one process's share)."""
    batches = (b for p in paths for b in pq.ParquetFile(p).iter_batches(batch_size=batch_rows))
    return _accumulators(b for index, b in enumerate(batches) if index % workers == worker)


def _accumulators(batches: Iterable[pa.RecordBatch]) -> list[Any]:
    """TFDV's own combiner accumulators (the default generators) over Arrow record batches."""
    generators = stats_impl.get_generators(stats_options(), in_memory=True)
    accumulators = [g.create_accumulator() for g in generators]
    for batch in batches:
        canonical = table_util.CanonicalizeRecordBatch(batch)
        accumulators = [g.add_input(acc, canonical) for g, acc in zip(generators, accumulators)]
    return accumulators


def batch_statistics(batches: Iterable[pa.RecordBatch]) -> statistics_pb2.DatasetFeatureStatisticsList:
    """TFDV statistics of record batches already in memory (the monitor's served rows), with the same options."""
    generators = stats_impl.get_generators(stats_options(), in_memory=True)
    return stats_impl.extract_statistics_output(_accumulators(batches), generators)


def usable_cpus() -> int:
    """CPUs this process may use: its affinity, capped by a cgroup v2 CPU quota (a pod's CPU limit)."""
    cpus = len(os.sched_getaffinity(0))
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
    except (OSError, ValueError):
        return cpus
    return cpus if quota == "max" else max(1, min(cpus, int(quota) // int(period)))


def default_workers(rows: int) -> int:
    """One process per 500k rows, at most one per usable CPU: below that, forking costs more than it saves."""
    return max(1, min(usable_cpus(), rows // WORKER_MIN_ROWS))


def in_memory_statistics(
    paths: Sequence[str], batch_rows: int = BATCH_ROWS, workers: int = 0
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """TFDV statistics in this process (or `workers` forked ones; 0 = by size): Arrow batches are
    added to TFDV's own combiner accumulators, which are then merged, as Beam would."""
    workers = workers or default_workers(count_rows(paths))
    if workers == 1:
        parts = [_accumulate(paths, batch_rows, 0, 1)]
    else:
        # fork: the children inherit the imported TFDV instead of paying its import again.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            shares = [pool.submit(_accumulate, paths, batch_rows, w, workers) for w in range(workers)]
            parts = [share.result() for share in shares]
    generators = stats_impl.get_generators(stats_options(), in_memory=True)
    merged = [g.merge_accumulators(list(accs)) for g, accs in zip(generators, zip(*parts))]
    return stats_impl.extract_statistics_output(merged, generators)


def _canonical_batches(table: pa.Table, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """A Beam-read Arrow table as TFDV record batches."""
    for batch in table.to_batches(max_chunksize=batch_rows):
        yield table_util.CanonicalizeRecordBatch(batch)


def beam_statistics(
    paths: Sequence[str], beam_pipeline_args: Sequence[str] = (), batch_rows: int = BATCH_ROWS
) -> statistics_pb2.DatasetFeatureStatisticsList:
    """TFDV statistics by a Beam pipeline (DirectRunner unless the args name another runner)."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    with tempfile.TemporaryDirectory(prefix="loopline-stats-") as tmp:
        out = str(Path(tmp) / "stats.pb")
        options = PipelineOptions(list(beam_pipeline_args) or ["--runner=DirectRunner"])
        with beam.Pipeline(options=options) as pipeline:
            _ = (
                pipeline
                | "Files" >> beam.Create(list(paths))
                | "Read" >> beam.io.ReadAllFromParquetBatched()
                | "ToTfdvBatches" >> beam.FlatMap(_canonical_batches, batch_rows)
                | "Stats" >> tfdv.GenerateStatistics(stats_options())
                | "Write" >> tfdv.WriteStatisticsToBinaryFile(out)
            )
        return tfdv.load_stats_binary(out)


def generate_statistics(
    paths: Sequence[str], engine: str = "auto", beam_pipeline_args: Sequence[str] = ()
) -> tuple[statistics_pb2.DatasetFeatureStatisticsList, str]:
    """Statistics of the Parquet files with the chosen engine; returns them and the engine used."""
    chosen = choose_engine(engine, paths, beam_pipeline_args)
    if chosen == "beam":
        return beam_statistics(paths, beam_pipeline_args), chosen
    return in_memory_statistics(paths), chosen
