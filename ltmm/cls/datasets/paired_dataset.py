"""Pairs of training samples, for methods that combine each sample with a partner from a second stream (GLMC mixes
an instance-sampled batch with a re-balanced one). The pairs come from a sampler that yields ``(index, partner)``
tuples, :class:`~ltmm.cls.samplers.PartnerSampler`; this wrapper loads both samples through the wrapped dataset's
pipeline and packs them as one sample. See configs/glmc/README.md, "Two-view pipeline".
"""
import copy
from typing import Any, List, Sequence, Union

from mmpretrain.registry import DATASETS
from torch.utils.data import Dataset

from ...core.registry import register_into


def _views(inputs: Any) -> List[Any]:
    """A packed sample's ``inputs`` as a list of views (a single-view pipeline gives one tensor)."""
    return list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]


@register_into('DATASETS', scopes=('mmpretrain',))
class PairedDataset:
    """Wrap a dataset so that ``dataset[(i, j)]`` is sample ``i`` with sample ``j`` as its partner.

    Both samples go through the wrapped dataset's pipeline (its ``PackInputs`` output: ``inputs`` and
    ``data_samples``). The pair is one sample: ``inputs`` is the list of sample ``i``'s views followed by sample
    ``j``'s (a single-view pipeline counts as one view each; with a two-view ``MultiView`` pipeline, four:
    ``[x_1, x_2, x~_1, x~_2]``), and ``data_samples`` is sample ``i``'s, with the partner's class in the data field
    ``partner_label`` (a tensor like ``gt_label``). Collated with ``default_collate``, a batch's ``inputs`` is a list
    of one ``(B, C, H, W)`` tensor per view (what mmpretrain's ``SelfSupDataPreprocessor`` normalises).

    Length, ``metainfo``, ``get_data_info`` and ``get_cat_ids`` are those of the wrapped dataset, so samplers
    (``PartnerSampler``) and evaluators see it unchanged.

    Args:
        dataset: the wrapped dataset or its config.
        lazy_init: defer the wrapped dataset's ``full_init`` (as mmengine's dataset wrappers). Default False.
    """

    def __init__(self, dataset: Union[dict, Dataset], lazy_init: bool = False) -> None:
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self._metainfo = getattr(self.dataset, 'metainfo', {})
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self._metainfo)

    def full_init(self) -> None:
        """Fully initialise the wrapped dataset (a no-op for one without ``full_init``)."""
        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(idx)

    def get_cat_ids(self, idx: int) -> List[int]:
        return self.dataset.get_cat_ids(idx)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, pair: Sequence[int]) -> dict:
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise TypeError(f'PairedDataset takes (index, partner) pairs, from a sampler such as PartnerSampler; '
                            f'got {pair!r} (is the train_dataloader sampler a DefaultSampler?)')
        index, partner = pair
        return self.pack(self.dataset[int(index)], self.dataset[int(partner)])

    @staticmethod
    def pack(sample: dict, partner: dict) -> dict:
        """One packed sample from two (the ``PackInputs`` outputs of sample and partner): the views of both, and
        the sample's ``data_samples`` with the partner's ``gt_label`` as ``partner_label``."""
        partner_sample = partner['data_samples']
        if 'gt_label' not in partner_sample:
            raise ValueError('PairedDataset: the partner sample has no gt_label (a test pipeline without labels?)')
        data_sample = sample['data_samples']
        data_sample.set_field(partner_sample.gt_label, 'partner_label')
        return dict(inputs=_views(sample['inputs']) + _views(partner['inputs']), data_samples=data_sample)
