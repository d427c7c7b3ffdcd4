"""The bundled handwritten digits (scikit-learn's copy of the UCI set), as Datasets.

8x8 grey images with values 0..16, 1797 samples; a fixed, stratified train/test split so
every example and every rank of a distributed job sees the same split without a download.
"""

import numpy as np
from sklearn.datasets import load_digits


def digits_arrays(test_fraction=0.2, seed=0):
    """(train_x, train_y, test_x, test_y) as float32 images in [0, 1] and int64 labels."""
    data = load_digits()
    images = (data.images / 16.0).astype(np.float32)
    labels = data.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for label in range(10):
        idx = rng.permutation(np.flatnonzero(labels == label))
        cut = int(round(len(idx) * test_fraction))
        test_idx.extend(idx[:cut])
        train_idx.extend(idx[cut:])
    train_idx, test_idx = np.sort(train_idx), np.sort(test_idx)
    return images[train_idx], labels[train_idx], images[test_idx], labels[test_idx]


def make_dataset_class(torch):
    """A map-style Dataset of (image, label) pairs for the given torch-like module."""

    class Digits(torch.utils.data.Dataset):
        def __init__(self, images, labels, flatten=False):
            self.images = torch.from_numpy(images.reshape(len(images), -1) if flatten
                                           else images[:, None, :, :])
            self.labels = torch.from_numpy(labels)

        def __len__(self):
            return len(self.labels)

        def __getitem__(self, index):
            return self.images[index], self.labels[index]

    return Digits
