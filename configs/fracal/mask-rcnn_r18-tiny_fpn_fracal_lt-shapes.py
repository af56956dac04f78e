# FRACAL on the LT-Shapes demo (CPU, minutes): the demo detector of ../demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py
# (softmax cross-entropy; training is unchanged) evaluated with FRACAL's calibrated scores and test settings (NMS IoU
# 0.3, mask threshold 0.4). Test the demo's own checkpoint with this config to compare the two on the same weights.
# Write the fractal dimensions of the training boxes first:
#   python tools/analysis/fractal_dimension.py data/lt_shapes/annotations/lt_shapes_train.json \
#       -o data/lt_shapes/annotations/lt_shapes_train_fractal_dim.json
_base_ = '../demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py'
model = dict(
    roi_head=dict(
        bbox_head=dict(
            type='CalibratedBBoxHead',
            calibration=dict(type='FRACALCalibration', mode='fracal',
                             class_stats='data/lt_shapes/annotations/lt_shapes_train.json',
                             fractal_dims='data/lt_shapes/annotations/lt_shapes_train_fractal_dim.json',
                             fractal_l=2.0))),
    test_cfg=dict(rcnn=dict(nms=dict(iou_threshold=0.3), mask_thr_binary=0.4)))
