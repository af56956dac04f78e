"""iNaturalist 2018 (Van Horn et al., CVPR 2018; visipedia/inat_comp) from its COCO-style annotation files.

``train2018.json`` / ``val2018.json`` hold ``images`` (``id``, ``file_name``, ...), ``annotations`` (``image_id``,
``category_id``, one per image) and ``categories`` (``id``, ``name``, taxonomy). 8,142 species, 437,513 train and
24,426 val images (3 per class); long-tail papers test on val. Labels are the categories sorted by id (the ids are
0..8141, so the label equals the id, as in classifier-balancing's ``gen_lists.py``), the order in which
``ltmm.core.class_stats`` counts the same file.
"""
from typing import Dict, List

from mmengine.fileio import get_file_backend, load
from mmpretrain.datasets import BaseDataset

from ...core.registry import register_into
from ...core.split_manifest import check_split_file
from .imagenet_lt import verify_split

VERIFY_HINT = 'pass verify=False to load another json'


@register_into('DATASETS', scopes=('mmpretrain',))
class INat2018Dataset(BaseDataset):
    """iNaturalist 2018 classification from ``train2018.json`` / ``val2018.json``, verified at load.

    Args:
        ann_file: the annotation json, relative to ``data_root`` unless absolute.
        split: 'train' or 'val': which published size to check (437,513 / 24,426 images, 8,142 classes, val
            3 per class).
        verify: check those sizes, then the file against the split manifest and the user's record
            (``ltmm.core.split_manifest.check_split_file``); False for another json in the same format (e.g. a
            subset).
        data_root: root the ``file_name`` fields are relative to (they start with ``train_val2018/``).
        data_prefix: prefix joined between ``data_root`` and each ``file_name`` ('' for the official files).
        **kwargs: the other arguments of mmpretrain's ``BaseDataset`` (pipeline, test_mode, ...).
    """
    benchmark = 'iNaturalist 2018'
    num_classes = 8142
    split_sizes = {'train': 437513, 'val': 24426}
    per_class = {'val': 3}

    def __init__(self, ann_file: str, split: str, verify: bool = True, data_root: str = '', data_prefix: str = '',
                 **kwargs) -> None:
        if split not in self.split_sizes:
            raise ValueError(f'INat2018Dataset: split must be one of {sorted(self.split_sizes)}, got {split!r}')
        self.split = split
        self.verify = verify
        super().__init__(ann_file=ann_file, data_root=data_root, data_prefix=dict(img_path=data_prefix), **kwargs)

    def load_data_list(self) -> List[dict]:
        data = load(self.ann_file, file_format='json')
        for key in ('images', 'annotations', 'categories'):
            if not isinstance(data, dict) or key not in data:
                raise ValueError(f'{self.ann_file}: an iNaturalist json needs "images", "annotations" and '
                                 f'"categories"; "{key}" is missing')
        categories = sorted(data['categories'], key=lambda c: c['id'])
        label_of = {c['id']: i for i, c in enumerate(categories)}
        image_label: Dict[int, int] = {}
        for ann in data['annotations']:
            image_id = ann['image_id']
            if ann['category_id'] not in label_of:
                raise ValueError(f'{self.ann_file}: annotation {ann.get("id")} has unknown category_id '
                                 f'{ann["category_id"]!r}')
            if image_id in image_label:
                raise ValueError(f'{self.ann_file}: image {image_id} has several annotations; iNaturalist '
                                 'classification has one label per image')
            image_label[image_id] = label_of[ann['category_id']]
        prefix = self.data_prefix['img_path']
        backend = get_file_backend(prefix, enable_singleton=True)
        data_list = []
        for img in data['images']:
            if img['id'] not in image_label:
                raise ValueError(f'{self.ann_file}: image {img["id"]} ({img.get("file_name")}) has no annotation '
                                 '(the unlabelled test2018.json cannot be used for training or evaluation)')
            data_list.append({'img_path': backend.join_path(prefix, img['file_name']),
                              'gt_label': image_label[img['id']]})
        self._metainfo['classes'] = tuple(str(c.get('name', c['id'])) for c in categories)
        if self.verify:
            if len(categories) != self.num_classes:
                raise ValueError(f'{self.ann_file}: {self.benchmark} has {self.num_classes:,} categories, found '
                                 f'{len(categories):,} ({VERIFY_HINT})')
            labels = [d['gt_label'] for d in data_list]
            verify_split(self.ann_file, self.benchmark, self.split, labels, self.num_classes,
                         self.split_sizes[self.split], self.per_class.get(self.split))
            check_split_file(self.ann_file, 'inat18', self.split,
                             parsed=([img['file_name'] for img in data['images']], labels), hint=VERIFY_HINT)
        return data_list
