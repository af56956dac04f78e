"""The demo sets: the CIFAR-LT exponential profile, LT-Shapes (LVIS format) and Digits-LT (ImageNet-LT lists)."""
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

import cv2
import numpy as np
import pytest

from ltmm.core.class_stats import count_class_stats
from ltmm.core.long_tail import exponential_profile
from ltmm.core.splits import lvis_frequency
from ltmm.demo.digits_lt import make_digits_lt
from ltmm.demo.lt_shapes import make_lt_shapes

# ---------------------------------------------------------------- exponential profile


@pytest.mark.parametrize('max_count, num_classes, imbalance, total', [
    (500, 100, 100, 10847),   # CIFAR-100-LT, IF 100 (LDAM-DRW)
    (5000, 10, 100, 12406),   # CIFAR-10-LT, IF 100
    (5000, 10, 50, 13996),    # CIFAR-10-LT, IF 50
])
def test_profile_matches_cifar_lt_sizes(max_count, num_classes, imbalance, total):
    counts = exponential_profile(max_count, num_classes, imbalance)
    assert len(counts) == num_classes
    assert sum(counts) == total
    assert counts[0] == max_count
    assert counts[-1] == max_count // imbalance
    assert all(a >= b for a, b in zip(counts, counts[1:]))


def test_profile_small_cases():
    # C = 2: head and head / IF; IF = 1: flat; C = 1: just the head
    assert exponential_profile(10, 2, 4) == [10, 2]
    assert exponential_profile(7, 4, 1) == [7, 7, 7, 7]
    assert exponential_profile(9, 1, 50) == [9]
    # C = 3, IF = 4: 100, int(100 * 0.25 ** 0.5) = 50, 25
    assert exponential_profile(100, 3, 4) == [100, 50, 25]


@pytest.mark.parametrize('num_classes, imbalance', [(0, 10), (-3, 10), (5, 0.5), (5, 0)])
def test_profile_invalid_args(num_classes, imbalance):
    with pytest.raises(ValueError):
        exponential_profile(100, num_classes, imbalance)


# ---------------------------------------------------------------- LT-Shapes

SMALL = dict(num_train_images=40, num_val_images=8, image_size=64, max_images=12, imbalance_factor=6)
NUM_CLASSES = 30


@pytest.fixture(scope='module')
def shapes(tmp_path_factory) -> Tuple[Path, Dict[str, int]]:
    out = tmp_path_factory.mktemp('lt_shapes_seed0')
    return out, make_lt_shapes(str(out), seed=0, **SMALL)


def load(path: Path) -> Dict:
    return json.loads(path.read_text(encoding='utf-8'))


def split_json(out: Path, split: str) -> Dict:
    return load(out / 'annotations' / f'lt_shapes_{split}.json')


def test_shapes_same_seed_same_bytes(shapes, tmp_path):
    out, _ = shapes
    again = tmp_path / 'again'
    make_lt_shapes(str(again), seed=0, **SMALL)
    for rel in ('annotations/lt_shapes_train.json', 'annotations/lt_shapes_val.json',
                'annotations/class_stats.json', 'multilabel/train.txt', 'multilabel/val.txt'):
        assert (out / rel).read_bytes() == (again / rel).read_bytes(), rel
    image = split_json(out, 'train')['images'][3]['file_name']
    assert (out / image).read_bytes() == (again / image).read_bytes()


def test_shapes_other_seed_differs(shapes, tmp_path):
    out, _ = shapes
    other = tmp_path / 'other'
    make_lt_shapes(str(other), seed=1, **SMALL)
    rel = 'annotations/lt_shapes_train.json'
    assert (out / rel).read_bytes() != (other / rel).read_bytes()
    assert (out / 'train/000001.png').read_bytes() != (other / 'train/000001.png').read_bytes()


def test_shapes_return_value(shapes):
    out, sizes = shapes
    train, val = split_json(out, 'train'), split_json(out, 'val')
    assert sizes == {'train_images': len(train['images']), 'train_annotations': len(train['annotations']),
                     'val_images': len(val['images']), 'val_annotations': len(val['annotations'])}
    assert len(val['images']) == SMALL['num_val_images']
    assert 0 < len(train['images']) <= SMALL['num_train_images']


def test_shapes_categories_match_training_annotations(shapes):
    out, _ = shapes
    train, val = split_json(out, 'train'), split_json(out, 'val')
    images: Dict[int, set] = defaultdict(set)
    instances: Counter = Counter()
    for ann in train['annotations']:
        images[ann['category_id']].add(ann['image_id'])
        instances[ann['category_id']] += 1
    cats = train['categories']
    assert [c['id'] for c in cats] == list(range(1, NUM_CLASSES + 1))
    for cat in cats:
        assert cat['image_count'] == len(images[cat['id']]), cat['name']
        assert cat['instance_count'] == instances[cat['id']], cat['name']
        assert cat['instance_count'] >= cat['image_count']
        assert cat['frequency'] == lvis_frequency(cat['image_count']), cat['name']
    # the long tail: each class is in exactly its profile count of images, which class gets which rank is seeded
    profile = exponential_profile(SMALL['max_images'], NUM_CLASSES, SMALL['imbalance_factor'])
    assert sorted(c['image_count'] for c in cats) == sorted(max(1, n) for n in profile)
    # the val json carries the training counts, as LVIS v1 val does
    assert val['categories'] == cats


def test_shapes_negative_categories(shapes):
    out, _ = shapes
    for split in ('train', 'val'):
        data = split_json(out, split)
        present: Dict[int, set] = defaultdict(set)
        for ann in data['annotations']:
            present[ann['image_id']].add(ann['category_id'])
        for img in data['images']:
            neg = img['neg_category_ids']
            assert neg and len(set(neg)) == len(neg), img['id']
            assert set(neg) <= set(range(1, NUM_CLASSES + 1))
            assert not set(neg) & present[img['id']], img['id']
            assert img['not_exhaustive_category_ids'] == []


def test_shapes_geometry_and_ids(shapes):
    out, _ = shapes
    size = SMALL['image_size']
    image_ids: List[int] = []
    ann_ids: List[int] = []
    for split in ('train', 'val'):
        data = split_json(out, split)
        by_id = {img['id']: img for img in data['images']}
        image_ids += list(by_id)
        annotated = set()
        for img in data['images']:
            assert (img['height'], img['width']) == (size, size)
            assert img['file_name'].startswith(f'{split}/')
            assert cv2.imread(str(out / img['file_name'])).shape == (size, size, 3)
        for ann in data['annotations']:
            ann_ids.append(ann['id'])
            assert ann['image_id'] in by_id
            assert 1 <= ann['category_id'] <= NUM_CLASSES
            annotated.add(ann['image_id'])
            x, y, w, h = ann['bbox']
            assert x >= 0 and y >= 0 and w > 0 and h > 0, ann
            assert x + w <= size and y + h <= size, ann
            assert ann['area'] > 0
            assert len(ann['segmentation']) == 1
            poly = np.asarray(ann['segmentation'][0]).reshape(-1, 2)
            assert len(ann['segmentation'][0]) % 2 == 0 and len(poly) >= 3
            # the polygon lies inside the image and its box is the annotated box
            assert poly.min() >= 0 and poly.max() <= size
            np.testing.assert_allclose(poly.min(0), [x, y], atol=0.02)
            np.testing.assert_allclose(poly.max(0), [x + w, y + h], atol=0.02)
        # every image holds at least one object (empty training images are dropped; val images get 1-4 classes)
        assert annotated == set(by_id)
    assert len(set(image_ids)) == len(image_ids)
    assert len(set(ann_ids)) == len(ann_ids)


def test_shapes_multilabel_lists(shapes):
    out, _ = shapes
    for split in ('train', 'val'):
        data = split_json(out, split)
        labels: Dict[int, set] = defaultdict(set)
        for ann in data['annotations']:
            labels[ann['image_id']].add(ann['category_id'] - 1)
        expected = [' '.join([img['file_name'], *map(str, sorted(labels[img['id']]))]) for img in data['images']]
        assert (out / 'multilabel' / f'{split}.txt').read_text(encoding='utf-8').splitlines() == expected


def test_shapes_class_stats_json(shapes):
    out, _ = shapes
    written = load(out / 'annotations' / 'class_stats.json')
    counted = count_class_stats(out / 'annotations' / 'lt_shapes_train.json')
    assert written == counted.to_dict()
    assert written['num_images'] == len(split_json(out, 'train')['images'])
    # the multi-label list view counts the same images per class (instances differ: one label per class a line)
    from_list = count_class_stats(out / 'multilabel' / 'train.txt', num_classes=NUM_CLASSES)
    assert from_list.image_count.tolist() == written['image_count']
    assert from_list.num_images == written['num_images']


# ---------------------------------------------------------------- Digits-LT

DIGITS_TRAIN = [120, 79, 52, 35, 23, 15, 10, 6, 4, 3]  # exponential_profile(120, 10, 40), see its docstring
LINE = re.compile(r'^(train|val|test)/(\d)/(\d{4})\.png (\d)$')


@pytest.fixture(scope='module')
def digits(tmp_path_factory) -> Tuple[Path, Dict[str, int]]:
    out = tmp_path_factory.mktemp('digits_lt')
    return out, make_digits_lt(str(out))


def read_list(out: Path, split: str) -> List[Tuple[str, int, int]]:
    """(relative path, label, source index) of each line."""
    items = []
    for line in (out / 'meta' / f'{split}.txt').read_text(encoding='utf-8').splitlines():
        m = LINE.match(line)
        assert m, line
        assert m.group(1) == split and m.group(2) == m.group(4), line
        items.append((line.rsplit(' ', 1)[0], int(m.group(4)), int(m.group(3))))
    return items


def test_digits_profile_constant():
    assert exponential_profile(120, 10, 40) == DIGITS_TRAIN


def test_digits_counts_per_split(digits):
    out, sizes = digits
    expected = {'train': DIGITS_TRAIN, 'val': [10] * 10, 'test': [40] * 10}
    assert sizes == {split: sum(counts) for split, counts in expected.items()}
    for split, counts in expected.items():
        per_label = Counter(label for _, label, _ in read_list(out, split))
        assert [per_label[d] for d in range(10)] == counts, split


def test_digits_images_and_labels(digits):
    from sklearn.datasets import load_digits

    target = load_digits().target
    out, _ = digits
    for split in ('train', 'val', 'test'):
        for rel, label, index in read_list(out, split):
            img = cv2.imread(str(out / 'images' / rel), cv2.IMREAD_UNCHANGED)
            assert img is not None and img.shape == (32, 32) and img.dtype == np.uint8, rel
            assert target[index] == label, rel


def test_digits_splits_are_disjoint(digits):
    out, _ = digits
    indices = {split: [index for _, _, index in read_list(out, split)] for split in ('train', 'val', 'test')}
    for split, idx in indices.items():
        assert len(set(idx)) == len(idx), split
    assert not set(indices['train']) & set(indices['val'])
    assert not set(indices['train']) & set(indices['test'])
    assert not set(indices['val']) & set(indices['test'])


def test_digits_class_stats_json(digits):
    out, _ = digits
    written = load(out / 'meta' / 'class_stats.json')
    assert written == {'num_images': sum(DIGITS_TRAIN), 'image_count': DIGITS_TRAIN,
                       'instance_count': DIGITS_TRAIN, 'classes': [str(d) for d in range(10)]}


def test_digits_seeded(digits, tmp_path):
    out, _ = digits
    again, other = tmp_path / 'again', tmp_path / 'other'
    make_digits_lt(str(again))
    make_digits_lt(str(other), seed=1)
    for split in ('train', 'val', 'test'):
        rel = f'meta/{split}.txt'
        assert (again / rel).read_bytes() == (out / rel).read_bytes(), split
        assert (other / rel).read_bytes() != (out / rel).read_bytes(), split
    first = read_list(out, 'train')[0][0]
    assert (again / 'images' / first).read_bytes() == (out / 'images' / first).read_bytes()
