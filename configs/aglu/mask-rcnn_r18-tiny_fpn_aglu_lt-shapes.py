# APA / AGLU on the LT-Shapes demo (CPU, minutes): the demo detector with its narrow ResNet-18 turned into an
# SE-ResNet-18 with AGLU activations and APA SE gates (SEResNetAGLU, trained from scratch as the demo's ResNet),
# GOL's classifier (GumbelLoss, lambda_=0.15 as ../gol's demo, clamp [-10, 10], fc_cls Constant(0.001, -2)), the
# learnable-temperature NormedConv2d mask predictor (with the demo's deconvolution: mmcv's CARAFE has no CPU kernel),
# test NMS IoU 0.3 and mask threshold 0.4.
_base_ = '../demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py'
model = dict(
    backbone=dict(type='SEResNetAGLU'),
    roi_head=dict(
        bbox_head=dict(
            loss_cls=dict(_delete_=True, type='GumbelLoss', num_classes=30, lambda_=0.15, logit_clamp=(-10.0, 10.0),
                          class_stats='data/lt_shapes/annotations/lt_shapes_train.json'),
            init_cfg=dict(type='Constant', val=0.001, bias=-2, override=dict(name='fc_cls'))),  # official
        mask_head=dict(predictor_cfg=dict(type='LearnableTempNormedConv2d'))),
    test_cfg=dict(rcnn=dict(nms=dict(type='nms', iou_threshold=0.3), mask_thr_binary=0.4)))
