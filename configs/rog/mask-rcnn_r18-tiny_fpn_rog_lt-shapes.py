# ROG on the LT-Shapes demo (CPU, minutes): sigmoid CE with an objectness logit plus the global ranking loss_rank.
_base_ = '../demo/mask-rcnn_r18-tiny_fpn_lt-shapes.py'
model = dict(roi_head=dict(
    bbox_head=dict(
        type='ROGShared2FCBBoxHead',
        loss_cls=dict(_delete_=True, type='SigmoidCELoss', num_classes=30),
        loss_rank=dict(type='ROGRankingLoss', gamma=1.0, lam=0.1, delta=0.5))))
