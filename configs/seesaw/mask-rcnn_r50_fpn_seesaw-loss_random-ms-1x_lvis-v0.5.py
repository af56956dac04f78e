# Seesaw loss (Wang et al., CVPR 2021), mmdet's own SeesawLoss and NormedLinear(tau=20), as in mmdet
# configs/seesaw_loss. Mask R-CNN R50-FPN, LVIS v0.5, uniform image sampling, multi-scale 640-800, 1x (12 epochs).
# The other depths / schedules / RFS variants in this folder inherit this file.
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_lvis.py',
    '../_base_/datasets/lvis_v0.5_instance.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]
model = dict(roi_head=dict(
    bbox_head=dict(
        num_classes=1230,
        cls_predictor_cfg=dict(type='NormedLinear', tempearture=20),  # (sic) mmdet's argument name
        loss_cls=dict(_delete_=True, type='SeesawLoss', p=0.8, q=2.0, num_classes=1230, loss_weight=1.0)),
    mask_head=dict(num_classes=1230)))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1),
]
train_cfg = dict(val_interval=12)  # LVIS evaluation once, at the end
