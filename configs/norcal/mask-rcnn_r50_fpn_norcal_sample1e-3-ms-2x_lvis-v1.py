# NorCal (Pan et al., NeurIPS 2021), post-hoc: the softmax cross-entropy Mask R-CNN R50-FPN of
# ../lvis/mask-rcnn_r50_fpn_ce_sample1e-3-ms-2x_lvis-v1.py (LVIS v1, repeat factor sampling t = 1e-3, 2x), tested
# with each class's score divided by its training image count to the power gamma (background kept) and renormalised
# per RoI; the test settings stay the base's (score 1e-4, NMS IoU 0.5, 300 per image, mask threshold 0.5, as the
# official detectron2 ones). The calibration adds no weights: test that config's checkpoint with this one. gamma is
# chosen per model (the official code has no default but 0, no calibration); 0.4343 = 1 / ln 10 is ltmm's starting
# value (see README.md), tune it with --cfg-options model.roi_head.bbox_head.calibration.gamma=G. The R101 config
# inherits this file.
_base_ = '../lvis/mask-rcnn_r50_fpn_ce_sample1e-3-ms-2x_lvis-v1.py'
model = dict(roi_head=dict(bbox_head=dict(
    type='CalibratedBBoxHead',  # base_type='Shared2FCBBoxHead' (the base's head), calibrated test scores
    calibration=dict(type='FRACALCalibration', mode='norcal', class_stats={{_base_.class_stats}}, gamma=0.4343))))
