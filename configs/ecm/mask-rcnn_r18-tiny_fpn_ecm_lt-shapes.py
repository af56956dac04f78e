# ECM on the LT-Shapes demo (CPU, minutes): the demo detector with ECMLoss on the LT-Shapes instance counts,
# NormedLinear(tau=20) class logits and NormedConv2d(tau=20) mask logits. The demo keeps its own short schedule (the
# official 10,000-iteration warm-up is longer than the whole demo run).
_base_ = '../demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py'
model = dict(roi_head=dict(
    bbox_head=dict(
        cls_predictor_cfg=dict(type='NormedLinear', tempearture=20),  # (sic) mmdet's argument name
        loss_cls=dict(_delete_=True, type='ECMLoss', num_classes=30, fg_bg_ratio=6.3313,
                      class_stats='data/lt_shapes/annotations/lt_shapes_train.json')),
    mask_head=dict(predictor_cfg=dict(type='NormedConv2d', tempearture=20))))
