# SBCL stage 1 (Hou et al., ICCV 2023) on CIFAR-100-LT IF100, the official SimCLR/main.py recipe: ResNet-32 (64-d),
# projection Linear(64, 64) - ReLU - Linear(64, 128) (no BN), both SimCLR views of a batch through the one encoder,
# plain SupCon (T 0.1, factor 1) for epochs 0-9, then SBCLLoss (subclass term T 0.1 x 0.1/0.07, class term gamma
# 0.25 at the density temperatures) re-clustered every 10 epochs from epoch 10 with cluster size 10 (k_c = n_c // 10,
# 1,051 subclasses). One GPU x 1024 (the official DataParallel batch), SGD lr 0.5, momentum 0.9, wd 1e-4, 1000 epochs:
# a 10-epoch per-iteration linear warm-up from 0.01 then cosine to lr 1e-4 (Fidelity in ./README.md).
# Stage 2: ./sbcl-linear_resnet32_1xb128_cifar100-lt-if100_200e.py. python tools/train.py THIS_CONFIG
_base_ = ['../_base_/datasets/cifar100_lt_two_view.py', '../_base_/default_runtime_cls.py']
model = dict(
    type='MultiViewContrastClassifier',
    backbone=dict(type='ResNet32CIFAR'),
    neck=dict(type='MLPNeck', channels=(64, 64, 128)),
    contrast_loss=dict(type='SBCLLoss', num_classes={{_base_.num_classes}}, temperature=0.1, sub_temperature=0.1,
                       base_temperature=0.07, gamma=0.25),
    contrast_views=(0, 1))
# the official SimCLR view: crop 32 with scale (0.2, 1), flip, jitter (0.4, 0.4, 0.4, hue 0.1) with p 0.8, grayscale 0.2
sbcl_view = [
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.0), backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomApply', transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
                                              hue=0.1)], prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.2989, 0.587, 0.114)),  # RGB
]
train_pipeline = [dict(type='MultiView', num_views=2, transforms=[sbcl_view]), dict(type='PackInputs')]
train_dataloader = dict(batch_size=1024, num_workers=8, dataset=dict(pipeline=train_pipeline))
custom_hooks = [dict(type='SBCLClusterHook', interval=10, start_epoch=10, cluster_size=10, temperature=0.1,
                     batch_size=1024, num_workers=8)]
max_epochs = 1000
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.5, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.02, end_factor=1.0, by_epoch=True, convert_to_iter_based=True, begin=0,
         end=10),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 10, eta_min=0.5 * 0.1**4, by_epoch=True, begin=10,
         end=max_epochs),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs + 1)
val_cfg = None
val_dataloader = None
val_evaluator = None
test_cfg = None
test_dataloader = None
test_evaluator = None
auto_scale_lr = dict(base_batch_size=1024)
default_hooks = dict(checkpoint=dict(interval=50, max_keep_ckpts=2))
