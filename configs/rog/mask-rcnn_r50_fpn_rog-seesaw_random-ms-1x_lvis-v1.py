# ROG on top of Seesaw (the official rog_seesaw configs): NormedLinear/NormedConv2d(tau=20), SeesawLoss, loss_rank.
# Mask R-CNN R50-FPN, LVIS v1, uniform image sampling, multi-scale 640-800, 1x (12 epochs). The other depths /
# schedules / RFS variants in this folder inherit this file.
_base_ = [
    '../_base_/models/mask-rcnn_r50_fpn_lvis.py',
    '../_base_/datasets/lvis_v1_instance.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]
model = dict(roi_head=dict(
    bbox_head=dict(
        type='ROGShared2FCBBoxHead',
        num_classes=1203,
        cls_predictor_cfg=dict(type='NormedLinear', tempearture=20),  # (sic) mmdet's argument name
        loss_cls=dict(_delete_=True, type='SeesawLoss', p=0.8, q=2.0, num_classes=1203, loss_weight=1.0),
        loss_rank=dict(type='ROGRankingLoss', gamma=1.0, lam=0.1, delta=0.5)),
    mask_head=dict(num_classes=1203, predictor_cfg=dict(type='NormedConv2d', tempearture=20))))
train_dataloader = dict(batch_size=4)
auto_scale_lr = dict(base_batch_size=32)  # 8 GPUs x 4 images at lr 0.02 (official)
optim_wrapper = dict(clip_grad=dict(max_norm=5, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.0001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1),
]
train_cfg = dict(val_interval=12)  # LVIS evaluation once, at the end
