"""``descentlab predict``: a saved model's predictions for every row of a file."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from descentlab.runs.names import PREDICTIONS_FILE

DESCRIPTION = (
    "Load a model file written by 'descentlab train --save' and predict every row of --data; "
    "writes the predictions as CSV and, when the file has labels, prints the accuracy."
)


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, required=True, metavar="MODEL.npz")
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        metavar="FILE",
        help="a .csv with a header row (the model's feature columns, and optionally the label "
        "column), an .npz with X (and y), or an .npy of features",
    )
    parser.add_argument(
        "--target",
        metavar="COLUMN",
        help="the label column of a CSV (default: the column that is not a feature, if any)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(PREDICTIONS_FILE),
        metavar="FILE.csv",
        help="where to write the predictions (refused if it exists; default: %(default)s)",
    )


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from descentlab.model_file import load
    from descentlab.prediction import predict_file, write_predictions

    if args.out.exists():
        raise ValueError(f"--out {str(args.out)!r} exists; choose another file or remove it")
    if not args.out.resolve().parent.is_dir():
        raise ValueError(f"--out {str(args.out)!r}: its folder does not exist")
    predictions = predict_file(load(args.model), args.data, args.target)
    write_predictions(args.out, predictions)
    message = f"predicted {len(predictions.labels)} rows with {args.model}; wrote {args.out}"
    correct = predictions.correct()
    if correct is not None:
        total = len(predictions.labels)
        message += f"; accuracy {100 * correct / total:.1f}% ({correct}/{total})"
    print(message)
    return 0
