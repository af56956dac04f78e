# mask-rcnn_r50_fpn_rog-seesaw_random-ms-1x_lvis-v0.5 with repeat factor sampling (t = 1e-3), 2x schedule (24
# epochs).
_base_ = './mask-rcnn_r50_fpn_rog-seesaw_random-ms-1x_lvis-v0.5.py'
train_dataloader = dict(dataset=dict(
    _delete_=True, type='ClassBalancedDataset', oversample_thr=1e-3, dataset={{_base_.lvis_train_dataset}}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.0001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=24, by_epoch=True, milestones=[16, 22], gamma=0.1),
]
train_cfg = dict(max_epochs=24, val_interval=24)
