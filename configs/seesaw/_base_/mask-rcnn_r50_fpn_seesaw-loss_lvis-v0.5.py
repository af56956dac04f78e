# Seesaw loss on LVIS v0.5 without a schedule: ../../_base_/mask-rcnn_r50_fpn_lvis-v0.5.py with mmdet's SeesawLoss and
# NormedLinear(tau=20). The LVIS v0.5 configs of this folder and the LVIS v0.5 ROG-Seesaw base (configs/rog) inherit it.
_base_ = '../../_base_/mask-rcnn_r50_fpn_lvis-v0.5.py'
model = dict(roi_head=dict(bbox_head=dict(
    cls_predictor_cfg=dict(type='NormedLinear', tempearture=20),  # (sic) mmdet's argument name
    loss_cls=dict(_delete_=True, type='SeesawLoss', p=0.8, q=2.0, num_classes={{_base_.num_classes}},
                  loss_weight=1.0))))
