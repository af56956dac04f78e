# mask-rcnn_r50_fpn_fed-loss_random-ms-1x_lvis-v0.5 with 2x schedule (24 epochs).
_base_ = './mask-rcnn_r50_fpn_fed-loss_random-ms-1x_lvis-v0.5.py'
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=24, by_epoch=True, milestones=[16, 22], gamma=0.1),
]
train_cfg = dict(max_epochs=24, val_interval=24)
