"""``descentlab predict``: a saved model's predictions for every row of a file."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from descentlab.cli.options import Option, add
from descentlab.runs.names import PREDICTIONS_FILE

DESCRIPTION = (
    "Load a model file written by 'descentlab train --save' and predict every row of --data; "
    "writes the predictions as CSV and, when the file has labels, prints the accuracy."
)


def add_options(parser: argparse.ArgumentParser) -> None:
    add(
        parser,
        Option("--model", "the model file", Path, metavar="MODEL.npz", required=True),
        Option(
            "--data",
            "a .csv with a header row (the model's feature columns, and optionally the label "
            "column), an .npz with X (and y), or an .npy of features",
            Path,
            metavar="FILE",
            required=True,
        ),
        Option(
            "--target",
            "the label column of a CSV (default: the column that is not a feature, if any)",
            metavar="COLUMN",
        ),
        Option(
            "--out",
            "where to write the predictions (refused if it exists; default: %(default)s)",
            Path,
            Path(PREDICTIONS_FILE),
            "FILE.csv",
        ),
    )


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from descentlab.atomic import check_writable
    from descentlab.model_file import load
    from descentlab.prediction import predict_file, write_predictions

    check_writable(args.out, "--out", replace=False)
    predictions = predict_file(load(args.model), args.data, args.target)
    write_predictions(args.out, predictions)
    message = f"predicted {len(predictions.labels)} rows with {args.model}; wrote {args.out}"
    correct = predictions.correct()
    if correct is not None:
        total = len(predictions.labels)
        message += f"; accuracy {100 * correct / total:.1f}% ({correct}/{total})"
    print(message)
    return 0
