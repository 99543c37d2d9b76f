"""Training: ``run_one`` turns a ``Job`` into a ``RunRecord``; ``train_one_epoch`` and ``evaluate`` do the work.

Losses, metrics, the optimizer and schedule, and device handling each live in their own file here.
"""

from suite.train.loop import Evaluation, NonFiniteLoss, evaluate, evaluate_in_detail, train_one_epoch
from suite.train.losses import make_loss
from suite.train.metrics import METRICS, final_metric_names, per_image_dice_iou
from suite.train.run_one import failed_record, run_one, surface_scoring
from suite.train.schedule import make_optimizer, make_scheduler
from suite.train.surface_metrics import SurfaceScoring

__all__ = [
    "METRICS",
    "Evaluation",
    "NonFiniteLoss",
    "SurfaceScoring",
    "evaluate",
    "evaluate_in_detail",
    "failed_record",
    "final_metric_names",
    "make_loss",
    "make_optimizer",
    "make_scheduler",
    "per_image_dice_iou",
    "run_one",
    "surface_scoring",
    "train_one_epoch",
]
