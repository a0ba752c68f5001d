"""A training script with a bug: the run fails at its pipeline step with this script's own error."""


def model_fn(model_dir):
    return None


if __name__ == "__main__":
    raise ValueError("the learning rate must be positive, got -0.5")
