# The baseline of ./retinanet_r18-tiny_fpn_efl_lt-shapes.py: the same one-stage LT-Shapes RetinaNet with mmdet's
# sigmoid focal loss (gamma 2, alpha 0.25: EFL with its gradient ratio at 1 for every class is this loss)
# and the same classifier bias (prior 0.001), so the LT-Shapes detection benchmark compares the losses alone.
_base_ = './retinanet_r18-tiny_fpn_efl_lt-shapes.py'
model = dict(bbox_head=dict(loss_cls=dict(_delete_=True, type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
                                          loss_weight=1.0)))
