# FRACAL (Alexandridis et al., CVPR 2025), post-hoc: the softmax cross-entropy Mask R-CNN R50-FPN of
# ../lvis/mask-rcnn_r50_fpn_ce_sample1e-3-ms-2x_lvis-v0.5.py (LVIS v0.5, repeat factor sampling t = 1e-3, 2x), tested
# with FRACAL's calibrated class scores and its test settings (NMS IoU 0.3, mask threshold 0.4); see the LVIS v1
# config. The fractal dimensions of the v0.5 training boxes are written once with
#   python tools/analysis/fractal_dimension.py data/lvis_v0.5/annotations/lvis_v0.5_train.json \
#       -o data/lvis_v0.5/annotations/lvis_v0.5_train_fractal_dim.json
# The R101 config inherits this file.
_base_ = '../lvis/mask-rcnn_r50_fpn_ce_sample1e-3-ms-2x_lvis-v0.5.py'
model = dict(
    roi_head=dict(
        bbox_head=dict(
            type='CalibratedBBoxHead',  # base_type='Shared2FCBBoxHead' (the base's head), calibrated test scores
            calibration=dict(type='FRACALCalibration', mode='fracal', class_stats={{_base_.class_stats}},
                             fractal_dims='data/lvis_v0.5/annotations/lvis_v0.5_train_fractal_dim.json',
                             fractal_l=2.0))),
    test_cfg=dict(rcnn=dict(nms=dict(iou_threshold=0.3), mask_thr_binary=0.4)))  # official FRACAL test settings
