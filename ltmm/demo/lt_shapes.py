"""LT-Shapes: a seeded synthetic detection / instance-segmentation set in LVIS v1 format whose class frequencies
follow a long tail, for demos and end-to-end tests that must run on a CPU in minutes.

Each image shows a few coloured shapes (6 shapes x 5 colours = 30 classes) on a noisy grey background. Training
image counts per class follow the exponential profile from ``max_images`` down to ``max_images / imbalance_factor``;
which class gets which rank is a seeded permutation, so the head is not one shape. The validation split is roughly
balanced so that the rare classes are evaluated on more than a handful of instances.

Written under ``out_dir``::

    train/<id>.png, val/<id>.png
    annotations/lt_shapes_{train,val}.json   LVIS v1 format: categories with frequency (r: 1-10, c: 11-100,
                                             f: > 100 training images), image_count, instance_count; images with
                                             neg_category_ids, not_exhaustive_category_ids; boxes and polygons
    annotations/class_stats.json             training counts (ltmm class_stats)
    multilabel/{train,val}.txt               multi-label view: "<file> <label> <label> ..." (0-based labels)
"""
import json
import math
import os
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
from tqdm import tqdm

from ..core.class_stats import count_detection_stats
from ..core.long_tail import exponential_profile
from ..core.splits import lvis_frequency

SHAPES = ('circle', 'square', 'triangle', 'diamond', 'star', 'cross')
COLOURS = {  # BGR, as cv2 draws
    'red': (40, 40, 220),
    'green': (40, 190, 40),
    'blue': (220, 80, 30),
    'yellow': (30, 220, 230),
    'magenta': (200, 40, 200),
}
CLASSES = tuple(f'{colour}_{shape}' for shape in SHAPES for colour in COLOURS)


def _shape_polygon(shape: str, cx: float, cy: float, r: float, angle: float) -> np.ndarray:
    """Vertices (K, 2) of a shape of circumradius ``r`` centred at (cx, cy), rotated by ``angle`` radians."""
    if shape == 'circle':
        t = np.linspace(0, 2 * math.pi, 24, endpoint=False)
        radii = np.full_like(t, r)
    elif shape == 'square':
        t = np.arange(4) * math.pi / 2 + math.pi / 4
        radii = np.full_like(t, r)
    elif shape == 'triangle':
        t = np.arange(3) * 2 * math.pi / 3 - math.pi / 2
        radii = np.full_like(t, r)
    elif shape == 'diamond':
        t = np.arange(4) * math.pi / 2
        radii = np.array([r, 0.6 * r, r, 0.6 * r])
    elif shape == 'star':
        t = np.arange(10) * math.pi / 5 - math.pi / 2
        radii = np.where(np.arange(10) % 2 == 0, r, 0.45 * r)
    elif shape == 'cross':
        a, b = r, 0.35 * r
        pts = np.array([(-b, -a), (b, -a), (b, -b), (a, -b), (a, b), (b, b), (b, a), (-b, a), (-b, b), (-a, b),
                        (-a, -b), (-b, -b)])
        t = np.arctan2(pts[:, 1], pts[:, 0])
        radii = np.hypot(pts[:, 0], pts[:, 1])
    else:
        raise ValueError(f'unknown shape {shape!r}')
    if shape != 'circle':
        t = t + angle
    return np.stack([cx + radii * np.cos(t), cy + radii * np.sin(t)], axis=1)


def _assign_classes(image_counts: Sequence[int], num_images: int, max_objects: int,
                    rng: np.random.RandomState) -> List[List[int]]:
    """Put class ``c`` into ``image_counts[c]`` distinct images, preferring the emptier ones."""
    contents: List[List[int]] = [[] for _ in range(num_images)]
    for c in np.argsort(image_counts)[::-1]:
        free = np.array([i for i in range(num_images) if len(contents[i]) < max_objects])
        if len(free) < image_counts[c]:
            raise ValueError(f'{num_images} images with {max_objects} objects each cannot hold the long tail; '
                             'raise num_images')
        load = np.array([len(contents[i]) for i in free], dtype=np.float64)
        p = np.exp(-load)
        chosen = rng.choice(free, size=image_counts[c], replace=False, p=p / p.sum())
        for i in chosen:
            contents[i].append(int(c))
    return [labels for labels in contents if labels]


def _render(labels: List[int], size: int, rng: np.random.RandomState,
            repeat_prob: float) -> Tuple[np.ndarray, List[Tuple[int, np.ndarray]]]:
    """Draw one image; returns it and the placed (label, polygon) pairs. Objects do not overlap."""
    base = rng.randint(90, 170)
    img = np.clip(base + rng.randn(size, size, 3) * 12, 0, 255).astype(np.uint8)
    objects = list(labels) + [c for c in labels if rng.rand() < repeat_prob]
    placed: List[Tuple[int, np.ndarray]] = []
    boxes: List[Tuple[float, float, float, float]] = []
    for label in objects:
        shape = SHAPES[label // len(COLOURS)]
        colour = np.array(COLOURS[list(COLOURS)[label % len(COLOURS)]], dtype=np.float64)
        for _ in range(100):
            r = rng.uniform(0.07, 0.2) * size
            cx, cy = rng.uniform(r + 1, size - r - 1, size=2)
            poly = _shape_polygon(shape, cx, cy, r, rng.uniform(0, 2 * math.pi))
            x0, y0 = poly.min(0)
            x1, y1 = poly.max(0)
            if all(x1 + 2 < a or b + 2 < x0 or y1 + 2 < c or d + 2 < y0 for a, c, b, d in boxes):
                break
        else:
            continue  # no room left: only happens for the optional repeats in a crowded image
        shade = np.clip(colour * rng.uniform(0.8, 1.15), 0, 255)
        cv2.fillPoly(img, [np.round(poly).astype(np.int32)], tuple(float(v) for v in shade), cv2.LINE_AA)
        boxes.append((x0, y0, x1, y1))
        placed.append((label, poly))
    missing = set(labels) - {label for label, _ in placed}
    if missing:
        raise RuntimeError(f'could not place classes {sorted(missing)} in a {size}px image')
    return img, placed


def _write_split(out_dir: str, split: str, contents: List[List[int]], size: int, rng: np.random.RandomState,
                 start_id: int, repeat_prob: float, num_neg: int) -> Dict:
    """Render and write one split; image and annotation ids both count up from ``start_id``."""
    os.makedirs(os.path.join(out_dir, split), exist_ok=True)
    images, annotations = [], []
    for k, labels in enumerate(tqdm(contents, desc=f'LT-Shapes {split}', unit='img', leave=False)):
        image_id = start_id + k
        img, placed = _render(labels, size, rng, repeat_prob)
        file_name = f'{split}/{image_id:06d}.png'
        cv2.imwrite(os.path.join(out_dir, file_name), img)
        present = sorted({label for label, _ in placed})
        absent = [c for c in range(len(CLASSES)) if c not in present]
        neg = sorted(int(c) + 1 for c in rng.choice(absent, size=min(num_neg, len(absent)), replace=False))
        images.append(dict(id=image_id, file_name=file_name, height=size, width=size, neg_category_ids=neg,
                           not_exhaustive_category_ids=[]))
        for label, poly in placed:
            x0, y0 = np.clip(poly.min(0), 0, size)
            x1, y1 = np.clip(poly.max(0), 0, size)
            xs, ys = poly[:, 0], poly[:, 1]
            area = 0.5 * abs(float(np.dot(xs, np.roll(ys, 1)) - np.dot(ys, np.roll(xs, 1))))
            annotations.append(dict(id=start_id + len(annotations), image_id=image_id,
                                    category_id=label + 1, bbox=[round(float(v), 2) for v in (x0, y0, x1 - x0,
                                                                                              y1 - y0)],
                                    area=round(area, 2),
                                    segmentation=[[round(float(v), 2) for v in poly.reshape(-1)]]))
    return dict(images=images, annotations=annotations)


def make_lt_shapes(out_dir: str, num_train_images: int = 700, num_val_images: int = 150, image_size: int = 128,
                   max_images: int = 240, imbalance_factor: float = 120.0, max_objects: int = 5,
                   repeat_prob: float = 0.15, seed: int = 0) -> Dict[str, int]:
    """Generate LT-Shapes under ``out_dir``; returns the number of images and annotations of each split.

    Args:
        out_dir: output folder (created).
        num_train_images: images the training tail is spread over (empty ones are dropped).
        num_val_images: validation images; each holds 1-4 classes drawn uniformly.
        image_size: image side in pixels.
        max_images: training images of the most frequent class.
        imbalance_factor: ratio of the most to the least frequent class's training images.
        max_objects: most distinct classes in one image.
        repeat_prob: chance that a class in an image gets a second instance.
        seed: seed of everything (same seed, same files).
    """
    rng = np.random.RandomState(seed)
    num_classes = len(CLASSES)
    rank_of_class = rng.permutation(num_classes)
    profile = exponential_profile(max_images, num_classes, imbalance_factor)
    image_counts = [max(1, profile[rank_of_class[c]]) for c in range(num_classes)]
    train_contents = _assign_classes(image_counts, num_train_images, max_objects, rng)
    val_contents = [sorted(rng.choice(num_classes, size=rng.randint(1, 5), replace=False).tolist())
                    for _ in range(num_val_images)]

    train = _write_split(out_dir, 'train', train_contents, image_size, rng, 1, repeat_prob, num_neg=5)
    val = _write_split(out_dir, 'val', val_contents, image_size, rng, 1_000_000, repeat_prob, num_neg=5)

    ann_dir = os.path.join(out_dir, 'annotations')
    os.makedirs(ann_dir, exist_ok=True)
    # the categories' training counts come from the annotations just generated
    base_cats = [{'id': c + 1, 'name': name, 'synonyms': [name], 'synset': f'{name}.n.01',
                  'def': name.replace('_', ' ')} for c, name in enumerate(CLASSES)]
    stats = count_detection_stats(dict(train, categories=base_cats), 'LT-Shapes train')
    categories = [dict(cat, image_count=int(stats.image_count[c]), instance_count=int(stats.instance_count[c]),
                       frequency=lvis_frequency(int(stats.image_count[c]))) for c, cat in enumerate(base_cats)]
    info = dict(description='LT-Shapes (ltmm synthetic long-tailed demo set)', version='1.0', seed=seed)
    for name, split in (('train', train), ('val', val)):
        with open(os.path.join(ann_dir, f'lt_shapes_{name}.json'), 'w', encoding='utf-8') as f:
            json.dump(dict(info=info, licenses=[], categories=categories, **split), f)
    stats.save(os.path.join(ann_dir, 'class_stats.json'))

    ml_dir = os.path.join(out_dir, 'multilabel')
    os.makedirs(ml_dir, exist_ok=True)
    for name, split in (('train', train), ('val', val)):
        labels: Dict[int, set] = {img['id']: set() for img in split['images']}
        for ann in split['annotations']:
            labels[ann['image_id']].add(ann['category_id'] - 1)
        with open(os.path.join(ml_dir, f'{name}.txt'), 'w', encoding='utf-8') as f:
            for img in split['images']:
                f.write(' '.join([img['file_name'], *map(str, sorted(labels[img['id']]))]) + '\n')
    return {f'{name}_{key}': len(split[key]) for name, split in (('train', train), ('val', val))
            for key in ('images', 'annotations')}
