"""One process of the multi-host tests: the tiny config on fake data.

  python tests/multihost_worker.py WORKDIR NUM_PROCESSES PROCESS_ID PORT DEVICES [MODE [STEPS]]
DEVICES CPU devices per process; MODE is main's --mode (default train);
STEPS the training steps (default the tiny config's 6). With
NUM_PROCESSES=1 it is a plain single-process run. Process 0 prints one JSON
line: the device and process counts, the logged losses and, when it
evaluated, metrics.json.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
  workdir, num_processes, process_id, port, devices = sys.argv[1:6]
  mode = sys.argv[6] if len(sys.argv) > 6 else "train"
  steps = int(sys.argv[7]) if len(sys.argv) > 7 else None
  from grouprep import main as main_lib
  main_lib.initialize_distributed(
      f"127.0.0.1:{port}" if int(num_processes) > 1 else None,
      int(num_processes), int(process_id))
  import jax
  import conftest  # sets XLA_FLAGS for the test suite's 2 devices: override
  os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
  from grouprep.data.sources import omniglot as omniglot_source
  # As conftest.fake_data: enough characters and drawers for 20-way 5-shot.
  splits = {"train": conftest.fake_split(chars_per_alphabet=20, drawers=7,
                                         seed=0),
            "test": conftest.fake_split(4, drawers=7, seed=1)}
  omniglot_source.load = lambda data_config, split: splits[split]
  config = conftest.tiny_config()
  config.num_devices = int(devices)  # per process
  if steps:
    config.train.num_steps = steps
  metrics = main_lib.run(config, workdir, mode)
  if jax.process_index() == 0:
    log = [json.loads(l) for l in open(os.path.join(workdir, "train_log.jsonl"))]
    print(json.dumps({"devices": jax.device_count(),
                      "processes": jax.process_count(),
                      "losses": [r["loss"] for r in log],
                      "metrics": metrics}), flush=True)


if __name__ == "__main__":
  main()
