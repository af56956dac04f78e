"""``CalibratedBBoxHead``: any mmdet bbox head whose test-time class scores go through a post-hoc calibration module
(``FRACALCalibration``: FRACAL or NorCal).

A post-hoc calibration changes only how a trained head turns its class logits into the scores NMS ranks. mmdet 3.3
does that in ``BBoxHead._predict_by_feat_single`` (softmax, or the loss's ``get_activation``), which only the test
path calls (``StandardRoIHead.predict_bbox``; the last stage of ``CascadeRoIHead`` on the stage-averaged logits).
``CalibratedBBoxHead`` builds the head class a config names (``base_type``, mmdet's ``Shared2FCBBoxHead`` by
default) as a subclass that overrides this method and nothing else: the same layers, state-dict keys, losses and
training, so a checkpoint of the un-calibrated detector tests calibrated without retraining, and back. Any config,
ltmm's or mmdet's, switches it on by overriding its bbox head::

    model = dict(roi_head=dict(bbox_head=dict(
        type='CalibratedBBoxHead',  # base_type='Shared2FCBBoxHead': the head type of the base config
        calibration=dict(type='FRACALCalibration', class_stats=..., fractal_dims=...))))

(the official FRACAL head, ``ConvFCFracalBBoxHead``, is a copy of the ConvFC head with this method replaced:
kostas1515/FRACAL mmdet/models/roi_heads/bbox_heads/fracal_bbox_head.py).
"""
import functools
from typing import Optional

from mmdet.models.layers import multiclass_nms
from mmdet.models.roi_heads.bbox_heads import BBoxHead
from mmdet.registry import MODELS
from mmdet.structures.bbox import get_box_tensor, scale_boxes
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData
from torch import Tensor

from ...core.registry import register_into

__all__ = ['CalibratedHeadMixin', 'calibrated_head_class', 'calibrated_bbox_head']


class CalibratedHeadMixin:
    """Mixin of a ``BBoxHead`` subclass: ``_predict_by_feat_single`` scores the RoIs with ``self.calibration``.

    Args:
        calibration: config of the calibration module (e.g. ``dict(type='FRACALCalibration', ...)``); its
            ``num_classes`` is filled in from the head. None keeps the head's own scores.
        *args, **kwargs: those of the bbox head.
    """

    def __init__(self, *args, calibration: Optional[dict] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.calibration = None
        if calibration is not None:
            calibration = dict(calibration)
            if calibration.setdefault('num_classes', self.num_classes) != self.num_classes:
                raise ValueError(f'{type(self).__name__}: calibration.num_classes={calibration["num_classes"]} but the '
                                 f'head has num_classes={self.num_classes}')
            self.calibration = MODELS.build(calibration)

    def _predict_by_feat_single(self, roi: Tensor, cls_score: Tensor, bbox_pred: Tensor, img_meta: dict,
                                rescale: bool = False, rcnn_test_cfg: Optional[ConfigDict] = None) -> InstanceData:
        """mmdet's ``BBoxHead._predict_by_feat_single`` with the class scores from the calibration module."""
        if self.calibration is None or cls_score is None or roi.shape[0] == 0:
            return super()._predict_by_feat_single(roi, cls_score, bbox_pred, img_meta, rescale, rcnn_test_cfg)
        scores = self.calibration(cls_score, self.loss_cls if self.custom_cls_channels else None)
        return self._results_from_scores(roi, scores, bbox_pred, img_meta, rescale, rcnn_test_cfg)

    def _results_from_scores(self, roi: Tensor, scores: Tensor, bbox_pred: Optional[Tensor], img_meta: dict,
                             rescale: bool, rcnn_test_cfg: Optional[ConfigDict]) -> InstanceData:
        """The rest of mmdet 3.3's ``BBoxHead._predict_by_feat_single`` (l.528-571): decode the boxes, rescale them,
        and run ``multiclass_nms`` on the (N, C+1) scores (or return them unreduced for test-time augmentation)."""
        results = InstanceData()
        img_shape = img_meta['img_shape']
        num_rois = roi.size(0)
        if bbox_pred is not None:
            num_classes = 1 if self.reg_class_agnostic else self.num_classes
            roi = roi.repeat_interleave(num_classes, dim=0)
            bbox_pred = bbox_pred.view(-1, self.bbox_coder.encode_size)
            bboxes = self.bbox_coder.decode(roi[..., 1:], bbox_pred, max_shape=img_shape)
        else:
            bboxes = roi[:, 1:].clone()
            if img_shape is not None and bboxes.size(-1) == 4:
                bboxes[:, [0, 2]].clamp_(min=0, max=img_shape[1])
                bboxes[:, [1, 3]].clamp_(min=0, max=img_shape[0])
        if rescale and bboxes.size(0) > 0:
            assert img_meta.get('scale_factor') is not None
            bboxes = scale_boxes(bboxes, [1 / s for s in img_meta['scale_factor']])
        bboxes = get_box_tensor(bboxes)
        box_dim = bboxes.size(-1)
        bboxes = bboxes.view(num_rois, -1)
        if rcnn_test_cfg is None:  # test-time augmentation: the raw results, without NMS
            results.bboxes = bboxes
            results.scores = scores
        else:
            det_bboxes, det_labels = multiclass_nms(bboxes, scores, rcnn_test_cfg.score_thr, rcnn_test_cfg.nms,
                                                    rcnn_test_cfg.max_per_img, box_dim=box_dim)
            results.bboxes = det_bboxes[:, :-1]
            results.scores = det_bboxes[:, -1]
            results.labels = det_labels
        return results


@functools.lru_cache(maxsize=None)
def calibrated_head_class(base: type) -> type:
    """``Calibrated<Base>``: ``CalibratedHeadMixin`` over a bbox head class (one class per base, cached).

    Raises:
        TypeError: ``base`` is not an mmdet ``BBoxHead`` class.
        ValueError: ``base`` scores its RoIs with its own ``_predict_by_feat_single`` (e.g. ``SABLHead``), which the
            calibration would silently replace.
    """
    if not (isinstance(base, type) and issubclass(base, BBoxHead)):
        raise TypeError(f'CalibratedBBoxHead: base_type must name an mmdet BBoxHead class, got {base!r}')
    if base._predict_by_feat_single is not BBoxHead._predict_by_feat_single:
        raise ValueError(f'CalibratedBBoxHead: {base.__name__} computes its test scores in its own '
                         f'_predict_by_feat_single; only heads that use BBoxHead\'s can be calibrated')
    return type(f'Calibrated{base.__name__}', (CalibratedHeadMixin, base),
                {'__module__': __name__, '__doc__': f'{base.__name__} with calibrated test-time class scores.'})


@register_into('MODELS', scopes=('mmdet',), name='CalibratedBBoxHead')
def calibrated_bbox_head(base_type: str = 'Shared2FCBBoxHead', calibration: Optional[dict] = None,
                         **kwargs) -> BBoxHead:
    """Build ``base_type`` (an mmdet ``MODELS`` bbox head name) with calibrated test-time scores; registered as
    ``CalibratedBBoxHead``.

    Args:
        base_type: the bbox head the config would build otherwise (mmdet's LVIS Mask R-CNN: ``Shared2FCBBoxHead``;
            ltmm's ROG: ``ROGShared2FCBBoxHead``).
        calibration: config of the calibration module, see :class:`CalibratedHeadMixin`.
        **kwargs: the arguments of ``base_type``.
    """
    base = MODELS.get(base_type)
    if base is None:
        raise KeyError(f'CalibratedBBoxHead: base_type {base_type!r} is not registered in mmdet MODELS')
    return calibrated_head_class(base)(calibration=calibration, **kwargs)
