"""Data: the text's Figure 5.3 problems, the 8×8 digits, CSV files, splitting and batching.

Everything here returns NumPy arrays; wrap them with ``cr.tensor`` where a Tensor is needed.
"""

from .csvdata import CSVError, Table, encode_labels, read_csv
from .curves import FIGURE_5_3, FIGURE_5_3_LABELS, figure_5_3
from .digits import load_digits
from .loader import DataLoader, split_indices, train_val_split
from .sampler import DistributedSampler

__all__ = [
    "FIGURE_5_3",
    "FIGURE_5_3_LABELS",
    "CSVError",
    "DataLoader",
    "DistributedSampler",
    "Table",
    "encode_labels",
    "figure_5_3",
    "load_digits",
    "read_csv",
    "split_indices",
    "train_val_split",
]
