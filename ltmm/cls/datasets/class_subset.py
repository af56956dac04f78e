"""A dataset restricted to a subset of its classes, with the labels renumbered: the training and validation data of
LFME's experts (xiangly55/LFME ``data/dataloader_LFME.py``, ``Shot_Dataset``: the images of one shot group, each
label replaced by the rank of its class in the group's class list)."""
import copy
from typing import List, Optional, Sequence, Union

from mmpretrain.registry import DATASETS
from torch.utils.data import Dataset

from ...core.class_stats import ClassStatsLike, load_class_stats
from ...core.long_tail import shot_groups
from ...core.registry import register_into


@register_into('DATASETS', scopes=('mmpretrain',))
class ClassSubsetDataset:
    """The samples of ``dataset`` whose class is in ``classes``, class ``classes[k]`` relabelled ``k``.

    ``metainfo['classes']`` lists the kept classes' names in the new label order. The wrapped dataset's pipeline
    runs on the relabelled data info (so ``gt_label`` is the local label).

    Args:
        dataset: the wrapped dataset (an mmengine ``BaseDataset`` with ``gt_label`` data infos) or its config.
        classes: the global class indices kept, in the new label order; no repeats. Or None, with ``shot``.
        shot: instead of ``classes``, a shot group of ``class_stats``: ``'few'`` (``n <= 20`` training images),
            ``'medium'`` (21-99) or ``'many'`` (``n >= 100``), in class-index order (LFME's ImageNet-LT experts:
            146 / 463 / 391 classes, as ``ImageNet_shots.pkl``).
        class_stats: the training class counts the shot group is read from (:mod:`ltmm.core.class_stats`).
        num_classes: if given, the number of classes the subset must have (the expert's head width): a mismatch is
            an error naming both.

    Raises:
        ValueError: ``classes`` is empty, repeats a class, or keeps a class without a sample; neither or both of
            ``classes`` and ``shot``; an unknown ``shot``; ``num_classes`` differs from the subset's.
    """

    def __init__(self, dataset: Union[dict, Dataset], classes: Optional[Sequence[int]] = None,
                 shot: Optional[str] = None, class_stats: Optional[ClassStatsLike] = None,
                 num_classes: Optional[int] = None) -> None:
        if (classes is None) == (shot is None):
            raise ValueError('ClassSubsetDataset: give either classes or shot (with class_stats)')
        if shot is not None:
            if shot not in ('few', 'medium', 'many') or class_stats is None:
                raise ValueError(f"ClassSubsetDataset: shot must be 'few', 'medium' or 'many' with class_stats, got "
                                 f'shot={shot!r}, class_stats={class_stats!r}')
            classes = shot_groups(load_class_stats(class_stats).image_count)[shot]
        if num_classes is not None and len(classes) != num_classes:
            raise ValueError(f'ClassSubsetDataset: the subset has {len(classes)} classes, num_classes is {num_classes}'
                             + (f' (shot {shot!r} of {class_stats})' if shot else ''))
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        classes = [int(c) for c in classes]
        if not classes or len(set(classes)) != len(classes):
            raise ValueError(f'ClassSubsetDataset: classes must be distinct class indices, got {classes}')
        self.local = {c: k for k, c in enumerate(classes)}
        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()
        self.indices = [i for i in range(len(self.dataset))
                        if int(self.dataset.get_data_info(i)['gt_label']) in self.local]
        present = {int(self.dataset.get_data_info(i)['gt_label']) for i in self.indices}
        empty = [c for c in classes if c not in present]
        if empty:
            raise ValueError(f'ClassSubsetDataset: classes {empty} have no sample in the dataset')
        metainfo = copy.deepcopy(getattr(self.dataset, 'metainfo', {}))
        if metainfo.get('classes'):
            metainfo['classes'] = [metainfo['classes'][c] for c in classes]
        self._metainfo = metainfo

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self._metainfo)

    def full_init(self) -> None:
        """Nothing to do: the wrapped dataset is initialised at build."""

    def get_data_info(self, idx: int) -> dict:
        info = copy.deepcopy(self.dataset.get_data_info(self.indices[idx]))
        info['gt_label'] = self.local[int(info['gt_label'])]
        return info

    def get_cat_ids(self, idx: int) -> List[int]:
        return [int(self.get_data_info(idx)['gt_label'])]

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, idx: int) -> dict:
        return self.dataset.pipeline(self.get_data_info(idx))
