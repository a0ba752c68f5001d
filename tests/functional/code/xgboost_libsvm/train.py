"""An XGBoost script in the style of SageMaker's abalone example: libsvm channels read with the container's
get_dmatrix, the container's modules imported, training through rabit_run's one-host path, and only model_fn
for serving (the container's default input_fn reads the libsvm rows into a DMatrix)."""

import argparse
import json
import os
import pickle as pkl

import xgboost as xgb
from sagemaker_containers import entry_point  # noqa: F401  (the example imports it for several hosts)
from sagemaker_xgboost_container import distributed
from sagemaker_xgboost_container.data_utils import get_dmatrix


def _xgb_train(params, dtrain, evals, num_boost_round, model_dir, is_master):
    booster = xgb.train(params=params, dtrain=dtrain, evals=evals, num_boost_round=num_boost_round)
    if is_master:
        with open(os.path.join(model_dir, "xgboost-model"), "wb") as handle:
            pkl.dump(booster, handle)


def model_fn(model_dir):
    with open(os.path.join(model_dir, "xgboost-model"), "rb") as handle:
        return pkl.load(handle)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--max_depth", type=int)
    parser.add_argument("--eta", type=float)
    parser.add_argument("--objective", type=str)
    parser.add_argument("--num_round", type=int)
    parser.add_argument("--num_class", type=int)
    parser.add_argument("--model_dir", type=str, default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--train", type=str, default=os.environ.get("SM_CHANNEL_TRAIN"))
    parser.add_argument("--validation", type=str, default=os.environ.get("SM_CHANNEL_VALIDATION"))
    parser.add_argument("--sm_hosts", type=str, default=os.environ.get("SM_HOSTS"))
    parser.add_argument("--sm_current_host", type=str, default=os.environ.get("SM_CURRENT_HOST"))
    args, _ = parser.parse_known_args()

    dtrain = get_dmatrix(args.train, "libsvm")
    dval = get_dmatrix(args.validation, "libsvm")
    watchlist = [(dtrain, "train"), (dval, "validation")] if dval is not None else [(dtrain, "train")]
    train_hp = {"max_depth": args.max_depth, "eta": args.eta, "objective": args.objective}
    if args.num_class:
        train_hp["num_class"] = args.num_class
    xgb_train_args = dict(params=train_hp, dtrain=dtrain, evals=watchlist, num_boost_round=args.num_round,
                          model_dir=args.model_dir)
    distributed.rabit_run(exec_fun=_xgb_train, args=xgb_train_args, include_in_training=(dtrain is not None),
                          hosts=json.loads(args.sm_hosts), current_host=args.sm_current_host, update_rabit_args=True)
