"""``jaxact train``: its options and the run (the command line of :mod:`jaxact.training`)."""

from __future__ import annotations

import argparse
import functools
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    """Adds ``train`` to the ``jaxact`` subcommands ``sub``."""
    from jaxact.training.loop import Config

    d = Config()
    p = sub.add_parser(
        "train",
        help="train the MNIST CNN or an MLP with one or more activations and compare them",
        description="Trains one model per activation (same initial weights, data order and "
        "seed), prints a comparison table and writes results.json, plots and checkpoints "
        "to --out. An activation is a jaxact.nnx.LEARNABLE layer name (its parameters "
        "train) or a registry name (jaxact list).",
    )
    p.add_argument("--activation", default="relu", metavar="NAME[,NAME]", help="default relu")
    p.add_argument("--model", choices=("cnn", "mlp"), default=d.model)
    p.add_argument("--dataset", choices=("fashion_mnist", "mnist"), default="fashion_mnist")
    p.add_argument("--data-dir", default=None, help="directory with the IDX files")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr, help="peak learning rate")
    p.add_argument(
        "--schedule", choices=("warmup_cosine", "cosine", "constant"), default=d.schedule
    )
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--label-smoothing", type=float, default=d.label_smoothing)
    p.add_argument(
        "--shift", type=int, default=d.shift, metavar="PX", help="random shifts up to PX pixels"
    )
    p.add_argument("--no-augment", action="store_true", help="no random flips and shifts")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--out", default="jaxact-train", metavar="DIR")
    p.add_argument("--resume", action="store_true", help="continue from checkpoints in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bars or epoch lines")
    p.add_argument("--limit-train", type=int, default=None, metavar="N")
    p.add_argument("--limit-test", type=int, default=None, metavar="N")
    p.set_defaults(action=run)


def run(args: argparse.Namespace) -> int:
    """Runs ``jaxact train`` for parsed options; returns the exit status."""
    import dataclasses
    import types

    from jaxact import datasets
    from jaxact.training import loop, report

    ds = datasets.load(args.dataset, args.data_dir)
    data = types.SimpleNamespace(
        train_images=ds.train_images[: args.limit_train],
        train_labels=ds.train_labels[: args.limit_train],
        test_images=ds.test_images[: args.limit_test],
        test_labels=ds.test_labels[: args.limit_test],
    )
    n_test = len(data.test_images)
    cfg = loop.Config(
        model=args.model,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        schedule=args.schedule,
        weight_decay=args.weight_decay,
        label_smoothing=args.label_smoothing,
        flip=not args.no_augment,
        shift=0 if args.no_augment else args.shift,
        seed=args.seed,
        eval_batch=min(loop.Config.eval_batch, n_test),
        diag_batch=min(loop.Config.diag_batch, n_test),
    )
    log = (lambda s: None) if args.quiet else functools.partial(print, flush=True)
    progress = None
    if not args.quiet and sys.stderr.isatty():
        import tqdm

        progress = lambda n: tqdm.tqdm(total=n, leave=False, unit="step")
    acts = [a.strip() for a in args.activation.split(",") if a.strip()]
    try:
        runs = loop.compare(
            data, acts, cfg, out=args.out, resume=args.resume, log=log, progress=progress
        )
    except loop.NonFiniteError as e:
        print(f"jaxact train: {e}", file=sys.stderr)
        return 1
    config = {
        **dataclasses.asdict(cfg),
        "dataset": args.dataset,
        "data_source": ds.source,
        "activations": acts,
        "n_train": len(data.train_images),
        "n_test": n_test,
    }
    print(report.table(runs))
    print(f"wrote {report.write_results(args.out, config, runs)}")
    for path in report.plot(args.out, runs):
        print(f"wrote {path}")
    return 0
