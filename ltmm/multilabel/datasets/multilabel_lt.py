"""Multi-label long-tailed datasets: VOC-LT, COCO-MLT (Wu et al., "Distribution-Balanced Loss for Multi-Label
Classification in Long-Tailed Datasets", ECCV 2020) and the LT-Shapes multi-label view.

All three read the same text list, one image a line, ``<image path> <label> [<label> ...]`` (0-based labels, the
path relative to ``data_prefix``), which ``tools/data/make_multilabel_lt.py`` writes for VOC-LT / COCO-MLT (the split
protocol is in :mod:`ltmm.multilabel.long_tail_split`) and ``make_lt_shapes`` writes under ``multilabel/``;
``ltmm.core.class_stats`` counts the same lists with the same parser.
"""
import os
from typing import List, Tuple

from mmpretrain.datasets import MultiLabelDataset
from mmpretrain.datasets.voc import VOC

from ...core.class_stats import read_label_list
from ...core.registry import register_into
from ...core.split_manifest import check_split_file
from ...demo.lt_shapes import CLASSES as LT_SHAPES_CLASSES

# COCO's 80 object classes in category-id order (mmdet's CocoDataset.METAINFO; mmpretrain has no such list)
COCO_CLASSES = (
    'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
    'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant',
    'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard',
    'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
    'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange', 'broccoli',
    'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed', 'dining table', 'toilet',
    'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven', 'toaster', 'sink',
    'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush')


def read_multilabel_list(path: str, allow_unlabelled: bool = False) -> List[Tuple[str, List[int]]]:
    """``<image path> <label> [<label> ...]`` lines (``ltmm.core.class_stats.read_label_list``), each image's labels
    sorted and de-duplicated; ``allow_unlabelled`` accepts an image without any label (a path alone)."""
    return [(image, sorted(set(labels))) for image, labels in read_label_list(path, allow_unlabelled)]


@register_into('DATASETS', scopes=('mmpretrain',))
class MultiLabelListDataset(MultiLabelDataset):
    """An mmpretrain ``MultiLabelDataset`` read from a ``<image path> <label> ...`` text list.

    Args are those of mmpretrain's ``MultiLabelDataset``: ``ann_file`` (the list, relative to ``data_root``),
    ``data_prefix`` (prepended to the image paths), ``classes`` / ``metainfo``, ``pipeline``, ``test_mode``...
    Labels must lie in ``[0, len(classes))``. A test list (``test_mode=True``) may hold images without any label
    (every class a negative; the DB-loss evaluation keeps all 5,000 COCO2017 val images, 48 of them unannotated); a
    training list may not: the split generator draws its images class by class, and the re-balancing weight of the
    DB loss divides by the sum of ``1 / n_i`` over an image's labels. A subclass with a ``manifest_key`` checks a
    list at one of its benchmark's split paths against the split manifest (``ltmm.core.split_manifest``).
    """
    manifest_key = ''

    def load_data_list(self) -> List[dict]:
        classes = self.metainfo.get('classes')
        data_list = []
        for path, labels in read_multilabel_list(self.ann_file, allow_unlabelled=self.test_mode):
            if classes is not None and labels and (labels[0] < 0 or labels[-1] >= len(classes)):
                raise ValueError(f'{self.ann_file}: image {path!r} has labels {labels}, outside the '
                                 f'{len(classes)} classes of {type(self).__name__}')
            data_list.append(dict(img_path=os.path.join(self.img_prefix, path), gt_label=labels))
        if self.manifest_key:  # a list at a published split's path (longtail2012/train.txt, ...): the split manifest
            check_split_file(self.ann_file, self.manifest_key, hint='a custom list loads from another path')
        return data_list


@register_into('DATASETS', scopes=('mmpretrain',))
class VOCLTDataset(MultiLabelListDataset):
    """VOC-LT: 1,142 long-tailed VOC2012 trainval images (20 classes, 6 head / 6 medium / 8 tail), tested on VOC2007
    test. Lists from ``tools/data/make_multilabel_lt.py voc``."""
    manifest_key = 'voc_lt'
    METAINFO = {'classes': tuple(VOC.METAINFO['classes'])}


@register_into('DATASETS', scopes=('mmpretrain',))
class COCOMLTDataset(MultiLabelListDataset):
    """COCO-MLT: 1,909 long-tailed COCO2017 train images (80 classes, 22 head / 33 medium / 25 tail), tested on
    COCO2017 val. Not the detection "COCO-LT". Lists from ``tools/data/make_multilabel_lt.py coco``."""
    manifest_key = 'coco_mlt'
    METAINFO = {'classes': COCO_CLASSES}


@register_into('DATASETS', scopes=('mmpretrain',))
class LTShapesMultiLabelDataset(MultiLabelListDataset):
    """The multi-label view of LT-Shapes (``multilabel/{train,val}.txt`` of ``make_lt_shapes``), 30 classes."""
    METAINFO = {'classes': LT_SHAPES_CLASSES}
