# RSG (Wang et al., CVPR 2021), LDAM-DRS-RSG on ImageNet-LT with ResNet-50: the official ImageNet-LT recipe
# (Jianf-Wang/RSG imagenet_lt_train.py, run there on ResNeXt-50): RSG after layer3 (1024 x 14 x 14; 15 centres, head =
# the 200 most frequent classes), generation from epoch 80 (epoch_thresh 79); a cosine classifier with LDAM (max_m 0.3,
# s 30, unweighted); SGD lr 0.1 for batch 256, wd 2e-4, warm-up 5 epochs, x0.1 / x0.01 / x0.001 from epochs 59 / 79 /
# 94 (0-indexed), 100 epochs, drop_last; deferred re-sampling (DRS: class-balanced by effective number, beta 0.9999)
# from epoch 80. tools/dist_train.sh THIS_CONFIG 8
_base_ = ['../_base_/models/resnet50_lt.py', '../_base_/datasets/imagenet_lt.py', '../_base_/default_runtime_cls.py']
model = dict(
    type='RSGClassifier',
    # BatchNorm weights start at 1 in every block (the official torchvision-style init), no zero-initialised residuals
    backbone=dict(zero_init_residual=False),
    head=dict(type='CosineClsHead', scale=1.0, loss=dict(
        _delete_=True, type='LDAMLoss', class_stats={{_base_.class_stats}}, max_m=0.3, s=30.0)),
    rsg_after='layer3',
    rsg=dict(type='RSG', in_channels=1024, class_stats={{_base_.class_stats}}, epoch_thresh=79, init_mode='resnet'))
custom_hooks = [dict(type='LossEpochHook')]  # tells the RSG the epoch
# T is unused before the threshold and the contrastive module after it
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
train_dataloader = dict(batch_size=32, drop_last=True, sampler=dict(_delete_=True, type='DeferredResampler',
                                                                   start_epoch=80, beta=0.9999))
max_epochs = 100
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=2e-4))
param_scheduler = [
    # LinearLR over [begin, end) reaches end_factor at epoch end - 1: factors 0.2, 0.4, 0.6, 0.8, 1.0
    dict(type='LinearLR', start_factor=0.2, end_factor=1.0, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[59, 79, 94], gamma=0.1, by_epoch=True, begin=0, end=max_epochs),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
