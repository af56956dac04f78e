"""Digits-LT: scikit-learn's bundled handwritten digits (UCI optdigits test set, 1,797 real 8x8 images) made
long-tailed with the CIFAR-LT exponential profile, written as PNG images plus ImageNet-LT-style ``<path> <label>``
lists so it flows through the same dataset code (mmpretrain ``CustomDataset``) as ImageNet-LT.

Layout written under ``out_dir``::

    images/{train,val,test}/<label>/<index>.png      32x32 grayscale
    meta/{train,val,test}.txt                        "<split>/<label>/<index>.png <label>"
    meta/class_stats.json                            counts of the training list
"""
import dataclasses
import os
from typing import Dict

import cv2
import numpy as np
from tqdm import tqdm

from ..core.class_stats import count_class_stats
from ..core.long_tail import exponential_profile

CLASSES = tuple(str(d) for d in range(10))


def make_digits_lt(out_dir: str, imbalance_factor: float = 40.0, max_count: int = 120, num_val: int = 10,
                   num_test: int = 40, image_size: int = 32, seed: int = 0) -> Dict[str, int]:
    """Write Digits-LT to ``out_dir`` and return the number of images of each split.

    Per class, ``num_test`` and ``num_val`` images are held out first (balanced, as ImageNet-LT's val/test), then
    class ``i`` keeps ``n_i`` of the rest with ``n_i`` from :func:`exponential_profile` (digit 0 is the head class).
    With the defaults: 120, 79, 52, 35, 23, 15, 10, 6, 4, 3 training images, i.e. 1 many-shot (> 100), 4 medium
    and 5 few-shot (< 20) classes.

    Args:
        out_dir: output folder (created).
        imbalance_factor: head / tail count ratio.
        max_count: training images of the head class.
        num_val: validation images per class.
        num_test: test images per class.
        image_size: side of the written images (the 8x8 digits are upsampled).
        seed: seed of the shuffles (same seed, same files).
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images * (255.0 / 16.0)).round().astype(np.uint8)
    rng = np.random.RandomState(seed)
    counts = exponential_profile(max_count, len(CLASSES), imbalance_factor)
    splits: Dict[str, list] = {'train': [], 'val': [], 'test': []}
    for label, n_train in enumerate(counts):
        idx = np.flatnonzero(digits.target == label)
        rng.shuffle(idx)
        need = num_test + num_val + n_train
        if len(idx) < need:
            raise ValueError(f'digit {label} has {len(idx)} images, fewer than the {need} asked for')
        splits['test'] += [(i, label) for i in idx[:num_test]]
        splits['val'] += [(i, label) for i in idx[num_test:num_test + num_val]]
        splits['train'] += [(i, label) for i in idx[num_test + num_val:need]]

    os.makedirs(os.path.join(out_dir, 'meta'), exist_ok=True)
    for split, items in splits.items():
        lines = []
        for i, label in tqdm(items, desc=f'Digits-LT {split}', unit='img', leave=False):
            rel = f'{split}/{label}/{i:04d}.png'
            path = os.path.join(out_dir, 'images', rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            img = cv2.resize(images[i], (image_size, image_size), interpolation=cv2.INTER_LINEAR)
            cv2.imwrite(path, img)
            lines.append(f'{rel} {label}\n')
        with open(os.path.join(out_dir, 'meta', f'{split}.txt'), 'w', encoding='utf-8') as f:
            f.writelines(lines)
    stats = count_class_stats(os.path.join(out_dir, 'meta', 'train.txt'), num_classes=len(CLASSES))
    dataclasses.replace(stats, classes=CLASSES).save(os.path.join(out_dir, 'meta', 'class_stats.json'))
    return {split: len(items) for split, items in splits.items()}
