"""A training script that never ends: SageMaker stops it at the config's maximum runtime."""

import time


def model_fn(model_dir):
    return None


if __name__ == "__main__":
    while True:  # waiting for data that never comes
        time.sleep(0.5)
