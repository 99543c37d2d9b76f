"""Training: ``run_one`` turns a ``Job`` into a ``RunRecord``; ``train_one_epoch`` and ``evaluate`` do the work.

Losses, metrics, the optimizer and schedule, and device handling each live in their own file here.
"""

from suite.train.loop import NonFiniteLoss, evaluate, train_one_epoch
from suite.train.losses import make_loss
from suite.train.metrics import METRICS, per_image_dice_iou
from suite.train.run_one import failed_record, run_one
from suite.train.schedule import make_optimizer, make_scheduler

__all__ = [
    "METRICS",
    "NonFiniteLoss",
    "evaluate",
    "failed_record",
    "make_loss",
    "make_optimizer",
    "make_scheduler",
    "per_image_dice_iou",
    "run_one",
    "train_one_epoch",
]
