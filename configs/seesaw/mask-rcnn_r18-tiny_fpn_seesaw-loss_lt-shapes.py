# Seesaw loss on the LT-Shapes demo (CPU, minutes): mmdet's SeesawLoss with a NormedLinear(tau=20) classifier.
_base_ = '../demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py'
model = dict(roi_head=dict(
    bbox_head=dict(
        cls_predictor_cfg=dict(type='NormedLinear', tempearture=20),  # (sic) mmdet's argument name
        loss_cls=dict(_delete_=True, type='SeesawLoss', p=0.8, q=2.0, num_classes=30, loss_weight=1.0))))
