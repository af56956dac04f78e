# GOL on the LT-Shapes demo (CPU, minutes): the demo detector with GumbelLoss, the official classifier init,
# NormedConv2d(tau=20) mask logits and test NMS IoU 0.3. LT-Shapes has 698 annotated training images; lambda_=0.15
# makes the rare and common classes (<= 100 images) the tail, as lambda_=0.00177 does on LVIS v0.5 (EQL demo too).
_base_ = '../demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py'
model = dict(
    roi_head=dict(
        bbox_head=dict(
            loss_cls=dict(_delete_=True, type='GumbelLoss', num_classes=30, lambda_=0.15,
                          class_stats='data/lt_shapes/annotations/lt_shapes_train.json'),
            init_cfg=dict(type='Constant', val=0.001, bias=-2, override=dict(name='fc_cls'))),  # official
        mask_head=dict(predictor_cfg=dict(type='NormedConv2d', tempearture=20))),  # (sic) mmdet's argument name
    test_cfg=dict(rcnn=dict(nms=dict(type='nms', iou_threshold=0.3))))
