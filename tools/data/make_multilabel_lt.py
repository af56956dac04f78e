"""Build the multi-label long-tailed splits of the Distribution-Balanced loss paper (Wu et al., ECCV 2020) from the
original annotation files on disk (nothing is downloaded).

    # VOC-LT: VOC2012 trainval -> long-tailed train list; VOC2007 test -> test list
    python tools/data/make_multilabel_lt.py voc --data-root data/VOCdevkit
    # COCO-MLT: COCO2017 train -> long-tailed train list; COCO2017 val -> test list
    python tools/data/make_multilabel_lt.py coco --data-root data/coco
    # the published splits (1,142 / 1,909 images): pass the authors' image-id list (one id per line)
    python tools/data/make_multilabel_lt.py voc --data-root data/VOCdevkit --img-ids longtail2012/img_id.txt

Protocol (see ltmm/multilabel/long_tail_split.py): Pareto b=6 reference counts from --max (800 VOC, 1200 COCO) down
to --min (1), classes visited in co-occurrence order, seed 0, drawn as the official script draws them, so the
published VOC-LT split (1,142 images) comes out bit for bit. Labels as the official code reads them: VOC, every
object of an image, `difficult` ones included, and every image of the image set; COCO, every annotation including
crowd ones, except boxes with area <= 0 or a side < 1 pixel (and any marked `ignore`), every image of the split
(the source rows in the annotation file's order; the 48 unannotated val2017 images are test images without labels).
Written under --out-dir (default <data-root>/longtail2012 or <data-root>/longtail2017):

    train.txt, test.txt   "<image path relative to data-root> <label> ..." (0-based labels; a test image without
                          any label is its path alone)
    img_id.txt            the training image ids, in the official order (the published img_id file, byte for byte,
                          when the split is the published one)
    class_stats.json      training counts (ltmm class_stats) with the class names
    class_split.json      head (>= 100 training images) / medium (20-99) / tail (< 20) class indices
    class_counts.png      training images per class, sorted
"""
import argparse
import dataclasses
import json
import os
import xml.etree.ElementTree as ET
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from tqdm import tqdm

from ltmm.core.class_stats import count_class_stats
from ltmm.core.splits import GROUPS, multilabel_splits
from ltmm.multilabel.datasets.multilabel_lt import VOCLTDataset
from ltmm.multilabel.long_tail_split import pareto_reference, select_long_tail

SPLITS = GROUPS['multilabel'][::-1]  # head, medium, tail

Source = Tuple[List[str], np.ndarray, List[str]]  # image ids, (M, C) labels, image paths relative to data-root

PRESETS = {
    'voc': dict(name='VOC-LT', train=('2012', 'trainval'), test=('2007', 'test'), max=800, out='longtail2012'),
    'coco': dict(name='COCO-MLT', train='train', test='val', max=1200, out='longtail2017'),
}


def load_voc(data_root: str, year: str, image_set: str) -> Source:
    """The object classes of each image of ``VOC<year>/ImageSets/Main/<image_set>.txt``, in its order: every object,
    ``difficult`` ones included, and every image (the official ``XMLDataset.get_ann_info``)."""
    classes = list(VOCLTDataset.METAINFO['classes'])
    base = os.path.join(data_root, f'VOC{year}')
    list_file = os.path.join(base, 'ImageSets', 'Main', f'{image_set}.txt')
    if not os.path.isfile(list_file):
        raise FileNotFoundError(f'VOC image set not found: {list_file}')
    with open(list_file, encoding='utf-8') as f:
        ids = [line.split()[0] for line in f if line.strip()]
    rows = []
    for image_id in tqdm(ids, desc=f'VOC{year} {image_set}', unit='img', leave=False):
        xml_file = os.path.join(base, 'Annotations', f'{image_id}.xml')
        if not os.path.isfile(xml_file):
            raise FileNotFoundError(f'VOC annotation not found: {xml_file} (listed in {list_file})')
        row = np.zeros(len(classes), dtype=bool)
        for obj in ET.parse(xml_file).getroot().iter('object'):
            name = obj.findtext('name', '').strip()
            if name not in classes:
                raise ValueError(f'{xml_file}: unknown VOC class {name!r}')
            row[classes.index(name)] = True
        rows.append(row)
    paths = [f'VOC{year}/JPEGImages/{i}.jpg' for i in ids]
    return ids, np.array(rows, dtype=bool).reshape(-1, len(classes)), paths


def load_coco(data_root: str, split: str) -> Tuple[Source, List[str]]:
    """The object classes of each image of ``annotations/instances_<split>2017.json`` (every image, in the file's
    order), and the class names (ordered by category id). As the official ``CocoDataset._parse_ann_info``: crowd
    annotations count; those marked ``ignore`` and boxes with area <= 0 or width / height < 1 do not."""
    ann_file = os.path.join(data_root, 'annotations', f'instances_{split}2017.json')
    if not os.path.isfile(ann_file):
        raise FileNotFoundError(f'COCO annotation file not found: {ann_file}')
    with open(ann_file, encoding='utf-8') as f:
        data = json.load(f)
    cats = sorted(data['categories'], key=lambda c: c['id'])
    index = {c['id']: i for i, c in enumerate(cats)}
    labels: Dict[int, set] = {}
    for ann in data['annotations']:
        if ann['category_id'] not in index:
            raise ValueError(f'{ann_file}: annotation {ann.get("id")} has unknown category_id {ann["category_id"]}')
        if 'bbox' not in ann or 'area' not in ann:
            raise ValueError(f'{ann_file}: annotation {ann.get("id")} has no "bbox" or no "area" field')
        _, _, w, h = ann['bbox']
        if not ann.get('ignore', False) and ann['area'] > 0 and w >= 1 and h >= 1:
            labels.setdefault(ann['image_id'], set()).add(index[ann['category_id']])
    images = data['images']
    rows = np.zeros((len(images), len(cats)), dtype=bool)
    for r, img in enumerate(images):
        rows[r, sorted(labels.get(img['id'], ()))] = True
    source = ([str(img['id']) for img in images], rows, [f'{split}2017/{img["file_name"]}' for img in images])
    return source, [c['name'] for c in cats]


def read_ids(path: str, known: Sequence[str]) -> List[int]:
    """Row indices of the ids listed in ``path``, in its order (one a line; COCO ids may be zero-padded)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'image-id list not found: {path}')
    with open(path, encoding='utf-8') as f:
        ids = [line.strip() for line in f if line.strip()]
    numeric = all(k.isdigit() for k in known)
    position = {i: r for r, i in enumerate(known)}
    rows, missing = [], []
    for image_id in ids:
        key = str(int(image_id)) if numeric and image_id.isdigit() else image_id
        if key in position:
            rows.append(position[key])
        else:
            missing.append(image_id)
    if missing:
        raise ValueError(f'{path}: {len(missing)} image id(s) are not images of the source set, e.g. '
                         f'{missing[:5]}')
    if len(set(rows)) != len(rows):
        raise ValueError(f'{path}: repeated image ids')
    return rows


def write_list(path: str, paths: Sequence[str], labels: np.ndarray) -> None:
    with open(path, 'w', encoding='utf-8') as f:
        for p, row in zip(paths, labels):
            f.write(' '.join([p, *map(str, np.flatnonzero(row))]) + '\n')


def plot_counts(counts: np.ndarray, splits: np.ndarray, out_file: str, title: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    order = np.argsort(-counts, kind='stable')
    fig, ax = plt.subplots(figsize=(8, 3.5), dpi=120)
    for k, split in enumerate(SPLITS):
        sel = np.flatnonzero(splits[order] == split)
        ax.bar(sel, counts[order][sel], color=f'C{k}', label=f'{split} ({len(sel)})')
    ax.set_yscale('log')
    ax.set_xlabel('classes, sorted by training images')
    ax.set_ylabel('training images')
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_file)
    plt.close(fig)


def make_split(dataset: str, data_root: str, out_dir: Optional[str] = None, img_ids: Optional[str] = None,
               max_count: Optional[int] = None, min_count: int = 1, pareto_b: float = 6.0,
               seed: int = 0) -> Dict[str, object]:
    """Write the split files and return a summary (image counts, class split sizes)."""
    preset = PRESETS[dataset]
    out_dir = out_dir or os.path.join(data_root, preset['out'])
    if dataset == 'voc':
        classes = list(VOCLTDataset.METAINFO['classes'])
        (ids, labels, paths), test = load_voc(data_root, *preset['train']), load_voc(data_root, *preset['test'])
    else:
        (ids, labels, paths), classes = load_coco(data_root, preset['train'])
        test = load_coco(data_root, preset['test'])[0]
    if img_ids:
        rows = read_ids(img_ids, ids)
        unlabelled = [ids[r] for r in rows if not labels[r].any()]
        if unlabelled:
            raise ValueError(f'{img_ids}: {len(unlabelled)} training image(s) without any label, e.g. '
                             f'{unlabelled[:5]}')
    else:
        reference = pareto_reference(len(classes), max_count or preset['max'], min_count, pareto_b)
        rows = select_long_tail(labels, reference, seed)

    os.makedirs(out_dir, exist_ok=True)
    train_file = os.path.join(out_dir, 'train.txt')
    write_list(train_file, [paths[r] for r in rows], labels[rows])
    write_list(os.path.join(out_dir, 'test.txt'), test[2], test[1])
    with open(os.path.join(out_dir, 'img_id.txt'), 'w', encoding='utf-8') as f:
        f.writelines(f'{ids[r]}\n' for r in rows)
    stats = dataclasses.replace(count_class_stats(train_file, len(classes)), classes=classes)
    stats.save(os.path.join(out_dir, 'class_stats.json'))
    splits = multilabel_splits(stats.image_count)
    class_split = {s: np.flatnonzero(splits == s).tolist() for s in SPLITS}
    with open(os.path.join(out_dir, 'class_split.json'), 'w', encoding='utf-8') as f:
        json.dump(class_split, f)
    plot_counts(stats.image_count, splits, os.path.join(out_dir, 'class_counts.png'), preset['name'])
    return dict(name=preset['name'], out_dir=out_dir, train_images=int(stats.num_images), test_images=len(test[0]),
                source_images=len(ids), splits={s: len(v) for s, v in class_split.items()},
                count_range=(int(stats.image_count.min()), int(stats.image_count.max())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('dataset', choices=sorted(PRESETS))
    parser.add_argument('--data-root', required=True, help='VOCdevkit folder (VOC2012/, VOC2007/) or COCO folder '
                        '(annotations/, train2017/, val2017/)')
    parser.add_argument('--out-dir', help='default: <data-root>/longtail2012 (VOC) or <data-root>/longtail2017')
    parser.add_argument('--img-ids', help='published training image ids, one a line: reproduce that split')
    parser.add_argument('--max', type=int, dest='max_count', help='largest reference count (800 VOC, 1200 COCO)')
    parser.add_argument('--min', type=int, dest='min_count', default=1, help='smallest reference count (1)')
    parser.add_argument('--pareto-b', type=float, default=6.0, help='Pareto shape b (6)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    summary = make_split(args.dataset, args.data_root, args.out_dir, args.img_ids, args.max_count, args.min_count,
                         args.pareto_b, args.seed)
    s = summary['splits']
    print(f'{summary["name"]}: {summary["train_images"]} training images (of {summary["source_images"]}), '
          f'{summary["test_images"]} test images; classes head/medium/tail = {s["head"]}/{s["medium"]}/{s["tail"]}; '
          f'training images per class {summary["count_range"][0]}-{summary["count_range"][1]}; '
          f'written to {summary["out_dir"]}')


if __name__ == '__main__':
    main()
