"""rabit_run on one host, as the container's distributed module runs it (release-3.0.5): no tracker, the function
called with its arguments. The embedded stack runs one instance; more hosts are refused, naming why."""

import logging
import sys


def rabit_run(exec_fun, args, include_in_training, hosts, current_host, first_port=None, second_port=None,
              max_connect_attempts=None, connect_retry_timeout=10, update_rabit_args=False):
    if len(hosts) > 1:
        raise RuntimeError(f"rabit_run across {len(hosts)} hosts: the embedded stack runs one instance; "
                           "set training.instance_count to 1 to train here")
    if not include_in_training:
        logging.warning("Host %s not being used for distributed training.", current_host)
        sys.exit(0)
    if update_rabit_args:
        args.update({"is_master": True})
    exec_fun(**args)
