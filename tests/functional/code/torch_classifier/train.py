"""A small PyTorch classifier in script mode: headerless CSV channels, the label first, and a TorchScript model.pt,
so that the PyTorch container's default serving loads it and predicts (CSV rows in, a row of class probabilities out)."""

import argparse
import json
import os

import numpy as np
import pandas as pd
import torch
from torch import nn


class Classifier(nn.Module):
    def __init__(self, mean, scale, features, classes):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))
        self.layers = nn.Sequential(nn.Linear(features, 32), nn.ReLU(), nn.Linear(32, classes))

    def forward(self, x):
        if x.dim() == 1:
            x = x.unsqueeze(0)
        return torch.softmax(self.layers((x - self.mean) / self.scale), dim=1)


def model_fn(model_dir):
    # The PyTorch serving toolkit reads serving code from model.tar.gz's code/ folder only, which this script does not
    # write: this function is never called, and the container's default loads model.pt.
    raise RuntimeError("the PyTorch serving toolkit does not import the submitted bundle")


def read(directory):
    return pd.concat([pd.read_csv(os.path.join(directory, name), header=None) for name in sorted(os.listdir(directory))])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--model-dir", type=str, default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--train", type=str, default=os.environ.get("SM_CHANNEL_TRAIN"))
    parser.add_argument("--schema", type=str, default=os.environ.get("SM_CHANNEL_SCHEMA"))
    args, _ = parser.parse_known_args()
    with open(os.path.join(args.schema, "schema.json")) as handle:
        classes = json.load(handle)["classes"]  # the order the probabilities are read in

    torch.manual_seed(0)
    train = read(args.train)
    x = train.iloc[:, 1:].to_numpy(dtype=np.float32)
    y = torch.tensor([classes.index(str(label)) for label in train.iloc[:, 0]])
    model = Classifier(x.mean(axis=0), x.std(axis=0) + 1e-6, x.shape[1], len(classes))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    inputs = torch.from_numpy(x)
    for _ in range(args.epochs):
        optimizer.zero_grad()
        loss = nn.functional.nll_loss(torch.log(model(inputs) + 1e-9), y)
        loss.backward()
        optimizer.step()
    print(f"torch {torch.__version__}: final loss {loss.item():.3f}")
    torch.jit.script(model).save(os.path.join(args.model_dir, "model.pt"))
