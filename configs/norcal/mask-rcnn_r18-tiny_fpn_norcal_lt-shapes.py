# NorCal on the LT-Shapes demo (CPU, minutes): the demo detector of ../demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py
# (softmax cross-entropy; training is unchanged) evaluated with NorCal's calibrated scores (gamma 0.4343 = 1 / ln 10,
# ltmm's starting value, as the LVIS configs). Test the demo's own checkpoint with this config to compare the two on
# the same weights.
_base_ = '../demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py'
model = dict(roi_head=dict(bbox_head=dict(
    type='CalibratedBBoxHead',
    calibration=dict(type='FRACALCalibration', mode='norcal',
                     class_stats='data/lt_shapes/annotations/lt_shapes_train.json', gamma=0.4343))))
